"""The connector's whole flow in a real browser (issue 12): register a new patient, who is on "my
patients" at once with name and phone; a half-answered questionnaire is not saved by accident (the
unanswered questions are named, the answers kept) and is saved on purpose with a reason; the
referral starts social prescribing with the screening as baseline; when the 3-month follow-up
falls due (its date set to today in the database: the test clock) it is on the worklist, by name,
and opens the follow-up.

Screenshots: artifacts/screenshots/connector-*.png. Uses the shared demo server.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import date

import pytest
from playwright.sync_api import expect

from db.demo import fake_personnummer
from domain.instrument_defs import definition
from locales import translate
from settings import DEMO_PASSWORD
from tests.e2e.conftest import error_texts, screenshot, settle
from tests.e2e.test_pages_browser import nav_link, open_login, submit_login

pytestmark = pytest.mark.browser
expect.set_options(timeout=30_000)  # a loaded machine: Streamlit reruns can take seconds

LANG = "sv"  # demo-connector works in Swedish
NAME = "Astrid Flödesson"
PHONE = "070-555 12 34"


def tr(key: str, **params) -> str:
    return translate(key, LANG, **params)


def click(page, locator) -> None:
    locator.click()
    settle(page)


def radio_group(page, code: str, item: int):
    """The radio group of item number `item` (1-based) of instrument `code`."""
    text = f"{item}. {definition(code).items[item - 1].text[LANG]}"
    return page.locator('[data-testid="stRadio"]').filter(has_text=text)


def answer(page, code: str, item: int, value) -> None:
    label = definition(code).items[item - 1].label(value, LANG)
    click(page, radio_group(page, code, item).get_by_text(label, exact=True))


def responses(db: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT r.instrument, r.total, r.incomplete_reason FROM instrument_response r "
            "WHERE r.patient_id = (SELECT MAX(id) FROM patient) ORDER BY r.id"
        ).fetchall()


def test_connector_flow_from_registration_to_follow_up_due(lotsa_server, tab):
    try:
        _flow(lotsa_server, tab)
    except Exception:
        screenshot(tab, "connector-failure")  # what the page showed when a step failed
        raise


def _flow(lotsa_server, tab) -> None:
    page = tab
    db = str(lotsa_server.db_path)
    open_login(page, lotsa_server.base_url)
    submit_login(page, "demo-connector", DEMO_PASSWORD)
    page.get_by_role("button", name=tr("sidebar.logout")).wait_for(state="visible", timeout=15_000)

    # 1. Register a new patient with consent to referral.
    click(page, nav_link(page, tr("page.patients")))
    number = fake_personnummer(date(1951, 6, 3), True, 612)
    search = page.locator('[data-testid="stForm"]').first
    search.get_by_label(tr("patients.national_id"), exact=True).fill(number)
    click(page, search.get_by_role("button", name=tr("patients.search")))
    register = page.locator('[data-testid="stForm"]').nth(1)
    register.get_by_label(tr("patients.name"), exact=True).fill(NAME)
    register.get_by_label(tr("patients.phone"), exact=True).fill(PHONE)
    click(page, register.get_by_text(tr("patients.consent_referral"), exact=True))
    click(page, register.get_by_role("button", name=tr("patients.register")))
    expect(page.get_by_text(NAME).first).to_be_visible()

    # 2. At once on "my patients", with name, phone and the next action.
    click(page, nav_link(page, tr("page.home_connector")))
    expect(page.get_by_text(tr("caseload.title"), exact=True)).to_be_visible()
    row = page.locator('[data-testid="stHorizontalBlock"]').filter(has_text=NAME).first
    expect(row.get_by_text(PHONE)).to_be_visible()
    expect(row.get_by_text(tr("caseload.action_screening_missing"))).to_be_visible()
    screenshot(page, "connector-new-patient-on-worklist")

    # 3. Screening. A half-answered UCLA-3 is refused with the unanswered questions named.
    click(page, row.get_by_role("link", name=tr("caseload.open_screening")))
    answer(page, "ucla3", 1, 3)
    ucla = definition("ucla3").short_name
    click(page, page.get_by_role("button", name=tr("instruments.save", name=ucla), exact=True))
    expect(page.locator('[data-testid="stAlertContentError"]').first).to_be_visible()
    refused = " ".join(page.locator('[data-testid="stAlertContentError"]').all_inner_texts())
    assert tr("error.instrument_incomplete") in refused
    for n in (2, 3):
        assert f"{n}. {definition('ucla3').items[n - 1].text[LANG]}" in refused
    assert f"1. {definition('ucla3').items[0].text[LANG]}" not in refused
    assert responses(db) == []  # nothing saved by accident
    screenshot(page, "connector-partial-refused")
    # The answer given is kept; answering the rest saves a scored UCLA-3.
    label = definition("ucla3").items[0].label(3, LANG)
    expect(radio_group(page, "ucla3", 1).get_by_role("radio", name=label)).to_be_checked()
    answer(page, "ucla3", 2, 3)
    answer(page, "ucla3", 3, 3)
    click(page, page.get_by_role("button", name=tr("instruments.save", name=ucla), exact=True))
    expect(page.get_by_text(tr("instruments.band_ucla3_lonely")).first).to_be_visible()

    # SWEMWBS cannot be finished: saved on purpose as incomplete, with the reason.
    answer(page, "swemwbs", 1, 3)
    answer(page, "swemwbs", 2, 4)
    click(page, page.get_by_text(tr("connector.incomplete_heading")))
    click(page, page.get_by_label(tr("connector.incomplete_reason")).first)
    click(page, page.get_by_role("option", name=tr("connector.incomplete_reason_out_of_time")))
    swem = definition("swemwbs").short_name
    click(page, page.get_by_role("button", name=tr("connector.incomplete_save", name=swem)))
    reason = tr("connector.incomplete_reason_out_of_time")
    expect(page.get_by_text(tr("connector.incomplete_saved_as", reason=reason))).to_be_visible()
    assert responses(db) == [("ucla3", 9.0, None), ("swemwbs", None, "out_of_time")]
    screenshot(page, "connector-screening")

    # 4. Suggestions: the referral will start social prescribing with today's screening as baseline.
    click(page, page.get_by_role("link", name=tr("instruments.to_matching")))
    programme = "Social förskrivning"
    baseline = tr(
        "referral_followup.baseline", programme=programme, day=date.today().isoformat(), instruments=ucla
    )
    expect(page.get_by_text(baseline)).to_be_visible()
    refer = page.get_by_role("button", name=re.compile(f"^{re.escape(tr('matching.refer'))}$"))
    click(page, refer.first)
    expect(page.get_by_text(tr("matching.refer_done")).first).to_be_visible()
    expect(
        page.get_by_text(tr("referral_followup.started", programme=programme), exact=False)
    ).to_be_visible()
    screenshot(page, "connector-referred")

    # 5. The timeline (a data grid: its accessible cells) marks the SWEMWBS incomplete, with the reason.
    click(page, page.get_by_role("link", name=tr("matching.open_patient")))
    marked = f"{swem} · {tr('connector.incomplete_with_reason', reason=reason)}"
    expect(page.locator('[role="gridcell"]').filter(has_text=marked)).to_have_count(1)
    screenshot(page, "connector-timeline")

    # 6. Three months on (the test clock: the 3-month follow-up's date set to today), it is due.
    with sqlite3.connect(db) as conn:
        enrolment, baseline_on = conn.execute(
            "SELECT e.id, e.enrolled_on FROM enrolment e JOIN referral r ON r.enrolment_id = e.id "
            "WHERE r.patient_id = (SELECT MAX(id) FROM patient)"
        ).fetchone()
        assert baseline_on == date.today().isoformat()
        statuses = dict(
            conn.execute(
                "SELECT timepoint_months, status FROM follow_up WHERE enrolment_id = ?", (enrolment,)
            ).fetchall()
        )
        assert statuses == {0: "completed", 3: "due", 6: "due"}
        conn.execute(
            "UPDATE follow_up SET due_on = ? WHERE enrolment_id = ? AND timepoint_months = 3",
            (date.today().isoformat(), enrolment),
        )
    click(page, nav_link(page, tr("page.home_connector")))
    row = page.locator('[data-testid="stHorizontalBlock"]').filter(has_text=NAME).first
    due_text = tr("caseload.action_follow_up_today", timepoint=tr("followup.months", n=3))
    expect(row.get_by_text(due_text)).to_be_visible()
    expect(row.get_by_text(PHONE)).to_be_visible()
    screenshot(page, "connector-follow-up-due")
    click(page, row.get_by_role("link", name=tr("caseload.open_follow_up")))
    expect(page.get_by_role("heading", name=re.compile(re.escape(NAME))).first).to_be_visible()
    assert not error_texts(page), error_texts(page)
