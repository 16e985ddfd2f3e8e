"""Partner feedback on a planted world: the activities x status table by hand, its suppression
(nothing recoverable), only the partner's own activities, denials audited, paired outcome change
with its confidence interval from n >= min_n and "too few" below; AppTest for the page."""

from __future__ import annotations

import math
import time
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from scipy import stats
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.engine import read_session, write_session
from db.models import AuditEvent, Enrolment, InstrumentResponse, Patient, Programme, Referral, Service
from domain.disclosure import TOTAL, recoverable_cells
from locales import translate
from services import partner_feedback as pf
from services.errors import AccessDenied
from tests.factories import make_world
from tests.test_disclosure_attacks import milp_ranges

START, END = date(2025, 1, 1), date(2025, 12, 31)
ROOT = Path(__file__).resolve().parents[1]
PLAN = {
    # activity -> [(status, reason, count)]
    "Walk": [("completed", "got_help", 6), ("rejected", "no_capacity", 2), ("in-progress", None, 5)],
    "Choir": [("completed", "got_help", 3), ("requested", None, 5)],
}


def plant(world, *, paired: int = 8) -> dict[str, int]:
    """The partner's organisation runs Walk and Choir; the other organisation runs Café with 9
    completed referrals (never shown to the partner). `paired` of Walk's completed or started
    people have UCLA-3 pairs with changes -2 (half) and -1 (half)."""
    with write_session() as s:
        ids = {}
        for name, org in (("Walk", world.org), ("Choir", world.org), ("Café", world.other_org)):
            svc = Service(organization_id=org, name=name)
            s.add(svc)
            s.flush()
            ids[name] = svc.id
        prog = Programme(code="sp", name_sv="SP", name_da="SP", name_en="SP")
        s.add(prog)
        s.flush()
        n = 0
        started = []
        plan = {**PLAN, "Café": [("completed", "got_help", 9)]}
        for name, items in plan.items():
            for status, reason, count in items:
                for _ in range(count):
                    n += 1
                    p = Patient(pseudonym=f"P{n:05d}", centre_id=world.centre_a)
                    s.add(p)
                    s.flush()
                    s.add(
                        Referral(
                            patient_id=p.id,
                            centre_id=world.centre_a,
                            service_id=ids[name],
                            status=status,
                            outcome_reason=reason,
                            created_on=date(2025, 4, 1),
                        )
                    )
                    if name == "Walk" and status in ("completed", "in-progress"):
                        started.append(p)
        # one referral outside the period and one entered in error: never counted
        s.add(
            Referral(
                patient_id=started[0].id,
                centre_id=world.centre_a,
                service_id=ids["Walk"],
                status="completed",
                created_on=date(2024, 4, 1),
            )
        )
        s.add(
            Referral(
                patient_id=started[0].id,
                centre_id=world.centre_a,
                service_id=ids["Walk"],
                status="entered-in-error",
                created_on=date(2025, 4, 1),
            )
        )
        for i, p in enumerate(started[:paired]):
            e = Enrolment(
                patient_id=p.id, programme_id=prog.id, centre_id=world.centre_a, enrolled_on=date(2025, 3, 1)
            )
            s.add(e)
            s.flush()
            change = -2.0 if i % 2 == 0 else -1.0
            for tp, score in ((0, 8.0), (3, 7.0), (6, 8.0 + change)):
                s.add(
                    InstrumentResponse(
                        patient_id=p.id,
                        centre_id=world.centre_a,
                        enrolment_id=e.id,
                        instrument="ucla3",
                        administered_on=date(2025, 3 + tp, 1),
                        timepoint_months=tp,
                        total=score,
                        score=score,
                    )
                )
        return ids


@pytest.fixture
def world(db_url):
    return make_world()


def original_cells(ids) -> dict:
    """The body as planted, rows in the service's order (by activity name)."""
    group = {s: g for g, ss in pf.STATUS_GROUPS.items() for s in ss}
    cells = {}
    for name in ("Choir", "Walk"):
        for c in pf.COLUMNS:
            cells[(str(ids[name]), c)] = 0
        for status, _reason, count in PLAN[name]:
            cells[(str(ids[name]), group[status])] += count
    return cells


def test_table_by_hand_with_suppression(world, monkeypatch):
    monkeypatch.setattr("domain.cellkey.MAX_PERTURBATION", 0)  # hand-worked counts; see the next test
    ids = plant(world)
    view = pf.feedback(world.principals["partner"], START, END)
    table = view.table
    walk, choir = str(ids["Walk"]), str(ids["Choir"])
    assert set(view.activity_names) == {walk, choir}  # never the other organisation's Café
    assert view.activity_names[walk] == "Walk"
    # Body by hand: Walk 0 / 5 / 6 / 2 / 0 (13), Choir 0 / 0 / 3 / 0 / 5 (8), total 21.
    # Primary: Walk declined 2, Choir completed 3 and the declined total 2; secondary cells as the
    # method in domain.disclosure decides (exact linear, then interval protection, issue 10).
    assert table.text[(walk, "declined")] == "<5" and table.text[(choir, "completed")] == "<5"
    assert table.text[(TOTAL, "declined")] == "<5"
    assert table.text[(TOTAL, TOTAL)] == "21"
    # Integer reasoning pins no "<5" cell (independent audit, tests/test_disclosure_attacks.py).
    attack = milp_ranges(table, original_cells(ids), table.rules)
    baseline = milp_ranges(table, original_cells(ids), table.rules, symbols_only=True)
    assert attack == baseline
    # The columns holding a hidden cell are protected by complementary cells: nothing recoverable.
    assert recoverable_cells(table, original_cells(ids)) == set()
    assert not [t for t in table.text.values() if t.isdigit() and 0 < int(t) < 5]
    # the declined total is hidden ("<5"), so the reasons (which sum to it) are not shown at all
    assert view.reasons is None


def test_table_counts_are_perturbed_like_every_dashboard_count(world, monkeypatch):
    """Issue 10: the partner's table shows cell-key perturbed counts; what is hidden is decided on
    the true counts, so the pattern is the same; no shown count is 1-4 and none is off by more than
    the maximum perturbation."""
    ids = plant(world)
    shown = pf.feedback(world.principals["partner"], START, END).table
    from services.dashboards import clear_caches

    clear_caches()
    monkeypatch.setattr("domain.cellkey.MAX_PERTURBATION", 0)
    exact = pf.feedback(world.principals["partner"], START, END).table
    assert set(shown.suppressed) == set(exact.suppressed)
    assert set(shown.values) == set(exact.values)
    for key, value in shown.values.items():
        assert abs(value - exact.values[key]) <= 2 and not 0 < value < 5
    assert original_cells(ids)


def test_outcomes_ci_by_hand(world, monkeypatch):
    monkeypatch.setattr("domain.cellkey.MAX_PERTURBATION", 0)  # hand-worked n
    plant(world, paired=8)
    (ucla, swemwbs) = pf.feedback(world.principals["partner"], START, END).outcomes
    assert ucla.n_text == "8"
    assert math.isclose(ucla.mean_change, -1.5)
    sd = math.sqrt(8 * 0.25 / 7)
    half = stats.t.ppf(0.975, 7) * sd / math.sqrt(8)
    # published to one decimal (issue 10: never full precision)
    assert (ucla.ci_low, ucla.ci_high) == (round(-1.5 - half, 1), round(-1.5 + half, 1))
    assert swemwbs.n_text == "0" and swemwbs.mean_change is None


def test_outcomes_too_few(world, monkeypatch):
    monkeypatch.setattr("domain.cellkey.MAX_PERTURBATION", 0)  # hand-worked n
    plant(world, paired=7)
    ucla = pf.feedback(world.principals["partner"], START, END).outcomes[0]
    assert ucla.n_text == "7" and ucla.mean_change is None and ucla.ci_low is None


def test_scope_and_denials(world):
    plant(world)
    with pytest.raises(AccessDenied):
        pf.feedback(world.principals["partner"], START, END, organization_ids=(world.other_org,))
    for role in ("manager", "connector"):
        with pytest.raises(AccessDenied):
            pf.feedback(world.principals[role], START, END)
    with read_session() as s:
        denied = {
            (e.username, e.action) for e in s.exec(select(AuditEvent).where(AuditEvent.outcome == "denied"))
        }
    assert {("t-partner", pf.ACTION), ("t-manager", pf.ACTION), ("t-connector", pf.ACTION)} <= denied


@pytest.fixture
def page_world(sqlite_url):
    st.cache_data.clear()
    st.cache_resource.clear()
    w = make_world()
    plant(w)
    return w


def test_page_for_partner(page_world, monkeypatch):
    monkeypatch.setattr("domain.cellkey.MAX_PERTURBATION", 0)  # the hand-worked total below
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    now = time.time()
    at.session_state["auth_user_id"] = page_world.principals["partner"].user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    at.switch_page("app_pages/partner_feedback.py")
    at.query_params["from"] = START.isoformat()
    at.query_params["to"] = END.isoformat()
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == [translate("page.partner_feedback", "sv")]
    frames = at.dataframe
    assert len(frames) == 2  # activities x status and outcomes; reasons withheld (declined total hidden)
    walk = frames[0].value
    assert "Walk" in list(walk.iloc[:, 0]) and "Café" not in list(walk.iloc[:, 0])
    assert "21" in list(walk.iloc[:, 1])
    assert any(m.value == "21" for m in at.metric)


# Issue 10: a partner knows who was referred (first names on the referral list) ----------------------


def _plant_quarters(world) -> None:
    """Walk (the partner's): 10 people referred in February with a UCLA-3 change of -1, ONE person
    referred in May with a change of +5, 10 people referred in August with -2; all completed, each
    with an enrolment, a baseline and a 3-month follow-up. The partner's referral list shows the May
    person by first name, so any statistic that isolates May gives that person's value."""
    with write_session() as s:
        svc = Service(organization_id=world.org, name="Walk")
        prog = Programme(code="sp", name_sv="SP", name_da="SP", name_en="SP")
        s.add_all([svc, prog])
        s.flush()
        n = 0
        for day, count, change in (
            (date(2025, 2, 3), 10, -1.0),
            (date(2025, 5, 5), 1, 5.0),
            (date(2025, 8, 4), 10, -2.0),
        ):
            for _ in range(count):
                n += 1
                p = Patient(pseudonym=f"Q{n:05d}", centre_id=world.centre_a)
                s.add(p)
                s.flush()
                s.add(
                    Referral(
                        patient_id=p.id,
                        centre_id=world.centre_a,
                        service_id=svc.id,
                        status="completed",
                        created_on=day,
                    )
                )
                e = Enrolment(
                    patient_id=p.id, programme_id=prog.id, centre_id=world.centre_a, enrolled_on=day
                )
                s.add(e)
                s.flush()
                for tp, score in ((0, 6.0), (3, 6.0 + change)):
                    s.add(
                        InstrumentResponse(
                            patient_id=p.id, centre_id=world.centre_a, enrolment_id=e.id, instrument="ucla3",
                            administered_on=day, timepoint_months=tp, total=score, score=score,
                        )
                    )  # fmt: skip


def _may_person(partner) -> float | None:
    """The attacker: year total minus the shown quarters' totals (n from the shown counts)."""

    def part(start, end):
        ucla = pf.feedback(partner, start, end).outcomes[0]
        if ucla.mean_change is None or not ucla.n_text.isdigit():
            return None
        return int(ucla.n_text), ucla.mean_change

    year = part(START, END)
    q1 = part(date(2025, 1, 1), date(2025, 3, 31))
    q3 = part(date(2025, 7, 1), date(2025, 9, 30))
    if None in (year, q1, q3):
        return None
    return year[0] * year[1] - q1[0] * q1[1] - q3[0] * q3[1]


def test_partner_outcomes_cannot_single_out_a_listed_person(world):
    _plant_quarters(world)
    assert _may_person(world.principals["partner"]) is None
    # the year itself, for all of the partner's organisations, is still shown
    assert pf.feedback(world.principals["partner"], START, END).outcomes[0].mean_change is not None


def test_partner_outcome_attack_works_against_a_planted_leak(world, monkeypatch):
    """Quarters allowed and no perturbation (before issue 10): the May person's +5 comes back."""
    monkeypatch.setattr(pf, "OUTCOME_PERIOD_KINDS", ("year", "quarter", "month"))
    monkeypatch.setattr("domain.cellkey.MAX_PERTURBATION", 0)
    _plant_quarters(world)
    value = _may_person(world.principals["partner"])
    assert value is not None and abs(value - 5.0) < 1.1


def test_partner_outcome_means_only_for_the_whole_scope_and_year(world):
    """A partner of two organisations: one organisation alone, or a quarter, shows the count but no
    mean (whole minus part, or year minus quarters, would single out listed people)."""
    from services.auth import principal_for
    from tests.factories import make_user

    _plant_quarters(world)
    with write_session() as s:
        both = principal_for(s, make_user(s, "t-partner-2", "partner", orgs=[world.org, world.other_org]))
    assert pf.feedback(both, START, END).outcomes[0].mean_change is not None
    assert pf.feedback(both, START, END, (world.org,)).outcomes[0].mean_change is None
    assert pf.feedback(both, date(2025, 1, 1), date(2025, 3, 31)).outcomes[0].mean_change is None
