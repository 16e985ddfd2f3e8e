"""Health economics: costs per programme and cost per participant worked by hand on a planted
world, suppression of a small programme, the SROI calculator against a hand-worked case, field
validation, reliable-improvement quantities, scope denials, and the page through AppTest."""

from __future__ import annotations

import json
import math
import time
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.engine import read_session, write_session
from db.models import AuditEvent, CoachingContact, Enrolment, InstrumentResponse, Patient, Programme
from locales import translate
from services import health_economics as he
from services.errors import AccessDenied, ValidationError
from services.outcomes import centre_dashboard
from tests.factories import make_world


@pytest.fixture(autouse=True)
def _exact_counts(monkeypatch):
    """Hand-worked counts: the cell-key perturbation off here; tests/test_disclosure_attacks.py
    checks the health economics's published counts with it on."""
    monkeypatch.setattr("domain.cellkey.MAX_PERTURBATION", 0)

START, END = date(2025, 1, 1), date(2025, 12, 31)
ROOT = Path(__file__).resolve().parents[1]


def plant(world, *, ucla_improved: int = 0, ucla_same: int = 0):
    """Programme P (1000 per place): 10 enrolments at A in the period, 2 before it, 4 at centre B.
    Programme Q (200 per place): 3 enrolments at A. Coaching at A in the period: 60 + 30 + 30
    minutes with P's participants, 45 minutes before the period. UCLA-3 pairs on P: improved by 3
    points, or unchanged."""
    with write_session() as s:
        p = Programme(code="p", name_sv="P", name_da="P", name_en="P", cost_per_participant=1000.0)
        q = Programme(code="q", name_sv="Q", name_da="Q", name_en="Q", cost_per_participant=200.0)
        s.add_all([p, q])
        s.flush()
        n = 0

        def enrol(programme, centre, on):
            nonlocal n
            n += 1
            patient = Patient(pseudonym=f"P{n:05d}", centre_id=centre)
            s.add(patient)
            s.flush()
            e = Enrolment(patient_id=patient.id, programme_id=programme.id, centre_id=centre, enrolled_on=on)
            s.add(e)
            s.flush()
            return patient, e

        ps = [enrol(p, world.centre_a, date(2025, 3, 1)) for _ in range(10)]
        for _ in range(2):
            enrol(p, world.centre_a, date(2024, 6, 1))
        for _ in range(4):
            enrol(p, world.centre_b, date(2025, 3, 1))
        for _ in range(3):
            enrol(q, world.centre_a, date(2025, 4, 1))
        for (patient, _e), minutes in zip(ps, (60, 30, 30), strict=False):
            s.add(
                CoachingContact(
                    patient_id=patient.id,
                    centre_id=world.centre_a,
                    contact_on=date(2025, 5, 1),
                    mode="visit",
                    minutes=minutes,
                )
            )
        s.add(
            CoachingContact(
                patient_id=ps[0][0].id,
                centre_id=world.centre_a,
                contact_on=date(2024, 12, 1),
                mode="visit",
                minutes=45,
            )
        )
        for i, (patient, e) in enumerate(ps[: ucla_improved + ucla_same]):
            follow = 5.0 if i < ucla_improved else 8.0
            for tp, score, on in ((0, 8.0, date(2025, 3, 1)), (3, follow, date(2025, 6, 1))):
                s.add(
                    InstrumentResponse(
                        patient_id=patient.id,
                        centre_id=world.centre_a,
                        enrolment_id=e.id,
                        instrument="ucla3",
                        administered_on=on,
                        timepoint_months=tp,
                        total=score,
                        score=score,
                    )
                )
        return p.id, q.id


@pytest.fixture
def world(db_url):
    return make_world()


def test_costs_by_hand_and_small_programme_suppressed(world):
    p, q = plant(world)
    manager = world.principals["manager"]
    view = he.programme_costs(manager, START, END, hourly_cost="500")
    rows = {r.programme.id: r for r in view.rows}
    # P (10) and Q (3) with a published total 13: Q is hidden (<5), so P is hidden too (else 13 - 10).
    assert rows[q].participants.text == "<5"
    assert rows[p].participants.text == "*"
    assert view.total.participants.text == "13"
    for r in rows.values():
        assert r.total_cost.value is None and r.activity_cost.value is None
    assert view.total.total_cost.value is None  # the total cost would give back the hidden rows
    assert view.investment is None

    only_p = he.programme_costs(manager, START, END, programme_id=p, hourly_cost="500")
    # one programme shows its entry of the same release: hidden as in the list (else 13 - 10 = 3)
    assert only_p.rows[0].participants.text == "*" and only_p.rows[0].total_cost.value is None

    # Without Q (a fresh release), P is shown and its costs can be checked by hand.
    from sqlalchemy import delete

    from db.engine import write_session
    from db.models import DisclosureRelease, Enrolment
    from services.dashboards import clear_caches

    with write_session() as s:
        s.execute(delete(Enrolment).where(Enrolment.programme_id == q))
        s.execute(delete(DisclosureRelease))
    clear_caches()
    only_p = he.programme_costs(manager, START, END, programme_id=p, hourly_cost="500")
    row = only_p.rows[0]
    assert row.participants.text == "10"
    assert row.activity_cost.value == 10 * 1000
    assert row.staff_hours.value == 2.0  # 60 + 30 + 30 minutes; the 45 before the period left out
    assert row.staff_cost.value == 2.0 * 500
    assert row.total_cost.value == 11_000
    assert row.per_participant.value == 1_100
    assert only_p.investment == 11_000

    no_staff = he.programme_costs(manager, START, END, programme_id=p)
    assert no_staff.rows[0].staff_cost.value is None
    assert no_staff.rows[0].total_cost.value == 10_000


def test_hourly_cost_validation(world):
    manager = world.principals["manager"]
    for typed, key in (
        ("abc", "economics.error.not_number"),
        ("-5", "economics.error.range"),
        ("inf", "economics.error.not_number"),
    ):
        with pytest.raises(ValidationError) as failed:
            he.programme_costs(manager, START, END, hourly_cost=typed)
        assert failed.value.fields["hourly_cost"][0] == key


def test_scope_denials_are_audited(world):
    with pytest.raises(AccessDenied):
        he.programme_costs(world.principals["manager"], START, END, centre_ids=(world.centre_b,))
    for role in ("partner", "connector"):
        with pytest.raises(AccessDenied):
            he.programme_costs(world.principals[role], START, END)
    with read_session() as s:
        denied = s.exec(select(AuditEvent).where(AuditEvent.outcome == "denied")).all()
    assert {(e.username, e.action) for e in denied} >= {
        ("t-manager", he.ACTION),
        ("t-partner", he.ACTION),
        ("t-connector", he.ACTION),
    }


def _sroi_input(**over):
    row = dict(
        name="Less lonely",
        quantity="10",
        proxy="1 000",
        proxy_source="Test proxy, made up",
        deadweight="20",
        attribution="10",
        displacement="0",
        drop_off="50",
        duration="2",
    )
    row.update(over.pop("row", {}))
    base = dict(investment="5000", discount_rate="10", horizon="3")
    base.update(over)
    return he.SroiInput(outcomes=(he.OutcomeInput(**row), he.OutcomeInput()), **base)


def test_sroi_by_hand(world):
    view = he.calculate_sroi(world.principals["manager"], _sroi_input())
    # year 1: 10 x 1000 x 0.8 x 0.9 x 1 = 7200; year 2: 7200 x 0.5 = 3600 (duration 2 < horizon 3)
    pv = 7200 / 1.1 + 3600 / 1.1**2
    assert math.isclose(view.total_present_value, pv)
    assert math.isclose(view.ratio, pv / 5000)
    assert math.isclose(view.net_present_value, pv - 5000)
    assert view.low <= view.ratio <= view.high
    assert view.bars and abs(view.bars[0].ratio_at_high - view.bars[0].ratio_at_low) >= abs(
        view.bars[-1].ratio_at_high - view.bars[-1].ratio_at_low
    )
    # investment +10 %: the ratio falls to pv / 5500
    inv = next(b for b in view.bars if b.assumption == "investment")
    assert math.isclose(inv.ratio_at_high, pv / 5500)
    assert ("Less lonely", "proxy_source", "Test proxy, made up") in view.assumptions


def test_sroi_validation_names_each_field(world):
    bad = _sroi_input(
        investment="0",
        discount_rate="nan",
        horizon="11",
        row=dict(proxy="abc", deadweight="120", duration="1.5", proxy_source=" "),
    )
    with pytest.raises(ValidationError) as failed:
        he.calculate_sroi(world.principals["manager"], bad)
    fields = failed.value.fields
    assert fields["investment"][0] == "economics.error.investment"
    assert fields["discount_rate"][0] == "economics.error.not_number"
    assert fields["horizon"][0] == "economics.error.range"
    assert fields["o1.proxy"][0] == "economics.error.not_number"
    assert fields["o1.deadweight"][0] == "economics.error.range"
    assert fields["o1.duration"][0] == "economics.error.whole"
    assert fields["o1.proxy_source"][0] == "economics.error.source_required"
    assert "o2.proxy" not in fields  # a blank row is skipped
    with pytest.raises(ValidationError) as failed:
        he.calculate_sroi(world.principals["manager"], he.SroiInput((he.OutcomeInput(),), "1", "0", "1"))
    assert set(failed.value.fields) == {"outcomes"}
    with pytest.raises(AccessDenied):
        he.calculate_sroi(world.principals["partner"], _sroi_input())


@pytest.mark.parametrize(("improved", "same", "expected"), [(8, 0, 8), (6, 2, None), (3, 2, None)])
def test_prefill_counts_reliable_improvement(world, tmp_path, monkeypatch, improved, same, expected):
    """The pre-fill is Centre outcomes' published cell (issue 10): 6 improved next to 2 unchanged is
    hidden there (the 2 would follow from 8 - 6), so it is not pre-filled here either."""
    monkeypatch.setattr("domain.cellkey.MAX_PERTURBATION", 0)  # exact numbers for this hand check
    path = tmp_path / "reliability.json"
    # Made-up SD1 and r for this test only: minimum reliable difference 1.96 x 1 x sqrt(2) x sqrt(0.5) = 1.96
    path.write_text(json.dumps({"instruments": {"ucla3": {"sd1": 1.0, "r": 0.5, "source": "test"}}}))
    monkeypatch.setenv("LOTSA_RELIABILITY_FILE", str(path))
    plant(world, ucla_improved=improved, ucla_same=same)
    (ucla, swemwbs) = he.sroi_prefill(world.principals["manager"], START, END)
    assert math.isclose(ucla.threshold, 1.96)
    assert ucla.quantity == expected
    board = centre_dashboard(world.principals["manager"], None, START, END)
    (row,) = board.reliable
    assert ucla.text == row.improved  # the same published cell as Centre outcomes
    assert ucla.paired == row.n
    if expected is not None:
        assert row.n == str(improved + same)
    assert swemwbs.threshold is None and swemwbs.quantity is None  # not configured


# Page ------------------------------------------------------------------------------------------


@pytest.fixture
def page_world(sqlite_url):
    st.cache_data.clear()
    st.cache_resource.clear()
    w = make_world()
    plant(w)
    return w


def _page(world, role: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    now = time.time()
    at.session_state["auth_user_id"] = world.principals[role].user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    at.switch_page("app_pages/economics.py")
    return at


def test_page_for_manager_with_sroi_result(page_world):
    at = _page(page_world, "manager")
    at.session_state["sroi_input"] = _sroi_input()
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == [translate("page.economics", "sv")]
    shown = " ".join(str(m.value) for m in at.metric)
    # Swedish: a decimal comma (issue 12)
    assert f"{(7200 / 1.1 + 3600 / 1.21) / 5000:.2f}".replace(".", ",") in shown
    assert len(at.get("plotly_chart")) == 1
    assert any(translate("economics.qaly_none", "sv") == i.value for i in at.info)


def test_page_keeps_bad_hourly_cost_and_shows_error(page_world):
    at = _page(page_world, "manager").run()
    at.text_input(key="econ_hourly").input("tusen").run()
    assert not at.exception
    assert at.text_input(key="econ_hourly").value == "tusen"
    assert translate("economics.error.not_number", "sv") in at.error[0].value


def test_page_denied_to_partner(page_world):
    at = _page(page_world, "partner").run()
    assert not at.exception
    assert translate("page.economics", "sv") not in [t.value for t in at.title]
