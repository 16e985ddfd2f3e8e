"""QALY change from a configured EQ-5D-5L value set: the paired index change and its 95 % t interval
worked by hand on a planted world, too few pairs withheld, an unverified or malformed file refused
with its message, scope (another centre's manager sees nothing and is denied), and the page."""

from __future__ import annotations

import json
import math
import statistics
import time
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.engine import read_session, write_session
from db.models import AuditEvent, Enrolment, InstrumentResponse, Patient, Programme
from domain.eq5d import DIMENSIONS
from locales import translate
from services import health_economics as he
from services.auth import principal_for
from services.errors import AccessDenied, ServiceError, ValidationError
from tests.factories import make_user, make_world


@pytest.fixture(autouse=True)
def _exact_counts(monkeypatch):
    """Hand-worked pair counts: the cell-key perturbation off here (issue 10; the QALY pair count is
    published perturbed like every count)."""
    monkeypatch.setattr("domain.cellkey.MAX_PERTURBATION", 0)

START, END = date(2025, 1, 1), date(2025, 12, 31)
ROOT = Path(__file__).resolve().parents[1]

# A TEST value set: MADE-UP numbers, not any country's. Indexes used below, by hand:
#   11111 = 1;  21111 = 1 - 0.05 - 0.04 = 0.91;  11112 = 1 - 0.05 - 0.05 = 0.90;
#   22111 = 1 - 0.05 - 0.04 - 0.03 = 0.88;  12345 = 1 - 0.05 - 0.03 - 0.06 - 0.25 - 0.30 = 0.31;
#   55555 = 1 - 0.05 - 1.33 = -0.38.
TEST_SET = {
    "_comment": "Test value set for tests/test_qaly.py: numbers made up, not from any publication",
    "country": "XX (test)",
    "source": "Made-up test value set",
    "verified": True,
    "constant": 0.05,
    "decrements": {
        "mobility": [0, 0.04, 0.08, 0.2, 0.3],
        "self_care": [0, 0.03, 0.07, 0.15, 0.2],
        "usual_activities": [0, 0.03, 0.06, 0.15, 0.18],
        "pain": [0, 0.05, 0.09, 0.25, 0.35],
        "anxiety": [0, 0.05, 0.1, 0.22, 0.3],
    },
}
INDEX = {"11111": 1.0, "21111": 0.91, "11112": 0.90, "22111": 0.88, "12345": 0.31, "55555": -0.38}

# (baseline, follow-up at 6 months) per enrolment of programme P at centre A in the period
PAIRS = [
    ("21111", "11111"),  # +0.09
    ("11112", "11111"),  # +0.10
    ("22111", "21111"),  # +0.03
    ("12345", "11112"),  # +0.59
    ("11111", "11111"),  # 0
    ("11111", "21111"),  # -0.09
    ("21111", "21111"),  # 0
    ("22111", "11111"),  # +0.12
    ("11112", "22111"),  # -0.02
]


def answers(code: str, vas: int = 70) -> dict:
    return {**dict(zip(DIMENSIONS, (int(c) for c in code), strict=True)), "vas": vas}


def plant(world, pairs=PAIRS):
    """Programme P: one enrolment per pair at centre A (2025-03-01) with eq5d5l at 0 and 6 months;
    the first also has a 3-month 55555 (not the latest: ignored), the third a 12-month response
    with a missing dimension (no index: the 6-month one is its latest). Not counted: an enrolment at
    A with a baseline only, one before the period (55555 -> 11111), one at centre B (55555 ->
    11111), and one in programme Q at A (55555 -> 11111)."""
    with write_session() as s:
        p = Programme(code="p", name_sv="P", name_da="P", name_en="P")
        q = Programme(code="q", name_sv="Q", name_da="Q", name_en="Q")
        s.add_all([p, q])
        s.flush()
        count = 0

        def enrol(programme, centre, on, responses):
            nonlocal count
            count += 1
            patient = Patient(pseudonym=f"Q{count:05d}", centre_id=centre)
            s.add(patient)
            s.flush()
            e = Enrolment(patient_id=patient.id, programme_id=programme.id, centre_id=centre, enrolled_on=on)
            s.add(e)
            s.flush()
            for tp, given in responses:
                s.add(
                    InstrumentResponse(
                        patient_id=patient.id,
                        centre_id=centre,
                        enrolment_id=e.id,
                        instrument="eq5d5l",
                        administered_on=date(on.year + (on.month + tp > 12), (on.month + tp - 1) % 12 + 1, 1),
                        timepoint_months=tp,
                        answers=given,
                    )
                )

        for i, (base, follow) in enumerate(pairs):
            responses = [(0, answers(base)), (6, answers(follow))]
            if i == 0:
                responses.append((3, answers("55555")))
            if i == 2:
                responses.append((12, {k: v for k, v in answers("55555").items() if k != "pain"}))
            enrol(p, world.centre_a, date(2025, 3, 1), responses)
        worse = [(0, answers("55555")), (6, answers("11111"))]
        enrol(p, world.centre_a, date(2025, 3, 1), [(0, answers("11111"))])
        enrol(p, world.centre_a, date(2024, 6, 1), worse)
        enrol(p, world.centre_b, date(2025, 3, 1), worse)
        enrol(q, world.centre_a, date(2025, 3, 1), worse)
        return p.id, q.id


def value_set_file(tmp_path, monkeypatch, **over) -> Path:
    path = tmp_path / "eq5d_test_value_set.json"
    path.write_text(json.dumps({**TEST_SET, **over}), encoding="utf-8")
    monkeypatch.setenv("LOTSA_EQ5D_VALUE_SET", str(path))
    return path


@pytest.fixture
def world(db_url):
    return make_world()


def test_paired_index_change_and_interval_by_hand(world, tmp_path, monkeypatch):
    value_set_file(tmp_path, monkeypatch)
    p, _q = plant(world)
    view = he.qaly_change(world.principals["manager"], START, END, programme=p, horizon=3)
    assert view is not None
    assert (view.country, view.source) == ("XX (test)", "Made-up test value set")
    base = [INDEX[b] for b, _f in PAIRS]
    follow = [INDEX[f] for _b, f in PAIRS]
    diffs = [f - b for b, f in zip(base, follow, strict=True)]
    # Σd = 0.09 + 0.10 + 0.03 + 0.59 + 0 - 0.09 + 0 + 0.12 - 0.02 = 0.82; mean 0.82 / 9
    assert math.isclose(sum(diffs), 0.82)
    n = 9
    mean = 0.82 / 9
    half = 2.306004 * statistics.stdev(diffs) / math.sqrt(n)  # t(0.975, 8) = 2.306004
    assert view.pairs.text == "9"
    assert math.isclose(view.baseline.value, round(sum(base) / n, 4))  # 7.69 / 9
    assert math.isclose(sum(base), 7.69)
    assert math.isclose(view.followup.value, round(sum(follow) / n, 4))  # 8.51 / 9
    assert math.isclose(view.change.value, round(mean, 4))
    assert math.isclose(view.change_low, mean - half, abs_tol=1e-5)
    assert math.isclose(view.change_high, mean + half, abs_tol=1e-5)
    assert view.change.text == f"{mean:+.3f}"
    # QALYs per person over 3 years: step = mean change x 3, linear = mean change x 3 / 2
    assert math.isclose(view.qaly_step.value, round(mean * 3, 4))
    assert math.isclose(view.qaly_linear.value, round(mean * 1.5, 4))
    assert view.intervals == (
        ("change", f"{mean:+.3f}", f"{mean - half:+.3f}", f"{mean + half:+.3f}"),
        ("step", f"{mean * 3:+.3f}", f"{(mean - half) * 3:+.3f}", f"{(mean + half) * 3:+.3f}"),
        ("linear", f"{mean * 1.5:+.3f}", f"{(mean - half) * 1.5:+.3f}", f"{(mean + half) * 1.5:+.3f}"),
    )
    assert view.horizon == 3

    # without the programme filter, programme Q's enrolment (55555 -> 11111, +1.38) joins
    everything = he.qaly_change(world.principals["manager"], START, END, horizon=1)
    assert everything.pairs.text == "10"
    assert math.isclose(everything.change.value, round((0.82 + 1.38) / 10, 4))


def test_too_few_pairs_withheld(world, tmp_path, monkeypatch):
    value_set_file(tmp_path, monkeypatch)
    p, _q = plant(world, pairs=PAIRS[:7])  # 7 pairs < min_n 8
    view = he.qaly_change(world.principals["manager"], START, END, programme=p)
    assert view.pairs.text == "7"
    for fig in (view.baseline, view.followup, view.change, view.qaly_step, view.qaly_linear):
        assert fig.value is None and fig.text == "–"
    assert view.change_low is None and view.change_high is None and view.intervals == ()
    small = he.qaly_change(world.principals["manager"], START, END, programme=p, centre_ids=(world.centre_a,))
    assert small.pairs.text == "7"
    monkeypatch.setenv("LOTSA_DISCLOSURE_MIN_N", "3")
    monkeypatch.setenv("LOTSA_DISCLOSURE_K", "10")
    fewer = he.qaly_change(world.principals["manager"], START, END, programme=p)
    assert fewer.pairs.text == "<10" and fewer.pairs.value is None  # a count of 1..k-1 never shown
    assert fewer.change.value is not None  # 7 >= min_n 3


def test_unverified_or_malformed_file_is_refused(world, tmp_path, monkeypatch):
    plant(world)
    path = value_set_file(tmp_path, monkeypatch, verified=False)
    with pytest.raises(ServiceError) as failed:
        he.qaly_change(world.principals["manager"], START, END)
    assert failed.value.key == "economics.qaly_error.unverified"
    assert failed.value.params["file"] == str(path)
    assert "never produces EQ-5D index values or QALYs" in failed.value.params["detail"]
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ServiceError) as failed:
        he.qaly_change(world.principals["manager"], START, END)
    assert failed.value.key == "economics.qaly_error.json"
    monkeypatch.setenv("LOTSA_EQ5D_VALUE_SET", str(tmp_path / "missing.json"))
    with pytest.raises(ServiceError) as failed:
        he.qaly_change(world.principals["manager"], START, END)
    assert failed.value.key == "economics.qaly_error.missing"
    for lang in ("sv", "da", "en"):
        text = translate("economics.qaly_error.unverified", lang, file="f.json", detail="d")
        assert "f.json" in text and "QALY" in text


def test_nothing_configured_gives_none(world, monkeypatch):
    monkeypatch.delenv("LOTSA_EQ5D_VALUE_SET", raising=False)
    plant(world)
    assert he.qaly_change(world.principals["manager"], START, END) is None


def test_horizon_validation(world, tmp_path, monkeypatch):
    value_set_file(tmp_path, monkeypatch)
    for typed, key in (
        ("0", "economics.error.range"),
        ("11", "economics.error.range"),
        ("2.5", "economics.error.whole"),
        ("x", "economics.error.not_number"),
        (float("nan"), "economics.error.not_number"),
    ):
        with pytest.raises(ValidationError) as failed:
            he.qaly_change(world.principals["manager"], START, END, horizon=typed)
        assert failed.value.fields["qaly_horizon"][0] == key


def test_scope_other_centres_manager_sees_nothing(world, tmp_path, monkeypatch):
    value_set_file(tmp_path, monkeypatch)
    plant(world)
    with write_session() as s:
        other = principal_for(s, make_user(s, "t-manager-b", "manager", centres=[world.centre_b]))
    own = he.qaly_change(other, START, END)
    assert own.pairs.text == "<5"  # centre B's one pair, not A's
    assert own.change.value is None
    with pytest.raises(AccessDenied):
        he.qaly_change(other, START, END, centre_ids=(world.centre_a,))
    for role in ("partner", "connector"):
        with pytest.raises(AccessDenied):
            he.qaly_change(world.principals[role], START, END)
    with read_session() as s:
        denied = s.exec(select(AuditEvent).where(AuditEvent.outcome == "denied")).all()
    assert {(e.username, e.action) for e in denied} >= {
        ("t-manager-b", he.ACTION),
        ("t-partner", he.ACTION),
        ("t-connector", he.ACTION),
    }
    assert any(e.username == "t-manager-b" and str(world.centre_a) in (e.detail or "") for e in denied)


# Page ------------------------------------------------------------------------------------------


@pytest.fixture
def page_world(sqlite_url):
    st.cache_data.clear()
    st.cache_resource.clear()
    w = make_world()
    plant(w)
    return w


def _page(world, role: str = "manager") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    now = time.time()
    at.session_state["auth_user_id"] = world.principals[role].user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    at.query_params["from"] = START.isoformat()
    at.query_params["to"] = END.isoformat()
    at.switch_page("app_pages/economics.py")
    return at


def test_page_shows_qaly_figures(page_world, tmp_path, monkeypatch):
    value_set_file(tmp_path, monkeypatch)
    at = _page(page_world).run()
    assert not at.exception, at.exception
    labels = {m.label: m.value for m in at.metric}
    mean = (0.82 + 1.38) / 10  # every programme: the nine pairs of P and Q's one
    # Swedish: a decimal comma on the page (issue 12)
    assert labels[translate("economics.qaly_pairs", "sv")] == "10"
    assert labels[translate("economics.qaly_change", "sv")] == f"{mean:+.3f}".replace(".", ",")
    # the page's default horizon is 3 years
    assert labels[translate("economics.qaly_step", "sv", years=3)] == f"{mean * 3:+.3f}".replace(".", ",")
    assert labels[translate("economics.qaly_linear", "sv", years=3)] == f"{mean * 1.5:+.3f}".replace(".", ",")
    table = at.dataframe[-1].value
    assert list(table.iloc[:, 1]) == [f"{v:+.3f}".replace(".", ",") for v in (mean, mean * 3, mean * 1.5)]
    shown = " ".join(c.value for c in at.caption)
    assert "Made-up test value set" in shown and "XX (test)" in shown
    assert translate("economics.qaly_none", "sv") not in [i.value for i in at.info]

    at.number_input(key="qaly_horizon").set_value(4).run()
    assert not at.exception
    labels = {m.label: m.value for m in at.metric}
    assert labels[translate("economics.qaly_step", "sv", years=4)] == f"{mean * 4:+.3f}".replace(".", ",")


def test_page_unverified_file_shows_message(page_world, tmp_path, monkeypatch):
    path = value_set_file(tmp_path, monkeypatch, verified=False)
    at = _page(page_world).run()
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error)
    expected = translate("economics.qaly_error.unverified", "sv", file=str(path), detail="")
    assert expected.split(" Detalj:")[0] in errors
    assert str(path) in errors
    assert not any(m.label == translate("economics.qaly_pairs", "sv") for m in at.metric)


def test_page_without_value_set_explains(page_world, monkeypatch):
    monkeypatch.delenv("LOTSA_EQ5D_VALUE_SET", raising=False)
    at = _page(page_world).run()
    assert not at.exception, at.exception
    assert any(translate("economics.qaly_none", "sv") == i.value for i in at.info)
