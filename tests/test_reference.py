"""Reference data for a real install: taxonomy synonyms and matching, centres, municipalities,
programmes and terms through services.reference (admin only, validated, audited, all or nothing),
and seed-reference."""

from __future__ import annotations

from sqlmodel import select

from db.engine import read_session, write_session
from db.models import TaxonomyTerm
from domain.taxonomy import (
    build_index,
    clean_synonyms,
    dump_synonyms,
    fold_label,
    lookup,
    normalise_label,
    parse_synonyms,
    split_synonyms,
)
from services.reference import term_index

# --- domain.taxonomy -----------------------------------------------------------------------------


def test_normalise_keeps_nordic_letters_and_fold_drops_them():
    assert normalise_label("  ÄLDRE   personer ") == "äldre personer"
    assert normalise_label("Ældre") == "ældre"
    assert normalise_label("för") != normalise_label("for")
    assert fold_label("Ældre") == "aeldre"
    assert fold_label("Språkcafé") == "sprakcafe"
    assert fold_label("Øvelse") == "ovelse"
    # NFD input (a + combining ring) equals NFC
    assert normalise_label("A\u030agåture") == normalise_label("Ågåture")


def test_index_exact_wins_over_folded_and_ambiguous_words_match_nothing():
    index = build_index([(1, ["Äldre", "Ældre"]), (2, ["Alder"]), (3, ["Kör"]), (4, ["Kor"]), (5, ["x", "y"]),
                         (6, ["y"])])
    assert lookup(index, "äldre") == 1
    assert lookup(index, "AELDRE") == 1
    assert lookup(index, "Aldre") == 1
    assert lookup(index, "alder") == 2
    # "kör" and "kor" are different words: each exact; folded "kor" belongs to the exact one
    assert lookup(index, "Kör") == 3
    assert lookup(index, "kor") == 4
    assert lookup(index, "y") is None  # claimed by two terms
    assert lookup(index, "x") == 5
    assert lookup(index, "   ") is None


def test_synonyms_text_round_trip_and_validation():
    assert parse_synonyms(dump_synonyms(["Äldre", "Ældre"])) == ["Äldre", "Ældre"]
    assert parse_synonyms("not json") == []
    assert parse_synonyms('{"a": 1}') == []
    assert parse_synonyms(None) == []
    assert split_synonyms("Äldre, pensionärer;\n  Ældre  ") == ["Äldre", "pensionärer", "Ældre"]
    assert clean_synonyms(["Äldre", "äldre ", "", "Ældre"]) == (["Äldre", "Ældre"], None)
    assert clean_synonyms(["x" * 101])[1] == "reference.error.synonym_too_long"
    assert clean_synonyms([f"s{i}" for i in range(41)])[1] == "reference.error.too_many_synonyms"


def test_term_index_matches_names_codes_and_synonyms(db_url):
    with write_session() as s:
        s.add(TaxonomyTerm(taxonomy="target_group", code="seniors", name_sv="Seniorer", name_da="Seniorer",
                           name_en="Older people", synonyms=dump_synonyms(["Äldre", "Ældre", "pensionärer"])))
        s.add(TaxonomyTerm(taxonomy="category", code="walking", name_sv="Promenader", name_da="Gåture",
                           name_en="Walking", synonyms=dump_synonyms(["Promenad", "Gåtur"])))
    with read_session() as s:
        groups = term_index(s, "target_group")
        categories = term_index(s, "category")
        seniors = s.exec(select(TaxonomyTerm.id).where(TaxonomyTerm.code == "seniors")).one()
        walking = s.exec(select(TaxonomyTerm.id).where(TaxonomyTerm.code == "walking")).one()
    for label in ("Äldre", "ÆLDRE", "aeldre", "older people", "seniors", "Pensionärer"):
        assert lookup(groups, label) == seniors, label
    for label in ("Promenad", "gåtur", "Gatur", "walking"):
        assert lookup(categories, label) == walking, label
    assert lookup(categories, "Äldre") is None  # another taxonomy
