"""Compare centres: funnel inputs and bands on a planted world, the summary refresh against the
direct query, scope denial with audit, units below the threshold not drawn, and the page through
AppTest for a manager with too few centres and a region manager (also on the demo data)."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import case, func
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from db.engine import read_session, write_session
from db.models import (
    AuditEvent,
    Enrolment,
    FollowUp,
    HealthCentre,
    InstrumentResponse,
    OutcomeSummary,
    Patient,
    Programme,
    Referral,
    Service,
)
from domain.funnel import funnel
from locales import translate
from services.auth import principal_for
from services.compare import compare_centres
from services.dashboards import clear_caches
from services.errors import AccessDenied
from services.summaries import MARKER, ensure_fresh, read_summaries, refresh_summaries
from tests.factories import make_user, make_world


@pytest.fixture(autouse=True)
def _exact_counts(monkeypatch):
    """Hand-worked funnels: the cell-key perturbation off here; tests/test_disclosure_attacks.py
    checks the compare dashboard's published counts with it on."""
    monkeypatch.setattr("domain.cellkey.MAX_PERTURBATION", 0)

ROOT = Path(__file__).resolve().parents[1]
START = date(2025, 1, 1)
DAY = date(2025, 3, 10)

# (accepted-or-later, referrals made) per centre
REFERRALS = {"A": (40, 50), "C": (36, 50), "D": (44, 50), "E": (2, 3), "B": (10, 10)}
# (completed, due by today) per centre; plus follow-ups due in the future that must not count
FOLLOW_UPS = {"A": (15, 20), "C": (12, 12), "D": (7, 10), "E": (0, 0), "B": (5, 5)}
# (improved, pairs) on UCLA-3 with SD1 = 1, r = 0.5: minimum reliable difference 1.96, so a drop of
# 3 points is reliable improvement and a drop of 1 is not
RELIABLE = {"A": (6, 11), "C": (5, 8), "D": (0, 9), "E": (1, 2), "B": (4, 8)}


@pytest.fixture
def reliability(tmp_path, monkeypatch):
    path = tmp_path / "reliability.json"
    path.write_text(
        json.dumps({"instruments": {"ucla3": {"sd1": 1.0, "r": 0.5, "source": "test values"}}}),
        encoding="utf-8",
    )
    monkeypatch.setenv("LOTSA_RELIABILITY_FILE", str(path))
    return path


def plant(world) -> dict:
    """Centres A (world), C, D, E (small) for a region manager; B outside their scope."""
    today = date.today()
    with write_session() as s:
        a = s.get(HealthCentre, world.centre_a)
        ids = {"A": world.centre_a, "B": world.centre_b}
        for code in ("C", "D", "E"):
            centre = HealthCentre(
                code=f"VC-{code}",
                name=f"Vårdcentral {code}",
                municipality_id=a.municipality_id,
                latitude=55.6,
                longitude=13.0,
            )
            s.add(centre)
            s.flush()
            ids[code] = centre.id
        service = Service(organization_id=world.org, name="Promenadgrupp")
        programme = Programme(code="sp-test", name_sv="SP", name_da="SP", name_en="SP", timepoints=[0, 3])
        s.add_all([service, programme])
        s.flush()
        serial = 0

        def patient(cid: int) -> int:
            nonlocal serial
            serial += 1
            p = Patient(pseudonym=f"T{serial:05d}", centre_id=cid)
            s.add(p)
            s.flush()
            return p.id

        for code, cid in ids.items():
            accepted, made = REFERRALS[code]
            statuses = ["accepted", "in-progress", "completed", "failed"]
            others = ["requested", "rejected", "cancelled"]
            for i in range(made):
                status = statuses[i % 4] if i < accepted else others[i % 3]
                s.add(
                    Referral(
                        patient_id=patient(cid),
                        centre_id=cid,
                        service_id=service.id,
                        status=status,
                        created_on=DAY,
                    )
                )
            if code == "A":  # neither counts as a referral made
                for status in ("draft", "entered-in-error"):
                    s.add(
                        Referral(
                            patient_id=patient(cid),
                            centre_id=cid,
                            service_id=service.id,
                            status=status,
                            created_on=DAY,
                        )
                    )
            done, due = FOLLOW_UPS[code]
            extra = 3 if code == "A" else 0
            for i in range(due + extra):
                pid = patient(cid)
                enrolment = Enrolment(
                    patient_id=pid, programme_id=programme.id, centre_id=cid, enrolled_on=DAY
                )
                s.add(enrolment)
                s.flush()
                future = i >= due
                s.add(
                    FollowUp(
                        enrolment_id=enrolment.id,
                        patient_id=pid,
                        centre_id=cid,
                        timepoint_months=3,
                        due_on=today + timedelta(days=20) if future else DAY + timedelta(days=i),
                        status="completed" if future or i < done else "overdue",
                    )
                )
            improved, pairs = RELIABLE[code]
            for i in range(pairs):
                pid = patient(cid)
                drop = 3 if i < improved else 1
                rows = [(0, DAY, 7), (3, DAY + timedelta(days=90), 7 - drop)]
                if i == 0:  # a later follow-up that must not replace the first one
                    rows.append((6, DAY + timedelta(days=180), 7 if drop == 3 else 3))
                for tp, day, score in rows:
                    s.add(
                        InstrumentResponse(
                            patient_id=pid,
                            centre_id=cid,
                            instrument="ucla3",
                            administered_on=day,
                            timepoint_months=tp,
                            total=score,
                            score=score,
                        )
                    )
        region = make_user(s, "t-region", "manager", centres=[ids[c] for c in ("A", "C", "D", "E")])
        principal = principal_for(s, region)
    return {"ids": ids, "region": principal}


def period_end() -> date:
    """The planted data lie in 2025: the whole reporting year (issue 10: fixed periods only)."""
    return date(2025, 12, 31)


def test_funnel_inputs_and_bands_by_hand(sqlite_url, reliability):
    world = make_world()
    planted = plant(world)
    ids = planted["ids"]
    view = compare_centres(planted["region"], START, period_end())
    panels = {p.metric: p for p in view.panels}

    # Referral acceptance: A 40/50, C 36/50, D 44/50 drawn; E (3 referrals < 8) left out.
    acc = panels["referral_acceptance"]
    assert {p.name: (p.denominator, p.rate) for p in acc.points} == {
        "Vårdcentral A": (50, 0.8),
        "Vårdcentral C": (50, 0.72),
        "Vårdcentral D": (50, 0.88),
    }
    assert acc.left_out_text == "<5"  # one centre left out, shown as a protected count
    assert acc.target == pytest.approx(120 / 150)
    # Hand check of the dispersion: z = (p - 0.8) / sqrt(0.8*0.2/50) = 0, -1.414, +1.414; winsorised at
    # the 10th/90th percentiles (linear) to 0, -1.131, 1.131: phi = 2*1.28/3 = 0.853 and 3*phi = 2.56 > 2,
    # so overdispersed: tau2 = (2.56 - 2) / (937.5 - 312.5) = 0.000896 and the 95 % limits at n = 50 are
    # 0.8 +- 1.96*sqrt(0.0032 + 0.000896) = 0.675 .. 0.925: all three within.
    assert acc.adjusted and acc.phi == pytest.approx(2 * (0.8 * 2**0.5) ** 2 / 3, rel=1e-6)
    tau2 = (3 * acc.phi - 2) / (937.5 - 312.5)
    half = 1.96 * (0.0032 + tau2) ** 0.5
    assert 0.8 - half == pytest.approx(0.6746, abs=1e-3)
    for point in acc.points:
        assert 0.8 - half < point.rate < 0.8 + half
        assert point.band == "within"

    # Follow-up completion: A 15/20, C 12/12 (complement 0 may show); D 7/10 withheld (3 not done).
    fu = panels["followup_completion"]
    assert {p.name: (p.denominator, p.rate) for p in fu.points} == {
        "Vårdcentral A": (20, 0.75),
        "Vårdcentral C": (12, 1.0),
    }
    assert fu.left_out_text == "<5"  # D (withheld) and E (nothing due)
    # Pooled 27/32; C at 12/12: P(Y >= 12 | n 12, p 27/32) = (27/32)^12 = 0.130 > 0.025 -> within.
    assert pytest.approx(0.1300, abs=1e-3) == (27 / 32) ** 12
    assert {p.band for p in fu.points} == {"within"}

    # Reliable improvement: A 6/11 drawn; C 5/8 withheld (3 not improved), D 0/9 drawn, E 2 pairs.
    rel = panels["ucla3_reliable"]
    assert rel.available
    assert {p.name: (p.denominator, p.rate) for p in rel.points} == {
        "Vårdcentral A": (11, round(6 / 11, 2)),  # published to whole percent (issue 10)
        "Vårdcentral D": (9, 0.0),
    }
    # The bands are domain.funnel's on exactly these inputs (pooled 6/20).
    expected = funnel([("A", 6, 11), ("D", 0, 9)])
    assert expected.target == pytest.approx(0.3)
    assert {p.name[-1]: p.band for p in rel.points} == {u.name: u.flag for u in expected.units}

    # The table: sorted by name, never by rate; E's figures withheld.
    assert [c.name for c in view.centres] == [
        "Vårdcentral A",
        "Vårdcentral C",
        "Vårdcentral D",
        "Vårdcentral E",
    ]
    by_name = {c.name: c for c in view.centres}
    assert [f.text for f in by_name["Vårdcentral A"].figures] == ["55 %", "75 %", "80 %"]
    assert [f.text for f in by_name["Vårdcentral E"].figures] == ["–", "–", "–"]
    d_fu = by_name["Vårdcentral D"].figures[1]
    assert d_fu.value is None and d_fu.numerator_text is None  # 7 of 10 would give back the 3
    assert view.enough_centres and view.centre_count == 4
    assert ids["B"] not in {c.centre_id for c in view.centres}


def test_a_band_outside_the_limits(sqlite_url, reliability):
    """Among eight centres at 80 %, one at 40 % of 90 is flagged below the 99.8 % limit; every flag is
    domain.funnel's on the same inputs."""
    world = make_world()
    planted = plant(world)
    inputs = {"A": (40, 50), "C": (36, 90), "D": (44, 50)}
    with write_session() as s:
        service = s.exec(select(Service)).first()
        municipality = s.get(HealthCentre, world.centre_a).municipality_id
        serial = 0

        def referrals(cid: int, accepted: int, made: int) -> None:
            nonlocal serial
            for i in range(made):
                serial += 1
                p = Patient(pseudonym=f"X{serial:05d}", centre_id=cid)
                s.add(p)
                s.flush()
                status = "accepted" if i < accepted else "rejected"
                s.add(
                    Referral(
                        patient_id=p.id, centre_id=cid, service_id=service.id, status=status, created_on=DAY
                    )
                )

        referrals(planted["ids"]["C"], 0, 40)  # C: 36 of 90
        extra = []
        for code in "FGHIJ":
            centre = HealthCentre(
                code=f"VC-{code}", name=f"Vårdcentral {code}", municipality_id=municipality, latitude=55.6,
                longitude=13.0,
            )  # fmt: skip
            s.add(centre)
            s.flush()
            referrals(centre.id, 40, 50)
            inputs[code] = (40, 50)
            extra.append(centre.id)
        user = make_user(s, "t-region-2", "manager", centres=[planted["ids"][c] for c in "ACDE"] + extra)
        principal = principal_for(s, user)
    view = compare_centres(principal, START, period_end())
    acc = next(p for p in view.panels if p.metric == "referral_acceptance")
    expected = funnel([(code, a, n) for code, (a, n) in inputs.items()])
    assert {p.name[-1]: p.band for p in acc.points} == {u.name: u.flag for u in expected.units}
    bands = {p.name[-1]: p.band for p in acc.points}
    assert bands["C"] == "below_998"
    assert {bands[c] for c in "AFGHIJ"} == {"within"}
    assert acc.adjusted == expected.adjusted
    # C: 36/90 against p0 = 396/490 is about 8 standard errors below: beyond any limit
    p0 = 396 / 490
    assert (0.4 - p0) / (p0 * (1 - p0) / 90) ** 0.5 < -3.09


def _direct(centres):
    """The same figures by a direct query over the base tables (whole period)."""
    with read_session() as s:
        refs = dict(
            (c, (int(a or 0), int(n)))
            for c, a, n in s.exec(
                select(
                    Referral.centre_id,
                    func.sum(
                        case(
                            (
                                col(Referral.status).in_(
                                    ("accepted", "in-progress", "on-hold", "failed", "completed")
                                ),
                                1,
                            ),
                            else_=0,
                        )
                    ),
                    func.count(),
                )
                .where(
                    col(Referral.centre_id).in_(centres),
                    col(Referral.status).not_in(("draft", "entered-in-error")),
                )
                .group_by(Referral.centre_id)
            ).all()
        )
        fus = dict(
            (c, (int(done or 0), int(n)))
            for c, done, n in s.exec(
                select(
                    FollowUp.centre_id,
                    func.sum(case((FollowUp.status == "completed", 1), else_=0)),
                    func.count(),
                )
                .where(col(FollowUp.centre_id).in_(centres), FollowUp.due_on <= date.today())
                .group_by(FollowUp.centre_id)
            ).all()
        )
    return refs, fus


def test_summary_refresh_equals_direct_query_and_is_idempotent(db_url, reliability):
    world = make_world()
    planted = plant(world)
    ids = planted["ids"]
    centres = tuple(ids.values())
    assert refresh_summaries() >= len(centres)
    assert refresh_summaries(centres) == len(centres)  # again: replaced, not doubled
    sums = read_summaries(centres, date(2000, 1, 1), date(2100, 1, 1))
    refs, fus = _direct(centres)
    for code, cid in ids.items():
        assert sums.get((cid, "referral_acceptance"), (0, 0)) == refs.get(cid, (0, 0)) == REFERRALS[code]
        assert sums.get((cid, "followup_completion"), (0, 0)) == fus.get(cid, (0, 0)) == FOLLOW_UPS[code]
        assert sums.get((cid, "ucla3_reliable"), (0, 0)) == RELIABLE[code]
    with read_session() as s:
        markers = s.exec(
            select(func.count()).select_from(OutcomeSummary).where(OutcomeSummary.metric == MARKER)
        ).one()
    assert markers >= len(centres)
    # months: everything planted sits in March 2025, the first follow-ups in June 2025
    assert read_summaries(centres, date(2025, 3, 1), date(2025, 3, 1))[(ids["A"], "referral_acceptance")] == (
        40,
        50,
    )
    assert (ids["A"], "ucla3_reliable") not in read_summaries(centres, date(2025, 3, 1), date(2025, 3, 1))
    assert read_summaries(centres, date(2025, 6, 1), date(2025, 6, 1))[(ids["A"], "ucla3_reliable")] == (
        6,
        11,
    )


def test_freshness_window(sqlite_url, reliability):
    world = make_world()
    planted = plant(world)
    a = planted["ids"]["A"]
    first = ensure_fresh([a])
    assert first is not None
    with write_session() as s:  # a new referral: not seen until the summaries are refreshed
        service = s.exec(select(Service)).first()
        p = Patient(pseudonym="NEW01", centre_id=a)
        s.add(p)
        s.flush()
        s.add(
            Referral(patient_id=p.id, centre_id=a, service_id=service.id, status="accepted", created_on=DAY)
        )
    assert ensure_fresh([a]) == first
    assert read_summaries([a], START, date(2025, 12, 1))[(a, "referral_acceptance")] == (40, 50)
    later = ensure_fresh([a], max_age=timedelta(0))
    assert later > first
    assert read_summaries([a], START, date(2025, 12, 1))[(a, "referral_acceptance")] == (41, 51)


def test_without_reliability_the_plot_is_skipped(sqlite_url, monkeypatch):
    monkeypatch.delenv("LOTSA_RELIABILITY_FILE", raising=False)
    world = make_world()
    planted = plant(world)
    view = compare_centres(planted["region"], START, period_end())
    rel = next(p for p in view.panels if p.metric == "ucla3_reliable")
    assert not rel.available and not rel.points
    assert all(c.figures[0].value is None for c in view.centres)


def test_scope_denial_is_audited(db_url, reliability):
    world = make_world()
    planted = plant(world)
    manager = world.principals["manager"]  # serves A only
    with pytest.raises(AccessDenied):
        compare_centres(manager, START, period_end(), (planted["ids"]["A"], planted["ids"]["B"]))
    with read_session() as s:
        denied = s.exec(
            select(AuditEvent).where(AuditEvent.action == "dashboard.compare", AuditEvent.outcome == "denied")
        ).all()
    assert denied and str(planted["ids"]["B"]) in denied[-1].detail
    with pytest.raises(AccessDenied):
        compare_centres(world.principals["connector"], START, period_end())
    with pytest.raises(AccessDenied):
        compare_centres(world.principals["partner"], START, period_end())


def test_no_small_count_leaves_the_service(sqlite_url, reliability):
    world = make_world()
    planted = plant(world)
    view = compare_centres(planted["region"], START, period_end())
    for panel in view.panels:
        for point in panel.points:
            assert point.denominator >= 8
            numerator = round(point.rate * point.denominator)
            assert numerator == 0 or numerator >= 5
            assert point.denominator - numerator == 0 or point.denominator - numerator >= 5
    for centre in view.centres:
        for fig in centre.figures:
            for text in (fig.numerator_text, fig.denominator_text):
                assert text is None or not text.isdigit() or int(text) == 0 or int(text) >= 5


# Pages --------------------------------------------------------------------------------------------


def _app(principal) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    now = time.time()
    at.session_state["auth_user_id"] = principal.user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    return at


def _texts(at) -> str:
    parts = [e.value for e in (*at.title, *at.subheader, *at.markdown, *at.caption, *at.info, *at.error)]
    return "\n".join(str(p) for p in parts)


def test_page_for_a_manager_with_too_few_centres(sqlite_url):
    st.cache_data.clear()
    world = make_world()
    at = _app(world.principals["manager"])
    at.run()
    at.switch_page("app_pages/outcomes_compare.py")
    at.run()
    assert not at.exception, at.exception
    assert translate("compare.too_few", "sv", n=1, min=3) in _texts(at)


def test_page_for_a_region_manager(sqlite_url, reliability):
    st.cache_data.clear()
    world = make_world()
    planted = plant(world)
    at = _app(planted["region"])
    at.query_params["from"] = START.isoformat()
    at.query_params["to"] = period_end().isoformat()
    at.run()
    at.switch_page("app_pages/outcomes_compare.py")
    at.run()
    assert not at.exception, at.exception
    text = _texts(at)
    assert translate("compare.metric.referral_acceptance", "sv") in text
    assert not at.error
    # pick a centre: its three figures appear
    at.selectbox(key="compare_centre").set_value(planted["ids"]["A"]).run()
    assert not at.exception, at.exception
    assert [m.value for m in at.metric] == ["55 %", "75 %", "80 %"]
    assert len(at.dataframe) == 1


def test_page_on_demo_data_for_demo_region(sqlite_url, monkeypatch):
    from db.demo import seed_demo

    st.cache_data.clear()
    clear_caches()
    seed_demo()
    with read_session() as s:
        from db.models import User

        user = s.exec(select(User).where(User.username == "demo-region")).one()
        principal = principal_for(s, user)
    assert len(principal.centre_ids) == 4
    at = _app(principal)
    at.run()
    at.switch_page("app_pages/outcomes_compare.py")
    at.run()
    assert not at.exception, at.exception
    assert not at.error
    assert translate("compare.metric.followup_completion", "sv") in _texts(at)
