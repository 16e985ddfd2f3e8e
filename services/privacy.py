"""A patient's rights and the retention rule: export of everything stored about a patient, the
access extract (who looked, when, from which care unit), and anonymisation by an admin.

Export and access extract are for a connector of the patient's centre (the patient asks at the
desk); anonymisation is for admins, only after `settings.retention_years` without any recorded
event. Anonymisation clears identity and free text and keeps the pseudonymous scores and
referrals for statistics. Everything is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import and_, exists, func, literal, or_
from sqlmodel import col, select

from db.data_version import versioned_cache
from db.engine import read_session, write_session
from db.models import (
    AuditEvent,
    CoachingContact,
    Enrolment,
    FollowUp,
    HealthCentre,
    HealthMeasure,
    InstrumentResponse,
    Patient,
    PatientConsent,
    PatientNeed,
    Programme,
    Referral,
    ReferralEvent,
    Service,
    ShortlistItem,
    User,
    utcnow,
)
from domain.security import decrypt_identity
from services import audit
from services.errors import NotFound, ValidationError
from services.patients import authorise_patient
from services.principal import Principal
from settings import get_settings

EXPORT_FORMAT = "lotsa.patient-export.v1"


@dataclass(frozen=True)
class AccessRow:
    at: datetime
    user: str | None  # display name (the username if the account is gone)
    role: str | None
    action: str
    outcome: str
    care_unit: str | None


@dataclass(frozen=True)
class Anonymisable:
    patient_id: int
    pseudonym: str
    centre_code: str
    last_event: date


ACCESS_COLUMNS = ("at", "user", "role", "action", "outcome", "care_unit")


def _iso(value) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(obj, fields: tuple[str, ...]) -> dict:
    return {f: _iso(getattr(obj, f)) for f in fields}


# --- Export -------------------------------------------------------------------------------------


def export_patient(principal: Principal, patient_id: int) -> dict:
    """Everything stored about the patient, as JSON-ready data (dates as ISO text), for the
    patient's own request. Identity is decrypted; the export is audited."""
    patient, centre_code = authorise_patient(principal, patient_id, "patient.export")
    pid = patient.id
    with read_session() as s:
        centre = s.get(HealthCentre, patient.centre_id)
        consents = s.exec(
            select(PatientConsent)
            .where(PatientConsent.patient_id == pid)
            .order_by(col(PatientConsent.recorded_at), col(PatientConsent.id))
        ).all()
        needs = s.exec(
            select(PatientNeed).where(PatientNeed.patient_id == pid).order_by(col(PatientNeed.id))
        ).all()
        responses = s.exec(
            select(InstrumentResponse)
            .where(InstrumentResponse.patient_id == pid)
            .order_by(col(InstrumentResponse.administered_on), col(InstrumentResponse.id))
        ).all()
        referrals = s.exec(
            select(Referral, Service.name)
            .join(Service, col(Service.id) == col(Referral.service_id))
            .where(Referral.patient_id == pid)
            .order_by(col(Referral.created_on), col(Referral.id))
        ).all()
        events = s.exec(
            select(ReferralEvent)
            .join(Referral, col(Referral.id) == col(ReferralEvent.referral_id))
            .where(Referral.patient_id == pid)
            .order_by(col(ReferralEvent.at), col(ReferralEvent.id))
        ).all()
        enrolments = s.exec(
            select(Enrolment, Programme.code)
            .join(Programme, col(Programme.id) == col(Enrolment.programme_id))
            .where(Enrolment.patient_id == pid)
            .order_by(col(Enrolment.enrolled_on), col(Enrolment.id))
        ).all()
        follow_ups = s.exec(
            select(FollowUp)
            .where(FollowUp.patient_id == pid)
            .order_by(col(FollowUp.due_on), col(FollowUp.id))
        ).all()
        contacts = s.exec(
            select(CoachingContact)
            .where(CoachingContact.patient_id == pid)
            .order_by(col(CoachingContact.contact_on), col(CoachingContact.id))
        ).all()
        measures = s.exec(
            select(HealthMeasure)
            .where(HealthMeasure.patient_id == pid)
            .order_by(col(HealthMeasure.measured_on), col(HealthMeasure.id))
        ).all()
        shortlist = s.exec(
            select(ShortlistItem, Service.name)
            .join(Service, col(Service.id) == col(ShortlistItem.service_id))
            .where(ShortlistItem.patient_id == pid)
            .order_by(col(ShortlistItem.id))
        ).all()
    identity = decrypt_identity(patient.identity_enc, patient.pseudonym)
    by_referral: dict[int, list[dict]] = {}
    for ev in events:
        by_referral.setdefault(ev.referral_id, []).append(_row(ev, ("status", "reason", "note", "at")))
    data = {
        "format": EXPORT_FORMAT,
        "exported_at": utcnow().isoformat(timespec="seconds"),
        "patient": {
            "pseudonym": patient.pseudonym,
            "national_id": identity.get("national_id"),
            "name": identity.get("name"),
            "phone": identity.get("phone"),
            "birth_year": patient.birth_year,
            "sex": patient.sex,
            "preferred_language": patient.preferred_language,
            "contact_preference": patient.contact_preference,
            "what_matters": patient.what_matters,
            "interests": patient.interests,
            "registered_at": _iso(patient.created_at),
            "health_centre": {"code": centre_code, "name": centre.name if centre else None},
        },
        "consents": [_row(c, ("kind", "granted", "recorded_at")) for c in consents],
        "needs": [_row(n, ("need", "recorded_at")) for n in needs],
        "responses": [
            {
                **_row(
                    r, ("id", "instrument", "administered_on", "timepoint_months", "total", "score", "band")
                ),
                "answers": dict(r.answers or {}),
                "subscales": dict(r.subscales or {}),
                "flags": sorted(f for f in (r.flags or "").split(",") if f),
            }
            for r in responses
        ],
        "referrals": [
            {
                **_row(
                    ref,
                    (
                        "id",
                        "created_on",
                        "need",
                        "status",
                        "outcome_reason",
                        "handover_method",
                        "handover_at",
                    ),
                ),
                "activity": name,
                "events": by_referral.get(ref.id, []),
            }
            for ref, name in referrals
        ],
        "enrolments": [
            {**_row(e, ("id", "enrolled_on", "arm", "status")), "programme": code} for e, code in enrolments
        ],
        "follow_ups": [
            {
                **_row(f, ("id", "timepoint_months", "due_on", "status", "completed_on")),
                "attendance": dict(f.attendance or {}),
            }
            for f in follow_ups
        ],
        "contacts": [_row(c, ("id", "contact_on", "mode", "minutes", "notes")) for c in contacts],
        "measures": [
            _row(m, ("id", "measured_on", "systolic", "diastolic", "hba1c", "waist_cm", "weight_kg"))
            for m in measures
        ],
        "shortlist": [
            {**_row(item, ("favourite", "added_at")), "activity": name} for item, name in shortlist
        ],
    }
    with write_session() as session:
        audit.record(session, principal, "patient.export", patient_pseudonym=patient.pseudonym)
    return data


# --- Access extract -----------------------------------------------------------------------------


def access_extract(principal: Principal, patient_id: int) -> list[AccessRow]:
    """Who looked at or changed the patient's record (and who was refused), newest first, from
    the audit log by pseudonym. The extract itself is audited after it is read."""
    patient, _ = authorise_patient(principal, patient_id, "patient.access_extract")
    with read_session() as s:
        rows = s.exec(
            select(AuditEvent, User.display_name)
            .join(User, col(User.id) == col(AuditEvent.user_id), isouter=True)
            .where(AuditEvent.patient_pseudonym == patient.pseudonym)
            .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        ).all()
    with write_session() as session:
        audit.record(
            session,
            principal,
            "patient.access_extract",
            patient_pseudonym=patient.pseudonym,
            detail=f"rows={len(rows)}",
        )
    return [AccessRow(e.at, name or e.username, e.role, e.action, e.outcome, e.care_unit) for e, name in rows]


def access_csv_rows(rows: list[AccessRow]) -> list[list[object]]:
    return [
        [r.at.isoformat(timespec="seconds"), r.user, r.role, r.action, r.outcome, r.care_unit] for r in rows
    ]


# --- Retention and anonymisation ----------------------------------------------------------------


def _cutoff(today: date) -> date:
    years = get_settings().retention_years
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _recent_conditions(cutoff: date):
    """One NOT EXISTS per table: the patient has any recorded event on or after `cutoff`."""
    since = datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=UTC)
    pid = Patient.id
    return [
        col(Patient.created_at) >= since,
        exists().where(
            InstrumentResponse.patient_id == pid, col(InstrumentResponse.administered_on) >= cutoff
        ),
        exists().where(
            Referral.patient_id == pid,
            or_(col(Referral.created_on) >= cutoff, col(Referral.updated_at) >= since),
        ),
        exists().where(
            ReferralEvent.referral_id == Referral.id,
            Referral.patient_id == pid,
            col(ReferralEvent.at) >= since,
        ),
        exists().where(Enrolment.patient_id == pid, col(Enrolment.enrolled_on) >= cutoff),
        exists().where(FollowUp.patient_id == pid, col(FollowUp.completed_on) >= cutoff),
        exists().where(CoachingContact.patient_id == pid, col(CoachingContact.contact_on) >= cutoff),
        exists().where(HealthMeasure.patient_id == pid, col(HealthMeasure.measured_on) >= cutoff),
        exists().where(PatientConsent.patient_id == pid, col(PatientConsent.recorded_at) >= since),
        exists().where(PatientNeed.patient_id == pid, col(PatientNeed.recorded_at) >= since),
    ]


def _last_events(session, ids: list[int]) -> dict[int, date]:
    """The last recorded event per patient, for the few patients past the retention period."""
    last: dict[int, date] = {}

    def bump(pid: int, value) -> None:
        if value is None:
            return
        day = value.date() if isinstance(value, datetime) else value
        if isinstance(day, str):  # SQLite may hand back text from an aggregate
            day = date.fromisoformat(day[:10])
        if pid not in last or day > last[pid]:
            last[pid] = day

    queries = [
        select(Patient.id, Patient.created_at).where(col(Patient.id).in_(ids)),
        select(InstrumentResponse.patient_id, func.max(InstrumentResponse.administered_on))
        .where(col(InstrumentResponse.patient_id).in_(ids))
        .group_by(InstrumentResponse.patient_id),
        select(Referral.patient_id, func.max(Referral.created_on))
        .where(col(Referral.patient_id).in_(ids))
        .group_by(Referral.patient_id),
        select(Referral.patient_id, func.max(Referral.updated_at))
        .where(col(Referral.patient_id).in_(ids))
        .group_by(Referral.patient_id),
        select(Referral.patient_id, func.max(ReferralEvent.at))
        .join(Referral, col(Referral.id) == col(ReferralEvent.referral_id))
        .where(col(Referral.patient_id).in_(ids))
        .group_by(Referral.patient_id),
        select(Enrolment.patient_id, func.max(Enrolment.enrolled_on))
        .where(col(Enrolment.patient_id).in_(ids))
        .group_by(Enrolment.patient_id),
        select(FollowUp.patient_id, func.max(FollowUp.completed_on))
        .where(col(FollowUp.patient_id).in_(ids))
        .group_by(FollowUp.patient_id),
        select(CoachingContact.patient_id, func.max(CoachingContact.contact_on))
        .where(col(CoachingContact.patient_id).in_(ids))
        .group_by(CoachingContact.patient_id),
        select(HealthMeasure.patient_id, func.max(HealthMeasure.measured_on))
        .where(col(HealthMeasure.patient_id).in_(ids))
        .group_by(HealthMeasure.patient_id),
        select(PatientConsent.patient_id, func.max(PatientConsent.recorded_at))
        .where(col(PatientConsent.patient_id).in_(ids))
        .group_by(PatientConsent.patient_id),
        select(PatientNeed.patient_id, func.max(PatientNeed.recorded_at))
        .where(col(PatientNeed.patient_id).in_(ids))
        .group_by(PatientNeed.patient_id),
    ]
    for query in queries:
        for pid, value in session.exec(query).all():
            bump(pid, value)
    return last


ANONYMISABLE_LIMIT = 500


def anonymisable(principal: Principal, today: date | None = None) -> list[Anonymisable]:
    """Patients (not yet anonymised) whose last recorded event is older than the retention
    period: pseudonym, centre and last event date, no identity. Admins only; at most
    ANONYMISABLE_LIMIT, oldest first."""
    audit.require_role(principal, "admin", action="privacy.list")
    cutoff = _cutoff(today or date.today())
    found = _past_retention(cutoff)
    with write_session() as session:
        audit.record(session, principal, "privacy.list", detail=f"rows={len(found)} cutoff={cutoff}")
    return list(found)


# Every table `_recent_conditions` and `_last_events` read: a write to any of them may change the list.
PATIENT_EVENTS = (
    "patient",
    "health_centre",
    "instrument_response",
    "referral",
    "referral_event",
    "enrolment",
    "follow_up",
    "coaching_contact",
    "health_measure",
    "patient_consent",
    "patient_need",
)


@versioned_cache(PATIENT_EVENTS, max_entries=8)
def _past_retention(cutoff: date) -> tuple[Anonymisable, ...]:
    """The list behind `anonymisable` (no identity, admins only: the caller checks the role). One
    anti-join over every patient, about 0.3-0.6 s at national size: cached under the data version of
    the patient tables, so a rerun or another admin's view reads no patient row until one changes."""
    with read_session() as s:
        rows = s.exec(
            select(Patient.id, Patient.pseudonym, HealthCentre.code)
            .join(HealthCentre, col(HealthCentre.id) == col(Patient.centre_id))
            .where(col(Patient.anonymised_at).is_(None))
            .where(*[~cond for cond in _recent_conditions(cutoff)])
            .order_by(col(Patient.id))
            .limit(ANONYMISABLE_LIMIT)
        ).all()
        last = _last_events(s, [r[0] for r in rows]) if rows else {}
    found = [Anonymisable(pid, pseudonym, code, last.get(pid, cutoff)) for pid, pseudonym, code in rows]
    return tuple(sorted(found, key=lambda a: (a.last_event, a.patient_id)))


def anonymise(principal: Principal, patient_id: int, *, today: date | None = None) -> Anonymisable:
    """Clear the patient's identity and free text (what matters, interests, contact notes,
    referral notes) and mark the record anonymised; scores, referrals and follow-ups stay,
    pseudonymous, for statistics. Admins only; refused inside the retention period."""
    audit.require_role(principal, "admin", action="patient.anonymise")
    cutoff = _cutoff(today or date.today())
    with read_session() as s:
        row = s.exec(
            select(Patient, HealthCentre.code)
            .join(HealthCentre, col(HealthCentre.id) == col(Patient.centre_id))
            .where(Patient.id == patient_id)
        ).first()
        if row is None or row[0].anonymised_at is not None:
            row = None
        else:
            recent = s.exec(
                select(literal(1)).where(Patient.id == patient_id, or_(*_recent_conditions(cutoff)))
            ).first()
            last = _last_events(s, [patient_id]).get(patient_id, cutoff)
    if row is None:
        audit.record_now(principal, "patient.anonymise", "not_found", detail=f"id={patient_id}")
        raise NotFound()
    patient, centre_code = row
    if recent is not None:
        audit.record_now(
            principal, "patient.anonymise", "refused", patient_pseudonym=patient.pseudonym, detail="retention"
        )
        raise ValidationError(
            {
                "patient": (
                    "error.patients_within_retention",
                    {"years": get_settings().retention_years, "last": last.isoformat()},
                )
            },
            key="error.patients_within_retention_title",
        )
    with write_session() as session:
        target = session.get(Patient, patient.id)
        if target.anonymised_at is not None:  # someone else was quicker
            raise NotFound()
        target.identity_enc = None
        target.identity_hash = None
        target.what_matters = None
        target.interests = None
        target.anonymised_at = utcnow()
        session.add(target)
        for contact in session.exec(
            select(CoachingContact).where(
                CoachingContact.patient_id == patient.id, col(CoachingContact.notes).is_not(None)
            )
        ).all():
            contact.notes = None
            session.add(contact)
        for event in session.exec(
            select(ReferralEvent)
            .join(Referral, col(Referral.id) == col(ReferralEvent.referral_id))
            .where(and_(Referral.patient_id == patient.id, col(ReferralEvent.note).is_not(None)))
        ).all():
            event.note = None
            session.add(event)
        audit.record(session, principal, "patient.anonymise", patient_pseudonym=patient.pseudonym)
    return Anonymisable(patient.id, patient.pseudonym, centre_code, last)
