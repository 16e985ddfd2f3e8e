"""Volunteer signposting: a hairdresser, pharmacist or librarian notes that they pointed someone
to an activity, with no identity at all (date, setting, need, the activity shown, and whether
the person was passed to a health connector). For volunteers and connectors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import col, select

from db.engine import read_session, write_session
from db.models import Municipality, Service, Signposting
from domain.care import NEED_CODES, SIGNPOST_SETTINGS
from services import audit
from services.errors import ValidationError
from services.principal import Principal

SIGNPOST_ROLES = ("volunteer", "connector")
MAX_DAYS_BACK = 366
KEY_MAX = 64


@dataclass(frozen=True)
class SignpostView:
    id: int
    logged_on: date
    setting: str
    need: str
    service_id: int | None
    service_name: str | None
    passed_to_connector: bool
    municipality_id: int | None
    municipality_name: str | None


def _views(session, rows: list[Signposting]) -> list[SignpostView]:
    service_ids = {r.service_id for r in rows if r.service_id}
    muni_ids = {r.municipality_id for r in rows if r.municipality_id}
    services = (
        dict(session.exec(select(Service.id, Service.name).where(col(Service.id).in_(service_ids))).all())
        if service_ids
        else {}
    )
    munis = (
        dict(
            session.exec(
                select(Municipality.id, Municipality.name).where(col(Municipality.id).in_(muni_ids))
            ).all()
        )
        if muni_ids
        else {}
    )
    return [
        SignpostView(
            r.id,
            r.logged_on,
            r.setting,
            r.need,
            r.service_id,
            services.get(r.service_id),
            r.passed_to_connector,
            r.municipality_id,
            munis.get(r.municipality_id),
        )
        for r in rows
    ]


def log_signposting(
    principal: Principal,
    *,
    setting: str,
    need: str,
    service_id: int | None = None,
    passed_to_connector: bool,
    municipality_id: int | None = None,
    logged_on: date | None = None,
    idempotency_key: str | None = None,
    today: date | None = None,
) -> SignpostView:
    """Log one signposting. The same idempotency key (a double click) returns the first row."""
    audit.require_role(principal, *SIGNPOST_ROLES, action="signposting.log")
    today = today or date.today()
    logged_on = today if logged_on is None else logged_on
    errors: dict[str, tuple[str, dict]] = {}
    if setting not in SIGNPOST_SETTINGS:
        errors["setting"] = ("error.invalid_choice", {})
    if need not in NEED_CODES:
        errors["need"] = ("error.invalid_choice", {})
    if not isinstance(passed_to_connector, bool):
        errors["passed_to_connector"] = ("error.invalid_choice", {})
    if not isinstance(logged_on, date):
        errors["logged_on"] = ("error.date_format", {})
    elif logged_on > today:
        errors["logged_on"] = ("error.patients_date_in_future", {})
    elif logged_on < today - timedelta(days=MAX_DAYS_BACK):
        errors["logged_on"] = ("error.patients_date_too_old", {"days": MAX_DAYS_BACK})
    if service_id is not None and (isinstance(service_id, bool) or not isinstance(service_id, int)):
        errors["service_id"] = ("error.invalid_choice", {})
        service_id = None
    if municipality_id is not None and (
        isinstance(municipality_id, bool) or not isinstance(municipality_id, int)
    ):
        errors["municipality_id"] = ("error.invalid_choice", {})
        municipality_id = None
    if idempotency_key is not None and (
        not isinstance(idempotency_key, str) or len(idempotency_key) > KEY_MAX
    ):
        errors["idempotency_key"] = ("error.invalid_choice", {})
    if errors:
        raise ValidationError(errors)
    with write_session() as session:
        if idempotency_key:
            existing = session.exec(
                select(Signposting).where(Signposting.idempotency_key == idempotency_key)
            ).first()
            if existing is not None and existing.user_id == principal.user_id:
                return _views(session, [existing])[0]
            if existing is not None:
                raise ValidationError({"idempotency_key": ("error.invalid_choice", {})})
        if service_id is not None:
            service = session.get(Service, service_id)
            if service is None or service.status != "active" or service.approval_status != "approved":
                raise ValidationError({"service_id": ("error.invalid_choice", {})})
            if municipality_id is None:
                municipality_id = service.municipality_id
        if municipality_id is not None and session.get(Municipality, municipality_id) is None:
            raise ValidationError({"municipality_id": ("error.invalid_choice", {})})
        row = Signposting(
            logged_on=logged_on,
            setting=setting,
            need=need,
            service_id=service_id,
            passed_to_connector=passed_to_connector,
            municipality_id=municipality_id,
            user_id=principal.user_id,
            idempotency_key=idempotency_key or None,
        )
        session.add(row)
        session.flush()
        audit.record(session, principal, "signposting.log", detail=f"setting={setting} need={need}")
        view = _views(session, [row])[0]
    return view


def my_signpostings(principal: Principal, limit: int = 50) -> list[SignpostView]:
    """The user's own signpostings, newest first."""
    audit.require_role(principal, *SIGNPOST_ROLES, action="signposting.list")
    limit = min(max(int(limit), 1), 500)
    with read_session() as session:
        rows = session.exec(
            select(Signposting)
            .where(Signposting.user_id == principal.user_id)
            .order_by(col(Signposting.logged_on).desc(), col(Signposting.id).desc())
            .limit(limit)
        ).all()
        return _views(session, list(rows))
