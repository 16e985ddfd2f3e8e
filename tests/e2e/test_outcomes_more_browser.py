"""Health economics, gap analysis and partner feedback in a real browser on the demo data: each
page opens from the sidebar without an error, shows its main parts, and is photographed
(artifacts/screenshots/outcomes-<page>-<user>.png). The SROI calculator is filled in and run."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from locales import translate
from settings import DEMO_PASSWORD
from tests.e2e.conftest import error_texts, screenshot, settle
from tests.e2e.test_pages_browser import nav_link, open_login, submit_login

pytestmark = pytest.mark.browser


def log_in(page, server, username: str) -> str:
    open_login(page, server.base_url)
    submit_login(page, username, DEMO_PASSWORD)
    lang = server.languages.get(username, "sv")
    try:
        page.get_by_role("button", name=translate("sidebar.logout", lang)).wait_for(
            state="visible", timeout=15_000
        )
    except PlaywrightTimeout:
        raise AssertionError(f"{username} not logged in: {error_texts(page)}\n{server.log_tail()}") from None
    return lang


def open_page(page, key: str, lang: str) -> None:
    nav_link(page, translate(f"page.{key}", lang)).click()
    settle(page)
    page.wait_for_timeout(1500)  # charts and the map draw after the script has finished
    settle(page)


def test_manager_economics_with_sroi(lotsa_server, tab):
    page = tab
    lang = log_in(page, lotsa_server, "demo-manager")
    open_page(page, "economics", lang)
    assert not error_texts(page), (error_texts(page), lotsa_server.log_tail())
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert translate("economics.costs", lang) in body
    assert translate("economics.qaly", lang) in body
    # Fill in the SROI form: a discount rate, and a proxy and source in the first outcome row.
    page.get_by_role("textbox", name=translate("economics.field.discount_rate", lang)).fill("3.5")
    grid = page.locator('[data-testid="stDataFrame"]').last
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()

    def key(name: str, times: int = 1) -> None:
        for _ in range(times):
            page.keyboard.press(name)
            page.wait_for_timeout(80)

    def put(value: str) -> None:
        """Edit the selected cell: Enter opens the editor, Enter commits (and moves down)."""
        key("Enter")
        page.wait_for_timeout(200)
        page.keyboard.type(value, delay=20)
        key("Enter")
        page.wait_for_timeout(200)
        key("ArrowUp")

    # The first row's outcome name, then by keyboard: proxy and source of both pre-filled rows.
    page.mouse.click(box["x"] + 120, box["y"] + 52)
    page.wait_for_timeout(300)
    key("ArrowRight", 2)
    put("1000")
    key("ArrowRight")
    put("Made-up proxy for this test only")
    key("ArrowDown")
    put("Made-up proxy for this test only")
    key("ArrowLeft")
    put("500")
    page.get_by_role("button", name=translate("economics.calculate", lang)).click()
    settle(page)
    ratio = page.locator('[data-testid="stMetric"]').filter(has_text=translate("economics.ratio", lang))
    ratio.first.wait_for(timeout=15_000)
    screenshot(page, "outcomes-economics-manager")
    assert not page.locator('[data-testid="stException"]').count(), lotsa_server.log_tail()
    assert not error_texts(page), error_texts(page)
    # the tornado chart of the one-at-a-time sensitivity is drawn
    assert page.get_by_text(translate("economics.tornado_title", lang)).count() >= 1


@pytest.mark.parametrize("username", ["demo-manager", "demo-partner"])
def test_gaps(lotsa_server, tab, username):
    page = tab
    lang = log_in(page, lotsa_server, username)
    open_page(page, "gaps", lang)
    assert not error_texts(page), (error_texts(page), lotsa_server.log_tail())
    body = page.locator('[data-testid="stMain"]').inner_text()
    if username == "demo-manager":
        assert translate("gaps.findings", lang) in body
        assert page.locator('[data-testid="stDeckGlJsonChart"]').count() == 1
    else:  # the demo partner's organisation is a study association, not the municipality
        assert translate("gaps.not_municipality", lang) in body
    screenshot(page, f"outcomes-gaps-{username}")


def test_partner_feedback(lotsa_server, tab):
    page = tab
    lang = log_in(page, lotsa_server, "demo-partner")
    open_page(page, "partner_feedback", lang)
    assert not error_texts(page), (error_texts(page), lotsa_server.log_tail())
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert translate("feedback.by_activity", lang) in body
    assert translate("feedback.outcomes", lang) in body
    screenshot(page, "outcomes-partner_feedback-partner")
