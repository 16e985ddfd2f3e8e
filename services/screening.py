"""Screening: record and read instrument responses, and the PHQ-9 safety flags.

Connectors of the patient's centre only; every read and write is audited, denials too. Answers
are validated by `domain.instruments.score` (the one scorer) and stored with their scores beside
them: total, score, band, subscales (ONS4 per-item bands under subscales["bands"]) and flags as
comma-separated text.

A form with unanswered items is refused, naming each one, unless it is saved on purpose as
incomplete with a reason (`INCOMPLETE_REASONS`): such a row keeps its answers and any safety flag,
but has no total, score, band or subscales, so no dashboard counts it as a measurement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from db.engine import read_session, write_session
from db.models import Enrolment, InstrumentResponse, Patient
from domain.instrument_defs import DEFINITIONS
from domain.instruments import CODES, INCOMPLETE_REASONS, InstrumentError, score
from domain.programmes import MOVED
from services import audit
from services.errors import AccessDenied, ValidationError
from services.principal import Principal
from services.scope import authorise_patient, check_patient
from settings import get_settings

SAFETY_FLAG = "self_harm"
MAX_TIMEPOINT_MONTHS = 120
EARLIEST_DATE = date(2000, 1, 1)


@dataclass(frozen=True)
class ResponseView:
    id: int
    patient_id: int
    instrument: str
    administered_on: date
    total: float | None
    score: float | None
    band: str | None
    bands: dict
    subscales: dict
    flags: frozenset[str]
    missing: tuple
    flag_acknowledged: bool = False
    timepoint_months: int | None = None
    incomplete_reason: str | None = None

    @property
    def incomplete(self) -> bool:
        """Saved on purpose with unanswered items (or, before reasons were required, partial)."""
        return self.incomplete_reason is not None or bool(self.missing)


@dataclass(frozen=True)
class SafetyFlag:
    response_id: int
    patient_id: int
    pseudonym: str
    instrument: str
    administered_on: date


def _deny(principal: Principal | None, action: str, *, pseudonym: str | None, care_unit: str | None):
    audit.record_now(principal, action, "denied", patient_pseudonym=pseudonym, care_unit=care_unit)
    return AccessDenied()


def _patient_for(principal: Principal | None, patient_id: int, action: str) -> Patient:
    """The patient, by the one scope rule (`services.scope`): a connector of the patient's centre,
    and not anonymised; else denied or not found, audited."""
    return authorise_patient(principal, patient_id, action)[0]


def _option_error(code: str, item_id: str) -> tuple[str, dict]:
    item = DEFINITIONS[code].item(item_id)
    if item.type == "integer" or isinstance(item.options[0].value, int):
        values = item.values()
        return ("error.instrument_answer_range", {"minimum": min(values), "maximum": max(values)})
    return ("error.instrument_answer_choice", {})


def validate_answers(code: str, answers: object) -> dict:
    """The answers, checked item by item; raises ValidationError with one message per bad item.

    Unanswered items are dropped; an administration with no answer at all is refused."""
    if code not in CODES:
        raise ValidationError({"instrument": ("error.invalid_choice", {})})
    if not isinstance(answers, Mapping):
        raise ValidationError({"answers": ("error.instrument_no_answers", {})})
    item_ids = DEFINITIONS[code].item_ids()
    errors: dict[str, tuple[str, dict]] = {}
    clean: dict = {}
    for key, value in answers.items():
        if not isinstance(key, str) or key not in item_ids:
            errors[str(key)[:40]] = ("error.instrument_unknown_item", {})
            continue
        if value is None:
            continue
        try:
            score(code, {key: value})
        except InstrumentError:
            errors[key] = _option_error(code, key)
            continue
        clean[key] = int(value) if isinstance(value, float) else value
    if errors:
        raise ValidationError(errors)
    if not clean:
        raise ValidationError({"answers": ("error.instrument_no_answers", {})})
    return {item: clean[item] for item in item_ids if item in clean}


def _flags_text(flags: frozenset[str]) -> str | None:
    return ",".join(sorted(flags)) or None


def _view(row: InstrumentResponse) -> ResponseView:
    subscales = dict(row.subscales or {})
    bands = subscales.pop("bands", None)
    try:
        recomputed = score(row.instrument, row.answers or {})
    except InstrumentError:  # a stored row the scorer no longer accepts: show what is stored
        recomputed = None
    if bands is None:
        bands = dict(recomputed.bands) if recomputed and row.incomplete_reason is None else {}
    return ResponseView(
        id=row.id,
        patient_id=row.patient_id,
        instrument=row.instrument,
        administered_on=row.administered_on,
        total=row.total,
        score=row.score,
        band=row.band,
        bands=dict(bands),
        subscales=subscales,
        flags=frozenset(f for f in (row.flags or "").split(",") if f),
        missing=tuple(recomputed.missing) if recomputed else (),
        flag_acknowledged=row.flag_acknowledged_at is not None,
        timepoint_months=row.timepoint_months,
        incomplete_reason=row.incomplete_reason,
    )


def unanswered_items(code: str, answers: Mapping) -> tuple[str, ...]:
    """The item ids of instrument `code` with no answer, in the instrument's order."""
    return tuple(i for i in DEFINITIONS[code].item_ids() if answers.get(i) is None)


def record_response(
    principal: Principal,
    *,
    patient_id: int,
    instrument: str,
    answers: dict,
    administered_on: date | None = None,
    enrolment_id: int | None = None,
    timepoint_months: int | None = None,
    idempotency_key: str | None = None,
    incomplete_reason: str | None = None,
) -> ResponseView:
    """Score and store one administration. A repeated idempotency key returns the stored row.

    Every item must be answered; otherwise each unanswered item is refused by name, unless
    `incomplete_reason` (one of INCOMPLETE_REASONS) says why the form is saved incomplete."""
    patient = _patient_for(principal, patient_id, "screening.record")
    errors: dict[str, tuple[str, dict]] = {}
    today = date.today()
    if administered_on is None:
        administered_on = today
    elif not isinstance(administered_on, date) or isinstance(administered_on, datetime):
        errors["administered_on"] = ("error.date_format", {})
    elif not EARLIEST_DATE <= administered_on <= today:
        errors["administered_on"] = ("error.instrument_date_range", {})
    if timepoint_months is not None and (
        isinstance(timepoint_months, bool)
        or not isinstance(timepoint_months, int)
        or not 0 <= timepoint_months <= MAX_TIMEPOINT_MONTHS
    ):
        errors["timepoint_months"] = ("error.out_of_range", {"minimum": 0, "maximum": MAX_TIMEPOINT_MONTHS})
    if idempotency_key is not None and (
        not isinstance(idempotency_key, str) or not 0 < len(idempotency_key) <= 64
    ):
        errors["idempotency_key"] = ("error.invalid_input", {})
    if enrolment_id is not None and (isinstance(enrolment_id, bool) or not isinstance(enrolment_id, int)):
        errors["enrolment_id"] = ("error.invalid_choice", {})
    clean: dict = {}
    try:
        clean = validate_answers(instrument, answers)
    except ValidationError as bad:
        errors.update(bad.fields)
    if incomplete_reason == "":
        errors["incomplete_reason"] = ("error.required", {})
    elif incomplete_reason is not None and incomplete_reason not in INCOMPLETE_REASONS:
        errors["incomplete_reason"] = ("error.invalid_choice", {})
    unanswered = unanswered_items(instrument, clean) if clean and instrument in CODES else ()
    if clean and not errors:
        if unanswered and incomplete_reason is None:
            errors["answers"] = ("error.instrument_incomplete", {"n": len(unanswered)})
            errors.update({item: ("error.instrument_unanswered", {}) for item in unanswered})
        elif not unanswered and incomplete_reason is not None:
            errors["incomplete_reason"] = ("error.instrument_all_answered", {})
    if errors:
        raise ValidationError(errors)
    result = score(instrument, clean, ucla3_threshold=get_settings().ucla3_threshold)
    subscales = dict(result.subscales)
    if result.bands:
        subscales["bands"] = dict(result.bands)
    total, value, band = result.total, result.score, result.band
    if incomplete_reason is not None:
        # An incomplete form is not a measurement: keep the answers and the safety flag only.
        total = value = band = None
        subscales = {}
    try:
        with write_session() as session:
            if idempotency_key:
                existing = session.exec(
                    select(InstrumentResponse).where(InstrumentResponse.idempotency_key == idempotency_key)
                ).first()
                if existing is not None:
                    if existing.patient_id != patient.id or existing.instrument != instrument:
                        raise ValidationError({"idempotency_key": ("error.invalid_input", {})})
                    audit.record(
                        session,
                        principal,
                        "screening.record",
                        "duplicate",
                        patient_pseudonym=patient.pseudonym,
                        detail=f"{instrument} id={existing.id}",
                    )
                    return _view(existing)
            if enrolment_id is not None:
                enrolment = session.get(Enrolment, enrolment_id)
                if enrolment is None or enrolment.patient_id != patient.id:
                    raise ValidationError({"enrolment_id": ("error.invalid_choice", {})})
                if enrolment.status == MOVED:  # answers belong to the programme the person went on in
                    raise ValidationError({"enrolment_id": ("error.followup_moved", {})})
            row = InstrumentResponse(
                patient_id=patient.id,
                centre_id=patient.centre_id,
                enrolment_id=enrolment_id,
                instrument=instrument,
                administered_on=administered_on,
                timepoint_months=timepoint_months,
                answers=clean,
                total=total,
                score=value,
                band=band,
                subscales=subscales,
                flags=_flags_text(result.flags),
                created_by=principal.user_id,
                idempotency_key=idempotency_key,
                incomplete_reason=incomplete_reason,
            )
            session.add(row)
            session.flush()
            audit.record(
                session,
                principal,
                "screening.record",
                patient_pseudonym=patient.pseudonym,
                detail=f"{instrument} id={row.id}"
                + (f" flags={row.flags}" if row.flags else "")
                + (f" incomplete={incomplete_reason} n={len(unanswered)}" if incomplete_reason else ""),
            )
    except IntegrityError:
        # Another replica stored the same idempotency key between our check and our insert.
        if not idempotency_key:
            raise
        with read_session() as session:
            existing = session.exec(
                select(InstrumentResponse).where(InstrumentResponse.idempotency_key == idempotency_key)
            ).first()
        if existing is None or existing.patient_id != patient.id:
            raise
        return _view(existing)
    return _view(row)


def list_responses(principal: Principal, patient_id: int) -> list[ResponseView]:
    """The patient's responses, newest first."""
    patient = _patient_for(principal, patient_id, "screening.read")
    with read_session() as session:
        rows = session.exec(
            select(InstrumentResponse)
            .where(InstrumentResponse.patient_id == patient.id)
            .order_by(col(InstrumentResponse.administered_on).desc(), col(InstrumentResponse.id).desc())
        ).all()
    with write_session() as session:
        audit.record(
            session, principal, "screening.read", patient_pseudonym=patient.pseudonym, detail=f"n={len(rows)}"
        )
    return [_view(r) for r in rows]


def open_safety_flags(principal: Principal) -> list[SafetyFlag]:
    """Unacknowledged safety flags (PHQ-9 item 9 above 0) in the connector's centres, oldest first."""
    if principal is None or principal.role != "connector" or not principal.centre_ids:
        raise _deny(principal, "screening.flags", pseudonym=None, care_unit=None)
    with read_session() as session:
        rows = session.exec(
            select(InstrumentResponse, Patient.pseudonym)
            .join(Patient, col(Patient.id) == col(InstrumentResponse.patient_id))
            .where(
                col(InstrumentResponse.centre_id).in_(principal.centre_ids),
                col(InstrumentResponse.flags).contains(SAFETY_FLAG),
                col(InstrumentResponse.flag_acknowledged_at).is_(None),
            )
            .order_by(col(InstrumentResponse.administered_on), col(InstrumentResponse.id))
        ).all()
    flags = [
        SafetyFlag(
            response_id=r.id,
            patient_id=r.patient_id,
            pseudonym=pseudonym,
            instrument=r.instrument,
            administered_on=r.administered_on,
        )
        for r, pseudonym in rows
        if SAFETY_FLAG in (r.flags or "").split(",")
    ]
    with write_session() as session:
        audit.record(session, principal, "screening.flags", detail=f"n={len(flags)}")
    return flags


def acknowledge_flag(principal: Principal, response_id: int) -> None:
    """Mark a response's safety flag as seen and acted on (who and when); audited."""
    if principal is None or principal.role != "connector":
        raise _deny(principal, "screening.acknowledge", pseudonym=None, care_unit=None)
    if isinstance(response_id, bool) or not isinstance(response_id, int):
        raise ValidationError({"response_id": ("error.invalid_choice", {})})
    with read_session() as session:
        row = session.exec(
            select(InstrumentResponse.flags, Patient)
            .join(Patient, col(Patient.id) == col(InstrumentResponse.patient_id))
            .where(InstrumentResponse.id == response_id)
        ).first()
    flags, patient = row if row is not None else (None, None)
    check_patient(principal, patient, "screening.acknowledge", ref=f"response={response_id}")
    if not flags:
        raise ValidationError({"response_id": ("error.instrument_no_flag", {})})
    with write_session() as session:
        response = session.get(InstrumentResponse, response_id)
        outcome = "ok"
        if response.flag_acknowledged_at is None:
            response.flag_acknowledged_at = datetime.now(UTC)
            response.flag_acknowledged_by = principal.user_id
            session.add(response)
        else:
            outcome = "already"
        audit.record(
            session,
            principal,
            "screening.acknowledge",
            outcome,
            patient_pseudonym=patient.pseudonym,
            detail=f"response={response_id}",
        )
