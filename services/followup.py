"""Programmes and follow-up: enrol a patient (with a concealed, seeded arm allocation when the
programme is run as a study), the connector's worklist, and recording a follow-up.

Connectors of the patient's centre only. Every read and write of patient data is audited,
denials too. Writes are one transaction each; a creating call with an idempotency key returns the
row already made with that key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from db.engine import read_session, write_session
from db.models import (
    ArmAllocation,
    Enrolment,
    FollowUp,
    InstrumentResponse,
    Patient,
    Programme,
    Referral,
    Service,
    utcnow,
)
from domain import programmes as prog
from domain import validation as v
from domain.care import OPEN_REFERRAL_STATUSES
from services import audit, scope
from services.errors import ValidationError
from services.principal import Principal
from services.referrals import unanswered as unanswered_referrals
from services.screening import open_safety_flags

OPEN_FOLLOW_UP = ("due", "overdue")
UPCOMING_DAYS = 14
WORKLIST_LIMIT = 50
ALLOCATION_BATCH = 100
BACKDATE_DAYS = 366
RECENT_REFERRAL_DAYS = 90
# A referral starts or joins a follow-up programme: by default the patient's active one, else this.
DEFAULT_PROGRAMME = "social_prescribing"
AUTO = "auto"
# The latest complete screening this many days back or less is the new enrolment's baseline.
BASELINE_WINDOW_DAYS = 90


# --- Views ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgrammeView:
    id: int
    code: str
    names: dict[str, str]
    timepoints: tuple[int, ...]
    instruments: tuple[str, ...]
    with_measures: bool
    randomised: bool

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["sv"]


@dataclass(frozen=True)
class FollowUpLine:
    id: int
    timepoint_months: int
    due_on: date
    status: str
    completed_on: date | None


@dataclass(frozen=True)
class EnrolmentView:
    id: int
    patient_id: int
    pseudonym: str
    programme_code: str
    programme_names: dict[str, str]
    enrolled_on: date
    arm: str | None
    status: str
    follow_ups: tuple[FollowUpLine, ...]


@dataclass(frozen=True)
class WorklistRow:
    follow_up_id: int
    patient_id: int
    pseudonym: str
    programme_code: str
    programme_names: dict[str, str]
    timepoint_months: int
    due_on: date
    days: int  # days late (positive) or until due (negative)


@dataclass(frozen=True)
class Worklist:
    today: date
    due_today: tuple[WorklistRow, ...]
    overdue: tuple[WorklistRow, ...]
    upcoming: tuple[WorklistRow, ...]
    unanswered: tuple = ()  # services.referrals.UnansweredReferral
    safety_flags: tuple = ()  # services.screening.SafetyFlag
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(self.counts.values())


@dataclass(frozen=True)
class ReferralLine:
    id: int
    service_name: str
    status: str
    created_on: date


@dataclass(frozen=True)
class FollowUpDetail:
    id: int
    enrolment_id: int
    patient_id: int
    pseudonym: str
    programme_code: str
    programme_names: dict[str, str]
    arm: str | None
    timepoint_months: int
    due_on: date
    window: tuple[date, date]
    status: str
    completed_on: date | None
    attendance: dict[int, bool]
    instruments: tuple[str, ...]
    done_instruments: frozenset[str]
    with_measures: bool
    referrals: tuple[ReferralLine, ...]
    # Moved by a programme change: the follow-up of the same time point (else the first) in the
    # enrolment the person went on in, and that programme's names; None when not moved or unknown.
    moved_to: int | None = None
    moved_to_names: dict[str, str] | None = None


# --- Scope ----------------------------------------------------------------------------------------


def _names(p: Programme) -> dict[str, str]:
    return {"sv": p.name_sv, "da": p.name_da, "en": p.name_en}


def _require_connector(principal: Principal | None, action: str) -> Principal:
    return audit.require_role(principal, "connector", action=action)


def patient_in_scope(
    session: Session, principal: Principal | None, patient_id: object, action: str
) -> Patient:
    """The patient, if the principal is a connector of the patient's centre; denials and unknown
    ids are audited at once. Call with a read session (the audit opens its own write)."""
    return scope.patient_in_scope(session, principal, patient_id, action)[0]


def _today(today: date | None) -> date:
    return today or date.today()


# --- Programmes and enrolment ---------------------------------------------------------------------


def programmes(principal: Principal) -> list[ProgrammeView]:
    """The programmes a connector can enrol patients in (no patient data)."""
    audit.require_role(principal, "connector", "manager", "admin", action="programme.list")
    with read_session() as s:
        rows = s.exec(select(Programme).order_by(Programme.id)).all()
    return [
        ProgrammeView(
            p.id,
            p.code,
            _names(p),
            prog.clean_timepoints(p.timepoints or []),
            tuple(p.instruments or ()),
            bool(p.with_measures),
            bool(p.arms),
        )
        for p in rows
    ]


def _enrolment_view(s: Session, enrolment: Enrolment, programme: Programme, pseudonym: str) -> EnrolmentView:
    lines = s.exec(
        select(FollowUp).where(FollowUp.enrolment_id == enrolment.id).order_by(FollowUp.timepoint_months)
    ).all()
    return EnrolmentView(
        enrolment.id,
        enrolment.patient_id,
        pseudonym,
        programme.code,
        _names(programme),
        enrolment.enrolled_on,
        enrolment.arm,
        enrolment.status,
        tuple(FollowUpLine(f.id, f.timepoint_months, f.due_on, f.status, f.completed_on) for f in lines),
    )


def _next_allocation(s: Session, programme: Programme) -> ArmAllocation:
    """The next unused allocation of the programme, generating the seeded sequence on first use
    (or when it runs out). The caller holds the programme row lock."""
    query = (
        select(ArmAllocation)
        .where(ArmAllocation.programme_id == programme.id, col(ArmAllocation.enrolment_id).is_(None))
        .order_by(ArmAllocation.sequence_no)
        .limit(1)
        .with_for_update()
    )
    allocation = s.exec(query).first()
    if allocation is not None:
        return allocation
    used = s.exec(
        select(func.coalesce(func.max(ArmAllocation.sequence_no), 0)).where(
            ArmAllocation.programme_id == programme.id
        )
    ).one()
    arms = list(programme.arms)
    block = 2 * len(arms)
    seed = (
        programme.allocation_seed if programme.allocation_seed is not None else prog.DEFAULT_ALLOCATION_SEED
    )
    sequence = prog.allocation_sequence(seed, arms, int(used) + ALLOCATION_BATCH, block)
    s.add_all(
        ArmAllocation(programme_id=programme.id, sequence_no=no, arm=arm)
        for no, arm in enumerate(sequence, start=1)
        if no > used
    )
    s.flush()
    return s.exec(query).first()


def enrol(
    principal: Principal,
    *,
    patient_id: int,
    programme_code: str,
    enrolled_on: date | None = None,
    idempotency_key: str | None = None,
    today: date | None = None,
) -> EnrolmentView:
    """Enrol the patient: one follow-up per time point (the baseline due on the enrolment date)
    and, for a randomised programme, the next concealed allocation, all in one transaction."""
    action = "enrolment.create"
    today = _today(today)
    with read_session() as s:
        patient = patient_in_scope(s, principal, patient_id, action)
    errors: dict[str, tuple[str, dict]] = {}
    try:
        enrolled_on = v.day(enrolled_on) or today
        if enrolled_on > today:
            errors["enrolled_on"] = ("error.care_future_date", {})
        elif enrolled_on < today - timedelta(days=BACKDATE_DAYS):
            errors["enrolled_on"] = ("error.followup_too_old", {"n": BACKDATE_DAYS})
    except v.FieldError as bad:
        errors["enrolled_on"] = (bad.key, bad.params)
    try:
        key = v.text(idempotency_key, max_length=64)
    except v.FieldError as bad:
        errors["idempotency_key"] = (bad.key, bad.params)
    if errors:
        raise ValidationError(errors)

    with write_session() as s:
        if key:
            existing = s.exec(select(Enrolment).where(Enrolment.idempotency_key == key)).first()
            if existing is not None:
                if existing.patient_id != patient.id:
                    raise ValidationError({"idempotency_key": ("error.invalid_input", {})})
                programme = s.get(Programme, existing.programme_id)
                audit.record(s, principal, action, "duplicate", patient_pseudonym=patient.pseudonym)
                return _enrolment_view(s, existing, programme, patient.pseudonym)
        # Lock the programme: enrolments in one programme are serialised (Postgres; SQLite's
        # write transaction already is), so no allocation or active enrolment is taken twice.
        programme = s.exec(
            select(Programme).where(Programme.code == (programme_code or "")).with_for_update()
        ).first()
        if programme is None:
            raise ValidationError({"programme_code": ("error.invalid_choice", {})})
        active = s.exec(
            select(Enrolment.id).where(
                Enrolment.patient_id == patient.id,
                Enrolment.programme_id == programme.id,
                Enrolment.status == "active",
            )
        ).first()
        if active is not None:
            raise ValidationError({"programme_code": ("error.followup_already_enrolled", {})})
        enrolment = _new_enrolment(s, principal, patient, programme, enrolled_on, key)
        return _enrolment_view(s, enrolment, programme, patient.pseudonym)


def _new_enrolment(
    s: Session,
    principal: Principal,
    patient: Patient,
    programme: Programme,
    enrolled_on: date,
    key: str | None = None,
    *,
    note: str = "",
) -> Enrolment:
    """Enrolment, allocation and one follow-up per time point, audited, in the caller's transaction
    (which holds the programme row lock)."""
    enrolment = Enrolment(
        patient_id=patient.id,
        programme_id=programme.id,
        centre_id=patient.centre_id,
        enrolled_on=enrolled_on,
        status="active",
        idempotency_key=key,
    )
    s.add(enrolment)
    s.flush()
    detail = f"programme={programme.code}{note}"
    if programme.arms:
        allocation = _next_allocation(s, programme)
        allocation.enrolment_id = enrolment.id
        allocation.allocated_at = utcnow()
        allocation.user_id = principal.user_id
        enrolment.arm = allocation.arm
        s.add_all([allocation, enrolment])
        detail += f" allocation={allocation.sequence_no}"
    for months, due in prog.due_dates(enrolled_on, programme.timepoints or []):
        s.add(
            FollowUp(
                enrolment_id=enrolment.id,
                patient_id=patient.id,
                centre_id=patient.centre_id,
                timepoint_months=months,
                due_on=due,
                status="due",
            )
        )
    s.flush()
    audit.record(s, principal, "enrolment.create", patient_pseudonym=patient.pseudonym, detail=detail)
    return enrolment


# --- Referral -> follow-up ------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    on: date
    response_ids: tuple[int, ...]
    instruments: tuple[str, ...]


@dataclass(frozen=True)
class FollowUpPlan:
    """What a referral of this patient does to follow-up: join `active`, or start `programmes`
    with `baseline` (None: no complete screening in the window, so the baseline is due today)."""

    active: tuple[EnrolmentView, ...]
    baseline: Baseline | None
    programmes: tuple[ProgrammeView, ...]
    default: str | None  # programme code a referral joins or starts by default; None: none installed

    def enrolment_in(self, code: str) -> EnrolmentView | None:
        return next((e for e in self.active if e.programme_code == code), None)


def _baseline(s: Session, patient_id: int, today: date) -> Baseline | None:
    """The latest day with complete screenings not yet tied to an enrolment, within the window."""
    since = today - timedelta(days=BASELINE_WINDOW_DAYS)
    rows = s.exec(
        select(InstrumentResponse.id, InstrumentResponse.instrument, InstrumentResponse.administered_on)
        .where(
            InstrumentResponse.patient_id == patient_id,
            col(InstrumentResponse.enrolment_id).is_(None),
            col(InstrumentResponse.incomplete_reason).is_(None),
            col(InstrumentResponse.administered_on) >= since,
            col(InstrumentResponse.administered_on) <= today,
            col(InstrumentResponse.total).is_not(None)
            | col(InstrumentResponse.band).is_not(None)
            | (InstrumentResponse.instrument == "ons4"),
        )
        .order_by(col(InstrumentResponse.administered_on).desc(), InstrumentResponse.id)
    ).all()
    if not rows:
        return None
    day = rows[0][2]
    same_day = [(rid, code) for rid, code, on in rows if on == day]
    return Baseline(day, tuple(r for r, _ in same_day), tuple(dict.fromkeys(c for _, c in same_day)))


def _active_enrolments(s: Session, patient: Patient) -> list[tuple[Enrolment, Programme]]:
    return list(
        s.exec(
            select(Enrolment, Programme)
            .join(Programme, Programme.id == Enrolment.programme_id)
            .where(Enrolment.patient_id == patient.id, Enrolment.status == "active")
            .order_by(col(Enrolment.enrolled_on).desc(), col(Enrolment.id).desc())
        ).all()
    )


def check_programme_choice(s: Session, programme_code: object) -> tuple[str, dict] | None:
    """The field error for a referral's follow-up choice, or None: AUTO, None (no follow-up) or
    the code of an installed programme."""
    if programme_code is None or programme_code == AUTO:
        return None
    if not isinstance(programme_code, str) or len(programme_code) > 32:
        return ("error.invalid_choice", {})
    if s.exec(select(Programme.id).where(Programme.code == programme_code)).first() is None:
        return ("error.invalid_choice", {})
    return None


def join_or_enrol(
    s: Session, principal: Principal, patient: Patient, programme_code: str | None, today: date
) -> tuple[Enrolment, Programme, bool] | None:
    """For a referral, in the caller's transaction: the patient's active enrolment in the chosen
    programme (AUTO: in any programme, else DEFAULT_PROGRAMME) or a new one whose baseline is the
    latest complete screening in the window (linked as time point 0, the baseline follow-up done).
    Returns (enrolment, programme, created), or None for no follow-up."""
    if programme_code is None:
        return None
    active = _active_enrolments(s, patient)
    if programme_code == AUTO:
        if active:
            return (*active[0], False)
        programme_code = DEFAULT_PROGRAMME
    for enrolment, programme in active:
        if programme.code == programme_code:
            return enrolment, programme, False
    programme = s.exec(select(Programme).where(Programme.code == programme_code).with_for_update()).first()
    if programme is None:
        return None  # AUTO without the default programme installed: no follow-up to start
    baseline = _baseline(s, patient.id, today)
    enrolled_on = baseline.on if baseline else today
    note = f" baseline={baseline.on.isoformat()}" if baseline else " baseline=due"
    enrolment = _new_enrolment(s, principal, patient, programme, enrolled_on, note=note)
    if baseline:
        for response in s.exec(
            select(InstrumentResponse).where(col(InstrumentResponse.id).in_(baseline.response_ids))
        ).all():
            response.enrolment_id = enrolment.id
            response.timepoint_months = 0
            s.add(response)
        first = s.exec(
            select(FollowUp).where(FollowUp.enrolment_id == enrolment.id, FollowUp.timepoint_months == 0)
        ).first()
        if first is not None:
            first.status = "completed"
            first.completed_on = baseline.on
            s.add(first)
        s.flush()
    return enrolment, programme, True


def change_programme(principal: Principal, enrolment_id: int, programme_code: str) -> EnrolmentView:
    """Move an active enrolment to another programme after a referral (issue 12): the old one and
    its follow-ups are marked moved (not withdrawn: nobody was lost), the new one keeps the
    enrolment day (the schedule still counts from the baseline), takes over the baseline answers
    and a completed baseline, and the referrals that started or joined the old one. Only while no
    later follow-up has been completed (then the old programme has data of its own). A randomised
    programme allocates as on any enrolment."""
    action = "enrolment.change"
    _require_connector(principal, action)
    with read_session() as s:
        row = None
        if isinstance(enrolment_id, int) and not isinstance(enrolment_id, bool):
            row = s.exec(
                select(Enrolment, Programme, Patient)
                .join(Programme, Programme.id == Enrolment.programme_id)
                .join(Patient, Patient.id == Enrolment.patient_id)
                .where(Enrolment.id == enrolment_id)
            ).first()
        scope.check_patient(principal, row[2] if row else None, action, ref=f"enrolment={enrolment_id}")
        old, old_programme, patient = row
    with write_session() as s:
        error = check_programme_choice(s, programme_code)
        programme = None
        if error is None and programme_code is not None and programme_code != AUTO:
            programme = s.exec(
                select(Programme).where(Programme.code == programme_code).with_for_update()
            ).first()
        if programme is None:
            error = error or ("error.invalid_choice", {})
        elif programme.id == old_programme.id:
            error = ("error.followup_same_programme", {})
        old = s.get(Enrolment, old.id)
        if error is None and old.status != "active":
            error = ("error.followup_not_active", {})
        if error is None and any(programme.id == p.id for _, p in _active_enrolments(s, patient)):
            error = ("error.followup_already_enrolled", {})
        if (
            error is None
            and s.exec(
                select(FollowUp.id).where(
                    FollowUp.enrolment_id == old.id,
                    FollowUp.timepoint_months > 0,
                    FollowUp.status == "completed",
                )
            ).first()
        ):
            error = ("error.followup_change_too_late", {})
        if error is None:
            return _move_enrolment(s, principal, patient, old, old_programme, programme)
    audit.record_now(principal, action, "invalid", patient_pseudonym=patient.pseudonym)
    raise ValidationError({"programme_code": error})


def _move_enrolment(
    s: Session,
    principal: Principal,
    patient: Patient,
    old: Enrolment,
    old_programme: Programme,
    programme: Programme,
) -> EnrolmentView:
    """change_programme's writes, in the caller's transaction (which holds the programme lock)."""
    # Not a withdrawal: the person goes on in the new programme with the same answers. The old
    # enrolment and its follow-ups are marked moved, so no evaluation or completion rate counts
    # them as lost (services/evaluation.py keeps a randomised one, for intention to treat).
    old.status = prog.MOVED
    new = _new_enrolment(
        s, principal, patient, programme, old.enrolled_on, note=f" from={old_programme.code}"
    )
    old.moved_to_id = new.id  # the old programme's follow-up pages link to the new one
    s.add(old)
    timepoints = set(prog.clean_timepoints(programme.timepoints or []))
    for response in s.exec(select(InstrumentResponse).where(InstrumentResponse.enrolment_id == old.id)).all():
        if response.timepoint_months in timepoints:
            response.enrolment_id = new.id
            s.add(response)
    old_baseline = s.exec(
        select(FollowUp).where(FollowUp.enrolment_id == old.id, FollowUp.timepoint_months == 0)
    ).first()
    new_baseline = s.exec(
        select(FollowUp).where(FollowUp.enrolment_id == new.id, FollowUp.timepoint_months == 0)
    ).first()
    if old_baseline is not None and new_baseline is not None and old_baseline.status == "completed":
        new_baseline.status = "completed"
        new_baseline.completed_on = old_baseline.completed_on
        new_baseline.attendance = dict(old_baseline.attendance or {})
        s.add(new_baseline)
    for line in s.exec(select(FollowUp).where(FollowUp.enrolment_id == old.id)).all():
        line.status = prog.MOVED
        s.add(line)
    for referral in s.exec(select(Referral).where(Referral.enrolment_id == old.id)).all():
        referral.enrolment_id = new.id
        s.add(referral)
    s.flush()
    audit.record(
        s,
        principal,
        "enrolment.change",
        patient_pseudonym=patient.pseudonym,
        detail=f"enrolment={old.id} {old_programme.code} -> enrolment={new.id} {programme.code}",
    )
    return _enrolment_view(s, new, programme, patient.pseudonym)


def referral_plan(principal: Principal, patient_id: int, today: date | None = None) -> FollowUpPlan:
    """What referring this patient will do to follow-up, for the referral step to show and change."""
    action = "enrolment.read"
    today = _today(today)
    with read_session() as s:
        patient = patient_in_scope(s, principal, patient_id, action)
        active = tuple(_enrolment_view(s, e, p, patient.pseudonym) for e, p in _active_enrolments(s, patient))
        baseline = _baseline(s, patient.id, today)
    installed = tuple(programmes(principal))
    codes = {p.code for p in installed}
    default = DEFAULT_PROGRAMME if DEFAULT_PROGRAMME in codes else None
    if active:
        default = active[0].programme_code
    with write_session() as s:
        audit.record(s, principal, action, patient_pseudonym=patient.pseudonym, detail="referral_plan")
    return FollowUpPlan(active, baseline, installed, default)


def patient_enrolments(principal: Principal, patient_id: int) -> list[EnrolmentView]:
    """The patient's enrolments, newest first, each with its follow-ups (and arm, once allocated)."""
    action = "enrolment.read"
    with read_session() as s:
        patient = patient_in_scope(s, principal, patient_id, action)
        rows = s.exec(
            select(Enrolment, Programme)
            .join(Programme, Programme.id == Enrolment.programme_id)
            .where(Enrolment.patient_id == patient.id)
            .order_by(col(Enrolment.enrolled_on).desc(), col(Enrolment.id).desc())
        ).all()
        views = [_enrolment_view(s, e, p, patient.pseudonym) for e, p in rows]
    with write_session() as s:
        audit.record(s, principal, action, patient_pseudonym=patient.pseudonym)
    return views


# --- Worklist -------------------------------------------------------------------------------------


def worklist(principal: Principal, today: date | None = None) -> Worklist:
    """The connector's work for today in their own centres: follow-ups due today, overdue and in
    the next 14 days, unanswered referrals and open safety flags. Counted and limited in SQL."""
    _require_connector(principal, "worklist.read")
    today = _today(today)
    centres = tuple(principal.centre_ids)
    horizon = today + timedelta(days=UPCOMING_DAYS)
    scope = (
        col(FollowUp.centre_id).in_(centres),
        col(FollowUp.status).in_(OPEN_FOLLOW_UP),
        col(Patient.anonymised_at).is_(None),
        Enrolment.status != "withdrawn",
    )
    base = (
        select(
            FollowUp.id,
            FollowUp.patient_id,
            Patient.pseudonym,
            Programme,
            FollowUp.timepoint_months,
            FollowUp.due_on,
        )
        .join(Patient, Patient.id == FollowUp.patient_id)
        .join(Enrolment, Enrolment.id == FollowUp.enrolment_id)
        .join(Programme, Programme.id == Enrolment.programme_id)
        .where(*scope)
    )

    def rows(s: Session, *where, newest_first: bool = False) -> tuple[WorklistRow, ...]:
        order = col(FollowUp.due_on).desc() if newest_first else col(FollowUp.due_on)
        found = s.exec(base.where(*where).order_by(order, FollowUp.id).limit(WORKLIST_LIMIT)).all()
        return tuple(
            WorklistRow(fid, pid, pseudo, p.code, _names(p), tp, due, (today - due).days)
            for fid, pid, pseudo, p, tp, due in found
        )

    with read_session() as s:
        if centres:
            due_n, overdue_n, upcoming_n = s.exec(
                select(
                    func.sum(case((FollowUp.due_on == today, 1), else_=0)),
                    func.sum(case((FollowUp.due_on < today, 1), else_=0)),
                    func.sum(case(((FollowUp.due_on > today) & (FollowUp.due_on <= horizon), 1), else_=0)),
                )
                .select_from(FollowUp)
                .join(Patient, Patient.id == FollowUp.patient_id)
                .join(Enrolment, Enrolment.id == FollowUp.enrolment_id)
                .where(*scope, FollowUp.due_on <= horizon)
            ).one()
            due_today = rows(s, FollowUp.due_on == today)
            overdue = rows(s, FollowUp.due_on < today)
            upcoming = rows(s, FollowUp.due_on > today, FollowUp.due_on <= horizon)
        else:
            due_n = overdue_n = upcoming_n = 0
            due_today = overdue = upcoming = ()

    unanswered = tuple(unanswered_referrals(principal, today)) if centres else ()
    flags = tuple(open_safety_flags(principal)) if centres else ()
    counts = {
        "safety_flags": len(flags),
        "due_today": int(due_n or 0),
        "overdue": int(overdue_n or 0),
        "upcoming": int(upcoming_n or 0),
        "unanswered": len(unanswered),
    }
    with write_session() as s:
        audit.record(s, principal, "worklist.read", detail=" ".join(f"{k}={n}" for k, n in counts.items()))
    return Worklist(
        today,
        due_today,
        overdue,
        upcoming,
        unanswered[:WORKLIST_LIMIT],
        flags[:WORKLIST_LIMIT],
        counts,
    )


# --- One follow-up --------------------------------------------------------------------------------


def _load_follow_up(s: Session, principal: Principal, follow_up_id: object, action: str):
    _require_connector(principal, action)
    row = None
    if isinstance(follow_up_id, int) and not isinstance(follow_up_id, bool):
        row = s.exec(
            select(FollowUp, Enrolment, Programme, Patient)
            .join(Enrolment, Enrolment.id == FollowUp.enrolment_id)
            .join(Programme, Programme.id == Enrolment.programme_id)
            .join(Patient, Patient.id == FollowUp.patient_id)
            .where(FollowUp.id == follow_up_id)
        ).first()
    patient = row[3] if row is not None else None
    scope.check_patient(principal, patient, action, ref=f"follow_up={follow_up_id}")
    return row


def _detail(s: Session, fu: FollowUp, enrolment: Enrolment, programme: Programme, patient: Patient):
    since = enrolment.enrolled_on - timedelta(days=RECENT_REFERRAL_DAYS)
    referrals = s.exec(
        select(Referral.id, Service.name, Referral.status, Referral.created_on)
        .join(Service, Service.id == Referral.service_id)
        .where(
            Referral.patient_id == patient.id,
            col(Referral.status).in_(OPEN_REFERRAL_STATUSES)
            | ((col(Referral.created_on) >= since) & (Referral.status != "entered-in-error")),
        )
        .order_by(col(Referral.created_on).desc(), col(Referral.id).desc())
        .limit(30)
    ).all()
    # Answered: saved complete. A form saved incomplete (with a reason, no total) is still to do.
    done = s.exec(
        select(InstrumentResponse.instrument)
        .where(
            InstrumentResponse.enrolment_id == enrolment.id,
            InstrumentResponse.timepoint_months == fu.timepoint_months,
            col(InstrumentResponse.incomplete_reason).is_(None),
        )
        .distinct()
    ).all()
    attendance = {}
    for k, value in (fu.attendance or {}).items():
        if str(k).isdigit():
            attendance[int(k)] = bool(value)
    moved_to, moved_to_names = _moved_to(s, enrolment, fu.timepoint_months)
    return FollowUpDetail(
        fu.id,
        enrolment.id,
        patient.id,
        patient.pseudonym,
        programme.code,
        _names(programme),
        enrolment.arm,
        fu.timepoint_months,
        fu.due_on,
        prog.follow_up_window(fu.due_on, fu.timepoint_months),
        fu.status,
        fu.completed_on,
        attendance,
        tuple(programme.instruments or ()),
        frozenset(done),
        bool(programme.with_measures),
        tuple(ReferralLine(*r) for r in referrals),
        moved_to,
        moved_to_names,
    )


def _moved_to(s: Session, enrolment: Enrolment, timepoint_months: int):
    """Where a moved enrolment's person went on: following each programme change to the enrolment
    that is not moved, its follow-up of the same time point (else its first) and its programme's
    names. (None, None) for an enrolment that was not moved or moved before the link was kept."""
    seen = {enrolment.id}
    current = enrolment
    while current.status == prog.MOVED and current.moved_to_id is not None:
        current = s.get(Enrolment, current.moved_to_id)
        if current is None or current.id in seen:
            return None, None
        seen.add(current.id)
    if current.id == enrolment.id:
        return None, None
    lines = s.exec(
        select(FollowUp.id, FollowUp.timepoint_months)
        .where(FollowUp.enrolment_id == current.id)
        .order_by(FollowUp.timepoint_months)
    ).all()
    target = next((fid for fid, months in lines if months == timepoint_months), None)
    if target is None and lines:
        target = lines[0][0]
    programme = s.get(Programme, current.programme_id)
    return target, _names(programme) if programme else None


def follow_up_detail(principal: Principal, follow_up_id: int) -> FollowUpDetail:
    """The follow-up, its programme's instruments and the patient's open or recent referrals."""
    action = "follow_up.read"
    with read_session() as s:
        fu, enrolment, programme, patient = _load_follow_up(s, principal, follow_up_id, action)
        detail = _detail(s, fu, enrolment, programme, patient)
    with write_session() as s:
        audit.record(s, principal, action, patient_pseudonym=patient.pseudonym, detail=f"follow_up={fu.id}")
    return detail


def record_follow_up(
    principal: Principal,
    follow_up_id: int,
    *,
    attendance: Mapping[int, bool],
    completed_on: date | None = None,
    today: date | None = None,
) -> FollowUpDetail:
    """Complete the follow-up: whether each of the patient's referrals was attended."""
    action = "follow_up.complete"
    today = _today(today)
    with read_session() as s:
        fu, enrolment, programme, patient = _load_follow_up(s, principal, follow_up_id, action)
        own = set(s.exec(select(Referral.id).where(Referral.patient_id == patient.id)).all())
    errors: dict[str, tuple[str, dict]] = {}
    cleaned: dict[str, bool] = {}
    if not isinstance(attendance, Mapping):
        errors["attendance"] = ("error.invalid_input", {})
    else:
        for raw_id, attended in attendance.items():
            try:
                rid = v.integer(raw_id, required=True, minimum=1)
            except v.FieldError:
                rid = None
            if rid is None or rid not in own:
                errors["attendance"] = ("error.followup_foreign_referral", {})
                break
            if not isinstance(attended, bool):
                errors["attendance"] = ("error.invalid_choice", {})
                break
            cleaned[str(rid)] = attended
    if fu.status == prog.MOVED:  # the person goes on in another programme: complete it there
        errors["follow_up"] = ("error.followup_moved", {})
    try:
        completed_on = v.day(completed_on) or today
        if completed_on > today:
            errors["completed_on"] = ("error.care_future_date", {})
        elif completed_on < enrolment.enrolled_on:
            errors["completed_on"] = ("error.followup_before_enrolment", {})
    except v.FieldError as bad:
        errors["completed_on"] = (bad.key, bad.params)
    if errors:
        audit.record_now(principal, action, "invalid", patient_pseudonym=patient.pseudonym)
        raise ValidationError(errors)
    with write_session() as s:
        fu = s.get(FollowUp, fu.id)
        fu.attendance = cleaned
        fu.status = "completed"
        fu.completed_on = completed_on
        s.add(fu)
        s.flush()
        audit.record(
            s,
            principal,
            action,
            patient_pseudonym=patient.pseudonym,
            detail=f"follow_up={fu.id} referrals={len(cleaned)}",
        )
        return _detail(s, fu, enrolment, programme, patient)
