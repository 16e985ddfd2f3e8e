"""Referrals: a patient referred to an activity, with a warm handover and a closed loop.

Connectors of the patient's centre create referrals, log the handover and move the status along
`domain.care.REFERRAL_TRANSITIONS`; partners see referrals to their own organisations' activities
with only what the patient consented to share, and accept, decline or mark attendance. Referrals
are never deleted; every change adds a ReferralEvent. Every read and write is audited, denials too.
A new referral starts or joins the patient's follow-up programme in the same transaction
(`services.followup.join_or_enrol`), with the latest screening as the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.engine import read_session, write_session
from db.models import (
    Contact,
    Enrolment,
    FollowUp,
    Organization,
    Patient,
    PatientConsent,
    Phone,
    Programme,
    Referral,
    ReferralEvent,
    Service,
    User,
)
from domain.care import (
    CLOSED_REFERRAL_STATUSES,
    HANDOVER_METHODS,
    NEED_CODES,
    OPEN_REFERRAL_STATUSES,
    OUTCOME_REASONS,
    REFERRAL_STATUSES,
    can_transition,
)
from domain.security import decrypt_identity
from services import audit, scope
from services.errors import AccessDenied, NotFound, ValidationError
from services.principal import Principal
from settings import get_settings

# Closing statuses that need an outcome reason (entered-in-error marks a mistake, not an outcome).
REASON_REQUIRED = ("rejected", "failed", "cancelled", "completed")
NOTE_MAX = 2000
HANDOVER_PREFIX = "handover:"

# What a partner may do, the status it leads to and the outcome reasons it allows (None: no reason).
PARTNER_ACTIONS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "accept": ("accepted", None),
    "decline": ("rejected", ("not_eligible", "no_capacity", "couldnt_contact", "no_longer_interested")),
    "started": ("in-progress", None),
    "attended": ("completed", ("got_help",)),
    "not_attended": ("failed", ("couldnt_contact", "couldnt_get_help", "no_longer_interested")),
}
# Which partner actions fit a referral's current status (the transition is still checked).
PARTNER_ACTIONS_BY_STATUS: dict[str, tuple[str, ...]] = {
    "requested": ("accept", "decline"),
    "accepted": ("started", "attended", "not_attended"),
    "in-progress": ("attended", "not_attended"),
    "on-hold": ("started", "attended", "not_attended"),
}
PARTNER_FILTERS = ("waiting", "active", "closed")
_FILTER_STATUSES = {
    "waiting": ("requested",),
    "active": ("accepted", "in-progress", "on-hold"),
    "closed": CLOSED_REFERRAL_STATUSES,
}


@dataclass(frozen=True)
class ReferralView:
    id: int
    patient_id: int
    service_id: int
    service_name: str
    status: str
    outcome_reason: str | None
    created_on: date
    handover_method: str | None
    handover_at: datetime | None
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None
    follow_up: ReferralFollowUp | None = None


@dataclass(frozen=True)
class ReferralFollowUp:
    """The follow-up programme a referral started or joined, and what falls due next."""

    enrolment_id: int
    programme_code: str
    programme_names: dict[str, str]
    enrolled_on: date
    baseline_done_on: date | None  # the baseline follow-up (time point 0), when done
    next_follow_up_id: int | None
    next_due: date | None
    next_timepoint: int | None
    # Known right after creating: started (True) or joined (False); not part of equality.
    started: bool | None = field(default=None, compare=False)

    def name(self, lang: str) -> str:
        return self.programme_names.get(lang) or self.programme_names["sv"]


@dataclass(frozen=True)
class ReferralEventView:
    at: datetime
    status: str
    reason: str | None
    note: str | None
    user: str | None
    handover_method: str | None = None


@dataclass(frozen=True)
class ReferralDetail:
    view: ReferralView
    pseudonym: str
    need: str | None
    organization_name: str
    events: tuple[ReferralEventView, ...]  # oldest first
    allowed_next: tuple[str, ...]
    days_waiting: int  # days since created
    unanswered: bool  # still "requested" after settings.unanswered_days


@dataclass(frozen=True)
class UnansweredReferral:
    referral_id: int
    patient_id: int
    pseudonym: str
    service_name: str
    created_on: date
    days: int


@dataclass(frozen=True)
class PartnerReferral:
    id: int
    reference: str  # a neutral reference, always shown
    service_id: int
    service_name: str
    organization_name: str
    created_on: date
    status: str
    outcome_reason: str | None
    days_waiting: int
    first_name: str | None  # only with the share_contact consent
    phone: str | None  # only with the share_contact consent
    actions: tuple[str, ...]


# --- helpers ------------------------------------------------------------------------------------


def _today(today: date | None) -> date:
    return today or date.today()


def _now() -> datetime:
    return datetime.now(UTC)


def reference(referral_id: int) -> str:
    """The neutral reference a partner sees when the patient shares no contact details."""
    return f"R-{referral_id:06d}"


def _deny(
    principal: Principal | None,
    action: str,
    *,
    pseudonym: str | None = None,
    care_unit: str | None = None,
    detail: str | None = None,
) -> AccessDenied:
    audit.record_now(
        principal, action, "denied", patient_pseudonym=pseudonym, care_unit=care_unit, detail=detail
    )
    return AccessDenied()


def _is_connector_of(principal: Principal | None, centre_id: int) -> bool:
    return principal is not None and principal.role == "connector" and principal.serves_centre(centre_id)


def _latest_consent(session: Session, patient_id: int, kind: str) -> bool:
    row = session.exec(
        select(PatientConsent.granted)
        .where(PatientConsent.patient_id == patient_id, PatientConsent.kind == kind)
        .order_by(col(PatientConsent.recorded_at).desc(), col(PatientConsent.id).desc())
        .limit(1)
    ).first()
    return bool(row)


def _contact(session: Session, service: Service) -> tuple[str | None, str | None, str | None]:
    """The activity's named contact person as services/directory.py reads it: the first Contact of the
    service, its phone (or the service's), its e-mail (or the service's)."""
    contact = session.exec(
        select(Contact).where(Contact.service_id == service.id).order_by(col(Contact.id)).limit(1)
    ).first()
    condition = Phone.service_id == service.id
    if contact is not None:
        condition = or_(Phone.contact_id == contact.id, condition)
    phone = session.exec(select(Phone.number).where(condition).order_by(col(Phone.id)).limit(1)).first()
    email = (contact.email if contact else None) or service.email
    return (contact.name if contact else None), phone, email


def _follow_up(session: Session, enrolment_id: int | None, started: bool | None) -> ReferralFollowUp | None:
    if enrolment_id is None:
        return None
    row = session.exec(
        select(Enrolment, Programme)
        .join(Programme, Programme.id == Enrolment.programme_id)
        .where(Enrolment.id == enrolment_id)
    ).first()
    if row is None:
        return None
    enrolment, programme = row
    lines = session.exec(
        select(FollowUp).where(FollowUp.enrolment_id == enrolment.id).order_by(FollowUp.timepoint_months)
    ).all()
    baseline = next((f for f in lines if f.timepoint_months == 0 and f.status == "completed"), None)
    upcoming = next((f for f in lines if f.status in ("due", "overdue")), None)
    return ReferralFollowUp(
        enrolment_id=enrolment.id,
        programme_code=programme.code,
        programme_names={"sv": programme.name_sv, "da": programme.name_da, "en": programme.name_en},
        enrolled_on=enrolment.enrolled_on,
        baseline_done_on=baseline.completed_on if baseline else None,
        next_follow_up_id=upcoming.id if upcoming else None,
        next_due=upcoming.due_on if upcoming else None,
        next_timepoint=upcoming.timepoint_months if upcoming else None,
        started=started,
    )


def _view(
    session: Session, referral: Referral, service: Service | None = None, *, started: bool | None = None
) -> ReferralView:
    service = service or session.get(Service, referral.service_id)
    name, phone, email = _contact(session, service)
    return ReferralView(
        id=referral.id,
        patient_id=referral.patient_id,
        service_id=referral.service_id,
        service_name=service.name,
        status=referral.status,
        outcome_reason=referral.outcome_reason,
        created_on=referral.created_on,
        handover_method=referral.handover_method,
        handover_at=_aware(referral.handover_at),
        contact_name=name,
        contact_phone=phone,
        contact_email=email,
        follow_up=_follow_up(session, referral.enrolment_id, started),
    )


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _clean_note(note: str | None, errors: dict) -> str | None:
    if note is None:
        return None
    if not isinstance(note, str):
        errors["note"] = ("error.invalid_input", {})
        return None
    note = note.strip()
    if len(note) > NOTE_MAX:
        errors["note"] = ("error.too_long", {"n": NOTE_MAX})
    return note or None


def _load_for_connector(principal: Principal, referral_id: int, action: str) -> tuple[Referral, Patient]:
    """The referral and its patient, for a connector of the patient's centre; else denied (audited)."""
    with read_session() as session:
        row = session.exec(
            select(Referral, Patient)
            .join(Patient, Patient.id == Referral.patient_id)
            .where(Referral.id == referral_id)
        ).first()
    scope.check_patient(principal, row[1] if row else None, action, ref=f"referral={referral_id}")
    referral, patient = row
    return referral, patient


# --- create -------------------------------------------------------------------------------------


def create_referral(
    principal: Principal,
    *,
    patient_id: int,
    service_id: int,
    need: str | None = None,
    idempotency_key: str | None = None,
    today: date | None = None,
    programme_code: str | None = "auto",
) -> ReferralView:
    """Refer a patient of the connector's centre to an active, approved activity.

    Needs the patient's latest "referral" consent granted and a patient not anonymised. A repeated
    idempotency key returns the referral it created and writes nothing more. `programme_code`
    chooses the follow-up: "auto" (the patient's active programme, else social prescribing), a
    programme's code (joined if active, else started) or None (no follow-up)."""
    from services import followup  # followup reads referrals for the worklist

    action = "referral.create"
    with read_session() as session:
        pid = scope.valid_id(patient_id)
        patient = session.get(Patient, pid) if pid else None
    scope.check_patient(principal, patient, action, ref=f"patient={patient_id}")
    if idempotency_key is not None and (not isinstance(idempotency_key, str) or len(idempotency_key) > 64):
        raise ValidationError({"idempotency_key": ("error.invalid_input", {})})
    if idempotency_key:
        existing = _existing(principal, idempotency_key, patient)
        if existing is not None:
            return existing
    errors: dict[str, tuple[str, dict]] = {}
    if need is not None and need not in NEED_CODES:
        errors["need"] = ("error.invalid_choice", {})
    with read_session() as session:
        if not _latest_consent(session, patient.id, "referral"):
            errors["patient_id"] = ("error.referral_no_consent", {})
        service = session.get(Service, service_id) if isinstance(service_id, int) else None
        if service is None:
            errors["service_id"] = ("error.referral_activity_unknown", {})
        elif service.status != "active" or service.approval_status != "approved":
            errors["service_id"] = ("error.referral_activity_unavailable", {})
        bad_programme = followup.check_programme_choice(session, programme_code)
        if bad_programme:
            errors["programme_code"] = bad_programme
    if errors:
        raise ValidationError(errors)
    try:
        with write_session() as session:
            if idempotency_key:
                found = session.exec(
                    select(Referral).where(Referral.idempotency_key == idempotency_key)
                ).first()
                if found is not None:
                    return _view(session, found)
            referral = Referral(
                patient_id=patient.id,
                centre_id=patient.centre_id,
                service_id=service.id,
                need=need,
                status="requested",
                created_on=_today(today),
                created_by=principal.user_id,
                idempotency_key=idempotency_key or None,
            )
            session.add(referral)
            session.flush()
            session.add(ReferralEvent(referral_id=referral.id, status="requested", user_id=principal.user_id))
            joined = followup.join_or_enrol(session, principal, patient, programme_code, _today(today))
            started = None
            if joined is not None:
                enrolment, _programme, started = joined
                referral.enrolment_id = enrolment.id
                session.add(referral)
                session.flush()
            audit.record(
                session,
                principal,
                action,
                patient_pseudonym=patient.pseudonym,
                detail=f"referral={referral.id}"
                + (f" enrolment={referral.enrolment_id}" if referral.enrolment_id else ""),
            )
            return _view(session, referral, service, started=started)
    except IntegrityError:
        # Another request with the same key won the race: return its referral.
        existing = _existing(principal, idempotency_key, patient) if idempotency_key else None
        if existing is None:
            raise
        return existing


def _existing(principal: Principal, key: str, patient: Patient) -> ReferralView | None:
    with read_session() as session:
        found = session.exec(select(Referral).where(Referral.idempotency_key == key)).first()
        if found is None:
            return None
        if found.patient_id != patient.id:
            # A key reused for another patient: never hand out another patient's referral.
            raise ValidationError({"idempotency_key": ("error.invalid_input", {})})
        return _view(session, found)


# --- connector reads ----------------------------------------------------------------------------


def patient_referrals(principal: Principal, patient_id: int) -> list[ReferralView]:
    """A patient's referrals, newest first (connectors of the patient's centre)."""
    action = "referral.list"
    with read_session() as session:
        pid = scope.valid_id(patient_id)
        patient = session.get(Patient, pid) if pid else None
        scope.check_patient(principal, patient, action, ref=f"patient={patient_id}")
        rows = session.exec(
            select(Referral, Service)
            .join(Service, Service.id == Referral.service_id)
            .where(Referral.patient_id == patient_id)
            .order_by(col(Referral.created_on).desc(), col(Referral.id).desc())
        ).all()
        views = [_view(session, r, s) for r, s in rows]
    with write_session() as session:
        audit.record(
            session, principal, action, patient_pseudonym=patient.pseudonym, detail=f"n={len(views)}"
        )
    return views


def _events(session: Session, referral_id: int) -> tuple[ReferralEventView, ...]:
    rows = session.exec(
        select(ReferralEvent, User.display_name)
        .join(User, User.id == ReferralEvent.user_id, isouter=True)
        .where(ReferralEvent.referral_id == referral_id)
        .order_by(col(ReferralEvent.at), col(ReferralEvent.id))
    ).all()
    out = []
    for event, who in rows:
        method, note = None, event.note
        if note and note.startswith(HANDOVER_PREFIX):
            first, _, rest = note.partition("\n")
            candidate = first[len(HANDOVER_PREFIX) :]
            if candidate in HANDOVER_METHODS:
                method, note = candidate, (rest or None)
        out.append(
            ReferralEventView(
                at=_aware(event.at),
                status=event.status,
                reason=event.reason,
                note=note,
                user=who,
                handover_method=method,
            )
        )
    return tuple(out)


def referral_detail(principal: Principal, referral_id: int, *, today: date | None = None) -> ReferralDetail:
    action = "referral.read"
    referral, patient = _load_for_connector(principal, referral_id, action)
    with read_session() as session:
        service = session.get(Service, referral.service_id)
        org = session.get(Organization, service.organization_id)
        view = _view(session, referral, service)
        events = _events(session, referral.id)
    with write_session() as session:
        audit.record(
            session, principal, action, patient_pseudonym=patient.pseudonym, detail=f"referral={referral_id}"
        )
    days = (_today(today) - referral.created_on).days
    return ReferralDetail(
        view=view,
        pseudonym=patient.pseudonym,
        need=referral.need,
        organization_name=org.name if org else "",
        events=events,
        allowed_next=tuple(s for s in REFERRAL_STATUSES if can_transition(referral.status, s)),
        days_waiting=days,
        unanswered=referral.status == "requested" and days > get_settings().unanswered_days,
    )


# --- connector writes ---------------------------------------------------------------------------


def _check_transition(current: str, status: str, reason: str | None, allowed_reasons, errors: dict) -> None:
    if status not in REFERRAL_STATUSES:
        errors["status"] = ("error.invalid_choice", {})
        return
    if not can_transition(current, status):
        errors["status"] = ("error.referral_transition", {})
        return
    if status in REASON_REQUIRED:
        if not reason:
            errors["reason"] = ("error.referral_reason_required", {})
        elif reason not in allowed_reasons:
            errors["reason"] = ("error.invalid_choice", {})
    elif reason is not None and reason not in OUTCOME_REASONS:
        errors["reason"] = ("error.invalid_choice", {})


def _apply_status(
    session: Session,
    principal: Principal,
    referral: Referral,
    status: str,
    reason: str | None,
    note: str | None,
) -> None:
    referral.status = status
    if status in REASON_REQUIRED:
        referral.outcome_reason = reason
    referral.updated_at = _now()
    session.add(referral)
    session.add(
        ReferralEvent(
            referral_id=referral.id,
            status=status,
            reason=reason if status in REASON_REQUIRED else None,
            note=note,
            user_id=principal.user_id,
        )
    )


def set_status(
    principal: Principal, referral_id: int, status: str, *, reason: str | None = None, note: str | None = None
) -> ReferralView:
    """Move a referral to an allowed next status (connectors of the patient's centre)."""
    action = "referral.status"
    _checked, patient = _load_for_connector(principal, referral_id, action)
    with write_session() as session:
        referral = session.get(Referral, referral_id)
        errors: dict[str, tuple[str, dict]] = {}
        note = _clean_note(note, errors)
        reason = reason or None
        _check_transition(referral.status, status, reason, OUTCOME_REASONS, errors)
        if errors:
            raise ValidationError(errors)
        old = referral.status
        _apply_status(session, principal, referral, status, reason, note)
        audit.record(
            session,
            principal,
            action,
            patient_pseudonym=patient.pseudonym,
            detail=f"referral={referral_id} {old}->{status}" + (f" reason={reason}" if reason else ""),
        )
        session.flush()
        return _view(session, referral)


def log_handover(
    principal: Principal, referral_id: int, method: str, note: str | None = None
) -> ReferralView:
    """Record the warm handover (phone, e-mail, met in person) on an open referral."""
    action = "referral.handover"
    _checked, patient = _load_for_connector(principal, referral_id, action)
    with write_session() as session:
        referral = session.get(Referral, referral_id)
        errors: dict[str, tuple[str, dict]] = {}
        if method not in HANDOVER_METHODS:
            errors["method"] = ("error.invalid_choice", {})
        note = _clean_note(note, errors)
        if referral.status not in OPEN_REFERRAL_STATUSES:
            errors["referral"] = ("error.referral_closed", {})
        if errors:
            raise ValidationError(errors)
        at = _now()
        referral.handover_method = method
        referral.handover_at = at
        referral.updated_at = at
        session.add(referral)
        session.add(
            ReferralEvent(
                referral_id=referral.id,
                status=referral.status,
                note=f"{HANDOVER_PREFIX}{method}" + (f"\n{note}" if note else ""),
                at=at,
                user_id=principal.user_id,
            )
        )
        audit.record(
            session,
            principal,
            action,
            patient_pseudonym=patient.pseudonym,
            detail=f"referral={referral_id} method={method}",
        )
        session.flush()
        return _view(session, referral)


def unanswered(principal: Principal, today: date | None = None) -> list[UnansweredReferral]:
    """Referrals of the connector's centres still "requested" after settings.unanswered_days days,
    oldest first."""
    action = "referral.unanswered"
    if principal is None or principal.role != "connector" or not principal.centre_ids:
        raise _deny(principal, action)
    day = _today(today)
    limit_days = get_settings().unanswered_days
    with read_session() as session:
        rows = session.exec(
            select(Referral.id, Referral.patient_id, Patient.pseudonym, Service.name, Referral.created_on)
            .join(Patient, Patient.id == Referral.patient_id)
            .join(Service, Service.id == Referral.service_id)
            .where(
                col(Patient.centre_id).in_(principal.centre_ids),
                col(Patient.anonymised_at).is_(None),
                Referral.status == "requested",
                col(Referral.created_on) < date.fromordinal(day.toordinal() - limit_days),
            )
            .order_by(col(Referral.created_on), col(Referral.id))
        ).all()
    result = [
        UnansweredReferral(
            referral_id=rid,
            patient_id=pid,
            pseudonym=pseudo,
            service_name=name,
            created_on=on,
            days=(day - on).days,
        )
        for rid, pid, pseudo, name, on in rows
    ]
    with write_session() as session:
        audit.record(session, principal, action, detail=f"n={len(result)}")
    return result


# --- partner side (closed loop) -----------------------------------------------------------------


def _require_partner(principal: Principal | None, action: str) -> None:
    if principal is None or principal.role != "partner" or not principal.organization_ids:
        raise _deny(principal, action)


def _sharing(session: Session, patient_ids: set[int]) -> dict[int, bool]:
    """The latest "share_contact" consent of each patient (absent: not shared)."""
    latest: dict[int, bool] = {}
    if not patient_ids:
        return latest
    rows = session.exec(
        select(PatientConsent.patient_id, PatientConsent.granted)
        .where(col(PatientConsent.patient_id).in_(patient_ids), PatientConsent.kind == "share_contact")
        .order_by(col(PatientConsent.recorded_at), col(PatientConsent.id))
    ).all()
    for patient_id, granted in rows:
        latest[patient_id] = bool(granted)  # later rows overwrite earlier ones
    return latest


def _first_name(identity: dict) -> str | None:
    name = (identity.get("name") or "").strip()
    return name.split()[0] if name else None


def partner_referrals(
    principal: Principal, *, status: str | None = None, today: date | None = None
) -> list[PartnerReferral]:
    """Referrals to the partner's own organisations' activities, newest first, with only the fields
    the patient consented to share. `status`: None, a filter (waiting, active, closed) or a status."""
    action = "referral.partner_read"
    _require_partner(principal, action)
    if status is not None and status not in PARTNER_FILTERS and status not in REFERRAL_STATUSES:
        raise ValidationError({"status": ("error.invalid_choice", {})})
    day = _today(today)
    conditions = [col(Service.organization_id).in_(principal.organization_ids)]
    if status in _FILTER_STATUSES:
        conditions.append(col(Referral.status).in_(_FILTER_STATUSES[status]))
    elif status:
        conditions.append(Referral.status == status)
    out: list[PartnerReferral] = []
    pseudonyms: list[str] = []
    with read_session() as session:
        rows = session.exec(
            select(Referral, Service.name, Organization.name, Patient)
            .join(Service, Service.id == Referral.service_id)
            .join(Organization, Organization.id == Service.organization_id)
            .join(Patient, Patient.id == Referral.patient_id)
            .where(*conditions)
            .order_by(col(Referral.created_on).desc(), col(Referral.id).desc())
            .limit(500)
        ).all()
        sharing = _sharing(session, {patient.id for *_rest, patient in rows})
        for referral, service_name, org_name, patient in rows:
            first_name = phone = None
            if patient.anonymised_at is None and sharing.get(patient.id, False):
                identity = decrypt_identity(patient.identity_enc, patient.pseudonym)
                first_name = _first_name(identity)
                phone = (identity.get("phone") or "").strip() or None
            pseudonyms.append(patient.pseudonym)
            out.append(
                PartnerReferral(
                    id=referral.id,
                    reference=reference(referral.id),
                    service_id=referral.service_id,
                    service_name=service_name,
                    organization_name=org_name,
                    created_on=referral.created_on,
                    status=referral.status,
                    outcome_reason=referral.outcome_reason,
                    days_waiting=(day - referral.created_on).days,
                    first_name=first_name,
                    phone=phone,
                    actions=PARTNER_ACTIONS_BY_STATUS.get(referral.status, ()),
                )
            )
    with write_session() as session:
        if not pseudonyms:
            audit.record(session, principal, action, detail=f"filter={status} n=0")
        for pseudonym, item in zip(pseudonyms, out, strict=True):
            audit.record(
                session, principal, action, patient_pseudonym=pseudonym, detail=f"referral={item.id}"
            )
    return out


def partner_respond(
    principal: Principal,
    referral_id: int,
    action: str,
    *,
    reason: str | None = None,
    note: str | None = None,
) -> str:
    """A partner answers a referral to one of its own organisations' activities; returns the new status.

    action: accept | decline (reason: not_eligible, no_capacity, ...) | started | attended |
    not_attended (reason: couldnt_contact, couldnt_get_help, ...)."""
    audit_action = "referral.partner_respond"
    _require_partner(principal, audit_action)
    with read_session() as session:
        row = session.exec(
            select(Referral.id, Service.organization_id, Patient.pseudonym)
            .join(Service, Service.id == Referral.service_id)
            .join(Patient, Patient.id == Referral.patient_id)
            .where(Referral.id == referral_id)
        ).first()
    if row is None:
        audit.record_now(principal, audit_action, "not_found", detail=f"referral={referral_id}")
        raise NotFound()
    _rid, organization_id, pseudonym = row
    if not principal.serves_organization(organization_id):
        raise _deny(principal, audit_action, pseudonym=pseudonym, detail=f"referral={referral_id}")
    with write_session() as session:
        referral = session.get(Referral, referral_id)
        errors: dict[str, tuple[str, dict]] = {}
        note = _clean_note(note, errors)
        reason = reason or None
        if action not in PARTNER_ACTIONS:
            errors["action"] = ("error.invalid_choice", {})
            raise ValidationError(errors)
        status, reasons = PARTNER_ACTIONS[action]
        if reasons is not None and len(reasons) == 1 and reason is None:
            reason = reasons[0]  # attended: the outcome is "got help"
        if reasons is None and reason is not None:
            errors["reason"] = ("error.invalid_choice", {})
        if status == referral.status:
            errors["action"] = ("error.referral_transition", {})
        else:
            _check_transition(referral.status, status, reason, reasons or (), errors)
            if "status" in errors:
                errors["action"] = errors.pop("status")
        if errors:
            raise ValidationError(errors)
        old = referral.status
        _apply_status(session, principal, referral, status, reason, note)
        audit.record(
            session,
            principal,
            audit_action,
            patient_pseudonym=pseudonym,
            detail=f"referral={referral_id} {action} {old}->{status}"
            + (f" reason={reason}" if reason else ""),
        )
    return status
