"""Programmes and follow-up: due dates, the Samverkansmodell inclusion check, the seeded concealed
allocation, enrolment, the connector's worklist, recording a follow-up, the coaching contacts and
health measures, and the worklist, follow-up and care pages.

Service tests run on SQLite and Postgres (`db_url`); page tests use AppTest on SQLite.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import func
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.engine import read_session, write_session
from db.models import (
    ArmAllocation,
    AuditEvent,
    CoachingContact,
    Enrolment,
    FollowUp,
    HealthMeasure,
    Patient,
    Programme,
    Referral,
    Service,
)
from domain import programmes as prog
from locales import translate
from services import care, followup
from services.errors import AccessDenied, NotFound, ValidationError
from tests.factories import make_world

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 3, 15)


# --- Domain: dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2024, 8, 31), 3, date(2024, 11, 30)),
        (date(2024, 8, 31), 6, date(2025, 2, 28)),
        (date(2025, 11, 15), 3, date(2026, 2, 15)),
        (date(2025, 3, 31), 36, date(2028, 3, 31)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2025, 5, 10), 0, date(2025, 5, 10)),
    ],
)
def test_add_months_clamps_the_day(start, months, expected):
    assert prog.add_months(start, months) == expected


def test_due_dates_for_each_programme_template():
    start = date(2025, 8, 31)
    assert prog.due_dates(start, prog.TEMPLATES["social_prescribing"]) == [
        (0, date(2025, 8, 31)),
        (3, date(2025, 11, 30)),
        (6, date(2026, 2, 28)),
    ]
    assert prog.due_dates(start, prog.TEMPLATES["samverkansmodell"]) == [
        (0, date(2025, 8, 31)),
        (6, date(2026, 2, 28)),
        (12, date(2026, 8, 31)),
        (36, date(2028, 8, 31)),
    ]
    # A baseline is always there, time points are sorted and distinct.
    assert prog.due_dates(date(2025, 1, 1), [6, 3, 3]) == [
        (0, date(2025, 1, 1)),
        (3, date(2025, 4, 1)),
        (6, date(2025, 7, 1)),
    ]
    with pytest.raises(ValueError):
        prog.due_dates(start, [-1])


def test_follow_up_windows_and_buckets():
    assert prog.follow_up_window(date(2025, 5, 1), 0) == (date(2025, 5, 1), date(2025, 5, 15))
    assert prog.follow_up_window(date(2025, 5, 15), 3) == (date(2025, 5, 1), date(2025, 5, 29))
    assert prog.follow_up_window(date(2025, 5, 31), 12) == (date(2025, 5, 1), date(2025, 6, 30))
    assert prog.bucket(TODAY, TODAY) == "due_today"
    assert prog.bucket(TODAY - timedelta(days=1), TODAY) == "overdue"
    assert prog.bucket(TODAY + timedelta(days=14), TODAY) == "upcoming"
    assert prog.bucket(TODAY + timedelta(days=15), TODAY) == "later"


# --- Domain: Samverkansmodell inclusion --------------------------------------------------------------


def check(**kw):
    base = {"age": 67, "sex": "male"}
    base.update(kw)
    return prog.samverkan_eligibility(**base)


@pytest.mark.parametrize(("systolic", "met"), [(139, False), (140, True), (159, True), (160, False)])
def test_systolic_boundaries(systolic, met):
    result = check(systolic=systolic, diastolic=80)
    assert result.eligible is met
    assert ("blood_pressure" in result.met) is met
    if not met:
        assert "blood_pressure_outside" in result.not_met


@pytest.mark.parametrize(("diastolic", "met"), [(89, False), (90, True), (99, True), (100, False)])
def test_diastolic_boundaries(diastolic, met):
    result = check(systolic=130, diastolic=diastolic)
    assert result.eligible is met
    assert result.met == (("blood_pressure",) if met else ())


def test_grade_two_in_either_value_excludes_blood_pressure():
    assert not check(systolic=150, diastolic=100).eligible
    assert not check(systolic=165, diastolic=95).eligible


@pytest.mark.parametrize(("hba1c", "met"), [(41, False), (42, True), (52, True), (53, False), (47.5, True)])
def test_hba1c_boundaries(hba1c, met):
    assert check(hba1c=hba1c).eligible is met


@pytest.mark.parametrize(("madrs", "met"), [(11, False), (12, True), (20, True), (21, False)])
def test_madrs_boundaries(madrs, met):
    assert check(madrs=madrs).eligible is met


@pytest.mark.parametrize(
    ("sex", "waist", "met"),
    [
        ("male", 94, False),
        ("male", 95, True),
        ("female", 80, False),
        ("female", 81, True),
        ("female", 94, True),
    ],
)
def test_waist_boundaries_by_sex(sex, waist, met):
    assert check(sex=sex, waist_cm=waist).eligible is met


def test_waist_without_sex_cannot_be_assessed():
    result = check(sex=None, waist_cm=120)
    assert not result.eligible
    assert "waist_sex_unknown" in result.not_met


@pytest.mark.parametrize(
    ("age", "eligible"), [(59, False), (60, True), (75, True), (76, False), (None, False)]
)
def test_age_boundaries(age, eligible):
    result = check(age=age, hba1c=45)
    assert result.eligible is eligible
    assert result.met == ("hba1c",)  # the criterion itself is met whatever the age
    if age is None:
        assert result.not_met[0] == "age_unknown"
    elif not eligible:
        assert result.not_met[0] == "age_out_of_range"


def test_treated_criteria_do_not_count():
    result = check(hba1c=45, systolic=150, diastolic=92, treated={"hba1c"})
    assert result.eligible and result.met == ("blood_pressure",)
    assert "hba1c_treated" in result.not_met
    result = check(hba1c=45, treated={"hba1c"})
    assert not result.eligible
    assert result.not_met[0] == "no_criterion" and "hba1c_treated" in result.not_met
    with pytest.raises(ValueError):
        check(treated={"cholesterol"})


def test_nothing_measured_lists_what_is_missing():
    result = check()
    assert not result.eligible
    assert result.not_met == (
        "no_criterion",
        "blood_pressure_missing",
        "hba1c_missing",
        "depression_missing",
        "waist_missing",
    )


# --- Domain: allocation --------------------------------------------------------------------------


def test_allocation_sequence_is_seeded_balanced_and_extendable():
    arms = ("coaching", "control")
    first = prog.allocation_sequence(42, arms, 40, 4)
    assert first == prog.allocation_sequence(42, arms, 40, 4)
    assert first != prog.allocation_sequence(43, arms, 40, 4)
    for i in range(0, 40, 4):
        assert Counter(first[i : i + 4]) == {"coaching": 2, "control": 2}
    assert prog.allocation_sequence(42, arms, 100, 4)[:40] == first
    assert len({tuple(first[i : i + 4]) for i in range(0, 40, 4)}) > 1  # blocks are permuted
    three = prog.allocation_sequence(1, ("a", "b", "c"), 12, 6)
    assert all(Counter(three[i : i + 6]) == {"a": 2, "b": 2, "c": 2} for i in (0, 6))
    with pytest.raises(ValueError):
        prog.allocation_sequence(1, arms, 5, 3)
    with pytest.raises(ValueError):
        prog.allocation_sequence(1, ("a", "a"), 5, 4)


# --- Service world --------------------------------------------------------------------------------


@dataclass
class CareWorld:
    w: object
    patient: int  # centre A, born 1958, male
    other: int  # centre A
    foreign: int  # centre B
    service: int
    referral: int
    foreign_referral: int

    @property
    def connector(self):
        return self.w.principals["connector"]

    @property
    def connector_b(self):
        return self.w.principals["connector_b"]


def build_world() -> CareWorld:
    st.cache_data.clear()
    st.cache_resource.clear()
    w = make_world()
    with write_session() as s:
        s.add(
            Programme(
                code="social_prescribing",
                name_sv="Social förskrivning",
                name_da="Social ordination",
                name_en="Social prescribing",
                timepoints=[0, 3, 6],
                instruments=["ucla3", "swemwbs"],
            )
        )
        s.add(
            Programme(
                code="samverkansmodell",
                name_sv="Samverkansmodell",
                name_da="Samarbejdsmodel",
                name_en="Collaborative model",
                timepoints=[0, 6, 12, 36],
                instruments=["ucla3"],
                with_measures=True,
                arms=["coaching", "control"],
                allocation_seed=7,
            )
        )
        patients = []
        for pseudo, centre, year, sex in (
            ("PAAAAAAAA1", w.centre_a, 1958, "male"),
            ("PAAAAAAAA2", w.centre_a, 1990, "female"),
            ("PBBBBBBBB1", w.centre_b, 1955, "female"),
        ):
            p = Patient(pseudonym=pseudo, centre_id=centre, birth_year=year, sex=sex)
            s.add(p)
            s.flush()
            patients.append(p.id)
        svc = Service(organization_id=w.org, name="Promenadgruppen")
        s.add(svc)
        s.flush()
        ref = Referral(
            patient_id=patients[0], centre_id=w.centre_a, service_id=svc.id, created_on=date.today()
        )
        foreign_ref = Referral(
            patient_id=patients[1], centre_id=w.centre_a, service_id=svc.id, created_on=date.today()
        )
        s.add_all([ref, foreign_ref])
        s.flush()
        return CareWorld(w, patients[0], patients[1], patients[2], svc.id, ref.id, foreign_ref.id)


@pytest.fixture
def world(db_url):
    return build_world()


def count(model) -> int:
    with read_session() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def events(action: str, outcome: str | None = None) -> list[AuditEvent]:
    with read_session() as s:
        q = select(AuditEvent).where(AuditEvent.action == action)
        if outcome:
            q = q.where(AuditEvent.outcome == outcome)
        return list(s.exec(q).all())


# --- Enrolment ---------------------------------------------------------------------------------------


def test_enrol_creates_a_follow_up_per_time_point_with_the_baseline_today(world):
    view = followup.enrol(
        world.connector,
        patient_id=world.patient,
        programme_code="social_prescribing",
        enrolled_on=date(2025, 11, 30),
        today=TODAY,
    )
    assert view.arm is None and view.status == "active"
    assert [(f.timepoint_months, f.due_on, f.status) for f in view.follow_ups] == [
        (0, date(2025, 11, 30), "due"),
        (3, date(2026, 2, 28), "due"),
        (6, date(2026, 5, 30), "due"),
    ]
    assert count(FollowUp) == 3
    [event] = events("enrolment.create")
    assert event.patient_pseudonym == "PAAAAAAAA1" and event.username == "t-connector"
    # One active enrolment per patient and programme.
    with pytest.raises(ValidationError) as err:
        followup.enrol(world.connector, patient_id=world.patient, programme_code="social_prescribing")
    assert err.value.fields["programme_code"][0] == "error.followup_already_enrolled"
    assert count(Enrolment) == 1


def test_enrol_is_idempotent_and_validates(world):
    kw = {"patient_id": world.patient, "programme_code": "samverkansmodell", "idempotency_key": "k-1"}
    first = followup.enrol(world.connector, **kw)
    again = followup.enrol(world.connector, **kw)
    assert again.id == first.id and again.arm == first.arm
    assert count(Enrolment) == 1 and count(FollowUp) == 4
    with read_session() as s:
        assert s.exec(select(func.count()).where(ArmAllocation.enrolment_id.is_not(None))).one() == 1
    with pytest.raises(ValidationError) as err:
        followup.enrol(world.connector, patient_id=world.other, programme_code="nonsense")
    assert err.value.fields["programme_code"][0] == "error.invalid_choice"
    with pytest.raises(ValidationError) as err:
        followup.enrol(
            world.connector,
            patient_id=world.other,
            programme_code="social_prescribing",
            enrolled_on=date.today() + timedelta(days=1),
        )
    assert err.value.fields["enrolled_on"][0] == "error.care_future_date"
    assert count(Enrolment) == 1


def test_enrol_in_another_centre_is_denied_and_audited(world):
    with pytest.raises(AccessDenied):
        followup.enrol(world.connector, patient_id=world.foreign, programme_code="social_prescribing")
    with pytest.raises(AccessDenied):
        followup.enrol(
            world.w.principals["manager"], patient_id=world.patient, programme_code="social_prescribing"
        )
    with pytest.raises(NotFound):
        followup.enrol(world.connector, patient_id=999_999, programme_code="social_prescribing")
    denied = events("enrolment.create", "denied")
    assert len(denied) == 2
    assert denied[0].patient_pseudonym == "PBBBBBBBB1" and denied[0].username == "t-connector"
    assert count(Enrolment) == 0 and count(FollowUp) == 0


def test_allocation_is_concealed_until_enrolment_used_once_and_logged(world):
    # Before anyone is enrolled no sequence exists, so no arm can be seen in advance.
    assert count(ArmAllocation) == 0
    arms = []
    patients = [world.patient, world.other]
    with write_session() as s:
        for i in range(6):
            p = Patient(pseudonym=f"PCCCCCCCC{i}", centre_id=world.w.centre_a, birth_year=1950, sex="male")
            s.add(p)
            s.flush()
            patients.append(p.id)
    for pid in patients:
        with read_session() as s:
            assert s.exec(select(Enrolment.arm).where(Enrolment.patient_id == pid)).first() is None
        arms.append(followup.enrol(world.connector, patient_id=pid, programme_code="samverkansmodell").arm)
    expected = prog.allocation_sequence(7, ["coaching", "control"], 8, 4)
    assert arms == expected
    assert Counter(arms) == {"coaching": 4, "control": 4}
    with read_session() as s:
        used = s.exec(
            select(ArmAllocation)
            .where(ArmAllocation.enrolment_id.is_not(None))
            .order_by(ArmAllocation.sequence_no)
        ).all()
        enrolments = {e.id: e for e in s.exec(select(Enrolment)).all()}
    assert [a.sequence_no for a in used] == list(range(1, 9))
    assert len({a.enrolment_id for a in used}) == 8
    for a in used:
        assert a.user_id == world.connector.user_id and a.allocated_at is not None
        assert enrolments[a.enrolment_id].arm == a.arm
    # Unused allocations stay unassigned; the log grows with the same seed when it runs out.
    assert count(ArmAllocation) == followup.ALLOCATION_BATCH


def test_allocation_log_is_extended_with_the_same_seed(world, monkeypatch):
    monkeypatch.setattr(followup, "ALLOCATION_BATCH", 2)
    arms = [
        followup.enrol(world.connector, patient_id=pid, programme_code="samverkansmodell").arm
        for pid in (world.patient, world.other)
    ]
    with write_session() as s:
        p = Patient(pseudonym="PDDDDDDDD1", centre_id=world.w.centre_a)
        s.add(p)
        s.flush()
        third = p.id
    arms.append(followup.enrol(world.connector, patient_id=third, programme_code="samverkansmodell").arm)
    assert arms == prog.allocation_sequence(7, ["coaching", "control"], 3, 4)
    with read_session() as s:
        seqs = s.exec(select(ArmAllocation.sequence_no).order_by(ArmAllocation.sequence_no)).all()
    assert seqs == [1, 2, 3, 4]


# --- Worklist ---------------------------------------------------------------------------------------


def test_worklist_buckets_scope_and_audit(world):
    # patient: baseline overdue, 3 months due today, 6 months later
    followup.enrol(
        world.connector,
        patient_id=world.patient,
        programme_code="social_prescribing",
        enrolled_on=date(2025, 12, 15),
        today=TODAY,
    )
    # other: baseline and 3 months overdue, 6 months upcoming (20 March)
    followup.enrol(
        world.connector,
        patient_id=world.other,
        programme_code="social_prescribing",
        enrolled_on=date(2025, 9, 20),
        today=TODAY,
    )
    # another centre's patient, due today: not on centre A's list
    followup.enrol(
        world.connector_b,
        patient_id=world.foreign,
        programme_code="social_prescribing",
        enrolled_on=date(2025, 12, 15),
        today=TODAY,
    )
    with write_session() as s:  # a completed follow-up is off the list
        fu = s.exec(
            select(FollowUp).where(FollowUp.patient_id == world.other, FollowUp.timepoint_months == 0)
        ).one()
        fu.status = "completed"
        s.add(fu)
    work = followup.worklist(world.connector, today=TODAY)
    assert [(r.pseudonym, r.timepoint_months) for r in work.due_today] == [("PAAAAAAAA1", 3)]
    assert [(r.pseudonym, r.timepoint_months, r.due_on) for r in work.overdue] == [
        ("PAAAAAAAA1", 0, date(2025, 12, 15)),
        ("PAAAAAAAA2", 3, date(2025, 12, 20)),
    ]
    assert [r.days for r in work.overdue] == [90, 85]
    assert work.upcoming[0].days == -5
    assert [(r.pseudonym, r.due_on) for r in work.upcoming] == [("PAAAAAAAA2", date(2026, 3, 20))]
    assert work.due_today[0].programme_code == "social_prescribing"
    assert work.due_today[0].patient_id == world.patient
    assert work.counts == {"safety_flags": 0, "due_today": 1, "overdue": 2, "upcoming": 1, "unanswered": 0}
    [event] = events("worklist.read")
    assert event.username == "t-connector" and "overdue=2" in event.detail
    # Another day moves the rows between buckets.
    later = followup.worklist(world.connector, today=date(2026, 3, 20))
    assert [r.pseudonym for r in later.due_today] == ["PAAAAAAAA2"]
    assert later.counts["overdue"] == 3
    with pytest.raises(AccessDenied):
        followup.worklist(world.w.principals["partner"])


def test_worklist_lists_limited_in_sql(world, monkeypatch):
    monkeypatch.setattr(followup, "WORKLIST_LIMIT", 1)
    for pid in (world.patient, world.other):
        followup.enrol(
            world.connector,
            patient_id=pid,
            programme_code="social_prescribing",
            enrolled_on=TODAY,
            today=TODAY,
        )
    work = followup.worklist(world.connector, today=TODAY)
    assert len(work.due_today) == 1 and work.counts["due_today"] == 2


def test_worklist_includes_unanswered_referrals_and_safety_flags(world, monkeypatch):
    @dataclass(frozen=True)
    class Unanswered:
        referral_id: int
        patient_id: int
        pseudonym: str
        service_name: str
        created_on: date
        days: int

    @dataclass(frozen=True)
    class Flag:
        response_id: int
        patient_id: int
        pseudonym: str
        instrument: str
        administered_on: date

    calls = []

    def unanswered(principal, today=None):
        calls.append(("unanswered", principal.username, today))
        return [Unanswered(world.referral, world.patient, "PAAAAAAAA1", "Promenadgruppen", TODAY, 15)]

    def open_safety_flags(principal):
        calls.append(("flags", principal.username))
        return [Flag(1, world.patient, "PAAAAAAAA1", "phq9", TODAY)]

    monkeypatch.setattr(followup, "unanswered_referrals", unanswered)
    monkeypatch.setattr(followup, "open_safety_flags", open_safety_flags)
    work = followup.worklist(world.connector, today=TODAY)
    assert work.unanswered[0].referral_id == world.referral
    assert work.safety_flags[0].instrument == "phq9"
    assert work.counts["unanswered"] == 1 and work.counts["safety_flags"] == 1
    assert ("unanswered", "t-connector", TODAY) in calls and ("flags", "t-connector") in calls
    assert not work.empty


# --- Recording a follow-up ------------------------------------------------------------------------------


def test_record_follow_up_stores_attendance_of_own_referrals_only(world):
    view = followup.enrol(world.connector, patient_id=world.patient, programme_code="social_prescribing")
    fid = view.follow_ups[1].id
    detail = followup.follow_up_detail(world.connector, fid)
    assert detail.instruments == ("ucla3", "swemwbs")
    assert [r.id for r in detail.referrals] == [world.referral]
    assert detail.referrals[0].service_name == "Promenadgruppen"
    with pytest.raises(ValidationError) as err:
        followup.record_follow_up(
            world.connector, fid, attendance={world.referral: True, world.foreign_referral: False}
        )
    assert err.value.fields["attendance"][0] == "error.followup_foreign_referral"
    with read_session() as s:
        assert s.get(FollowUp, fid).status == "due"
    done = followup.record_follow_up(world.connector, fid, attendance={world.referral: True})
    assert done.status == "completed" and done.attendance == {world.referral: True}
    assert done.completed_on == date.today()
    with read_session() as s:
        stored = s.get(FollowUp, fid)
    assert stored.attendance == {str(world.referral): True} and stored.status == "completed"
    assert [e.detail for e in events("follow_up.complete", "ok")] == [f"follow_up={fid} referrals=1"]
    with pytest.raises(AccessDenied):
        followup.follow_up_detail(world.connector_b, fid)
    with pytest.raises(AccessDenied):
        followup.record_follow_up(world.connector_b, fid, attendance={})
    assert len(events("follow_up.read", "denied")) == 1
    with pytest.raises(NotFound):
        followup.follow_up_detail(world.connector, 999_999)


# --- Contacts and measures ----------------------------------------------------------------------------


def test_contacts_are_validated_idempotent_and_scoped(world):
    with pytest.raises(ValidationError) as err:
        care.log_contact(
            world.connector,
            patient_id=world.patient,
            contact_on=date.today() + timedelta(days=1),
            mode="carrier_pigeon",
            minutes=0,
        )
    assert set(err.value.fields) == {"contact_on", "mode", "minutes"}
    assert err.value.fields["minutes"] == ("error.out_of_range", {"minimum": 1, "maximum": 600})
    with pytest.raises(ValidationError):
        care.log_contact(
            world.connector, patient_id=world.patient, contact_on=TODAY, mode="phone", minutes=601
        )
    assert count(CoachingContact) == 0
    kw = {
        "patient_id": world.patient,
        "contact_on": TODAY,
        "mode": "video",
        "minutes": 25,
        "idempotency_key": "c1",
    }
    a = care.log_contact(world.connector, notes="  Talade om promenader  ", **kw)
    b = care.log_contact(world.connector, **kw)
    assert a.id == b.id and a.notes == "Talade om promenader"
    assert [(c.mode, c.minutes) for c in care.list_contacts(world.connector, world.patient)] == [
        ("video", 25)
    ]
    with pytest.raises(AccessDenied):
        care.list_contacts(world.connector_b, world.patient)
    with pytest.raises(AccessDenied):
        care.log_contact(
            world.connector_b, patient_id=world.patient, contact_on=TODAY, mode="phone", minutes=5
        )
    assert count(CoachingContact) == 1
    assert len(events("coaching.create", "denied")) == 1


@pytest.mark.parametrize(
    ("values", "field", "key"),
    [
        ({"systolic": 59, "diastolic": 40}, "systolic", "error.out_of_range"),
        ({"systolic": 261, "diastolic": 90}, "systolic", "error.out_of_range"),
        ({"systolic": 120, "diastolic": 29}, "diastolic", "error.out_of_range"),
        ({"systolic": 120, "diastolic": 120}, "diastolic", "error.care_diastolic_above_systolic"),
        ({"systolic": 120}, "diastolic", "error.care_blood_pressure_pair"),
        ({"hba1c": 14.9}, "hba1c", "error.out_of_range"),
        ({"hba1c": 201}, "hba1c", "error.out_of_range"),
        ({"waist_cm": 39}, "waist_cm", "error.out_of_range"),
        ({"waist_cm": 251}, "waist_cm", "error.out_of_range"),
        ({"weight_kg": 19.9}, "weight_kg", "error.out_of_range"),
        ({"weight_kg": 351}, "weight_kg", "error.out_of_range"),
        ({"weight_kg": "heavy"}, "weight_kg", "error.number"),
        ({"systolic": 120.5, "diastolic": 80}, "systolic", "error.integer"),
        ({}, "systolic", "error.care_measure_required"),
    ],
)
def test_out_of_range_measures_are_refused_with_field_errors(world, values, field, key):
    with pytest.raises(ValidationError) as err:
        care.record_measure(world.connector, patient_id=world.patient, measured_on=TODAY, **values)
    assert err.value.fields[field][0] == key
    assert count(HealthMeasure) == 0


def test_measures_are_stored_and_feed_the_samverkan_check(world):
    with pytest.raises(ValidationError) as err:
        care.record_measure(
            world.connector, patient_id=world.patient, measured_on=date.today() + timedelta(1), hba1c=45
        )
    assert err.value.fields["measured_on"][0] == "error.care_future_date"
    care.record_measure(
        world.connector, patient_id=world.patient, measured_on=date(2025, 1, 10), systolic=150, diastolic=85
    )
    care.record_measure(
        world.connector,
        patient_id=world.patient,
        measured_on=date(2025, 6, 1),
        hba1c=47,
        waist_cm=101.26,
        idempotency_key="m1",
    )
    care.record_measure(
        world.connector,
        patient_id=world.patient,
        measured_on=date(2025, 6, 1),
        hba1c=47,
        idempotency_key="m1",
    )
    measures = care.list_measures(world.connector, world.patient)
    assert [(m.measured_on, m.hba1c, m.waist_cm, m.systolic) for m in measures] == [
        (date(2025, 6, 1), 47.0, 101.3, None),
        (date(2025, 1, 10), None, None, 150),
    ]
    # Born 1958: 68 in 2026. Latest blood pressure, HbA1c and waist all count.
    result = care.samverkan_check(world.connector, world.patient, today=TODAY)
    assert result.eligible and result.age == 68
    assert result.met == ("blood_pressure", "hba1c", "waist")
    result = care.samverkan_check(
        world.connector,
        world.patient,
        madrs=15,
        treated=frozenset({"blood_pressure", "hba1c", "waist"}),
        today=TODAY,
    )
    assert result.eligible and result.met == ("depression",)
    with pytest.raises(ValidationError) as err:
        care.samverkan_check(world.connector, world.patient, madrs=99, treated={"cholesterol"})
    assert set(err.value.fields) == {"madrs", "treated"}
    # The other patient is 36: not eligible whatever is measured.
    care.record_measure(world.connector, patient_id=world.other, measured_on=TODAY, hba1c=45)
    other = care.samverkan_check(world.connector, world.other, today=TODAY)
    assert not other.eligible and other.not_met[0] == "age_out_of_range"
    with pytest.raises(AccessDenied):
        care.samverkan_check(world.connector_b, world.patient)
    assert len(events("samverkan.check", "ok")) == 3


# --- Pages -----------------------------------------------------------------------------------------


def app(world: CareWorld, role: str = "connector", **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    principal = world.w.principals[role]
    now = time.time()
    at.session_state["auth_user_id"] = principal.user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    for key, value in params.items():
        at.query_params[key] = value
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.title, *at.header, *at.subheader, *at.markdown, *at.caption)]
    parts += [e.value for e in (*at.error, *at.warning, *at.info, *at.success)]
    return "\n".join(str(p) for p in parts)


def links(at: AppTest) -> list:
    return [el for el in at.main if getattr(el, "type", None) == "page_link"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_worklist_page_shows_the_buckets_with_links(world, monkeypatch):
    followup.enrol(world.connector, patient_id=world.patient, programme_code="social_prescribing")
    followup.enrol(
        world.connector,
        patient_id=world.other,
        programme_code="social_prescribing",
        enrolled_on=date.today() - timedelta(days=100),
    )
    at = app(world)
    at.switch_page("app_pages/home_connector.py")
    at.run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert translate("home.hello", "sv", name="T-Connector") in shown
    assert "PAAAAAAAA1" in shown and "PAAAAAAAA2" in shown
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[translate("home.connector.due_today", "sv")] == "1"
    assert metrics[translate("home.connector.overdue", "sv")] in ("1", "2")
    with read_session() as s:
        today_fu = s.exec(
            select(FollowUp.id).where(FollowUp.patient_id == world.patient, FollowUp.timepoint_months == 0)
        ).one()
    hrefs = [str(el.proto) for el in at.get("page_link")]
    assert any(f"id={today_fu}" in h for h in hrefs)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_worklist_page_empty_state(world):
    at = app(world)
    at.switch_page("app_pages/home_connector.py")
    at.run()
    assert not at.exception, at.exception
    assert translate("followup.worklist.empty", "sv") in texts(at)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_follow_up_page_completes_with_attendance(world):
    view = followup.enrol(world.connector, patient_id=world.patient, programme_code="social_prescribing")
    fid = view.follow_ups[0].id
    at = app(world, id=str(fid))
    at.switch_page("app_pages/follow_up.py")
    at.run()
    assert not at.exception, at.exception
    assert translate("followup.title", "sv", pseudonym="PAAAAAAAA1") in texts(at)
    assert "Social förskrivning" in texts(at)
    at.radio(key=f"fu{fid}_attended_{world.referral}").set_value("yes")
    at.button(key=f"fu{fid}_complete").click()
    at.run()
    assert not at.exception, at.exception
    assert translate("followup.saved", "sv") in texts(at)
    with read_session() as s:
        stored = s.get(FollowUp, fid)
    assert stored.status == "completed" and stored.attendance == {str(world.referral): True}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_follow_up_page_without_id_or_of_another_centre(world):
    at = app(world)
    at.switch_page("app_pages/follow_up.py")
    at.run()
    assert not at.exception
    assert translate("followup.no_id", "sv") in texts(at)
    view = followup.enrol(world.connector_b, patient_id=world.foreign, programme_code="social_prescribing")
    at = app(world, id=str(view.follow_ups[0].id))
    at.switch_page("app_pages/follow_up.py")
    at.run()
    assert not at.exception
    assert translate("error.access_denied", "sv") in texts(at)
    assert "PBBBBBBBB1" not in texts(at)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_care_page_enrols_and_shows_the_arm_only_after(world):
    at = app(world, patient=str(world.patient))
    at.switch_page("app_pages/care.py")
    at.run()
    assert not at.exception, at.exception
    arm_texts = [translate(f"followup.arm.{a}", "sv") for a in ("coaching", "control")]
    assert not any(a in texts(at) for a in arm_texts)
    P = f"care{world.patient}_"
    at.selectbox(key=P + "programme").set_value("samverkansmodell")
    at.button(key=P + "enrol").click()
    at.run()
    assert not at.exception, at.exception
    with read_session() as s:
        enrolment = s.exec(select(Enrolment).where(Enrolment.patient_id == world.patient)).one()
    assert enrolment.arm in ("coaching", "control")
    shown = texts(at)
    assert (
        translate("followup.care.allocated", "sv", arm=translate(f"followup.arm.{enrolment.arm}", "sv"))
        in shown
    )
    assert count(FollowUp) == 4


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_care_page_keeps_a_bad_measure_and_shows_the_error(world):
    at = app(world, patient=str(world.patient))
    at.switch_page("app_pages/care.py")
    at.run()
    P = f"care{world.patient}_"
    at.number_input(key=P + "m_systolic").set_value(300)
    at.number_input(key=P + "m_diastolic").set_value(90)
    at.button(key=P + "save_measure").click()
    at.run()
    assert not at.exception, at.exception
    errors = "\n".join(e.value for e in at.error)
    assert translate("followup.care.systolic", "sv") in errors
    assert translate("error.out_of_range", "sv", minimum=60, maximum=260) in errors
    assert at.number_input(key=P + "m_systolic").value == 300
    assert count(HealthMeasure) == 0
    # Corrected, it saves, and the form is emptied.
    at.number_input(key=P + "m_systolic").set_value(145)
    at.button(key=P + "save_measure").click()
    at.run()
    assert not at.exception, at.exception
    assert translate("followup.care.measure_saved", "sv") in texts(at)
    assert count(HealthMeasure) == 1
    assert at.number_input(key=P + "m_systolic").value is None


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_care_page_logs_a_contact_and_checks_samverkan(world):
    care.record_measure(world.connector, patient_id=world.patient, measured_on=TODAY, hba1c=45)
    at = app(world, patient=str(world.patient))
    at.switch_page("app_pages/care.py")
    at.run()
    P = f"care{world.patient}_"
    at.number_input(key=P + "contact_minutes").set_value(40)
    at.button(key=P + "log_contact").click()
    at.run()
    assert not at.exception, at.exception
    assert count(CoachingContact) == 1
    at.button(key=P + "check").click()
    at.run()
    assert not at.exception, at.exception
    criterion = translate("followup.criterion.hba1c", "sv")
    assert translate("followup.care.eligible", "sv", criteria=criterion) in texts(at)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_care_page_without_patient_or_of_another_centre(world):
    at = app(world)
    at.switch_page("app_pages/care.py")
    at.run()
    assert not at.exception
    assert translate("followup.care.no_patient", "sv") in texts(at)
    at = app(world, patient=str(world.foreign))
    at.switch_page("app_pages/care.py")
    at.run()
    assert not at.exception
    assert translate("error.access_denied", "sv") in texts(at)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_follow_up_page_saves_an_instrument_for_the_enrolment_and_time_point(world):
    from db.models import InstrumentResponse

    view = followup.enrol(world.connector, patient_id=world.patient, programme_code="social_prescribing")
    fu = view.follow_ups[1]
    at = app(world, id=str(fu.id))
    at.switch_page("app_pages/follow_up.py")
    at.run()
    assert not at.exception, at.exception
    key = f"fu{fu.id}_ucla3"
    for item in ("companionship", "left_out", "isolated"):
        at.radio(key=f"{key}__item__{item}").set_value(3)
    at.button(key=f"{key}__save").click()
    at.run()
    assert not at.exception, at.exception
    label = translate("followup.instrument.ucla3", "sv")
    assert translate("followup.instrument_saved", "sv", instrument=label) in texts(at)
    with read_session() as s:
        rows = s.exec(select(InstrumentResponse)).all()
    assert [(r.instrument, r.enrolment_id, r.timepoint_months, r.total) for r in rows] == [
        ("ucla3", view.id, 3, 9)
    ]
    assert followup.follow_up_detail(world.connector, fu.id).done_instruments == frozenset({"ucla3"})


# --- Referral starts or joins follow-up ----------------------------------------------------------------

UCLA3 = {"companionship": 3, "left_out": 2, "isolated": 2}


def _consent_to_referral(patient_id: int) -> None:
    from db.models import PatientConsent

    with write_session() as s:
        s.add(PatientConsent(patient_id=patient_id, kind="referral", granted=True))


def _screen(world: CareWorld, on: date, **kw):
    from services import screening

    return screening.record_response(
        world.connector, patient_id=world.patient, instrument="ucla3", answers=UCLA3, administered_on=on, **kw
    )


def _refer(world: CareWorld, **kw):
    from services.referrals import create_referral

    return create_referral(world.connector, patient_id=world.patient, service_id=world.service, **kw)


def test_referral_enrols_with_the_latest_screening_as_baseline(world):
    from db.models import InstrumentResponse

    _consent_to_referral(world.patient)
    screened_on = date.today() - timedelta(days=20)
    _screen(world, date.today() - timedelta(days=60))  # an older screening is not the baseline
    baseline = _screen(world, screened_on)
    swem = {
        "optimistic": 3,
        "useful": 4,
        "relaxed": 2,
        "problems": 3,
        "thinking": 4,
        "close": 3,
        "own_mind": 5,
    }
    from services import screening

    same_day = screening.record_response(
        world.connector,
        patient_id=world.patient,
        instrument="swemwbs",
        answers=swem,
        administered_on=screened_on,
    )
    partial = screening.record_response(
        world.connector,
        patient_id=world.patient,
        instrument="gad7",
        answers={"q1": 1},
        administered_on=screened_on,
        incomplete_reason="out_of_time",
    )
    view = _refer(world)
    fu = view.follow_up
    assert fu is not None and fu.started is True and fu.programme_code == "social_prescribing"
    assert fu.enrolled_on == screened_on and fu.baseline_done_on == screened_on
    assert (fu.next_timepoint, fu.next_due) == (3, prog.add_months(screened_on, 3))
    with read_session() as s:
        enrolment = s.exec(select(Enrolment)).one()
        assert s.get(Referral, view.id).enrolment_id == enrolment.id
        lines = s.exec(select(FollowUp).order_by(FollowUp.timepoint_months)).all()
        assert [(f.timepoint_months, f.due_on, f.status) for f in lines] == [
            (0, screened_on, "completed"),
            (3, prog.add_months(screened_on, 3), "due"),
            (6, prog.add_months(screened_on, 6), "due"),
        ]
        linked = {
            r.id: (r.enrolment_id, r.timepoint_months) for r in s.exec(select(InstrumentResponse)).all()
        }
    # Both complete screenings of that day are the baseline; the incomplete one and the older are not.
    assert linked[baseline.id] == linked[same_day.id] == (enrolment.id, 0)
    assert linked[partial.id] == (None, None)
    assert sum(1 for v in linked.values() if v == (None, None)) == 2
    [event] = events("enrolment.create")
    assert event.patient_pseudonym == "PAAAAAAAA1" and f"baseline={screened_on.isoformat()}" in event.detail
    [made] = events("referral.create")
    assert f"enrolment={enrolment.id}" in made.detail
    # The 3-month follow-up falls due on schedule and reaches the worklist.
    work = followup.worklist(world.connector, today=prog.add_months(screened_on, 3))
    assert [(r.patient_id, r.timepoint_months) for r in work.due_today] == [(world.patient, 3)]


def test_second_referral_joins_the_active_programme(world):
    _consent_to_referral(world.patient)
    first = _refer(world)
    with write_session() as s:
        other = Service(organization_id=world.w.org, name="Språkcafé")
        s.add(other)
        s.flush()
        other_id = other.id
    from services.referrals import create_referral

    second = create_referral(world.connector, patient_id=world.patient, service_id=other_id)
    assert second.follow_up.started is False
    assert second.follow_up.enrolment_id == first.follow_up.enrolment_id
    assert count(Enrolment) == 1 and count(FollowUp) == 3


def test_referral_without_a_recent_screening_has_its_baseline_due_today(world):
    _consent_to_referral(world.patient)
    _screen(world, date.today() - timedelta(days=followup.BASELINE_WINDOW_DAYS + 1))  # too old
    view = _refer(world)
    assert view.follow_up.enrolled_on == date.today() and view.follow_up.baseline_done_on is None
    assert (view.follow_up.next_timepoint, view.follow_up.next_due) == (0, date.today())
    work = followup.worklist(world.connector)
    assert [(r.patient_id, r.timepoint_months) for r in work.due_today] == [(world.patient, 0)]


def test_referral_follow_up_can_be_chosen_or_left_out(world):
    _consent_to_referral(world.patient)
    plan = followup.referral_plan(world.connector, world.patient)
    assert plan.default == "social_prescribing" and plan.active == () and plan.baseline is None
    assert {p.code for p in plan.programmes} == {"social_prescribing", "samverkansmodell"}
    none = _refer(world, programme_code=None)
    assert none.follow_up is None and count(Enrolment) == 0
    with pytest.raises(ValidationError) as err:
        _refer(world, programme_code="no_such_programme")
    assert err.value.fields == {"programme_code": ("error.invalid_choice", {})}
    with pytest.raises(ValidationError):
        _refer(world, programme_code=["social_prescribing"])
    assert count(Referral) == 3  # the two in the world and the one without follow-up
    chosen = _refer(world, programme_code="samverkansmodell", idempotency_key="k-sam")
    assert chosen.follow_up.programme_code == "samverkansmodell"
    with read_session() as s:
        assert s.exec(select(Enrolment.arm)).one() in ("coaching", "control")  # allocated as usual
    plan = followup.referral_plan(world.connector, world.patient)
    assert plan.default == "samverkansmodell" and plan.enrolment_in("samverkansmodell") is not None
    # The same key again returns the same referral and enrols nobody twice.
    again = _refer(world, programme_code="samverkansmodell", idempotency_key="k-sam")
    assert again.id == chosen.id and count(Enrolment) == 1


def test_referral_plan_of_another_centre_is_denied(world):
    with pytest.raises(AccessDenied):
        followup.referral_plan(world.connector_b, world.patient)
    assert events("enrolment.read", "denied")


def test_auto_follow_up_without_the_default_programme_installed_enrols_nobody(world):
    with write_session() as s:
        for p in s.exec(select(Programme)).all():
            p.code = p.code + "_x"
            s.add(p)
    _consent_to_referral(world.patient)
    assert _refer(world).follow_up is None and count(Enrolment) == 0
    assert followup.referral_plan(world.connector, world.patient).default is None
