"""The Öresund demo region: a deterministic, realistic world for demo mode, screenshots and tests.

`seed_demo()` fills an empty database (no health centre yet) in one all-or-nothing transaction:
Malmö, Lund and Helsingør with six health centres, ~80 organisations and ~300 activities, ~1,500
made-up patients over the 18 months before `today`, with screenings, follow-ups, referrals and
their history, and the demo accounts. Everything but `today` and the encryption nonces comes from
one seeded random generator, so two runs on the same day give the same world.

Follow-up statuses: `due` (today or later), `overdue` (up to MISSED_AFTER_DAYS late), `missed`
(later than that), `completed`. The vocabulary (taxonomies with synonyms, programmes) lives in
`db.reference_data`, shared with `manage.py seed-reference` and `db.synthetic`.
"""

from __future__ import annotations

import calendar
import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import insert, inspect, text
from sqlmodel import Session, select

from db import outcome_pairs
from db.engine import write_session
from db.models import (
    Address,
    ArmAllocation,
    Attribute,
    AuditEvent,
    CoachingContact,
    Contact,
    CostOption,
    Enrolment,
    FollowUp,
    HealthCentre,
    HealthMeasure,
    InstrumentResponse,
    Location,
    Municipality,
    Organization,
    Patient,
    PatientConsent,
    PatientNeed,
    Phone,
    Programme,
    Referral,
    ReferralEvent,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceCapacity,
    Signposting,
    TaxonomyTerm,
    UnmetNeed,
    User,
    UserCentre,
    UserOrganization,
)
from db.reference_data import PROGRAMMES, SYNONYMS, TAXONOMY
from domain.care import NEEDS as _CARE_NEEDS
from domain.care import SIGNPOST_SETTINGS as _SIGNPOST_SETTINGS
from domain.instruments import EQ5D5L_DIMENSIONS, ONS4_ITEMS, SWEMWBS_ITEMS, UCLA3_ITEMS, score
from domain.national_id import luhn_ok
from domain.security import encrypt_identity, hash_password, identity_hash
from domain.taxonomy import dump_synonyms
from settings import DEMO_ACCOUNTS, DEMO_PASSWORD

DEMO_SEED = 20260517
MONTHS_OF_HISTORY = 18
MISSED_AFTER_DAYS = 60
_PSEUDONYM_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# --- Shared vocabulary (taxonomy and programmes: db.reference_data) -----------------------------

# The needs the demo patients have (a subset of domain.care.NEEDS, in a fixed order for the seed).
NEEDS: dict[str, tuple[str, ...]] = {
    code: _CARE_NEEDS[code]
    for code in (
        "loneliness", "physical_activity", "mental_wellbeing", "language", "grief", "diabetes",
        "heart_health", "digital_skills", "carer_support", "meaningful_activity",
    )
}  # fmt: skip

# Intended referral paths (FHIR Task statuses) with their weight and final outcome reason; a path
# stops early where its next step would lie after `now`.
REFERRAL_PATHS: tuple[tuple[int, tuple[str, ...], str | None], ...] = (
    (50, ("requested", "accepted", "in-progress", "completed"), "got_help"),
    (12, ("requested", "accepted", "in-progress"), None),
    (5, ("requested", "accepted", "in-progress", "failed"), "couldnt_get_help"),
    (6, ("requested", "accepted", "failed"), "couldnt_contact"),
    (4, ("requested", "rejected"), "not_eligible"),
    (5, ("requested", "rejected"), "no_capacity"),
    (8, ("requested", "accepted", "cancelled"), "no_longer_interested"),
    (5, ("requested", "cancelled"), "referred_elsewhere"),
    (3, ("requested", "accepted", "on-hold"), None),
    (2, ("requested",), None),
)
# Days from the previous status to this one: (low, high).
STEP_DAYS = {
    "accepted": (1, 6),
    "rejected": (1, 10),
    "in-progress": (2, 10),
    "completed": (20, 90),
    "failed": (7, 30),
    "cancelled": (3, 20),
    "on-hold": (10, 30),
}

# --- The demo region ------------------------------------------------------------------------------


@dataclass(frozen=True)
class District:
    name: str
    lat: float
    lon: float
    postal: str  # SE: first three digits; DK: the whole code
    city: str
    streets: tuple[str, ...]


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    country: str
    region: str
    lat: float
    lon: float
    districts: tuple[District, ...]


PLACES: tuple[Place, ...] = (
    Place(
        "1280",
        "Malmö",
        "SE",
        "Region Skåne",
        55.6050,
        13.0038,
        (
            District("Limhamn", 55.5806, 12.9285, "216", "Limhamn", ("Linnégatan", "Limhamnsvägen", "Strandgatan", "Kalkbrottsgatan")),  # noqa: E501
            District("Rosengård", 55.5870, 13.0450, "213", "Malmö", ("Amiralsgatan", "Ramels väg", "Von Lingens väg", "Bennets väg")),  # noqa: E501
            District("Centrum", 55.6050, 13.0038, "211", "Malmö", ("Södergatan", "Regementsgatan", "Kungsgatan", "Baltzarsgatan")),  # noqa: E501
            District("Möllevången", 55.5905, 13.0080, "214", "Malmö", ("Bergsgatan", "Möllevångsgatan", "Simrishamnsgatan")),  # noqa: E501
            District("Hyllie", 55.5630, 12.9760, "215", "Malmö", ("Hyllie Boulevard", "Mässgatan", "Hyllie allé")),  # noqa: E501
            District("Kirseberg", 55.6120, 13.0300, "212", "Malmö", ("Kirsebergstorget", "Dalhemsgatan", "Vattenverksvägen")),  # noqa: E501
        ),
    ),
    Place(
        "1281",
        "Lund",
        "SE",
        "Region Skåne",
        55.7047,
        13.1910,
        (
            District("Centrum", 55.7047, 13.1910, "222", "Lund", ("Stora Södergatan", "Klostergatan", "Bredgatan", "Kyrkogatan")),  # noqa: E501
            District("Norra Fäladen", 55.7220, 13.2050, "224", "Lund", ("Kämnärsvägen", "Vildandsvägen", "Fäladstorget")),  # noqa: E501
            District("Klostergården", 55.6890, 13.1760, "222", "Lund", ("Kastanjegatan", "Lärkträdsvägen")),
            District("Linero", 55.7000, 13.2280, "224", "Lund", ("Linerotorget", "Smörlyckan")),
            District("Dalby", 55.6660, 13.3480, "247", "Dalby", ("Tengelins gata", "Lundavägen", "Stora Gatan")),  # noqa: E501
            District("Södra Sandby", 55.7170, 13.3440, "247", "Södra Sandby", ("Revingevägen", "Skolgatan")),
        ),
    ),
    Place(
        "0217",
        "Helsingør",
        "DK",
        "Region Hovedstaden",
        56.0361,
        12.6136,
        (
            District("Centrum", 56.0361, 12.6136, "3000", "Helsingør", ("Stengade", "Bjergegade", "Axeltorv", "Kongevejen")),  # noqa: E501
            District("Vapnagård", 56.0300, 12.5750, "3000", "Helsingør", ("Vapnagaard", "Rønnebær Allé")),
            District("Snekkersten", 56.0060, 12.5900, "3070", "Snekkersten", ("Strandvejen", "Bygmarken")),
            District("Espergærde", 55.9950, 12.5500, "3060", "Espergærde", ("Stationsvej", "Mørdrupvej", "Lundegade")),  # noqa: E501
            District("Hellebæk", 56.0680, 12.5550, "3150", "Hellebæk", ("Hellebækgårdvej", "Ny Hellebækvej")),
            District("Hornbæk", 56.0920, 12.4570, "3100", "Hornbæk", ("Nordre Strandvej", "Havnevej")),
        ),
    ),
)  # fmt: skip

# (municipality code, district, code, name, street address, patients)
CENTRES: tuple[tuple[str, str, str, str, str, int], ...] = (
    ("1280", "Limhamn", "SE-1280-LIM", "Vårdcentralen Limhamn", "Linnégatan 35, 216 14 Limhamn", 420),
    ("1280", "Rosengård", "SE-1280-ROS", "Vårdcentralen Rosengård", "Amiralsgatan 104, 213 68 Malmö", 380),
    ("1281", "Centrum", "SE-1281-SOD", "Vårdcentralen Södertull", "Bangatan 10, 222 21 Lund", 330),
    ("1281", "Dalby", "SE-1281-DAL", "Vårdcentralen Dalby", "Tengelins gata 4, 247 31 Dalby", 40),
    ("0217", "Centrum", "DK-0217-HEL", "Sundhedscenter Helsingør", "Sundhedsvej 1, 3000 Helsingør", 200),
    ("0217", "Espergærde", "DK-0217-ESP", "Lægehuset Espergærde", "Stationsvej 12, 3060 Espergærde", 130),
)
CENTRE_SLUGS = ("limhamn", "rosengard", "sodertull", "dalby", "helsingor", "espergaerde")

# (municipality code, kind, name, categories offered, target groups for all its activities)
ORGANISATIONS: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("1280", "municipality", "Malmö stad – Träffpunkter för seniorer", ("meeting_place", "exercise", "digital_course", "walking"), ("seniors",)),  # noqa: E501
    ("1280", "municipality", "Malmö stadsbibliotek", ("language_cafe", "digital_course", "culture"), ()),
    ("1280", "municipality", "Malmö stad – Anhörigstöd", ("meeting_place", "grief_group"), ("carers",)),
    ("1280", "study_association", "Studieförbundet Vuxenskolan Malmö", ("crafts", "culture", "choir", "gardening", "language_cafe", "digital_course"), ()),  # noqa: E501
    ("1280", "study_association", "ABF Malmö", ("language_cafe", "culture", "crafts", "digital_course"), ()),
    ("1280", "study_association", "Studiefrämjandet Malmö", ("walking", "gardening", "crafts"), ()),
    ("1280", "study_association", "Medborgarskolan Malmö", ("digital_course", "culture", "exercise"), ()),
    ("1280", "study_association", "Bilda Syd", ("choir", "culture", "grief_group"), ()),
    ("1280", "church", "Svenska kyrkan Limhamn", ("meeting_place", "choir", "grief_group"), ()),
    ("1280", "church", "Svenska kyrkan S:t Johannes Malmö", ("meeting_place", "grief_group", "language_cafe"), ()),  # noqa: E501
    ("1280", "church", "Pingstkyrkan Malmö", ("meeting_place", "language_cafe"), ()),
    ("1280", "ngo", "Röda Korset Malmö", ("language_cafe", "volunteering", "meeting_place"), ()),
    ("1280", "ngo", "Skånes Stadsmission Malmö", ("meeting_place", "volunteering"), ()),
    ("1280", "ngo", "PRO Limhamn", ("meeting_place", "walking", "culture"), ("seniors",)),
    ("1280", "ngo", "SPF Seniorerna Malmö", ("walking", "culture", "meeting_place"), ("seniors",)),
    ("1280", "ngo", "Naturskyddsföreningen Malmö", ("walking", "gardening"), ()),
    ("1280", "ngo", "Rosengårds kvinnoförening", ("meeting_place", "crafts", "language_cafe"), ("women", "newly_arrived")),  # noqa: E501
    ("1280", "patient_association", "Diabetesföreningen Malmö", ("diabetes_school", "walking"), ("diabetes",)),  # noqa: E501
    ("1280", "patient_association", "Hjärt- och Lungsjukas förening Malmö", ("exercise", "walking"), ("heart_disease",)),  # noqa: E501
    ("1280", "patient_association", "Demensföreningen Malmö", ("meeting_place",), ("dementia", "carers")),
    ("1280", "sports_club", "Friskis&Svettis Malmö", ("exercise", "walking"), ()),
    ("1280", "sports_club", "Limhamns Boule- och Seniorklubb", ("exercise", "meeting_place"), ("seniors",)),
    ("1280", "ngo", "Koloniföreningen Rosengård", ("gardening",), ()),
    ("1280", "ngo", "Mansforum Malmö", ("meeting_place", "crafts"), ("men",)),
    ("1280", "ngo", "Unga Vuxna Malmö", ("meeting_place", "volunteering"), ("young_adults",)),
    ("1280", "ngo", "Besöksvännerna Malmö", ("volunteering",), ()),
    ("1280", "ngo", "Kulturföreningen Möllan", ("culture", "choir"), ()),
    ("1280", "ngo", "Verdandi Malmö", ("meeting_place", "crafts"), ("mental_health",)),
    ("1281", "municipality", "Lunds kommun – Träffpunkter", ("meeting_place", "exercise", "digital_course"), ("seniors",)),  # noqa: E501
    ("1281", "municipality", "Lunds stadsbibliotek", ("language_cafe", "culture", "digital_course"), ()),
    ("1281", "municipality", "Lunds kommun – Anhörigcentrum", ("meeting_place", "grief_group"), ("carers",)),
    ("1281", "study_association", "Studieförbundet Vuxenskolan Lund", ("crafts", "choir", "culture"), ()),
    ("1281", "study_association", "ABF Lund", ("language_cafe", "culture", "digital_course"), ()),
    ("1281", "study_association", "Folkuniversitetet Lund", ("language_cafe", "digital_course", "culture"), ()),  # noqa: E501
    ("1281", "study_association", "Sensus Lund", ("choir", "grief_group", "culture"), ()),
    ("1281", "church", "Svenska kyrkan Lund – Domkyrkoförsamlingen", ("meeting_place", "choir", "grief_group"), ()),  # noqa: E501
    ("1281", "church", "Svenska kyrkan Dalby", ("meeting_place", "choir"), ()),
    ("1281", "church", "Equmeniakyrkan Lund", ("meeting_place", "language_cafe"), ()),
    ("1281", "ngo", "Röda Korset Lund", ("language_cafe", "volunteering"), ()),
    ("1281", "ngo", "PRO Dalby", ("meeting_place", "walking", "culture"), ("seniors",)),
    ("1281", "ngo", "SPF Seniorerna Lund", ("walking", "culture"), ("seniors",)),
    ("1281", "ngo", "Naturskyddsföreningen Lund", ("walking", "gardening"), ()),
    ("1281", "ngo", "Stadsmissionen Lund", ("meeting_place", "volunteering"), ()),
    ("1281", "patient_association", "Diabetesföreningen Lund", ("diabetes_school", "exercise"), ("diabetes",)),  # noqa: E501
    ("1281", "patient_association", "Reumatikerföreningen Lund", ("exercise",), ()),
    ("1281", "sports_club", "Friskis&Svettis Lund", ("exercise", "walking"), ()),
    ("1281", "sports_club", "Dalby GIF Motion", ("exercise", "walking"), ("seniors",)),
    ("1281", "ngo", "Odla i Lund", ("gardening",), ()),
    ("1281", "ngo", "Träffpunkt Unga Vuxna Lund", ("meeting_place",), ("young_adults",)),
    ("1281", "ngo", "Kulturen i Lund", ("culture",), ()),
    ("1281", "ngo", "Mansgruppen Lund", ("meeting_place", "crafts"), ("men",)),
    ("1281", "ngo", "SPES Skåne", ("grief_group",), ("grief",)),
    ("1281", "ngo", "Dalby Hembygdsförening", ("culture", "crafts"), ()),
    ("0217", "municipality", "Helsingør Kommune – Aktivitetscentre", ("meeting_place", "exercise", "digital_course"), ("seniors",)),  # noqa: E501
    ("0217", "municipality", "Helsingør Kommunes Biblioteker", ("language_cafe", "culture", "digital_course"), ()),  # noqa: E501
    ("0217", "municipality", "Helsingør Kommune – Pårørendestøtte", ("meeting_place", "grief_group"), ("carers",)),  # noqa: E501
    ("0217", "study_association", "FOF Helsingør", ("crafts", "culture", "digital_course"), ()),
    ("0217", "study_association", "AOF Nordsjælland", ("language_cafe", "culture", "crafts"), ()),
    ("0217", "study_association", "LOF Helsingør", ("choir", "exercise"), ()),
    ("0217", "study_association", "Folkeuniversitetet Helsingør", ("culture",), ()),
    ("0217", "church", "Helsingør Domsogn", ("meeting_place", "grief_group", "choir"), ()),
    ("0217", "church", "Sankt Mariæ Sogn", ("meeting_place", "choir"), ()),
    ("0217", "church", "Espergærde Sogn", ("meeting_place", "grief_group"), ()),
    ("0217", "ngo", "Ældre Sagen Helsingør", ("walking", "digital_course", "meeting_place", "volunteering"), ("seniors",)),  # noqa: E501
    ("0217", "ngo", "Dansk Røde Kors Helsingør", ("language_cafe", "volunteering", "meeting_place"), ()),
    ("0217", "ngo", "Frivilligcenter Helsingør", ("volunteering", "meeting_place"), ()),
    ("0217", "ngo", "Danske Seniorer Helsingør", ("meeting_place", "culture"), ("seniors",)),
    ("0217", "ngo", "Mænds Mødested Helsingør", ("crafts", "meeting_place"), ("men",)),
    ("0217", "patient_association", "Diabetesforeningen Nordsjælland", ("diabetes_school", "walking"), ("diabetes",)),  # noqa: E501
    ("0217", "patient_association", "Hjerteforeningen Helsingør", ("exercise", "walking"), ("heart_disease",)),  # noqa: E501
    ("0217", "patient_association", "Alzheimerforeningen Nordsjælland", ("meeting_place",), ("dementia", "carers")),  # noqa: E501
    ("0217", "ngo", "Kræftens Bekæmpelse Helsingør", ("grief_group",), ("grief",)),
    ("0217", "sports_club", "Helsingør Roklub", ("exercise",), ()),
    ("0217", "sports_club", "Espergærde Idrætsforening", ("exercise", "walking"), ("seniors",)),
    ("0217", "ngo", "Helsingør Fællesnyttehave", ("gardening",), ()),
    ("0217", "ngo", "Kulturværftet Helsingør", ("culture", "choir"), ()),
    ("0217", "ngo", "Snekkersten Seniorklub", ("meeting_place", "crafts"), ("seniors",)),
    ("0217", "ngo", "Ungdomshuset Helsingør – Unge voksne", ("meeting_place",), ("young_adults",)),
    ("0217", "ngo", "Friluftsforeningen Nordsjælland", ("walking", "gardening"), ()),
    ("0217", "ngo", "Venligboerne Helsingør", ("language_cafe", "meeting_place"), ("newly_arrived",)),
)  # fmt: skip
PARTNER_ORGANISATION = "Studieförbundet Vuxenskolan Malmö"

# category -> activity templates: (name_sv, name_da, description_sv, description_da, attending, targets)
# attending: "in_person", "online", "hybrid" or "rolling" (an online course that starts any time).
ACTIVITIES: dict[str, tuple[tuple[str, str, str, str, str, tuple[str, ...]], ...]] = {
    "walking": (
        ("Promenadgrupp {area}", "Gågruppe {area}", "Vi går en timme i lugn takt och fikar efteråt. Ingen anmälan behövs.", "Vi går en time i roligt tempo og drikker kaffe bagefter. Ingen tilmelding.", "in_person", ()),  # noqa: E501
        ("Stavgång för seniorer", "Stavgang for seniorer", "Stavgång med instruktör, stavar finns att låna.", "Stavgang med instruktør; stave kan lånes.", "in_person", ("seniors",)),  # noqa: E501
        ("Naturpromenad med guide", "Naturvandring med guide", "Vi upptäcker fåglar och växter i närområdet.", "Vi opdager fugle og planter i nærområdet.", "in_person", ()),  # noqa: E501
        ("Hälsans stig – gå tillsammans", "Sundhedsstien – gå sammen", "Fem kilometer utmärkt slinga, vi går i två tempogrupper.", "Fem kilometer afmærket rute i to tempogrupper.", "in_person", ()),  # noqa: E501
    ),
    "exercise": (
        ("Seniorgympa", "Seniorgymnastik", "Lätt rörelseträning till musik, på stol eller stående.", "Let bevægelse til musik, siddende eller stående.", "in_person", ("seniors",)),  # noqa: E501
        ("Balansträning", "Balancetræning", "Träning som minskar risken att falla. Leds av fysioterapeut.", "Træning der mindsker risikoen for fald. Ledes af fysioterapeut.", "in_person", ("seniors",)),  # noqa: E501
        ("Vattengympa", "Vandgymnastik", "Skonsam träning i varmvattenbassäng.", "Skånsom træning i varmtvandsbassin.", "in_person", ()),  # noqa: E501
        ("Qigong i parken", "Qigong i parken", "Lugna rörelser och andning utomhus.", "Rolige bevægelser og vejrtrækning udendørs.", "in_person", ()),  # noqa: E501
        ("Hjärtträning", "Hjertemotion", "Anpassad konditionsträning för dig med hjärt-kärlsjukdom.", "Tilpasset konditionstræning for dig med hjertesygdom.", "in_person", ("heart_disease",)),  # noqa: E501
        ("Online: Träna hemma", "Online: Motion derhjemme", "Korta träningspass via video, i din egen takt.", "Korte træningspas på video i dit eget tempo.", "rolling", ()),  # noqa: E501
    ),
    "language_cafe": (
        ("Språkcafé", "Sprogcafé", "Öva svenska i vardagliga samtal över en kopp kaffe.", "Øv dansk i hverdagssamtaler over en kop kaffe.", "in_person", ("newly_arrived",)),  # noqa: E501
        ("Samtalsgrupp på lätt svenska", "Samtalegruppe på let dansk", "Vi pratar om vardagen, alla nivåer välkomna.", "Vi taler om hverdagen; alle niveauer er velkomne.", "in_person", ("newly_arrived",)),  # noqa: E501
        ("Språkvän", "Sprogven", "Vi matchar dig med en språkvän som du träffar varannan vecka.", "Vi matcher dig med en sprogven, som du mødes med hver anden uge.", "in_person", ("newly_arrived",)),  # noqa: E501
        ("Digitalt språkcafé", "Digitalt sprogcafé", "Språkcafé på video, kamera valfritt.", "Sprogcafé på video; kamera er valgfrit.", "online", ("newly_arrived",)),  # noqa: E501
    ),
    "culture": (
        ("Bokcirkel", "Læsekreds", "Vi läser en bok i månaden och träffas för att prata om den.", "Vi læser en bog om måneden og mødes for at tale om den.", "in_person", ()),  # noqa: E501
        ("Film för seniorer", "Seniorbio", "Film med fika, biljett till reducerat pris.", "Film med kaffe, billet til nedsat pris.", "in_person", ("seniors",)),  # noqa: E501
        ("Konstcirkel", "Kunstgruppe", "Akvarell och teckning för nybörjare.", "Akvarel og tegning for begyndere.", "in_person", ()),  # noqa: E501
        ("Föreläsningsserie: Lokalhistoria", "Foredragsrække: Lokalhistorie", "Föreläsningar om stadens historia, på plats och via länk.", "Foredrag om byens historie, på stedet og via link.", "hybrid", ()),  # noqa: E501
        ("Museivisning med samtal", "Museumsbesøg med samtale", "Guidad visning i liten grupp följd av samtal.", "Omvisning i lille gruppe efterfulgt af samtale.", "in_person", ()),  # noqa: E501
    ),
    "crafts": (
        ("Stickcafé", "Strikkecafé", "Ta med ditt handarbete eller lär dig sticka.", "Tag dit håndarbejde med eller lær at strikke.", "in_person", ()),  # noqa: E501
        ("Snickarverkstad", "Træværksted", "Verkstad med verktyg och handledare.", "Værksted med værktøj og vejleder.", "in_person", ("men",)),  # noqa: E501
        ("Syjunta", "Syklub", "Vi syr, lagar och pratar.", "Vi syr, reparerer og snakker.", "in_person", ("women",)),  # noqa: E501
        ("Keramik för nybörjare", "Keramik for begyndere", "Drejning och handbyggnad, material ingår.", "Drejning og håndopbygning; materialer er inkluderet.", "in_person", ()),  # noqa: E501
    ),
    "choir": (
        ("Seniorkör", "Seniorkor", "Ingen förkunskap behövs, vi sjunger visor och psalmer.", "Ingen forudsætninger; vi synger viser og salmer.", "in_person", ("seniors",)),  # noqa: E501
        ("Sjung tillsammans", "Syng sammen", "Allsång med pianist. Texterna visas på skärm.", "Fællessang med pianist; teksterne vises på skærm.", "hybrid", ()),  # noqa: E501
        ("Kör för alla", "Kor for alle", "Öppen kör, alla röster välkomna.", "Åbent kor; alle stemmer er velkomne.", "in_person", ()),  # noqa: E501
    ),
    "grief_group": (
        ("Sorgegrupp", "Sorggruppe", "Samtalsgrupp för dig som mist en närstående. Åtta träffar.", "Samtalegruppe for dig, der har mistet en nærtstående. Otte mødegange.", "in_person", ("grief",)),  # noqa: E501
        ("Samtalsgrupp för efterlevande", "Samtalegruppe for efterladte", "Leds av präst eller diakon, tystnadsplikt gäller.", "Ledes af præst eller diakon; der er tavshedspligt.", "in_person", ("grief",)),  # noqa: E501
    ),
    "diabetes_school": (
        ("Diabetesskola", "Diabetesskole", "Sex träffar om kost, rörelse och mediciner vid typ 2-diabetes.", "Seks mødegange om kost, motion og medicin ved type 2-diabetes.", "in_person", ("diabetes",)),  # noqa: E501
        ("Online: Leva med diabetes", "Online: Lev med diabetes", "Webbkurs i egen takt med chatt med diabetessköterska.", "Webkursus i eget tempo med chat med diabetessygeplejerske.", "rolling", ("diabetes",)),  # noqa: E501
    ),
    "meeting_place": (
        ("Mötesplats {area}", "Mødested {area}", "Öppen träffpunkt med fika, tidningar och sällskapsspel.", "Åbent mødested med kaffe, aviser og brætspil.", "in_person", ("seniors",)),  # noqa: E501
        ("Fika och gemenskap", "Kaffe og fællesskab", "Kom som du är, det finns alltid någon att prata med.", "Kom som du er; der er altid nogen at tale med.", "in_person", ()),  # noqa: E501
        ("Måndagsträffen", "Mandagsklubben", "Program med föredrag, musik och utflykter.", "Program med foredrag, musik og udflugter.", "in_person", ("seniors",)),  # noqa: E501
        ("Gemensam lunch", "Spisefællesskab", "Vi lagar och äter lunch tillsammans, självkostnadspris.", "Vi laver og spiser frokost sammen til kostpris.", "in_person", ()),  # noqa: E501
        ("Anhörigcafé", "Pårørendecafé", "Träffa andra i samma situation, personal finns på plats.", "Mød andre i samme situation; personale er til stede.", "in_person", ("carers",)),  # noqa: E501
        ("Demenscafé", "Demenscafé", "För personer med demenssjukdom och deras närstående.", "For personer med demens og deres pårørende.", "in_person", ("dementia", "carers")),  # noqa: E501
        ("Mansträff", "Mandegruppe", "Kaffe, samtal och utflykter för män.", "Kaffe, samtaler og udflugter for mænd.", "in_person", ("men",)),  # noqa: E501
        ("Träffpunkt unga vuxna", "Mødested for unge voksne", "Kvällsträff för dig mellan 18 och 30 år.", "Aftenmøde for dig mellem 18 og 30 år.", "in_person", ("young_adults",)),  # noqa: E501
    ),
    "digital_course": (
        ("Digital vardag för nybörjare", "IT for begyndere", "Lär dig surfplatta, e-post och videosamtal.", "Lær tablet, e-mail og videoopkald.", "in_person", ("seniors",)),  # noqa: E501
        ("BankID- och Swish-hjälp", "MitID-hjælp", "Drop-in med hjälp att komma igång.", "Drop-in med hjælp til at komme i gang.", "in_person", ("seniors",)),  # noqa: E501
        ("Digitalt café", "IT-café", "Ta med din telefon, volontärer hjälper.", "Tag din telefon med; frivillige hjælper.", "in_person", ()),  # noqa: E501
        ("Online: Må bra-kurs", "Online: Trivselskursus", "Åtta veckors webbkurs om sömn, stress och gemenskap, start när du vill.", "Otte ugers webkursus om søvn, stress og fællesskab; start når du vil.", "rolling", ("mental_health",)),  # noqa: E501
        ("Online: Hjärnstark", "Online: Stærk hjerne", "Videoföreläsningar och övningar, i egen takt.", "Videoforedrag og øvelser i eget tempo.", "rolling", ("seniors",)),  # noqa: E501
    ),
    "gardening": (
        ("Odlingsgrupp", "Havegruppe", "Vi odlar grönsaker och blommor tillsammans i pallkragar.", "Vi dyrker grøntsager og blomster sammen i højbede.", "in_person", ()),  # noqa: E501
        ("Stadsodling {area}", "Byhave {area}", "Gemensam odlingslott, verktyg finns.", "Fælles dyrkningslod; værktøj findes.", "in_person", ()),  # noqa: E501
    ),
    "volunteering": (
        ("Bli besöksvän", "Bliv besøgsven", "Besök en äldre person en gång i veckan; vi introducerar och stöttar.", "Besøg en ældre én gang om ugen; vi introducerer og støtter.", "in_person", ()),  # noqa: E501
        ("Volontär i second hand-butiken", "Frivillig i genbrugsbutikken", "Sortera, prata med kunder och var en del av ett lag.", "Sortér, tal med kunder og vær en del af et hold.", "in_person", ()),  # noqa: E501
        ("Läxhjälpare", "Frivillig lektiehjælper", "Hjälp barn och unga med läxor en kväll i veckan.", "Hjælp børn og unge med lektier én aften om ugen.", "in_person", ()),  # noqa: E501
    ),
}  # fmt: skip

FIRST_NAMES = {
    ("SE", "female"): ("Anna", "Eva", "Maria", "Karin", "Kerstin", "Ingrid", "Birgitta", "Margareta", "Elisabeth", "Lena", "Marie", "Gunilla", "Ulla", "Britt", "Agneta", "Sara", "Emma", "Linnea", "Maja", "Elin"),  # noqa: E501
    ("SE", "male"): ("Lars", "Anders", "Per", "Karl", "Jan", "Bengt", "Sven", "Göran", "Lennart", "Nils", "Mats", "Leif", "Olof", "Stefan", "Erik", "Johan", "Oskar", "Viktor", "Emil", "Hugo"),  # noqa: E501
    ("DK", "female"): ("Anne", "Kirsten", "Hanne", "Mette", "Susanne", "Lene", "Birgit", "Inge", "Karen", "Lone", "Bente", "Grethe", "Jytte", "Ida", "Sofie", "Freja"),  # noqa: E501
    ("DK", "male"): ("Jens", "Niels", "Søren", "Henrik", "Poul", "Ole", "Jørgen", "Bent", "Finn", "Erik", "Knud", "Torben", "Mads", "Rasmus", "Mikkel", "Frederik"),  # noqa: E501
    ("XX", "female"): ("Fatima", "Amira", "Leila", "Samira", "Noor", "Maryam", "Hawa", "Olena", "Agnieszka", "Zeynep"),  # noqa: E501
    ("XX", "male"): ("Ahmed", "Hassan", "Ali", "Omar", "Yusuf", "Reza", "Abdi", "Dmytro", "Piotr", "Mehmet"),
}  # fmt: skip
LAST_NAMES = {
    "SE": ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson", "Gustafsson", "Pettersson", "Jönsson", "Jansson", "Hansson", "Bengtsson", "Lindberg", "Lindqvist", "Holm", "Sjöberg", "Håkansson", "Mårtensson", "Ek"),  # noqa: E501
    "DK": ("Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen", "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen", "Thomsen", "Poulsen", "Møller", "Mortensen"),  # noqa: E501
    "XX": ("Hussein", "Ahmed", "Mohammed", "Ali", "Hassan", "Abdullahi", "Yilmaz", "Karimi", "Kowalski", "Shevchenko", "Haddad", "Nguyen"),  # noqa: E501
}  # fmt: skip
CONTACT_TITLES = {
    "SE": (
        "Cirkelledare",
        "Verksamhetsledare",
        "Volontärsamordnare",
        "Diakon",
        "Fritidsledare",
        "Instruktör",
    ),
    "DK": ("Koordinator", "Frivilligkoordinator", "Sognepræst", "Instruktør", "Aktivitetsmedarbejder"),
}
WHAT_MATTERS = {
    "SE": ("Att träffa andra", "Komma ut mer", "Sjunga igen", "Känna mig behövd", "Röra på mig", "Prata svenska oftare", "Klara mig själv hemma", "Ha något att se fram emot"),  # noqa: E501
    "DK": ("At møde andre", "Komme mere ud", "Synge igen", "Føle mig nyttig", "Bevæge mig", "Tale mere dansk", "Klare mig selv derhjemme", "Have noget at se frem til"),  # noqa: E501
}  # fmt: skip
OTHER_LANGUAGES = {
    "SE": ("ar", "ar", "ar", "fa", "so", "ti", "uk", "pl", "fi", "tr", "en"),
    "DK": ("ar", "tr", "pl", "uk", "en", "en"),
}
# Categories whose in-person activities sometimes also run as an online group.
_ONLINE_ALSO = (
    "language_cafe",
    "culture",
    "grief_group",
    "meeting_place",
    "crafts",
    "choir",
    "digital_course",
)
SIGNPOST_SETTINGS = tuple(s for s in _SIGNPOST_SETTINGS if s != "other")


# --- Small generators (also used by db.synthetic) ------------------------------------------------


def rng_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def fake_personnummer(born: date, male: bool, serial: int) -> str:
    """A Luhn-valid personnummer, normalised (YYYYMMDDNNNC). `serial` in 0..499 picks the birth
    number; its last digit's parity is the sex. Distinct (born, male, serial) give distinct numbers."""
    number = (serial % 500) * 2 + (1 if male else 0)
    base = f"{born:%y%m%d}{number:03d}"
    check = next(d for d in range(10) if luhn_ok(f"{base}{d}"))
    return f"{born:%Y%m%d}{number:03d}{check}"


def fake_cpr(born: date, male: bool, serial: int) -> str:
    """A CPR number with a valid date, normalised (DDMMYYSSSS). `serial` in 0..1999 (0..499 from
    2000 on) picks the sequence number: its first digit encodes the century (0-3 for 1900-1999, 4
    from 2000) and its last digit's parity the sex. Distinct inputs give distinct numbers."""
    first = (serial // 500) % 4 if born.year < 2000 else 4
    number = (serial % 500) * 2 + (1 if male else 0)
    return f"{born:%d%m%y}{first}{number:03d}"


def pseudonym_for(n: int) -> str:
    """The n-th pseudonym of a fixed bijective sequence: unique without a lookup, not sequential."""
    value = (n * 742938285 + 81247) % (32**9)
    chars = []
    for _ in range(9):
        value, digit = divmod(value, 32)
        chars.append(_PSEUDONYM_ALPHABET[digit])
    return "P" + "".join(chars)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day where it has fewer days."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def spread(rng: random.Random, total: int, low: int, high: int, n: int) -> list[int]:
    """n items in low..high summing to total (clamped to what is possible), spread at random."""
    values = [low] * n
    extra = int(_clamp(total - low * n, 0, (high - low) * n))
    open_items = list(range(n))
    for _ in range(extra):
        i = rng.choice(open_items)
        values[i] += 1
        if values[i] == high:
            open_items.remove(i)
    return values


def answers_for(rng: random.Random, instrument: str, lonely: float, well: float, age: int) -> dict:
    """Item answers consistent with latent loneliness and wellbeing (0..1) and age."""
    if instrument == "ucla3":
        total = round(_clamp(3 + 6 * lonely + rng.gauss(0, 0.7), 3, 9))
        return dict(zip(UCLA3_ITEMS, spread(rng, total, 1, 3, 3), strict=True))
    if instrument == "swemwbs":
        raw = round(_clamp(7 + 28 * well + rng.gauss(0, 2.0), 7, 35))
        return dict(zip(SWEMWBS_ITEMS, spread(rng, raw, 1, 5, 7), strict=True))
    if instrument == "ons4":
        items = {item: round(_clamp(10 * well + rng.gauss(0, 1.3), 0, 10)) for item in ONS4_ITEMS[:3]}
        items["anxious"] = round(_clamp(8 * (1 - well) + rng.gauss(0, 1.6), 0, 10))
        return items
    if instrument == "eq5d5l":
        frailty = _clamp((age - 55) / 40 + (1 - well) * 0.4, 0, 1)
        levels = {
            d: int(_clamp(round(1 + 3 * frailty * rng.random() + rng.gauss(0, 0.4)), 1, 5))
            for d in EQ5D5L_DIMENSIONS
        }
        levels["anxiety"] = int(_clamp(round(1 + 3 * (1 - well) * rng.random()), 1, 5))
        return {**levels, "vas": int(_clamp(round(35 + 55 * well - 15 * frailty + rng.gauss(0, 8)), 0, 100))}
    raise ValueError(instrument)


def scored_row(instrument: str, answers: dict) -> dict:
    """The stored score columns of one response, from domain.instruments."""
    result = score(instrument, answers)
    return {
        "total": result.total,
        "score": result.score,
        "band": result.band,
        "subscales": dict(result.subscales),
        "flags": ",".join(sorted(result.flags)) or None,
    }


def _slug(name: str) -> str:
    table = str.maketrans("åäöæøéü", "aaoaoeu")
    cleaned = "".join(ch if ch.isalnum() else "-" for ch in name.lower().translate(table))
    return "-".join(part for part in cleaned.split("-") if part)[:40]


def jitter_km(
    rng: random.Random, lat: float, lon: float, sigma_km: float, max_km: float
) -> tuple[float, float]:
    """A point scattered around (lat, lon), at most max_km away."""
    while True:
        dx, dy = rng.gauss(0, sigma_km), rng.gauss(0, sigma_km)
        if math.hypot(dx, dy) <= max_km:
            break
    return (
        round(lat + dy / 111.0, 6),
        round(lon + dx / (111.0 * math.cos(math.radians(lat))), 6),
    )


# --- Seeding --------------------------------------------------------------------------------------


# Core inserts on the table, not the ORM entity: the ORM's bulk path sends one statement per row
# on Postgres, Core sends batches (executemany / insertmanyvalues).


def _insert(session: Session, model, rows: list[dict]) -> list[int]:
    """Bulk insert; returns the new ids in the order of `rows`."""
    if not rows:
        return []
    table = model.__table__
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.connection().execute(stmt, rows).scalars())


def _insert_plain(session: Session, model, rows: list[dict]) -> None:
    if rows:
        session.connection().execute(insert(model.__table__), rows)


@dataclass
class _ServiceInfo:
    id: int
    org_index: int
    municipality: str
    country: str
    category: str
    attending: str
    active: bool


@dataclass
class _PatientInfo:
    id: int
    centre_index: int
    country: str
    age: int
    sex: str
    language: str
    baseline: date
    needs: list[str] = field(default_factory=list)


class _DemoSeeder:
    def __init__(self, session: Session, today: date) -> None:
        self.s = session
        self.today = today
        self.now = at(today, 12)
        self.rng = random.Random(DEMO_SEED)
        self.ids = random.Random(DEMO_SEED + 1)
        self.start = today - timedelta(days=round(MONTHS_OF_HISTORY * 30.44))

    def uid(self) -> str:
        return rng_uuid(self.ids)

    def run(self) -> dict[str, int]:
        self.places()
        self.taxonomy()
        self.directory()
        self.users()
        self.programmes()
        self.patients()
        self.care()
        self.gaps()
        _insert_plain(
            self.s,
            AuditEvent,
            [
                {
                    "at": self.now,
                    "action": "demo.seed",
                    "outcome": "ok",
                    "detail": f"seed={DEMO_SEED} anchor={self.today.isoformat()}",
                }
            ],
        )
        return self.counts

    # Places ------------------------------------------------------------------------------

    def places(self) -> None:
        rows = [
            {
                "code": p.code,
                "name": p.name,
                "country": p.country,
                "region_name": p.region,
                "latitude": p.lat,
                "longitude": p.lon,
            }
            for p in PLACES
        ]
        self.municipality_ids = dict(
            zip([p.code for p in PLACES], _insert(self.s, Municipality, rows), strict=True)
        )
        self.place = {p.code: p for p in PLACES}
        centre_rows = []
        for muni, district, code, name, address, _ in CENTRES:
            d = next(d for d in self.place[muni].districts if d.name == district)
            lat, lon = jitter_km(self.rng, d.lat, d.lon, 0.3, 0.8)
            centre_rows.append(
                {
                    "code": code,
                    "name": name,
                    "municipality_id": self.municipality_ids[muni],
                    "address": address,
                    "latitude": lat,
                    "longitude": lon,
                    "active": True,
                }
            )
        self.centre_ids = _insert(self.s, HealthCentre, centre_rows)
        self.counts = {"municipalities": len(rows), "centres": len(centre_rows)}

    def taxonomy(self) -> None:
        rows, keys = [], []
        for taxonomy, terms in TAXONOMY.items():
            for code, sv, da, en in terms:
                rows.append(
                    {
                        "hsds_id": self.uid(),
                        "taxonomy": taxonomy,
                        "code": code,
                        "name_sv": sv,
                        "name_da": da,
                        "name_en": en,
                        "synonyms": dump_synonyms(SYNONYMS.get((taxonomy, code), ())),
                    }
                )
                keys.append((taxonomy, code))
        self.term_ids = dict(zip(keys, _insert(self.s, TaxonomyTerm, rows), strict=True))

    # Directory ---------------------------------------------------------------------------------

    def directory(self) -> None:
        rng = self.rng
        org_rows = []
        for muni, kind, name, _cats, _targets in ORGANISATIONS:
            place = self.place[muni]
            slug = _slug(name)
            org_rows.append(
                {
                    "hsds_id": self.uid(),
                    "name": name,
                    "description": _org_description(kind, place.country),
                    "email": f"info@{slug}.example",
                    "website": f"https://{slug}.example",
                    "kind": kind,
                    "municipality_id": self.municipality_ids[muni],
                }
            )
        self.org_ids = _insert(self.s, Organization, org_rows)
        self.partner_org_index = next(i for i, o in enumerate(ORGANISATIONS) if o[2] == PARTNER_ORGANISATION)

        # One or two venues per organisation, mostly in the town, some near the second centre.
        venue_rows, address_rows, venue_owner = [], [], []
        for oi, (muni, _kind, name, _cats, _targets) in enumerate(ORGANISATIONS):
            place = self.place[muni]
            for _ in range(1 if rng.random() < 0.6 else 2):
                district = rng.choice(place.districts)
                lat, lon = jitter_km(rng, district.lat, district.lon, 0.7, 2.5)
                venue_rows.append(
                    {
                        "hsds_id": self.uid(),
                        "organization_id": self.org_ids[oi],
                        "location_type": "physical",
                        "name": f"{name}, {district.name}",
                        "description": None,
                        "url": None,
                        "latitude": lat,
                        "longitude": lon,
                        "municipality_id": self.municipality_ids[muni],
                    }
                )
                venue_owner.append((oi, district))
        venue_ids = _insert(self.s, Location, venue_rows)
        venues_by_org: dict[int, list[tuple[int, District]]] = {}
        for vid, (oi, district) in zip(venue_ids, venue_owner, strict=True):
            venues_by_org.setdefault(oi, []).append((vid, district))
            place_country = self.place[ORGANISATIONS[oi][0]].country
            address_rows.append(
                {
                    "hsds_id": self.uid(),
                    "location_id": vid,
                    "address_1": f"{rng.choice(district.streets)} {rng.randint(1, 120)}",
                    "city": district.city,
                    "region": self.place[ORGANISATIONS[oi][0]].region,
                    "state_province": "",
                    "postal_code": _postal(rng, district, place_country),
                    "country": place_country,
                    "address_type": "physical",
                }
            )
        _insert_plain(self.s, Address, address_rows)

        plans = self._activity_plans()
        service_rows = []
        for oi, category, template in plans:
            service_rows.append(self._service_row(oi, category, template, venues_by_org[oi][0][1]))
        # The demo partner has one new activity waiting for approval, so its home page shows one.
        newest = max(i for i, plan in enumerate(plans) if plan[0] == self.partner_org_index)
        service_rows[newest].update(
            approval_status="pending",
            assured_date=None,
            assurer_email=None,
            created_at=at(self.today - timedelta(days=3), 9),
            updated_at=at(self.today - timedelta(days=3), 9),
        )
        service_ids = _insert(self.s, Service, service_rows)
        self.services: list[_ServiceInfo] = []
        for sid, (oi, category, template), row in zip(service_ids, plans, service_rows, strict=True):
            self.services.append(
                _ServiceInfo(
                    sid,
                    oi,
                    ORGANISATIONS[oi][0],
                    self.place[ORGANISATIONS[oi][0]].country,
                    category,
                    template[4],
                    row["status"] == "active" and row["approval_status"] == "approved",
                )
            )
        self._service_details(plans, venues_by_org)
        self.counts.update(organisations=len(org_rows), services=len(service_rows), venues=len(venue_rows))

    def _activity_plans(self) -> list[tuple[int, str, tuple]]:
        rng, plans = self.rng, []
        for oi, (_muni, _kind, name, cats, _targets) in enumerate(ORGANISATIONS):
            n = len(cats) + 1 + (1 if rng.random() < 0.4 else 0) + (2 if name == PARTNER_ORGANISATION else 0)
            used: set[str] = set()
            for k in range(n):
                for category in (cats[k % len(cats)], *cats, "meeting_place", "culture"):
                    options = [t for t in ACTIVITIES[category] if t[0] not in used]
                    if options:
                        break
                template = rng.choice(options)
                used.add(template[0])
                if template[4] == "in_person" and category in _ONLINE_ALSO and rng.random() < 0.11:
                    template = (
                        f"Online: {template[0]}",
                        f"Online: {template[1]}",
                        *template[2:4],
                        "online",
                        template[5],
                    )
                plans.append((oi, category, template))
        return plans

    def _service_row(self, oi: int, category: str, template: tuple, district: District) -> dict:
        rng, today = self.rng, self.today
        muni, _kind, org_name, _cats, org_targets = ORGANISATIONS[oi]
        country = self.place[muni].country
        name_sv, name_da, desc_sv, desc_da, attending, targets = template
        name = (name_sv if country == "SE" else name_da).replace("{area}", district.name)
        online = attending in ("online", "rolling")
        roll = rng.random()
        status = "inactive" if roll < 0.03 else "active"
        pending = 0.03 <= roll < 0.065
        is_free = rng.random() < 0.78
        groups = set(targets) | set(org_targets)
        created = today - timedelta(days=rng.randint(1, 12) if pending else rng.randint(200, 900))
        assured_ago = rng.randint(0, 89) if rng.random() < 0.72 else rng.randint(90, 200)
        contact_domain = _slug(org_name)
        return {
            "hsds_id": self.uid(),
            "organization_id": self.org_ids[oi],
            "name": name,
            "alternate_name": None,
            "description": desc_sv if country == "SE" else desc_da,
            "url": f"https://{contact_domain}.example/{_slug(name)}"
            if online or attending == "hybrid"
            else None,
            "email": f"{_slug(name)}@{contact_domain}.example",
            "status": status,
            "eligibility_description": _eligibility(groups, country),
            "minimum_age": 18 if "young_adults" in groups else (60 if "seniors" in groups else None),
            "maximum_age": 30 if "young_adults" in groups else None,
            "attending_type": "online" if online else attending,
            "fees_description": None
            if is_free
            else ("Avgift, se prisuppgift" if country == "SE" else "Betaling, se pris"),
            "is_free": is_free,
            "rolling_start": attending == "rolling",
            "start_date": (today + timedelta(days=rng.randint(7, 45)))
            if category == "diabetes_school" and not online
            else None,
            "approval_status": "pending" if pending else "approved",
            "assured_date": None
            if pending
            else today - timedelta(days=min(assured_ago, (today - created).days)),
            "assurer_email": None if pending else f"info@{contact_domain}.example",
            "municipality_id": self.municipality_ids[muni],
            "created_at": at(created, 9),
            "updated_at": at(today - timedelta(days=min(assured_ago, (today - created).days)), 10),
        }

    def _service_details(self, plans: list, venues_by_org: dict[int, list[tuple[int, District]]]) -> None:
        rng = self.rng
        virtual_rows, virtual_for = [], []
        for info in self.services:
            if info.attending in ("online", "rolling", "hybrid"):
                virtual_rows.append(
                    {
                        "hsds_id": self.uid(),
                        "organization_id": self.org_ids[info.org_index],
                        "location_type": "virtual",
                        "name": "Online",
                        "description": None,
                        "url": f"https://{_slug(ORGANISATIONS[info.org_index][2])}.example/online/{info.id}",
                        "latitude": None,
                        "longitude": None,
                        "municipality_id": None,
                    }
                )
                virtual_for.append(info.id)
        virtual_ids = dict(zip(virtual_for, _insert(self.s, Location, virtual_rows), strict=True))

        sal, contacts, schedules, attributes, costs, capacities, areas = [], [], [], [], [], [], []
        contact_phones: list[tuple[str, str]] = []
        for info, (oi, category, template) in zip(self.services, plans, strict=True):
            place = self.place[info.municipality]
            if info.attending in ("in_person", "hybrid"):
                vid, _district = rng.choice(venues_by_org[oi])
                sal.append({"hsds_id": self.uid(), "service_id": info.id, "location_id": vid})
            if info.id in virtual_ids:
                sal.append(
                    {"hsds_id": self.uid(), "service_id": info.id, "location_id": virtual_ids[info.id]}
                )
            first, last = self._name(place.country, rng.choice(("female", "male")))
            org_domain = _slug(ORGANISATIONS[oi][2])
            contacts.append(
                {
                    "hsds_id": self.uid(),
                    "service_id": info.id,
                    "organization_id": self.org_ids[oi],
                    "name": f"{first} {last}",
                    "title": rng.choice(CONTACT_TITLES[place.country]),
                    "email": f"{_slug(first)}.{_slug(last)}@{org_domain}.example",
                }
            )
            contact_phones.append((info.country, _phone(rng, info.country)))
            schedules.extend(self._schedules(info, category, template))
            groups = set(template[5]) | set(ORGANISATIONS[oi][4])
            terms = [("category", category), *(("target_group", g) for g in sorted(groups))]
            if info.attending != "rolling" and info.attending != "online":
                if rng.random() < 0.6:
                    terms.append(("accessibility", "wheelchair"))
                if rng.random() < 0.25:
                    terms.append(("accessibility", "hearing_loop"))
            terms.append(("language", "sv" if info.country == "SE" else "da"))
            for lang in self._activity_languages(info, groups):
                terms.append(("language", lang))
            attributes.extend(
                {
                    "hsds_id": self.uid(),
                    "service_id": info.id,
                    "taxonomy_term_id": self.term_ids[t],
                    "value": None,
                }
                for t in dict.fromkeys(terms)
            )
            costs.extend(self._costs(info))
            if info.attending != "rolling":
                maximum = rng.choice((8, 10, 12, 15, 20, 25, 30))
                capacities.append(
                    {
                        "hsds_id": self.uid(),
                        "service_id": info.id,
                        "available": rng.randint(0, maximum // 2) if rng.random() < 0.85 else 0,
                        "maximum": maximum,
                        "unit": "places",
                        "updated": at(self.today - timedelta(days=rng.randint(0, 60)), rng.randint(7, 15)),
                    }
                )
            online = info.attending in ("online", "rolling")
            areas.append(
                {
                    "hsds_id": self.uid(),
                    "service_id": info.id,
                    "name": place.region if online else place.name,
                    "municipality_id": None if online else self.municipality_ids[info.municipality],
                }
            )
        _insert_plain(self.s, ServiceAtLocation, sal)
        contact_ids = _insert(self.s, Contact, contacts)
        _insert_plain(
            self.s,
            Phone,
            [
                {
                    "hsds_id": self.uid(),
                    "contact_id": cid,
                    "service_id": info.id,
                    "location_id": None,
                    "organization_id": None,
                    "number": number,
                    "type": "voice",
                }
                for cid, info, (_country, number) in zip(
                    contact_ids, self.services, contact_phones, strict=True
                )
            ],
        )
        _insert_plain(self.s, Schedule, schedules)
        _insert_plain(self.s, Attribute, attributes)
        _insert_plain(self.s, CostOption, costs)
        _insert_plain(self.s, ServiceCapacity, capacities)
        _insert_plain(self.s, ServiceArea, areas)
        self.counts.update(schedules=len(schedules), attributes=len(attributes))

    def _activity_languages(self, info: _ServiceInfo, groups: set[str]) -> list[str]:
        rng, langs = self.rng, []
        if rng.random() < 0.2 or info.attending in ("online", "rolling"):
            langs.append("en")
        if "newly_arrived" in groups or info.category == "language_cafe":
            langs.extend(
                rng.sample(
                    ("ar", "fa", "so", "ti", "uk") if info.country == "SE" else ("ar", "uk", "pl", "tr"), 2
                )
            )
        elif rng.random() < 0.08:
            langs.append(rng.choice(("ar", "fi", "pl") if info.country == "SE" else ("ar", "pl")))
        return langs

    def _costs(self, info: _ServiceInfo) -> list[dict]:
        rng = self.rng
        currency = "SEK" if info.country == "SE" else "DKK"
        if rng.random() < 0.78:
            return []
        per_time = rng.choice((20, 30, 40, 50) if currency == "SEK" else (15, 20, 25, 30))
        term = rng.choice((300, 400, 500, 650) if currency == "SEK" else (200, 350, 450))
        if rng.random() < 0.5:
            option, amount = ("Per tillfälle" if currency == "SEK" else "Pr. gang"), per_time
        else:
            option, amount = ("Terminsavgift" if currency == "SEK" else "Sæsonkort"), term
        return [
            {
                "hsds_id": self.uid(),
                "service_id": info.id,
                "option": option,
                "amount": float(amount),
                "currency": currency,
                "amount_description": "Fika ingår" if currency == "SEK" else "Kaffe inkluderet",
            }
        ]

    def _schedules(self, info: _ServiceInfo, category: str, template: tuple) -> list[dict]:
        rng, today = self.rng, self.today
        tz = "Europe/Stockholm" if info.country == "SE" else "Europe/Copenhagen"
        base = {
            "hsds_id": self.uid(),
            "service_id": info.id,
            "freq": "WEEKLY",
            "interval": 1,
            "byday": None,
            "bymonthday": None,
            "opens_at": None,
            "closes_at": None,
            "dtstart": None,
            "until": None,
            "count": None,
            "valid_from": None,
            "valid_to": None,
            "timezone": tz,
            "attending_type": "online" if info.attending == "rolling" else info.attending,
            "description": None,
        }
        if info.attending == "rolling":
            base.update(
                freq="DAILY",
                dtstart=today - timedelta(days=rng.randint(100, 400)),
                description="Start när du vill, i din egen takt."
                if info.country == "SE"
                else "Start når du vil, i dit eget tempo.",
            )
            return [base]
        hour = rng.choice((9, 10, 10, 13, 14, 14, 17, 18))
        minutes = rng.choice((60, 90, 90, 120, 120, 180))
        opens = time(hour, rng.choice((0, 0, 30)))
        closes = (datetime.combine(today, opens) + timedelta(minutes=minutes)).time()
        base.update(opens_at=opens, closes_at=closes, dtstart=today - timedelta(days=rng.randint(30, 700)))
        if category in ("diabetes_school", "grief_group") or (
            category == "digital_course" and rng.random() < 0.5
        ):
            start = today + timedelta(days=rng.randint(-40, 40))
            count = 6 if category == "diabetes_school" else 8
            base.update(
                byday=_weekday_code(start),
                dtstart=start,
                count=count,
                until=start + timedelta(weeks=count - 1),
                valid_from=start,
                valid_to=start + timedelta(weeks=count - 1),
            )
            return [base]
        roll = rng.random()
        if roll < 0.16:
            base.update(freq="MONTHLY", byday=rng.choice(("-1FR", "1MO", "2WE", "3TH", "-1SU")))
        elif roll < 0.20:
            base.update(freq="MONTHLY", byday=None, bymonthday=str(rng.choice((1, 10, 15))))
        else:
            base.update(
                byday=rng.choice(("MO", "TU", "WE", "TH", "FR", "TU,TH", "MO,WE", "MO,WE,FR", "SA", "SU")),
                interval=2 if rng.random() < 0.1 else 1,
            )
        if category in ("crafts", "culture", "choir", "language_cafe") and rng.random() < 0.45:
            term_start, term_end = _term(today)
            base.update(valid_from=term_start, valid_to=term_end)
        rows = [base]
        if category in ("exercise", "meeting_place") and rng.random() < 0.2:
            second = dict(
                base,
                hsds_id=self.uid(),
                byday=rng.choice(("SA", "SU")),
                opens_at=time(11),
                closes_at=time(13),
            )
            rows.append(second)
        return rows

    # Users and programmes --------------------------------------------------------------------------

    def users(self) -> None:
        password = hash_password(DEMO_PASSWORD)
        roles = dict(DEMO_ACCOUNTS)
        people = [
            ("demo-connector", roles.get("demo-connector", "connector"), "Sara Lindqvist", "sv", [0], []),
            ("demo-manager", roles.get("demo-manager", "manager"), "Johan Ek", "sv", [0, 1], []),
            (
                "demo-partner",
                roles.get("demo-partner", "partner"),
                "Maria Holm",
                "sv",
                [],
                [self.partner_org_index],
            ),
            ("demo-admin", roles.get("demo-admin", "admin"), "Anders Sjöberg", "en", [], []),
            ("demo-volunteer", roles.get("demo-volunteer", "volunteer"), "Birgitta Nyström", "sv", [], []),
            ("demo-connector-limhamn-2", "connector", "Karin Mårtensson", "sv", [0], []),
        ]
        names = (
            "Emma Bengtsson",
            "Hassan Ali",
            "Lena Håkansson",
            "Oskar Jönsson",
            "Linnea Persson",
            "Viktor Holm",
            "Mette Jensen",
            "Søren Madsen",
            "Ida Kristensen",
            "Mads Poulsen",
        )
        k = 0
        for ci in range(1, len(CENTRES)):
            for n in (1, 2):
                suffix = "" if n == 1 else "-2"
                lang = "sv" if CENTRES[ci][2].startswith("SE") else "da"
                people.append(
                    (f"demo-connector-{CENTRE_SLUGS[ci]}{suffix}", "connector", names[k], lang, [ci], [])
                )
                k += 1
        people.append(("demo-manager-dk", "manager", "Hanne Sørensen", "da", [4, 5], []))
        # A region manager (the four Swedish centres: Compare centres needs at least three) and a
        # municipality partner (Malmö stad, for the partner's view of the gap analysis).
        people.append(("demo-region", "manager", "Eva Lundgren", "sv", [0, 1, 2, 3], []))
        people.append(("demo-municipality", "partner", "Peter Axelsson", "sv", [], [0]))
        rows = [
            {
                "username": username,
                "email": f"{username}@demo.lotsa.example",
                "display_name": display,
                "password_hash": password,
                "role": role,
                "is_active": True,
                "language": lang,
                "failed_attempts": 0,
                "created_at": at(self.start, 8),
                "password_changed_at": at(self.start, 8),
            }
            for username, role, display, lang, _c, _o in people
        ]
        user_ids = _insert(self.s, User, rows)
        self.user_ids = dict(zip([p[0] for p in people], user_ids, strict=True))
        _insert_plain(
            self.s,
            UserCentre,
            [
                {"user_id": uid, "centre_id": self.centre_ids[ci]}
                for uid, person in zip(user_ids, people, strict=True)
                for ci in person[4]
            ],
        )
        _insert_plain(
            self.s,
            UserOrganization,
            [
                {"user_id": uid, "organization_id": self.org_ids[oi]}
                for uid, person in zip(user_ids, people, strict=True)
                for oi in person[5]
            ],
        )
        self.connectors: dict[int, list[int]] = {}
        for uid, (_u, role, _d, _l, centres, _o) in zip(user_ids, people, strict=True):
            if role == "connector":
                for ci in centres:
                    self.connectors.setdefault(ci, []).append(uid)
        self.partner_user = self.user_ids["demo-partner"]
        self.counts["users"] = len(rows)

    def programmes(self) -> None:
        ids = _insert(self.s, Programme, [dict(p) for p in PROGRAMMES])
        self.programme_ids = dict(zip([p["code"] for p in PROGRAMMES], ids, strict=True))

    # Patients ----------------------------------------------------------------------------------------

    def _name(self, country: str, sex: str, foreign: bool = False) -> tuple[str, str]:
        key = "XX" if foreign else country
        return self.rng.choice(FIRST_NAMES[(key, "male" if sex == "male" else "female")]), self.rng.choice(
            LAST_NAMES[key]
        )

    def patients(self) -> None:
        rng, today = self.rng, self.today
        rows, infos, national_ids = [], [], set()
        history_days = (today - self.start).days
        n = 0
        for ci, (muni, _district, _code, _name, _addr, size) in enumerate(CENTRES):
            country = self.place[muni].country
            for _ in range(size):
                n += 1
                roll = rng.random()
                age = (
                    rng.randint(18, 29)
                    if roll < 0.12
                    else rng.randint(30, 59)
                    if roll < 0.25
                    else min(96, round(rng.triangular(60, 90, 74)))
                )
                sex = "female" if rng.random() < 0.58 else ("male" if rng.random() < 0.97 else "other")
                local = "sv" if country == "SE" else "da"
                language = (
                    local
                    if rng.random() < (0.72 if ci == 1 else 0.88)
                    else rng.choice(OTHER_LANGUAGES[country])
                )
                foreign = language not in (local, "en", "fi")
                first, last = self._name(
                    country, sex if sex != "other" else rng.choice(("female", "male")), foreign
                )
                days_ago = int(history_days * (1 - rng.random() ** 0.8))
                baseline = today - timedelta(days=days_ago)
                born = date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))
                if born > baseline - timedelta(days=365 * 18):
                    born = date(born.year - 1, born.month, born.day)
                male = sex == "male" or (sex == "other" and rng.random() < 0.5)
                while True:
                    serial = rng.randrange(0, 2000)
                    nid = (
                        fake_personnummer(born, male, serial)
                        if country == "SE"
                        else fake_cpr(born, male, serial)
                    )
                    if nid not in national_ids:
                        national_ids.add(nid)
                        break
                phone = _phone(rng, country, mobile=True)
                rows.append(
                    {
                        "pseudonym": pseudonym_for(n),
                        "centre_id": self.centre_ids[ci],
                        "identity_hash": identity_hash(nid),
                        "identity_enc": encrypt_identity(
                            {"national_id": nid, "name": f"{first} {last}", "phone": phone}, pseudonym_for(n)
                        ),
                        "birth_year": born.year,
                        "sex": sex,
                        "preferred_language": language,
                        "contact_preference": "phone" if rng.random() < 0.8 else "sms",
                        "what_matters": rng.choice(WHAT_MATTERS[country]),
                        "interests": ",".join(sorted(rng.sample(list(ACTIVITIES), rng.randint(1, 3)))),
                        "created_at": at(baseline, rng.randint(7, 15), rng.choice((0, 15, 30, 45))),
                    }
                )
                infos.append(_PatientInfo(0, ci, country, age, sex, language, baseline))
        for info, pid in zip(infos, _insert(self.s, Patient, rows), strict=True):
            info.id = pid
        self.patient_infos = infos
        self.counts["patients"] = len(infos)

    # Care: screening, enrolment, follow-up, referral ----------------------------------------------

    def _connector(self, ci: int) -> int:
        return self.rng.choice(self.connectors[ci])

    def _needs_for(self, p: _PatientInfo) -> list[str]:
        rng = self.rng
        needs = ["loneliness"] if rng.random() < 0.75 else []
        weights = {
            "physical_activity": 3,
            "mental_wellbeing": 3,
            "language": 6 if p.language not in ("sv", "da", "en", "fi") else 0.2,
            "grief": 2 if p.age >= 60 else 0.5,
            "diabetes": 1.5 if p.age >= 50 else 0.3,
            "heart_health": 1.2 if p.age >= 60 else 0.2,
            "digital_skills": 2 if p.age >= 65 else 0.3,
            "carer_support": 1,
            "meaningful_activity": 3 if p.age < 30 else 1.5,
        }
        extra = rng.choices(list(weights), weights=list(weights.values()), k=rng.randint(1, 2))
        return list(dict.fromkeys(needs + extra))

    def care(self) -> None:
        rng = self.rng
        consent_rows, need_rows, enrol_rows, enrol_meta = [], [], [], []
        for p in self.patient_infos:
            p.needs = self._needs_for(p)
            when = at(p.baseline, 9)
            connector = self._connector(p.centre_index)
            need_rows.extend({"patient_id": p.id, "need": need, "recorded_at": when} for need in p.needs)
            screened_only = rng.random() < 0.1
            consent_rows.append(
                {
                    "patient_id": p.id,
                    "kind": "evaluation",
                    "granted": rng.random() < 0.93,
                    "recorded_at": when,
                    "user_id": connector,
                }
            )
            if screened_only:
                enrol_meta.append((p, None, None, connector))
                continue
            consent_rows.append(
                {
                    "patient_id": p.id,
                    "kind": "referral",
                    "granted": True,
                    "recorded_at": when,
                    "user_id": connector,
                }
            )
            consent_rows.append(
                {
                    "patient_id": p.id,
                    "kind": "share_contact",
                    "granted": rng.random() < 0.86,
                    "recorded_at": when,
                    "user_id": connector,
                }
            )
            se = p.country == "SE"
            if se and 60 <= p.age <= 75 and rng.random() < 0.35:
                code = "samverkansmodell"
            elif rng.random() < 0.1 or (p.age < 30 and rng.random() < 0.3):
                code = "digital_course"
            else:
                code = "social_prescribing"
            enrol_meta.append((p, code, len(enrol_rows), connector))
            enrol_rows.append(
                {
                    "patient_id": p.id,
                    "programme_id": self.programme_ids[code],
                    "centre_id": self.centre_ids[p.centre_index],
                    "enrolled_on": p.baseline,
                    "arm": None,
                    "status": "active",
                }
            )
        # Permuted blocks of four for the randomised programme, in order of enrolment.
        order = sorted(
            (m for m in enrol_meta if m[1] == "samverkansmodell"), key=lambda m: (m[0].baseline, m[0].id)
        )
        arms: dict[int, str] = {}
        block: list[str] = []
        for meta in order:
            if not block:
                block = ["coaching", "coaching", "control", "control"]
                rng.shuffle(block)
            arms[meta[2]] = block.pop()
        for idx, arm in arms.items():
            enrol_rows[idx]["arm"] = arm

        plans = [self._follow_up_plan(m) for m in enrol_meta]
        for meta, plan in zip(enrol_meta, plans, strict=True):
            if meta[1] is not None:
                enrol_rows[meta[2]]["status"] = plan["status"]
        enrol_ids = _insert(self.s, Enrolment, enrol_rows)
        _insert_plain(self.s, PatientConsent, consent_rows)
        _insert_plain(self.s, PatientNeed, need_rows)

        allocations = [
            {
                "programme_id": self.programme_ids["samverkansmodell"],
                "sequence_no": seq,
                "arm": arms[meta[2]],
                "enrolment_id": enrol_ids[meta[2]],
                "allocated_at": at(meta[0].baseline, 10),
                "user_id": meta[3],
            }
            for seq, meta in enumerate(order, start=1)
        ]
        _insert_plain(self.s, ArmAllocation, allocations)

        follow_rows, response_rows, measure_rows, coaching_rows = [], [], [], []
        for meta, plan in zip(enrol_meta, plans, strict=True):
            p, code, idx, connector = meta
            enrol_id = enrol_ids[idx] if code else None
            arm = arms.get(idx) if code else None
            self._responses(p, code, enrol_id, arm, plan, connector, response_rows)
            if code is None:
                continue
            for tp, due, status, done in plan["follow_ups"]:
                follow_rows.append(
                    {
                        "enrolment_id": enrol_id,
                        "patient_id": p.id,
                        "centre_id": self.centre_ids[p.centre_index],
                        "timepoint_months": tp,
                        "due_on": due,
                        "status": status,
                        "completed_on": done,
                    }
                )
            if code == "samverkansmodell":
                measure_rows.extend(self._measures(p, arm, plan))
                if arm == "coaching":
                    coaching_rows.extend(self._coaching(p, connector))
        _insert_plain(self.s, FollowUp, follow_rows)
        _insert_plain(self.s, InstrumentResponse, response_rows)
        _insert_plain(self.s, HealthMeasure, measure_rows)
        _insert_plain(self.s, CoachingContact, coaching_rows)
        self.counts.update(
            enrolments=len(enrol_rows),
            follow_ups=len(follow_rows),
            responses=len(response_rows),
            measures=len(measure_rows),
            coaching=len(coaching_rows),
            allocations=len(allocations),
        )
        self.referrals([m for m in enrol_meta if m[1] is not None])

    def _follow_up_plan(self, meta) -> dict:
        """Which follow-ups are done, overdue, missed or still due, and where the person was lost."""
        rng, today = self.rng, self.today
        p, code, _idx, _connector = meta
        lost_at = None
        roll = rng.random()
        if roll < 0.15:
            lost_at = 1  # lost before the first follow-up
        elif roll < 0.25:
            lost_at = 2
        effect = rng.gauss(0.13, 0.12)
        plan = {
            "follow_ups": [],
            "completed": {},
            "effect": effect,
            "lonely": _clamp(rng.gauss(0.58, 0.2), 0, 1),
        }
        plan["well"] = _clamp(rng.gauss(0.55 - 0.4 * (plan["lonely"] - 0.5), 0.13), 0, 1)
        if code is None:
            plan["lonely"] = _clamp(rng.gauss(0.25, 0.12), 0, 0.45)
            plan["status"] = None
            return plan
        programme = next(pr for pr in PROGRAMMES if pr["code"] == code)
        all_done = True
        for k, tp in enumerate(programme["timepoints"][1:], start=1):
            due = add_months(p.baseline, tp)
            lost = lost_at is not None and k >= lost_at
            done_on = due + timedelta(days=rng.randint(-7, 21))
            if not lost and done_on <= today and due <= today + timedelta(days=7):
                plan["follow_ups"].append(
                    (tp, due, "completed", max(done_on, p.baseline + timedelta(days=1)))
                )
                plan["completed"][tp] = max(done_on, p.baseline + timedelta(days=1))
                continue
            all_done = False
            if due >= today:
                status = "due"
            elif (today - due).days <= MISSED_AFTER_DAYS:
                status = "overdue"
            else:
                status = "missed"
            plan["follow_ups"].append((tp, due, status, None))
        missed = any(s == "missed" for _tp, _due, s, _d in plan["follow_ups"])
        plan["status"] = "completed" if all_done else ("withdrawn" if missed else "active")
        return plan

    def _responses(self, p: _PatientInfo, code, enrol_id, arm, plan, connector, out: list[dict]) -> None:
        rng = self.rng
        instruments = (
            ["ucla3", "swemwbs"]
            if code is None
            else next(pr for pr in PROGRAMMES if pr["code"] == code)["instruments"]
        )
        boost = {"coaching": 1.4, "control": 0.6}.get(arm, 1.0)
        points = [(0, p.baseline), *sorted(plan["completed"].items())]
        for tp, day in points:
            gain = 0.0 if tp == 0 else plan["effect"] * boost * min(1.0, 0.6 + tp / 15)
            lonely = _clamp(plan["lonely"] - gain + rng.gauss(0, 0.05), 0, 1)
            well = _clamp(plan["well"] + 0.8 * gain + rng.gauss(0, 0.05), 0, 1)
            for instrument in instruments:
                answers = answers_for(rng, instrument, lonely, well, p.age)
                out.append(
                    {
                        "patient_id": p.id,
                        "centre_id": self.centre_ids[p.centre_index],
                        "enrolment_id": enrol_id,
                        "instrument": instrument,
                        "administered_on": day,
                        "timepoint_months": tp if enrol_id else None,
                        "answers": answers,
                        **scored_row(instrument, answers),
                        "created_by": connector,
                        "created_at": at(day, rng.randint(7, 15), rng.randint(0, 59)),
                    }
                )

    def _measures(self, p: _PatientInfo, arm: str | None, plan: dict) -> list[dict]:
        rng = self.rng
        male = p.sex == "male"
        systolic, diastolic = rng.gauss(147, 7), rng.gauss(91, 5)
        hba1c, waist = rng.gauss(45, 4), rng.gauss(101 if male else 89, 7)
        weight = waist * (0.88 if male else 0.82) + rng.gauss(0, 5)
        rows = []
        for tp in (0, 6, 12):
            day = p.baseline if tp == 0 else plan["completed"].get(tp)
            if day is None:
                continue
            k = 0 if tp == 0 else (1.0 if arm == "coaching" else 0.35) * (1 if tp == 6 else 1.3)
            rows.append(
                {
                    "patient_id": p.id,
                    "centre_id": self.centre_ids[p.centre_index],
                    "measured_on": day,
                    "systolic": round(systolic - k * rng.gauss(7, 5)),
                    "diastolic": round(diastolic - k * rng.gauss(4, 3)),
                    "hba1c": round(hba1c - k * rng.gauss(2.5, 2), 1),
                    "waist_cm": round(waist - k * rng.gauss(2.5, 2), 1),
                    "weight_kg": round(weight - k * rng.gauss(2, 2), 1),
                }
            )
        return rows

    def _coaching(self, p: _PatientInfo, connector: int) -> list[dict]:
        rng, rows = self.rng, []
        day = p.baseline
        for _ in range(rng.randint(3, 6)):
            if day > self.today:
                break
            mode = rng.choices(("visit", "phone", "video"), weights=(5, 4, 1.5))[0]
            rows.append(
                {
                    "patient_id": p.id,
                    "centre_id": self.centre_ids[p.centre_index],
                    "contact_on": day,
                    "mode": mode,
                    "minutes": rng.choice((30, 45, 60)) if mode == "visit" else rng.choice((15, 20, 30)),
                    "notes": None,
                    "user_id": connector,
                }
            )
            day += timedelta(days=rng.randint(21, 45))
        return rows

    def _pick_service(self, p: _PatientInfo, need: str) -> _ServiceInfo | None:
        muni = CENTRES[p.centre_index][0]
        categories = NEEDS[need]
        candidates, weights = [], []
        for s in self.services:
            if not s.active or s.category not in categories:
                continue
            online = s.attending in ("online", "rolling")
            if s.municipality != muni and not (online and s.country == p.country):
                continue
            candidates.append(s)
            weights.append(2.5 if s.org_index == self.partner_org_index else 1.0)
        return self.rng.choices(candidates, weights=weights)[0] if candidates else None

    def referrals(self, enrolled: list) -> None:
        rng = self.rng
        ref_rows, histories = [], []
        for p, _code, _idx, connector in enrolled:
            count = rng.choices((0, 1, 2), weights=(12, 65, 23))[0]
            for need in p.needs[:count]:
                service = self._pick_service(p, need)
                if service is None:
                    continue
                created = min(self.today, p.baseline + timedelta(days=rng.randint(0, 10)))
                start = at(created, rng.randint(7, 15), rng.randint(0, 59))
                events = self._history(start, service, connector)
                status, reason, last_at = events[-1]["status"], events[-1]["reason"], events[-1]["at"]
                method = rng.choices(("phone", "in_person", "email", None), weights=(5, 3, 2, 1.5))[0]
                ref_rows.append(
                    {
                        "patient_id": p.id,
                        "centre_id": self.centre_ids[p.centre_index],
                        "service_id": service.id,
                        "need": need,
                        "status": status,
                        "outcome_reason": reason,
                        "handover_method": method,
                        "handover_at": start + timedelta(minutes=rng.randint(5, 90)) if method else None,
                        "created_on": created,
                        "updated_at": last_at,
                        "created_by": connector,
                        "idempotency_key": None,
                    }
                )
                histories.append(events)
        ids = _insert(self.s, Referral, ref_rows)
        _insert_plain(
            self.s,
            ReferralEvent,
            [dict(e, referral_id=rid) for rid, events in zip(ids, histories, strict=True) for e in events],
        )
        self.counts.update(referrals=len(ref_rows), referral_events=sum(len(h) for h in histories))

    def _history(self, start: datetime, service: _ServiceInfo, connector: int) -> list[dict]:
        rng = self.rng
        weights = [w for w, _path, _reason in REFERRAL_PATHS]
        _w, path, reason = rng.choices(REFERRAL_PATHS, weights=weights)[0]
        partner = self.partner_user if service.org_index == self.partner_org_index else None
        events = [{"status": "requested", "reason": None, "note": None, "at": start, "user_id": connector}]
        when = start
        for status in path[1:]:
            low, high = STEP_DAYS[status]
            when = when + timedelta(days=rng.randint(low, high), hours=rng.randint(0, 6))
            if when > self.now:
                break
            final = status == path[-1]
            events.append(
                {
                    "status": status,
                    "reason": reason if final and reason else None,
                    "note": _event_note(rng, status, service.country),
                    "at": when,
                    "user_id": connector if status in ("cancelled",) else partner,
                }
            )
        return events

    # Gaps and signposting ------------------------------------------------------------------------

    def gaps(self) -> None:
        rng, today = self.rng, self.today
        unmet = []
        hot = (  # (centre index, need, days, time of day, age group, sex, weight)
            (1, "grief", None, "afternoon", "65-79", "female", 5),
            (0, "loneliness", "SA,SU", "afternoon", "80+", None, 5),
            (2, "meaningful_activity", None, "evening", "18-29", None, 4),
            (4, "physical_activity", None, "evening", "30-64", "male", 3),
            (3, "digital_skills", None, "morning", "80+", None, 2),
            (5, "carer_support", "SA,SU", None, "65-79", None, 3),
        )
        for _ in range(90):
            ci, need, days, tod, age, sex, _w = rng.choices(hot, weights=[h[-1] for h in hot])[0]
            if rng.random() < 0.35:
                ci = rng.randrange(len(CENTRES))
                need = rng.choice(list(NEEDS))
            muni, district = CENTRES[ci][0], CENTRES[ci][1]
            unmet.append(
                {
                    "centre_id": self.centre_ids[ci],
                    "municipality_id": self.municipality_ids[muni],
                    "need": need,
                    "area": district,
                    "days": days,
                    "time_of_day": tod,
                    "age_group": age,
                    "sex": sex,
                    "recorded_on": today - timedelta(days=rng.randint(0, 540)),
                    "user_id": self._connector(ci),
                }
            )
        _insert_plain(self.s, UnmetNeed, unmet)
        signposts = []
        for _ in range(180):
            muni = rng.choice(PLACES).code
            need = rng.choice(list(NEEDS))
            matches = [
                s.id
                for s in self.services
                if s.active and s.municipality == muni and s.category in NEEDS[need]
            ]
            signposts.append(
                {
                    "logged_on": today - timedelta(days=rng.randint(0, 365)),
                    "setting": rng.choice(SIGNPOST_SETTINGS),
                    "need": need,
                    "service_id": rng.choice(matches) if matches and rng.random() < 0.75 else None,
                    "passed_to_connector": rng.random() < 0.2,
                    "municipality_id": self.municipality_ids[muni],
                    "user_id": None,
                }
            )
        _insert_plain(self.s, Signposting, signposts)
        self.counts.update(unmet_needs=len(unmet), signposts=len(signposts))


def _org_description(kind: str, country: str) -> str:
    sv = {
        "municipality": "Kommunens verksamhet för mötesplatser, fritid och stöd.",
        "study_association": "Studieförbund med cirklar, kurser och kultur för alla åldrar.",
        "church": "Församling med öppna verksamheter för alla, oavsett tro.",
        "ngo": "Ideell förening som drivs av medlemmar och volontärer.",
        "patient_association": "Patientförening med stöd, kunskap och gemenskap.",
        "sports_club": "Idrottsförening med motion för alla nivåer.",
    }
    da = {
        "municipality": "Kommunens tilbud om mødesteder, fritid og støtte.",
        "study_association": "Aftenskole med hold, kurser og kultur for alle aldre.",
        "church": "Sogn med åbne aktiviteter for alle, uanset tro.",
        "ngo": "Frivillig forening drevet af medlemmer og frivillige.",
        "patient_association": "Patientforening med støtte, viden og fællesskab.",
        "sports_club": "Idrætsforening med motion på alle niveauer.",
    }
    return (sv if country == "SE" else da)[kind]


def _eligibility(groups: set[str], country: str) -> str | None:
    sv = {
        "seniors": "För dig som är 60 år eller äldre.",
        "young_adults": "För dig mellan 18 och 30 år.",
        "diabetes": "För dig med typ 2-diabetes.",
        "carers": "För dig som är anhörig.",
        "grief": "För dig som mist en närstående.",
    }
    da = {
        "seniors": "For dig på 60 år eller derover.",
        "young_adults": "For dig mellem 18 og 30 år.",
        "diabetes": "For dig med type 2-diabetes.",
        "carers": "For dig, der er pårørende.",
        "grief": "For dig, der har mistet en nærtstående.",
    }
    texts = sv if country == "SE" else da
    return next(
        (texts[g] for g in ("young_adults", "diabetes", "grief", "carers", "seniors") if g in groups), None
    )


def _event_note(rng: random.Random, status: str, country: str) -> str | None:
    notes = {
        "SE": {
            "accepted": ("Kontaktperson har ringt och bokat första träff.", "Välkommen på torsdag."),
            "completed": ("Deltar regelbundet.", "Har hittat en grupp som passar."),
            "failed": ("Ringt tre gånger utan svar.", "Fick inte plats på tider som passade."),
            "cancelled": ("Vill vänta till efter sommaren.", "Har fått plats i annan verksamhet."),
        },
        "DK": {
            "accepted": ("Kontaktpersonen har ringet og aftalt første møde.", "Velkommen på torsdag."),
            "completed": ("Deltager fast.", "Har fundet et hold, der passer."),
            "failed": ("Ringet tre gange uden svar.", "Kunne ikke finde et tidspunkt, der passede."),
            "cancelled": ("Vil vente til efter sommeren.", "Har fået plads i et andet tilbud."),
        },
    }
    options = notes[country].get(status)
    return rng.choice(options) if options and rng.random() < 0.5 else None


def _postal(rng: random.Random, district: District, country: str) -> str:
    if country == "DK":
        return district.postal
    return f"{district.postal} {rng.randint(10, 69):02d}"


def _phone(rng: random.Random, country: str, *, mobile: bool = False) -> str:
    if country == "SE":
        # PTS reserves 070-1740605 to 070-1740699 for fiction; landlines get a plausible local form.
        if mobile:
            return f"070-174 06 {rng.randint(5, 99):02d}"
        return f"040-{rng.randint(600, 699)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
    return f"+45 {rng.randint(20, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"


def _weekday_code(day: date) -> str:
    return ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[day.weekday()]


def _term(today: date) -> tuple[date, date]:
    """The current (or next) study term: spring 20 Jan - 31 May, autumn 25 Aug - 15 Dec."""
    year = today.year
    spring = (date(year, 1, 20), date(year, 5, 31))
    autumn = (date(year, 8, 25), date(year, 12, 15))
    if today <= spring[1]:
        return spring
    if today <= autumn[1]:
        return autumn
    return date(year + 1, 1, 20), date(year + 1, 5, 31)


def seed_demo(url: str | None = None, *, today: date | None = None) -> bool:
    """Seed the demo region on an empty database; False (and nothing written) if it has centres."""
    today = today or date.today()
    with write_session(url) as session:
        if session.get_bind().dialect.name == "postgresql":
            # Two replicas starting at once: the second waits here, then finds the data.
            session.execute(text("SELECT pg_advisory_xact_lock(72016501)"))
        if session.exec(select(HealthCentre.id).limit(1)).first() is not None:
            return False
        # The paired outcomes are built once at the end, not by a trigger per answer (11.6 s against
        # 2.8 s); in the same transaction, so an error leaves the triggers as they were.
        connection = session.connection()
        pairs = inspect(connection).has_table("outcome_pair")  # not before migration 0015
        if pairs:
            outcome_pairs.drop_triggers(connection)
        _DemoSeeder(session, today).run()
        session.flush()
        if pairs:
            outcome_pairs.install(connection)
    return True
