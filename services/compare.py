"""Compare centres (issue 5, item 2): funnel plots for three proportions per centre, no ranking.

Reads the monthly summaries (services/summaries.py), refreshed first when older than 15 minutes,
so a region of 200 centres costs a few hundred rows. The period is widened to whole calendar months
(the summaries are monthly); the page says which months.

Disclosure: a centre is drawn only when its denominator reaches min_n and
`protect_rate(..., protect_complement=True)` gives a rate (neither the numerator nor the complement
is a count of 1..k-1); the others are counted (as a protected count) and left out, also from the
pooled target and the dispersion estimate, so nothing about them can be worked back. Points carry
the centre name, the denominator (≥ min_n, the funnel's x axis) and the shown rate.

Every count is published perturbed by its cell key (domain/cellkey.py; the summaries carry the sums
of the record keys), and the rates, the funnel target and its limits are computed from the published
counts, so a year minus its quarters, or a centre against the whole scope, gives noise, not the true
small count (issue 10). A closed period's view is its protected release (services.dashboards.released).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import col, select

from db.engine import read_session
from db.models import HealthCentre
from domain.cellkey import published_count, published_rate
from domain.disclosure import count_cell, protect_rate
from domain.funnel import funnel
from services.dashboards import (
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
from services.summaries import ensure_fresh, read_summaries

ACTION = "dashboard.compare"
MIN_CENTRES = 3
METRICS = ("ucla3_reliable", "followup_completion", "referral_acceptance")
CURVE_POINTS = 80


@dataclass(frozen=True)
class FunnelPoint:
    centre_id: int
    name: str
    denominator: int
    rate: float
    band: str  # within | above_95 | above_998 | below_95 | below_998


@dataclass(frozen=True)
class FunnelPanel:
    metric: str
    available: bool  # False: reliability not configured (ucla3_reliable only)
    points: tuple[FunnelPoint, ...]
    left_out_text: str  # protected count of centres not drawn
    target: float | None
    adjusted: bool
    phi: float | None
    curve_n: tuple[float, ...] = ()
    lower95: tuple[float, ...] = ()
    upper95: tuple[float, ...] = ()
    lower998: tuple[float, ...] = ()
    upper998: tuple[float, ...] = ()


@dataclass(frozen=True)
class CentreFigures:
    centre_id: int
    name: str
    figures: tuple[Figure, ...]  # one per metric, in METRICS order
    bands: tuple[str | None, ...]


@dataclass(frozen=True)
class CompareView:
    period: Period  # whole months actually used
    centre_count: int
    enough_centres: bool
    as_of: datetime | None
    panels: tuple[FunnelPanel, ...]
    centres: tuple[CentreFigures, ...]  # sorted by name, never by rate
    reliability_source: str | None


def _month_span(chosen: Period) -> Period:
    first = chosen.start.replace(day=1)
    last = chosen.end.replace(day=1)
    nxt = date(last.year + (last.month == 12), last.month % 12 + 1, 1)
    return Period(first, date.fromordinal(nxt.toordinal() - 1))


def _panel(metric: str, rows: list[tuple[int, str, int, int, int, int]], rules) -> tuple[FunnelPanel, dict]:
    """rows: (centre_id, name, numerator, denominator, numerator key, denominator key). Returns the
    panel and centre -> band. Whether a centre is drawn is decided on its true counts; what is drawn
    (and the funnel) comes from its published counts."""
    shown: list[tuple[int, str, int, int, float]] = []
    left_out = 0
    for cid, name, num, den, num_key, den_key in rows:
        protected = protect_rate(num, den, rules, protect_complement=True) if den else None
        if protected is None or protected.rate is None:
            left_out += 1
            continue
        _nt, _dt, rate = published_rate(num, num_key, den, den_key, rules)
        pub_num = published_count(num, num_key, rules)[1]
        pub_den = published_count(den, den_key, rules)[1]
        if rate is None or pub_num is None or not pub_den:
            left_out += 1
            continue
        shown.append((cid, name, min(pub_num, pub_den), pub_den, round(rate, 2)))  # whole percent
    if not shown:
        return FunnelPanel(metric, True, (), count_cell(left_out, rules), None, False, None), {}
    result = funnel([(str(cid), num, den) for cid, _n, num, den, _r in shown])
    flags = {int(u.name): u.flag for u in result.units}
    top = max(den for *_x, den, _r in shown)
    lo_n = max(1, min(rules.min_n_for_rates, min(den for *_x, den, _r in shown)))
    curve = result.limits_curve(
        sorted({round(lo_n * (top * 1.15 / lo_n) ** (i / (CURVE_POINTS - 1))) for i in range(CURVE_POINTS)})
    )
    panel = FunnelPanel(
        metric=metric,
        available=True,
        points=tuple(FunnelPoint(cid, name, den, rate, flags[cid]) for cid, name, _num, den, rate in shown),
        left_out_text=count_cell(left_out, rules),
        target=result.target,
        adjusted=result.adjusted,
        phi=result.phi,
        curve_n=tuple(float(v) for v in curve.n),
        lower95=tuple(float(v) for v in curve.lower[0]),
        upper95=tuple(float(v) for v in curve.upper[0]),
        lower998=tuple(float(v) for v in curve.lower[1]),
        upper998=tuple(float(v) for v in curve.upper[1]),
    )
    return panel, flags


@scoped_cache(ttl_seconds=300)
def compare_centres(
    principal, start: date, end: date, centre_ids: tuple[int, ...] | None = None
) -> CompareView:
    """Funnel plots of the three proportions for the user's centres (or the given ones, which must
    all be theirs: anything else is denied and audited)."""
    scope = dashboard_scope(principal, centre_ids, action=ACTION, roles=("manager",))
    chosen = _month_span(period(start, end))
    rules = disclosure_rules()
    reliability = configured_reliability().get("ucla3")
    cell = (
        f"compare:k{rules.k}:n{rules.min_n_for_rates}:"
        f"r{'-' if reliability is None else f'{reliability.sd1:g}/{reliability.r:g}'}"
    )
    return released(chosen, release_scope_key("c", scope), cell, lambda: _compare(scope, chosen, rules))


def _compare(scope: tuple[int, ...], chosen: Period, rules) -> CompareView:
    with read_session() as s:
        names = dict(
            s.exec(select(HealthCentre.id, HealthCentre.name).where(col(HealthCentre.id).in_(scope))).all()
        )
    as_of = ensure_fresh(scope)
    reliability = configured_reliability().get("ucla3")
    sums = read_summaries(scope, chosen.start, chosen.end, keys=True)
    order = sorted(scope, key=lambda c: (names.get(c, "").casefold(), c))

    panels: list[FunnelPanel] = []
    bands: dict[str, dict] = {}
    for metric in METRICS:
        if metric == "ucla3_reliable" and reliability is None:
            panels.append(FunnelPanel(metric, False, (), "0", None, False, None))
            bands[metric] = {}
            continue
        rows = [(c, names.get(c, str(c)), *sums.get((c, metric), (0, 0, 0, 0))) for c in order]
        panel, flags = _panel(metric, rows, rules)
        panels.append(panel)
        bands[metric] = flags

    centres = []
    for c in order:
        figures, centre_bands = [], []
        for metric in METRICS:
            definition = f"compare.def.{metric}"
            if metric == "ucla3_reliable" and reliability is None:
                figures.append(Figure(metric, "–", None, definition))
                centre_bands.append(None)
                continue
            num, den, num_key, den_key = sums.get((c, metric), (0, 0, 0, 0))
            protected = protect_rate(num, den, rules, protect_complement=True) if den else None
            den_text = published_count(den, den_key, rules)[0]
            num_text, _dt, rate = published_rate(num, num_key, den, den_key, rules)
            if protected is None or protected.rate is None or rate is None:
                # too few, or numerator and denominator together would give back a small complement
                figures.append(Figure(metric, "–", None, definition, None, den_text))
            else:
                figures.append(
                    Figure(
                        metric,
                        f"{rate * 100:.0f} %",
                        round(rate, 2),  # from the published counts, never full precision (issue 10)
                        definition,
                        num_text,
                        den_text,
                    )
                )
            centre_bands.append(bands[metric].get(c))
        centres.append(CentreFigures(c, names.get(c, str(c)), tuple(figures), tuple(centre_bands)))

    return CompareView(
        period=chosen,
        centre_count=len(scope),
        enough_centres=len(scope) >= MIN_CENTRES,
        as_of=as_of,
        panels=tuple(panels),
        centres=tuple(centres),
        reliability_source=None if reliability is None else reliability.source,
    )
