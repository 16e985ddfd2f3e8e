"""Importing activity inventories: a 1,000-row file with 17 bad rows lists exactly those rows and
imports the rest in one transaction; a crash half-way leaves the database as it was; encodings,
delimiters and XLSX read the same; header suggestions in three languages; fuzzing of the reader,
the checks and the import; partners stay inside their organisations; the error report is safe to
open in a spreadsheet."""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import zipfile
from datetime import date, time

import openpyxl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import func, select

from db.demo import TAXONOMY
from db.engine import read_session, write_session
from db.models import (
    Address,
    Attribute,
    AuditEvent,
    Contact,
    CostOption,
    Location,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceCapacity,
    ServiceChange,
    TaxonomyTerm,
)
from domain import inventory
from domain.csv_safety import DANGEROUS_FIRST
from domain.inventory import InventoryError, read_table, suggest_mapping
from locales import LANGUAGES, catalogue, translate
from services import directory_import
from services.directory import activity_detail
from services.directory_import import (
    ImportFileError,
    error_report_csv,
    preview_import,
    run_import,
    template_csv,
)
from services.errors import AccessDenied, ServiceError
from tests.factories import make_world

OWN_ORG = "Föreningen Gå Tillsammans"  # the test partner's organisation (tests/factories.py)
OTHER_ORG = "Språkcaféet Lund"
NEW_ORG = "Nya Föreningen i Malmö"
TABLES = (
    Organization,
    Service,
    Location,
    Address,
    ServiceAtLocation,
    Contact,
    Phone,
    Schedule,
    Attribute,
    CostOption,
    ServiceCapacity,
    ServiceChange,
)
HEADERS = [
    "Namn",
    "Beskrivning",
    "Organisation",
    "Kategori",
    "Målgrupp",
    "Språk",
    "Form",
    "Webb",
    "Gatuadress",
    "Postnummer",
    "Ort",
    "Lat",
    "Lon",
    "Veckodag",
    "Starttid",
    "Sluttid",
    "Startdatum",
    "Löpande start",
    "Avgift",
    "Kontaktperson",
    "Telefon",
    "E-post",
    "Lediga platser",
    "Max antal",
    "Lägsta ålder",
    "Högsta ålder",
]
CATEGORIES = ("Promenader", "Språkcafé", "choir", "Digital course", "Mødested", "Odling och trädgård")


def counts() -> dict[str, int]:
    with read_session() as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in TABLES}


def seed_taxonomy() -> None:
    with write_session() as s:
        for taxonomy, terms in TAXONOMY.items():
            for code, sv, da, en in terms:
                s.add(TaxonomyTerm(taxonomy=taxonomy, code=code, name_sv=sv, name_da=da, name_en=en))


@pytest.fixture
def world(db_url):
    w = make_world()
    seed_taxonomy()
    return w


@pytest.fixture
def sqlite_world(sqlite_url):
    w = make_world()
    seed_taxonomy()
    return w


def good_row(i: int) -> dict[str, str]:
    online = i % 10 == 3
    hybrid = i % 10 == 7
    return {
        "Namn": f"Aktivitet {i} på Möllan",
        "Beskrivning": "Vi ses, fikar och pratar. Alla är välkomna!",
        "Organisation": (OWN_ORG, OTHER_ORG, NEW_ORG)[i % 3],
        "Kategori": CATEGORIES[i % len(CATEGORIES)],
        "Målgrupp": "Seniorer, Nyanlända" if i % 5 == 0 else "",
        "Språk": "Svenska; English" if i % 4 == 0 else "sv",
        "Form": "online" if online else ("både och" if hybrid else "på plats"),
        "Webb": f"https://example.se/a{i}" if online or hybrid else "",
        "Gatuadress": "" if online else f"Storgatan {i}",
        "Postnummer": "" if online else "211 20",
        "Ort": "" if online else "Malmö",
        "Lat": "" if online else f"{55.6 + i / 100000:.5f}",
        "Lon": "" if online else "13,0038",
        "Veckodag": "tisdag, torsdag" if i % 2 else "mån-fre",
        "Starttid": "10:00",
        "Sluttid": "11.30",
        "Startdatum": "2026-03-02" if i % 6 == 0 else "",
        "Löpande start": "ja" if i % 9 == 0 else "nej",
        "Avgift": "50 kr" if i % 8 == 0 else "",
        "Kontaktperson": f"Anna Berg {i}" if i % 3 else "",
        "Telefon": "+46 40-123 45 67",
        "E-post": f"anna{i}@example.se",
        "Lediga platser": str(i % 5),
        "Max antal": "12",
        "Lägsta ålder": "60" if i % 11 == 0 else "",
        "Högsta ålder": "",
    }


# Spreadsheet row -> (what is wrong with it, the (column, key) problems the preview must list).
BAD_ROWS: dict[int, tuple[dict[str, str], set[tuple[str, str]]]] = {
    5: ({"Namn": ""}, {("Namn", "error.required")}),
    61: ({"Telefon": "ring mig"}, {("Telefon", "error.phone_format")}),
    120: ({"Lat": "123"}, {("Lat", "import.error.latitude_range")}),
    177: ({"Kategori": "Bowling på månen"}, {("Kategori", "import.error.unknown_category")}),
    233: ({"Starttid": "14:00", "Sluttid": "12:00"}, {("Sluttid", "import.error.closes_before_opens")}),
    290: ({"Namn": '=HYPERLINK("http://x")'}, {("Namn", "import.error.formula")}),
    347: ({"Veckodag": "Blursday"}, {("Veckodag", "error.weekday_unknown")}),
    402: ({"Beskrivning": "lång " * 1500}, {("Beskrivning", "error.too_long")}),
    460: ({"Lediga platser": "många"}, {("Lediga platser", "error.integer")}),
    515: ({"Organisation": ""}, {("Organisation", "error.required")}),
    571: (
        {"E-post": "anna(at)example.se", "Lägsta ålder": "70", "Högsta ålder": "20"},
        {("E-post", "error.email_format"), ("Högsta ålder", "import.error.age_order")},
    ),
    628: ({"Lon": "200"}, {("Lon", "import.error.longitude_range")}),
    684: ({"Form": "online", "Webb": ""}, {("Webb", "import.error.url_required")}),
    741: ({"Starttid": "25:00"}, {("Starttid", "error.time_format")}),
    799: ({"Startdatum": "32/13/2026"}, {("Startdatum", "error.date_format")}),
    856: ({"Lediga platser": "30", "Max antal": "10"}, {("Lediga platser", "import.error.free_over_max")}),
    1000: ({"Löpande start": "kanske", "Kontaktperson": "@SUM(A1)"}, {
        ("Löpande start", "import.error.yes_no"),
        ("Kontaktperson", "import.error.formula"),
    }),
}  # fmt: skip


def inventory_rows(n: int, bad: dict | None = None) -> list[dict[str, str]]:
    rows = []
    for i in range(n):
        row = good_row(i)
        mutation = (bad or {}).get(i + 2)
        if mutation:
            row.update(mutation[0])
        rows.append(row)
    return rows


def to_csv_bytes(rows: list[dict[str, str]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow([row.get(h, "") for h in HEADERS])
    return buffer.getvalue().encode(encoding)


# --- (1) The acceptance test ---------------------------------------------------------------------


def test_thousand_rows_with_seventeen_bad_ones(world):
    admin = world.principals["admin"]
    data = to_csv_bytes(inventory_rows(1000, BAD_ROWS))
    preview = preview_import(admin, data, "inventering.csv", lang="sv")

    assert preview.rows_read == 1000
    assert preview.error_rows == sorted(BAD_ROWS)
    for row, (_mutation, expected) in BAD_ROWS.items():
        found = {(e.column, e.key) for e in preview.errors if e.row == row}
        assert found == expected, row
    assert len(preview.valid) == 983
    assert preview.duplicates == []
    assert preview.new_organizations == [NEW_ORG]
    for error in preview.errors:  # every reason reads as a sentence in every language
        for lang in LANGUAGES:
            assert error.key in catalogue(lang)
            assert "{" not in directory_import.error_message(error.key, error.params, lang)

    before = counts()
    with pytest.raises(ServiceError) as refused:
        run_import(admin, preview, mode="all_or_nothing")
    assert refused.value.key == "import.error.has_errors"
    assert refused.value.params == {"count": 17}
    assert counts() == before

    result = run_import(admin, preview, mode="valid_only")
    assert (result.created, result.skipped, result.organizations_created) == (983, 17, 1)
    after = counts()
    assert after["service"] - before["service"] == 983
    assert after["service_change"] - before["service_change"] == 983
    assert after["schedule"] - before["schedule"] == 983
    assert after["organization"] - before["organization"] == 1
    with read_session() as s:
        statuses = set(s.scalars(select(Service.approval_status)).all())
        assert statuses == {"approved"}
        names = set(s.scalars(select(Service.name)).all())
        assert "Aktivitet 0 på Möllan" in names
        assert not any(name.startswith("=") for name in names)
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "directory.import")).all()
    assert [(e.outcome, "created=983" in (e.detail or "")) for e in events] == [
        ("refused", False),
        ("ok", True),
    ]


def test_an_imported_activity_reads_back_complete(world):
    admin = world.principals["admin"]
    rows = [good_row(1), good_row(3), good_row(8)]
    result = run_import(admin, preview_import(admin, to_csv_bytes(rows), "a.csv", lang="en"))
    in_person, online, paid = (activity_detail(sid, "sv", principal=admin) for sid in result.service_ids)

    assert in_person.name == "Aktivitet 1 på Möllan"
    assert in_person.organization == OTHER_ORG
    assert in_person.categories == ["Språkcafé"]
    assert in_person.contact_name == "Anna Berg 1"
    assert in_person.contact_phones == ["+46 40-123 45 67"]
    assert in_person.contact_email == "anna1@example.se"
    assert in_person.places[0].address == "Storgatan 1, 211 20 Malmö"
    assert in_person.places[0].latitude == pytest.approx(55.60001)
    assert in_person.places[0].longitude == pytest.approx(13.0038)
    assert "10:00" in in_person.schedule_text
    assert (in_person.available, in_person.maximum) == (1, 12)
    assert in_person.municipality == "Malmö"
    assert online.attending == "online"
    assert online.online_urls == ["https://example.se/a3"]
    assert online.places == []
    assert paid.is_free is False
    assert [c.amount for c in paid.costs] == [50.0]
    with read_session() as s:
        schedule = s.scalars(select(Schedule).where(Schedule.service_id == result.service_ids[0])).one()
    assert (schedule.byday, schedule.opens_at, schedule.closes_at) == ("TU,TH", time(10), time(11, 30))


def test_duplicates_within_the_file_and_against_the_directory(world):
    admin = world.principals["admin"]
    rows = [good_row(1), good_row(2), dict(good_row(1), Namn="AKTIVITET 1 PÅ MÖLLAN!")]
    preview = preview_import(admin, to_csv_bytes(rows), "a.csv", lang="sv")
    assert [(d.row, d.other, d.existing) for d in preview.duplicates] == [(4, 2, False)]
    assert len(preview.valid) == 3
    first = run_import(admin, preview, skip_duplicates=True)
    assert (first.created, first.skipped) == (2, 1)

    again = preview_import(admin, to_csv_bytes(rows[:2]), "a.csv", lang="sv")
    assert [(d.row, d.other, d.existing) for d in again.duplicates] == [
        (2, first.service_ids[0], True),
        (3, first.service_ids[1], True),
    ]


# --- (2) Atomicity --------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["progress", "insert"])
def test_a_crash_half_way_leaves_the_database_unchanged(world, monkeypatch, how):
    admin = world.principals["admin"]
    preview = preview_import(admin, to_csv_bytes(inventory_rows(700)), "big.csv", lang="sv")
    assert len(preview.valid) == 700
    before = counts()

    calls = []

    def progress(done, total):
        calls.append(done)
        if how == "progress" and len(calls) == 2:
            raise RuntimeError("the browser went away")

    if how == "insert":
        real = directory_import._insert_plain

        def failing(session, model, rows):
            if model is ServiceChange and calls:  # the second chunk, after 200 rows are written
                raise RuntimeError("disk full")
            real(session, model, rows)

        monkeypatch.setattr(directory_import, "_insert_plain", failing)

    with pytest.raises(RuntimeError):
        run_import(admin, preview, progress=progress)
    assert calls and calls[0] == 200
    assert counts() == before
    with read_session() as s:
        outcomes = s.scalars(select(AuditEvent.outcome).where(AuditEvent.action == "directory.import")).all()
    assert outcomes == ["failed"]


# --- (3) Encodings, delimiters and XLSX --------------------------------------------------------------

NORDIC = ["Blåbärsplockning i skogen", "Äventyr för äldre", "Ørestad gåtur", "Æblehaven – fællesspisning"]


def nordic_rows() -> list[dict[str, str]]:
    return [dict(good_row(i + 1), Namn=name, Organisation=OWN_ORG) for i, name in enumerate(NORDIC)]


def nordic_xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    for row in nordic_rows():
        values = [row[h] for h in HEADERS]
        cells = dict(zip(HEADERS, values, strict=True))
        cells["Lat"] = float(cells["Lat"]) if cells["Lat"] else None
        cells["Lon"] = 13.0038 if cells["Lon"] else None
        cells["Starttid"] = time(10, 0)
        cells["Sluttid"] = time(11, 30)
        cells["Startdatum"] = date(2026, 3, 2)
        cells["Max antal"] = 12
        cells["Lediga platser"] = int(cells["Lediga platser"])
        sheet.append([cells[h] for h in HEADERS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "variant"),
    [
        ("utf8.csv", {"encoding": "utf-8"}),
        ("bom.csv", {"encoding": "utf-8-sig"}),
        ("excel.csv", {"encoding": "cp1252"}),
        ("semicolon.csv", {"encoding": "cp1252", "delimiter": ";"}),
        ("tab.txt", {"encoding": "utf-16", "delimiter": "\t"}),
        ("sheet.xlsx", None),
    ],
)
def test_encodings_delimiters_and_xlsx_import_the_same_names(world, filename, variant):
    admin = world.principals["admin"]
    data = nordic_xlsx() if variant is None else to_csv_bytes(nordic_rows(), **variant)
    preview = preview_import(admin, data, filename, lang="sv")
    assert preview.errors == []
    assert [row.name for row in preview.valid] == NORDIC
    assert all(row.opens_at == time(10) and row.closes_at == time(11, 30) for row in preview.valid)
    result = run_import(admin, preview)
    with read_session() as s:
        names = s.scalars(select(Service.name).where(Service.id.in_(result.service_ids)).order_by(Service.id))
        assert list(names) == NORDIC


def test_reader_details():
    table = read_table(b'\xef\xbb\xbfNamn;Ort\r\n\r\n"Kaffe; och kaka";Lund\r\n;\r\n\r\n', "x.csv")
    assert (table.headers, table.rows, table.delimiter, table.encoding) == (
        ["Namn", "Ort"],
        [[], ["Kaffe; och kaka", "Lund"]],
        ";",
        "utf-8-sig",
    )
    assert table.row_number(1) == 3  # the blank line keeps its place
    table = read_table(nordic_xlsx(), "whatever.bin")
    assert table.delimiter is None
    row = dict(zip(table.headers, table.rows[0], strict=True))
    assert (row["Starttid"], row["Startdatum"], row["Max antal"], row["Lon"]) == (
        "10:00",
        "2026-03-02",
        "12",
        "13.0038",
    )


@pytest.mark.parametrize(
    ("data", "filename", "key"),
    [
        (b"", "x.csv", "import.error.empty"),
        (b"  \r\n\r\n ", "x.csv", "import.error.empty"),
        (codecs.BOM_UTF8 + b"\r\n;;\r\n", "x.csv", "import.error.empty"),
        (b"Namn,Ort\r\n", "x.csv", "import.error.no_rows"),
        (b"12,55.6,2026-03-02\r\n13,55.7,2026-03-03\r\n", "x.csv", "import.error.no_header"),
        (b"Namn\n\x81\x8d\x8f\n", "x.csv", "import.error.encoding"),
        (b"Namn\x00Ort\n", "x.csv", "import.error.not_text"),
        (b"PK\x03\x04this is no workbook", "x.xlsx", "import.error.xlsx_unreadable"),
        (b"not a zip", "x.xlsx", "import.error.xlsx_unreadable"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "x.xls", "import.error.format_unsupported"),
        (b'Namn,Ort\n"open quote,Lund\n' + b"x" * 200_000, "x.csv", "import.error.csv_malformed"),
    ],
)
def test_unusable_files_are_refused_with_a_reason(data, filename, key):
    with pytest.raises(InventoryError) as refused:
        read_table(data, filename)
    assert refused.value.key == key
    assert key in catalogue("sv")


def test_size_and_row_caps(monkeypatch):
    monkeypatch.setattr(inventory, "MAX_ROWS", 5)
    with pytest.raises(InventoryError) as refused:
        read_table(b"Namn\n" + b"a\n" * 6, "x.csv")
    assert (refused.value.key, refused.value.params) == ("import.error.too_many_rows", {"n": 5})
    assert len(read_table(b"Namn\n" + b"a\n" * 5, "x.csv").rows) == 5
    monkeypatch.setattr(inventory, "MAX_BYTES", 100)
    with pytest.raises(InventoryError) as refused:
        read_table(b"Namn\n" + b"a\n" * 60, "x.csv")
    assert refused.value.key == "import.error.too_large"


def test_missing_required_columns_are_named(world):
    admin = world.principals["admin"]
    with pytest.raises(ImportFileError) as refused:
        preview_import(admin, b"Namn,Ort\nPromenad,Lund\n", "x.csv", lang="en")
    assert refused.value.key == "import.error.required_unmapped"
    assert refused.value.params == {"fields": "Organisation, Category"}
    mapping = {"name": "Namn", "organization": "Ort", "category": "Nope"}
    with pytest.raises(ImportFileError) as refused:
        preview_import(admin, b"Namn,Ort\nPromenad,Lund\n", "x.csv", mapping, lang="en")
    assert refused.value.key == "import.error.column_missing"


def test_template_round_trips():
    for lang in LANGUAGES:
        headers = read_table(template_csv(lang) + b"x,y,z\r\n", "t.csv").headers
        assert suggest_mapping(headers) == {
            key: translate(f"import.field.{key}", lang) for key in inventory.FIELDS
        }


def test_xlsx_with_a_wrong_stored_size_reads_every_cell():
    source = zipfile.ZipFile(io.BytesIO(nordic_xlsx()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                content, n = re.subn(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1"/>', content)
                assert n == 1
            target.writestr(item, content)
    table = read_table(buffer.getvalue(), "cut.xlsx")
    assert len(table.headers) == len(HEADERS)
    assert [row[0] for row in table.rows] == NORDIC


def test_a_danish_inventory(world):
    manager = world.principals["manager"]
    text = (
        "Navn;Forening;Kategori;Målgruppe;Deltagelse;Hjemmeside;Adresse;Postnr.;By;Ugedage;Fra;Til;"
        "Startdato;Slutdato;Løbende start;Pris;Tlf.\r\n"
        "Gåtur i Fælledparken;Motion for alle;Gåture;Seniorer;fremmøde;;Blegdamsvej 1;2100;København Ø;"
        "man. – ons.;kl. 10.00;11:30;2.3.2026;29.6.2026;nej;25 kr.;+45 12 34 56 78\r\n"
        "Sprogcafé online;Motion for alle;Sprogcafé;Nyankomne;begge;www.example.dk;Nørregade 2;1165;"
        "København K;tor;17;19;;;ja;gratis;\r\n"
    )
    preview = preview_import(manager, text.encode("cp1252"), "aktiviteter.csv", lang="da")
    assert preview.errors == []
    assert preview.new_organizations == ["Motion for alle"]
    walk, cafe = preview.valid
    assert (walk.weekdays, walk.opens_at, walk.closes_at) == (("MO", "TU", "WE"), time(10), time(11, 30))
    assert (walk.start_date, walk.end_date, walk.cost, walk.is_free) == (
        date(2026, 3, 2),
        date(2026, 6, 29),
        25.0,
        False,
    )
    assert (cafe.attending_type, cafe.url, cafe.is_free, cafe.rolling_start) == (
        "hybrid",
        "https://www.example.dk",
        True,
        True,
    )
    result = run_import(manager, preview)
    with read_session() as s:
        zones = set(s.scalars(select(Schedule.timezone).where(Schedule.service_id.in_(result.service_ids))))
        currencies = set(s.scalars(select(CostOption.currency)))
        countries = set(s.scalars(select(Address.country)))
        until = s.scalar(select(Schedule.until).where(Schedule.service_id == result.service_ids[0]))
    assert (zones, currencies, countries, until) == (
        {"Europe/Copenhagen"},
        {"DKK"},
        {"DK"},
        date(2026, 6, 29),
    )


# --- (4) Header suggestions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["Namn", "Förening", "Kategori", "Målgrupp", "Veckodag", "Starttid", "Sluttid", "Gatuadress",
             "Postnummer", "Ort", "Latitud", "Longitud", "Kontaktperson", "Telefon", "E-post",
             "Lediga platser", "Max antal", "Vem kan delta", "Avgift", "Löpande start"],
            ["name", "organization", "category", "target_groups", "weekdays", "opens_at", "closes_at",
             "street", "postal_code", "city", "latitude", "longitude", "contact_name", "contact_phone",
             "contact_email", "free_places", "max_places", "eligibility", "cost", "rolling_start"],
        ),
        (
            ["Navn", "Beskrivelse", "Forening", "Kategori", "Målgruppe", "Ugedag", "Fra", "Til", "Adresse",
             "Postnr.", "By", "Lat", "Lon", "Kontaktperson", "Tlf.", "E-mail", "Ledige pladser", "Sprog",
             "Tilgængelighed", "Startdato", "Slutdato"],
            ["name", "description", "organization", "category", "target_groups", "weekdays", "opens_at",
             "closes_at", "street", "postal_code", "city", "latitude", "longitude", "contact_name",
             "contact_phone", "contact_email", "free_places", "languages", "accessibility", "start_date",
             "end_date"],
        ),
        (
            ["Activity", "Organisation", "Category", "Day", "From", "To", "Address", "Postcode", "City",
             "Latitude", "Longitude", "Contact person", "Phone", "Email", "Free places", "Capacity",
             "Minimum age", "Maximum age", "Website", "Attending", "Free"],
            ["name", "organization", "category", "weekdays", "opens_at", "closes_at", "street",
             "postal_code", "city", "latitude", "longitude", "contact_name", "contact_phone",
             "contact_email", "free_places", "max_places", "minimum_age", "maximum_age", "url",
             "attending_type", "is_free"],
        ),
        (  # case, accents, punctuation and compound headers
            ["  NAMN ", "MALGRUPP", "kontaktperson – telefon", "Kontaktpersonens e-post",
             "Organisationens namn", "Mötesdag", "Gatuadress (besök)", "Post-nr", "LAT.", "lng", "Kategori?"],
            ["name", "target_groups", "contact_phone", "contact_email", "organization", "weekdays", "street",
             "postal_code", "latitude", "longitude", "category"],
        ),
    ],
)  # fmt: skip
def test_header_suggestions(headers, expected):
    mapping = suggest_mapping(headers)
    got = [next((k for k, h in mapping.items() if h == header), None) for header in headers]
    assert got == expected
    assert all(mapping[k] is None for k in inventory.FIELDS if k not in expected)


def test_each_header_is_suggested_once():
    mapping = suggest_mapping(["Namn", "Aktivitetsnamn", "Telefon", "Mobil", "Ort"])
    assert (mapping["name"], mapping["contact_phone"], mapping["city"]) == ("Namn", "Telefon", "Ort")
    assert list(mapping.values()).count("Namn") == 1
    assert suggest_mapping([]) == dict.fromkeys(inventory.FIELDS)


# --- (5) Fuzzing ----------------------------------------------------------------------------------------

FORMULAS = ('=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "@SUM(A1:A2)", "-Foo()", "=1+1", "\t=cmd")
CELLS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(FORMULAS),
    st.sampled_from(["", "ja", "nej", "10:00", "25:99", "tisdag", "Blursday", "-3", "1e309", "NaN", "12,5"]),
    st.sampled_from(["Promenader", "choir", OWN_ORG, NEW_ORG, "online", "https://x.se", "211 20", "55.6"]),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.just("x" * 6000),
    st.just("9" * 5000),
)
XLSX_CELLS = CELLS.map(lambda cell: ILLEGAL_CHARACTERS_RE.sub("", cell))
# A row is either a good row with a few cells replaced, or a list of random cells of any length.
ROWS = st.lists(
    st.one_of(
        st.builds(
            lambda i, cells: [dict(good_row(i), **cells)[h] for h in HEADERS],
            st.integers(0, 50),
            st.dictionaries(st.sampled_from(HEADERS), CELLS, max_size=4),
        ),
        st.lists(CELLS, max_size=len(HEADERS) + 2),
    ),
    max_size=12,
)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(
    data=st.one_of(
        st.binary(max_size=2000),
        st.binary(max_size=500).map(lambda b: b"PK\x03\x04" + b),
        st.binary(max_size=500).map(lambda b: codecs.BOM_UTF8 + b),
        st.binary(max_size=500).map(lambda b: codecs.BOM_UTF16_LE + b),
        st.text(max_size=500).map(lambda t: t.encode("utf-8", "surrogatepass")),
    ),
    filename=st.sampled_from(["x.csv", "x.xlsx", "x.txt", "", "X.XLS", "noext"]),
)
def test_reading_random_bytes_never_crashes(data, filename):
    try:
        table = read_table(data, filename)
    except InventoryError as exc:
        assert exc.key in catalogue("en")
        return
    assert table.headers and all(len(row) in (0, len(table.headers)) for row in table.rows)
    suggest_mapping(table.headers)


def _assert_all_or_nothing(principal, data: bytes, filename: str) -> None:
    before = counts()
    try:
        preview = preview_import(principal, data, filename, lang="da")
    except ServiceError:
        assert counts() == before
        return
    for error in preview.errors:
        assert error.key in catalogue("da")
    event(f"valid rows: {min(len(preview.valid), 3)}{'+' if len(preview.valid) > 3 else ''}")
    for row in preview.valid:
        texts = (row.name, row.organization, row.description, row.street, row.city, row.contact_name)
        assert not any(inventory.is_formula(t) for t in texts if t)
    result = run_import(principal, preview)
    after = counts()
    assert after["service"] - before["service"] == len(preview.valid) == result.created
    assert error_report_csv(preview, "da").startswith(codecs.BOM_UTF8)


@FUZZ
@given(rows=ROWS, delimiter=st.sampled_from([",", ";", "\t"]), header_cut=st.sampled_from([0, 0, 0, 1, 3]))
def test_random_cells_never_crash_and_never_write_partially(sqlite_world, rows, delimiter, header_cut):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(HEADERS[header_cut:])
    writer.writerows(rows)
    _assert_all_or_nothing(sqlite_world.principals["admin"], buffer.getvalue().encode("utf-8"), "f.csv")


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(list('ab,;\t"\r\n =+-@ÅæØ1.:')), max_size=400))
def test_malformed_csv_text_never_crashes(sqlite_world, text):
    data = (",".join(HEADERS) + "\n" + text).encode("utf-8")
    _assert_all_or_nothing(sqlite_world.principals["partner"], data, "f.csv")


@FUZZ
@given(rows=st.lists(st.dictionaries(st.sampled_from(HEADERS), XLSX_CELLS, max_size=3), max_size=8))
def test_random_xlsx_cells_never_crash(sqlite_world, rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    for i, cells in enumerate(rows):
        row = dict(good_row(i), **cells)
        sheet.append([row[h] for h in HEADERS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    _assert_all_or_nothing(sqlite_world.principals["manager"], buffer.getvalue(), "f.xlsx")


# --- (6) Who may import what ------------------------------------------------------------------------------


def test_a_partner_imports_only_into_their_own_organisation(world):
    partner = world.principals["partner"]
    rows = [
        dict(good_row(1), Organisation=OWN_ORG),
        dict(good_row(2), Organisation=OTHER_ORG),
        dict(good_row(4), Organisation=NEW_ORG),
        dict(good_row(5), Organisation="  föreningen gå tillsammans "),
    ]
    preview = preview_import(partner, to_csv_bytes(rows), "mina.csv", lang="sv")
    assert [(e.row, e.column, e.key) for e in preview.errors] == [
        (3, "Organisation", "import.error.organization_not_yours"),
        (4, "Organisation", "import.error.organization_not_yours"),
    ]
    assert preview.new_organizations == []
    before = counts()
    with pytest.raises(ServiceError):
        run_import(partner, preview, mode="all_or_nothing")
    assert counts() == before

    result = run_import(partner, preview)
    assert (result.created, result.skipped, result.organizations_created) == (2, 2, 0)
    with read_session() as s:
        imported = s.execute(
            select(Service.organization_id, Service.approval_status).where(Service.id.in_(result.service_ids))
        ).all()
    assert set(imported) == {(world.org, "pending")}


def test_only_admins_managers_and_partners_import(world):
    data = to_csv_bytes([good_row(1)])
    with pytest.raises(AccessDenied):
        preview_import(world.principals["connector"], data, "x.csv", lang="sv")
    with pytest.raises(AccessDenied):
        preview_import(None, data, "x.csv", lang="sv")
    manager_preview = preview_import(world.principals["manager"], data, "x.csv", lang="sv")
    with pytest.raises(AccessDenied):
        run_import(world.principals["connector"], manager_preview)
    with pytest.raises(AccessDenied):  # a preview belongs to the user who made it
        run_import(world.principals["admin"], manager_preview)
    with pytest.raises(ServiceError):
        run_import(world.principals["manager"], manager_preview, mode="everything")
    with read_session() as s:
        denied = s.scalars(
            select(AuditEvent.outcome).where(
                AuditEvent.action == "directory.import", AuditEvent.outcome == "denied"
            )
        ).all()
    assert len(denied) == 4
    assert run_import(world.principals["manager"], manager_preview).created == 1


# --- (7) The error report ----------------------------------------------------------------------------------


def test_error_report_is_translated_and_formula_safe(world):
    admin = world.principals["admin"]
    headers = ["=Namn", "Organisation", "Kategori", "@Lat", "Lon"]
    body = [
        ['=HYPERLINK("http://evil")', OWN_ORG, "Promenader", "123", "13"],
        ["Promenad", "+cmd|' /C calc'!A0", "-Bowling", "55.6", "13"],
        ["Promenad", OWN_ORG, "Promenader", "55.6", "13"],
        ["Promenad", OWN_ORG, "Promenader", "55.6", "13"],
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([headers, *body])
    preview = preview_import(admin, buffer.getvalue().encode(), "x.csv", lang="sv")
    assert preview.mapping["name"] == "=Namn" and preview.mapping["latitude"] == "@Lat"

    for lang, heading in (("sv", ["Rad", "Kolumn", "Fel"]), ("en", ["Row", "Column", "Error"])):
        report = error_report_csv(preview, lang)
        assert report.startswith(codecs.BOM_UTF8)
        lines = list(csv.reader(io.StringIO(report.decode("utf-8-sig"))))
        assert lines[0] == heading
        assert all(not cell.startswith(DANGEROUS_FIRST) for line in lines for cell in line)
        assert ["2", "'=Namn", translate("import.error.formula", lang)] in lines
        assert ["2", "'@Lat", translate("import.error.latitude_range", lang)] in lines
        assert ["3", "Organisation", translate("import.error.formula", lang)] in lines
        assert ["3", "Kategori", translate("import.error.formula", lang)] in lines
        assert ["5", "'=Namn", translate("import.warning.duplicate_row", lang, other=4)] in lines
    assert "Latitud måste vara mellan -90 och 90." in error_report_csv(preview, "sv").decode("utf-8-sig")


# --- 20,000 rows --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_twenty_thousand_rows_with_progress(sqlite_world):
    admin = sqlite_world.principals["admin"]
    preview = preview_import(admin, to_csv_bytes(inventory_rows(20_000)), "all.csv", lang="sv")
    assert (len(preview.valid), preview.errors) == (20_000, [])
    seen: list[tuple[int, int]] = []
    result = run_import(admin, preview, progress=lambda done, total: seen.append((done, total)))
    assert result.created == 20_000
    assert len(seen) == math.ceil(20_000 / directory_import.CHUNK)
    assert seen[-1] == (20_000, 20_000)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert counts()["service"] == 20_000


def test_an_unclosed_quote_is_refused_even_when_a_library_raised_the_csv_field_limit(monkeypatch):
    """frictionless raises csv.field_size_limit for the whole process on import; the importer's own
    limit must not depend on which library was imported first."""
    import csv

    old = csv.field_size_limit()
    csv.field_size_limit(10_000_000)
    try:
        with pytest.raises(InventoryError) as refused:
            read_table(b'Namn,Ort\n"open quote,Lund\n' + b"x" * 200_000, "x.csv")
        assert refused.value.key == "import.error.csv_malformed"
    finally:
        csv.field_size_limit(old)
