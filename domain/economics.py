"""Health economics: SROI, its sensitivity, cost per participant and QALY change (issue 5, item 4).

SROI (social return on investment), as summarised in /work/shared/REFERENCE.md ("SROI") after the
Cabinet Office / SROI Network "A guide to Social Return on Investment" (2012): the value of each
outcome is its quantity times a financial proxy, less what would have happened anyway (deadweight),
the share due to others (attribution) and the share that merely moved elsewhere (displacement); from
the second year it falls by the drop-off rate each year; yearly values are discounted and summed;
the ratio divides the present value by the inputs (investment). For year t = 1..duration (and
t <= horizon)::

    value_t = quantity * proxy * (1 - deadweight) * (1 - attribution) * (1 - displacement)
              * (1 - drop_off) ** (t - 1)
    PV      = sum_t value_t / (1 + discount_rate) ** t
    ratio   = sum of PV over outcomes / investment;   net PV = sum of PV - investment

An SROI ratio is always shown with a sensitivity range (REFERENCE.md); ``sensitivity`` varies each
assumption one at a time for a tornado chart.

Percentages are given as percent (0-100). Proxies and quantities are not negative here (negative
outcomes are out of scope for this version). No financial proxies and no discount rate are shipped:
they must come from the programme's own sources. (The HM Treasury Green Book discount rate is often
used in the UK; its value is *not verified here* - check the current Green Book before using it.)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

# ---------------------------------------------------------------------------------------------
# Reference figures (editable; for context beside a result, never used as proxies)


@dataclass(frozen=True)
class ReferenceRatio:
    label: str
    ratio_low: float  # value created per 1 unit invested
    ratio_high: float
    base: float | None
    source: str


REFERENCE_RATIOS: tuple[ReferenceRatio, ...] = (
    ReferenceRatio(
        label="Published social-prescribing SROI ratios (range)",
        ratio_low=3.42,
        ratio_high=5.94,
        base=None,
        source="/work/shared/REFERENCE.md, 'SROI': published social-prescribing ratios £3.42-£5.94 per £1",
    ),
    ReferenceRatio(
        label="North Wales social prescribing SROI (sensitivity range)",
        ratio_low=2.60,
        ratio_high=5.16,
        base=5.07,
        source="/work/shared/REFERENCE.md, 'SROI': North Wales £5.07 per £1, sensitivity 2.60-5.16",
    ),
)
"""Published figures for context. The Frome "£6 per £1" is a news quote, not a study (REFERENCE.md),
and is deliberately absent."""


# ---------------------------------------------------------------------------------------------
# Inputs and results


def _check_pct(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and 0 <= value <= 100):
        raise ValueError(f"{name} must be a percentage from 0 to 100, not {value!r}")


def _check_non_negative(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number of at least 0, not {value!r}")


@dataclass(frozen=True)
class SroiOutcome:
    """One outcome of the value map. Percentages are in percent (0-100)."""

    name: str
    quantity: float  # people (or units) achieving the outcome
    proxy_per_unit: float  # financial proxy per unit, in the report's currency
    proxy_source: str  # where the proxy comes from (required: an SROI proxy must be cited)
    deadweight_pct: float = 0.0
    attribution_pct: float = 0.0
    displacement_pct: float = 0.0
    drop_off_pct: float = 0.0  # per year, from the second year
    duration_years: int = 1

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("an outcome needs a name")
        if not self.proxy_source.strip():
            raise ValueError(f"outcome {self.name!r}: the financial proxy needs a source")
        _check_non_negative(f"{self.name}: quantity", self.quantity)
        _check_non_negative(f"{self.name}: proxy per unit", self.proxy_per_unit)
        for attr in ("deadweight_pct", "attribution_pct", "displacement_pct", "drop_off_pct"):
            _check_pct(f"{self.name}: {attr}", getattr(self, attr))
        if isinstance(self.duration_years, bool) or not isinstance(self.duration_years, int):
            raise ValueError(f"{self.name}: duration must be a whole number of years")
        if self.duration_years < 1:
            raise ValueError(f"{self.name}: duration must be at least 1 year")

    def first_year_value(self) -> float:
        return (
            self.quantity
            * self.proxy_per_unit
            * (1 - self.deadweight_pct / 100)
            * (1 - self.attribution_pct / 100)
            * (1 - self.displacement_pct / 100)
        )


@dataclass(frozen=True)
class OutcomeValue:
    name: str
    yearly_values: tuple[float, ...]  # value_t for t = 1.. (undiscounted)
    yearly_present_values: tuple[float, ...]  # value_t / (1 + r)^t
    present_value: float


@dataclass(frozen=True)
class SroiResult:
    outcomes: tuple[OutcomeValue, ...]
    total_present_value: float
    investment: float
    net_present_value: float
    ratio: float  # present value per 1 unit invested
    discount_rate_pct: float
    horizon_years: int


def _check_common(investment: float, discount_rate_pct: float, horizon_years: int) -> None:
    if not (isinstance(investment, int | float) and math.isfinite(investment)):
        raise ValueError("the investment must be a finite number")
    if investment <= 0:
        raise ValueError("the investment (total inputs) must be more than 0: an SROI ratio divides by it")
    _check_pct("discount rate", discount_rate_pct)
    if isinstance(horizon_years, bool) or not isinstance(horizon_years, int) or horizon_years < 1:
        raise ValueError("the horizon must be a whole number of years, at least 1")


def sroi(
    outcomes: Sequence[SroiOutcome], investment: float, discount_rate_pct: float, horizon_years: int
) -> SroiResult:
    """Present value of the outcomes, net present value and the SROI ratio (formulas above)."""
    _check_common(investment, discount_rate_pct, horizon_years)
    names = [o.name for o in outcomes]
    if len(set(names)) != len(names):
        raise ValueError("outcome names must be unique")
    rate = discount_rate_pct / 100
    values: list[OutcomeValue] = []
    for o in outcomes:
        first = o.first_year_value()
        years = range(1, min(o.duration_years, horizon_years) + 1)
        yearly = tuple(first * (1 - o.drop_off_pct / 100) ** (t - 1) for t in years)
        discounted = tuple(v / (1 + rate) ** t for t, v in zip(years, yearly, strict=True))
        values.append(OutcomeValue(o.name, yearly, discounted, math.fsum(discounted)))
    total = math.fsum(v.present_value for v in values)
    return SroiResult(
        outcomes=tuple(values),
        total_present_value=total,
        investment=float(investment),
        net_present_value=total - investment,
        ratio=total / investment,
        discount_rate_pct=float(discount_rate_pct),
        horizon_years=horizon_years,
    )


# ---------------------------------------------------------------------------------------------
# Sensitivity

_PCT_FIELDS = ("deadweight_pct", "attribution_pct", "displacement_pct", "drop_off_pct")
_RELATIVE_FIELDS = ("quantity", "proxy_per_unit")
OUTCOME_ASSUMPTIONS = (*_RELATIVE_FIELDS, *_PCT_FIELDS, "duration_years")
_RISING = frozenset({*_RELATIVE_FIELDS, "duration_years"})  # the ratio never falls as these rise
GLOBAL = ""  # the "outcome" part of the key for assumptions not tied to one outcome
"""Keys of ``ranges`` and of the rows: ``(outcome name, assumption)``; for the discount rate and the
investment ``(GLOBAL, "discount_rate_pct")`` and ``(GLOBAL, "investment")``."""


@dataclass(frozen=True)
class SensitivityRow:
    outcome: str  # GLOBAL for discount rate and investment
    assumption: str
    base_value: float
    low_value: float  # the assumption's low and high ends as tried
    high_value: float
    ratio_at_low: float
    ratio_at_high: float

    @property
    def ratio_min(self) -> float:
        return min(self.ratio_at_low, self.ratio_at_high)

    @property
    def ratio_max(self) -> float:
        return max(self.ratio_at_low, self.ratio_at_high)

    @property
    def swing(self) -> float:
        return self.ratio_max - self.ratio_min


@dataclass(frozen=True)
class Sensitivity:
    """One-at-a-time sensitivity. ``rows`` are sorted by swing, widest first (a tornado chart).
    ``low``/``high``: the lowest and highest ratio met in any one-at-a-time run (and the base).
    ``combined_low``/``combined_high``: every assumption at its unfavourable (favourable) end at
    once, a harsher bound than the one-at-a-time range."""

    base: SroiResult
    rows: tuple[SensitivityRow, ...]
    low: float
    high: float
    combined_low: float
    combined_high: float


def _default_range(
    field: str, base: float, spread_pp: float, spread_relative_pct: float
) -> tuple[float, float]:
    if field in _PCT_FIELDS or field == "discount_rate_pct":
        return max(0.0, base - spread_pp), min(100.0, base + spread_pp)
    if field == "duration_years":
        return max(1, int(base) - 1), int(base) + 1
    return base * (1 - spread_relative_pct / 100), base * (1 + spread_relative_pct / 100)


def sensitivity(
    outcomes: Sequence[SroiOutcome],
    investment: float,
    discount_rate_pct: float,
    horizon_years: int,
    *,
    spread_pp: float = 10.0,
    spread_relative_pct: float = 10.0,
    ranges: Mapping[tuple[str, str], tuple[float, float]] | None = None,
) -> Sensitivity:
    """Vary each assumption alone over a range and report the SROI ratio at both ends.

    Default ranges: deadweight, attribution, displacement, drop-off and the discount rate
    +/- ``spread_pp`` percentage points (clipped to 0-100); quantity, proxy and investment +/-
    ``spread_relative_pct`` percent of their value; duration +/- 1 year (at least 1). ``ranges``
    overrides any of them with a given (low, high), keyed as described at GLOBAL.
    """
    base = sroi(outcomes, investment, discount_rate_pct, horizon_years)
    ranges = dict(ranges or {})
    known = {(o.name, f) for o in outcomes for f in OUTCOME_ASSUMPTIONS}
    known |= {(GLOBAL, "discount_rate_pct"), (GLOBAL, "investment")}
    unknown = set(ranges) - known
    if unknown:
        raise ValueError(f"no such assumption: {sorted(unknown)}")
    for key, (lo, hi) in ranges.items():
        if lo > hi:
            raise ValueError(f"{key}: the low end is above the high end")

    def ratio_with(outcome: str, field: str, value: float) -> float:
        if outcome == GLOBAL:
            if field == "investment":
                return sroi(outcomes, value, discount_rate_pct, horizon_years).ratio
            return sroi(outcomes, investment, value, horizon_years).ratio
        if field == "duration_years":
            value = int(value)
        changed = [replace(o, **{field: value}) if o.name == outcome else o for o in outcomes]
        return sroi(changed, investment, discount_rate_pct, horizon_years).ratio

    plan: list[tuple[str, str, float]] = [
        (o.name, f, getattr(o, f)) for o in outcomes for f in OUTCOME_ASSUMPTIONS
    ]
    plan += [(GLOBAL, "discount_rate_pct", discount_rate_pct), (GLOBAL, "investment", investment)]
    rows = []
    for outcome, field, base_value in plan:
        if (outcome, field) in ranges:
            lo, hi = ranges[(outcome, field)]
        else:
            lo, hi = _default_range(field, base_value, spread_pp, spread_relative_pct)
        rows.append(
            SensitivityRow(
                outcome=outcome,
                assumption=field,
                base_value=float(base_value),
                low_value=float(lo),
                high_value=float(hi),
                ratio_at_low=ratio_with(outcome, field, lo),
                ratio_at_high=ratio_with(outcome, field, hi),
            )
        )
    order = {key: n for n, key in enumerate((o, f) for o, f, _ in plan)}
    rows.sort(key=lambda r: (-r.swing, order[(r.outcome, r.assumption)]))

    def combined(favourable: bool) -> float:
        # The ratio rises with quantity, proxy and duration and falls with every other assumption
        # (all inputs are non-negative), so the favourable end is known without looking at ties.
        pick = {
            (r.outcome, r.assumption): (
                r.high_value if (r.assumption in _RISING) == favourable else r.low_value
            )
            for r in rows
        }
        changed = [
            replace(
                o,
                **{
                    f: (int(pick[(o.name, f)]) if f == "duration_years" else pick[(o.name, f)])
                    for f in OUTCOME_ASSUMPTIONS
                },
            )
            for o in outcomes
        ]
        return sroi(
            changed, pick[(GLOBAL, "investment")], pick[(GLOBAL, "discount_rate_pct")], horizon_years
        ).ratio

    all_ratios = [base.ratio] + [x for r in rows for x in (r.ratio_at_low, r.ratio_at_high)]
    return Sensitivity(
        base=base,
        rows=tuple(rows),
        low=min(all_ratios),
        high=max(all_ratios),
        combined_low=combined(favourable=False),
        combined_high=combined(favourable=True),
    )


# ---------------------------------------------------------------------------------------------
# Costs and QALYs


@dataclass(frozen=True)
class CostPerParticipant:
    staff_cost: float
    activity_cost: float
    total_cost: float
    participants: int
    per_participant: float


def cost_per_participant(
    staff_hours: float, hourly_cost: float, activity_costs: float | Iterable[float], participants: int
) -> CostPerParticipant:
    """(staff hours x hourly cost + activity costs) / participants. Refuses 0 participants."""
    _check_non_negative("staff hours", staff_hours)
    _check_non_negative("hourly cost", hourly_cost)
    costs = [activity_costs] if isinstance(activity_costs, int | float) else list(activity_costs)
    for c in costs:
        _check_non_negative("an activity cost", c)
    if isinstance(participants, bool) or not isinstance(participants, int):
        raise ValueError("participants must be a whole number")
    if participants <= 0:
        raise ValueError("cost per participant needs at least 1 participant")
    staff = staff_hours * hourly_cost
    activity = math.fsum(costs)
    total = staff + activity
    return CostPerParticipant(staff, activity, total, participants, total / participants)


def qaly_gain(index_baseline: float, index_followup: float, years: float, *, linear: bool = False) -> float:
    """QALYs gained per person from two utility index values (e.g. EQ-5D index, computed elsewhere
    with a verified, configured value set; no value set lives here).

    Step change (default): the follow-up index holds for ``years``: (follow-up - baseline) x years.
    ``linear=True``: utility moves in a straight line from baseline to follow-up over ``years``
    (area under the curve, trapezium rule): (follow-up - baseline) x years / 2.
    """
    for name, v in (("baseline index", index_baseline), ("follow-up index", index_followup)):
        if not (isinstance(v, int | float) and math.isfinite(v)) or v > 1:
            raise ValueError(f"{name} must be a finite utility of at most 1 (full health), not {v!r}")
    _check_non_negative("years", years)
    gain = (index_followup - index_baseline) * years
    return gain / 2 if linear else gain
