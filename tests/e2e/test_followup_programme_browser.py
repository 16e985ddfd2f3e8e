"""The follow-up page after a referral offers to change the programme (issue 12), in Swedish, in
a real browser. Read-only on the shared demo server: the section is opened and looked at, nothing
is changed. Screenshot: artifacts/screenshots/followup-programme-change.png."""

from __future__ import annotations

import sqlite3

import pytest

from locales import translate
from settings import DEMO_PASSWORD
from tests.e2e.conftest import error_texts, screenshot, settle, shown
from tests.e2e.test_pages_browser import open_login, submit_login

pytestmark = pytest.mark.browser


def _referred_follow_up(db) -> int:
    """A due follow-up of an active enrolment a referral started, in the demo connector's centres."""
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT f.id FROM follow_up f JOIN enrolment e ON e.id = f.enrolment_id "
            "JOIN user_centre uc ON uc.centre_id = f.centre_id JOIN app_user u ON u.id = uc.user_id "
            "WHERE u.username = 'demo-connector' AND e.status = 'active' AND f.status = 'due' "
            "AND EXISTS (SELECT 1 FROM referral r WHERE r.patient_id = f.patient_id) ORDER BY f.id LIMIT 1"
        ).fetchone()
    assert row, "the demo has no referred patient with a due follow-up"
    return row[0]


def test_follow_up_page_offers_a_programme_change(lotsa_server, tab):
    page = tab
    follow_up = _referred_follow_up(lotsa_server.db_path)
    open_login(page, f"{lotsa_server.base_url}/follow_up?id={follow_up}")  # lands there after login
    submit_login(page, "demo-connector", DEMO_PASSWORD)
    lang = lotsa_server.languages.get("demo-connector", "sv")
    heading = translate("followup.programme_heading", lang)
    section = page.locator('[data-testid="stExpander"]').filter(has_text=heading).first
    section.wait_for(state="visible", timeout=30_000)
    section.get_by_text(heading).first.click()
    settle(page)
    expect_text = translate("followup.programme_help", lang)
    assert expect_text in section.inner_text()
    shown(section.get_by_role("button", name=translate("followup.programme_change", lang)))
    assert not error_texts(page), (error_texts(page), lotsa_server.log_tail())
    screenshot(page, "followup-programme-change")
