"""Inventories as municipalities and associations really keep them: an instructions sheet before the
data, a title row above the headings, phone numbers Excel stored as numbers, Danish and Swedish
amounts ("1.250 kr.", "1 250 kr", "12,50"), a time range in one cell, weekday abbreviations and
category words that are synonyms or near misses (with a suggestion). Files are built the way
Excel and LibreOffice write them; every service test runs on SQLite and Postgres (db_url).
Also: every CSV download of the app starts with exactly one byte-order mark."""

from __future__ import annotations

import codecs
import csv
import io
import re
from datetime import time
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from components.dashboard import csv_bytes
from db.engine import read_session, write_session
from db.models import CostOption, Phone, Schedule, Service, TaxonomyTerm
from domain import inventory
from domain.inventory import InventoryError, read_table
from domain.taxonomy import dump_synonyms
from services import audit
from services.directory_import import (
    ImportFileError,
    error_message,
    error_report_csv,
    preview_import,
    run_import,
    template_csv,
)
from tests.test_import import OTHER_ORG, counts, world  # noqa: F401  (fixture)

TITLE = "Aktivitetsinventering Malmö stad – våren 2026"
HEADINGS = [
    "Aktivitet", "Organisation", "Kategori", "Målgrupp", "Gatuadress", "Postnummer", "Ort",
    "Dagar", "Tid", "Kostnad", "Kontaktperson", "Telefon",
]  # fmt: skip


def _row(name: str, **over) -> list:
    row = {
        "Aktivitet": name, "Organisation": OTHER_ORG, "Kategori": "Promenader", "Målgrupp": "",
        "Gatuadress": "Möllevångstorget 1", "Postnummer": "214 24", "Ort": "Malmö", "Dagar": "Må, On",
        "Tid": "10.00-11.30", "Kostnad": "", "Kontaktperson": "Eva", "Telefon": "040-12 34 56",
    }  # fmt: skip
    row.update(over)
    return [row[h] for h in HEADINGS]


def municipal_xlsx(rows: list[list], *, phone_format: str | None = None) -> bytes:
    """Sheet 1: instructions; sheet 2: a title, a blank row, the headings on row 3, then data."""
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Instruktioner"
    for line in (
        "Fyll i en rad per aktivitet.",
        "Kategori: välj ur listan (Promenader, Språkcafé, ...).",
        "Telefon: hela numret med riktnummer.",
    ):
        notes.append([line])
    sheet = book.create_sheet("Aktiviteter")
    sheet.append([TITLE])
    sheet.append([])
    sheet.append(HEADINGS)
    phone = HEADINGS.index("Telefon") + 1
    for values in rows:
        sheet.append(values)
        cell = sheet.cell(row=sheet.max_row, column=phone)
        if phone_format and isinstance(cell.value, int):
            cell.number_format = phone_format
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _set_synonyms(**by_code: list[str]) -> None:
    with write_session() as s:
        for code, words in by_code.items():
            term = s.exec(select(TaxonomyTerm).where(TaxonomyTerm.code == code)).scalar_one()
            term.synonyms = dump_synonyms(words)
            s.add(term)


def _messages(preview, lang: str) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for e in preview.errors:
        out.setdefault(e.row, []).append(f"{e.column}: {error_message(e.key, e.params, lang)}")
    return out


# --- The whole file -----------------------------------------------------------------------------------


def test_a_municipal_workbook_imports_as_the_person_sees_it(world):  # noqa: F811
    _set_synonyms(seniors=["Äldre", "Ældre", "Pensionärer"])
    admin = world.principals["admin"]
    data = municipal_xlsx(
        [
            _row("Promenad i parken", Telefon=701234567, Målgrupp="Äldre", Kostnad="1 250 kr"),
            _row("Sittgympa", Telefon=40123456, Dagar="Ti/To", Tid="kl. 10-12", Kostnad="12,50"),
            _row("Kafé", Telefon="0709-87 65 43", Dagar="Lö", Tid="10–11.30", Kategori="Promenad"),
            _row("Ældrecafé", Telefon=33123456, Postnummer="1050", Ort="København K", Målgrupp="Ældre",
                 Kostnad="1.250 kr.", Dagar="Ma-Fr"),
        ]
    )  # fmt: skip
    before = counts()
    preview = preview_import(admin, data, "inventering.xlsx", lang="sv")
    assert (preview.sheet, preview.header_row) == ("Aktiviteter", 3)
    assert preview.sheets == ["Instruktioner", "Aktiviteter"]
    assert preview.mapping["times"] == "Tid" and preview.mapping["contact_phone"] == "Telefon"
    assert preview.rows_read == 4
    # Row 6: "Promenad" is no category; the closest one is suggested, in the user's language.
    assert _messages(preview, "sv") == {6: ["Kategori: Okänd kategori: Promenad. Menade du Promenader?"]}
    assert _messages(preview, "da")[6] == ["Kategori: Ukendt kategori: Promenad. Mente du Promenader?"]
    assert counts() == before  # a preview writes nothing

    rows = {r.name: r for r in preview.valid}
    walk, gym, dane = rows["Promenad i parken"], rows["Sittgympa"], rows["Ældrecafé"]
    assert walk.contact_phone == "0701234567" and walk.target_groups == ("seniors",)
    assert (walk.weekdays, walk.opens_at, walk.closes_at) == (("MO", "WE"), time(10), time(11, 30))
    assert walk.cost == 1250
    assert gym.contact_phone == "040123456"  # Malmö's 040: a Swedish postcode, so the 0 came back
    assert (gym.weekdays, gym.opens_at, gym.closes_at, gym.cost) == (("TU", "TH"), time(10), time(12), 12.5)
    assert dane.contact_phone == "33123456"  # a Danish number has no leading 0 to restore
    assert (dane.cost, dane.target_groups) == (1250, ("seniors",))
    assert dane.weekdays == ("MO", "TU", "WE", "TH", "FR")

    result = run_import(admin, preview, mode="valid_only")
    assert result.created == 3 and result.skipped == 1
    with read_session() as s:
        ids = {s.get(Service, i).name: i for i in result.service_ids}
        numbers = set(s.exec(select(Phone.number)).scalars())
        assert {"0701234567", "040123456", "33123456"} <= numbers
        query = select(CostOption.amount).where(CostOption.service_id.in_(ids.values()))
        amounts = sorted(s.exec(query).scalars())
        assert amounts == [12.5, 1250, 1250]
        schedule = s.exec(select(Schedule).where(Schedule.service_id == ids["Sittgympa"])).scalars().one()
        assert (schedule.byday, schedule.opens_at, schedule.closes_at) == ("TU,TH", time(10), time(12))


def test_a_zero_padded_phone_format_keeps_its_zeros_exactly():
    data = municipal_xlsx([_row("Kör", Telefon=46123456)], phone_format="0000000000")
    table = read_table(data, "x.xlsx")
    assert table.rows[0][HEADINGS.index("Telefon")] == "0046123456"


def test_sheet_and_header_row_can_be_chosen_and_bad_choices_are_named(world):  # noqa: F811
    admin = world.principals["admin"]
    data = municipal_xlsx([_row("Promenad i parken")])
    chosen = preview_import(admin, data, "x.xlsx", lang="en", sheet="Aktiviteter", header_row=3)
    assert chosen.header_row == 3 and len(chosen.valid) == 1
    with pytest.raises(ImportFileError) as refused:
        preview_import(admin, data, "x.xlsx", lang="en", sheet="Blad1")
    assert refused.value.key == "import.error.sheet_missing"
    assert refused.value.params == {"sheet": "Blad1", "sheets": "Instruktioner, Aktiviteter"}
    # Row 1 of the data sheet is the title: its headings name no required field.
    with pytest.raises(ImportFileError) as refused:
        preview_import(admin, data, "x.xlsx", lang="en", sheet="Aktiviteter", header_row=1)
    assert refused.value.key == "import.error.required_unmapped"
    with pytest.raises(ImportFileError) as refused:
        preview_import(admin, data, "x.xlsx", lang="en", sheet="Aktiviteter", header_row=2)
    assert refused.value.key == "import.error.header_row"
    # The instructions sheet chosen by hand is read as it is (and has no usable headings).
    with pytest.raises(ImportFileError):
        preview_import(admin, data, "x.xlsx", lang="en", sheet="Instruktioner")


def test_a_csv_with_a_title_row_finds_its_header():
    text = f"{TITLE};;;\r\n;;;\r\nNamn;Organisation;Kategori;Tid\r\nPromenad;Förening;Promenader;10-12\r\n"
    table = read_table(text.encode("utf-8"), "x.csv")
    assert (table.header_row, table.headers) == (3, ["Namn", "Organisation", "Kategori", "Tid"])
    assert table.row_number(0) == 4
    plain = read_table(b"Namn,Ort\nKaffe,Lund\n", "x.csv")
    assert plain.header_row == 1 and plain.sheets == [] and plain.sheet is None


# --- One cell at a time --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "amount"),
    [
        ("1.250 kr.", "da", 1250),
        ("1.250 kr.", "sv", 1250),  # three decimals is no price: the Danish reading wins
        ("kr. 1.250,50", "da", 1250.5),
        ("1 250 kr", "sv", 1250),
        ("1\u00a0250 kr", "sv", 1250),
        ("12,50", "sv", 12.5),
        ("12,50", "en", 12.5),
        ("12.50", "da", 12.5),
        ("1,250.50", "en", 1250.5),
        ("50:-", "sv", 50),
        ("75,-", "da", 75),
        ("DKK 75", "da", 75),
        ("Gratis", "sv", 0),
    ],
)
def test_amounts_are_read_as_written_in_sweden_denmark_and_england(text, lang, amount):
    assert inventory._cost(inventory.FIELDS["cost"], text, lang) == amount


@pytest.mark.parametrize("text", ["12,5,0", "tolv kronor", "1..2"])
def test_amounts_that_are_no_number_are_refused(text):
    with pytest.raises(inventory.FieldError):
        inventory._cost(inventory.FIELDS["cost"], text, "sv")


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("Må, Ti, On, To, Fr, Lö, Sö", "MO TU WE TH FR SA SU"),
        ("Ma/Ti/On/To/Fr/Lø/Sø", "MO TU WE TH FR SA SU"),
        ("Mon, Tue, Wed", "MO TU WE"),
        ("Tues & Thurs", "TU TH"),
        ("Må-Fr", "MO TU WE TH FR"),
        ("Ma–Fr", "MO TU WE TH FR"),
        ("Mån till fre", "MO TU WE TH FR"),
        ("Monday to Friday", "MO TU WE TH FR"),
        ("Må To Fr", "MO TH FR"),  # "To" between two-letter days is Thursday, not "to"
        ("tisdagar och torsdagar", "TU TH"),
        ("Lö", "SA"),
        ("Sø", "SU"),
        ("vardagar", "MO TU WE TH FR"),
        ("weekend", "SA SU"),
        ("varje onsdag", "WE"),
    ],
)
def test_weekday_abbreviations_in_three_languages(text, days):
    assert inventory._weekdays(inventory.FIELDS["weekdays"], text) == tuple(days.split())


def test_an_unknown_weekday_is_named():
    with pytest.raises(inventory.FieldError) as bad:
        inventory._weekdays(inventory.FIELDS["weekdays"], "Må, Xy")
    assert (bad.value.key, bad.value.params) == ("error.weekday_unknown", {"value": "xy"})


@pytest.mark.parametrize(
    ("text", "opens", "closes"),
    [
        ("10.00-11.30", time(10), time(11, 30)),
        ("10–11.30", time(10), time(11, 30)),
        ("kl. 10-12", time(10), time(12)),
        ("kl 9.30 - 11", time(9, 30), time(11)),
        ("10:00 till 11:30", time(10), time(11, 30)),
        ("klokken 14-16", time(14), time(16)),
        ("kl. 10", time(10), None),
    ],
)
def test_a_time_range_in_one_cell(text, opens, closes):
    assert inventory._time_range(inventory.FIELDS["times"], text) == (opens, closes)


@pytest.mark.parametrize("text", ["10-25", "morgon", "10.00-11.75"])
def test_a_time_range_that_is_no_time_is_refused(text):
    with pytest.raises(inventory.FieldError) as bad:
        inventory._time_range(inventory.FIELDS["times"], text)
    assert bad.value.key == "import.error.time_range"


def test_a_range_in_the_start_time_column_fills_both_times_and_a_contradiction_is_reported(world):  # noqa: F811
    admin = world.principals["admin"]
    text = (
        "Namn,Organisation,Kategori,Veckodag,Starttid,Sluttid\r\n"
        f"Kör,{OTHER_ORG},Kör och sång,Ti,10.00-11.30,\r\n"
        f"Kör 2,{OTHER_ORG},Kör och sång,Ti,10.00-11.30,12:00\r\n"
    )
    preview = preview_import(admin, text.encode("utf-8"), "x.csv", lang="en")
    [row] = preview.valid
    assert (row.opens_at, row.closes_at) == (time(10), time(11, 30))
    errors = [(e.row, e.column, e.key) for e in preview.errors]
    assert errors == [(3, "Sluttid", "import.error.times_conflict")]


# --- Taxonomy words ---------------------------------------------------------------------------------------


def test_synonyms_names_in_every_language_and_suggestions(world):  # noqa: F811
    admin = world.principals["admin"]
    _set_synonyms(seniors=["Äldre", "Ældre", "Pensionärer"], walking=["Promenad", "Stavgång"])

    def categories(*cells: str, lang: str = "sv"):
        lines = [f"Aktivitet {i},{OTHER_ORG},{cat},{grp}" for i, (cat, grp) in enumerate(cells)]
        text = "Namn,Organisation,Kategori,Målgrupp\r\n" + "\r\n".join(lines) + "\r\n"
        return preview_import(admin, text.encode("utf-8"), "x.csv", lang=lang)

    preview = categories(
        ("Promenad", "Äldre"),
        ("PROMENAD", "ældre"),
        ("Gåture", "Aldre"),  # Danish name; Äldre typed without the dots
        ("walking", "Older people"),  # the code and the English name
        ("Stavgång", "Pensionärer"),
        ("Promenadder", "Seniorer"),
        ("Körsång", "Unga"),
    )
    valid = {r.name: (r.categories, r.target_groups) for r in preview.valid}
    for i in range(5):
        assert valid[f"Aktivitet {i}"] == (("walking",), ("seniors",)), i
    messages = _messages(preview, "en")
    assert messages[7] == ["Kategori: Unknown category: Promenadder. Did you mean Promenader?"]
    assert messages[8] == [
        "Kategori: Unknown category: Körsång. Did you mean Kor og sang?",  # the closest, in any language
        "Målgrupp: Unknown target group: Unga. Did you mean Unga vuxna?",  # a word of the name
    ]


def test_a_synonym_two_terms_share_matches_neither(world):  # noqa: F811
    admin = world.principals["admin"]
    _set_synonyms(walking=["Rörelse"], exercise=["Rörelse"])
    text = f"Namn,Organisation,Kategori\r\nA,{OTHER_ORG},Rörelse\r\n"
    preview = preview_import(admin, text.encode("utf-8"), "x.csv", lang="sv")
    assert preview.valid == [] and preview.errors[0].key.startswith("import.error.unknown_category")


def test_the_lookup_prefers_codes_then_names_then_synonyms():
    lookup = inventory.build_taxonomy_lookup(
        [
            ("category", "culture", "Kultur", "Kultur", "Culture", ["Musik"]),
            ("category", "choir", "Kör och sång", "Kor og sang", "Choir", ["Culture", "Musik"]),
        ]
    )["category"]
    assert lookup.find("Culture") == "culture"  # a name beats another term's synonym
    assert lookup.find("Musik") is None  # two synonyms: ambiguous
    assert lookup.find("kor og sang") == "choir"
    assert lookup.suggest("Kultr") == "Kultur"
    assert lookup.suggest("zzz") is None


# --- CSV downloads: one byte-order mark ------------------------------------------------------------------


def test_every_csv_download_starts_with_exactly_one_bom(world):  # noqa: F811
    admin = world.principals["admin"]
    preview = preview_import(admin, f"Namn,Organisation,Kategori\r\nA,{OTHER_ORG},Nope\r\n".encode(), "x.csv")
    downloads = {
        "dashboard table": csv_bytes(["a", "b"], [[1, "=x"]]),
        "import report": error_report_csv(preview, "sv"),
        "import template": template_csv("da"),
        "audit export": audit.export_events(admin)[0].encode("utf-8"),
    }
    for name, data in downloads.items():
        assert data.startswith(codecs.BOM_UTF8), name
        assert not data[3:].startswith(codecs.BOM_UTF8), name
        assert data.count(codecs.BOM_UTF8) == 1, name
        assert next(csv.reader(io.StringIO(data.decode("utf-8-sig")))), name


def test_no_code_adds_a_bom_of_its_own_to_csv_text():
    """to_csv adds the one BOM; code that adds another in front of it made the double BOM."""
    root = Path(__file__).resolve().parents[1]
    offenders = []
    for folder in ("components", "services", "app_pages", "domain"):
        for path in (root / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if re.search(r"""["']\\ufeff["']\s*\+\s*to_csv""", text) or "BOM_UTF8 + to_csv" in text:
                offenders.append(str(path.relative_to(root)))
    assert offenders == []


def test_unusable_sheet_choice_in_the_domain():
    with pytest.raises(InventoryError) as refused:
        read_table(b"Namn,Ort\nKaffe,Lund\n", "x.csv", header_row=0)
    assert refused.value.key == "import.error.header_row"

