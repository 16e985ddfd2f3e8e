"""What each role's home page summarises, aggregated in SQL and scoped to the principal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func
from sqlmodel import col, select

from db.engine import read_session
from db.models import (
    AuditEvent,
    FollowUp,
    HealthCentre,
    InstrumentResponse,
    Organization,
    Patient,
    Referral,
    Service,
    ServiceCapacity,
    User,
    utcnow,
)
from domain.cellkey import published_count
from services.audit import require_role
from services.dashboards import Period, disclosure_rules, reporting_period
from services.principal import Principal
from settings import get_settings

STALE_DAYS = 90
UNANSWERED_DAYS = 14
OPEN_REFERRAL = ("requested", "accepted", "in-progress", "on-hold")


@dataclass(frozen=True)
class ConnectorSummary:
    centres: list[str]
    patients: int
    due_today: int
    overdue: int
    upcoming: int
    unanswered_referrals: int
    open_referrals: int


@dataclass(frozen=True)
class CentreRow:
    centre: str
    patients: str
    screened: str  # people screened in the current calendar quarter so far
    referrals: str  # people referred in the current calendar quarter so far


@dataclass(frozen=True)
class PartnerSummary:
    organizations: list[str]
    activities: int
    active: int
    stale: int
    pending_approval: int
    free_places: int
    referrals_waiting: int


@dataclass(frozen=True)
class AdminSummary:
    users_by_role: dict[str, int]
    inactive_users: int
    locked_users: int
    audit_events_24h: int
    failed_logins_24h: int
    backend: str
    demo: bool


def connector_summary(principal: Principal, today: date | None = None) -> ConnectorSummary:
    require_role(principal, "connector", action="home.connector")
    today = today or date.today()
    centres = tuple(principal.centre_ids)
    with read_session() as s:
        names = s.exec(select(HealthCentre.name).where(col(HealthCentre.id).in_(centres))).all()
        patients = s.exec(select(func.count()).where(col(Patient.centre_id).in_(centres))).one()
        pending = col(FollowUp.status).in_(("due", "overdue"))
        due_today, overdue, upcoming = s.exec(
            select(
                func.sum(case((FollowUp.due_on == today, 1), else_=0)),
                func.sum(case((FollowUp.due_on < today, 1), else_=0)),
                func.sum(
                    case(((FollowUp.due_on > today) & (FollowUp.due_on <= today + timedelta(14)), 1), else_=0)
                ),
            ).where(col(FollowUp.centre_id).in_(centres), pending)
        ).one()
        open_refs, unanswered = s.exec(
            select(
                func.count(),
                func.sum(
                    case(
                        (
                            (Referral.status == "requested")
                            & (Referral.created_on <= today - timedelta(UNANSWERED_DAYS)),
                            1,
                        ),
                        else_=0,
                    )
                ),
            ).where(col(Referral.centre_id).in_(centres), col(Referral.status).in_(OPEN_REFERRAL))
        ).one()
    return ConnectorSummary(
        sorted(names),
        int(patients),
        int(due_today or 0),
        int(overdue or 0),
        int(upcoming or 0),
        int(unanswered or 0),
        int(open_refs or 0),
    )


def current_quarter(today: date | None = None) -> Period:
    """The calendar quarter `today` is in: the manager home's fixed reporting period (issue 10: a
    window that moved by a day every day let day n be subtracted from day n+1)."""
    today = today or date.today()
    return reporting_period("quarter", today.year, (today.month - 1) // 3 + 1)


def manager_centres(principal: Principal, today: date | None = None) -> list[CentreRow]:
    """Per centre the manager serves: counts of people, 1..k-1 shown as "<k" with the configured k
    (LOTSA_DISCLOSURE_K), larger counts perturbed by their cell keys like every dashboard count."""
    require_role(principal, "manager", action="home.manager")
    rules = disclosure_rules()
    quarter = current_quarter(today)
    centres = tuple(principal.centre_ids)
    with read_session() as s:
        names = dict(
            s.exec(select(HealthCentre.id, HealthCentre.name).where(col(HealthCentre.id).in_(centres))).all()
        )

        def per_centre(people) -> dict[int, tuple[int, int]]:
            """centre -> (people, sum of their record keys) from (centre, patient) pairs."""
            sub = people.distinct().subquery()
            rows = s.exec(
                select(sub.c.cid, func.count(), func.coalesce(func.sum(Patient.record_key), 0))
                .select_from(sub)
                .join(Patient, Patient.id == sub.c.pid)
                .group_by(sub.c.cid)
            ).all()
            return {int(c): (int(n), int(k)) for c, n, k in rows}

        patients = per_centre(
            select(Patient.centre_id.label("cid"), Patient.id.label("pid")).where(
                col(Patient.centre_id).in_(centres)
            )
        )
        screened = per_centre(
            select(
                InstrumentResponse.centre_id.label("cid"), InstrumentResponse.patient_id.label("pid")
            ).where(
                col(InstrumentResponse.centre_id).in_(centres),
                InstrumentResponse.administered_on >= quarter.start,
                InstrumentResponse.administered_on <= quarter.end,
            )
        )
        referred = per_centre(
            select(Referral.centre_id.label("cid"), Referral.patient_id.label("pid")).where(
                col(Referral.centre_id).in_(centres),
                Referral.created_on >= quarter.start,
                Referral.created_on <= quarter.end,
            )
        )

    def shown(counts: dict[int, tuple[int, int]], cid: int) -> str:
        n, key_sum = counts.get(cid, (0, 0))
        return published_count(n, key_sum, rules)[0]

    return [
        CentreRow(names[cid], shown(patients, cid), shown(screened, cid), shown(referred, cid))
        for cid in sorted(names, key=names.get)
    ]


def partner_summary(principal: Principal, today: date | None = None) -> PartnerSummary:
    require_role(principal, "partner", action="home.partner")
    today = today or date.today()
    orgs = tuple(principal.organization_ids)
    with read_session() as s:
        names = s.exec(select(Organization.name).where(col(Organization.id).in_(orgs))).all()
        total, active, stale, pending = s.exec(
            select(
                func.count(),
                func.sum(case((Service.status == "active", 1), else_=0)),
                func.sum(
                    case(
                        (
                            col(Service.assured_date).is_(None)
                            | (Service.assured_date < today - timedelta(STALE_DAYS)),
                            1,
                        ),
                        else_=0,
                    )
                ),
                func.sum(case((Service.approval_status == "pending", 1), else_=0)),
            ).where(col(Service.organization_id).in_(orgs))
        ).one()
        free = s.exec(
            select(func.coalesce(func.sum(ServiceCapacity.available), 0))
            .join(Service)
            .where(col(Service.organization_id).in_(orgs), Service.status == "active")
        ).one()
        waiting = s.exec(
            select(func.count())
            .select_from(Referral)
            .join(Service)
            .where(col(Service.organization_id).in_(orgs), Referral.status == "requested")
        ).one()
    return PartnerSummary(
        sorted(names),
        int(total or 0),
        int(active or 0),
        int(stale or 0),
        int(pending or 0),
        int(free or 0),
        int(waiting or 0),
    )


def admin_summary(principal: Principal) -> AdminSummary:
    require_role(principal, "admin", action="home.admin")
    now = utcnow()
    since = now - timedelta(hours=24)
    with read_session() as s:
        by_role = dict(
            s.exec(select(User.role, func.count()).where(col(User.is_active)).group_by(User.role)).all()
        )
        inactive = s.exec(select(func.count()).select_from(User).where(col(User.is_active).is_(False))).one()
        locked = s.exec(select(func.count()).select_from(User).where(col(User.locked_until) > now)).one()
        events = s.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.at >= since)).one()
        failed = s.exec(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.at >= since,
                col(AuditEvent.action).startswith("login"),
                col(AuditEvent.outcome).in_(("failed", "locked")),
            )
        ).one()
        backend = s.get_bind().dialect.name
    return AdminSummary(
        by_role, int(inactive), int(locked), int(events), int(failed), backend, get_settings().demo
    )
