"""The reporting-period picker every dashboard shares (issue 10): only calendar years, quarters and
months, never arbitrary dates; the service refuses anything else with the field named; the chosen
period is mirrored in the URL (?period=2025-Q2) so a view can be shared, and an old ?from=&to= link
naming a whole period still opens it."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from locales import translate
from services.dashboards import Period, default_period, period, period_from_code, reporting_period
from services.errors import ValidationError
from tests.factories import make_world

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["app_pages/outcomes_centre.py", "app_pages/economics.py", "app_pages/gaps.py"]


def test_only_whole_years_quarters_and_months_are_periods():
    assert period(date(2025, 1, 1), date(2025, 12, 31)).kind == "year"
    assert period("2025-04-01", "2025-06-30").label() == "2025 Q2"
    assert period(date(2024, 2, 1), date(2024, 2, 29)).code() == "2024-02"
    for start, end in [
        (date(2025, 1, 1), date(2025, 1, 30)),  # the n / n+1 day attack: one day short
        (date(2025, 1, 2), date(2025, 1, 31)),
        (date(2025, 2, 1), date(2025, 4, 30)),  # three months, not a calendar quarter
        (date(2025, 1, 1), date(2026, 12, 31)),
    ]:
        with pytest.raises(ValidationError) as failed:
            period(start, end)
        assert failed.value.fields["end"][0] == "dashboard.error.not_reporting_period"
    with pytest.raises(ValidationError) as failed:
        period("2025-13-01", "2025-01-31")
    assert "start" in failed.value.fields


def test_reporting_period_validates_each_field():
    assert reporting_period("quarter", "2025", "4") == Period(date(2025, 10, 1), date(2025, 12, 31))
    with pytest.raises(ValidationError) as failed:
        reporting_period("week", "20x5", 0)
    assert set(failed.value.fields) == {"kind", "year", "number"}
    with pytest.raises(ValidationError) as failed:
        reporting_period("month", 2025, 13)
    assert set(failed.value.fields) == {"number"}
    assert period_from_code("2025-q3") == reporting_period("quarter", 2025, 3)
    with pytest.raises(ValidationError) as failed:
        period_from_code("last week")
    assert set(failed.value.fields) == {"period"}


def test_containing_periods():
    month = reporting_period("month", 2025, 5)
    assert [p.label() for p in month.containing()] == ["2025 Q2", "2025"]
    assert default_period(date(2026, 3, 4)) == reporting_period("year", 2026)


@pytest.fixture
def world(sqlite_url):
    st.cache_data.clear()
    return make_world()


def _app(world, **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    now = time.time()
    at.session_state["auth_user_id"] = world.principals["manager"].user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    for k, v in params.items():
        at.query_params[k] = v
    return at


@pytest.mark.parametrize("page", PAGES)
def test_the_picker_offers_reporting_periods_and_keeps_them_in_the_url(world, page):
    at = _app(world)
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    assert not at.date_input  # no free dates
    assert at.query_params["period"] == str(date.today().year)
    (kind,) = [s for s in at.selectbox if s.label == translate("dashboard.period_kind", "sv")]
    kind.set_value("quarter")
    at.run()
    (quarter,) = [s for s in at.selectbox if s.label == translate("dashboard.period_quarter", "sv")]
    (year,) = [s for s in at.selectbox if s.label == translate("dashboard.period_year", "sv")]
    year.set_value(2025)
    quarter.set_value(2)
    at.run()
    assert not at.exception, at.exception
    assert at.query_params["period"] == "2025-Q2"


def test_a_shared_link_and_an_old_link_open_their_period(world):
    at = _app(world, period="2025-03")
    at.switch_page("app_pages/outcomes_centre.py")
    at.run()
    assert not at.exception, at.exception
    (month,) = [s for s in at.selectbox if s.label == translate("dashboard.period_month", "sv")]
    assert month.value == 3
    old = _app(world, **{"from": "2025-01-01", "to": "2025-12-31"})
    old.switch_page("app_pages/outcomes_centre.py")
    old.run()
    assert old.query_params["period"] == "2025" and "from" not in old.query_params
    bad = _app(world, period="yesterday")
    bad.switch_page("app_pages/outcomes_centre.py")
    bad.run()
    assert not bad.exception and bad.query_params["period"] == str(date.today().year)
