"""Patient records: register, find, read, edit and list, for connectors of the patient's centre only.

Every call is audited, including denials. Identity (national id, name, phone) is encrypted; the
database holds only the ciphertext and a keyed lookup hash. An anonymised patient (see
services/privacy.py) can no longer be found, read, edited or referred.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import col, select

from db.engine import read_session, write_session
from db.models import (
    CoachingContact,
    FollowUp,
    HealthCentre,
    HealthMeasure,
    InstrumentResponse,
    Municipality,
    Patient,
    PatientConsent,
    PatientNeed,
    Referral,
    ReferralEvent,
    Service,
    User,
)
from domain.care import CONSENT_KINDS, CONTACT_PREFERENCES, NEED_CODES
from domain.national_id import InvalidNationalId, parse_national_id
from domain.security import (
    IdentityKeyError,
    decrypt_identity,
    encrypt_identity,
    identity_hash,
    is_legacy_blob,
)
from services import audit, scope
from services.errors import AccessDenied, IdentityUnreadable, ValidationError
from services.keys import current_key_version
from services.principal import Principal

_PSEUDONYM_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SEXES = ("female", "male", "other")
# Two-letter codes only: the column holds two characters (ISO 639-1).
LANGUAGES = ("sv", "da", "en", "ar", "so", "fa", "ti", "uk", "pl", "fi", "tr", "de", "es", "ru", "bs", "ku")
COUNTRIES = ("SE", "DK")
WHAT_MATTERS_MAX = 2000
INTERESTS_MAX = 1000
NAME_MAX = 200
PHONE_MAX = 40


@dataclass(frozen=True)
class PatientView:
    id: int
    pseudonym: str
    centre_id: int
    centre_code: str
    birth_year: int | None
    sex: str | None
    preferred_language: str
    national_id: str | None
    name: str | None
    phone: str | None


@dataclass(frozen=True)
class PatientProfile(PatientView):
    contact_preference: str
    what_matters: str | None
    interests: str | None
    needs: tuple[str, ...]
    consents: dict[str, bool]
    consent_dates: dict[str, datetime] = field(default_factory=dict)
    birth_date: date | None = None
    age: int | None = None


@dataclass(frozen=True)
class ConsentRecord:
    kind: str
    granted: bool
    recorded_at: datetime
    recorded_by: str | None


@dataclass(frozen=True)
class CentreChoice:
    id: int
    code: str
    name: str
    country: str


@dataclass(frozen=True)
class TimelineEntry:
    """One event in a patient's history. `summary` holds codes and numbers (the page translates)."""

    on: date
    kind: str  # screening, referral, referral_event, contact, follow_up, measure, consent, need
    summary: dict
    ref_id: int | None = None
    at: datetime | None = None


TIMELINE_KINDS = (
    "screening",
    "referral",
    "referral_event",
    "contact",
    "follow_up",
    "measure",
    "consent",
    "need",
)


def new_pseudonym() -> str:
    return "P" + "".join(secrets.choice(_PSEUDONYM_ALPHABET) for _ in range(9))


def _deny(
    principal: Principal | None, action: str, *, pseudonym: str | None = None, care_unit: str | None = None
) -> AccessDenied:
    audit.record_now(principal, action, "denied", patient_pseudonym=pseudonym, care_unit=care_unit)
    return AccessDenied()


def _require_connector(principal: Principal | None, centre_id: int, action: str) -> None:
    if principal is None or principal.role != "connector" or not principal.serves_centre(centre_id):
        raise _deny(principal, action, care_unit=str(centre_id))


def authorise_patient(principal: Principal | None, patient_id: int, action: str) -> tuple[Patient, str]:
    """The patient row and its centre code, if `principal` is a connector of the patient's centre.

    The one scope rule of `services.scope` (anonymised and unknown patients: NotFound; anyone
    else: denied; all audited). Call it before opening a write session."""
    return scope.authorise_patient(principal, patient_id, action)


# --- Validation ---------------------------------------------------------------------------------


def _check_name(name: str, errors: dict) -> str:
    name = (name or "").strip()
    if not name:
        errors["name"] = ("error.required", {})
    elif len(name) > NAME_MAX:
        errors["name"] = ("error.too_long", {"n": NAME_MAX})
    return name


def _check_phone(phone: str, errors: dict) -> str:
    phone = (phone or "").strip()
    if len(phone) > PHONE_MAX or (phone and not all(ch.isdigit() or ch in "+ -()" for ch in phone)):
        errors["phone"] = ("error.phone_format", {})
    return phone


def _check_text(value: str | None, name: str, limit: int, errors: dict) -> str | None:
    if value is not None and not isinstance(value, str):
        errors[name] = ("error.invalid_choice", {})
        return None
    value = (value or "").strip()
    if len(value) > limit:
        errors[name] = ("error.too_long", {"n": limit})
    return value or None


def _check_consents(consents: Mapping[str, bool] | None, errors: dict) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for kind, granted in (consents or {}).items():
        if kind not in CONSENT_KINDS or not isinstance(granted, bool):
            errors["consents"] = ("error.invalid_choice", {})
            return {}
        out[kind] = granted
    return out


def _check_needs(needs: Iterable[str] | None, errors: dict) -> list[str]:
    if needs is None:
        return []
    if isinstance(needs, str):
        needs = [needs]
    chosen = list(dict.fromkeys(needs))
    if any(n not in NEED_CODES for n in chosen):
        errors["needs"] = ("error.invalid_choice", {})
        return []
    return sorted(chosen, key=NEED_CODES.index)


def parse_search(national_id: str, country: str, *, today: date | None = None):
    """Parse what a connector typed into the search box (common formats: with or without century,
    dash, plus or spaces). Raises ValidationError with a field error for `national_id`."""
    if country not in COUNTRIES:
        raise ValidationError({"country": ("error.invalid_choice", {})})
    try:
        return parse_national_id((national_id or "").strip(), country, today=today)
    except InvalidNationalId as bad:
        raise ValidationError({"national_id": (f"error.national_id_{bad.reason}", {})}) from bad


# --- Register, find, read -----------------------------------------------------------------------


def register_patient(
    principal: Principal,
    *,
    centre_id: int,
    national_id: str,
    country: str,
    name: str,
    phone: str = "",
    sex: str | None = None,
    preferred_language: str = "sv",
    contact_preference: str = "phone",
    consents: Mapping[str, bool] | None = None,
    needs: Iterable[str] | None = None,
    today: date | None = None,
) -> PatientView:
    """Register a patient with consents and needs in one transaction. A national id already
    registered raises ValidationError (`error.patient_exists`): the keyed hash is unique."""
    _require_connector(principal, centre_id, "patient.create")
    errors: dict[str, tuple[str, dict]] = {}
    parsed = None
    if country not in COUNTRIES:
        errors["country"] = ("error.invalid_choice", {})
    else:
        try:
            parsed = parse_national_id(national_id or "", country, today=today)
        except InvalidNationalId as bad:
            errors["national_id"] = (f"error.national_id_{bad.reason}", {})
    name = _check_name(name, errors)
    phone = _check_phone(phone, errors)
    if sex is not None and sex not in SEXES:
        errors["sex"] = ("error.invalid_choice", {})
    if preferred_language not in LANGUAGES:
        errors["preferred_language"] = ("error.invalid_choice", {})
    if contact_preference not in CONTACT_PREFERENCES:
        errors["contact_preference"] = ("error.invalid_choice", {})
    consents = _check_consents(consents, errors)
    needs = _check_needs(needs, errors)
    if errors:
        raise ValidationError(errors)
    lookup = identity_hash(parsed.normalised)
    with write_session() as session:
        if session.exec(select(Patient.id).where(Patient.identity_hash == lookup)).first():
            raise ValidationError({"national_id": ("error.patient_exists", {})})
        pseudonym = new_pseudonym()
        patient = Patient(
            pseudonym=pseudonym,
            centre_id=centre_id,
            identity_hash=lookup,
            identity_enc=encrypt_identity(
                {"national_id": parsed.normalised, "name": name, "phone": phone}, pseudonym
            ),
            key_version=current_key_version(session),
            birth_year=parsed.birth_date.year,
            sex=sex,
            preferred_language=preferred_language,
            contact_preference=contact_preference,
        )
        session.add(patient)
        session.flush()
        for kind, granted in consents.items():
            session.add(
                PatientConsent(patient_id=patient.id, kind=kind, granted=granted, user_id=principal.user_id)
            )
        for need in needs:
            session.add(PatientNeed(patient_id=patient.id, need=need))
        audit.record(session, principal, "patient.create", patient_pseudonym=patient.pseudonym)
        centre_code = session.get(HealthCentre, centre_id).code
    return _view(patient, centre_code)


def _view(patient: Patient, centre_code: str) -> PatientView:
    identity = decrypt_identity(patient.identity_enc, patient.pseudonym)
    return PatientView(
        id=patient.id,
        pseudonym=patient.pseudonym,
        centre_id=patient.centre_id,
        centre_code=centre_code,
        birth_year=patient.birth_year,
        sex=patient.sex,
        preferred_language=patient.preferred_language,
        national_id=identity.get("national_id"),
        name=identity.get("name"),
        phone=identity.get("phone"),
    )


def get_patient(principal: Principal, patient_id: int) -> PatientView:
    patient, centre_code = authorise_patient(principal, patient_id, "patient.read")
    with write_session() as session:
        audit.record(session, principal, "patient.read", patient_pseudonym=patient.pseudonym)
    return _view(patient, centre_code)


def find_patient(principal: Principal, *, national_id: str, country: str) -> PatientView | None:
    """Look a patient up by national id within the connector's own centres."""
    if principal is None or principal.role != "connector":
        raise _deny(principal, "patient.search")
    parsed = parse_search(national_id, country)
    with read_session() as session:
        row = session.exec(
            select(Patient, HealthCentre.code)
            .join(HealthCentre)
            .where(Patient.identity_hash == identity_hash(parsed.normalised))
            .where(col(Patient.anonymised_at).is_(None))
        ).first()
    if row is not None:
        scope.check_patient(principal, row[0], "patient.search", care_unit=row[1])
    with write_session() as session:
        audit.record(
            session,
            principal,
            "patient.search",
            "ok" if row else "not_found",
            patient_pseudonym=row[0].pseudonym if row else None,
        )
    return _view(*row) if row else None


def my_centres(principal: Principal) -> list[CentreChoice]:
    """The connector's own centres with their country (SE or DK), for the register form."""
    if principal is None or principal.role != "connector" or not principal.centre_ids:
        raise _deny(principal, "patient.centres")
    with read_session() as session:
        rows = session.exec(
            select(HealthCentre.id, HealthCentre.code, HealthCentre.name, Municipality.country)
            .join(Municipality, col(Municipality.id) == col(HealthCentre.municipality_id))
            .where(col(HealthCentre.id).in_(principal.centre_ids))
            .order_by(HealthCentre.name)
        ).all()
    return [CentreChoice(*row) for row in rows]


def _current_consents(session, patient_id: int) -> dict[str, PatientConsent]:
    rows = session.exec(
        select(PatientConsent)
        .where(PatientConsent.patient_id == patient_id)
        .order_by(col(PatientConsent.recorded_at), col(PatientConsent.id))
    ).all()
    return {row.kind: row for row in rows}  # the latest row per kind wins


def _needs(session, patient_id: int) -> tuple[str, ...]:
    codes = set(session.exec(select(PatientNeed.need).where(PatientNeed.patient_id == patient_id)).all())
    return tuple(c for c in NEED_CODES if c in codes) + tuple(sorted(codes - set(NEED_CODES)))


def _birth_date(national_id: str | None) -> date | None:
    if not national_id or not national_id.isdigit():
        return None
    try:
        # Normalised SE numbers have 12 digits (YYYYMMDDNNNC), DK ones 10 (DDMMYYSSSS).
        return parse_national_id(national_id, "SE" if len(national_id) == 12 else "DK").birth_date
    except InvalidNationalId:
        return None


def _age(born: date | None, birth_year: int | None, today: date) -> int | None:
    if born is not None:
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return today.year - birth_year if birth_year else None


def _profile(session, patient: Patient, centre_code: str, today: date | None = None) -> PatientProfile:
    view = _view(patient, centre_code)
    consents = _current_consents(session, patient.id)
    born = _birth_date(view.national_id)
    return PatientProfile(
        **view.__dict__,
        contact_preference=patient.contact_preference,
        what_matters=patient.what_matters,
        interests=patient.interests,
        needs=_needs(session, patient.id),
        consents={kind: row.granted for kind, row in consents.items()},
        consent_dates={kind: row.recorded_at for kind, row in consents.items()},
        birth_date=born,
        age=_age(born, patient.birth_year, today or date.today()),
    )


def get_profile(principal: Principal, patient_id: int, *, today: date | None = None) -> PatientProfile:
    """Everything the patient page shows in its header and forms; audited as a read."""
    patient, centre_code = authorise_patient(principal, patient_id, "patient.read")
    try:
        with read_session() as session:
            profile = _profile(session, patient, centre_code, today)
    except IdentityKeyError:
        audit.record_now(
            principal, "patient.read", "error", patient_pseudonym=patient.pseudonym, detail="unreadable"
        )
        raise IdentityUnreadable(patient.pseudonym) from None
    with write_session() as session:
        audit.record(session, principal, "patient.read", patient_pseudonym=patient.pseudonym)
    return profile


def patient_needs(principal: Principal, patient_id: int) -> list[str]:
    """The patient's coded needs, in NEED_CODES order; audited as a read."""
    patient, _ = authorise_patient(principal, patient_id, "patient.read")
    with read_session() as session:
        needs = list(_needs(session, patient.id))
    with write_session() as session:
        audit.record(session, principal, "patient.read", patient_pseudonym=patient.pseudonym, detail="needs")
    return needs


def consent_history(principal: Principal, patient_id: int) -> list[ConsentRecord]:
    """Every consent given or withdrawn, newest first, with who recorded it."""
    patient, _ = authorise_patient(principal, patient_id, "patient.read")
    with read_session() as session:
        rows = session.exec(
            select(PatientConsent, User.display_name)
            .join(User, col(User.id) == col(PatientConsent.user_id), isouter=True)
            .where(PatientConsent.patient_id == patient.id)
            .order_by(col(PatientConsent.recorded_at).desc(), col(PatientConsent.id).desc())
        ).all()
    with write_session() as session:
        audit.record(
            session, principal, "patient.read", patient_pseudonym=patient.pseudonym, detail="consents"
        )
    return [ConsentRecord(c.kind, c.granted, c.recorded_at, who) for c, who in rows]


# --- Edit ---------------------------------------------------------------------------------------


def update_profile(
    principal: Principal,
    patient_id: int,
    *,
    name: str | None = None,
    phone: str | None = None,
    preferred_language: str | None = None,
    contact_preference: str | None = None,
    what_matters: str | None = None,
    interests: str | None = None,
    needs: Iterable[str] | None = None,
) -> PatientProfile:
    """Change what is given (None leaves a field as it is; "" clears what matters / interests),
    in one transaction. Identity is re-encrypted when name or phone change; `needs`, when given,
    replaces the coded needs as `set_needs` does."""
    patient, centre_code = authorise_patient(principal, patient_id, "patient.update")
    errors: dict[str, tuple[str, dict]] = {}
    if name is not None:
        name = _check_name(name, errors)
    if phone is not None:
        phone = _check_phone(phone, errors)
    if (
        preferred_language is not None
        and preferred_language not in LANGUAGES
        and preferred_language != patient.preferred_language  # an old code may stay as it is
    ):
        errors["preferred_language"] = ("error.invalid_choice", {})
    if contact_preference is not None and contact_preference not in CONTACT_PREFERENCES:
        errors["contact_preference"] = ("error.invalid_choice", {})
    texts: dict[str, str | None] = {}
    if what_matters is not None:
        texts["what_matters"] = _check_text(what_matters, "what_matters", WHAT_MATTERS_MAX, errors)
    if interests is not None:
        texts["interests"] = _check_text(interests, "interests", INTERESTS_MAX, errors)
    wanted = _check_needs(needs, errors) if needs is not None else None
    if errors:
        raise ValidationError(errors)
    changed: list[str] = []
    with write_session() as session:
        row = session.get(Patient, patient.id)
        identity = decrypt_identity(row.identity_enc, row.pseudonym)
        new_identity = dict(identity)
        if name is not None and name != identity.get("name"):
            new_identity["name"] = name
            changed.append("name")
        if phone is not None and phone != (identity.get("phone") or ""):
            new_identity["phone"] = phone
            changed.append("phone")
        if new_identity != identity or is_legacy_blob(row.identity_enc):  # rewritten bound to the patient
            row.identity_enc = encrypt_identity(new_identity, row.pseudonym)
        for field_name, value in (
            ("preferred_language", preferred_language),
            ("contact_preference", contact_preference),
        ):
            if value is not None and value != getattr(row, field_name):
                setattr(row, field_name, value)
                changed.append(field_name)
        # "" clears a text (stored as NULL); None as an argument leaves it as it is.
        for field_name, value in texts.items():
            if value != getattr(row, field_name):
                setattr(row, field_name, value)
                changed.append(field_name)
        session.add(row)
        if wanted is not None and _replace_needs(session, row.id, wanted) != ([], []):
            changed.append("needs")
        audit.record(
            session,
            principal,
            "patient.update",
            patient_pseudonym=row.pseudonym,
            detail="fields=" + ",".join(changed) if changed else "unchanged",
        )
        session.flush()
        profile = _profile(session, row, centre_code)
    return profile


def set_consents(principal: Principal, patient_id: int, consents: Mapping[str, bool]) -> list[ConsentRecord]:
    """Record consents given or withdrawn, in one transaction. Each change is a new row with its
    date (the history is kept); a kind already in the state asked for is left alone. Returns the
    rows written."""
    patient, _ = authorise_patient(principal, patient_id, "patient.consent")
    errors: dict[str, tuple[str, dict]] = {}
    if not isinstance(consents, Mapping):
        raise ValidationError({"consents": ("error.invalid_choice", {})})
    for kind, granted in consents.items():
        if kind not in CONSENT_KINDS:
            errors["kind"] = ("error.invalid_choice", {})
        if not isinstance(granted, bool):
            errors["granted"] = ("error.invalid_choice", {})
    if errors:
        raise ValidationError(errors)
    written: list[PatientConsent] = []
    with write_session() as session:
        current = _current_consents(session, patient.id)
        for kind, granted in consents.items():
            if kind in current and current[kind].granted == granted:
                continue
            row = PatientConsent(patient_id=patient.id, kind=kind, granted=granted, user_id=principal.user_id)
            session.add(row)
            written.append(row)
            audit.record(
                session,
                principal,
                "patient.consent",
                patient_pseudonym=patient.pseudonym,
                detail=f"{kind}={'granted' if granted else 'withdrawn'}",
            )
        session.flush()
    return [ConsentRecord(r.kind, r.granted, r.recorded_at, principal.display_name) for r in written]


def set_consent(principal: Principal, patient_id: int, kind: str, granted: bool) -> ConsentRecord | None:
    """Record one consent given or withdrawn (a new row with its date); None if unchanged."""
    written = set_consents(principal, patient_id, {kind: granted})
    return written[0] if written else None


def _replace_needs(session, patient_id: int, wanted: list[str]) -> tuple[list[str], list[str]]:
    rows = session.exec(select(PatientNeed).where(PatientNeed.patient_id == patient_id)).all()
    have = {r.need for r in rows}
    added = [n for n in wanted if n not in have]
    removed = sorted(have - set(wanted))
    for row in rows:
        if row.need in removed:
            session.delete(row)
    for need in added:
        session.add(PatientNeed(patient_id=patient_id, need=need))
    return added, removed


def set_needs(principal: Principal, patient_id: int, needs: Iterable[str]) -> tuple[str, ...]:
    """Make the patient's coded needs exactly `needs`: new ones are added with today's date, the
    ones kept keep their date, removed ones go."""
    patient, _ = authorise_patient(principal, patient_id, "patient.needs")
    errors: dict[str, tuple[str, dict]] = {}
    wanted = _check_needs(needs, errors)
    if errors:
        raise ValidationError(errors)
    with write_session() as session:
        added, removed = _replace_needs(session, patient.id, wanted)
        if added or removed:
            audit.record(
                session,
                principal,
                "patient.needs",
                patient_pseudonym=patient.pseudonym,
                detail=f"added={','.join(added)} removed={','.join(removed)}",
            )
        session.flush()
        result = _needs(session, patient.id)
    return result


# --- Timeline -----------------------------------------------------------------------------------


def _day(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def timeline(principal: Principal, patient_id: int) -> list[TimelineEntry]:
    """Screenings, referrals and their status changes, coaching contacts, follow-ups, measures,
    consents and needs, newest first, read in one session."""
    patient, _ = authorise_patient(principal, patient_id, "patient.read")
    pid = patient.id
    entries: list[TimelineEntry] = []
    with read_session() as s:
        for r in s.exec(select(InstrumentResponse).where(InstrumentResponse.patient_id == pid)).all():
            summary = {"instrument": r.instrument, "score": r.score, "total": r.total, "band": r.band}
            if r.flags:
                summary["flags"] = r.flags
            if r.timepoint_months is not None:
                summary["timepoint_months"] = r.timepoint_months
            if r.incomplete_reason:
                summary["incomplete_reason"] = r.incomplete_reason
            entries.append(TimelineEntry(r.administered_on, "screening", summary, r.id, r.created_at))
        referrals = s.exec(
            select(Referral, Service.name)
            .join(Service, col(Service.id) == col(Referral.service_id))
            .where(Referral.patient_id == pid)
        ).all()
        names = {}
        for ref, service_name in referrals:
            names[ref.id] = service_name
            entries.append(
                TimelineEntry(
                    ref.created_on,
                    "referral",
                    {"service": service_name, "status": ref.status, "need": ref.need},
                    ref.id,
                )
            )
        if names:
            events = s.exec(
                select(ReferralEvent)
                .where(col(ReferralEvent.referral_id).in_(list(names)))
                .order_by(col(ReferralEvent.at), col(ReferralEvent.id))
            ).all()
            seen_first: set[int] = set()
            for ev in events:
                first = ev.referral_id not in seen_first
                seen_first.add(ev.referral_id)
                if first and ev.status in ("draft", "requested"):
                    continue  # the referral's own entry already says it was made
                summary = {"service": names[ev.referral_id], "status": ev.status, "reason": ev.reason}
                entries.append(TimelineEntry(_day(ev.at), "referral_event", summary, ev.referral_id, ev.at))
        for c in s.exec(select(CoachingContact).where(CoachingContact.patient_id == pid)).all():
            entries.append(
                TimelineEntry(c.contact_on, "contact", {"mode": c.mode, "minutes": c.minutes}, c.id)
            )
        for f in s.exec(select(FollowUp).where(FollowUp.patient_id == pid)).all():
            entries.append(
                TimelineEntry(
                    f.completed_on or f.due_on,
                    "follow_up",
                    {"timepoint_months": f.timepoint_months, "status": f.status, "due_on": f.due_on},
                    f.id,
                )
            )
        for m in s.exec(select(HealthMeasure).where(HealthMeasure.patient_id == pid)).all():
            values = {
                k: getattr(m, k)
                for k in ("systolic", "diastolic", "hba1c", "waist_cm", "weight_kg")
                if getattr(m, k) is not None
            }
            entries.append(TimelineEntry(m.measured_on, "measure", values, m.id))
        for c in s.exec(select(PatientConsent).where(PatientConsent.patient_id == pid)).all():
            entries.append(
                TimelineEntry(
                    _day(c.recorded_at),
                    "consent",
                    {"kind": c.kind, "granted": c.granted},
                    c.id,
                    c.recorded_at,
                )
            )
        for n in s.exec(select(PatientNeed).where(PatientNeed.patient_id == pid)).all():
            entries.append(TimelineEntry(_day(n.recorded_at), "need", {"need": n.need}, n.id, n.recorded_at))
    with write_session() as session:
        audit.record(
            session, principal, "patient.read", patient_pseudonym=patient.pseudonym, detail="timeline"
        )
    order = {k: i for i, k in enumerate(TIMELINE_KINDS)}

    def key(e: TimelineEntry):
        stamp = e.at.timestamp() if e.at is not None else 0.0
        return (e.on, stamp, -order[e.kind], e.ref_id or 0)

    return sorted(entries, key=key, reverse=True)


def count_patients(principal: Principal) -> dict[int, int]:
    """Patients per centre the connector or manager serves (a count, no identities)."""
    if principal is None or principal.role not in ("connector", "manager") or not principal.centre_ids:
        raise _deny(principal, "patient.count")
    with read_session() as session:
        rows = session.exec(
            select(Patient.centre_id, func.count())
            .where(col(Patient.centre_id).in_(principal.centre_ids))
            .group_by(Patient.centre_id)
        ).all()
    return {cid: n for cid, n in rows}
