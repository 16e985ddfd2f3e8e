"""Synthetic benchmark data at the scales of REFERENCE.md: clinic, region and national.

`generate(size)` fills an empty, migrated database with made-up centres, activities, patients,
screenings, follow-ups and referrals, using the driver's fastest bulk path (executemany on SQLite,
COPY on Postgres), one transaction per chunk. Identities are encrypted per patient like real ones;
answers and scores come from a pool pre-scored with `domain.instruments`.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.engine import Connection

from db import outcome_pairs
from db.demo import (
    ACTIVITIES,
    CONTACT_TITLES,
    FIRST_NAMES,
    LAST_NAMES,
    MISSED_AFTER_DAYS,
    NEEDS,
    PROGRAMMES,
    REFERRAL_PATHS,
    SIGNPOST_SETTINGS,
    STEP_DAYS,
    TAXONOMY,
    add_months,
    answers_for,
    fake_cpr,
    fake_personnummer,
    jitter_km,
    pseudonym_for,
    rng_uuid,
    scored_row,
)
from db.engine import get_engine, is_sqlite
from domain.security import encrypt_identity, identity_hash
from settings import get_settings

Progress = Callable[[str, int, int], None]
"""progress(phase, done, total), called after each committed chunk."""


@dataclass(frozen=True)
class Size:
    municipalities: int
    centres: int
    activities: int
    patients: int
    dk_centre_share: float = 0.0


# About five screenings (instrument responses) per patient and one referral per three patients.
SIZES: dict[str, Size] = {
    "clinic": Size(municipalities=1, centres=1, activities=400, patients=1_030),
    "region": Size(municipalities=26, centres=220, activities=10_000, patients=255_000),
    "national": Size(
        municipalities=388, centres=3_200, activities=150_000, patients=1_710_000, dk_centre_share=0.62
    ),
}
SEED = 4242
PATIENT_CHUNK = 20_000
SERVICE_CHUNK = 20_000
REFERRED_SHARE = 0.42

# Region Stockholm's 26 municipalities (code, name, latitude, longitude), for clinic and region.
STOCKHOLM: tuple[tuple[str, str, float, float], ...] = (
    ("0180", "Stockholm", 59.329, 18.069), ("0114", "Upplands Väsby", 59.518, 17.911),
    ("0115", "Vallentuna", 59.534, 18.078), ("0117", "Österåker", 59.479, 18.299),
    ("0120", "Värmdö", 59.326, 18.389), ("0123", "Järfälla", 59.423, 17.835),
    ("0125", "Ekerö", 59.290, 17.812), ("0126", "Huddinge", 59.237, 17.982),
    ("0127", "Botkyrka", 59.200, 17.833), ("0128", "Salem", 59.205, 17.768),
    ("0136", "Haninge", 59.168, 18.137), ("0138", "Tyresö", 59.244, 18.229),
    ("0139", "Upplands-Bro", 59.478, 17.752), ("0140", "Nykvarn", 59.178, 17.430),
    ("0160", "Täby", 59.444, 18.069), ("0162", "Danderyd", 59.400, 18.033),
    ("0163", "Sollentuna", 59.428, 17.951), ("0181", "Södertälje", 59.196, 17.626),
    ("0182", "Nacka", 59.310, 18.164), ("0183", "Sundbyberg", 59.361, 17.972),
    ("0184", "Solna", 59.360, 18.000), ("0186", "Lidingö", 59.367, 18.133),
    ("0187", "Vaxholm", 59.402, 18.351), ("0188", "Norrtälje", 59.758, 18.705),
    ("0191", "Sigtuna", 59.622, 17.855), ("0192", "Nynäshamn", 58.903, 17.948),
)  # fmt: skip
# National size: made-up municipalities around each region's centre.
SE_REGIONS: tuple[tuple[str, float, float], ...] = (
    ("Region Stockholm", 59.33, 18.07), ("Region Uppsala", 59.86, 17.64),
    ("Region Sörmland", 59.37, 16.51), ("Region Östergötland", 58.41, 15.62),
    ("Region Jönköpings län", 57.78, 14.16), ("Region Kronoberg", 56.88, 14.81),
    ("Region Kalmar län", 56.66, 16.36), ("Region Gotland", 57.64, 18.30),
    ("Region Blekinge", 56.16, 15.59), ("Region Skåne", 55.60, 13.00),
    ("Region Halland", 56.67, 12.86), ("Västra Götalandsregionen", 57.71, 11.97),
    ("Region Värmland", 59.38, 13.50), ("Region Örebro län", 59.27, 15.21),
    ("Region Västmanland", 59.61, 16.55), ("Region Dalarna", 60.61, 15.63),
    ("Region Gävleborg", 60.67, 17.14), ("Region Västernorrland", 62.39, 17.31),
    ("Region Jämtland Härjedalen", 63.18, 14.64), ("Region Västerbotten", 63.83, 20.26),
    ("Region Norrbotten", 65.58, 22.15),
)  # fmt: skip
DK_REGIONS: tuple[tuple[str, float, float], ...] = (
    ("Region Hovedstaden", 55.68, 12.57), ("Region Sjælland", 55.46, 11.79),
    ("Region Syddanmark", 55.40, 10.39), ("Region Midtjylland", 56.16, 10.20),
    ("Region Nordjylland", 57.05, 9.92),
)  # fmt: skip
NAME_PARTS = {
    "SE": (
        ("Ek", "Björk", "Gran", "Sjö", "Berg", "Lind", "Al", "Ås", "Hög", "Norr", "Sö", "Väst", "Öst", "Ny",
         "Fors", "Mal", "Hag", "Sand", "Sten", "Ro"),
        ("by", "köping", "hult", "torp", "vik", "sund", "holm", "ås", "stad", "berga", "näs", "fors", "mo",
         "ryd", "lunda"),
    ),
    "DK": (
        ("Eg", "Bøg", "Hvid", "Sønder", "Nør", "Vester", "Øster", "Holm", "Stor", "Lille", "Ny", "Kirke",
         "Sand", "Lyng", "Skov", "Hede"),
        ("by", "rup", "strup", "sted", "havn", "løse", "bjerg", "lev", "holt", "bæk", "skov", "dal"),
    ),
}  # fmt: skip
CENTRE_PREFIX = {
    "SE": ("Vårdcentralen", "Hälsocentralen", "Husläkarmottagningen"),
    "DK": ("Lægehuset", "Lægerne", "Sundhedscenter"),
}
ORG_KINDS = (
    "municipality",
    "study_association",
    "church",
    "ngo",
    "ngo",
    "patient_association",
    "sports_club",
)

# Columns of every table loaded, in the order of the row tuples below.
COLUMNS: dict[str, tuple[str, ...]] = {
    "municipality": ("id", "code", "name", "country", "region_name", "latitude", "longitude"),
    "health_centre": ("id", "code", "name", "municipality_id", "address", "latitude", "longitude", "active"),
    "taxonomy_term": ("id", "hsds_id", "taxonomy", "code", "name_sv", "name_da", "name_en"),
    "programme": ("id", "code", "name_sv", "name_da", "name_en", "timepoints", "instruments", "with_measures",
                  "arms", "cost_per_participant"),
    "organization": ("id", "hsds_id", "name", "description", "email", "kind", "municipality_id"),
    "service": ("id", "hsds_id", "organization_id", "name", "description", "status", "attending_type",
                "is_free", "rolling_start", "approval_status", "assured_date", "municipality_id",
                "created_at", "updated_at", "url"),
    "location": ("id", "hsds_id", "organization_id", "location_type", "name", "latitude", "longitude",
                 "municipality_id", "url"),
    "address": ("id", "hsds_id", "location_id", "address_1", "city", "region", "state_province",
                "postal_code", "country", "address_type"),
    "service_at_location": ("id", "hsds_id", "service_id", "location_id"),
    "contact": ("id", "hsds_id", "service_id", "organization_id", "name", "title", "email"),
    "phone": ("id", "hsds_id", "contact_id", "service_id", "number", "type"),
    "schedule": ("id", "hsds_id", "service_id", "freq", "interval", "byday", "opens_at", "closes_at",
                 "dtstart", "timezone", "attending_type"),
    "attribute": ("id", "hsds_id", "service_id", "taxonomy_term_id"),
    "cost_option": ("id", "hsds_id", "service_id", "option", "amount", "currency"),
    "service_capacity": ("id", "hsds_id", "service_id", "available", "maximum", "unit", "updated"),
    "service_area": ("id", "hsds_id", "service_id", "name", "municipality_id"),
    "patient": ("id", "pseudonym", "centre_id", "identity_hash", "identity_enc", "birth_year", "sex",
                "preferred_language", "contact_preference", "created_at"),
    "patient_consent": ("id", "patient_id", "kind", "granted", "recorded_at"),
    "patient_need": ("id", "patient_id", "need", "recorded_at"),
    "enrolment": ("id", "patient_id", "programme_id", "centre_id", "enrolled_on", "arm", "status"),
    "arm_allocation": ("id", "programme_id", "sequence_no", "arm", "enrolment_id", "allocated_at"),
    "follow_up": ("id", "enrolment_id", "patient_id", "centre_id", "timepoint_months", "due_on", "status",
                  "completed_on"),
    "instrument_response": ("id", "patient_id", "centre_id", "enrolment_id", "instrument", "administered_on",
                            "timepoint_months", "answers", "total", "score", "band", "subscales", "flags",
                            "created_at"),
    "referral": ("id", "patient_id", "centre_id", "service_id", "need", "status", "outcome_reason",
                 "created_on", "updated_at"),
    "referral_event": ("id", "referral_id", "status", "reason", "at"),
    "health_measure": ("id", "patient_id", "centre_id", "measured_on", "systolic", "diastolic", "hba1c",
                       "waist_cm", "weight_kg"),
    "coaching_contact": ("id", "patient_id", "centre_id", "contact_on", "mode", "minutes"),
    "unmet_need": ("id", "centre_id", "municipality_id", "need", "area", "days", "time_of_day", "age_group",
                   "recorded_on"),
    "signposting": ("id", "logged_on", "setting", "need", "passed_to_connector", "municipality_id"),
}  # fmt: skip
_MUST_BE_EMPTY = ("municipality", "health_centre", "organization", "service", "patient", "programme")


class SyntheticDataError(RuntimeError):
    pass


class _Loader:
    """Bulk rows into tables with the driver's fastest path, handing out ids itself.

    Values are already in wire form: dates as ISO strings, datetimes via `ts`, JSON as strings.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self.rows: Counter[str] = Counter()
        self.next_id: dict[str, int] = {}

    def start_ids(self) -> None:
        for table in COLUMNS:
            last = self.conn.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {table}").scalar()
            self.next_id[table] = int(last) + 1

    def ids(self, table: str, n: int) -> range:
        first = self.next_id[table]
        self.next_id[table] = first + n
        return range(first, first + n)

    def ts(self, moment: datetime) -> str:
        """A UTC timestamp as SQLAlchemy stores it on SQLite, or with its offset for Postgres."""
        stamp = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return stamp if self.sqlite else stamp + "+00"

    def load(self, table: str, rows: list[tuple], *, new_ids: bool = False) -> None:
        """Insert rows (tuples in COLUMNS order); new_ids prepends fresh ids to rows without one."""
        if not rows:
            return
        if new_ids:
            rows = [(i, *row) for i, row in zip(self.ids(table, len(rows)), rows, strict=True)]
        columns = ", ".join(f'"{c}"' for c in COLUMNS[table])
        driver = self.conn.connection.driver_connection
        if self.sqlite:
            marks = ", ".join("?" * len(COLUMNS[table]))
            driver.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
        else:
            with driver.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        self.rows[table] += len(rows)

    def finish(self) -> None:
        """Postgres: move each id sequence past the ids handed out here."""
        if self.sqlite:
            return
        for table in COLUMNS:
            if self.rows[table]:
                self.conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                )


@dataclass
class _Muni:
    id: int
    code: str
    name: str
    country: str
    region: str
    lat: float
    lon: float


@dataclass
class _Centre:
    id: int
    muni: _Muni
    patients: int


class _Generator:
    def __init__(self, size: Size, today: date, loader: _Loader) -> None:
        self.size = size
        self.today = today
        self.now = datetime.combine(today, time(12), tzinfo=UTC)
        self.start = today - timedelta(days=548)
        self.rng = random.Random(SEED)
        self.ids_rng = random.Random(SEED + 1)
        self.out = loader
        self._iso: dict[int, str] = {}
        self._ts: dict[tuple[int, int], str] = {}
        self._born: Counter[tuple[str, int, bool]] = Counter()
        self.sequence_no = 0

    def iso(self, day: date) -> str:
        key = day.toordinal()
        value = self._iso.get(key)
        if value is None:
            value = self._iso[key] = day.isoformat()
        return value

    def ts(self, day: date, hour: int) -> str:
        key = (day.toordinal(), hour)
        value = self._ts.get(key)
        if value is None:
            value = self._ts[key] = self.out.ts(datetime.combine(day, time(hour), tzinfo=UTC))
        return value

    def uid(self) -> str:
        return rng_uuid(self.ids_rng)

    # Places and vocabulary ------------------------------------------------------------------------

    def places(self) -> None:
        rng, size = self.rng, self.size
        specs: list[tuple[str, str, str, str, float, float]] = []
        if size.municipalities <= len(STOCKHOLM):
            specs = [
                (c, n, "SE", "Region Stockholm", lat, lon)
                for c, n, lat, lon in STOCKHOLM[: size.municipalities]
            ]
        else:
            n_dk = round(size.municipalities * 98 / 388)
            for country, count, regions in (
                ("SE", size.municipalities - n_dk, SE_REGIONS),
                ("DK", n_dk, DK_REGIONS),
            ):
                heads, tails = NAME_PARTS[country]
                for k, name in enumerate(rng.sample([a + b for a in heads for b in tails], count)):
                    region, lat, lon = regions[k % len(regions)]
                    lat, lon = jitter_km(rng, lat, lon, 35, 120)
                    code = (
                        f"{k % len(regions) + 1:02d}{k // len(regions):02d}"
                        if country == "SE"
                        else f"DK{k + 101}"
                    )
                    specs.append((code, name, country, region, lat, lon))
        self.munis = [
            _Muni(i, *spec) for i, spec in zip(self.out.ids("municipality", len(specs)), specs, strict=True)
        ]
        self.out.load(
            "municipality", [(m.id, m.code, m.name, m.country, m.region, m.lat, m.lon) for m in self.munis]
        )

        weight = {m.id: rng.lognormvariate(0, 0.9) * (12 if m.name == "Stockholm" else 1) for m in self.munis}
        n_dk = round(size.centres * size.dk_centre_share)
        owners = [
            *self._spread([m for m in self.munis if m.country == "SE"], weight, size.centres - n_dk),
            *self._spread([m for m in self.munis if m.country == "DK"], weight, n_dk),
        ]
        centre_weight = [rng.lognormvariate(0, 0.5) for _ in owners]
        scale = size.patients / sum(centre_weight)
        ids = self.out.ids("health_centre", len(owners))
        self.centres = [
            _Centre(i, m, max(5, round(w * scale)))
            for i, m, w in zip(ids, owners, centre_weight, strict=True)
        ]
        rows = []
        for c in self.centres:
            lat, lon = jitter_km(rng, c.muni.lat, c.muni.lon, 3, 12)
            name = f"{rng.choice(CENTRE_PREFIX[c.muni.country])} {c.muni.name} {c.id}"
            rows.append(
                (c.id, f"SYN-{c.id:05d}", name, c.muni.id, f"Vårdvägen {c.id % 90 + 1}", lat, lon, True)
            )
        self.out.load("health_centre", rows)

    def _spread(self, munis: list[_Muni], weight: dict[int, float], n: int) -> list[_Muni]:
        """n centre owners: each municipality one (while n allows), the rest by weight."""
        if not munis or n <= 0:
            return []
        owners = munis[:n]
        if n > len(owners):
            owners += self.rng.choices(munis, weights=[weight[m.id] for m in munis], k=n - len(owners))
        return owners

    def vocabulary(self) -> None:
        self.term_ids: dict[tuple[str, str], int] = {}
        rows = []
        for taxonomy, terms in TAXONOMY.items():
            for (code, sv, da, en), tid in zip(terms, self.out.ids("taxonomy_term", len(terms)), strict=True):
                self.term_ids[(taxonomy, code)] = tid
                rows.append((tid, self.uid(), taxonomy, code, sv, da, en))
        self.out.load("taxonomy_term", rows)
        ids = self.out.ids("programme", len(PROGRAMMES))
        self.programme_ids = {p["code"]: pid for p, pid in zip(PROGRAMMES, ids, strict=True)}
        self.out.load(
            "programme",
            [
                (pid, p["code"], p["name_sv"], p["name_da"], p["name_en"], json.dumps(p["timepoints"]),
                 json.dumps(p["instruments"]), p["with_measures"], json.dumps(p["arms"]),
                 p["cost_per_participant"])
                for p, pid in zip(PROGRAMMES, ids, strict=True)
            ],
        )  # fmt: skip

    # Directory ------------------------------------------------------------------------------------

    def directory_chunks(self) -> list[int]:
        """Activities per chunk; activities go where the centres are."""
        centres_in = Counter(c.muni.id for c in self.centres)
        self.service_munis = [m for m in self.munis if centres_in[m.id]]
        self.service_weights = [centres_in[m.id] for m in self.service_munis]
        self.local_services: dict[tuple[int, str], list[int]] = {}
        self.online_services: dict[tuple[str, str], list[int]] = {}
        total = self.size.activities
        return [min(SERVICE_CHUNK, total - done) for done in range(0, total, SERVICE_CHUNK)]

    def directory(self, n: int) -> None:
        """n activities with their organisations, places, contacts, schedules and attributes."""
        rng, today, out, uid = self.rng, self.today, self.out, self.uid
        n_orgs = max(1, n // 4)
        org_ids = out.ids("organization", n_orgs)
        org_munis = rng.choices(self.service_munis, weights=self.service_weights, k=n_orgs)
        orgs = []
        for oid, m in zip(org_ids, org_munis, strict=True):
            kind = rng.choice(ORG_KINDS)
            orgs.append((oid, uid(), f"{kind.replace('_', ' ').capitalize()} {m.name} {oid}", "",
                         f"info@org{oid}.example", kind, m.id))  # fmt: skip
        out.load("organization", orgs)
        services, locations, addresses, links, contacts, phones = [], [], [], [], [], []
        schedules, attributes, costs, capacities, areas = [], [], [], [], []
        term = self.term_ids
        categories = list(ACTIVITIES)
        for k, sid in enumerate(out.ids("service", n)):
            org, m = org_ids[k % n_orgs], org_munis[k % n_orgs]
            country = m.country
            category = rng.choice(categories)
            name_sv, name_da, desc_sv, desc_da, attending, targets = rng.choice(ACTIVITIES[category])
            online = attending in ("online", "rolling") or rng.random() < 0.06
            status = "inactive" if rng.random() < 0.03 else "active"
            approval = "pending" if rng.random() < 0.03 else "approved"
            free = rng.random() < 0.78
            assured = today - timedelta(
                days=rng.randint(0, 89) if rng.random() < 0.72 else rng.randint(90, 200)
            )
            name = (name_sv if country == "SE" else name_da).replace("{area}", m.name)
            services.append(
                (sid, uid(), org, name, desc_sv if country == "SE" else desc_da, status,
                 "online" if online else attending, free, attending == "rolling", approval, self.iso(assured),
                 m.id, self.ts(today - timedelta(days=rng.randint(200, 900)), 9), self.ts(assured, 10),
                 f"https://org{org}.example/{sid}" if online else None)
            )  # fmt: skip
            (lid,) = out.ids("location", 1)
            if online:
                locations.append((lid, uid(), org, "virtual", "Online", None, None, None,
                                  f"https://org{org}.example/online/{sid}"))  # fmt: skip
            else:
                lat, lon = jitter_km(rng, m.lat, m.lon, 2.5, 8)
                locations.append((lid, uid(), org, "physical", m.name, lat, lon, m.id, None))
                postal = (
                    f"{rng.randint(100, 999)} {rng.randint(10, 99)}"
                    if country == "SE"
                    else str(rng.randint(1000, 9990))
                )
                addresses.append((uid(), lid, f"Storgatan {rng.randint(1, 99)}", m.name, m.region, "", postal,
                                  country, "physical"))  # fmt: skip
            links.append((uid(), sid, lid))
            if status == "active" and approval == "approved":
                if online:
                    self.online_services.setdefault((country, category), []).append(sid)
                else:
                    self.local_services.setdefault((m.id, category), []).append(sid)
            sex = "female" if rng.random() < 0.6 else "male"
            (cid,) = out.ids("contact", 1)
            person = f"{rng.choice(FIRST_NAMES[(country, sex)])} {rng.choice(LAST_NAMES[country])}"
            title = rng.choice(CONTACT_TITLES[country])
            contacts.append((cid, uid(), sid, org, person, title, f"kontakt{cid}@org{org}.example"))
            number = f"+{46 if country == 'SE' else 45} {rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(10, 99)} 00"  # noqa: E501
            phones.append((uid(), cid, sid, number, "voice"))
            schedules.append(self._schedule(sid, country, attending))
            attributes.append((uid(), sid, term[("category", category)]))
            attributes.append((uid(), sid, term[("language", "sv" if country == "SE" else "da")]))
            if targets:
                attributes.append((uid(), sid, term[("target_group", targets[0])]))
            if not online and rng.random() < 0.55:
                attributes.append((uid(), sid, term[("accessibility", "wheelchair")]))
            if not free:
                option, currency = ("Per tillfälle", "SEK") if country == "SE" else ("Pr. gang", "DKK")
                costs.append((uid(), sid, option, float(rng.choice((20, 40, 50))), currency))
            if attending != "rolling":
                maximum = rng.choice((10, 12, 15, 20, 30))
                capacities.append((uid(), sid, rng.randint(0, maximum // 2), maximum, "places",
                                   self.ts(today - timedelta(days=rng.randint(0, 60)), 11)))  # fmt: skip
            areas.append((uid(), sid, m.region if online else m.name, None if online else m.id))
        out.load("service", services)
        out.load("location", locations)
        out.load("address", addresses, new_ids=True)
        out.load("service_at_location", links, new_ids=True)
        out.load("contact", contacts)
        out.load("phone", phones, new_ids=True)
        out.load("schedule", schedules, new_ids=True)
        out.load("attribute", attributes, new_ids=True)
        out.load("cost_option", costs, new_ids=True)
        out.load("service_capacity", capacities, new_ids=True)
        out.load("service_area", areas, new_ids=True)

    def _schedule(self, service_id: int, country: str, attending: str) -> tuple:
        rng = self.rng
        tz = "Europe/Stockholm" if country == "SE" else "Europe/Copenhagen"
        if attending == "rolling":
            return (self.uid(), service_id, "DAILY", 1, None, None, None, None, tz, "online")
        hour = rng.choice((9, 10, 13, 14, 18))
        if rng.random() < 0.15:
            freq, byday = "MONTHLY", rng.choice(("-1FR", "1MO", "2WE"))
        else:
            freq, byday = "WEEKLY", rng.choice(("MO", "TU", "WE", "TH", "FR", "TU,TH", "MO,WE"))
        start = self.iso(self.today - timedelta(days=rng.randint(30, 700)))
        return (self.uid(), service_id, freq, 1, byday, f"{hour:02d}:00:00.000000",
                f"{hour + 2:02d}:00:00.000000", start, tz, attending)  # fmt: skip

    # Patients and their care ----------------------------------------------------------------------

    def build_pools(self) -> None:
        """Pre-scored answer sets per instrument and latent level (0..20), in wire form."""
        pool_rng = random.Random(SEED + 2)
        self.pools: dict[str, list[list[tuple]]] = {}
        for instrument in ("ucla3", "swemwbs", "ons4", "eq5d5l"):
            levels = []
            for level in range(21):
                latent = level / 20
                options = []
                for _ in range(6):
                    lonely, well = (latent, 0.5) if instrument == "ucla3" else (0.5, latent)
                    answers = answers_for(pool_rng, instrument, lonely, well, 70)
                    s = scored_row(instrument, answers)
                    options.append((json.dumps(answers), s["total"], s["score"], s["band"],
                                    json.dumps(s["subscales"]), s["flags"]))  # fmt: skip
                levels.append(options)
            self.pools[instrument] = levels

    def patient_chunks(self) -> list[list[_Centre]]:
        """Centres grouped so that each group holds about PATIENT_CHUNK patients."""
        chunks: list[list[_Centre]] = [[]]
        in_chunk = 0
        for centre in self.centres:
            if in_chunk >= PATIENT_CHUNK:
                chunks.append([])
                in_chunk = 0
            chunks[-1].append(centre)
            in_chunk += centre.patients
        return chunks

    def _birth(self, country: str, age: int, male: bool) -> tuple[date, str]:
        """A birth date and national id, unique by construction: a bijection of a per-year counter."""
        year = self.today.year - age
        key = (country, year, male)
        n = self._born[key]
        self._born[key] += 1
        per_day = 500 if country == "SE" or year >= 2000 else 2000
        if n >= 365 * per_day:
            raise SyntheticDataError(f"too many synthetic people born in {year}")
        value = ((n + 7_919) * 100_003) % (365 * per_day)
        born = date(year, 1, 1) + timedelta(days=value // per_day)
        serial = value % per_day
        return born, (
            fake_personnummer(born, male, serial) if country == "SE" else fake_cpr(born, male, serial)
        )

    def patients(self, centres: list[_Centre]) -> None:
        """The patients of these centres with their screenings, follow-ups and referrals."""
        rng, today, out = self.rng, self.today, self.out
        history = (today - self.start).days
        programmes = {p["code"]: p for p in PROGRAMMES}
        need_codes, need_weights = list(NEEDS), (8, 3, 3, 2, 1, 1.5, 1, 1.5, 1, 1.5)
        rows: dict[str, list[tuple]] = {table: [] for table in COLUMNS}
        n = sum(c.patients for c in centres)
        patient_ids, enrolment_ids = iter(out.ids("patient", n)), iter(out.ids("enrolment", n))
        for centre in centres:
            country = centre.muni.country
            local = "sv" if country == "SE" else "da"
            for _ in range(centre.patients):
                pid, eid = next(patient_ids), next(enrolment_ids)
                roll = rng.random()
                age = (
                    rng.randint(18, 29)
                    if roll < 0.1
                    else rng.randint(30, 59)
                    if roll < 0.22
                    else min(95, round(rng.triangular(60, 90, 73)))
                )
                sex = "female" if rng.random() < 0.58 else "male"
                born, nid = self._birth(country, age, sex == "male")
                name = f"{rng.choice(FIRST_NAMES[(country, sex)])} {rng.choice(LAST_NAMES[country])}"
                baseline = today - timedelta(days=int(history * (1 - rng.random() ** 0.8)))
                created = self.ts(baseline, 9)
                rows["patient"].append(
                    (pid, pseudonym_for(pid), centre.id, identity_hash(nid),
                     encrypt_identity({"national_id": nid, "name": name, "phone": ""}, pseudonym_for(pid)),
                     born.year, sex,
                     local if rng.random() < 0.88 else "en", "phone", created)
                )  # fmt: skip
                rows["patient_consent"].append((pid, "evaluation", rng.random() < 0.93, created))
                need = rng.choices(need_codes, weights=need_weights)[0]
                rows["patient_need"].append((pid, need, created))
                if country == "SE" and 60 <= age <= 75 and rng.random() < 0.1:
                    code = "samverkansmodell"
                elif rng.random() < 0.08:
                    code = "digital_course"
                else:
                    code = "social_prescribing"
                arm = None
                if code == "samverkansmodell":
                    arm = "coaching" if rng.random() < 0.5 else "control"
                    self.sequence_no += 1
                    rows["arm_allocation"].append(
                        (self.programme_ids[code], self.sequence_no, arm, eid, created)
                    )
                points, status = self._follow_ups(eid, pid, centre.id, baseline, programmes[code], rows)
                rows["enrolment"].append(
                    (eid, pid, self.programme_ids[code], centre.id, self.iso(baseline), arm, status)
                )
                self._responses(pid, centre.id, eid, programmes[code]["instruments"], arm, points, rows)
                if code == "samverkansmodell":
                    self._measures(pid, centre.id, sex, arm, points, rows)
                if rng.random() < REFERRED_SHARE:
                    self._referral(pid, centre, need, baseline, rows)
        for table, table_rows in rows.items():
            out.load(table, table_rows, new_ids=table not in ("patient", "enrolment", "referral"))

    def _follow_ups(self, eid, pid, centre_id, baseline: date, programme: dict, rows) -> tuple[list, str]:
        """Follow-up rows; returns the (timepoint, date) of each answered screening and the status."""
        rng, today = self.rng, self.today
        # About a quarter are lost to follow-up: before the first follow-up or before the second.
        lost_at = 1 if rng.random() < 0.15 else (2 if rng.random() < 0.12 else 99)
        points, statuses = [(0, baseline)], []
        for k, tp in enumerate(programme["timepoints"][1:], start=1):
            due = add_months(baseline, tp)
            done_on = max(due + timedelta(days=rng.randint(-7, 21)), baseline + timedelta(days=1))
            if k < lost_at and done_on <= today:
                points.append((tp, done_on))
                status, completed = "completed", self.iso(done_on)
            else:
                late = (today - due).days
                status = "due" if late <= 0 else ("overdue" if late <= MISSED_AFTER_DAYS else "missed")
                completed = None
            statuses.append(status)
            rows["follow_up"].append((eid, pid, centre_id, tp, self.iso(due), status, completed))
        if all(s == "completed" for s in statuses):
            return points, "completed"
        return points, "withdrawn" if "missed" in statuses else "active"

    def _responses(self, pid, centre_id, eid, instruments, arm, points, rows) -> None:
        rng, pools, out = self.rng, self.pools, rows["instrument_response"]
        lonely = min(1.0, max(0.0, rng.gauss(0.58, 0.2)))
        well = min(1.0, max(0.0, rng.gauss(0.55 - 0.4 * (lonely - 0.5), 0.13)))
        effect = rng.gauss(0.13, 0.12) * {"coaching": 1.4, "control": 0.6}.get(arm, 1.0)
        for tp, day in points:
            gain = 0.0 if tp == 0 else effect * min(1.0, 0.6 + tp / 15)
            day_iso, stamp = self.iso(day), self.ts(day, 10)
            for instrument in instruments:
                latent = lonely - gain if instrument == "ucla3" else well + 0.8 * gain
                level = 0 if latent <= 0 else 20 if latent >= 1 else int(latent * 20 + 0.5)
                answers, total, score, band, subscales, flags = rng.choice(pools[instrument][level])
                out.append((pid, centre_id, eid, instrument, day_iso, tp, answers, total, score, band,
                            subscales, flags, stamp))  # fmt: skip

    def _measures(self, pid: int, centre_id: int, sex: str, arm: str | None, points, rows) -> None:
        rng = self.rng
        systolic, diastolic, hba1c = rng.gauss(147, 7), rng.gauss(91, 5), rng.gauss(45, 4)
        waist = rng.gauss(101 if sex == "male" else 89, 7)
        for tp, day in points:
            if tp in (0, 6, 12):
                k = 0 if tp == 0 else (1.0 if arm == "coaching" else 0.35)
                rows["health_measure"].append(
                    (pid, centre_id, self.iso(day), round(systolic - 7 * k), round(diastolic - 4 * k),
                     round(hba1c - 2.5 * k, 1), round(waist - 2.5 * k, 1), round(waist * 0.85 - 2 * k, 1))
                )  # fmt: skip
        if arm == "coaching":
            for j in range(3):
                day = points[0][1] + timedelta(days=30 * j)
                if day <= self.today:
                    mode = rng.choice(("visit", "phone", "video"))
                    rows["coaching_contact"].append(
                        (pid, centre_id, self.iso(day), mode, rng.choice((20, 30, 45)))
                    )

    def _referral(self, pid: int, centre: _Centre, need: str, baseline: date, rows) -> None:
        rng, muni = self.rng, centre.muni
        local, online = self.local_services, self.online_services
        categories = [c for c in NEEDS[need] if (muni.id, c) in local or (muni.country, c) in online]
        if not categories:
            return
        category = rng.choice(categories)
        service_id = rng.choice(local.get((muni.id, category)) or online[(muni.country, category)])
        created = min(self.today, baseline + timedelta(days=rng.randint(0, 10)))
        _w, path, reason = rng.choices(REFERRAL_PATHS, weights=[p[0] for p in REFERRAL_PATHS])[0]
        (rid,) = self.out.ids("referral", 1)
        when = datetime.combine(created, time(rng.randint(7, 15)), tzinfo=UTC)
        rows["referral_event"].append((rid, "requested", None, self.out.ts(when)))
        status, final_reason, last = "requested", None, when
        for step in path[1:]:
            low, high = STEP_DAYS[step]
            when += timedelta(days=rng.randint(low, high))
            if when > self.now:
                break
            status, last = step, when
            final_reason = reason if step == path[-1] else None
            rows["referral_event"].append((rid, step, final_reason, self.out.ts(when)))
        rows["referral"].append((rid, pid, centre.id, service_id, need, status, final_reason,
                                 self.iso(created), self.out.ts(last)))  # fmt: skip

    def gaps(self) -> None:
        rng, today, needs = self.rng, self.today, list(NEEDS)
        unmet = [
            (c.id, c.muni.id, rng.choice(needs), c.muni.name, rng.choice((None, "SA,SU")),
             rng.choice(("morning", "afternoon", "evening")), rng.choice(("18-29", "30-64", "65-79", "80+")),
             self.iso(today - timedelta(days=rng.randint(0, 540))))
            for c in self.centres
            for _ in range(20)
        ]  # fmt: skip
        self.out.load("unmet_need", unmet, new_ids=True)
        signposts = [
            (self.iso(today - timedelta(days=rng.randint(0, 365))), rng.choice(SIGNPOST_SETTINGS),
             rng.choice(needs), rng.random() < 0.2, m.id)
            for m in self.munis
            for _ in range(50)
        ]  # fmt: skip
        self.out.load("signposting", signposts, new_ids=True)


def _require_empty(conn: Connection) -> None:
    for table in _MUST_BE_EMPTY:
        if conn.exec_driver_sql(f"SELECT 1 FROM {table} LIMIT 1").first() is not None:
            raise SyntheticDataError(
                f"The database already holds data (table {table} is not empty). Synthetic data needs an "
                "empty, migrated database: point LOTSA_DB_URL at a new one and run migrate first."
            )


def describe(size: str) -> str:
    s = SIZES[size]
    return (
        f"{size}: {s.centres:,} centres in {s.municipalities:,} municipalities, {s.activities:,} activities, "
        f"~{s.patients:,} patients"
    )


def generate(
    size: str, url: str | None = None, progress: Progress | None = None, *, today: date | None = None
) -> dict[str, int]:
    """Fill an empty, migrated database with synthetic data of `size`; returns rows per table.

    Each chunk is its own transaction, so an interrupted run leaves a partly filled database:
    start again on a new one.
    """
    if size not in SIZES:
        raise SyntheticDataError(f"Unknown size {size!r}; choose one of {', '.join(SIZES)}")
    url = url or get_settings().db_url
    report = progress or (lambda phase, done, total: None)
    with get_engine(url).execution_options(lotsa_write=True).connect() as conn:
        loader = _Loader(conn)
        gen = _Generator(SIZES[size], today or date.today(), loader)
        with conn.begin():
            if is_sqlite(url):
                # A large page cache keeps the indexes of the big tables in memory while loading.
                conn.exec_driver_sql("PRAGMA cache_size=-262144")
            _require_empty(conn)
            # paired outcomes are rebuilt once at the end, not by a trigger per response
            outcome_pairs.drop_triggers(conn)
            loader.start_ids()
            gen.places()
            gen.vocabulary()
        try:
            report("centres", len(gen.centres), len(gen.centres))
            gen.build_pools()
            done, chunks = 0, gen.directory_chunks()
            for n in chunks:
                with conn.begin():
                    gen.directory(n)
                done += n
                report("activities", done, sum(chunks))
            done, groups = 0, gen.patient_chunks()
            total = sum(c.patients for group in groups for c in group)
            for group in groups:
                with conn.begin():
                    gen.patients(group)
                done += sum(c.patients for c in group)
                report("patients", done, total)
            with conn.begin():
                gen.gaps()
                loader.finish()
        finally:  # also after an error: never a database left without its triggers
            with conn.begin():
                outcome_pairs.install(conn)
        report("analyse", 0, 1)
        with conn.begin():
            conn.exec_driver_sql("ANALYZE")
    report("done", 1, 1)
    return dict(loader.rows)
