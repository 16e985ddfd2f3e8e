"""The centre dashboard (issue 5, item 1): screening, referrals, follow-up, paired change, reliable
change, the monthly SPC trend and the most used activities, for a manager's or connector's centres.

Everything is aggregated in SQL over the centres `dashboard_scope` allows and the period; what
leaves this module has passed `domain.disclosure` with `disclosure_rules()`: counts are text
("<5" for 1..k-1 people), rates and means only from n >= min_n, lists with totals get secondary
suppression, funnel stages and SPC months that would show or give back a small count are not drawn.

Definitions (the popover texts in locales/*/dashboard.json say the same in words):

* screened: distinct patients with a UCLA-3 or ONS loneliness response in the period;
* lonely: at the patient's first UCLA-3 in the period, total >= LOTSA_UCLA3_THRESHOLD; ONS: the
  answer "often/always" at the first ONS loneliness question in the period;
* referrals: created in the period, drafts and entered-in-error left out; accepted, started and
  completed are "ever reached" from the status history (ReferralEvent) and the current status;
* first attendance: the first `in-progress` event of the referral (the partner records that the
  person has started; attendance ticked at follow-up is not used);
* paired change: the enrolment's first timepoint-0 response (baseline) in the period, at the scope's
  centres, against a follow-up of the same enrolment and score (the first at 3, 6 or 12 months, or
  at the latest timepoint; wherever it was answered). The pairs are kept per enrolment and score by
  triggers in `outcome_pair` (db/outcome_pairs.py); n, sum of differences and sum of squared
  differences are one grouped sum over it, and the t interval is computed from those sufficient
  statistics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from scipy import stats
from sqlalchemy import BigInteger, Date, DateTime, Integer, and_, case, cast, func, literal, or_
from sqlmodel import col, select

from db import outcome_pairs
from db.engine import read_session
from db.models import (
    Attribute,
    Enrolment,
    FollowUp,
    HealthCentre,
    InstrumentResponse,
    OutcomePair,
    Patient,
    Programme,
    Referral,
    ReferralEvent,
    Service,
    TaxonomyTerm,
)
from domain.cellkey import published_count
from domain.disclosure import TOTAL, DisclosureRules, protect_counts, protect_mean, protect_rate
from domain.programmes import MOVED
from domain.spc import xmr
from domain.statistics import BETTER_DIRECTION, minimum_reliable_difference
from services.audit import require_role
from services.dashboards import (
    DASHBOARD_ROLES,
    Figure,
    Period,
    configured_reliability,
    dashboard_scope,
    disclosure_rules,
    period,
    release_scope_key,
    released,
    scoped_cache,
)
from services.errors import ValidationError
from services.principal import Principal
from settings import get_settings

ACTION = "dashboard.centre"
SCORES = tuple(outcome_pairs.SCORES)  # ucla3, djg6, swemwbs and the four ONS4 items
FOLLOWUP_CHOICES = (None, 3, 6, 12)  # None: the latest follow-up each enrolment has
SCREENING_INSTRUMENTS = ("ucla3", "ons_loneliness")
ONS_LONELY_ANSWER = "often_always"
EXCLUDED_REFERRAL = ("draft", "entered-in-error")
ACCEPTED_OR_LATER = ("accepted", "in-progress", "on-hold", "completed")
STARTED_OR_LATER = ("in-progress", "completed")
FUNNEL_STAGES = ("screened", "lonely", "referred", "accepted", "started", "completed")
TOP_N = 10
SPC_BETTER = "lower"  # fewer people lonely at screening is the better direction
WITHHELD = "–"


# Results ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStage:
    key: str
    text: str  # "<5", "*" (hidden so a small difference cannot be worked out) or the count
    value: int | None  # None: not drawn


@dataclass(frozen=True)
class PairedRow:
    score: str
    better: str  # "higher" | "lower"
    n_baseline: str
    n_followed: str
    share_lost: float | None
    mean_change: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class ReliableRow:
    score: str
    n: str
    improved: str
    no_change: str
    deteriorated: str
    improved_share: float | None
    no_change_share: float | None
    deteriorated_share: float | None
    minimum_difference: float
    sd1: float
    r: float
    source: str
    verified: bool


@dataclass(frozen=True)
class TrendPoint:
    month: date
    share: float  # only drawn months (n >= min_n and no small count recoverable)
    rules: tuple[str, ...]
    variation: str | None  # "improvement" | "concern" | None


@dataclass(frozen=True)
class Trend:
    points: tuple[TrendPoint, ...]
    months_total: int
    months_hidden: int
    centre: float | None = None
    upper: float | None = None
    lower: float | None = None
    upper_2_3: float | None = None
    lower_2_3: float | None = None
    trial_limits: bool = False

    @property
    def drawable(self) -> bool:
        return self.centre is not None


@dataclass(frozen=True)
class RankRow:
    names: tuple[str, str, str]  # sv, da, en (activity names are the same in each)
    text: str
    value: int | None

    def label(self, language: str) -> str:
        return self.names[{"sv": 0, "da": 1, "en": 2}.get(language, 0)]


@dataclass(frozen=True)
class CentreDashboard:
    centres: tuple[str, ...]
    period: Period
    programme: str | None
    followup_months: int | None
    ucla3_threshold: int
    figures: tuple[Figure, ...]
    funnel: tuple[FunnelStage, ...]
    paired: tuple[PairedRow, ...]
    reliable: tuple[ReliableRow, ...]
    reliability_configured: bool
    reliability_unverified: bool
    trend: Trend
    activities: tuple[RankRow, ...]
    categories: tuple[RankRow, ...]
    rules: DisclosureRules

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)


# Small helpers ------------------------------------------------------------------------------------


def t_interval(n: int, total: float, total_sq: float, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and t confidence interval of paired differences from their sufficient statistics: n, Σd
    and Σd². sd² = (Σd² − (Σd)²/n) / (n − 1); CI = mean ± t(1 − α/2, n − 1) · sd / √n (the same
    interval as domain.statistics.paired_change, from summaries instead of the list)."""
    if n < 2:
        raise ValueError("a confidence interval needs at least 2 pairs")
    mean = total / n
    variance = max(0.0, (total_sq - total * total / n) / (n - 1))
    half = float(stats.t.ppf(1.0 - (1.0 - confidence) / 2.0, n - 1)) * math.sqrt(variance) / math.sqrt(n)
    return mean, mean - half, mean + half


def median_from_counts(histogram: Mapping[int, int]) -> float | None:
    """The median of a distribution given as value -> frequency (the average of the two middle
    values when the count is even)."""
    n = sum(histogram.values())
    if n == 0:
        return None
    wanted = (n - 1) // 2, n // 2
    found: list[float] = []
    seen = 0
    for value in sorted(histogram):
        before, seen = seen, seen + histogram[value]
        for position in wanted:
            if before <= position < seen:
                found.append(value)
    return (found[0] + found[1]) / 2


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (following - date(year, month, 1)).days))


def _sqlite(session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _days_between(session, later, earlier):
    """Whole days from `earlier` to `later` (dates, or a datetime for `later`) in SQL."""
    if _sqlite(session):
        return cast(func.julianday(func.date(later)) - func.julianday(earlier), Integer)
    return cast(later, Date) - earlier


def _month_key(session, day):
    """A value per calendar month of a date column, cheap to group by: 'YYYY-MM' on SQLite (the
    ISO text's first seven characters), the month's first day on Postgres (strftime() and to_char()
    per row cost a third of the monthly trend at region scale). `_month` gives its 'YYYY-MM'."""
    if _sqlite(session):
        return func.substr(day, 1, 7)
    return func.date_trunc("month", cast(day, DateTime))


def _month(session, day):
    """'YYYY-MM' of a date column or of a `_month_key`."""
    if _sqlite(session):
        return func.substr(day, 1, 7)
    return func.to_char(day, "YYYY-MM")


def _day_order(session, day, start: date):
    """An integer that grows with the date, from 0 at `start`: days since `start` on Postgres; on
    SQLite, where dates are ISO text and julianday() is slow per row, YYYYMMDD minus the start's
    (gaps between months, same order). Only for ordering days within a period of at most a year."""
    if _sqlite(session):
        return cast(func.replace(day, "-", ""), Integer) - int(start.strftime("%Y%m%d"))
    return day - start


def _pct(rate: float | None) -> str:
    return WITHHELD if rate is None else f"{round(100 * rate)} %"


def _shown(n: int, key_sum: int, rules: DisclosureRules) -> str:
    """A count of people as published: "<k" for 1..k-1, else perturbed by its cell key."""
    return published_count(n, key_sum, rules)[0]


def rounded_rate(rate: float | None) -> float | None:
    """A proportion as published: whole percent, never full precision (issue 10)."""
    return None if rate is None else round(rate, 2)


def rounded_mean(value: float | None) -> float | None:
    """A mean, median or limit as published: one decimal."""
    return None if value is None else round(value, 1)


def _rate_figure(
    key: str, numerator: int, denominator: int, rules: DisclosureRules, keys: tuple[int, int] = (0, 0)
) -> Figure:
    protected = protect_rate(numerator, denominator, rules, protect_complement=True)
    num_text, den_text = _shown(numerator, keys[0], rules), _shown(denominator, keys[1], rules)
    if protected is None:
        return Figure(key, WITHHELD, None, f"outcomes.def.{key}", num_text, den_text)
    rate = rounded_rate(protected.rate)
    return Figure(
        key,
        _pct(rate),
        rate,
        f"outcomes.def.{key}",
        num_text if rate is not None else WITHHELD,
        den_text,
    )


def _count_figure(key: str, n: int, rules: DisclosureRules, key_sum: int = 0) -> Figure:
    text, value = published_count(n, key_sum, rules)
    return Figure(key, text, None if value is None else float(value), f"outcomes.def.{key}")


def _median_figure(key: str, histogram: Mapping[int, int], rules: DisclosureRules) -> Figure:
    n = sum(histogram.values())
    median = median_from_counts(histogram)
    shown = None if median is None else rounded_mean(protect_mean(n, float(median), rules))
    text = WITHHELD if shown is None else f"{shown:g}"
    return Figure(key, text, shown, f"outcomes.def.{key}")


def _withheld_rate_figure(key: str, denominator: int, rules: DisclosureRules, key_sum: int = 0) -> Figure:
    return Figure(key, WITHHELD, None, f"outcomes.def.{key}", WITHHELD, _shown(denominator, key_sum, rules))


def _stage_texts(keys, counts: Mapping[str, int], rules: DisclosureRules) -> dict[str, str | None]:
    """A chain of nested counts (each stage a subset of the one before): the text of each stage as
    it may be shown, None when it is shown as its number. A count of 1..k-1 is "<k"; a stage whose
    difference from the last shown stage is 1..k-1 is hidden ("*") too, so that no small group can
    be worked out by subtracting one stage from another."""
    out, last = {}, None
    for key in keys:
        n = counts[key]
        if 0 < n < rules.k:
            out[key] = f"<{rules.k}"
        elif last is not None and 0 < abs(last - n) < rules.k:
            out[key] = rules.secondary_symbol
        else:
            out[key] = None
            last = n
    return out


def _shown_stages(keys, counts: Mapping[str, int], rules: DisclosureRules) -> dict[str, bool]:
    return {key: text is None for key, text in _stage_texts(keys, counts, rules).items()}


def _protected_funnel(
    counts: Mapping[str, int], rules: DisclosureRules, keys: Mapping[str, int] | None = None
) -> tuple[FunnelStage, ...]:
    """Each funnel stage as it may be drawn (see `_stage_texts`); shown stages are perturbed by
    their cell keys."""
    texts = _stage_texts(FUNNEL_STAGES, counts, rules)
    out = []
    for key in FUNNEL_STAGES:
        if texts[key] is None:
            text, value = published_count(counts[key], (keys or {}).get(key, 0), rules)
            out.append(FunnelStage(key, text, value))
        else:
            out.append(FunnelStage(key, texts[key], None))
    return tuple(out)


def _ranked(rows: list[tuple[tuple[str, str, str], int, int]], rules: DisclosureRules) -> tuple[RankRow, ...]:
    """The top activities or categories: the order and the suppression use the true counts, the
    shown counts are perturbed by their cell keys."""
    top = sorted(rows, key=lambda r: (-r[1], r[0][0]))[:TOP_N]
    protected = protect_counts({str(i): n for i, (_names, n, _k) in enumerate(top)}, total=False, rules=rules)
    out = []
    for i, (names, n, key_sum) in enumerate(top):
        if str(i) in protected.values:
            text, value = published_count(n, key_sum, rules)
            out.append(RankRow(names, text, value))
        else:
            out.append(RankRow(names, protected.text[str(i)], None))
    return tuple(out)


# Choices for the filters ---------------------------------------------------------------------------


def centre_choices(principal: Principal) -> list[tuple[int, str]]:
    """The centres the user may choose from (their own), by name."""
    principal = require_role(principal, *DASHBOARD_ROLES, action=ACTION)
    with read_session() as s:
        rows = s.exec(
            select(HealthCentre.id, HealthCentre.name).where(
                col(HealthCentre.id).in_(tuple(principal.centre_ids))
            )
        ).all()
    return sorted(((int(i), n) for i, n in rows), key=lambda r: r[1])


def programme_choices(principal: Principal) -> list[tuple[str, tuple[str, str, str]]]:
    """Programme codes with their names in sv, da, en."""
    require_role(principal, *DASHBOARD_ROLES, action=ACTION)
    with read_session() as s:
        rows = s.exec(
            select(Programme.code, Programme.name_sv, Programme.name_da, Programme.name_en).order_by(
                Programme.code
            )
        ).all()
    return [(code, (sv, da, en)) for code, sv, da, en in rows]


# The dashboard ------------------------------------------------------------------------------------


# After a write, a region's view (seconds to compute) is shown from its last computation of at most
# 15 minutes ago, labelled with its time, while it is recomputed (services/dashboards.scoped_cache).
@scoped_cache(ttl_seconds=300, stale_seconds=900)
def centre_dashboard(
    principal: Principal,
    centre_ids: tuple[int, ...] | None,
    start: date,
    end: date,
    programme: str | None = None,
    followup_months: int | None = None,
) -> CentreDashboard:
    """The centre dashboard for the user's centres (all when `centre_ids` is None), the period and
    optionally one programme; `followup_months` picks the follow-up for paired change (None: the
    latest each enrolment has; else 3, 6 or 12)."""
    centres = dashboard_scope(principal, centre_ids, action=ACTION)
    chosen = period(start, end)
    if followup_months not in FOLLOWUP_CHOICES:
        raise ValidationError({"followup": ("error.invalid_choice", {})})
    rules = disclosure_rules()
    settings = get_settings()
    threshold = settings.ucla3_threshold
    today = date.today()
    # A closed period's dashboard is its protected release (issue 10): written the first time, read by
    # every page, download and report thereafter. The nested-group checks depend on the user's whole
    # scope, so the release is keyed by it and the cell names the centres shown.
    reliability = sorted((k, v.sd1, v.r) for k, v in configured_reliability().items())
    cell = release_cell(
        "outcomes",
        centres,
        programme,
        followup_months,
        rules.k,
        rules.min_n_for_rates,
        threshold,
        reliability,
    )
    return released(
        chosen,
        release_scope_key("c", principal.centre_ids),
        cell,
        lambda: _centre_dashboard(
            principal, centres, chosen, programme, followup_months, rules, threshold, today
        ),
    )


def release_cell(*parts: object) -> str:
    """A release cell name from its parts, hashed when it would be too long for the column."""
    import hashlib

    text = ":".join(str(p) for p in parts)
    return text if len(text) <= 200 else parts[0] + ":h" + hashlib.sha256(text.encode()).hexdigest()[:40]


def _centre_dashboard(
    principal: Principal,
    centres: tuple[int, ...],
    chosen: Period,
    programme: str | None,
    followup_months: int | None,
    rules: DisclosureRules,
    threshold: int,
    today: date,
) -> CentreDashboard:
    with read_session() as s:
        programme_id = None
        if programme is not None:
            programme_id = s.exec(select(Programme.id).where(Programme.code == programme)).first()
            if programme_id is None:
                raise ValidationError({"programme": ("error.invalid_choice", {})})
        names = tuple(
            sorted(s.exec(select(HealthCentre.name).where(col(HealthCentre.id).in_(centres))).all())
        )
        query = _Queries(s, centres, chosen, programme_id, rules, threshold, today)
        screening, screening_keys = query.screening()
        referral, referral_keys = query.referrals()
        people, people_keys = query.referred_people()
        funnel = _protected_funnel(
            {"screened": screening["screened"], "lonely": screening["lonely_any"], **people},
            rules,
            {"screened": screening_keys["screened"], "lonely": screening_keys["lonely_any"], **people_keys},
        )
        # The referral rates chain like the funnel (accepted ⊇ started ⊇ completed), and with one
        # referral per person they are nearly the funnel's own numbers: a rate is withheld when its
        # stage is hidden in the referral chain or in the people funnel, so no hidden stage comes
        # back as rate x referrals made.
        chain = _shown_stages(("made", "accepted", "started", "completed"), referral, rules)
        hidden_people = {stage.key for stage in funnel if stage.value is None}
        referral_rates = tuple(
            _rate_figure(
                key, referral[key], referral["made"], rules, (referral_keys[key], referral_keys["made"])
            )
            if chain[key] and key not in hidden_people
            else _withheld_rate_figure(key, referral["made"], rules, referral_keys["made"])
            for key in ("accepted", "started", "completed")
        )
        completed, due, completed_key, due_key = query.followups()
        sk = screening_keys
        figures = (
            _count_figure("screened", screening["screened"], rules, sk["screened"]),
            _rate_figure(
                "lonely_ucla3",
                screening["lonely_ucla3"],
                screening["with_ucla3"],
                rules,
                (sk["lonely_ucla3"], sk["with_ucla3"]),
            ),
            _rate_figure(
                "lonely_ons",
                screening["lonely_ons"],
                screening["with_ons"],
                rules,
                (sk["lonely_ons"], sk["with_ons"]),
            ),
            _count_figure("referrals", referral["made"], rules, referral_keys["made"]),
            *referral_rates,
            _median_figure("days_to_referral", query.days_to_referral(), rules),
            _median_figure("days_to_attendance", query.days_to_attendance(), rules),
            _rate_figure("followup_completion", completed, due, rules, (completed_key, due_key)),
        )
        reliability = configured_reliability()
        paired, reliable = [], []
        wider = [
            _Queries(s, c, p, prog, rules, threshold, today)
            for c, p, prog in _containing_groups(
                centres, tuple(sorted(principal.centre_ids)), chosen, programme_id
            )
        ]
        by_score = query.paired(followup_months, reliability)
        wider_followed: list[dict[str, dict[str, float]]] = []  # computed only when a mean is shown
        for score in SCORES:
            sums = by_score[score]
            if sums["n_followed"] >= rules.min_n_for_rates:
                if not wider_followed and wider:
                    wider_followed = [other.paired(followup_months, {}) for other in wider]
                sums["nested_too_close"] = any(
                    0 < other[score]["n_followed"] - sums["n_followed"] < rules.min_n_for_rates
                    for other in wider_followed
                )
            paired.append(_paired_row(score, sums, rules))
            if score in reliability:
                reliable.append(_reliable_row(score, sums, reliability[score], rules))
        trend = _trend(query.monthly_lonely(), chosen, rules)
        activities, categories = query.activities()
    return CentreDashboard(
        centres=names,
        period=chosen,
        programme=programme,
        followup_months=followup_months,
        ucla3_threshold=threshold,
        figures=figures,
        funnel=funnel,
        paired=tuple(paired),
        reliable=tuple(reliable),
        reliability_configured=bool(reliability),
        reliability_unverified=any(not p.verified for p in reliability.values()),
        trend=trend,
        activities=_ranked(activities, rules),
        categories=_ranked(categories, rules),
        rules=rules,
    )


def _containing_groups(
    centres: tuple[int, ...], scope: tuple[int, ...], chosen: Period, programme_id: int | None
) -> list[tuple[tuple[int, ...], Period, int | None]]:
    """The groups that contain this view's group and that the same user can also look at: the whole
    scope (when one centre of several is shown), all programmes (when one is chosen), the quarter
    and year (when a month or quarter is chosen), and their combinations. A mean is withheld when
    one of them has between 1 and min_n - 1 more people (issue 10: two means of nested groups whose
    sizes differ by one give that person's value)."""
    centre_options = [centres] + ([scope] if len(scope) > 1 and centres != scope else [])
    period_options = [chosen, *chosen.containing()]
    programme_options = [programme_id] + ([None] if programme_id is not None else [])
    return [
        (c, p, prog)
        for c in centre_options
        for p in period_options
        for prog in programme_options
        if (c, p, prog) != (centres, chosen, programme_id)
    ]


def _paired_row(score: str, sums: dict, rules: DisclosureRules) -> PairedRow:
    n_base, n_fol = sums["n_baseline"], sums["n_followed"]
    split = protect_counts({"followed": n_fol, "lost": n_base - n_fol}, total=True, rules=rules)
    lost = protect_rate(n_base - n_fol, n_base, rules, protect_complement=True)
    mean = low = high = None
    if n_fol >= 2 and protect_mean(n_fol, 0.0, rules) is not None and not sums.get("nested_too_close"):
        mean, low, high = (rounded_mean(v) for v in t_interval(n_fol, sums["sum_d"], sums["sum_d2"]))
    return PairedRow(
        score=score,
        better=BETTER_DIRECTION[score],
        n_baseline=_perturbed_text(split, TOTAL, n_base, sums.get("key_baseline", 0), rules),
        n_followed=_perturbed_text(split, "followed", n_fol, sums.get("key_followed", 0), rules),
        share_lost=None if lost is None else rounded_rate(lost.rate),
        mean_change=mean,
        ci_low=low,
        ci_high=high,
    )


def _perturbed_text(protected, label, n: int, key_sum: int, rules: DisclosureRules) -> str:
    """The text of one entry of a protected list: as suppressed, or the perturbed count when shown."""
    if label in protected.values:
        return _shown(n, key_sum, rules)
    return protected.text[label]


def _reliable_row(score: str, sums: dict, params, rules: DisclosureRules) -> ReliableRow:
    counts = {
        "improved": sums["improved"],
        "no_change": sums["no_change"],
        "deteriorated": sums["deteriorated"],
    }
    protected = protect_counts(counts, total=True, rules=rules)
    n = sum(counts.values())

    def share(key: str) -> float | None:
        shown = protected.values.get(key)
        if shown is None or TOTAL not in protected.values or n < rules.min_n_for_rates:
            return None
        return rounded_rate(shown / n)

    def text(label, key_name: str) -> str:
        true_n = n if label is TOTAL else counts[label]
        return _perturbed_text(protected, label, true_n, sums.get(key_name, 0), rules)

    return ReliableRow(
        score=score,
        n=text(TOTAL, "key_followed"),
        improved=text("improved", "key_improved"),
        no_change=text("no_change", "key_no_change"),
        deteriorated=text("deteriorated", "key_deteriorated"),
        improved_share=share("improved"),
        no_change_share=share("no_change"),
        deteriorated_share=share("deteriorated"),
        minimum_difference=minimum_reliable_difference(params.sd1, params.r),
        sd1=params.sd1,
        r=params.r,
        source=params.source,
        verified=params.verified,
    )


def _trend(monthly: Mapping[str, tuple[int, int]], chosen: Period, rules: DisclosureRules) -> Trend:
    months = chosen.months()
    drawn: list[tuple[date, float]] = []
    for month in months:
        lonely, n = monthly.get(month.strftime("%Y-%m"), (0, 0))
        protected = protect_rate(lonely, n, rules, protect_complement=True) if n else None
        if protected is not None and protected.rate is not None:
            drawn.append((month, rounded_rate(protected.rate)))
    hidden = len(months) - len(drawn)
    if len(drawn) < 2:
        return Trend(tuple(TrendPoint(m, v, (), None) for m, v in drawn), len(months), hidden)
    chart = xmr([v for _m, v in drawn], better=SPC_BETTER)
    points = tuple(
        TrendPoint(m, v, tuple(sorted(p.rules)), p.variation)
        for (m, v), p in zip(drawn, chart.points, strict=True)
    )
    return Trend(
        points,
        len(months),
        hidden,
        chart.centre,
        chart.upper,
        chart.lower,
        chart.upper_2_3,
        chart.lower_2_3,
        chart.trial_limits,
    )


class _Queries:
    """The SQL of one dashboard computation: every aggregate in the database, scoped to `centres`."""

    def __init__(self, session, centres, chosen: Period, programme_id, rules, threshold: int, today: date):
        self.s, self.centres, self.p = session, centres, chosen
        self.programme_id, self.rules, self.threshold, self.today = programme_id, rules, threshold, today
        self._referral_result = None  # computed once per view (`_referral_counts`)

    # Filters shared by several queries.

    def _in_programme(self, patient_id_column):
        """True when no programme is chosen, else: the patient has an enrolment in it here. The
        programme's patients are one list, read once (covered by ix_enrolment_programme); `+ 0` keeps
        SQLite from starting from that list (most patients when the programme is the main one) and
        reading each patient's responses or referrals by patient: every row is checked against it."""
        if self.programme_id is None:
            return literal(True)
        return (patient_id_column + 0).in_(
            select(Enrolment.patient_id).where(
                Enrolment.programme_id == self.programme_id,
                col(Enrolment.centre_id).in_(self.centres),
            )
        )

    def _referrals_in_period(self):
        R = Referral
        return and_(
            col(R.centre_id).in_(self.centres),
            R.created_on >= self.p.start,
            R.created_on <= self.p.end,
            col(R.status).not_in(EXCLUDED_REFERRAL),
            self._in_programme(R.patient_id),
        )

    # Screening.

    def _first_key(self, flag):
        """A response's place in the period as one integer with `flag` (0 or 1) in its lowest bit:
        min() of it over a group is the group's first response (by day, then id) and `% 2` what that
        response said. Grouping with it costs half of a window's row_number() on SQLite, and a
        region's year holds half a million screening responses. (Days < 2^11, ids < 2^40.)"""
        R = InstrumentResponse
        day = _day_order(self.s, R.administered_on, self.p.start)
        return (day * literal(2**40, BigInteger) + R.id) * 2 + flag

    def _responses_in_period(self, *instruments: str):
        """The responses on `instruments` in the period, at the centres and in the programme."""
        R = InstrumentResponse
        return (
            col(R.instrument).in_(instruments),
            col(R.centre_id).in_(self.centres),
            R.administered_on >= self.p.start,
            R.administered_on <= self.p.end,
            self._in_programme(R.patient_id),
        )

    def screening(self) -> tuple[dict[str, int], dict[str, int]]:
        """The counts and, for each, the sum of its people's record keys (domain.cellkey). One pass:
        per patient, the first UCLA-3 and the first ONS answer of the period (see `_first_key`)."""
        R, P = InstrumentResponse, Patient
        ucla3_lonely = case((R.total >= self.threshold, 1), else_=0)
        ons_lonely = case((R.band == ONS_LONELY_ANSWER, 1), else_=0)
        first = (
            select(
                R.patient_id.label("pid"),
                func.min(case((R.instrument == "ucla3", self._first_key(ucla3_lonely)))).label("u"),
                func.min(case((R.instrument == "ons_loneliness", self._first_key(ons_lonely)))).label("o"),
            )
            .where(*self._responses_in_period(*SCREENING_INSTRUMENTS))
            .group_by(R.patient_id)
            .subquery()
        )
        flags = {
            "screened": literal(1),
            "with_ucla3": case((first.c.u.is_not(None), 1), else_=0),
            "lonely_ucla3": func.coalesce(first.c.u % 2, 0),
            "with_ons": case((first.c.o.is_not(None), 1), else_=0),
            "lonely_ons": func.coalesce(first.c.o % 2, 0),
        }
        flags["lonely_any"] = case((or_(flags["lonely_ucla3"] == 1, flags["lonely_ons"] == 1), 1), else_=0)
        keyed = [case((flag == 1, P.record_key), else_=0) for flag in flags.values()]
        row = self.s.exec(
            select(*(func.coalesce(func.sum(v), 0) for v in [*flags.values(), *keyed]))
            .select_from(first)
            .join(P, P.id == first.c.pid)
        ).one()
        n = len(flags)
        return (
            {name: int(v) for name, v in zip(flags, row[:n], strict=True)},
            {name: int(v) for name, v in zip(flags, row[n:], strict=True)},
        )

    def monthly_lonely(self) -> dict[str, tuple[int, int]]:
        """Per 'YYYY-MM': (lonely, screened) at each patient's first UCLA-3 of that month."""
        R = InstrumentResponse
        month = _month_key(self.s, R.administered_on)
        lonely = case((R.total >= self.threshold, 1), else_=0)
        firsts = (
            select(month.label("month"), func.min(self._first_key(lonely)).label("first"))
            .where(*self._responses_in_period("ucla3"))
            .group_by(month, R.patient_id)
            .subquery()
        )
        rows = self.s.exec(
            select(_month(self.s, firsts.c.month), func.sum(firsts.c.first % 2), func.count()).group_by(
                firsts.c.month
            )
        ).all()
        return {str(m): (int(lonely or 0), int(n)) for m, lonely, n in rows}

    # Referrals.

    def _referral_flags(self):
        """Per referral in the period: reached accepted / started / completed (history or status).
        The status answers for most referrals; the others look their own events up by index
        (ix_referral_event_status), so no event outside the period's referrals is read."""
        R, E = Referral, ReferralEvent

        def reached(statuses):
            in_history = select(literal(1)).where(E.referral_id == R.id, col(E.status).in_(statuses)).exists()
            return case((or_(col(R.status).in_(statuses), in_history), 1), else_=0)

        return (
            select(
                R.patient_id.label("patient_id"),
                Patient.record_key.label("rk"),
                reached(ACCEPTED_OR_LATER).label("acc"),
                reached(STARTED_OR_LATER).label("sta"),
                reached(("completed",)).label("com"),
            )
            .select_from(R)
            .join(Patient, Patient.id == R.patient_id)
            .where(self._referrals_in_period())
            .subquery()
        )

    def _referral_counts(self) -> list[int]:
        """Referrals made / accepted / started / completed, the same for people (reached by any of
        their referrals), and each one's record-key sum: one statement, run once per view."""
        if self._referral_result is not None:
            return self._referral_result
        f = self._referral_flags()
        per_person = (
            select(
                func.max(f.c.rk).label("rk"),
                func.count().label("made"),
                func.sum(f.c.acc).label("acc"),
                func.sum(f.c.sta).label("sta"),
                func.sum(f.c.com).label("com"),
            )
            .group_by(f.c.patient_id)
            .subquery()
        )
        c = per_person.c
        referrals = [c.made, c.acc, c.sta, c.com]  # each referral keyed by its patient's key
        people = [literal(1)] + [case((n > 0, 1), else_=0) for n in referrals[1:]]
        sums = [*referrals, *(n * c.rk for n in referrals), *people, *(n * c.rk for n in people)]
        row = self.s.exec(select(*(func.coalesce(func.sum(s), 0) for s in sums))).one()
        self._referral_result = [int(v) for v in row]
        return self._referral_result

    def referrals(self) -> tuple[dict[str, int], dict[str, int]]:
        """Referral counts and their record-key sums (each referral keyed by its patient's key)."""
        row = self._referral_counts()
        names = ("made", "accepted", "started", "completed")
        return dict(zip(names, row[0:4], strict=True)), dict(zip(names, row[4:8], strict=True))

    def referred_people(self) -> tuple[dict[str, int], dict[str, int]]:
        row = self._referral_counts()
        names = ("referred", "accepted", "started", "completed")
        return dict(zip(names, row[8:12], strict=True)), dict(zip(names, row[12:16], strict=True))

    def days_to_referral(self) -> dict[int, int]:
        """Histogram of days from the patient's first screening (any time up to the referral) to
        each referral made in the period. Only the referred patients' screening responses are
        grouped (by ix_response_patient), not every screening response of the centres."""
        R, Q = Referral, InstrumentResponse
        first = (
            select(Q.patient_id.label("pid"), func.min(Q.administered_on).label("first_on"))
            .where(
                col(Q.patient_id).in_(select(R.patient_id).where(self._referrals_in_period())),
                col(Q.instrument).in_(SCREENING_INSTRUMENTS),
                col(Q.centre_id).in_(self.centres),
            )
            .group_by(Q.patient_id)
            .subquery()
        )
        days = _days_between(self.s, R.created_on, first.c.first_on).label("days")
        per_referral = (
            select(days)
            .select_from(R)
            .join(first, first.c.pid == R.patient_id)
            .where(self._referrals_in_period(), first.c.first_on <= R.created_on)
            .subquery()
        )
        rows = self.s.exec(select(per_referral.c.days, func.count()).group_by(per_referral.c.days)).all()
        return {int(d): int(n) for d, n in rows}

    def days_to_attendance(self) -> dict[int, int]:
        """Histogram of days from each referral made in the period to its first `in-progress`
        event: one index lookup per referral. Grouped first and filtered after (HAVING), so that
        SQLite looks the event up once per referral, not once for the filter and once for the group."""
        R, E = Referral, ReferralEvent
        first_in_progress = (
            select(func.min(E.at)).where(E.referral_id == R.id, E.status == "in-progress").scalar_subquery()
        )
        per_referral = (
            select(_days_between(self.s, first_in_progress, R.created_on).label("days"))
            .where(self._referrals_in_period())
            .subquery()
        )
        days = per_referral.c.days
        rows = self.s.exec(select(days, func.count()).group_by(days).having(days.is_not(None))).all()
        return {int(d): int(n) for d, n in rows}

    # Follow-up.

    def followups(self) -> tuple[int, int, int, int]:
        """(completed, due, and their record-key sums)."""
        F, P = FollowUp, Patient
        due_until = min(self.p.end, self.today)
        where = [
            col(F.centre_id).in_(self.centres),
            F.due_on >= self.p.start,
            F.due_on <= due_until,
            F.status != MOVED,  # left for another programme: due there instead
        ]
        done = F.status == "completed"
        query = select(
            func.coalesce(func.sum(case((done, 1), else_=0)), 0),
            func.count(),
            func.coalesce(func.sum(case((done, P.record_key), else_=0)), 0),
            func.coalesce(func.sum(P.record_key), 0),
        ).join(P, P.id == F.patient_id)
        if self.programme_id is not None:
            query = query.join(Enrolment, Enrolment.id == F.enrolment_id)
            where.append(Enrolment.programme_id == self.programme_id)
        completed, due, completed_key, due_key = self.s.exec(query.where(*where)).one()
        return int(completed), int(due), int(completed_key), int(due_key)

    # Paired change and reliable change.

    def paired(self, followup_months: int | None, reliability: Mapping) -> dict[str, dict[str, float]]:
        """Per score: n at baseline, n followed up, Σd, Σd² (d = follow-up − baseline), their
        record-key sums and, for scores with reliability parameters, the reliable-change categories;
        one grouped statement over `outcome_pair` (db/outcome_pairs.py), the pairs triggers keep."""
        pair = OutcomePair
        follow = {None: pair.latest, 3: pair.at3, 6: pair.at6, 12: pair.at12}[followup_months]
        where = [
            col(pair.score).in_(SCORES),
            col(pair.centre_id).in_(self.centres),
            pair.baseline_on >= self.p.start,
            pair.baseline_on <= self.p.end,
        ]
        if followup_months is not None:  # only baselines whose follow-up is due by today
            where.append(pair.baseline_on <= months_before(self.today, followup_months))
        if self.programme_id is not None:
            where.append(pair.programme_id == self.programme_id)
        d = follow - pair.baseline
        followed = follow.is_not(None)
        # the minimum reliable difference of each score that has one; the others never count
        margins = {
            score: minimum_reliable_difference(params.sd1, params.r)
            for score, params in reliability.items()
            if params is not None and score in SCORES
        }
        good = bad = literal(False)
        if margins:
            up = or_(*(and_(pair.score == k, d > m) for k, m in margins.items()))
            down = or_(*(and_(pair.score == k, d < -m) for k, m in margins.items()))
            higher = col(pair.score).in_([k for k in margins if BETTER_DIRECTION[k] == "higher"])
            good = or_(and_(higher, up), and_(~higher, down))
            bad = or_(and_(higher, down), and_(~higher, up))
        rows = self.s.exec(
            select(
                pair.score,
                func.count(),
                func.count(follow),
                func.coalesce(func.sum(d), 0.0),
                func.coalesce(func.sum(d * d), 0.0),
                func.coalesce(func.sum(pair.record_key), 0),
                func.coalesce(func.sum(case((followed, pair.record_key), else_=0)), 0),
                func.coalesce(func.sum(case((good, 1), else_=0)), 0),
                func.coalesce(func.sum(case((bad, 1), else_=0)), 0),
                func.coalesce(func.sum(case((good, pair.record_key), else_=0)), 0),
                func.coalesce(func.sum(case((bad, pair.record_key), else_=0)), 0),
            )
            .where(*where)
            .group_by(pair.score)
        ).all()
        found = {row[0]: row[1:] for row in rows}
        out: dict[str, dict[str, float]] = {}
        for score in SCORES:
            n_base, n_fol, sum_d, sum_d2, key_base, key_fol, imp, det, key_imp, key_det = found.get(
                score, (0, 0, 0.0, 0.0, 0, 0, 0, 0, 0, 0)
            )
            sums = {
                "n_baseline": int(n_base),
                "n_followed": int(n_fol),
                "sum_d": float(sum_d),
                "sum_d2": float(sum_d2),
                "key_baseline": int(key_base),
                "key_followed": int(key_fol),
            }
            if score in margins:
                sums["improved"], sums["deteriorated"] = int(imp), int(det)
                sums["no_change"] = sums["n_followed"] - sums["improved"] - sums["deteriorated"]
                sums["key_improved"], sums["key_deteriorated"] = int(key_imp), int(key_det)
                sums["key_no_change"] = sums["key_followed"] - sums["key_improved"] - sums["key_deteriorated"]
            out[score] = sums
        return out

    # Activities.

    def activities(self) -> tuple[list, list]:
        """Referrals and their record-key sums per activity and per category: the period's referrals
        are counted per activity once, and the categories add up those few rows."""
        R, S, P = Referral, Service, Patient
        per_service = (
            select(
                R.service_id.label("sid"),
                func.count().label("n"),
                func.coalesce(func.sum(P.record_key), 0).label("k"),
            )
            .join(P, P.id == R.patient_id)
            .where(self._referrals_in_period())
            .group_by(R.service_id)
            .subquery()
        )
        by_service = self.s.exec(
            select(S.name, per_service.c.n, per_service.c.k).join(S, S.id == per_service.c.sid)
        ).all()
        T, A = TaxonomyTerm, Attribute
        by_category = self.s.exec(
            select(T.name_sv, T.name_da, T.name_en, func.sum(per_service.c.n), func.sum(per_service.c.k))
            .select_from(per_service)
            .join(A, A.service_id == per_service.c.sid)
            .join(T, and_(T.id == A.taxonomy_term_id, T.taxonomy == "category"))
            .group_by(T.id, T.name_sv, T.name_da, T.name_en)
        ).all()
        return (
            [((name, name, name), int(n), int(k)) for name, n, k in by_service],
            [((sv, da, en), int(n), int(k)) for sv, da, en, n, k in by_category],
        )
