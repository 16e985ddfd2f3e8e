"""Needs with no fitting activity, recorded without any patient identity for the gap analysis.

Only a connector of the centre records one; the row holds the need, where (the centre, its
municipality and an optional area), when (days, time of day), an age group and optionally sex,
never who. Audited without a pseudonym.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from db.engine import read_session, write_session
from db.models import HealthCentre, UnmetNeed
from domain.care import NEED_CODES
from domain.matching import AGE_GROUPS, DAY_CODES, TIMES_OF_DAY
from domain.schedules import WEEKDAYS
from services import audit
from services.errors import AccessDenied, ValidationError
from services.principal import Principal

SEXES = ("female", "male", "other")
MAX_AREA = 120
MAX_KEY = 64
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_SHORT_DAYS = {v: k for k, v in DAY_CODES.items()}


def _days(value: Iterable[str] | str | None) -> tuple[str | None, bool]:
    """'TU,TH', ['tue', 'TH'] -> 'TU,TH' in week order; (None, True) for none; ok False if unknown."""
    if value is None or value == "" or value == ():
        return None, True
    items = value.split(",") if isinstance(value, str) else list(value)
    codes = []
    for item in items:
        if not isinstance(item, str):
            return None, False
        code = item.strip()
        code = _SHORT_DAYS.get(code.lower(), code.upper())
        if code not in WEEKDAYS:
            return None, False
        codes.append(code)
    ordered = [d for d in WEEKDAYS if d in codes]
    return (",".join(ordered) or None), True


def record_unmet_need(
    principal: Principal,
    *,
    centre_id: int,
    need: str,
    area: str | None = None,
    days: Iterable[str] | str | None = None,
    time_of_day: str | None = None,
    age_group: str | None = None,
    sex: str | None = None,
    idempotency_key: str | None = None,
    today: date | None = None,
) -> int:
    """Record a need no activity meets; returns its id (the existing one for a repeated key)."""
    if (
        principal is None
        or principal.role != "connector"
        or isinstance(centre_id, bool)
        or not isinstance(centre_id, int)
        or not principal.serves_centre(centre_id)
    ):
        audit.record_now(principal, "unmet.record", "denied", care_unit=str(centre_id)[:32])
        raise AccessDenied()
    errors: dict[str, tuple[str, dict]] = {}
    if need not in NEED_CODES:
        errors["need"] = ("error.invalid_choice", {})
    clean_area = None
    if area is not None:
        if not isinstance(area, str):
            errors["area"] = ("error.invalid_input", {})
        else:
            clean_area = _CONTROL_RE.sub(" ", area).strip() or None
            if clean_area and len(clean_area) > MAX_AREA:
                errors["area"] = ("error.too_long", {"n": MAX_AREA})
    clean_days, days_ok = _days(days)
    if not days_ok:
        errors["days"] = ("error.invalid_choice", {})
    if time_of_day not in (None, "", *TIMES_OF_DAY):
        errors["time_of_day"] = ("error.invalid_choice", {})
    if age_group not in (None, "", *AGE_GROUPS):
        errors["age_group"] = ("error.invalid_choice", {})
    if sex not in (None, "", *SEXES):
        errors["sex"] = ("error.invalid_choice", {})
    if idempotency_key is not None and (
        not isinstance(idempotency_key, str) or not 0 < len(idempotency_key) <= MAX_KEY
    ):
        errors["idempotency_key"] = ("error.invalid_input", {})
    if errors:
        raise ValidationError(errors)
    existing = _by_key(idempotency_key)
    if existing is not None:
        return existing
    try:
        return _insert(
            principal,
            centre_id,
            need,
            clean_area,
            clean_days,
            time_of_day,
            age_group,
            sex,
            idempotency_key,
            today,
        )
    except IntegrityError:  # the same form saved at the same moment elsewhere
        existing = _by_key(idempotency_key)
        if existing is None:
            raise
        return existing


def _by_key(idempotency_key: str | None) -> int | None:
    if not idempotency_key:
        return None
    with read_session() as s:
        return s.scalars(select(UnmetNeed.id).where(UnmetNeed.idempotency_key == idempotency_key)).first()


def _insert(
    principal, centre_id, need, clean_area, clean_days, time_of_day, age_group, sex, idempotency_key, today
):
    with write_session() as s:
        centre = s.get(HealthCentre, centre_id)
        if centre is None:
            raise ValidationError({"centre_id": ("error.not_found", {})})
        row = UnmetNeed(
            centre_id=centre_id,
            municipality_id=centre.municipality_id,
            need=need,
            area=clean_area,
            days=clean_days,
            time_of_day=time_of_day or None,
            age_group=age_group or None,
            sex=sex or None,
            recorded_on=today or date.today(),
            user_id=principal.user_id,
            idempotency_key=idempotency_key or None,
        )
        s.add(row)
        s.flush()
        audit.record(s, principal, "unmet.record", care_unit=centre.code, detail=f"need={need} id={row.id}")
        return row.id
