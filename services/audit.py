"""The audit trail: every read and write of patient data, logins and admin actions.

`record` adds the event to the caller's transaction, so the event and the change commit together;
`record_now` writes at once in its own transaction (for denials and failed logins, whose caller
is about to fail).

No national identity number is stored in clear: a personnummer/CPR in the detail, or typed as an
unknown username at login, is replaced by a keyed tag (domain.redaction)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.engine import read_session, write_session
from db.models import AuditEvent
from domain.redaction import redact_identifiers
from services.errors import AccessDenied
from services.principal import Principal


def _event(
    principal: Principal | None,
    action: str,
    outcome: str,
    *,
    patient_pseudonym: str | None,
    care_unit: str | None,
    detail: str | None,
    username: str | None = None,
) -> AuditEvent:
    return AuditEvent(
        user_id=principal.user_id if principal else None,
        username=principal.username if principal else ((redact_identifiers(username) or "")[:80] or None),
        role=principal.role if principal else None,
        care_unit=care_unit if care_unit is not None else (principal.care_unit if principal else None),
        patient_pseudonym=patient_pseudonym,
        action=action,
        outcome=outcome,
        detail=(detail or None) and redact_identifiers(detail)[:500],
    )


def record(
    session: Session,
    principal: Principal | None,
    action: str,
    outcome: str = "ok",
    *,
    patient_pseudonym: str | None = None,
    care_unit: str | None = None,
    detail: str | None = None,
    username: str | None = None,
) -> None:
    session.add(
        _event(
            principal,
            action,
            outcome,
            patient_pseudonym=patient_pseudonym,
            care_unit=care_unit,
            detail=detail,
            username=username,
        )
    )


def record_now(
    principal: Principal | None,
    action: str,
    outcome: str,
    *,
    patient_pseudonym: str | None = None,
    care_unit: str | None = None,
    detail: str | None = None,
    username: str | None = None,
) -> None:
    with write_session() as session:
        record(
            session,
            principal,
            action,
            outcome,
            patient_pseudonym=patient_pseudonym,
            care_unit=care_unit,
            detail=detail,
            username=username,
        )


def require_role(principal: Principal | None, *roles: str, action: str) -> Principal:
    """Fail closed: no principal or a role not listed is denied, and the denial is audited."""
    if principal is None or principal.role not in roles:
        record_now(principal, action, "denied", detail="role")
        raise AccessDenied()
    return principal


AUDIT_PAGE_SIZE = 100


def _filters(
    *,
    username: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    patient_pseudonym: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
):
    filters = []
    if username:
        filters.append(col(AuditEvent.username) == username.strip())
    if action:
        filters.append(col(AuditEvent.action).startswith(action.strip()))
    if outcome:
        filters.append(col(AuditEvent.outcome) == outcome)
    if patient_pseudonym:
        filters.append(col(AuditEvent.patient_pseudonym) == patient_pseudonym.strip().upper())
    if since:
        filters.append(col(AuditEvent.at) >= since)
    if until:
        filters.append(col(AuditEvent.at) < until)
    return filters


def search_events(principal: Principal, *, page: int = 0, **criteria) -> tuple[list[AuditEvent], int]:
    """One page of audit events, newest first, and the total count; admins only.

    `criteria`: username, action (prefix), outcome, patient_pseudonym, since, until."""
    require_role(principal, "admin", action="audit.search")
    filters = _filters(**criteria)
    with read_session() as session:
        total = session.exec(select(func.count()).select_from(AuditEvent).where(*filters)).one()
        rows = session.exec(
            select(AuditEvent)
            .where(*filters)
            .order_by(col(AuditEvent.id).desc())
            .offset(page * AUDIT_PAGE_SIZE)
            .limit(AUDIT_PAGE_SIZE)
        ).all()
    with write_session() as session:
        record(session, principal, "audit.search", detail=f"page={page} total={total}")
    return list(rows), int(total)


EXPORT_LIMIT = 100_000
EXPORT_COLUMNS = ("at", "username", "role", "care_unit", "patient_pseudonym", "action", "outcome", "detail")


def export_events(principal: Principal, **criteria) -> tuple[str, int]:
    """The matching events (newest first, at most EXPORT_LIMIT) as formula-safe CSV; the export is audited."""
    from domain.csv_safety import to_csv

    require_role(principal, "admin", action="audit.export")
    filters = _filters(**criteria)
    columns = [getattr(AuditEvent, c) for c in EXPORT_COLUMNS]
    with read_session() as session:
        rows = session.exec(
            select(*columns).where(*filters).order_by(col(AuditEvent.id).desc()).limit(EXPORT_LIMIT)
        ).all()
    with write_session() as session:
        record(session, principal, "audit.export", detail=f"rows={len(rows)}")
    text = to_csv(EXPORT_COLUMNS, ([r[0].isoformat(timespec="seconds"), *r[1:]] for r in rows))
    return text, len(rows)
