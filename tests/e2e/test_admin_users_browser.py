"""The users page in a browser (issue 14): only the open tab runs, so the list tab offers no centre
or organisation pickers; opening "New user" and "Edit user" brings them, and a search narrows the
list. Screenshots: artifacts/screenshots/admin-users-*.png."""

from __future__ import annotations

import pytest

from locales import DEFAULT_LANGUAGE, translate
from settings import DEMO_PASSWORD
from tests.e2e.conftest import error_texts, screenshot, settle
from tests.e2e.test_pages_browser import nav_link, open_login, submit_login

pytestmark = pytest.mark.browser


def test_users_page_tabs_run_on_demand(lotsa_server, tab):
    page = tab
    open_login(page, lotsa_server.base_url)
    submit_login(page, "demo-admin", DEMO_PASSWORD)
    lang = lotsa_server.languages.get("demo-admin", DEFAULT_LANGUAGE)
    page.get_by_role("button", name=translate("sidebar.logout", lang)).wait_for(state="visible")
    nav_link(page, translate("page.admin_users", lang)).click()
    settle(page)
    assert not error_texts(page), error_texts(page)
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("demo-connector", exact=True).first.wait_for(state="attached")
    centres = translate("admin.centres", lang)
    assert main.get_by_text(centres, exact=True).count() == 0  # the list tab has no scope pickers
    screenshot(page, "admin-users-list")

    search = main.get_by_role("textbox", name=translate("admin.search", lang), exact=True)
    search.fill("partner")
    search.press("Enter")
    settle(page)
    count = page.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
    assert any("1" in text for text in count), count

    page.get_by_role("tab", name=translate("admin.tab_create", lang)).click()
    settle(page)
    assert not error_texts(page), error_texts(page)
    main.get_by_text(centres, exact=True).first.wait_for(state="visible")
    screenshot(page, "admin-users-create")

    page.get_by_role("tab", name=translate("admin.tab_edit", lang)).click()
    settle(page)
    assert not error_texts(page), error_texts(page)
    main.get_by_text(translate("admin.choose_user", lang), exact=True).first.wait_for(state="visible")
    main.get_by_text(centres, exact=True).first.wait_for(state="visible")
    screenshot(page, "admin-users-edit")
