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


def test_changing_the_programme_in_the_browser_and_opening_the_moved_follow_up(lotsa_server, tab):
    """Changes one demo patient's programme (the last test of this file on the shared server; no
    other browser test looks at this patient's programmes). The page moves to the new programme's
    follow-up, the old follow-up's address says where the person went on, and its link opens the
    new one with the address bar following (a reload opens what is shown)."""
    page = tab
    db = lotsa_server.db_path
    with sqlite3.connect(db) as conn:
        old_id, enrolment = conn.execute(
            "SELECT f.id, e.id FROM follow_up f JOIN enrolment e ON e.id = f.enrolment_id "
            "JOIN user_centre uc ON uc.centre_id = f.centre_id JOIN app_user u ON u.id = uc.user_id "
            "WHERE u.username = 'demo-connector' AND e.status = 'active' AND f.status = 'due' "
            "AND f.timepoint_months > 0 AND NOT EXISTS (SELECT 1 FROM follow_up g WHERE "
            "g.enrolment_id = e.id AND g.timepoint_months > 0 AND g.status = 'completed') "
            "ORDER BY f.id DESC LIMIT 1"
        ).fetchone()
        current = conn.execute(
            "SELECT p.name_sv FROM enrolment e JOIN programme p ON p.id = e.programme_id WHERE e.id = ?",
            (enrolment,),
        ).fetchone()[0]
        other = conn.execute(
            "SELECT name_sv FROM programme WHERE name_sv != ? ORDER BY id LIMIT 1", (current,)
        ).fetchone()[0]
    lang = "sv"
    open_login(page, f"{lotsa_server.base_url}/follow_up?id={old_id}")
    submit_login(page, "demo-connector", DEMO_PASSWORD)
    heading = translate("followup.programme_heading", lang)
    section = page.locator('[data-testid="stExpander"]').filter(has_text=heading).first
    section.wait_for(state="visible", timeout=30_000)
    section.get_by_text(heading).first.click()
    settle(page)
    section.locator('[data-testid="stSelectbox"]').click()
    page.get_by_role("option", name=other).click()
    settle(page)
    # choosing reruns nothing: the section is still open with its button
    section.get_by_role("button", name=translate("followup.programme_change", lang)).click()
    settle(page)
    shown(page.get_by_text(translate("followup.programme_changed", lang, programme=other)))
    with sqlite3.connect(db) as conn:
        moved_to = conn.execute("SELECT moved_to_id FROM enrolment WHERE id = ?", (enrolment,)).fetchone()[0]
        new_ids = {r[0] for r in conn.execute("SELECT id FROM follow_up WHERE enrolment_id = ?", (moved_to,))}
    assert moved_to and int(page.url.split("id=")[1].split("&")[0]) in new_ids, page.url

    # The care page lists the old programme as moved; its follow-up says where the person went on.
    page.get_by_role("link", name=translate("followup.open_care", lang)).first.click()
    settle(page)
    shown(page.get_by_text(translate("followup.care.moved", lang)).first)
    page.locator(f'a[href*="follow_up?id={old_id}"]').first.click()
    settle(page)
    shown(page.get_by_text(translate("followup.moved_notice", lang, programme=other)))
    assert page.get_by_role("button", name=translate("followup.complete", lang)).count() == 0
    assert not error_texts(page), error_texts(page)
    screenshot(page, "followup-moved")
    page.get_by_text(translate("followup.moved_open", lang, programme=other)).click()
    settle(page)
    shown(page.get_by_text(translate("followup.complete", lang)).first)  # the new one takes answers
    target = int(page.url.split("id=")[1].split("&")[0])
    assert target in new_ids, page.url  # the address bar follows the link (a reload opens it)
