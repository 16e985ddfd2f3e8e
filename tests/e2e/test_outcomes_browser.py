"""The centre dashboard in a real browser on the demo data: the manager (Limhamn and Rosengård) and
the connector (Limhamn) open it from the sidebar; no error; the figures, tables and charts are there.
Screenshots: artifacts/screenshots/outcomes-centre-<role>.png (looked at by hand)."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from locales import translate
from settings import DEMO_PASSWORD
from tests.e2e.conftest import error_texts, screenshot, settle
from tests.e2e.test_pages_browser import LOGIN_LANG, nav_link, open_login, submit_login

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("username", "role"), [("demo-manager", "manager"), ("demo-connector", "connector")])
def test_centre_dashboard_opens_without_errors(lotsa_server, tab, username, role):
    page = tab
    open_login(page, lotsa_server.base_url)
    submit_login(page, username, DEMO_PASSWORD)
    lang = lotsa_server.languages.get(username, LOGIN_LANG)
    try:
        page.get_by_role("button", name=translate("sidebar.logout", lang)).wait_for(
            state="visible", timeout=15_000
        )
    except PlaywrightTimeout:
        raise AssertionError(
            f"{username} not logged in: {error_texts(page)}\n{lotsa_server.log_tail()}"
        ) from None
    link = nav_link(page, translate("page.outcomes_centre", lang))
    assert link.count() == 1
    link.click()
    settle(page)
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(1500)  # let plotly draw
    assert not error_texts(page), (error_texts(page), lotsa_server.log_tail())
    body = page.locator('[data-testid="stMain"]').inner_text()
    for key in (
        "outcomes.fig.screened",
        "outcomes.paired.header",
        "outcomes.spc.header",
        "outcomes.activities.header",
    ):
        assert translate(key, lang) in body, key
    assert page.locator('[data-testid="stMetric"]').count() == 10
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 4
    if role == "connector":
        assert "Rosengård" not in body
    screenshot(page, f"outcomes-centre-{role}")
