"""Monthly outcome summaries per centre, so the compare dashboard reads a few rows per centre and
month instead of scanning millions of screenings.

Table `outcome_summary` (db/models.py): (centre_id, month, metric, numerator, denominator,
refreshed_at). Metrics:

* `referral_acceptance`: referrals made in the month (created_on; every status except draft and
  entered-in-error) and, of those, the ones accepted or later (accepted, in-progress, on-hold,
  failed, completed; a failed referral had been accepted first, see domain/care.py).
* `followup_completion`: follow-ups due in the month with due_on on or before the refresh day, and
  of those the completed ones.
* `ucla3_reliable`: people with a UCLA-3 baseline (timepoint 0) and a follow-up (timepoint > 0),
  counted in the month of their FIRST follow-up (one comparison interval for everyone; the earliest
  baseline and the earliest follow-up after it), and of those the ones whose score fell by more
  than the minimum reliable difference z·SD₁·√(2(1 − r)) from `configured_reliability()`
  (domain.statistics.reliable_change_category: lower is better on UCLA-3). Not stored when no
  reliability parameters are configured.
* `_refresh` (month 1970-01-01): one row per refreshed centre, its refreshed_at is the time the
  centre's figures were rebuilt.

A refresh rebuilds whole centres in ONE transaction: lock the centres' rows (Postgres; SQLite
serialises writers), delete their summary rows, INSERT ... SELECT ... GROUP BY per metric, write the
marker rows. The same SQL runs on SQLite and Postgres; only the "first of the month" expression
differs. `ensure_fresh` refreshes the centres whose marker is older than FRESH_FOR (15 minutes) or
missing; `refresh_summaries` refreshes on demand (the `manage.py refresh-summaries` command).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, cast, delete, func, insert, literal, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from db.engine import read_session, write_session
from db.models import FollowUp, HealthCentre, InstrumentResponse, OutcomeSummary, Patient, Referral, utcnow
from domain.programmes import MOVED
from domain.statistics import minimum_reliable_difference, reliability_params

FRESH_FOR = timedelta(minutes=15)
MARKER = "_refresh"
MARKER_MONTH = date(1970, 1, 1)
METRICS = ("ucla3_reliable", "followup_completion", "referral_acceptance")
ACCEPTED_OR_LATER = ("accepted", "in-progress", "on-hold", "failed", "completed")
NOT_MADE = ("draft", "entered-in-error")
CHUNK = 500  # centres per IN list


def _month(session: Session, column):
    """First day of the column's month, as a date on both back ends."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("month", column), OutcomeSummary.__table__.c.month.type)
    return func.strftime("%Y-%m-01", column)


def _reliable_threshold() -> float | None:
    from services.dashboards import configured_reliability  # late: dashboards imports settings

    params = reliability_params("ucla3", configured_reliability())
    return None if params is None else minimum_reliable_difference(params.sd1, params.r)


def _refresh_chunk(session: Session, centres: tuple[int, ...], now: datetime, today: date) -> int:
    table = OutcomeSummary.__table__
    # numerator_key / denominator_key (migration 0014): sums of the counted rows' patients' record
    # keys, for the cell-key perturbation of the compare dashboard's counts (domain/cellkey.py)
    columns = [
        "centre_id",
        "month",
        "metric",
        "numerator",
        "denominator",
        "refreshed_at",
        "numerator_key",
        "denominator_key",
    ]
    session.execute(delete(table).where(table.c.centre_id.in_(centres)))

    month = _month(session, Referral.created_on)
    session.execute(
        insert(table).from_select(
            columns,
            select(
                Referral.centre_id,
                month,
                literal("referral_acceptance"),
                func.sum(case((col(Referral.status).in_(ACCEPTED_OR_LATER), 1), else_=0)),
                func.count(),
                literal(now, table.c.refreshed_at.type),
                func.sum(case((col(Referral.status).in_(ACCEPTED_OR_LATER), Patient.record_key), else_=0)),
                func.sum(Patient.record_key),
            )
            .join(Patient, Patient.id == Referral.patient_id)
            .where(col(Referral.centre_id).in_(centres), col(Referral.status).not_in(NOT_MADE))
            .group_by(Referral.centre_id, month),
        )
    )

    month = _month(session, FollowUp.due_on)
    session.execute(
        insert(table).from_select(
            columns,
            select(
                FollowUp.centre_id,
                month,
                literal("followup_completion"),
                func.sum(case((FollowUp.status == "completed", 1), else_=0)),
                func.count(),
                literal(now, table.c.refreshed_at.type),
                func.sum(case((FollowUp.status == "completed", Patient.record_key), else_=0)),
                func.sum(Patient.record_key),
            )
            .join(Patient, Patient.id == FollowUp.patient_id)
            .where(col(FollowUp.centre_id).in_(centres), FollowUp.due_on <= today, FollowUp.status != MOVED)
            .group_by(FollowUp.centre_id, month),
        )
    )

    threshold = _reliable_threshold()
    if threshold is not None:
        ir = InstrumentResponse
        is_followup = case((ir.timepoint_months > 0, 1), else_=0)
        ranked = (
            select(
                ir.patient_id.label("patient_id"),
                ir.centre_id.label("centre_id"),
                ir.score.label("score"),
                ir.administered_on.label("day"),
                is_followup.label("fu"),
                func.row_number()
                .over(partition_by=(ir.patient_id, is_followup), order_by=(ir.administered_on, ir.id))
                .label("rn"),
            )
            .where(
                col(ir.centre_id).in_(centres),
                ir.instrument == "ucla3",
                col(ir.timepoint_months).is_not(None),
                col(ir.score).is_not(None),
            )
            .subquery()
        )
        base, follow = aliased(ranked), aliased(ranked)
        month = _month(session, follow.c.day)
        session.execute(
            insert(table).from_select(
                columns,
                select(
                    follow.c.centre_id,
                    month,
                    literal("ucla3_reliable"),
                    func.sum(case((base.c.score - follow.c.score > threshold, 1), else_=0)),
                    func.count(),
                    literal(now, table.c.refreshed_at.type),
                    func.sum(case((base.c.score - follow.c.score > threshold, Patient.record_key), else_=0)),
                    func.sum(Patient.record_key),
                )
                .select_from(
                    base.join(
                        follow,
                        and_(
                            follow.c.patient_id == base.c.patient_id,
                            follow.c.fu == 1,
                            follow.c.rn == 1,
                            follow.c.day > base.c.day,
                        ),
                    ).join(Patient, Patient.id == base.c.patient_id)
                )
                .where(base.c.fu == 0, base.c.rn == 1)
                .group_by(follow.c.centre_id, month),
            )
        )
    session.execute(
        insert(table),
        [
            {
                "centre_id": c,
                "month": MARKER_MONTH,
                "metric": MARKER,
                "numerator": 0,
                "denominator": 0,
                "refreshed_at": now,
                "numerator_key": 0,
                "denominator_key": 0,
            }
            for c in centres
        ],
    )
    return len(centres)


def refresh_summaries(centre_ids: Iterable[int] | None = None, *, today: date | None = None) -> int:
    """Rebuild the monthly summaries of the given centres (all centres when None) in one
    transaction. Returns the number of centres refreshed."""
    now, today = utcnow(), today or date.today()
    with write_session() as s:
        if centre_ids is None:
            wanted = tuple(s.exec(select(HealthCentre.id).order_by(HealthCentre.id)).scalars().all())
        else:
            wanted = tuple(sorted({int(c) for c in centre_ids}))
        done = 0
        for offset in range(0, len(wanted), CHUNK):
            chunk = wanted[offset : offset + CHUNK]
            # Serialise refreshes of the same centres (Postgres; SQLite writers are serial anyway).
            s.execute(select(HealthCentre.id).where(col(HealthCentre.id).in_(chunk)).with_for_update())
            done += _refresh_chunk(s, chunk, now, today)
    return done


def refreshed_at(centre_ids: Iterable[int]) -> dict[int, datetime]:
    """When each centre's summaries were last rebuilt (centres never refreshed are missing)."""
    wanted = tuple(sorted({int(c) for c in centre_ids}))
    out: dict[int, datetime] = {}
    with read_session() as s:
        for offset in range(0, len(wanted), CHUNK):
            rows = s.execute(
                select(OutcomeSummary.centre_id, OutcomeSummary.refreshed_at).where(
                    col(OutcomeSummary.centre_id).in_(wanted[offset : offset + CHUNK]),
                    OutcomeSummary.metric == MARKER,
                    OutcomeSummary.month == MARKER_MONTH,
                )
            ).all()
            out.update({int(c): at for c, at in rows})
    return out


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def ensure_fresh(centre_ids: Iterable[int], *, max_age: timedelta = FRESH_FOR) -> datetime | None:
    """Refresh the centres whose summaries are missing or older than `max_age`; return the oldest
    refresh time of the centres afterwards (None for no centres): "figures as of"."""
    wanted = tuple(sorted({int(c) for c in centre_ids}))
    if not wanted:
        return None
    now = utcnow()
    known = refreshed_at(wanted)
    stale = [c for c in wanted if c not in known or now - _aware(known[c]) > max_age]
    if stale:
        refresh_summaries(stale)
        known = refreshed_at(wanted)
    return min(_aware(v) for v in known.values()) if known else None


def read_summaries(
    centre_ids: Iterable[int], first_month: date, last_month: date, *, keys: bool = False
) -> dict[tuple[int, str], tuple[int, ...]]:
    """(centre, metric) -> (Σ numerator, Σ denominator) over the months first_month..last_month;
    with `keys`, (Σ numerator, Σ denominator, Σ numerator_key, Σ denominator_key)."""
    wanted = tuple(sorted({int(c) for c in centre_ids}))
    out: dict[tuple[int, str], tuple[int, int]] = {}
    with read_session() as s:
        for offset in range(0, len(wanted), CHUNK):
            rows = s.execute(
                select(
                    OutcomeSummary.centre_id,
                    OutcomeSummary.metric,
                    func.sum(OutcomeSummary.numerator),
                    func.sum(OutcomeSummary.denominator),
                    func.sum(OutcomeSummary.numerator_key),
                    func.sum(OutcomeSummary.denominator_key),
                )
                .where(
                    col(OutcomeSummary.centre_id).in_(wanted[offset : offset + CHUNK]),
                    OutcomeSummary.month >= first_month,
                    OutcomeSummary.month <= last_month,
                    col(OutcomeSummary.metric).in_(METRICS),
                )
                .group_by(OutcomeSummary.centre_id, OutcomeSummary.metric)
            ).all()
            out.update(
                {
                    (int(c), m): (int(n or 0), int(d or 0), *((int(nk or 0), int(dk or 0)) if keys else ()))
                    for c, m, n, d, nk, dk in rows
                }
            )
    return out
