"""Compare centres and Evaluation in a real browser on the demo data: demo-region (four Swedish
centres) opens both pages, picks a centre from a funnel plot, and the pages show no error.
Screenshots: artifacts/screenshots/compare-*.png and evaluation-*.png."""

from __future__ import annotations

import pytest

from locales import translate
from settings import DEMO_PASSWORD
from tests.e2e.conftest import error_texts, screenshot, settle
from tests.e2e.test_pages_browser import nav_link, open_login, submit_login

pytestmark = pytest.mark.browser
LANG = "sv"


def login(page, server, username: str) -> None:
    open_login(page, server.base_url)
    submit_login(page, username, DEMO_PASSWORD)
    page.get_by_role("button", name=translate("sidebar.logout", LANG)).wait_for(
        state="visible", timeout=15_000
    )


def open_page(page, key: str) -> None:
    nav_link(page, translate(f"page.{key}", LANG)).click()
    settle(page)


def test_region_manager_compares_centres_and_picks_one(lotsa_server, tab):
    page = tab
    login(page, lotsa_server, "demo-region")
    open_page(page, "outcomes_compare")
    assert not error_texts(page), f"{error_texts(page)}\n{lotsa_server.log_tail()}"
    page.get_by_text(translate("compare.metric.followup_completion", LANG)).first.wait_for()
    assert page.locator(".js-plotly-plot").count() == 3
    screenshot(page, "compare-region")
    # pick a centre on the chart: a box drawn around one point of the follow-up funnel (a synthetic
    # single click on a plotly point does not register with plotly.js; the box selection does)
    points = page.locator(".js-plotly-plot").nth(1).locator(".scatterlayer .trace .points path")
    assert points.count() >= 3
    target = points.nth(points.count() - 1)
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx - 14, cy - 14)
    page.mouse.down()
    page.mouse.move(cx + 14, cy + 14, steps=8)
    page.mouse.up()
    settle(page)
    opened = translate("compare.open_centre", LANG, name="")[:-1].strip()
    page.get_by_text(opened).first.wait_for(timeout=15_000)
    picked_from_chart = page.get_by_text(opened).first.inner_text()
    assert "Vårdcentralen" in picked_from_chart
    # the selectbox picks too (keyboard path)
    page.get_by_label(translate("compare.pick", LANG)).click()
    page.keyboard.type("Limhamn")
    page.keyboard.press("Enter")
    settle(page)
    assert page.get_by_text(translate("compare.open_centre", LANG, name="Vårdcentralen Limhamn")).count() >= 1
    assert not error_texts(page)
    screenshot(page, "compare-region-picked")


def test_manager_with_two_centres_is_told_plainly(lotsa_server, tab):
    page = tab
    login(page, lotsa_server, "demo-manager")
    open_page(page, "outcomes_compare")
    assert not error_texts(page)
    page.get_by_text(translate("compare.too_few", LANG, n=2, min=3)).wait_for()
    screenshot(page, "compare-manager")


@pytest.mark.parametrize("username", ["demo-region", "demo-manager"])
def test_evaluation_page(lotsa_server, tab, username):
    page = tab
    login(page, lotsa_server, username)
    open_page(page, "evaluation")
    assert not error_texts(page), f"{error_texts(page)}\n{lotsa_server.log_tail()}"
    page.get_by_text(translate("evaluation.flow_title", LANG)).first.wait_for()
    assert page.locator(".js-plotly-plot").count() >= 4
    screenshot(page, f"evaluation-{username}")
