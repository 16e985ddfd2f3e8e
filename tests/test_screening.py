"""Screening: responses stored exactly as `domain.instruments.score` computes them, connectors of the
patient's centre only (denials audited, also through the service layer), idempotent saves, invalid
answers refused with nothing written, and the PHQ-9 safety flag listed and acknowledged.

Service tests run on SQLite and Postgres (the `db_url` fixture); the page tests use AppTest on SQLite.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from db.engine import read_session
from db.models import AuditEvent, InstrumentResponse
from domain.instruments import score
from locales import translate
from services import screening
from services.errors import AccessDenied, NotFound, ValidationError
from services.patients import register_patient
from tests.factories import make_world

ROOT = Path(__file__).resolve().parents[1]
PERSONNUMMER_A = "19460502-2369"
PERSONNUMMER_B = "19521224-4437"

SAMPLES = {
    "ucla3": {"companionship": 3, "left_out": 2, "isolated": 2},
    "ons_loneliness": {"lonely": "some_of_the_time"},
    "djg6": {
        "emptiness": "yes",
        "miss_people": "more_or_less",
        "rejected": "no",
        "rely_on": "no",
        "trust": "yes",
        "close": "more_or_less",
    },
    "swemwbs": {
        "optimistic": 3,
        "useful": 4,
        "relaxed": 2,
        "problems": 3,
        "thinking": 4,
        "close": 3,
        "own_mind": 5,
    },
    "ons4": {"satisfied": 6, "worthwhile": 9, "happy": 4, "anxious": 7},
    "phq9": {f"q{i}": 1 for i in range(1, 10)} | {"q2": 3, "q9": 0},
    "gad7": {f"q{i}": 2 for i in range(1, 8)},
    "eq5d5l": {"mobility": 1, "self_care": 1, "usual_activities": 2, "pain": 3, "anxiety": 2, "vas": 65},
}


class Setup:
    def __init__(self):
        self.world = make_world()
        p = self.world.principals
        self.connector, self.connector_b = p["connector"], p["connector_b"]
        self.patient_a = register_patient(
            self.connector,
            centre_id=self.world.centre_a,
            national_id=PERSONNUMMER_A,
            country="SE",
            name="Greta Lind",
        )
        self.patient_b = register_patient(
            self.connector_b,
            centre_id=self.world.centre_b,
            national_id=PERSONNUMMER_B,
            country="SE",
            name="Nils Berg",
        )


@pytest.fixture
def setup(db_url):
    return Setup()


def responses() -> list[InstrumentResponse]:
    with read_session() as s:
        return list(s.scalars(select(InstrumentResponse).order_by(InstrumentResponse.id)))


def audit_rows(action: str) -> list[AuditEvent]:
    with read_session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def count_responses() -> int:
    with read_session() as s:
        return s.scalar(select(func.count(InstrumentResponse.id)))


# --- Recording ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", list(SAMPLES))
def test_scores_are_stored_as_score_computes(setup, code):
    answers = SAMPLES[code]
    view = screening.record_response(
        setup.connector, patient_id=setup.patient_a.id, instrument=code, answers=answers
    )
    expected = score(code, answers)
    (row,) = responses()
    assert row.id == view.id
    assert (row.patient_id, row.centre_id, row.created_by) == (
        setup.patient_a.id,
        setup.world.centre_a,
        setup.connector.user_id,
    )
    assert row.instrument == code and row.administered_on == date.today()
    assert row.answers == answers
    assert (row.total, row.score, row.band) == (expected.total, expected.score, expected.band)
    stored_subscales = dict(row.subscales)
    assert stored_subscales.pop("bands", {}) == dict(expected.bands)
    assert stored_subscales == dict(expected.subscales)
    assert row.flags == (",".join(sorted(expected.flags)) or None)
    assert (view.total, view.score, view.band) == (expected.total, expected.score, expected.band)
    assert view.bands == dict(expected.bands) and view.subscales == dict(expected.subscales)
    assert view.flags == expected.flags and view.missing == ()
    (event,) = audit_rows("screening.record")
    assert (event.outcome, event.patient_pseudonym, event.user_id) == (
        "ok",
        setup.patient_a.pseudonym,
        setup.connector.user_id,
    )


def test_known_values_for_the_common_pair(setup):
    ucla = screening.record_response(
        setup.connector, patient_id=setup.patient_a.id, instrument="ucla3", answers=SAMPLES["ucla3"]
    )
    assert (ucla.total, ucla.band) == (7, "lonely")
    swem = screening.record_response(
        setup.connector, patient_id=setup.patient_a.id, instrument="swemwbs", answers=SAMPLES["swemwbs"]
    )
    assert (swem.total, swem.score) == (24, 21.54)
    ons4 = screening.record_response(
        setup.connector, patient_id=setup.patient_a.id, instrument="ons4", answers=SAMPLES["ons4"]
    )
    assert ons4.bands == {"satisfied": "medium", "worthwhile": "very_high", "happy": "low", "anxious": "high"}


PARTIAL_DJG6 = {"emptiness": "yes", "miss_people": None, "rejected": "yes", "rely_on": "no", "trust": "no"}


def test_a_partial_form_is_refused_naming_each_unanswered_item(setup):
    with pytest.raises(ValidationError) as caught:
        screening.record_response(
            setup.connector, patient_id=setup.patient_a.id, instrument="djg6", answers=PARTIAL_DJG6
        )
    assert caught.value.fields == {
        "answers": ("error.instrument_incomplete", {"n": 2}),
        "miss_people": ("error.instrument_unanswered", {}),
        "close": ("error.instrument_unanswered", {}),
    }
    # DJG-6 allows a total with one item missing, yet a form is either complete or saved on purpose.
    with pytest.raises(ValidationError) as caught:
        screening.record_response(
            setup.connector,
            patient_id=setup.patient_a.id,
            instrument="djg6",
            answers=PARTIAL_DJG6 | {"miss_people": "no"},
        )
    assert set(caught.value.fields) == {"answers", "close"}
    assert count_responses() == 0 and audit_rows("screening.record") == []


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("", ("error.required", {})),
        ("bored", ("error.invalid_choice", {})),
        (3, ("error.invalid_choice", {})),
    ],
)
def test_save_incomplete_needs_a_known_reason(setup, reason, expected):
    with pytest.raises(ValidationError) as caught:
        screening.record_response(
            setup.connector,
            patient_id=setup.patient_a.id,
            instrument="djg6",
            answers=PARTIAL_DJG6,
            incomplete_reason=reason,
        )
    assert caught.value.fields == {"incomplete_reason": expected}
    assert count_responses() == 0


def test_a_complete_form_cannot_be_marked_incomplete(setup):
    with pytest.raises(ValidationError) as caught:
        screening.record_response(
            setup.connector,
            patient_id=setup.patient_a.id,
            instrument="ucla3",
            answers=SAMPLES["ucla3"],
            incomplete_reason="out_of_time",
        )
    assert caught.value.fields == {"incomplete_reason": ("error.instrument_all_answered", {})}
    assert count_responses() == 0


def test_save_incomplete_with_a_reason_keeps_answers_but_no_total_and_is_audited(setup):
    view = screening.record_response(
        setup.connector,
        patient_id=setup.patient_a.id,
        instrument="djg6",
        answers=PARTIAL_DJG6 | {"miss_people": "no"},
        incomplete_reason="complete_by_phone",
    )
    assert view.incomplete and view.incomplete_reason == "complete_by_phone"
    assert view.missing == ("close",)
    assert (view.total, view.score, view.band, view.subscales, view.bands) == (None, None, None, {}, {})
    (row,) = responses()
    assert row.incomplete_reason == "complete_by_phone" and row.total is None and row.score is None
    assert row.answers == {k: v for k, v in PARTIAL_DJG6.items() if v} | {"miss_people": "no"}
    (event,) = audit_rows("screening.record")
    assert event.patient_pseudonym == setup.patient_a.pseudonym
    assert "incomplete=complete_by_phone" in event.detail and "n=1" in event.detail
    listed = screening.list_responses(setup.connector, setup.patient_a.id)[0]
    assert listed.incomplete_reason == "complete_by_phone" and listed.missing == ("close",)
    # The timeline marks it as incomplete with its reason.
    from services.patients import timeline

    (entry,) = [e for e in timeline(setup.connector, setup.patient_a.id) if e.kind == "screening"]
    assert entry.summary["incomplete_reason"] == "complete_by_phone" and entry.summary["total"] is None
    # A complete save carries no reason and no incomplete mark.
    full = screening.record_response(
        setup.connector, patient_id=setup.patient_a.id, instrument="ucla3", answers=SAMPLES["ucla3"]
    )
    assert not full.incomplete and full.incomplete_reason is None


def test_ucla3_threshold_comes_from_settings(setup, monkeypatch):
    answers = {"companionship": 2, "left_out": 2, "isolated": 1}  # total 5
    first = screening.record_response(
        setup.connector, patient_id=setup.patient_a.id, instrument="ucla3", answers=answers
    )
    assert first.band == "not_lonely"
    monkeypatch.setenv("LOTSA_UCLA3_THRESHOLD", "5")
    second = screening.record_response(
        setup.connector, patient_id=setup.patient_a.id, instrument="ucla3", answers=answers
    )
    assert second.band == "lonely"


def test_list_is_newest_first_and_audited(setup):
    for days_ago, code in ((30, "ucla3"), (0, "swemwbs"), (10, "gad7")):
        screening.record_response(
            setup.connector,
            patient_id=setup.patient_a.id,
            instrument=code,
            answers=SAMPLES[code],
            administered_on=date.today() - timedelta(days=days_ago),
        )
    screening.record_response(
        setup.connector_b, patient_id=setup.patient_b.id, instrument="ucla3", answers=SAMPLES["ucla3"]
    )
    listed = screening.list_responses(setup.connector, setup.patient_a.id)
    assert [r.instrument for r in listed] == ["swemwbs", "gad7", "ucla3"]
    assert all(r.patient_id == setup.patient_a.id for r in listed)
    (event,) = audit_rows("screening.read")
    assert event.patient_pseudonym == setup.patient_a.pseudonym and event.outcome == "ok"


def test_idempotency_key_gives_one_row(setup):
    kwargs = dict(
        patient_id=setup.patient_a.id, instrument="ucla3", answers=SAMPLES["ucla3"], idempotency_key="k-1"
    )
    first = screening.record_response(setup.connector, **kwargs)
    second = screening.record_response(setup.connector, **kwargs)
    assert first.id == second.id and first == second
    assert count_responses() == 1
    assert [e.outcome for e in audit_rows("screening.record")] == ["ok", "duplicate"]
    # A new key is a new administration.
    third = screening.record_response(setup.connector, **(kwargs | {"idempotency_key": "k-2"}))
    assert third.id != first.id and count_responses() == 2


def test_reused_key_for_another_instrument_is_refused(setup):
    screening.record_response(
        setup.connector,
        patient_id=setup.patient_a.id,
        instrument="ucla3",
        answers=SAMPLES["ucla3"],
        idempotency_key="k",
    )
    with pytest.raises(ValidationError) as caught:
        screening.record_response(
            setup.connector,
            patient_id=setup.patient_a.id,
            instrument="gad7",
            answers=SAMPLES["gad7"],
            idempotency_key="k",
        )
    assert set(caught.value.fields) == {"idempotency_key"}
    assert count_responses() == 1


R13 = ("error.instrument_answer_range", {"minimum": 1, "maximum": 3})
NO_ANSWERS = {"answers": ("error.instrument_no_answers", {})}


@pytest.mark.parametrize(
    ("instrument", "answers", "fields"),
    [
        ("ucla3", {"companionship": 4, "left_out": 2}, {"companionship": R13}),
        ("ucla3", {"companionship": "2", "left_out": True}, {"companionship": R13} | {"left_out": R13}),
        ("djg6", {"trust": "maybe"}, {"trust": ("error.instrument_answer_choice", {})}),
        ("eq5d5l", {"vas": 101}, {"vas": ("error.instrument_answer_range", {"minimum": 0, "maximum": 100})}),
        ("ons4", {"happy": 3, "sad": 2}, {"sad": ("error.instrument_unknown_item", {})}),
        ("ucla3", {}, NO_ANSWERS),
        ("phq9", dict.fromkeys([f"q{i}" for i in range(1, 10)]), NO_ANSWERS),
        ("ucla3", ["companionship"], NO_ANSWERS),
        ("nope", {"a": 1}, {"instrument": ("error.invalid_choice", {})}),
    ],
)  # fmt: skip
def test_invalid_answers_give_per_item_messages_and_write_nothing(setup, instrument, answers, fields):
    before = count_responses()
    with pytest.raises(ValidationError) as caught:
        screening.record_response(
            setup.connector, patient_id=setup.patient_a.id, instrument=instrument, answers=answers
        )
    assert caught.value.fields == fields
    for key, params in caught.value.fields.values():
        assert translate(key, "sv", **params) != key  # every message exists
    assert count_responses() == before
    assert audit_rows("screening.record") == []


def test_other_inputs_are_validated(setup):
    base = dict(patient_id=setup.patient_a.id, instrument="ucla3", answers=SAMPLES["ucla3"])
    with pytest.raises(ValidationError) as caught:
        screening.record_response(
            setup.connector,
            **base,
            administered_on=date.today() + timedelta(days=1),
            timepoint_months=-3,
            idempotency_key="x" * 65,
            enrolment_id=999_999,
        )
    assert set(caught.value.fields) == {"administered_on", "timepoint_months", "idempotency_key"}
    with pytest.raises(ValidationError) as caught:
        screening.record_response(setup.connector, **base, enrolment_id=999_999)
    assert set(caught.value.fields) == {"enrolment_id"}
    assert count_responses() == 0


# --- Who may ----------------------------------------------------------------------------------------------


def test_connector_of_another_centre_is_denied_and_audited(setup):
    ucla = screening.record_response(
        setup.connector,
        patient_id=setup.patient_a.id,
        instrument="phq9",
        answers={"q9": 2},
        incomplete_reason="too_unwell",
    )
    before = count_responses()
    with pytest.raises(AccessDenied):
        screening.record_response(
            setup.connector_b, patient_id=setup.patient_a.id, instrument="ucla3", answers=SAMPLES["ucla3"]
        )
    with pytest.raises(AccessDenied):
        screening.list_responses(setup.connector_b, setup.patient_a.id)
    with pytest.raises(AccessDenied):
        screening.acknowledge_flag(setup.connector_b, ucla.id)
    assert count_responses() == before
    assert screening.open_safety_flags(setup.connector_b) == []
    denied = [e for e in _all_audit() if e.outcome == "denied"]
    assert [(e.action, e.patient_pseudonym, e.user_id) for e in denied] == [
        ("screening.record", setup.patient_a.pseudonym, setup.connector_b.user_id),
        ("screening.read", setup.patient_a.pseudonym, setup.connector_b.user_id),
        ("screening.acknowledge", setup.patient_a.pseudonym, setup.connector_b.user_id),
    ]
    with read_session() as s:
        assert s.get(InstrumentResponse, ucla.id).flag_acknowledged_at is None


def _all_audit() -> list[AuditEvent]:
    with read_session() as s:
        return list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))


@pytest.mark.parametrize("role", ["manager", "partner", "admin"])
def test_other_roles_are_denied(setup, role):
    principal = setup.world.principals[role]
    flagged = screening.record_response(
        setup.connector,
        patient_id=setup.patient_a.id,
        instrument="phq9",
        answers={"q9": 1},
        incomplete_reason="too_unwell",
    )
    with pytest.raises(AccessDenied):
        screening.record_response(
            principal, patient_id=setup.patient_a.id, instrument="ucla3", answers=SAMPLES["ucla3"]
        )
    with pytest.raises(AccessDenied):
        screening.list_responses(principal, setup.patient_a.id)
    with pytest.raises(AccessDenied):
        screening.open_safety_flags(principal)
    with pytest.raises(AccessDenied):
        screening.acknowledge_flag(principal, flagged.id)
    assert count_responses() == 1
    denied = [(e.action, e.role) for e in _all_audit() if e.outcome == "denied"]
    assert denied == [
        ("screening.record", role),
        ("screening.read", role),
        ("screening.flags", role),
        ("screening.acknowledge", role),
    ]
    # The manager's centre is the patient's, and still no patient data.
    assert [e.patient_pseudonym for e in _all_audit() if e.outcome == "denied"][:2] == [
        setup.patient_a.pseudonym
    ] * 2


def test_unknown_patient_is_not_found(setup):
    with pytest.raises(NotFound):
        screening.record_response(
            setup.connector, patient_id=987_654, instrument="ucla3", answers=SAMPLES["ucla3"]
        )
    with pytest.raises(NotFound):
        screening.list_responses(setup.connector, 987_654)
    assert [e.outcome for e in _all_audit() if e.action.startswith("screening.")] == [
        "not_found",
        "not_found",
    ]


# --- Safety flags ----------------------------------------------------------------------------------------


def test_safety_flag_is_listed_and_acknowledged(setup):
    plain = screening.record_response(
        setup.connector, patient_id=setup.patient_a.id, instrument="phq9", answers=SAMPLES["phq9"]
    )
    flagged = screening.record_response(
        setup.connector,
        patient_id=setup.patient_a.id,
        instrument="phq9",
        answers={"q1": 0, "q9": 1},
        incomplete_reason="patient_declined",
    )
    assert plain.flags == frozenset() and flagged.flags == frozenset({"self_harm"})
    assert flagged.total is None  # partial, yet flagged
    screening.record_response(
        setup.connector_b,
        patient_id=setup.patient_b.id,
        instrument="phq9",
        answers={"q9": 3},
        incomplete_reason="out_of_time",
    )
    open_a = screening.open_safety_flags(setup.connector)
    assert open_a == [
        screening.SafetyFlag(
            response_id=flagged.id,
            patient_id=setup.patient_a.id,
            pseudonym=setup.patient_a.pseudonym,
            instrument="phq9",
            administered_on=date.today(),
        )
    ]
    assert [f.patient_id for f in screening.open_safety_flags(setup.connector_b)] == [setup.patient_b.id]

    screening.acknowledge_flag(setup.connector, flagged.id)
    assert screening.open_safety_flags(setup.connector) == []
    with read_session() as s:
        row = s.get(InstrumentResponse, flagged.id)
        assert row.flag_acknowledged_by == setup.connector.user_id
        assert row.flag_acknowledged_at is not None
    assert screening.list_responses(setup.connector, setup.patient_a.id)[0].flag_acknowledged
    (event,) = audit_rows("screening.acknowledge")
    assert (event.outcome, event.patient_pseudonym) == ("ok", setup.patient_a.pseudonym)
    # Acknowledging again changes nothing; a response without a flag cannot be acknowledged.
    screening.acknowledge_flag(setup.connector, flagged.id)
    assert [e.outcome for e in audit_rows("screening.acknowledge")] == ["ok", "already"]
    with pytest.raises(ValidationError):
        screening.acknowledge_flag(setup.connector, plain.id)


# --- Page ---------------------------------------------------------------------------------------------------


@pytest.fixture
def page_setup(sqlite_url):
    st.cache_data.clear()
    st.cache_resource.clear()
    return Setup()


def page(setup: Setup, role: str = "connector", **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    principal = setup.world.principals[role]
    now = time.time()
    at.session_state["auth_user_id"] = principal.user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    at.switch_page("app_pages/screening.py")
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.title, *at.header, *at.subheader, *at.markdown, *at.caption)]
    parts += [e.value for e in (*at.error, *at.warning, *at.info, *at.success)]
    parts += [f"{m.label}: {m.value}" for m in at.metric]
    return "\n".join(str(p) for p in parts)


def radio(at: AppTest, pid: int, code: str, item: str):
    return at.radio(key=f"scr{pid}_{code}__item__{item}")


def test_page_fills_ucla3_and_swemwbs_and_shows_the_scores(page_setup):
    pid = page_setup.patient_a.id
    at = page(page_setup, patient=str(pid))
    assert not at.exception, at.exception
    assert "Greta Lind" in texts(at) and page_setup.patient_a.pseudonym in texts(at)
    assert radio(at, pid, "ucla3", "companionship").value is None  # nothing pre-chosen
    for item, value in SAMPLES["ucla3"].items():
        radio(at, pid, "ucla3", item).set_value(value)
    for item, value in SAMPLES["swemwbs"].items():
        radio(at, pid, "swemwbs", item).set_value(value)
    at.run()
    at.button(key=f"scr{pid}_ucla3__save").click().run()
    assert not at.exception, at.exception
    at.button(key=f"scr{pid}_swemwbs__save").click().run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert translate("instruments.total_of", "sv", n=9) + ": 7" in shown
    assert (
        translate("instruments.result", "sv") + ": " + translate("instruments.band_ucla3_lonely", "sv")
        in shown
    )
    assert translate("instruments.ucla3_threshold_note", "sv", threshold=6) in shown
    assert translate("instruments.swemwbs_raw", "sv") + ": 24" in shown
    assert translate("instruments.swemwbs_metric", "sv") + ": 21.54" in shown
    stored = {r.instrument: r for r in responses()}
    assert set(stored) == {"ucla3", "swemwbs"}
    assert (stored["ucla3"].total, stored["swemwbs"].score) == (7, 21.54)
    assert stored["ucla3"].created_by == page_setup.connector.user_id
    # The earlier-results table lists both.
    table = at.dataframe[0].value
    assert sorted(table[translate("instruments.col_instrument", "sv")]) == ["SWEMWBS", "UCLA-3"]


def test_page_keeps_a_half_done_form_when_switching_pages(page_setup):
    pid = page_setup.patient_a.id
    at = page(page_setup, patient=str(pid))
    radio(at, pid, "ucla3", "left_out").set_value(3)
    at.run()
    at.switch_page("app_pages/patients.py").run()
    assert not at.exception, at.exception
    at.switch_page("app_pages/screening.py")
    at.query_params["patient"] = str(pid)
    at.run()
    assert not at.exception, at.exception
    assert radio(at, pid, "ucla3", "left_out").value == 3
    assert radio(at, pid, "ucla3", "companionship").value is None
    assert count_responses() == 0
    # Without the form's own copy the answer would be lost: Streamlit drops the widget's state.
    at.switch_page("app_pages/patients.py").run()
    at.session_state[f"scr{pid}_ucla3"] = {}
    at.switch_page("app_pages/screening.py")
    at.query_params["patient"] = str(pid)
    at.run()
    assert radio(at, pid, "ucla3", "left_out").value is None


def test_page_shows_the_safety_routine_as_soon_as_item_9_is_answered(page_setup, monkeypatch):
    monkeypatch.setenv("LOTSA_SAFETY_ROUTINE", "Ring jourhavande läkare på 040-123 45.")
    pid = page_setup.patient_a.id
    at = page(page_setup, patient=str(pid))
    at.multiselect(key=f"scr{pid}_chosen_w").set_value(["phq9"]).run()
    assert not at.exception, at.exception
    title = translate("instruments.safety_title", "sv")
    assert title not in texts(at)
    radio(at, pid, "phq9", "q9").set_value(0).run()
    assert title not in texts(at)
    radio(at, pid, "phq9", "q9").set_value(1).run()
    errors = "\n".join(e.value for e in at.error)
    assert title in errors and "Ring jourhavande läkare på 040-123 45." in errors
    assert count_responses() == 0  # shown before saving
    at.button(key=f"scr{pid}_phq9__save").click().run()
    assert not at.exception, at.exception
    assert count_responses() == 0  # eight items unanswered: not saved by accident
    assert title in "\n".join(e.value for e in at.error)
    at.selectbox(key=f"scr{pid}_phq9__reason").set_value("too_unwell").run()
    at.button(key=f"scr{pid}_phq9__save_incomplete").click().run()
    assert not at.exception, at.exception
    (row,) = responses()
    assert row.incomplete_reason == "too_unwell"
    assert row.flags == "self_harm" and row.total is None
    assert title in "\n".join(e.value for e in at.error)  # still shown with the result
    assert translate(
        "instruments.flag_open", "sv", date=date.today().isoformat(), instrument="PHQ-9"
    ) in texts(at)


def test_page_default_routine_text_without_setting(page_setup, monkeypatch):
    monkeypatch.delenv("LOTSA_SAFETY_ROUTINE", raising=False)
    pid = page_setup.patient_a.id
    at = page(page_setup, patient=str(pid))
    at.multiselect(key=f"scr{pid}_chosen_w").set_value(["phq9"]).run()
    radio(at, pid, "phq9", "q9").set_value(3).run()
    assert translate("instruments.safety_routine_default", "sv") in "\n".join(e.value for e in at.error)


def test_page_refuses_another_centres_patient(page_setup):
    pid = page_setup.patient_b.id
    at = page(page_setup, patient=str(pid))
    assert not at.exception, at.exception
    shown = texts(at)
    assert translate("error.access_denied", "sv") in shown
    assert "Nils Berg" not in shown and page_setup.patient_b.pseudonym not in shown
    assert not at.radio and not at.dataframe
    assert any(
        e.action == "patient.read"
        and e.outcome == "denied"
        and e.patient_pseudonym == page_setup.patient_b.pseudonym
        for e in _all_audit()
    )


def test_page_without_a_patient_points_to_the_patient_list(page_setup):
    at = page(page_setup)
    assert not at.exception, at.exception
    assert translate("instruments.no_patient", "sv") in texts(at)
    assert not at.radio


def test_page_shows_a_failed_save_and_keeps_the_answers(page_setup):
    from domain.instrument_defs import definition

    pid = page_setup.patient_a.id
    at = page(page_setup, patient=str(pid))
    at.button(key=f"scr{pid}_ucla3__save").click().run()
    assert translate("error.instrument_no_answers", "sv") in "\n".join(e.value for e in at.error)
    radio(at, pid, "ucla3", "isolated").set_value(2).run()
    at.button(key=f"scr{pid}_ucla3__save").click().run()
    assert not at.exception, at.exception
    assert count_responses() == 0  # a half-answered form is not saved by accident
    errors = "\n".join(e.value for e in at.error)
    assert translate("error.instrument_incomplete", "sv") in errors
    items = definition("ucla3").items
    for number, item in ((1, items[0]), (2, items[1])):  # the unanswered ones, named
        assert f"{number}. {item.text['sv']}**: {translate('error.instrument_unanswered', 'sv')}" in errors
    assert f"3. {items[2].text['sv']}" not in errors
    assert radio(at, pid, "ucla3", "isolated").value == 2  # what was answered is kept
    # Save incomplete without a reason: refused, still nothing written.
    at.button(key=f"scr{pid}_ucla3__save_incomplete").click().run()
    assert translate("error.required", "sv") in "\n".join(e.value for e in at.error)
    assert count_responses() == 0
    at.selectbox(key=f"scr{pid}_ucla3__reason").set_value("patient_declined").run()
    at.button(key=f"scr{pid}_ucla3__save_incomplete").click().run()
    assert not at.exception, at.exception
    (row,) = responses()
    assert row.answers == {"isolated": 2} and row.total is None
    assert row.incomplete_reason == "patient_declined"
    shown = texts(at)
    reason = translate("connector.incomplete_reason_patient_declined", "sv")
    assert translate("connector.incomplete_saved_as", "sv", reason=reason) in shown
    table = at.dataframe[0].value
    assert list(table[translate("instruments.col_result", "sv")]) == [
        translate("connector.incomplete_with_reason", "sv", reason=reason)
    ]


@pytest.mark.parametrize("lang", ["sv", "da", "en"])
def test_page_renders_and_saves_all_eight_instruments_in_each_language(page_setup, lang):
    from domain.instrument_defs import DEFINITIONS

    pid = page_setup.patient_a.id
    at = page(page_setup, patient=str(pid))
    at.session_state["lang"] = lang
    at.multiselect(key=f"scr{pid}_chosen_w").set_value(list(DEFINITIONS)).run()
    assert not at.exception, at.exception
    labels = [r.label for r in at.radio]
    for d in DEFINITIONS.values():
        for n, item in enumerate(d.items, start=1):
            if item.type == "choice":
                assert f"{n}. {item.text[lang]}" in labels
                radio(at, pid, d.code, item.link_id).set_value(SAMPLES[d.code][item.link_id])
            else:
                at.number_input(key=f"scr{pid}_{d.code}__item__{item.link_id}").set_value(
                    SAMPLES[d.code][item.link_id]
                )
    at.run()
    captions = "\n".join(c.value for c in at.caption)
    assert translate("instruments.working_translation", lang) in captions
    assert DEFINITIONS["swemwbs"].notice[lang] in captions and DEFINITIONS["eq5d5l"].notice[lang] in captions
    for code in DEFINITIONS:
        at.button(key=f"scr{pid}_{code}__save").click().run()
        assert not at.exception, at.exception
    stored = {r.instrument: r for r in responses()}
    assert set(stored) == set(DEFINITIONS)
    for code, row in stored.items():
        assert row.answers == SAMPLES[code]
    shown = texts(at)
    for item in ("satisfied", "worthwhile", "happy", "anxious"):
        assert translate(f"instruments.ons4_{item}", lang) in shown
    assert f"{translate('instruments.ons4_worthwhile', lang)}: 9" in shown
    assert translate("instruments.band_djg6_moderate", lang) in shown  # DJG-6 sample totals 4
    assert (
        f"{translate('instruments.result', lang)}: {translate('instruments.band_phq9_moderate', lang)}"
        in shown
    )
    assert (
        f"{translate('instruments.result', lang)}: {translate('instruments.band_gad7_moderate', lang)}"
        in shown
    )
    assert f"{translate('instruments.eq5d5l_profile', lang)}: 11232" in shown
    assert f"{translate('instruments.djg6_emotional', lang)}: 2" in shown
