"""Keeping the directory fresh in a real browser: a partner edits an activity and updates free
places; a visitor suggests an activity; a manager accepts it, lands in the editor and publishes it.

Screenshots: artifacts/screenshots/upkeep-*.png. Uses the shared demo server (tests/e2e/conftest.py).
"""

from __future__ import annotations

import re

import pytest

from locales import translate
from locales.formatting import plural
from settings import DEMO_PASSWORD
from tests.e2e.conftest import error_texts, screenshot, settle, shown
from tests.e2e.test_pages_browser import nav_link, open_login, submit_login

pytestmark = pytest.mark.browser


def tr(key: str, **params) -> str:
    return translate(key, "sv", **params)


def login(page, base: str, username: str) -> None:
    open_login(page, base)
    submit_login(page, username, DEMO_PASSWORD)


def test_partner_edits_an_activity_and_updates_free_places(lotsa_server, tab):
    page = tab
    login(page, lotsa_server.base_url, "demo-partner")
    nav_link(page, tr("page.directory_upkeep")).click()
    settle(page)
    assert not error_texts(page), error_texts(page)
    screenshot(page, "upkeep-partner")

    # One step: free places of the first activity.
    first = page.locator('[data-testid="stForm"]').first
    field = first.get_by_role("spinbutton")
    field.fill("4")
    first.get_by_role("button", name=tr("upkeep.save_places")).click()
    settle(page)
    shown(page.get_by_text(re.compile(r": 4 lediga platser\.")).first)

    # The editor: rename, save, see the notice and the history on the activity page.
    page.get_by_role("link", name=tr("activity.edit")).first.click()
    settle(page)
    name = page.get_by_label(tr("edit.name"), exact=True)
    old = name.input_value()
    name.fill(f"{old} (ny tid)")
    phone = page.get_by_label(tr("edit.contact_phone"), exact=True)
    phone.fill("ring mig")
    page.get_by_role("button", name=tr("edit.save")).click()
    settle(page)
    shown(page.get_by_text(tr("error.phone_format")).first)
    assert name.input_value() == f"{old} (ny tid)"  # nothing typed is lost
    screenshot(page, "upkeep-edit-error")
    phone.fill("040-12 34 56")
    page.get_by_role("button", name=tr("edit.save")).click()
    settle(page)
    shown(page.get_by_text(tr("edit.saved", n=2)))
    screenshot(page, "upkeep-edit-saved")
    page.get_by_role("link", name=tr("edit.back_to_activity")).click()
    settle(page)
    shown(page.get_by_role("heading", name=f"{old} (ny tid)").first)
    page.get_by_text(re.compile(r"^Ändringshistorik")).first.click()
    settle(page)
    history = page.locator('[data-testid="stExpander"]').filter(has_text="Ändringshistorik")
    history.locator('[data-testid="stDataFrame"]').wait_for(state="visible")
    screenshot(page, "upkeep-activity-history")
    assert not error_texts(page), error_texts(page)


def test_visitor_suggests_and_manager_accepts_and_publishes(lotsa_server, tab, chromium):
    page = tab
    page.goto(f"{lotsa_server.base_url}/suggest")
    settle(page)
    page.get_by_label(tr("suggest.name"), exact=True).fill("Boulekväll i parken")
    page.get_by_label(tr("suggest.organization"), exact=True).fill("PRO Limhamn")
    page.get_by_label(tr("suggest.when"), exact=True).fill("torsdagar 17–19")
    page.get_by_label(tr("suggest.where"), exact=True).fill("Limhamnsparken")
    page.get_by_label(tr("edit.contact_name"), exact=True).fill("Bo Ek")
    page.get_by_label(tr("suggest.contact_phone_long"), exact=True).fill("040-98 76 54")
    page.get_by_role("button", name=tr("suggest.send")).click()
    settle(page)
    shown(page.get_by_text(tr("suggest.thanks")))
    screenshot(page, "upkeep-visitor-suggested")

    manager = chromium.new_context(viewport={"width": 1400, "height": 1000}, locale="sv-SE").new_page()
    try:
        login(manager, lotsa_server.base_url, "demo-manager")
        nav_link(manager, tr("page.directory_upkeep")).click()
        settle(manager)
        shown(manager.get_by_text("Boulekväll i parken").first)
        screenshot(manager, "upkeep-manager-queue")
        # The queue is oldest first: this suggestion is the newest.
        manager.get_by_role("button", name=tr("upkeep.accept")).last.click()
        settle(manager)
        shown(manager.get_by_role("heading", name="Boulekväll i parken").first)
        manager.get_by_role("button", name=tr("upkeep.approve")).click()
        settle(manager)
        shown(manager.get_by_text(tr("upkeep.approved")))
        screenshot(manager, "upkeep-manager-published")
        assert not error_texts(manager), error_texts(manager)
    finally:
        manager.context.close()


def test_manager_imports_a_file_with_errors_and_reads_them(lotsa_server, tab, tmp_path):
    rows = ["Namn;Organisation;Kategori;Kontaktperson;Telefon;Veckodag;Starttid;Sluttid;Adress;Ort"]
    for i in range(1, 21):
        place = f"Parkv {i};Malmö"
        rows.append(
            f"Importpromenad {i};Gåklubben Import;walking;Eva Ek;040-11 22 {i:02d};tisdag;10:00;11:00;{place}"
        )
    rows[5] = "Importpromenad 5;Gåklubben Import;walking;Eva Ek;ring mig;tisdag;10:00;11:00;Parkv 5;Malmö"
    rows[9] = "Importpromenad 9;Gåklubben Import;walking;Eva Ek;040-11 22 09;tisdag;18:00;11:00;Parkv 9;Malmö"
    rows[14] = (
        '=HYPERLINK("http://x");Gåklubben Import;walking;Eva Ek;040-11;tisdag;10:00;11:00;Parkv 14;Malmö'
    )
    path = tmp_path / "inventering.csv"
    path.write_bytes("\n".join(rows).encode("cp1252"))  # as a Windows spreadsheet saves it

    page = tab
    login(page, lotsa_server.base_url, "demo-manager")
    nav_link(page, tr("page.directory_import")).click()
    settle(page)
    page.locator('[data-testid="stFileUploader"] input[type=file]').set_input_files(str(path))
    settle(page)
    page.get_by_text(plural("import.page.errors_heading", 3, "sv")).wait_for(state="visible")
    grid = page.locator('[data-testid="stDataFrame"]').first
    shown(grid)
    screenshot(page, "upkeep-import-preview")
    with page.expect_download() as download:
        page.get_by_role("button", name=tr("import.page.report")).click()
    report = download.value.path().read_bytes().decode("utf-8-sig")
    assert [line.split(",")[0] for line in report.splitlines()[1:4]] == ["6", "10", "15"]
    page.get_by_role("button", name=tr("import.page.run")).click()
    settle(page, timeout_ms=60_000)
    done = page.get_by_text(re.compile(r"^Klart: 17 aktiviteter importerade"))
    done.wait_for(state="visible")
    screenshot(page, "upkeep-import-done")
    assert not error_texts(page), error_texts(page)
