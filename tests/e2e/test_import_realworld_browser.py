"""A municipality's real-world workbook and foreign HSDS files in a real browser on the demo data:
the import page finds the data sheet behind an instructions sheet and the heading row under a
title, suggests "Promenader" for "Promenadder" in the downloadable report and imports the rest; the
exchange page refuses an HSDS 1.x package with the reason and lists what an HSDS 3.0 import does
not keep. Screenshots: artifacts/screenshots/realworld-*.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from locales import catalogue, translate
from locales.formatting import plural
from settings import DEMO_PASSWORD
from tests.e2e.conftest import error_texts, screenshot, settle, shown
from tests.e2e.test_pages_browser import nav_link, open_login, submit_login
from tests.test_import_realworld import _row, municipal_xlsx

pytestmark = pytest.mark.browser
INTEROP = Path(__file__).resolve().parents[3] / "shared" / "interop-data"


def tr(key: str, lang: str = "sv", **params) -> str:
    return translate(key, lang, **params)


def login(page, base_url: str, username: str, lang: str = "sv") -> None:
    open_login(page, base_url)
    submit_login(page, username, DEMO_PASSWORD)
    page.get_by_role("button", name=tr("sidebar.logout", lang)).wait_for(state="visible", timeout=15_000)


def test_a_municipal_workbook_with_an_instructions_sheet_and_a_title_row(lotsa_server, tab, tmp_path):
    path = tmp_path / "inventering.xlsx"
    path.write_bytes(
        municipal_xlsx(
            [
                _row("Vårpromenad i Pildammsparken", Telefon=701234567, Kostnad="1 250 kr"),
                _row("Stavgång vid stranden", Dagar="Ti/To", Tid="kl. 10-12", Kostnad="12,50"),
                _row("Promenadkafé", Kategori="Promenadder"),
                _row("Lördagspromenad", Dagar="Lö", Tid="10–11.30"),
            ]
        )
    )
    page = tab
    login(page, lotsa_server.base_url, "demo-manager")
    nav_link(page, tr("page.directory_import")).click()
    settle(page)
    page.locator('[data-testid="stFileUploader"] input[type=file]').set_input_files(str(path))
    settle(page)
    page.get_by_text(plural("import.page.errors_heading", 1, "sv")).wait_for(state="visible", timeout=60_000)
    page.locator('[data-testid="stExpander"] summary').first.click()
    settle(page)
    assert page.get_by_role("combobox", name=tr("import.sheet")).input_value() == "Aktiviteter"
    assert page.get_by_label(tr("import.header_row"), exact=True).input_value() == "3"
    screenshot(page, "realworld-import-preview")
    with page.expect_download() as download:
        page.get_by_role("button", name=tr("import.page.report")).click()
    report = download.value.path().read_bytes()
    assert report.startswith(b"\xef\xbb\xbf") and not report[3:].startswith(b"\xef\xbb\xbf")
    lines = report.decode("utf-8-sig").splitlines()
    assert lines[1] == "6,Kategori,Okänd kategori: Promenadder. Menade du Promenader?", lines
    page.get_by_role("button", name=tr("import.page.run")).click()
    settle(page, timeout_ms=60_000)
    page.get_by_text(re.compile(r"^Klart: 3 aktiviteter importerade")).wait_for(state="visible")
    screenshot(page, "realworld-import-done")
    assert not error_texts(page), error_texts(page)


def test_exchange_refuses_hsds_1_and_lists_what_a_3_0_import_does_not_keep(lotsa_server, tab):
    old, example = INTEROP / "hsds1_open211_miami_datapackage.zip", INTEROP / "hsds30_spec_service_full.json"
    if not old.is_file() or not example.is_file():
        pytest.skip(f"the shared interop data set is absent at {INTEROP}")
    page, lang = tab, lotsa_server.languages.get("demo-admin", "sv")
    login(page, lotsa_server.base_url, "demo-admin", lang)
    nav_link(page, tr("page.directory_exchange", lang)).click()
    settle(page)
    uploader = page.locator('[data-testid="stFileUploader"] input[type=file]')
    uploader.set_input_files(str(old))
    settle(page)
    page.get_by_role("button", name=tr("exchange.import", lang)).click()
    settle(page, timeout_ms=60_000)
    page.get_by_text(plural("exchange.rejected", 1, lang)).wait_for(state="visible", timeout=60_000)
    shown(page.get_by_text(tr("exchange.unsupported_version", lang)))
    # the refusal in the user's language, naming the upload (not the temporary folder)
    start = tr("exchange.error.version_declared", lang, version="\x00").split("\x00")[0]
    refusal = re.compile("^hsds1_open211_miami_datapackage.zip: " + re.escape(start))
    shown(page.get_by_text(refusal))
    assert page.get_by_text("This data package is HSDS").count() == 0
    screenshot(page, "realworld-exchange-refused")

    page.locator('[data-testid="stFileUploader"] input[type=file]').set_input_files(str(example))
    settle(page)
    page.get_by_role("button", name=tr("exchange.import", lang)).click()
    settle(page, timeout_ms=60_000)
    template = re.escape(catalogue(lang)["exchange.dropped"])
    pattern = template.replace(r"\{n\}", r"\d+").replace(r"\{fields\}", r"\d+")
    page.get_by_text(re.compile(pattern)).wait_for(state="visible", timeout=60_000)
    screenshot(page, "realworld-exchange-dropped")
    assert not error_texts(page), error_texts(page)
