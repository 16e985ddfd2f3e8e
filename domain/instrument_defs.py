"""The screening and outcome instruments as data (FHIR Questionnaire-like).

Each definition carries the item ids (`link_id`) and the answer encodings that
`domain.instruments.score` expects, the texts in Swedish, Danish and English, and per language an
honest `translation` status: "validated" where the text is the published source version,
"working" where it is our own translation that has not been checked against a published validated
version. Licence and copyright notices are carried where the instrument requires them.

EQ-5D-5L: the official wording is copyrighted by the EuroQol Research Foundation. The texts below
are short neutral paraphrases of the five dimensions and the VAS, marked "working" in every
language; the official version must be licensed (registration with EuroQol) for real use. No
index value is ever computed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.instruments import (
    DJG6_EMOTIONAL,
    DJG6_SOCIAL,
    GAD7_ITEMS,
    ONS_LONELINESS_ANSWERS,
    PHQ9_ITEMS,
    SWEMWBS_ITEMS,
    UCLA3_ITEMS,
)

LANGUAGES = ("sv", "da", "en")
VALIDATED = "validated"
# The publisher's own translation, its wording checked against independently published copies.
OFFICIAL = "official"
WORKING = "working"

Text = Mapping[str, str]


def _t(sv: str, da: str, en: str) -> dict[str, str]:
    return {"sv": sv, "da": da, "en": en}


@dataclass(frozen=True)
class AnswerOption:
    value: int | str
    label: Text


@dataclass(frozen=True)
class Item:
    """One question. A "choice" item has answer options; an "integer" item (the EQ VAS) a range."""

    link_id: str
    text: Text
    options: tuple[AnswerOption, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    @property
    def type(self) -> str:
        return "choice" if self.options else "integer"

    def values(self) -> tuple[int | str, ...]:
        if self.options:
            return tuple(o.value for o in self.options)
        return tuple(range(self.minimum, self.maximum + 1))

    def label(self, value: int | str, lang: str) -> str:
        for option in self.options:
            if option.value == value:
                return option.label.get(lang) or option.label["en"]
        return str(value)


@dataclass(frozen=True)
class InstrumentDef:
    code: str
    name: Text
    short_name: str
    items: tuple[Item, ...]
    intro: Text
    translation: Mapping[str, str]
    source: str
    loinc: str | None = None
    loinc_total: str | None = None
    recall: Text | None = None
    notice: Text | None = None
    note: Text | None = None

    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.link_id for item in self.items)

    def item(self, link_id: str) -> Item:
        for item in self.items:
            if item.link_id == link_id:
                return item
        raise KeyError(link_id)


def _options(values, *labels: tuple[str, str, str]) -> tuple[AnswerOption, ...]:
    return tuple(AnswerOption(v, _t(*label)) for v, label in zip(values, labels, strict=True))


def _items(ids: tuple[str, ...], texts: list[tuple[str, str, str]], options) -> tuple[Item, ...]:
    return tuple(Item(i, _t(*text), options) for i, text in zip(ids, texts, strict=True))


# --- UCLA 3-item Loneliness Scale ------------------------------------------------------------------

_UCLA3_OPTIONS = _options(
    (1, 2, 3),
    ("Sällan eller aldrig", "Sjældent eller aldrig", "Hardly ever or never"),
    ("Ibland", "En gang imellem", "Some of the time"),
    ("Ofta", "Ofte", "Often"),
)

UCLA3 = InstrumentDef(
    code="ucla3",
    name=_t(
        "UCLA 3-frågors ensamhetsskala", "UCLA 3-spørgsmåls ensomhedsskala", "UCLA 3-item Loneliness Scale"
    ),
    short_name="UCLA-3",
    loinc="106418-7",
    intro=_t(
        "Följande frågor handlar om hur du känner dig inför olika delar av ditt liv. "
        "Ange för varje fråga hur ofta du känner så.",
        "De næste spørgsmål handler om, hvordan du har det med forskellige sider af dit liv. "
        "Angiv for hvert spørgsmål, hvor ofte du har det sådan.",
        "The next questions are about how you feel about different aspects of your life. "
        "For each one, say how often you feel that way.",
    ),
    items=_items(
        UCLA3_ITEMS,
        [
            (
                "Hur ofta känner du att du saknar sällskap?",
                "Hvor ofte føler du, at du mangler selskab?",
                "How often do you feel that you lack companionship?",
            ),
            (
                "Hur ofta känner du dig utanför?",
                "Hvor ofte føler du dig holdt udenfor?",
                "How often do you feel left out?",
            ),
            (
                "Hur ofta känner du dig isolerad från andra?",
                "Hvor ofte føler du dig isoleret fra andre?",
                "How often do you feel isolated from others?",
            ),
        ],
        _UCLA3_OPTIONS,
    ),
    translation={"sv": WORKING, "da": WORKING, "en": VALIDATED},
    source="Hughes, Waite, Hawkley & Cacioppo, Research on Aging 2004;26(6):655-672",
)

# --- ONS direct question -------------------------------------------------------------------------

ONS_LONELINESS = InstrumentDef(
    code="ons_loneliness",
    name=_t(
        "ONS direkta fråga om ensamhet",
        "ONS' direkte spørgsmål om ensomhed",
        "ONS direct question on loneliness",
    ),
    short_name="ONS",
    intro=_t(
        "Frågan handlar om hur ofta du känner dig ensam.",
        "Spørgsmålet handler om, hvor ofte du føler dig ensom.",
        "This question is about how often you feel lonely.",
    ),
    items=(
        Item(
            "lonely",
            _t(
                "Hur ofta känner du dig ensam?",
                "Hvor ofte føler du dig ensom?",
                "How often do you feel lonely?",
            ),
            _options(
                ONS_LONELINESS_ANSWERS,
                ("Ofta eller alltid", "Ofte eller altid", "Often/always"),
                ("En del av tiden", "Noget af tiden", "Some of the time"),
                ("Ibland", "Af og til", "Occasionally"),
                ("Nästan aldrig", "Næsten aldrig", "Hardly ever"),
                ("Aldrig", "Aldrig", "Never"),
            ),
        ),
    ),
    translation={"sv": WORKING, "da": WORKING, "en": VALIDATED},
    source="Office for National Statistics (UK), national measure of loneliness, 2018",
    notice=_t(
        "Källa: Office for National Statistics (ONS), Storbritannien. Crown copyright, "
        "Open Government Licence v3.0.",
        "Kilde: Office for National Statistics (ONS), Storbritannien. Crown copyright, "
        "Open Government Licence v3.0.",
        "Source: Office for National Statistics (ONS), UK. Crown copyright, Open Government Licence v3.0.",
    ),
)

# --- De Jong Gierveld 6-item Loneliness Scale -------------------------------------------------------

DJG6 = InstrumentDef(
    code="djg6",
    name=_t(
        "De Jong Gierveld ensamhetsskala, 6 frågor",
        "De Jong Gierveld ensomhedsskala, 6 spørgsmål",
        "De Jong Gierveld 6-item Loneliness Scale",
    ),
    short_name="DJG-6",
    intro=_t(
        "Ange för varje påstående i vilken utsträckning det stämmer för dig, så som du känner dig nu.",
        "Angiv for hvert udsagn, i hvor høj grad det passer på dig, sådan som du har det nu.",
        "Please indicate for each of the statements the extent to which they apply to your situation, "
        "the way you feel now.",
    ),
    items=_items(
        DJG6_EMOTIONAL + DJG6_SOCIAL,
        [
            (
                "Jag känner en allmän känsla av tomhet.",
                "Jeg oplever en generel følelse af tomhed.",
                "I experience a general sense of emptiness.",
            ),
            (
                "Jag saknar att ha människor omkring mig.",
                "Jeg savner at have mennesker omkring mig.",
                "I miss having people around.",
            ),
            ("Jag känner mig ofta avvisad.", "Jeg føler mig ofte afvist.", "I often feel rejected."),
            (
                "Det finns gott om människor som jag kan räkna med när jag har problem.",
                "Der er mange mennesker, jeg kan regne med, når jeg har problemer.",
                "There are plenty of people I can rely on when I have problems.",
            ),
            (
                "Det finns många människor som jag kan lita helt på.",
                "Der er mange mennesker, jeg kan stole fuldt og helt på.",
                "There are many people I can trust completely.",
            ),
            (
                "Det finns tillräckligt många människor som jag känner mig nära.",
                "Der er nok mennesker, som jeg føler mig tæt knyttet til.",
                "There are enough people I feel close to.",
            ),
        ],
        _options(
            ("yes", "more_or_less", "no"),
            ("Ja", "Ja", "Yes"),
            ("Mer eller mindre", "Mere eller mindre", "More or less"),
            ("Nej", "Nej", "No"),
        ),
    ),
    translation={"sv": WORKING, "da": WORKING, "en": VALIDATED},
    source="De Jong Gierveld & Van Tilburg, Research on Aging 2006;28(5):582-598",
)

# --- SWEMWBS --------------------------------------------------------------------------------------

SWEMWBS_NOTICE = (
    "SWEMWBS © NHS Health Scotland, University of Warwick and University of Edinburgh, 2008, "
    "all rights reserved."
)

SWEMWBS = InstrumentDef(
    code="swemwbs",
    name=_t(
        "Short Warwick-Edinburgh Mental Wellbeing Scale",
        "Short Warwick-Edinburgh Mental Wellbeing Scale",
        "Short Warwick-Edinburgh Mental Wellbeing Scale",
    ),
    short_name="SWEMWBS",
    intro=_t(
        "Här följer några påståenden om känslor och tankar. Välj det svar som bäst beskriver "
        "hur du har haft det under de senaste två veckorna.",
        "Her er nogle udsagn om følelser og tanker. Vælg det svar, der bedst beskriver, "
        "hvordan du har haft det i de seneste to uger.",
        "Below are some statements about feelings and thoughts. Please choose the answer that best "
        "describes your experience of each over the last 2 weeks.",
    ),
    recall=_t("De senaste två veckorna", "De seneste to uger", "The last 2 weeks"),
    items=_items(
        SWEMWBS_ITEMS,
        [
            (
                "Jag har känt mig optimistisk inför framtiden",
                "Jeg har følt mig optimistisk med hensyn til fremtiden",
                "I've been feeling optimistic about the future",
            ),
            ("Jag har känt mig till nytta", "Jeg har følt mig nyttig", "I've been feeling useful"),
            ("Jag har känt mig avslappnad", "Jeg har følt mig afslappet", "I've been feeling relaxed"),
            (
                "Jag har hanterat problem bra",
                "Jeg har håndteret problemer godt",
                "I've been dealing with problems well",
            ),
            ("Jag har tänkt klart", "Jeg har tænkt klart", "I've been thinking clearly"),
            (
                "Jag har känt mig nära andra människor",
                "Jeg har følt mig tæt på andre mennesker",
                "I've been feeling close to other people",
            ),
            (
                "Jag har kunnat bestämma själv i olika frågor",
                "Jeg har selv kunnet tage stilling til ting",
                "I've been able to make up my own mind about things",
            ),
        ],
        _options(
            (1, 2, 3, 4, 5),
            ("Inte någon gång", "På intet tidspunkt", "None of the time"),
            ("Sällan", "Sjældent", "Rarely"),
            ("En del av tiden", "Noget af tiden", "Some of the time"),
            ("Ofta", "Ofte", "Often"),
            ("Hela tiden", "Hele tiden", "All of the time"),
        ),
    ),
    translation={"sv": WORKING, "da": WORKING, "en": VALIDATED},
    source="Stewart-Brown et al., Health and Quality of Life Outcomes 2009;7:15",
    notice=_t(SWEMWBS_NOTICE, SWEMWBS_NOTICE, SWEMWBS_NOTICE),
    note=_t(
        "Användning kräver kostnadsfri registrering hos University of Warwick.",
        "Brug kræver gratis registrering hos University of Warwick.",
        "Use requires free registration with the University of Warwick.",
    ),
)

# --- ONS4 personal wellbeing ----------------------------------------------------------------------

_ZERO_TO_TEN = tuple(range(11))


def _scale_options(low: tuple[str, str, str], high: tuple[str, str, str]) -> tuple[AnswerOption, ...]:
    labels = [(str(v), str(v), str(v)) for v in _ZERO_TO_TEN]
    labels[0] = tuple(f"0 – {text}" for text in low)
    labels[10] = tuple(f"10 – {text}" for text in high)
    return _options(_ZERO_TO_TEN, *labels)


_NOT_AT_ALL = ("inte alls", "slet ikke", "not at all")
_COMPLETELY = ("helt och hållet", "fuldstændig", "completely")

ONS4 = InstrumentDef(
    code="ons4",
    name=_t(
        "ONS4, personligt välbefinnande",
        "ONS4, personligt velbefindende",
        "ONS4 personal wellbeing",
    ),
    short_name="ONS4",
    intro=_t(
        "Här kommer fyra frågor om hur du känner inför olika delar av ditt liv. Det finns inga rätta "
        "eller felaktiga svar. Svara på en skala från 0 till 10.",
        "Her kommer fire spørgsmål om, hvordan du har det med forskellige sider af dit liv. Der er "
        "ingen rigtige eller forkerte svar. Svar på en skala fra 0 til 10.",
        "Next are four questions about your feelings on aspects of your life. There are no right or "
        "wrong answers. Answer on a scale of 0 to 10.",
    ),
    items=(
        Item(
            "satisfied",
            _t(
                "Hur nöjd är du överlag med ditt liv nuförtiden?",
                "Alt i alt, hvor tilfreds er du med dit liv for tiden?",
                "Overall, how satisfied are you with your life nowadays?",
            ),
            _scale_options(_NOT_AT_ALL, _COMPLETELY),
        ),
        Item(
            "worthwhile",
            _t(
                "I vilken utsträckning känner du överlag att det du gör i ditt liv är meningsfullt?",
                "Alt i alt, i hvor høj grad føler du, at det, du laver i dit liv, er meningsfuldt?",
                "Overall, to what extent do you feel that the things you do in your life are worthwhile?",
            ),
            _scale_options(_NOT_AT_ALL, _COMPLETELY),
        ),
        Item(
            "happy",
            _t(
                "Hur lycklig kände du dig överlag i går?",
                "Alt i alt, hvor glad følte du dig i går?",
                "Overall, how happy did you feel yesterday?",
            ),
            _scale_options(_NOT_AT_ALL, _COMPLETELY),
        ),
        Item(
            "anxious",
            _t(
                "Hur orolig kände du dig överlag i går?",
                "Alt i alt, hvor ængstelig følte du dig i går?",
                "Overall, how anxious did you feel yesterday?",
            ),
            _scale_options(
                ("inte alls orolig", "slet ikke ængstelig", "not at all anxious"),
                ("helt och hållet orolig", "fuldstændig ængstelig", "completely anxious"),
            ),
        ),
    ),
    translation={"sv": WORKING, "da": WORKING, "en": VALIDATED},
    source="Office for National Statistics (UK), personal well-being (ONS4)",
    notice=ONS_LONELINESS.notice,
)

# --- PHQ-9 and GAD-7 --------------------------------------------------------------------------------

_FREQUENCY_OPTIONS = _options(
    (0, 1, 2, 3),
    ("Inte alls", "Slet ikke", "Not at all"),
    ("Flera dagar", "Flere dage", "Several days"),
    ("Mer än hälften av dagarna", "Mere end halvdelen af dagene", "More than half the days"),
    ("Nästan varje dag", "Næsten hver dag", "Nearly every day"),
)

_PFIZER_NOTICE = _t(
    "Utvecklat av dr Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke med kollegor, med ett "
    "utbildningsanslag från Pfizer Inc. Inget tillstånd krävs för att återge, översätta, visa "
    "eller sprida.",
    "Udviklet af dr. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke og kolleger med et "
    "uddannelsestilskud fra Pfizer Inc. Det kræver ingen tilladelse at gengive, oversætte, vise "
    "eller distribuere.",
    "Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an "
    "educational grant from Pfizer Inc. No permission required to reproduce, translate, display or "
    "distribute.",
)

_PHQ_TRANSLATION_NOTE = _t(
    "Officiella översättningar finns på phqscreeners.com; byt ut denna arbetsöversättning mot den "
    "innan formuläret används kliniskt.",
    "Officielle oversættelser findes på phqscreeners.com; erstat denne arbejdsoversættelse med den, "
    "før skemaet bruges klinisk.",
    "Official translations are available at phqscreeners.com; replace working translations with "
    "them before clinical use.",
)

_PHQ9_NOTE = _t(
    "Svensk text: den officiella svenska versionen (© Pfizer, översättning Mats Adler, Affektiva "
    "mottagningen, Karolinska Universitetssjukhuset Huddinge, 2005), ordagrant jämförd med flera "
    "oberoende publicerade kopior.",
    "Den danske tekst er en arbejdsoversættelse, som ikke er kontrolleret mod den officielle danske "
    "version (phqscreeners.com); erstat den med den officielle, før skemaet bruges klinisk.",
    "English is the original. Official Swedish and Danish versions are at phqscreeners.com; the "
    "Swedish text here is the official one, the Danish a working translation.",
)

_TWO_WEEKS = _t("De senaste två veckorna", "De seneste to uger", "The last 2 weeks")

PHQ9 = InstrumentDef(
    code="phq9",
    name=_t("PHQ-9, depression", "PHQ-9, depression", "PHQ-9 depression"),
    short_name="PHQ-9",
    loinc="44249-1",
    loinc_total="44261-6",
    intro=_t(
        "Under de senaste 2 veckorna, hur ofta har du besvärats av något av följande problem?",
        "Hvor ofte har du i løbet af de sidste to uger været plaget af nogen af følgende problemer?",
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?",
    ),
    recall=_TWO_WEEKS,
    items=_items(
        PHQ9_ITEMS,
        [
            (
                "Lite intresse eller glädje i att göra saker",
                "Ringe interesse for eller glæde ved at gøre ting",
                "Little interest or pleasure in doing things",
            ),
            (
                "Känt dig nedstämd, deprimerad eller känt att framtiden ser hopplös ut",
                "Følt dig nedtrykt, deprimeret eller håbløs",
                "Feeling down, depressed, or hopeless",
            ),
            (
                "Problem att somna eller att du vaknat i förtid, eller sovit för mycket",
                "Svært ved at falde i søvn eller sove igennem, eller sovet for meget",
                "Trouble falling or staying asleep, or sleeping too much",
            ),
            (
                "Känt dig trött eller energilös",
                "Følt dig træt eller haft for lidt energi",
                "Feeling tired or having little energy",
            ),
            (
                "Dålig aptit eller att du ätit för mycket",
                "Dårlig appetit eller spist for meget",
                "Poor appetite or overeating",
            ),
            (
                "Dålig självkänsla - eller att du känt dig misslyckad eller att du svikit dig själv "
                "eller din familj",
                "Haft det dårligt med dig selv, følt at du er en fiasko eller har svigtet dig selv "
                "eller din familie",
                "Feeling bad about yourself, or that you are a failure or have let yourself or your "
                "family down",
            ),
            (
                "Svårigheter att koncentrera dig, till exempel när du läst tidningen eller sett på TV",
                "Svært ved at koncentrere dig, fx om at læse avis eller se fjernsyn",
                "Trouble concentrating on things, such as reading the newspaper or watching television",
            ),
            (
                "Att du rört dig eller talat så långsamt att andra noterat det? Eller motsatsen – att "
                "du varit så nervös eller rastlös att du rört dig mer än vanligt",
                "Bevæget dig eller talt så langsomt, at andre kunne have bemærket det, eller omvendt "
                "været så urolig, at du har bevæget dig meget mere end normalt",
                "Moving or speaking so slowly that other people could have noticed, or the opposite: "
                "being so fidgety or restless that you have been moving around a lot more than usual",
            ),
            (
                "Tankar att det skulle vara bättre om du var död eller att du skulle skada dig på något sätt",
                "Tanker om, at du hellere ville være død, eller om at skade dig selv på en eller anden måde",
                "Thoughts that you would be better off dead, or of hurting yourself in some way",
            ),
        ],
        _FREQUENCY_OPTIONS,
    ),
    translation={"sv": OFFICIAL, "da": WORKING, "en": VALIDATED},
    source="Kroenke, Spitzer & Williams, J Gen Intern Med 2001;16(9):606-613",
    notice=_PFIZER_NOTICE,
    note=_PHQ9_NOTE,
)

GAD7 = InstrumentDef(
    code="gad7",
    name=_t("GAD-7, ångest", "GAD-7, angst", "GAD-7 anxiety"),
    short_name="GAD-7",
    loinc_total="70274-6",
    intro=_t(
        "Hur ofta under de senaste två veckorna har du besvärats av följande?",
        "Hvor ofte har du i løbet af de sidste to uger været plaget af følgende problemer?",
        "Over the last 2 weeks, how often have you been bothered by the following problems?",
    ),
    recall=_TWO_WEEKS,
    items=_items(
        GAD7_ITEMS,
        [
            (
                "Känt dig nervös, ängslig eller på helspänn",
                "Følt dig nervøs, ængstelig eller anspændt",
                "Feeling nervous, anxious or on edge",
            ),
            (
                "Inte kunnat sluta oroa dig eller kontrollera din oro",
                "Ikke kunnet stoppe eller styre din bekymring",
                "Not being able to stop or control worrying",
            ),
            (
                "Oroat dig för mycket för olika saker",
                "Bekymret dig for meget om forskellige ting",
                "Worrying too much about different things",
            ),
            ("Haft svårt att slappna av", "Haft svært ved at slappe af", "Trouble relaxing"),
            (
                "Varit så rastlös att det har varit svårt att sitta still",
                "Været så rastløs, at det har været svært at sidde stille",
                "Being so restless that it is hard to sit still",
            ),
            (
                "Lätt blivit irriterad eller retlig",
                "Let blevet irriteret eller gnaven",
                "Becoming easily annoyed or irritable",
            ),
            (
                "Känt dig rädd, som om något hemskt skulle kunna hända",
                "Været bange for, at noget frygteligt kunne ske",
                "Feeling afraid, as if something awful might happen",
            ),
        ],
        _FREQUENCY_OPTIONS,
    ),
    translation={"sv": WORKING, "da": WORKING, "en": VALIDATED},
    source="Spitzer, Kroenke, Williams & Löwe, Arch Intern Med 2006;166(10):1092-1097",
    notice=_PFIZER_NOTICE,
    note=_PHQ_TRANSLATION_NOTE,
)

# --- EQ-5D-5L (neutral paraphrase, never the official wording) ----------------------------------------

_PROBLEM_LEVELS = _options(
    (1, 2, 3, 4, 5),
    ("Inga problem", "Ingen problemer", "No problems"),
    ("Lätta problem", "Lette problemer", "Slight problems"),
    ("Måttliga problem", "Moderate problemer", "Moderate problems"),
    ("Svåra problem", "Svære problemer", "Severe problems"),
    ("Kan inte / extrema problem", "Kan ikke / ekstreme problemer", "Unable / extreme problems"),
)
_SYMPTOM_LEVELS = _options(
    (1, 2, 3, 4, 5),
    ("Inga besvär", "Ingen gener", "None"),
    ("Lätta besvär", "Lette gener", "Slight"),
    ("Måttliga besvär", "Moderate gener", "Moderate"),
    ("Svåra besvär", "Svære gener", "Severe"),
    ("Extrema besvär", "Ekstreme gener", "Extreme"),
)

EQ5D5L = InstrumentDef(
    code="eq5d5l",
    name=_t(
        "EQ-5D-5L, hälsoprofil och VAS",
        "EQ-5D-5L, helbredsprofil og VAS",
        "EQ-5D-5L health profile and VAS",
    ),
    short_name="EQ-5D-5L",
    intro=_t(
        "Välj för varje område den nivå som passar bäst för din hälsa i dag.",
        "Vælg for hvert område det niveau, der passer bedst til dit helbred i dag.",
        "For each area, choose the level that best fits your health today.",
    ),
    recall=_t("I dag", "I dag", "Today"),
    items=(
        Item(
            "mobility",
            _t("Rörlighet: att gå omkring", "Bevægelighed: at gå omkring", "Mobility: walking about"),
            _PROBLEM_LEVELS,
        ),
        Item(
            "self_care",
            _t(
                "Personlig vård: att tvätta sig eller klä sig",
                "Personlig pleje: at vaske sig eller klæde sig på",
                "Self-care: washing or dressing",
            ),
            _PROBLEM_LEVELS,
        ),
        Item(
            "usual_activities",
            _t(
                "Vanliga aktiviteter (arbete, studier, hushåll, familj eller fritid)",
                "Sædvanlige aktiviteter (arbejde, studier, husarbejde, familie eller fritid)",
                "Usual activities (work, study, housework, family or leisure)",
            ),
            _PROBLEM_LEVELS,
        ),
        Item(
            "pain", _t("Smärta eller obehag", "Smerter eller ubehag", "Pain or discomfort"), _SYMPTOM_LEVELS
        ),
        Item(
            "anxiety",
            _t("Oro eller nedstämdhet", "Angst eller nedtrykthed", "Anxiety or depression"),
            _SYMPTOM_LEVELS,
        ),
        Item(
            "vas",
            _t(
                "Din hälsa i dag på en skala från 0 (sämsta hälsa du kan tänka dig) till 100 (bästa "
                "hälsa du kan tänka dig)",
                "Dit helbred i dag på en skala fra 0 (det dårligste helbred, du kan forestille dig) "
                "til 100 (det bedste helbred, du kan forestille dig)",
                "Your health today on a scale from 0 (the worst health you can imagine) to 100 (the best "
                "health you can imagine)",
            ),
            minimum=0,
            maximum=100,
        ),
    ),
    translation={"sv": WORKING, "da": WORKING, "en": WORKING},
    source="EuroQol Research Foundation; Herdman et al., Qual Life Res 2011;20(10):1727-1736",
    notice=_t(
        "EQ-5D™ är ett varumärke som tillhör EuroQol Research Foundation. Användning kräver "
        "registrering hos EuroQol. Inget indexvärde beräknas; ett index kräver en konfigurerad, "
        "verifierad nationell värdeuppsättning.",
        "EQ-5D™ er et varemærke tilhørende EuroQol Research Foundation. Brug kræver registrering "
        "hos EuroQol. Der beregnes ingen indeksværdi; et indeks kræver et konfigureret, verificeret "
        "nationalt værdisæt.",
        "EQ-5D™ is a trade mark of the EuroQol Research Foundation. Use requires registration with "
        "EuroQol. No index value is computed; an index needs a configured, verified country value set.",
    ),
    note=_t(
        "Texterna är korta, neutrala omskrivningar av de fem dimensionerna och VAS, inte den "
        "officiella versionen. Den officiella EQ-5D-5L måste licensieras från EuroQol för verklig "
        "användning.",
        "Teksterne er korte, neutrale omskrivninger af de fem dimensioner og VAS, ikke den officielle "
        "version. Den officielle EQ-5D-5L skal licenseres fra EuroQol til reel brug.",
        "These texts are short neutral paraphrases of the five dimensions and the VAS, not the official "
        "version. The official EQ-5D-5L must be licensed from EuroQol for real use.",
    ),
)

DEFINITIONS: dict[str, InstrumentDef] = {
    d.code: d for d in (UCLA3, ONS_LONELINESS, DJG6, SWEMWBS, ONS4, PHQ9, GAD7, EQ5D5L)
}


def definition(code: str) -> InstrumentDef:
    """The definition of instrument `code` (KeyError if unknown)."""
    return DEFINITIONS[code]


def to_fhir(code: str, lang: str = "en") -> dict:
    """The definition as a FHIR R4 Questionnaire resource in one language."""
    d = definition(code)
    items = []
    for item in d.items:
        entry: dict = {"linkId": item.link_id, "text": item.text[lang], "type": item.type}
        if item.options:
            key = "valueInteger" if isinstance(item.options[0].value, int) else "valueCoding"
            entry["answerOption"] = [
                {key: o.value}
                if key == "valueInteger"
                else {"valueCoding": {"code": o.value, "display": o.label[lang]}}
                for o in item.options
            ]
        else:
            entry["extension"] = [
                {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": item.minimum},
                {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": item.maximum},
            ]
        items.append(entry)
    resource: dict = {
        "resourceType": "Questionnaire",
        "id": code,
        "name": d.short_name,
        "title": d.name[lang],
        "status": "active",
        "language": lang,
        "description": d.intro[lang],
        "item": items,
    }
    if d.loinc:
        resource["code"] = [{"system": "http://loinc.org", "code": d.loinc}]
    if d.notice:
        resource["copyright"] = d.notice[lang]
    return resource
