"""The starter vocabulary of a Lotsa install: taxonomy terms (categories, target groups,
accessibility, languages) in Swedish, Danish and English with synonyms, and the standard
follow-up programmes.

One place for both `manage.py seed-reference` (a real install, `services.reference.seed_reference`)
and the demo and synthetic data (`db.demo`, `db.synthetic`). Municipalities and health centres are
not here: a region adds its own (`manage.py municipality add`, `manage.py centre add`, or the
admin page "Reference data").
"""

from __future__ import annotations

# taxonomy -> (code, name_sv, name_da, name_en)
TAXONOMY: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "category": (
        ("walking", "Promenader", "Gåture", "Walking"),
        ("exercise", "Motion och träning", "Motion og træning", "Exercise"),
        ("language_cafe", "Språkcafé", "Sprogcafé", "Language café"),
        ("culture", "Kultur", "Kultur", "Culture"),
        ("crafts", "Hantverk och skapande", "Håndværk og kreativitet", "Crafts"),
        ("choir", "Kör och sång", "Kor og sang", "Choir and singing"),
        ("grief_group", "Sorgegrupp", "Sorggruppe", "Grief group"),
        ("diabetes_school", "Diabetesskola", "Diabetesskole", "Diabetes school"),
        ("meeting_place", "Mötesplats", "Mødested", "Meeting place"),
        ("digital_course", "Digital kurs", "Digitalt kursus", "Digital course"),
        ("gardening", "Odling och trädgård", "Have og dyrkning", "Gardening"),
        ("volunteering", "Volontärarbete", "Frivilligt arbejde", "Volunteering"),
    ),
    "target_group": (
        ("seniors", "Seniorer", "Seniorer", "Older people"),
        ("young_adults", "Unga vuxna", "Unge voksne", "Young adults"),
        ("newly_arrived", "Nyanlända", "Nyankomne", "Newly arrived"),
        ("diabetes", "Personer med diabetes", "Personer med diabetes", "People with diabetes"),
        ("heart_disease", "Hjärt-kärlsjukdom", "Hjertesygdom", "Heart disease"),
        ("dementia", "Demenssjukdom", "Demens", "Dementia"),
        ("grief", "Efterlevande", "Efterladte", "Bereaved"),
        ("carers", "Anhöriga", "Pårørende", "Carers"),
        ("men", "Män", "Mænd", "Men"),
        ("women", "Kvinnor", "Kvinder", "Women"),
        ("mental_health", "Psykisk ohälsa", "Psykisk mistrivsel", "Mental health"),
    ),
    "accessibility": (
        ("wheelchair", "Tillgängligt med rullstol", "Kørestolsvenligt", "Wheelchair accessible"),
        ("hearing_loop", "Hörslinga", "Teleslynge", "Hearing loop"),
    ),
    "language": (
        ("sv", "Svenska", "Svensk", "Swedish"),
        ("da", "Danska", "Dansk", "Danish"),
        ("en", "Engelska", "Engelsk", "English"),
        ("ar", "Arabiska", "Arabisk", "Arabic"),
        ("so", "Somaliska", "Somalisk", "Somali"),
        ("fa", "Persiska", "Persisk", "Persian"),
        ("ti", "Tigrinska", "Tigrinya", "Tigrinya"),
        ("uk", "Ukrainska", "Ukrainsk", "Ukrainian"),
        ("pl", "Polska", "Polsk", "Polish"),
        ("fi", "Finska", "Finsk", "Finnish"),
        ("tr", "Turkiska", "Tyrkisk", "Turkish"),
    ),
}

# (taxonomy, code) -> other words people use for the term, in sv/da/en, matched through
# services.reference.term_index (casefolded; without diacritics as a fallback). A word that would
# fit two terms of one taxonomy is left out: it would match neither.
SYNONYMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("category", "walking"): (
        "Promenad", "Promenadgrupp", "Stavgång", "Gå", "Gång", "Vandring", "Gåtur", "Gågruppe",
        "Stavgang", "Vandretur", "Walk", "Walking group", "Nordic walking",
    ),
    ("category", "exercise"): (
        "Motion", "Träning", "Idrott", "Gympa", "Friskvård", "Træning", "Idræt", "Gymnastik",
        "Fysisk aktivitet", "Physical activity", "Sport", "Fitness",
    ),
    ("category", "language_cafe"): (
        "Språkkafé", "Språkträning", "Prata svenska", "Sprogkafé", "Dansk sprogtræning",
        "Language cafe", "Conversation group",
    ),
    ("category", "culture"): (
        "Kulturaktivitet", "Museum", "Teater", "Bibliotek", "Läsecirkel", "Kulturtilbud",
        "Læsekreds", "Arts", "Book club",
    ),
    ("category", "crafts"): (
        "Hantverk", "Skapande", "Stickning", "Stickcafé", "Måleri", "Håndarbejde", "Strikning",
        "Strikkecafé", "Maleri", "Kreativ", "Arts and crafts", "Knitting", "Painting",
    ),
    ("category", "choir"): ("Kör", "Sång", "Allsång", "Kor", "Sang", "Fællessang", "Choir", "Singing"),
    ("category", "grief_group"): (
        "Sorgbearbetning", "Sorgstöd", "Sorggrupp", "Sorgstøtte", "Sorg", "Bereavement group",
        "Grief support",
    ),
    ("category", "diabetes_school"): (
        "Diabetesutbildning", "Diabetesundervisning", "Patientskola diabetes", "Diabetes education",
    ),
    ("category", "meeting_place"): (
        "Träffpunkt", "Mötesplats för seniorer", "Öppen mötesplats", "Fika", "Værested", "Mødested",
        "Dagcenter", "Drop-in", "Social club", "Community centre",
    ),
    ("category", "digital_course"): (
        "Digital", "Dator", "Surfplatta", "Mobilkurs", "Digitalisering", "IT-kursus", "Computer",
        "Tablet", "Online course", "IT course",
    ),
    ("category", "gardening"): (
        "Odling", "Trädgård", "Kolonilott", "Stadsodling", "Havebrug", "Have", "Kolonihave",
        "Garden", "Allotment",
    ),
    ("category", "volunteering"): (
        "Volontär", "Frivillig", "Ideellt arbete", "Frivilligt", "Frivillighed", "Volunteer",
        "Voluntary work",
    ),
    ("target_group", "seniors"): (
        "Äldre", "Pensionärer", "Senior", "65+", "Ældre", "Pensionister", "Elderly", "Older adults",
        "Seniors", "Retired",
    ),
    ("target_group", "young_adults"): ("Unga", "Ungdomar", "Unge", "Young people", "Youth"),
    ("target_group", "newly_arrived"): (
        "Nyanländ", "Nya svenskar", "Flyktingar", "Invandrare", "Nyankommen", "Flygtninge",
        "Indvandrere", "Newcomers", "Refugees", "Migrants",
    ),
    ("target_group", "diabetes"): ("Diabetiker", "Typ 2-diabetes", "Diabetes typ 2", "Type 2 diabetes"),
    ("target_group", "heart_disease"): (
        "Hjärtsjukdom", "Hjärtsjuka", "Hjerte-kar-sygdom", "Hjertepatienter", "Cardiovascular disease",
        "Heart patients",
    ),
    ("target_group", "dementia"): ("Demens", "Minnessjukdom", "Alzheimer", "Demente", "Memory loss"),
    ("target_group", "grief"): (
        "Efterlevande", "Änkor", "Änklingar", "Sörjande", "Efterladte", "Enker", "Sørgende",
        "Widowed", "Grieving",
    ),
    ("target_group", "carers"): (
        "Anhörigvårdare", "Närstående", "Pårörande", "Pårørende", "Caregivers", "Family carers",
    ),
    ("target_group", "men"): ("Man", "Manlig", "Mand", "Mandlige", "Male"),
    ("target_group", "women"): ("Kvinna", "Kvinnlig", "Kvinde", "Kvindelige", "Female"),
    ("target_group", "mental_health"): (
        "Psykisk hälsa", "Depression", "Ångest", "Psykisk sårbarhet", "Mental sundhed", "Angst",
        "Mental illness", "Anxiety",
    ),
    ("accessibility", "wheelchair"): (
        "Rullstol", "Rullstolsanpassat", "Tillgänglig", "Kørestol", "Handicapvenligt",
        "Wheelchair", "Step-free",
    ),
    ("accessibility", "hearing_loop"): ("Teleslinga", "Slinga", "Høreslynge", "Induction loop"),
    ("language", "sv"): ("Svensk", "Swedish"),
    ("language", "da"): ("Dansk", "Danish"),
    ("language", "en"): ("Engelsk", "English"),
    ("language", "ar"): ("Arabisk", "العربية"),
    ("language", "so"): ("Somalisk", "Af-Soomaali"),
    ("language", "fa"): ("Farsi", "Dari", "فارسی"),
    ("language", "ti"): ("Tigrinja", "ትግርኛ"),
    ("language", "uk"): ("Ukrainsk", "Українська"),
    ("language", "pl"): ("Polsk", "Polski"),
    ("language", "fi"): ("Finsk", "Suomi"),
    ("language", "tr"): ("Turkisk", "Türkçe"),
}  # fmt: skip

PROGRAMMES: tuple[dict, ...] = (
    {
        "code": "social_prescribing",
        "name_sv": "Social förskrivning",
        "name_da": "Social ordination",
        "name_en": "Social prescribing",
        "timepoints": [0, 3, 6],
        "instruments": ["ucla3", "swemwbs", "ons4"],
        "with_measures": False,
        "arms": [],
        "cost_per_participant": 2400.0,
    },
    {
        "code": "samverkansmodell",
        "name_sv": "Samverkansmodell för ett hälsosamt åldrande",
        "name_da": "Samarbejdsmodel for sund aldring",
        "name_en": "Collaborative model for healthy ageing",
        "timepoints": [0, 6, 12, 36],
        "instruments": ["ucla3", "swemwbs", "eq5d5l"],
        "with_measures": True,
        "arms": ["coaching", "control"],
        "allocation_seed": 20240601,
        "cost_per_participant": 6500.0,
    },
    {
        "code": "digital_course",
        "name_sv": "Digital må bra-kurs",
        "name_da": "Digitalt trivselsforløb",
        "name_en": "Digital wellbeing course",
        "timepoints": [0, 3],
        "instruments": ["swemwbs"],
        "with_measures": False,
        "arms": [],
        "cost_per_participant": 900.0,
    },
)
