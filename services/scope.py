"""The one patient-scope check every patient service uses.

A principal may read or write a patient's data only as a connector of the patient's health
centre, and only while the patient is not anonymised. The order of the checks is part of the
rule, so no answer tells an outsider more than they may know:

1. not a connector: denied (audited, naming the patient if it exists);
2. no such patient (or an id that is not a positive integer): not found (audited);
3. a connector of another centre: denied (audited) — they do not learn whether it is anonymised;
4. anonymised: not found (audited), so every service refuses anonymised patients the same way.

Denials and not-found answers are written at once in their own transaction (`audit.record_now`),
since the caller is about to fail.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from db.engine import read_session
from db.models import HealthCentre, Patient
from services import audit
from services.errors import AccessDenied, NotFound
from services.principal import Principal


def valid_id(value: object) -> int | None:
    """`value` as a positive int, or None (bools and strings are not ids)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


def check_patient(
    principal: Principal | None,
    patient: Patient | None,
    action: str,
    *,
    care_unit: str | None = None,
    ref: str | None = None,
) -> Patient:
    """Apply the scope rule to an already loaded patient (or None); returns it when allowed.

    `care_unit` names the centre in the audit (default: the centre id); `ref` is what was asked
    for (e.g. "referral=12"), written to the audit detail."""
    unit = care_unit if care_unit is not None else (str(patient.centre_id) if patient is not None else None)
    if principal is None or principal.role != "connector":
        audit.record_now(
            principal, action, "denied",
            patient_pseudonym=patient.pseudonym if patient is not None else None,
            care_unit=unit, detail=ref or "role",
        )  # fmt: skip
        raise AccessDenied()
    if patient is None:
        audit.record_now(principal, action, "not_found", detail=ref)
        raise NotFound()
    if not principal.serves_centre(patient.centre_id):
        audit.record_now(
            principal, action, "denied", patient_pseudonym=patient.pseudonym, care_unit=unit, detail=ref
        )
        raise AccessDenied()
    if patient.anonymised_at is not None:
        audit.record_now(
            principal, action, "not_found", patient_pseudonym=patient.pseudonym, care_unit=unit,
            detail=(ref + " " if ref else "") + "anonymised",
        )  # fmt: skip
        raise NotFound()
    return patient


def patient_in_scope(
    session: Session, principal: Principal | None, patient_id: object, action: str
) -> tuple[Patient, str]:
    """Load the patient and its centre code in `session` and apply `check_patient`."""
    pid = valid_id(patient_id)
    row = None
    if pid is not None:
        row = session.exec(
            select(Patient, HealthCentre.code)
            .join(HealthCentre, col(HealthCentre.id) == col(Patient.centre_id))
            .where(Patient.id == pid)
        ).first()
    patient, code = row if row is not None else (None, None)
    check_patient(principal, patient, action, care_unit=code, ref=f"patient={patient_id!r}"[:100])
    return patient, code


def authorise_patient(principal: Principal | None, patient_id: object, action: str) -> tuple[Patient, str]:
    """`patient_in_scope` in its own read session: call before opening a write session."""
    with read_session() as session:
        return patient_in_scope(session, principal, patient_id, action)
