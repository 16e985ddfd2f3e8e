"""Numbers, percentages, dates and plurals follow Swedish, Danish and English conventions (Babel)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from locales import LANGUAGES, catalogue
from locales.formatting import format_date, format_number, format_percent, plural, plural_form

NBSP = "\u00a0"
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("lang", "text"), [("sv", "0,98"), ("da", "0,98"), ("en", "0.98")])
def test_decimal_separator_follows_the_language(lang, text):
    assert format_number(0.98, lang, 2) == text


@pytest.mark.parametrize(
    ("lang", "text"), [("sv", f"1{NBSP}234{NBSP}567"), ("da", "1.234.567"), ("en", "1,234,567")]
)
def test_thousands_are_grouped(lang, text):
    assert format_number(1234567, lang) == text


def test_decimals_are_fixed_so_a_column_lines_up():
    assert format_number(0.5, "sv", 2) == "0,50"
    assert format_number(2, "da", 1) == "2,0"
    assert format_number(2.46, "en", 1) == "2.5"
    assert format_number(-1234.5, "da", 1) == "-1.234,5"


def test_missing_values_show_a_dash_not_nan():
    assert format_number(None, "sv") == "–"
    assert format_number(float("nan"), "en", 2) == "–"
    assert format_percent(None, "da") == "–"


@pytest.mark.parametrize(("lang", "text"), [("sv", f"12,5{NBSP}%"), ("da", f"12,5{NBSP}%"), ("en", "12.5%")])
def test_percent(lang, text):
    assert format_percent(0.125, lang, 1) == text


def test_percent_rounds_to_whole_by_default():
    assert format_percent(0.333, "en") == "33%"


def test_dates():
    day = dt.date(2026, 12, 3)
    assert format_date(day, "sv") == "2026-12-03"
    assert format_date(day, "da") == "03.12.2026"
    assert format_date(day, "en") == "03/12/2026"
    assert format_date(dt.datetime(2026, 12, 3, 14, 5), "sv", "long") == "3 december 2026"


@pytest.mark.parametrize(
    ("lang", "one", "two"),
    [
        ("sv", "1 aktivitet", "2 aktiviteter"),
        ("da", "1 aktivitet", "2 aktiviteter"),
        ("en", "1 activity", "2 activities"),
    ],
)
def test_plural_forms(lang, one, two):
    assert plural("plural.activities", 1, lang) == one
    assert plural("plural.activities", 2, lang) == two
    assert plural("plural.activities", 0, lang) == two.replace("2", "0")


def test_plural_formats_the_count_in_the_language():
    assert plural("plural.activities", 1234, "sv") == f"1{NBSP}234 aktiviteter"
    assert plural("plural.activities", 1234, "da") == "1.234 aktiviteter"
    assert plural("plural.referrals", 1, "da") == "1 henvisning"


def test_plural_takes_extra_params():
    assert plural("directory.count", 1, "sv") == "1 aktivitet"
    assert plural("directory.count", 5, "en") == "5 activities"


def test_plural_rules_come_from_babel():
    assert plural_form(1, "sv") == "one"
    assert plural_form(0, "sv") == "other"
    assert plural_form(21, "da") == "other"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_plural_key_has_both_forms(lang):
    keys = catalogue(lang)
    for key in keys:
        if key.endswith(".one"):
            assert key.removesuffix(".one") + ".other" in keys, key


def test_every_plural_key_used_in_code_exists():
    pattern = re.compile(r"""\btn\(\s*["']([a-z0-9_]+\.[a-z0-9_.]+)["']""")
    used: set[str] = set()
    for folder in ("app_pages", "components"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    assert used, "no page uses tn() yet"
    sv = catalogue("sv")
    missing = sorted(k for k in used if f"{k}.one" not in sv or f"{k}.other" not in sv)
    assert not missing, missing


def test_counts_on_pages_use_the_singular_for_one():
    assert plural("partner_referrals.count", 1, "sv") == "1 remiss"
    assert plural("partner_referrals.waiting_days", 1, "da") == "ventet 1 dag"
    assert plural("directory.verified", 1, "sv") == "bekräftad för 1 dag sedan"
    assert plural("home.partner.pending", 1, "en") == "1 activity is awaiting approval."
    assert plural("home.partner.stale", 3, "sv", days=90).startswith("3 aktiviteter har inte")
    assert plural("activity.places", 1, "da", maximum=12) == "1 ledig plads af 12"


def test_import_messages_use_the_singular_for_one_row():
    """Issue 11: "Fel på 1 rader" and "1 nya organisationer" are gone; service errors with a count
    choose their plural form too."""
    from services.errors import ServiceError

    assert plural("import.page.errors_heading", 1, "sv") == "Fel på 1 rad"
    assert plural("import.page.errors_heading", 3, "sv") == "Fel på 3 rader"
    assert plural("import.page.new_organizations", 1, "da", names="X").startswith("1 ny organisation")
    error = ServiceError("import.error.has_errors", count=1)
    from components.i18n import error_text

    assert error_text(error).startswith("1 rad har fel")
    from locales import translate

    assert translate("import.error.has_errors", "en", count=2).startswith("2 rows have errors")


# Numbers the services hand over as text, shown in the user's language (issue 12) ---------------

from locales.formatting import localize_numbers, plotly_separators, shown_decimals  # noqa: E402


@pytest.mark.parametrize(
    ("lang", "text", "shown"),
    [
        ("sv", "65.8", "65,8"),
        ("da", "65.8", "65,8"),
        ("en", "65.8", "65.8"),
        ("sv", "1\u202f234.5", f"1{NBSP}234,5"),
        ("da", "1\u202f234.5", "1.234,5"),
        ("en", "12\u202f345", "12,345"),
        ("sv", "0.52 (0.10–0.94)", "0,52 (0,10–0,94)"),
        ("da", "−0.25", "−0,25"),
        ("sv", "-0.25 / +0.5", "-0,25 / +0,5"),
    ],
)
def test_service_numbers_follow_the_language(lang, text, shown):
    assert localize_numbers(text, lang) == shown


@pytest.mark.parametrize(
    "text",
    ["<5", "–", "*", "2026", "2026-03", "Q2 2025", "HSDS 3.0", "Yoga 2.5", "SE-1280-LIM", "42 %", "0,52"],
)
def test_texts_that_are_not_service_decimals_stay_as_they_are(text):
    """Only a text of numbers alone is reformatted: a name with a version number keeps it."""
    assert localize_numbers(text, "sv") == text


def test_plotly_separators_are_babels_symbols():
    assert plotly_separators("sv") == f",{NBSP}"
    assert plotly_separators("da") == ",."
    assert plotly_separators("en") == ".,"


def test_a_columns_decimals_are_those_of_its_most_precise_value():
    assert shown_decimals([1, 2.5, 0.25, None]) == 2
    assert shown_decimals([3, 4]) == 0
    assert shown_decimals([0.1 + 0.2]) == 1  # float noise is not precision
    assert shown_decimals([1 / 3]) == 4  # capped, never 17 places


def test_outcome_csv_downloads_are_numbers_not_display_text():
    """Centre outcomes shows "−0,90 (−1,00 till −0,70)" and "50 %"; its CSV has the numbers."""
    import csv
    import io

    from components.dashboard import csv_bytes
    from components.outcome_charts import paired_csv, paired_table, rank_csv
    from services.outcomes import PairedRow, RankRow

    def tr(key, **params):
        return key

    rows = [
        PairedRow("ucla3", "lower", "434", "220", 0.49, -0.9, -1.0, -0.7),
        PairedRow("djg6", "lower", "<5", "0", None, None, None, None),
    ]
    shown = paired_table(rows, tr, "sv")[1]
    assert shown[0][4] == "49 %"
    header, body = paired_csv(rows, tr)
    assert body[0][2:] == [434, 220, 49, -0.9, -1.0, -0.7]
    assert body[1][2:] == ["<5", 0, None, None, None, None]
    parsed = list(csv.reader(io.StringIO(csv_bytes(header, body).decode("utf-8-sig"))))
    assert parsed[1][2:] == ["434", "220", "49", "-0.9", "-1.0", "-0.7"]  # machine-readable numbers
    assert rank_csv(
        [RankRow(("Promenad",) * 3, "42", 42), RankRow(("Kör",) * 3, "<5", None)], tr, "sv", "activity"
    )[1] == [["Promenad", 42], ["Kör", "<5"]]
