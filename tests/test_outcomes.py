"""Centre dashboard (issue 5, item 1): hand-worked numbers on a planted world, scope denial with an
audit row, disclosure on a planted small centre, and the page for manager and connector."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from scipy import stats
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.engine import read_session, write_session
from db.models import (
    Attribute,
    AuditEvent,
    Enrolment,
    FollowUp,
    HealthCentre,
    InstrumentResponse,
    Patient,
    Programme,
    Referral,
    ReferralEvent,
    Service,
    TaxonomyTerm,
    UserCentre,
)
from domain.statistics import paired_change, reliable_change_counts
from locales import translate
from services.errors import AccessDenied, ValidationError
from services.outcomes import centre_dashboard, median_from_counts, months_before, t_interval
from tests.factories import make_world

ROOT = Path(__file__).resolve().parents[1]
START, END = date(2025, 1, 1), date(2025, 12, 31)
BASE_DAY = date(2025, 1, 10)
FOLLOW_DAY = date(2025, 4, 10)
REFERRED_DAY = date(2025, 1, 15)

# Ten people followed up at 3 months, five lost: UCLA-3 totals (baseline, follow-up).
BASELINES = [7, 8, 9, 6, 7, 8, 9, 5, 6, 7]
FOLLOWUPS = [5, 6, 9, 5, 4, 7, 6, 3, 6, 6]
LOST_BASELINES = [3, 4, 5, 5, 8]
SWEMWBS_BASE = [20.0, 21.5, 18.0, 23.0, 19.5, 22.0, 17.0, 25.0, 20.0, 21.0]
SWEMWBS_FOLLOW = [22.0, 21.5, 21.0, 24.0, 19.5, 25.0, 18.0, 24.0, 23.0, 22.0]
HAPPY_BASE = [4, 5, 6, 3, 5, 7, 4, 6, 5, 4]
HAPPY_FOLLOW = [6, 5, 7, 5, 5, 8, 6, 6, 7, 5]


def _response(patient, enrolment, instrument, day, tp, *, total=None, score=None, subscales=None, band=None):
    return InstrumentResponse(
        patient_id=patient.id,
        centre_id=patient.centre_id,
        enrolment_id=enrolment.id if enrolment else None,
        instrument=instrument,
        administered_on=day,
        timepoint_months=tp,
        answers={},
        total=total,
        score=score,
        band=band,
        subscales=subscales or {},
    )


def plant(centre_id: int, org_id: int, *, people: int = 15, prefix: str = "P") -> None:
    """`people` patients at the centre (first ten followed up at 3 months, the rest lost) with
    UCLA-3, SWEMWBS and ONS4, a referral each and a follow-up each (first ten completed)."""
    with write_session() as s:
        programme = s.exec(select(Programme).where(Programme.code == "sp")).first()
        if programme is None:
            programme = Programme(
                code="sp",
                name_sv="Social förskrivning",
                name_da="Social ordination",
                name_en="Social prescribing",
                timepoints=[0, 3],
                instruments=["ucla3", "swemwbs", "ons4"],
            )
            s.add(programme)
        service = Service(organization_id=org_id, name=f"Promenadgrupp {prefix}")
        s.add(service)
        s.flush()
        term = s.exec(select(TaxonomyTerm).where(TaxonomyTerm.code == "walking")).first()
        if term is None:
            term = TaxonomyTerm(
                taxonomy="category", code="walking", name_sv="Promenader", name_da="Gåture", name_en="Walking"
            )
            s.add(term)
            s.flush()
        s.add(Attribute(service_id=service.id, taxonomy_term_id=term.id))
        baselines = (BASELINES + LOST_BASELINES)[:people]
        for i in range(people):
            patient = Patient(pseudonym=f"{prefix}{i:03d}", centre_id=centre_id)
            s.add(patient)
            s.flush()
            enrolment = Enrolment(
                patient_id=patient.id, programme_id=programme.id, centre_id=centre_id, enrolled_on=BASE_DAY
            )
            s.add(enrolment)
            s.flush()
            followed = i < 10
            j = i % 10
            s.add(_response(patient, enrolment, "ucla3", BASE_DAY, 0, total=baselines[i], score=baselines[i]))
            s.add(_response(patient, enrolment, "swemwbs", BASE_DAY, 0, score=SWEMWBS_BASE[j]))
            s.add(_response(patient, enrolment, "ons4", BASE_DAY, 0, subscales={"happy": HAPPY_BASE[j]}))
            if followed:
                s.add(
                    _response(
                        patient, enrolment, "ucla3", FOLLOW_DAY, 3, total=FOLLOWUPS[i], score=FOLLOWUPS[i]
                    )
                )
                s.add(_response(patient, enrolment, "swemwbs", FOLLOW_DAY, 3, score=SWEMWBS_FOLLOW[j]))
                s.add(
                    _response(patient, enrolment, "ons4", FOLLOW_DAY, 3, subscales={"happy": HAPPY_FOLLOW[j]})
                )
            s.add(
                FollowUp(
                    enrolment_id=enrolment.id,
                    patient_id=patient.id,
                    centre_id=centre_id,
                    timepoint_months=3,
                    due_on=FOLLOW_DAY,
                    status="completed" if followed else "missed",
                    completed_on=FOLLOW_DAY if followed else None,
                )
            )
            # Referral i: accepted if i < 10, in progress (after 2(i+1) days) if i < 8, completed if i < 5.
            status = (
                "completed" if i < 5 else "in-progress" if i < 8 else "accepted" if i < 10 else "requested"
            )
            referral = Referral(
                patient_id=patient.id,
                centre_id=centre_id,
                service_id=service.id,
                status=status,
                created_on=REFERRED_DAY,
            )
            s.add(referral)
            s.flush()
            start = datetime.combine(REFERRED_DAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
            events = [("requested", start)]
            if i < 10:
                events.append(("accepted", start + timedelta(days=1)))
            if i < 8:
                events.append(("in-progress", start + timedelta(days=2 * (i + 1), hours=3)))
            if i < 5:
                events.append(("completed", start + timedelta(days=40)))
            for status_, at in events:
                s.add(ReferralEvent(referral_id=referral.id, status=status_, at=at))


@pytest.fixture
def world(db_url):
    w = make_world()
    plant(w.centre_a, w.org)
    return w


@pytest.fixture
def exact_counts(monkeypatch):
    """Hand-worked tests check the aggregation itself: the cell-key perturbation of published
    counts is switched off here (it is tested in tests/test_cellkey.py and the attack suite)."""
    monkeypatch.setattr("domain.cellkey.MAX_PERTURBATION", 0)


def dashboard(principal, centres=None, **kw):
    return centre_dashboard(
        principal, centres, START, END, kw.pop("programme", None), kw.pop("followup", None)
    )


# Helpers --------------------------------------------------------------------------------------------


def test_t_interval_matches_domain_paired_change():
    diffs = [b - a for a, b in zip(BASELINES, FOLLOWUPS, strict=True)]
    mean, low, high = t_interval(len(diffs), sum(diffs), sum(d * d for d in diffs))
    reference = paired_change(list(zip(BASELINES, FOLLOWUPS, strict=True)))
    assert mean == pytest.approx(reference.mean_change)
    assert (low, high) == pytest.approx((reference.ci_low, reference.ci_high))
    with pytest.raises(ValueError):
        t_interval(1, 1.0, 1.0)


def test_median_from_counts_and_months_before():
    assert median_from_counts({}) is None
    assert median_from_counts({5: 1}) == 5
    assert median_from_counts({2: 1, 4: 1}) == 3  # even: mean of the two middle values
    assert median_from_counts({1: 3, 10: 2}) == 1
    assert median_from_counts({1: 2, 10: 2}) == 5.5
    assert months_before(date(2025, 5, 31), 3) == date(2025, 2, 28)
    assert months_before(date(2025, 1, 15), 12) == date(2024, 1, 15)


# Hand-worked figures --------------------------------------------------------------------------------


def test_figures_by_hand(world, exact_counts):
    board = dashboard(world.principals["manager"])
    f = {fig.key: fig for fig in board.figures}
    assert f["screened"].text == "15"
    # First UCLA-3 in the period >= 6: nine of the ten followed (the 5 is not) + the 8 of the lost.
    assert f["lonely_ucla3"].numerator_text == "10" and f["lonely_ucla3"].denominator_text == "15"
    assert f["lonely_ucla3"].value == 0.67 and f["lonely_ucla3"].text == "67 %"
    assert f["lonely_ons"].withheld  # nobody answered the ONS question
    assert f["referrals"].text == "15"
    assert f["accepted"].value == pytest.approx(10 / 15, abs=0.05)
    # 10 accepted - 8 started = 2 referrals: showing 8/15 next to 10/15 would give the 2 back, so the
    # share started is withheld, like the funnel's "started" stage below.
    assert f["started"].withheld and f["started"].text == "–"
    assert f["completed"].value == pytest.approx(5 / 15, abs=0.05)
    assert f["days_to_referral"].value == 5  # every referral five days after the first screening
    # In progress after 2, 4, ..., 16 days: the median of eight values is (8 + 10) / 2.
    assert f["days_to_attendance"].value == 9
    assert f["followup_completion"].value == pytest.approx(10 / 15, abs=0.05)
    # 10 accepted - 8 started = 2 people: "started" is hidden so the two cannot be worked out.
    assert [(s.key, s.text, s.value) for s in board.funnel] == [
        ("screened", "15", 15),
        ("lonely", "10", 10),
        ("referred", "15", 15),
        ("accepted", "10", 10),
        ("started", "*", None),
        ("completed", "5", 5),
    ]
    assert [a.text for a in board.activities] == ["15"] and [c.label("en") for c in board.categories] == [
        "Walking"
    ]


def test_paired_change_by_hand(world, exact_counts):
    board = dashboard(world.principals["manager"], followup=3)
    rows = {r.score: r for r in board.paired}
    ucla = rows["ucla3"]
    diffs = [b - a for a, b in zip(BASELINES, FOLLOWUPS, strict=True)]
    assert sum(diffs) == -15
    assert (ucla.n_baseline, ucla.n_followed) == ("15", "10")
    assert ucla.share_lost == pytest.approx(5 / 15, abs=0.05)
    assert ucla.mean_change == pytest.approx(-1.5, abs=0.05)
    # Independently: scipy's t interval around the mean with the standard error of the differences.
    low, high = stats.t.interval(0.95, len(diffs) - 1, loc=-1.5, scale=stats.sem(diffs))
    assert (ucla.ci_low, ucla.ci_high) == pytest.approx((low, high), abs=0.05)
    # SWEMWBS (float metric scores) and an ONS4 item read from the subscales JSON.
    sw = rows["swemwbs"]
    ref = paired_change(list(zip(SWEMWBS_BASE, SWEMWBS_FOLLOW, strict=True)))
    assert sw.mean_change == pytest.approx(ref.mean_change, abs=0.05) and sw.ci_low == pytest.approx(
        ref.ci_low, abs=0.05
    )
    happy = rows["ons4.happy"]
    ref = paired_change(list(zip(HAPPY_BASE, HAPPY_FOLLOW, strict=True)))
    assert happy.mean_change == pytest.approx(
        1.1, abs=0.05
    )  # 2+0+1+2+0+1+2+0+2+1 = 11 and happy.ci_high == pytest.approx(ref.ci_high, abs=0.05)
    assert rows["ons4.anxious"].n_baseline == "0" and rows["ons4.anxious"].mean_change is None
    assert rows["djg6"].mean_change is None
    # The latest follow-up per person is the 3-month one here: the same numbers.
    latest = {r.score: r for r in dashboard(world.principals["manager"]).paired}["ucla3"]
    assert latest.mean_change == pytest.approx(-1.5, abs=0.05) and latest.n_followed == "10"
    # No 6-month follow-ups yet: nobody followed, nothing to average.
    six = {r.score: r for r in dashboard(world.principals["manager"], followup=6).paired}["ucla3"]
    assert six.n_followed == "0" and six.mean_change is None


def test_reliable_change_counts_by_hand(world, exact_counts, monkeypatch, tmp_path):
    config = tmp_path / "reliability.json"
    config.write_text(
        json.dumps({"instruments": {"ucla3": {"sd1": 1.0, "r": 0.5, "source": "test", "verified": True}}})
    )
    monkeypatch.setenv("LOTSA_RELIABILITY_FILE", str(config))
    board = dashboard(world.principals["manager"], followup=3)
    assert board.reliability_configured and not board.reliability_unverified
    (row,) = board.reliable
    # Minimum reliable change 1.96 * 1 * sqrt(2 * 0.5) = 1.96: drops of 2 and 3 (five people) improved.
    assert row.minimum_difference == pytest.approx(1.96, abs=0.05)
    expected = reliable_change_counts(
        list(zip(BASELINES, FOLLOWUPS, strict=True)), sd1=1.0, r=0.5, better="lower"
    )
    assert (expected.improved, expected.no_reliable_change, expected.deteriorated) == (5, 5, 0)
    assert (row.n, row.improved, row.no_change, row.deteriorated) == ("10", "5", "5", "0")
    assert row.improved_share == pytest.approx(0.5, abs=0.05)


def test_without_reliability_configuration_no_categories(world):
    board = dashboard(world.principals["manager"])
    assert not board.reliability_configured and board.reliable == ()


def test_programme_filter_and_validation(world, exact_counts):
    manager = world.principals["manager"]
    assert dashboard(manager, programme="sp").figure("screened").text == "15"
    with pytest.raises(ValidationError) as error:
        dashboard(manager, programme="nope")
    assert "programme" in error.value.fields
    with pytest.raises(ValidationError):
        dashboard(manager, followup=5)
    with pytest.raises(ValidationError):
        centre_dashboard(manager, None, END, START)


def test_spc_months_with_too_few_people_are_not_drawn(world):
    board = dashboard(world.principals["manager"])
    # January has 15 people screened (10 lonely): drawn; no other month has a first UCLA-3 of 8+.
    # April has ten follow-up UCLA-3s (6 lonely, 4 not: a small complement): not drawn either.
    assert [p.month for p in board.trend.points] == [date(2025, 1, 1)]
    assert board.trend.points[0].share == 0.67  # rounded, never full precision
    assert not board.trend.drawable and board.trend.months_hidden == 11


# Scope -------------------------------------------------------------------------------------------


def test_manager_of_a_cannot_request_b_and_is_audited(world):
    manager = world.principals["manager"]
    with pytest.raises(AccessDenied):
        centre_dashboard(manager, (world.centre_b,), START, END)
    with read_session() as s:
        denied = s.exec(
            select(AuditEvent).where(AuditEvent.action == "dashboard.centre", AuditEvent.outcome == "denied")
        ).all()
    assert len(denied) == 1 and str(world.centre_b) in (denied[0].detail or "")


@pytest.mark.parametrize("role", ["partner", "volunteer", "admin"])
def test_other_roles_are_denied(world, role):
    with pytest.raises(AccessDenied):
        centre_dashboard(world.principals[role], None, START, END)


def test_connector_b_sees_only_b(world):
    plant(world.centre_b, world.org, people=3, prefix="B")
    board = dashboard(world.principals["connector_b"])
    assert board.centres == ("Vårdcentral B",)
    assert board.figure("screened").text == "<5"


# Disclosure on a planted small centre ------------------------------------------------------------


SMALL = re.compile(r"^[1-4]$")


def test_small_centre_shows_no_count_of_one_to_four(world, monkeypatch, tmp_path):
    config = tmp_path / "reliability.json"
    config.write_text(
        json.dumps({"instruments": {"ucla3": {"sd1": 1.0, "r": 0.5, "source": "test", "verified": True}}})
    )
    monkeypatch.setenv("LOTSA_RELIABILITY_FILE", str(config))
    plant(world.centre_b, world.org, people=4, prefix="B")
    for followup in (None, 3):
        board = dashboard(world.principals["connector_b"], followup=followup)
        shown: list[str] = []
        for fig in board.figures:
            shown += [fig.text, fig.numerator_text or "", fig.denominator_text or ""]
            assert fig.value is None or fig.value == 0, fig
            if fig.numerator_text is not None:
                assert fig.withheld  # every rate rests on fewer than 8 people
        assert board.figure("days_to_referral").withheld and board.figure("days_to_attendance").withheld
        shown += [s.text for s in board.funnel]
        assert all(s.value is None for s in board.funnel)  # nothing drawn
        for row in board.paired:
            shown += [row.n_baseline, row.n_followed]
            assert row.mean_change is None and row.ci_low is None and row.share_lost is None
        for row in board.reliable:
            shown += [row.n, row.improved, row.no_change, row.deteriorated]
            assert row.improved_share is None and row.no_change_share is None
        shown += [a.text for a in board.activities] + [c.text for c in board.categories]
        assert all(a.value is None for a in (*board.activities, *board.categories))
        assert board.trend.points == () and not board.trend.drawable
        assert not [text for text in shown if SMALL.match(text.strip())], shown
        assert "<5" in shown


def test_small_numbers_inside_a_big_centre_are_protected(world, exact_counts):
    # Four more people at A screened in March, none referred: 19 screened, 14 lonely (the four
    # planted here score 9). Down the funnel, each stage within 1..4 of the last drawn one is hidden:
    # referred 15 (14 + 1), accepted 10 (14 - 4), started 8 drawn (14 - 6), completed 5 (8 - 3).
    with write_session() as s:
        for i in range(4):
            p = Patient(pseudonym=f"X{i}", centre_id=world.centre_a)
            s.add(p)
            s.flush()
            s.add(_response(p, None, "ucla3", date(2025, 3, 3), None, total=9, score=9))
    board = dashboard(world.principals["manager"])
    texts = {s.key: s.text for s in board.funnel}
    assert texts == {
        "screened": "19",
        "lonely": "14",
        "referred": "*",
        "accepted": "*",
        "started": "8",
        "completed": "*",
    }
    for fig in board.figures:
        if fig.numerator_text and not fig.withheld:
            numerator = int(fig.numerator_text)
            denominator = int(fig.denominator_text)
            assert numerator >= 5 and denominator - numerator >= 5


# Pages -------------------------------------------------------------------------------------------


def _app(world, role: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    now = time.time()
    at.session_state["auth_user_id"] = world.principals[role].user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    at.query_params["from"] = START.isoformat()
    at.query_params["to"] = END.isoformat()
    return at


def _texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.title, *at.subheader, *at.markdown, *at.caption, *at.info, *at.warning)]
    return "\n".join(str(p) for p in parts)


@pytest.fixture
def page_world(sqlite_url):
    st.cache_data.clear()
    st.cache_resource.clear()
    w = make_world()
    plant(w.centre_a, w.org)
    plant(w.centre_b, w.org, people=3, prefix="B")
    return w


@pytest.mark.parametrize("role", ["manager", "connector"])
def test_page_renders_for_role(page_world, role, exact_counts):
    at = _app(page_world, role)
    at.switch_page("app_pages/outcomes_centre.py")
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == translate("page.outcomes_centre", "sv")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[translate("outcomes.fig.screened", "sv")] == "15"
    assert metrics[translate("outcomes.fig.days_to_attendance", "sv")] == "9"
    text = _texts(at)
    assert translate("outcomes.paired.why", "sv") in text
    assert translate("outcomes.reliable.not_configured", "sv") in text
    assert "Vårdcentral B" not in text
    # The centre choice offers only the user's own centre.
    (centres,) = [m for m in at.selectbox if m.label == translate("outcomes.filter.centre", "sv")]
    assert centres.options == ["Vårdcentral A"]
    assert len(at.get("download_button")) >= 4  # three tables' CSV + the report


def test_page_in_english_with_follow_up_choice(page_world):
    at = _app(page_world, "manager")
    at.session_state["lang"] = "en"
    at.session_state["outcomes_centre_followup"] = 6
    at.switch_page("app_pages/outcomes_centre.py")
    at.run()
    assert not at.exception and not at.error
    (followup,) = [s for s in at.selectbox if s.label == translate("outcomes.filter.followup", "en")]
    assert followup.value == 6
    # No 6-month follow-ups are planted: n followed is 0 for every score in the paired table.
    paired = at.dataframe[0].value
    assert set(paired[translate("outcomes.paired.col.n_followed", "en")]) == {"0"}
    assert translate("outcomes.paired.header", "en") in _texts(at)


def test_connector_b_page_shows_only_suppressed_numbers(page_world):
    at = _app(page_world, "connector_b")
    at.switch_page("app_pages/outcomes_centre.py")
    at.run()
    assert not at.exception, at.exception
    for metric in at.metric:
        assert not SMALL.match(str(metric.value)), (metric.label, metric.value)
    assert "Vårdcentral A" not in _texts(at)
    for frame in at.dataframe:
        for value in frame.value.to_numpy().ravel():
            assert not SMALL.match(str(value).strip()), value


def test_page_has_no_db_or_statistics():
    source = (ROOT / "app_pages" / "outcomes_centre.py").read_text()
    assert "db." not in source and "sqlmodel" not in source and "domain." not in source


def test_a_region_manager_sees_a_count_of_centres_with_their_names_a_click_away(page_world):
    """Two hundred centre names above the figures filled the screen (issue 12, seen at region size)."""
    with write_session() as s:
        a = s.get(HealthCentre, page_world.centre_a)
        extra = [
            HealthCentre(
                code=f"VC-X{i}",
                name=f"Vårdcentral X{i}",
                municipality_id=a.municipality_id,
                latitude=a.latitude,
                longitude=a.longitude,
            )
            for i in range(5)
        ]
        s.add_all(extra)
        s.flush()
        user_id = page_world.principals["manager"].user_id
        s.add_all(UserCentre(user_id=user_id, centre_id=c.id) for c in extra)
    at = _app(page_world, "manager")
    at.switch_page("app_pages/outcomes_centre.py")
    at.run()
    assert not at.exception, at.exception
    [intro] = [c.value for c in at.caption if " · " in c.value]
    assert intro.startswith("6 vårdcentraler · ") and "Vårdcentral X3" not in intro
    [names] = [e for e in at.expander if e.label == translate("outcomes.centres_listed", "sv")]
    assert "Vårdcentral A" in names.caption[0].value and "Vårdcentral X3" in names.caption[0].value
