"""The centre report: one self-contained HTML file with the figures, tables and charts as shown."""

from __future__ import annotations

import re

import pytest

from locales import translate
from services.dashboards import period
from services.errors import AccessDenied, ValidationError
from services.report import centre_report_html
from tests.factories import make_world
from tests.test_outcomes import END, START, plant


@pytest.fixture
def world(sqlite_url):
    w = make_world()
    plant(w.centre_a, w.org)
    plant(w.centre_b, w.org, people=4, prefix="B")
    return w


def test_report_is_self_contained_and_has_the_figures(world, monkeypatch):
    monkeypatch.setattr("domain.cellkey.MAX_PERTURBATION", 0)  # hand-worked counts below
    page = centre_report_html(world.principals["manager"], None, START, END, None, "en", 3)
    assert page.startswith("<!DOCTYPE html>")
    # No network: no script or stylesheet loaded from anywhere, no remote images or imports.
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)\s*=\s*[\"']?(https?:)?//", page, re.I)
    assert "@import" not in page
    # plotly.js is embedded once, inline.
    assert page.count("Plotly.register") + page.count("plotly.js v") >= 1
    assert len(re.findall(r"/\*\*?\s*\n?\s*\* plotly\.js v", page)) <= 1
    assert "<style>" in page
    assert "Vårdcentral A" in page and "Vårdcentral B" not in page
    assert period(START, END).label() == "2025" and "</b> 2025<br>" in page  # a whole reporting period
    for key in (
        "outcomes.fig.screened",
        "outcomes.paired.header",
        "outcomes.spc.legend",
        "outcomes.def.screened",
    ):
        assert translate(key, "en") in page
    # The paired change by hand (see tests/test_outcomes.py): −1.50 with its interval, and 15 screened.
    assert "−1.50 (" in page
    assert "<td>15</td>" in page
    assert page.count('class="plotly-graph-div"') >= 3


def test_report_for_the_small_centre_has_no_small_counts(world):
    page = centre_report_html(world.principals["connector_b"], None, START, END, None, "sv")
    cells = re.findall(r"<td>([^<]*)</td>", page)
    assert cells and not [c for c in cells if re.fullmatch(r"[1-4]", c.strip())]
    assert "&lt;5" in page


def test_report_scope_and_language_are_checked(world):
    with pytest.raises(AccessDenied):
        centre_report_html(world.principals["manager"], (world.centre_b,), START, END)
    with pytest.raises(ValidationError):
        centre_report_html(world.principals["manager"], None, START, END, None, "xx")
