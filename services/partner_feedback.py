"""Partner feedback (issue 5, item 6): what became of the referrals to a partner's own activities,
and how the people who took part changed, as protected aggregates only.

Scope is the partner's organisations (`Principal.organization_ids`), enforced here: any other role,
or a request for an organisation that is not the user's, is denied and audited. One
`dashboard.view` audit row per computation.

Referral table: referrals to the organisations' activities created in the period, by activity and
status group (received = all; accepted, started, completed, declined, other), as a two-way table
activities x status with margins through `protect_table` (primary and secondary suppression). The
status groups are disjoint, so the row total is the number received:

- accepted: status accepted (not started yet);
- started: in-progress or on-hold;
- completed: completed;
- declined: rejected or cancelled (with the outcome reasons in a protected list);
- other: requested (waiting), draft, failed.

Entered-in-error referrals are left out.

Outcomes: people referred in the period to the activities whose referral is started or completed,
with an enrolment at the centre that referred them; per instrument (UCLA-3, SWEMWBS) the paired
change from the enrolment's baseline (time point 0) to its latest follow-up, aggregated in SQL
(n, sum of changes, sum of squares). n goes out perturbed by its cell key; mean change and its 95%
confidence interval (t distribution) only from n >= min_n.

Issue 10: a partner sees the first names of the people referred to their activities, so an outcome
statistic that could be narrowed to a few listed people would give those people's values. Outcome
means are therefore published only for a whole calendar year (OUTCOME_PERIOD_KINDS) and the partner's
whole scope (all their organisations): years do not nest, and one scope has no parts to subtract, so
no combination of shown means isolates fewer than min_n people. Quarters, months and a single
organisation of several show the counts, not the means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from scipy import stats
from sqlalchemy import and_, func
from sqlmodel import col, select

from db.engine import read_session
from db.models import Enrolment, Organization, Patient, Referral, Service
from domain.cellkey import perturb_counts, perturb_table, published_count
from domain.disclosure import (
    TOTAL,
    ProtectedCounts,
    ProtectedTable,
    protect_counts,
    protect_mean,
    protect_table,
)
from domain.statistics import BETTER_DIRECTION
from services.audit import record_now, require_role
from services.dashboards import disclosure_rules, period, release_scope_key, released, scoped_cache
from services.errors import AccessDenied, ValidationError
from services.health_economics import paired_scores
from services.principal import Principal

ACTION = "partner_feedback.view"
STATUS_GROUPS: dict[str, tuple[str, ...]] = {
    "accepted": ("accepted",),
    "started": ("in-progress", "on-hold"),
    "completed": ("completed",),
    "declined": ("rejected", "cancelled"),
    "other": ("requested", "draft", "failed"),
}
COLUMNS = tuple(STATUS_GROUPS)
OUTCOME_INSTRUMENTS = ("ucla3", "swemwbs")
STARTED = ("in-progress", "on-hold", "completed")
OUTCOME_PERIOD_KINDS = ("year",)  # outcome means for partners: whole calendar years only (issue 10)


@dataclass(frozen=True)
class OutcomeSummary:
    instrument: str
    n_text: str
    mean_change: float | None  # follow-up minus baseline; None when too few
    ci_low: float | None
    ci_high: float | None
    better: str  # "lower" or "higher"


@dataclass(frozen=True)
class FeedbackView:
    organizations: tuple[str, ...]
    activity_names: dict[str, str]  # row label (activity id as text) -> activity name
    table: ProtectedTable | None  # None when no referral in the period
    reasons: ProtectedCounts | None  # reasons of declined referrals; None when the declined total is hidden
    outcomes: tuple[OutcomeSummary, ...]


def feedback(
    principal: Principal,
    start: date,
    end: date,
    organization_ids: tuple[int, ...] | None = None,
) -> FeedbackView:
    """The partner's feedback for the period (see the module docstring)."""
    principal = require_role(principal, "partner", action=ACTION)
    chosen = period(start, end)
    wanted = (
        principal.organization_ids
        if organization_ids is None
        else frozenset(int(o) for o in organization_ids)
    )
    if not wanted <= principal.organization_ids:
        record_now(
            principal, ACTION, "denied", detail=f"organizations {sorted(wanted - principal.organization_ids)}"
        )
        raise AccessDenied()
    if len(wanted) > 1 and wanted != principal.organization_ids:  # whole scope or one (issue 10)
        raise ValidationError({"organizations": ("dashboard.error.centre_subset", {})})
    return _feedback(principal, chosen.start, chosen.end, tuple(sorted(wanted)))


def _ci(n: int, total: float, squares: float, confidence: float = 0.95) -> tuple[float, float, float]:
    mean = total / n
    var = max((squares - n * mean * mean) / (n - 1), 0.0) if n > 1 else 0.0
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * math.sqrt(var / n) if n > 1 else math.inf
    return float(mean), float(mean - half), float(mean + half)


@scoped_cache(ttl_seconds=300)
def _feedback(principal: Principal, start: date, end: date, orgs: tuple[int, ...]) -> FeedbackView:
    record_now(principal, "dashboard.view", "ok", detail=f"{ACTION} organizations {list(orgs)}")
    rules = disclosure_rules()
    chosen = period(start, end)
    # A closed period's feedback is its protected release (issue 10), per partner scope.
    cell = f"feedback:{release_scope_key('o', orgs)}:k{rules.k}:n{rules.min_n_for_rates}"
    return released(
        chosen,
        release_scope_key("o", principal.organization_ids),
        cell,
        lambda: _compute_feedback(principal, chosen, orgs, rules),
    )


def _compute_feedback(principal: Principal, chosen, orgs: tuple[int, ...], rules) -> FeedbackView:
    start, end = chosen.start, chosen.end
    in_scope = and_(
        col(Service.organization_id).in_(orgs),
        Referral.created_on >= start,
        Referral.created_on <= end,
        Referral.status != "entered-in-error",
    )
    with read_session() as s:
        names = tuple(sorted(s.exec(select(Organization.name).where(col(Organization.id).in_(orgs))).all()))
        rows = s.exec(
            select(
                Service.id,
                Service.name,
                Referral.status,
                func.count(),
                func.coalesce(func.sum(Patient.record_key), 0),
            )
            .select_from(Referral)
            .join(Patient, Patient.id == Referral.patient_id)
            .join(Service, Service.id == Referral.service_id)
            .where(in_scope)
            .group_by(Service.id, Service.name, Referral.status)
            .order_by(Service.name, Service.id)
        ).all()
        reason_rows = s.exec(
            select(Referral.outcome_reason, func.count(), func.coalesce(func.sum(Patient.record_key), 0))
            .select_from(Referral)
            .join(Service, Service.id == Referral.service_id)
            .join(Patient, Patient.id == Referral.patient_id)
            .where(in_scope, col(Referral.status).in_(STATUS_GROUPS["declined"]))
            .group_by(Referral.outcome_reason)
        ).all()

        def started_enrolments(in_scope):
            return (
                select(Enrolment.id)
                .join(
                    Referral,
                    and_(
                        Referral.patient_id == Enrolment.patient_id, Referral.centre_id == Enrolment.centre_id
                    ),
                )
                .join(Service, Service.id == Referral.service_id)
                .where(in_scope, col(Referral.status).in_(STARTED))
            )

        enrolments = started_enrolments(in_scope)
        # The same organisations over the quarter and year that contain this period (issue 10): a
        # mean is withheld when one of them has 1..min_n-1 more people, since the two means together
        # would give those people's values (a partner may know who they are).
        wider = [
            started_enrolments(
                and_(
                    col(Service.organization_id).in_(orgs),
                    Referral.created_on >= p.start,
                    Referral.created_on <= p.end,
                    Referral.status != "entered-in-error",
                )
            )
            for p in chosen.containing()
        ]
        outcome_rows = []
        for code in OUTCOME_INSTRUMENTS:
            pairs = paired_scores(code, enrolments)
            diff = pairs.c.follow - pairs.c.base
            n, total, squares, key_sum = s.exec(
                select(
                    func.count(),
                    func.sum(diff),
                    func.sum(diff * diff),
                    func.coalesce(func.sum(Patient.record_key), 0),
                )
                .select_from(pairs)
                .join(Enrolment, Enrolment.id == pairs.c.eid)
                .join(Patient, Patient.id == Enrolment.patient_id)
            ).one()
            n = int(n or 0)
            fixed = chosen.kind in OUTCOME_PERIOD_KINDS and frozenset(orgs) == principal.organization_ids
            too_close = not fixed or (
                n >= rules.min_n_for_rates
                and any(
                    0
                    < int(s.exec(select(func.count()).select_from(paired_scores(code, w))).one() or 0) - n
                    < rules.min_n_for_rates
                    for w in wider
                )
            )
            outcome_rows.append(
                (code, 0 if too_close else n, float(total or 0), float(squares or 0), n, int(key_sum or 0))
            )

    activity_names: dict[str, str] = {}
    cells: dict[tuple[str, str], int] = {}
    group_of = {status: group for group, statuses in STATUS_GROUPS.items() for status in statuses}
    keys: dict[tuple[str, str], int] = {}
    for service_id, name, status, n, key_sum in rows:
        label = str(service_id)
        activity_names[label] = name
        for column in COLUMNS:
            cells.setdefault((label, column), 0)
        group = (label, group_of.get(status, "other"))
        cells[group] += int(n)
        keys[group] = keys.get(group, 0) + int(key_sum)
    # Suppression on the true counts; the shown counts perturbed by their cell keys (issue 10).
    table = perturb_table(protect_table(cells, rules=rules), keys) if cells else None
    # The reasons add up to the declined total: show them only when the main table shows that total,
    # else their sum would give back a hidden cell.
    declined_shown = table is not None and (TOTAL, "declined") in table.values
    reasons = (
        perturb_counts(
            protect_counts(
                {reason or "none": int(n) for reason, n, _k in sorted(reason_rows, key=lambda r: r[0] or "")},
                total=True,
                rules=rules,
            ),
            {reason or "none": int(k) for reason, _n, k in reason_rows},
            rules,
        )
        if reason_rows and declined_shown
        else None
    )
    outcomes = []
    for code, n, total, squares, people, key_sum in outcome_rows:
        mean = low = high = None
        if n > 1 and protect_mean(n, total / n, rules) is not None:
            mean, low, high = (round(v, 1) for v in _ci(n, total, squares))  # never full precision
        outcomes.append(
            OutcomeSummary(
                code, published_count(people, key_sum, rules)[0], mean, low, high, BETTER_DIRECTION[code]
            )
        )
    return FeedbackView(names, activity_names, table, reasons, tuple(outcomes))
