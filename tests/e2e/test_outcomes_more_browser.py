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
    grid.wait_for(state="visible")
    box = grid.bounding_box()
    # Select the first row's outcome name, then move right with the keyboard: quantity, proxy, source.
    page.mouse.click(box["x"] + 120, box["y"] + 52)
    for steps, value in ((2, "1000"), (1, "Made-up proxy for this test only")):
        for _ in range(steps):
            page.keyboard.press("ArrowRight")
        page.keyboard.type(value)
        page.keyboard.press("Tab")
        page.wait_for_timeout(300)
        page.keyboard.press("ArrowLeft")
    page.get_by_role("button", name=translate("economics.calculate", lang)).click()
    settle(page)
    page.wait_for_timeout(1500)
    settle(page)
    screenshot(page, "outcomes-economics-manager")
    body = page.locator('[data-testid="stMain"]').inner_text()
    # Either the result (ratio) or a per-field error naming the row; never an exception.
    assert not page.locator('[data-testid="stException"]').count(), lotsa_server.log_tail()
    assert translate("economics.ratio", lang) in body or translate("economics.error.invalid", lang) in body


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
