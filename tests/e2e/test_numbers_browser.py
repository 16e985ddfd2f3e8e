"""Numbers in Swedish in a real browser (issue 12): a dashboard's figures, tables and chart axes
write a decimal comma, never a decimal point ("65,8", not "65.8"). The manager opens Centre
outcomes and Health economics. Screenshots: artifacts/screenshots/numbers-<page>-sv.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from locales import translate
from settings import DEMO_PASSWORD
from tests.e2e.conftest import error_texts, screenshot, settle
from tests.e2e.test_pages_browser import nav_link, open_login, submit_login

pytestmark = pytest.mark.browser

USER = "demo-manager"
DECIMAL_POINT = re.compile(r"(?<![\d.,:/-])\d+\.\d+(?![\d.:/-])")
DECIMAL_COMMA = re.compile(r"\d,\d")
CHART_TEXT = (
    '[data-testid="stPlotlyChart"] .xtick text, [data-testid="stPlotlyChart"] .ytick text, '
    '[data-testid="stPlotlyChart"] .annotation-text, [data-testid="stPlotlyChart"] .bartext'
)


def _login(page, server) -> str:
    open_login(page, server.base_url)
    submit_login(page, USER, DEMO_PASSWORD)
    lang = server.languages.get(USER, "sv")
    try:
        page.get_by_role("button", name=translate("sidebar.logout", lang)).wait_for(
            state="visible", timeout=15_000
        )
    except PlaywrightTimeout:
        raise AssertionError(f"{USER} not logged in: {error_texts(page)}\n{server.log_tail()}") from None
    return lang


def _numbers_shown(page) -> tuple[list[str], list[str]]:
    """(metric values and table/markdown text of the main area, the charts' tick and label texts)."""
    metrics = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    captions = page.locator('[data-testid="stCaptionContainer"], [data-testid="stMarkdownContainer"]')
    return metrics + captions.all_inner_texts(), page.locator(CHART_TEXT).all_text_contents()


@pytest.mark.parametrize(("page_key", "file"), [("outcomes_centre", "outcomes"), ("economics", "economics")])
def test_a_dashboard_in_swedish_writes_a_decimal_comma(lotsa_server, tab, page_key, file):
    page = tab
    lang = _login(page, lotsa_server)
    assert lang == "sv", f"{USER} is expected to use Swedish, not {lang}"
    nav_link(page, translate(f"page.{page_key}", lang)).click()
    settle(page)
    # Health economics draws its chart only after an SROI calculation; its figures come first.
    first = "stPlotlyChart" if page_key == "outcomes_centre" else "stMetricValue"
    page.locator(f'[data-testid="{first}"]').first.wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(1500)  # let plotly draw its axes
    assert not error_texts(page), (error_texts(page), lotsa_server.log_tail())
    texts, chart_texts = _numbers_shown(page)
    shown = [t for t in texts + chart_texts if DECIMAL_POINT.search(t)]
    assert shown == [], shown
    if page_key == "outcomes_centre":
        assert chart_texts, "no chart tick labels found"
    else:  # the staff hours and the ratios have decimals
        assert any(DECIMAL_COMMA.search(t) for t in texts), texts
    screenshot(page, f"numbers-{file}-sv")
