"""Coaching and health measures: the contacts log (motivational interviewing), blood pressure,
HbA1c, waist and weight, and the Samverkansmodell inclusion check.

Connectors of the patient's centre only; every read and write audited, denials too. Every value
is validated here against a plausible range (widget limits are only a convenience).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlmodel import col, select

from db.engine import read_session, write_session
from db.models import CoachingContact, HealthMeasure
from domain import validation as v
from domain.care import COACHING_MODES
from domain.programmes import CRITERIA, Eligibility, age_in, samverkan_eligibility
from services import audit
from services.errors import ValidationError
from services.followup import patient_in_scope
from services.principal import Principal

MINUTES_RANGE = (1, 600)
MADRS_RANGE = (0, 60)
# Plausible ranges: outside them the value is a typing error, not a measurement.
MEASURE_RANGES: dict[str, tuple[float, float]] = {
    "systolic": (60, 260),
    "diastolic": (30, 160),
    "hba1c": (15, 200),
    "waist_cm": (40, 250),
    "weight_kg": (20, 350),
}
MEASURE_FIELDS = tuple(MEASURE_RANGES)
LIST_LIMIT = 200


@dataclass(frozen=True)
class ContactView:
    id: int
    patient_id: int
    contact_on: date
    mode: str
    minutes: int
    notes: str | None


@dataclass(frozen=True)
class MeasureView:
    id: int
    patient_id: int
    measured_on: date
    systolic: int | None
    diastolic: int | None
    hba1c: float | None
    waist_cm: float | None
    weight_kg: float | None


def _contact_view(c: CoachingContact) -> ContactView:
    return ContactView(c.id, c.patient_id, c.contact_on, c.mode, c.minutes, c.notes)


def _measure_view(m: HealthMeasure) -> MeasureView:
    return MeasureView(
        m.id, m.patient_id, m.measured_on, m.systolic, m.diastolic, m.hba1c, m.waist_cm, m.weight_kg
    )


def _past_day(value: object, today: date, errors: dict, name: str) -> date | None:
    try:
        day = v.day(value, required=True)
    except v.FieldError as bad:
        errors[name] = (bad.key, bad.params)
        return None
    if day > today:
        errors[name] = ("error.care_future_date", {})
        return None
    return day


def _key(value: object, errors: dict) -> str | None:
    try:
        return v.text(value, max_length=64)
    except v.FieldError as bad:
        errors["idempotency_key"] = (bad.key, bad.params)
        return None


def log_contact(
    principal: Principal,
    *,
    patient_id: int,
    contact_on: date,
    mode: str,
    minutes: int,
    notes: str | None = None,
    idempotency_key: str | None = None,
    today: date | None = None,
) -> ContactView:
    action = "coaching.create"
    today = today or date.today()
    with read_session() as s:
        patient = patient_in_scope(s, principal, patient_id, action)
    errors: dict[str, tuple[str, dict]] = {}
    day = _past_day(contact_on, today, errors, "contact_on")
    try:
        mode = v.choice(mode, COACHING_MODES, required=True)
    except v.FieldError as bad:
        errors["mode"] = (bad.key, bad.params)
    try:
        minutes = v.integer(minutes, required=True, minimum=MINUTES_RANGE[0], maximum=MINUTES_RANGE[1])
    except v.FieldError as bad:
        errors["minutes"] = (bad.key, bad.params)
    try:
        notes = v.text(notes, max_length=2000)
    except v.FieldError as bad:
        errors["notes"] = (bad.key, bad.params)
    key = _key(idempotency_key, errors)
    if errors:
        raise ValidationError(errors)
    with write_session() as s:
        if key:
            existing = s.exec(select(CoachingContact).where(CoachingContact.idempotency_key == key)).first()
            if existing is not None and existing.patient_id == patient.id:
                audit.record(s, principal, action, "duplicate", patient_pseudonym=patient.pseudonym)
                return _contact_view(existing)
            if existing is not None:
                raise ValidationError({"idempotency_key": ("error.invalid_input", {})})
        contact = CoachingContact(
            patient_id=patient.id,
            centre_id=patient.centre_id,
            contact_on=day,
            mode=mode,
            minutes=minutes,
            notes=notes,
            user_id=principal.user_id,
            idempotency_key=key,
        )
        s.add(contact)
        s.flush()
        audit.record(
            s, principal, action, patient_pseudonym=patient.pseudonym, detail=f"contact={contact.id}"
        )
        return _contact_view(contact)


def record_measure(
    principal: Principal,
    *,
    patient_id: int,
    measured_on: date,
    systolic: int | None = None,
    diastolic: int | None = None,
    hba1c: float | None = None,
    waist_cm: float | None = None,
    weight_kg: float | None = None,
    idempotency_key: str | None = None,
    today: date | None = None,
) -> MeasureView:
    action = "measure.create"
    today = today or date.today()
    with read_session() as s:
        patient = patient_in_scope(s, principal, patient_id, action)
    errors: dict[str, tuple[str, dict]] = {}
    day = _past_day(measured_on, today, errors, "measured_on")
    raw = {
        "systolic": systolic,
        "diastolic": diastolic,
        "hba1c": hba1c,
        "waist_cm": waist_cm,
        "weight_kg": weight_kg,
    }
    values: dict[str, float | int | None] = {}
    for name, value in raw.items():
        low, high = MEASURE_RANGES[name]
        try:
            if name in ("systolic", "diastolic"):
                values[name] = v.integer(value, minimum=int(low), maximum=int(high))
            else:
                number = v.decimal(value, minimum=low, maximum=high)
                values[name] = None if number is None else round(number, 1)
        except v.FieldError as bad:
            errors[name] = (bad.key, bad.params)
    if not errors:
        if all(values[n] is None for n in MEASURE_FIELDS):
            errors["systolic"] = ("error.care_measure_required", {})
        elif (values["systolic"] is None) != (values["diastolic"] is None):
            missing = "diastolic" if values["diastolic"] is None else "systolic"
            errors[missing] = ("error.care_blood_pressure_pair", {})
        elif values["systolic"] is not None and values["diastolic"] >= values["systolic"]:
            errors["diastolic"] = ("error.care_diastolic_above_systolic", {})
    key = _key(idempotency_key, errors)
    if errors:
        raise ValidationError(errors)
    with write_session() as s:
        if key:
            existing = s.exec(select(HealthMeasure).where(HealthMeasure.idempotency_key == key)).first()
            if existing is not None and existing.patient_id == patient.id:
                audit.record(s, principal, action, "duplicate", patient_pseudonym=patient.pseudonym)
                return _measure_view(existing)
            if existing is not None:
                raise ValidationError({"idempotency_key": ("error.invalid_input", {})})
        measure = HealthMeasure(
            patient_id=patient.id,
            centre_id=patient.centre_id,
            measured_on=day,
            user_id=principal.user_id,
            idempotency_key=key,
            **values,
        )
        s.add(measure)
        s.flush()
        audit.record(
            s, principal, action, patient_pseudonym=patient.pseudonym, detail=f"measure={measure.id}"
        )
        return _measure_view(measure)


def list_contacts(principal: Principal, patient_id: int) -> list[ContactView]:
    """The patient's coaching contacts, newest first."""
    action = "coaching.read"
    with read_session() as s:
        patient = patient_in_scope(s, principal, patient_id, action)
        rows = s.exec(
            select(CoachingContact)
            .where(CoachingContact.patient_id == patient.id)
            .order_by(col(CoachingContact.contact_on).desc(), col(CoachingContact.id).desc())
            .limit(LIST_LIMIT)
        ).all()
    with write_session() as s:
        audit.record(s, principal, action, patient_pseudonym=patient.pseudonym)
    return [_contact_view(c) for c in rows]


def list_measures(principal: Principal, patient_id: int) -> list[MeasureView]:
    """The patient's health measures, newest first."""
    action = "measure.read"
    with read_session() as s:
        patient = patient_in_scope(s, principal, patient_id, action)
        rows = s.exec(
            select(HealthMeasure)
            .where(HealthMeasure.patient_id == patient.id)
            .order_by(col(HealthMeasure.measured_on).desc(), col(HealthMeasure.id).desc())
            .limit(LIST_LIMIT)
        ).all()
    with write_session() as s:
        audit.record(s, principal, action, patient_pseudonym=patient.pseudonym)
    return [_measure_view(m) for m in rows]


def samverkan_check(
    principal: Principal,
    patient_id: int,
    *,
    madrs: int | None = None,
    treated: Iterable[str] = frozenset(),
    today: date | None = None,
) -> Eligibility:
    """Samverkansmodell inclusion from the latest value of each measure, the patient's birth year
    and sex, an optional MADRS score, and the conditions already treated."""
    action = "samverkan.check"
    today = today or date.today()
    with read_session() as s:
        patient = patient_in_scope(s, principal, patient_id, action)
        latest: dict[str, float | None] = {}
        for name in MEASURE_FIELDS:
            column = getattr(HealthMeasure, name)
            if name == "diastolic":
                continue  # read with the systolic value of the same measurement
            row = s.exec(
                select(HealthMeasure)
                .where(HealthMeasure.patient_id == patient.id, col(column).is_not(None))
                .order_by(col(HealthMeasure.measured_on).desc(), col(HealthMeasure.id).desc())
                .limit(1)
            ).first()
            latest[name] = getattr(row, name) if row else None
            if name == "systolic":
                latest["diastolic"] = row.diastolic if row else None
    errors: dict[str, tuple[str, dict]] = {}
    try:
        madrs = v.integer(madrs, minimum=MADRS_RANGE[0], maximum=MADRS_RANGE[1])
    except v.FieldError as bad:
        errors["madrs"] = (bad.key, bad.params)
    if isinstance(treated, str) or not set(treated or ()) <= set(CRITERIA):
        errors["treated"] = ("error.invalid_choice", {})
    treated = frozenset() if "treated" in errors else frozenset(treated or ())
    if errors:
        raise ValidationError(errors)
    result = samverkan_eligibility(
        age=age_in(today.year, patient.birth_year),
        sex=patient.sex,
        systolic=latest["systolic"],
        diastolic=latest["diastolic"],
        hba1c=latest["hba1c"],
        madrs=madrs,
        waist_cm=latest["waist_cm"],
        treated=treated,
    )
    with write_session() as s:
        audit.record(
            s,
            principal,
            action,
            patient_pseudonym=patient.pseudonym,
            detail=f"eligible={result.eligible} met={','.join(result.met)}",
        )
    return result
