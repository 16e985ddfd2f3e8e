"""The Swedish PHQ-9 is the official free Swedish version (© Pfizer, translated by Mats Adler,
Karolinska University Hospital Huddinge, 2005), word for word; the form says which texts are
official and which are working translations."""

from __future__ import annotations

from domain.instrument_defs import OFFICIAL, WORKING, definition

OFFICIAL_SWEDISH_PHQ9 = (
    "Lite intresse eller glädje i att göra saker",
    "Känt dig nedstämd, deprimerad eller känt att framtiden ser hopplös ut",
    "Problem att somna eller att du vaknat i förtid, eller sovit för mycket",
    "Känt dig trött eller energilös",
    "Dålig aptit eller att du ätit för mycket",
    "Dålig självkänsla - eller att du känt dig misslyckad eller att du svikit dig själv eller din familj",
    "Svårigheter att koncentrera dig, till exempel när du läst tidningen eller sett på TV",
    "Att du rört dig eller talat så långsamt att andra noterat det? Eller motsatsen – att du varit så "
    "nervös eller rastlös att du rört dig mer än vanligt",
    "Tankar att det skulle vara bättre om du var död eller att du skulle skada dig på något sätt",
)


def test_swedish_phq9_is_the_official_version_word_for_word():
    phq9 = definition("phq9")
    assert tuple(item.text["sv"] for item in phq9.items) == OFFICIAL_SWEDISH_PHQ9
    intro = "Under de senaste 2 veckorna, hur ofta har du besvärats av något av följande problem?"
    assert phq9.intro["sv"] == intro
    assert [o.label["sv"] for o in phq9.items[0].options] == [
        "Inte alls",
        "Flera dagar",
        "Mer än hälften av dagarna",
        "Nästan varje dag",
    ]
    assert phq9.translation["sv"] == OFFICIAL


def test_unverified_translations_say_so():
    assert definition("phq9").translation["da"] == WORKING
    assert "arbejdsoversættelse" in definition("phq9").note["da"]
    assert definition("gad7").translation["sv"] == definition("gad7").translation["da"] == WORKING
    assert "Pfizer" in definition("phq9").note["sv"]
