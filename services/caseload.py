"""The connector's caseload ("Mina patienter"): the patients of their own centres with open work,
each with name, phone and the next action, most urgent first.

A patient is on it from the moment there is something to do: registered without a screening,
referred (waiting for the activity's answer or under way), or with a follow-up not yet done.
Identities are decrypted only for the rows shown, and each is audited as a read of that patient.
Who may see a name: the connector of the patient's own centre, who sees it on the patient page
too; the consents (referral, share_contact, evaluation) govern what others see, not this list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.engine import read_session, write_session
from db.models import Enrolment, FollowUp, InstrumentResponse, Patient, Referral, Service
from domain.care import OPEN_REFERRAL_STATUSES
from services import audit
from services.errors import ValidationError
from services.patients import _view as _patient_view
from services.principal import Principal
from settings import get_settings

CASELOAD_LIMIT = 50
CASELOAD_MAX = 1000  # "show all" shows at most this many
SOON_DAYS = 14
NEW_PATIENT_DAYS = 90  # a patient registered this recently and never screened needs a screening
SCREENING_DAYS = 90  # a screening older than this is no longer a baseline (services.followup)
OPEN_FOLLOW_UP = ("due", "overdue")

# Next actions, most urgent first.
ACTIONS = (
    "follow_up_overdue",
    "follow_up_today",
    "referral_unanswered",
    "screening_missing",
    "referral_waiting",
    "follow_up_soon",
    "referral_active",
    "follow_up_later",
)


@dataclass(frozen=True)
class CaseloadRow:
    patient_id: int
    pseudonym: str
    name: str | None
    phone: str | None  # None also when the patient asked not to be contacted
    contact_preference: str
    action: str  # one of ACTIONS
    on: date | None  # the follow-up's due date, or the day the referral was made
    days: int | None  # days late (positive) or until (negative) for follow-ups, days waiting for referrals
    timepoint_months: int | None = None
    follow_up_id: int | None = None
    referral_id: int | None = None
    service_name: str | None = None


@dataclass(frozen=True)
class Caseload:
    today: date
    rows: tuple[CaseloadRow, ...]
    total: int  # patients with open work, of which the first CASELOAD_LIMIT are in rows


def _identity(patient: Patient):
    """Name and phone decrypted the one way services.patients does it (the caller audits)."""
    return _patient_view(patient, centre_code="")


def _first_follow_ups(s: Session, centres: tuple[int, ...]) -> dict[int, tuple]:
    """Per patient, the earliest open follow-up: (id, due_on, time point)."""
    earliest = (
        select(FollowUp.patient_id, func.min(FollowUp.due_on).label("due"))
        .join(Enrolment, Enrolment.id == FollowUp.enrolment_id)
        .where(
            col(FollowUp.centre_id).in_(centres),
            col(FollowUp.status).in_(OPEN_FOLLOW_UP),
            Enrolment.status != "withdrawn",
        )
        .group_by(FollowUp.patient_id)
        .subquery()
    )
    rows = s.exec(
        select(FollowUp.patient_id, FollowUp.id, FollowUp.due_on, FollowUp.timepoint_months)
        .join(earliest, (earliest.c.patient_id == FollowUp.patient_id) & (earliest.c.due == FollowUp.due_on))
        .join(Enrolment, Enrolment.id == FollowUp.enrolment_id)
        .where(col(FollowUp.status).in_(OPEN_FOLLOW_UP), Enrolment.status != "withdrawn")
        .order_by(FollowUp.patient_id, FollowUp.id)
    ).all()
    found: dict[int, tuple] = {}
    for pid, fid, due, months in rows:
        found.setdefault(pid, (fid, due, months))
    return found


def _open_referrals(s: Session, centres: tuple[int, ...]) -> dict[int, tuple]:
    """Per patient, the open referral to act on: the oldest one still unanswered, else the oldest
    under way: (id, status, created_on, service name)."""
    rows = s.exec(
        select(Referral.patient_id, Referral.id, Referral.status, Referral.created_on, Service.name)
        .join(Service, Service.id == Referral.service_id)
        .where(col(Referral.centre_id).in_(centres), col(Referral.status).in_(OPEN_REFERRAL_STATUSES))
        .order_by(Referral.patient_id, Referral.created_on, Referral.id)
    ).all()
    found: dict[int, tuple] = {}
    for pid, rid, status, created_on, name in rows:
        current = found.get(pid)
        if current is None or (status == "requested" and current[1] != "requested"):
            found[pid] = (rid, status, created_on, name)
    return found


def _unscreened_new_patients(s: Session, centres: tuple[int, ...], today: date) -> set[int]:
    since = datetime.combine(today - timedelta(days=NEW_PATIENT_DAYS), datetime.min.time(), tzinfo=UTC)
    screened = select(InstrumentResponse.patient_id).where(
        col(InstrumentResponse.centre_id).in_(centres),
        col(InstrumentResponse.administered_on) >= today - timedelta(days=SCREENING_DAYS),
        col(InstrumentResponse.incomplete_reason).is_(None),
    )
    return set(
        s.exec(
            select(Patient.id).where(
                col(Patient.centre_id).in_(centres),
                col(Patient.anonymised_at).is_(None),
                col(Patient.created_at) >= since,
                col(Patient.id).not_in(screened),
            )
        ).all()
    )


def _next_action(
    today: date, follow_up: tuple | None, referral: tuple | None, unscreened: bool
) -> tuple[str, dict]:
    """The most urgent thing to do for one patient, and its facts."""
    limit = get_settings().unanswered_days
    candidates: list[tuple[str, dict]] = []
    if follow_up is not None:
        fid, due, months = follow_up
        days = (today - due).days
        if due < today:
            kind = "follow_up_overdue"
        elif due == today:
            kind = "follow_up_today"
        elif due <= today + timedelta(days=SOON_DAYS):
            kind = "follow_up_soon"
        else:
            kind = "follow_up_later"
        candidates.append((kind, {"on": due, "days": days, "timepoint_months": months, "follow_up_id": fid}))
    if referral is not None:
        rid, status, created_on, name = referral
        waited = (today - created_on).days
        if status == "requested":
            kind = "referral_unanswered" if waited >= limit else "referral_waiting"
        else:
            kind = "referral_active"
        candidates.append(
            (kind, {"on": created_on, "days": waited, "referral_id": rid, "service_name": name})
        )
    if unscreened:
        candidates.append(("screening_missing", {"on": None, "days": None}))
    return min(candidates, key=lambda c: (ACTIONS.index(c[0]), c[1]["on"] or today))


def caseload(principal: Principal, today: date | None = None, *, limit: int | None = None) -> Caseload:
    """The connector's open patients in their own centres, most urgent first, with identities
    (the first `limit`, default CASELOAD_LIMIT, at most CASELOAD_MAX)."""
    action = "caseload.read"
    audit.require_role(principal, "connector", action=action)
    if limit is None:
        limit = CASELOAD_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= CASELOAD_MAX:
        raise ValidationError({"limit": ("error.out_of_range", {"minimum": 1, "maximum": CASELOAD_MAX})})
    today = today or date.today()
    centres = tuple(principal.centre_ids)
    if not centres:
        with write_session() as s:
            audit.record(s, principal, action, detail="n=0")
        return Caseload(today, (), 0)
    with read_session() as s:
        follow_ups = _first_follow_ups(s, centres)
        referrals = _open_referrals(s, centres)
        unscreened = _unscreened_new_patients(s, centres, today)
        candidates = set(follow_ups) | set(referrals) | unscreened
        ranked = sorted(
            (
                (pid, *_next_action(today, follow_ups.get(pid), referrals.get(pid), pid in unscreened))
                for pid in candidates
            ),
            key=lambda r: (ACTIONS.index(r[1]), r[2]["on"] or today, r[0]),
        )
        patients = (
            {
                p.id: p
                for p in s.exec(
                    select(Patient).where(
                        col(Patient.id).in_(list(candidates)),
                        col(Patient.anonymised_at).is_(None),
                        col(Patient.centre_id).in_(centres),
                    )
                ).all()
            }
            if candidates
            else {}
        )
    ranked = [r for r in ranked if r[0] in patients]
    rows = []
    for pid, kind, facts in ranked[:limit]:
        patient = patients[pid]
        identity = _identity(patient)
        no_contact = patient.contact_preference == "do_not_contact"
        rows.append(
            CaseloadRow(
                patient_id=pid,
                pseudonym=patient.pseudonym,
                name=identity.name,
                phone=None if no_contact else identity.phone,
                contact_preference=patient.contact_preference,
                action=kind,
                **facts,
            )
        )
    with write_session() as s:
        audit.record(s, principal, action, detail=f"n={len(rows)} total={len(ranked)}")
        for row in rows:  # each name and phone shown is a read of that patient's identity
            audit.record(s, principal, "patient.read", patient_pseudonym=row.pseudonym, detail="caseload")
    return Caseload(today, tuple(rows), len(ranked))


def patient_names(principal: Principal, patient_ids: list[int]) -> dict[int, str]:
    """Names of the given patients of the connector's own centres (others are left out), for
    worklist rows; each name read is audited as a read of that patient."""
    audit.require_role(principal, "connector", action="patient.read")
    wanted = [p for p in dict.fromkeys(patient_ids) if isinstance(p, int) and not isinstance(p, bool)]
    if not wanted or not principal.centre_ids:
        return {}
    with read_session() as s:
        found = s.exec(
            select(Patient).where(
                col(Patient.id).in_(wanted),
                col(Patient.centre_id).in_(tuple(principal.centre_ids)),
                col(Patient.anonymised_at).is_(None),
            )
        ).all()
    names = {}
    with write_session() as s:
        for patient in found:
            name = _identity(patient).name
            if name:
                names[patient.id] = name
                audit.record(s, principal, "patient.read", patient_pseudonym=patient.pseudonym, detail="name")
    return names
