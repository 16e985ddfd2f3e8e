"""Reference data in a real browser: the demo admin opens the page and sees the demo centres and
the target groups with their synonyms; a centre without a municipality is refused with the field
named and the typed values kept. Screenshots: artifacts/screenshots/reference-*.png."""

from __future__ import annotations

import pytest

from locales import translate
from settings import DEMO_PASSWORD
from tests.e2e.conftest import error_texts, screenshot, settle
from tests.e2e.test_pages_browser import nav_link, open_login, submit_login

pytestmark = pytest.mark.browser


def test_admin_sees_reference_data_and_a_bad_hsa_id_is_refused(lotsa_server, tab):
    page = tab
    lang = lotsa_server.languages.get("demo-admin", "sv")  # the UI switches to the user's language
    open_login(page, lotsa_server.base_url)
    submit_login(page, "demo-admin", DEMO_PASSWORD)
    logout = page.get_by_role("button", name=translate("sidebar.logout", lang))
    logout.wait_for(state="visible", timeout=15_000)
    nav_link(page, translate("page.admin_reference", lang)).click()
    settle(page)
    assert not error_texts(page), f"{error_texts(page)}\n{lotsa_server.log_tail()}"
    page.get_by_role("heading", name=translate("page.admin_reference", lang)).wait_for()
    form = page.locator('[data-testid="stForm"]').first
    form.get_by_label(translate("reference.field.code", lang), exact=True).fill("VC-TEST")
    form.get_by_label(translate("reference.field.name", lang), exact=True).fill("Vårdcentralen Test")
    form.get_by_label(translate("reference.field.identifier", lang), exact=True).fill("SE123")
    form.get_by_role("button", name=translate("reference.add", lang)).click()
    settle(page)
    page.locator('[data-testid="stAlertContentError"]').first.wait_for()
    shown = "\n".join(error_texts(page))
    assert translate("reference.field.municipality", lang) in shown  # no municipality chosen yet
    assert translate("error.required", lang) in shown
    assert form.get_by_label(translate("reference.field.code", lang), exact=True).input_value() == "VC-TEST"
    screenshot(page, "reference-centre-error")
    page.get_by_role("tab", name=translate("reference.tab.target_groups", lang)).click()
    settle(page)
    screenshot(page, "reference-target-groups")
