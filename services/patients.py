"""Patient records: register, find, read and list, for connectors of the patient's centre only.

Every call is audited, including denials. Identity (national id, name, phone) is encrypted; the
database holds only the ciphertext and a keyed lookup hash.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import col, select

from db.engine import read_session, write_session
from db.models import HealthCentre, Patient
from domain.national_id import InvalidNationalId, parse_national_id
from domain.security import decrypt_identity, encrypt_identity, identity_hash
from services import audit
from services.errors import AccessDenied, NotFound, ValidationError
from services.principal import Principal

_PSEUDONYM_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SEXES = ("female", "male", "other")
LANGUAGES = ("sv", "da", "en", "ar", "so", "fa", "ti", "uk", "pl", "fi", "other")


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
    today: date | None = None,
) -> PatientView:
    _require_connector(principal, centre_id, "patient.create")
    errors: dict[str, tuple[str, dict]] = {}
    parsed = None
    try:
        parsed = parse_national_id(national_id or "", country, today=today)
    except InvalidNationalId as bad:
        errors["national_id"] = (f"error.national_id_{bad.reason}", {})
    name = (name or "").strip()
    if not name:
        errors["name"] = ("error.required", {})
    elif len(name) > 200:
        errors["name"] = ("error.too_long", {"n": 200})
    phone = (phone or "").strip()
    if len(phone) > 40 or (phone and not all(ch.isdigit() or ch in "+ -()" for ch in phone)):
        errors["phone"] = ("error.phone_format", {})
    if sex is not None and sex not in SEXES:
        errors["sex"] = ("error.invalid_choice", {})
    if preferred_language not in LANGUAGES:
        errors["preferred_language"] = ("error.invalid_choice", {})
    if errors:
        raise ValidationError(errors)
    lookup = identity_hash(parsed.normalised)
    with write_session() as session:
        if session.exec(select(Patient.id).where(Patient.identity_hash == lookup)).first():
            raise ValidationError({"national_id": ("error.patient_exists", {})})
        patient = Patient(
            pseudonym=new_pseudonym(),
            centre_id=centre_id,
            identity_hash=lookup,
            identity_enc=encrypt_identity({"national_id": parsed.normalised, "name": name, "phone": phone}),
            birth_year=parsed.birth_date.year,
            sex=sex,
            preferred_language=preferred_language,
        )
        session.add(patient)
        session.flush()
        audit.record(session, principal, "patient.create", patient_pseudonym=patient.pseudonym)
        centre_code = session.get(HealthCentre, centre_id).code
    return _view(patient, centre_code)


def _view(patient: Patient, centre_code: str) -> PatientView:
    identity = decrypt_identity(patient.identity_enc)
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
    with read_session() as session:
        row = session.exec(
            select(Patient, HealthCentre.code).join(HealthCentre).where(Patient.id == patient_id)
        ).first()
    if row is None:
        audit.record_now(principal, "patient.read", "not_found", detail=f"id={patient_id}")
        raise NotFound()
    patient, centre_code = row
    if principal.role != "connector" or not principal.serves_centre(patient.centre_id):
        raise _deny(principal, "patient.read", pseudonym=patient.pseudonym, care_unit=centre_code)
    with write_session() as session:
        audit.record(session, principal, "patient.read", patient_pseudonym=patient.pseudonym)
    return _view(patient, centre_code)


def find_patient(principal: Principal, *, national_id: str, country: str) -> PatientView | None:
    """Look a patient up by national id within the connector's own centres."""
    if principal.role != "connector":
        raise _deny(principal, "patient.search")
    try:
        parsed = parse_national_id(national_id, country)
    except InvalidNationalId as bad:
        raise ValidationError({"national_id": (f"error.national_id_{bad.reason}", {})}) from bad
    with read_session() as session:
        row = session.exec(
            select(Patient, HealthCentre.code)
            .join(HealthCentre)
            .where(Patient.identity_hash == identity_hash(parsed.normalised))
        ).first()
    if row is not None and not principal.serves_centre(row[0].centre_id):
        raise _deny(principal, "patient.search", pseudonym=row[0].pseudonym, care_unit=row[1])
    with write_session() as session:
        audit.record(
            session,
            principal,
            "patient.search",
            "ok" if row else "not_found",
            patient_pseudonym=row[0].pseudonym if row else None,
        )
    return _view(*row) if row else None


def count_patients(principal: Principal) -> dict[int, int]:
    """Patients per centre the connector or manager serves (a count, no identities)."""
    if principal.role not in ("connector", "manager") or not principal.centre_ids:
        raise _deny(principal, "patient.count")
    with read_session() as session:
        rows = session.exec(
            select(Patient.centre_id, func.count())
            .where(col(Patient.centre_id).in_(principal.centre_ids))
            .group_by(Patient.centre_id)
        ).all()
    return {cid: n for cid, n in rows}
