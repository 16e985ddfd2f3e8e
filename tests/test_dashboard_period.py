"""The period filter every dashboard shares: an end before the start is refused with a message
naming the field, the typed dates stay in their inputs, and the page keeps showing the last good
period; the chosen period is mirrored in the URL so a view can be shared."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from locales import translate
from tests.factories import make_world

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["app_pages/outcomes_centre.py", "app_pages/economics.py", "app_pages/gaps.py"]


@pytest.fixture
def world(sqlite_url):
    st.cache_data.clear()
    return make_world()


@pytest.mark.parametrize("page", PAGES)
def test_end_before_start_is_refused_and_the_dates_are_kept(world, page):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    now = time.time()
    at.session_state["auth_user_id"] = world.principals["manager"].user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    start_label, end_label = translate("dashboard.from", "sv"), translate("dashboard.to", "sv")
    (start,) = [d for d in at.date_input if d.label == start_label]
    (end,) = [d for d in at.date_input if d.label == end_label]
    good_from = at.query_params["from"]
    start.set_value(date(2026, 6, 1))
    end.set_value(date(2026, 1, 1))
    at.run()
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error)
    assert translate("dashboard.error.end_before_start", "sv") in errors
    assert end_label in errors  # the message names the field
    (start,) = [d for d in at.date_input if d.label == start_label]
    (end,) = [d for d in at.date_input if d.label == end_label]
    assert (start.value, end.value) == (date(2026, 6, 1), date(2026, 1, 1))  # nothing typed is lost
    assert at.query_params["from"] == good_from  # the URL keeps the last good period
