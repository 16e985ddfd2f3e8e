"""Statistical process control: the XmR (individuals and moving range) chart of "Making Data Count".

Pure Python; no I/O. Follows NHS England "Making Data Count" (MDC) and its reference implementation
NHSRplotthedots 0.2.2 (NHS-R Community, ``ptd_spc_standard`` and ``ptd_calculate_point_type``),
as summarised in /work/shared/REFERENCE.md, "Statistics for outcome dashboards":

* centre line = mean of the values; moving range mR_i = |x_i − x_(i−1)| (none for the first point);
* process limits = mean ± 2.66 · mean(mR) (2.66 = 3 / d2, d2 = 1.128 for ranges of two points);
* optional outlier screening: moving ranges ≥ 3.267 · mean(mR) are left out and mean(mR) is
  recomputed once (3.267 = D4, the upper range limit for n = 2). Only the limits change;
* the "2/3 of the way to a limit" lines (2 sigma) = mean ± (2/3) · 2.66 · mean(mR);
* fewer than 12 points: the limits are *trial limits* (NHSRplotthedots warns below 12).

Special-cause rules, each flagged per point under its rule name:

* ``outside_limits`` — the point is strictly above the upper or strictly below the lower limit;
* ``shift`` — ``run_length`` (default 7) or more points in a row strictly on one side of the mean; every
  point of the run is flagged; a point exactly on the mean breaks the run;
* ``trend`` — ``run_length`` or more points in a row each strictly higher (or each strictly lower) than
  the one before; every point of the run is flagged; two equal consecutive values break it. MDC lets
  the run length for shifts and trends be 6 or 7 (NHSRplotthedots issue #202); one parameter sets both;
* ``two_in_three`` — in some window of three consecutive points, at least two lie beyond the 2-sigma
  line but not beyond the process limit (strictly between 2 and 3 sigma), and all three lie on the same
  side of the mean; the points beyond the 2-sigma line in such a window are flagged. This is the MDC
  Single Chart tool's reading as implemented in NHSRplotthedots 0.2.2 (issues #143, #153, #194): a
  point outside the limits is already flagged by ``outside_limits`` and does not count towards the two.

Direction of a special-cause point (NHSRplotthedots 0.2.2, PR #180): the first rule in the order
outside_limits, trend, two_in_three, shift that flags the point decides whether it is "high" (above the
mean, or part of a rising trend) or "low"; with ``better="higher"`` high is "improvement" and low
"concern", the reverse for ``better="lower"``, and "neither" when no direction is given. Common-cause
points have ``variation=None``.

Summary icons (MDC): the *variation* icon follows the latest point — ``common_cause``,
``special_cause_improvement``, ``special_cause_concern`` or, with no better direction,
``special_cause_neither_high`` / ``special_cause_neither_low``. The *assurance* icon compares a target
with the process limits (``ptd_calculate_assurance_type``): a target inside the limits (inclusive) is
``hit_or_miss``; outside them the process will ``consistently_pass`` or ``consistently_fail`` depending
on the better direction; None without a target or without a better direction.

Rebasing (recalculating limits after a known change) is not implemented.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

LIMIT_CONSTANT = 2.66  # 3 / d2, d2 = 1.128 (subgroups of 2)
SCREEN_CONSTANT = 3.267  # D4 for subgroups of 2
MIN_POINTS_FOR_FIXED_LIMITS = 12

RULE_OUTSIDE = "outside_limits"
RULE_SHIFT = "shift"
RULE_TREND = "trend"
RULE_TWO_IN_THREE = "two_in_three"
RULES = (RULE_OUTSIDE, RULE_SHIFT, RULE_TREND, RULE_TWO_IN_THREE)
# Which rule decides a point's direction when several flag it (NHSRplotthedots 0.2.2, PR #180).
_DIRECTION_PRECEDENCE = (RULE_OUTSIDE, RULE_TREND, RULE_TWO_IN_THREE, RULE_SHIFT)

IMPROVEMENT = "improvement"
CONCERN = "concern"
NEITHER = "neither"

BETTER_DIRECTIONS = ("higher", "lower", None)


@dataclass(frozen=True)
class XmRPoint:
    index: int
    value: float
    moving_range: float | None  # None for the first point
    rules: frozenset[str]
    variation: str | None  # "improvement" | "concern" | "neither" | None (common cause)

    @property
    def special_cause(self) -> bool:
        return bool(self.rules)


@dataclass(frozen=True)
class XmRResult:
    centre: float
    mean_mr: float
    upper: float
    lower: float
    upper_2_3: float  # 2-sigma line above the mean
    lower_2_3: float
    trial_limits: bool
    points: tuple[XmRPoint, ...]
    variation_icon: str
    assurance: str | None
    screened_out: tuple[int, ...] = ()  # indices of points whose moving range was screened out

    @property
    def sigma(self) -> float:
        return LIMIT_CONSTANT * self.mean_mr / 3


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _flag_runs(keys: Sequence[int], run_length: int) -> list[int]:
    """Per position, the key of a maximal run of equal non-zero keys of length ≥ run_length, else 0."""
    out = [0] * len(keys)
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            if keys[start] != 0 and i - start >= run_length:
                out[start:i] = [keys[start]] * (i - start)
            start = i
    return out


def _shift_sides(side: Sequence[int], run_length: int) -> list[int]:
    return _flag_runs(side, run_length)


def _trend_directions(values: Sequence[float], run_length: int) -> list[int]:
    """+1/−1 for points in a strictly rising/falling run of ≥ run_length points, else 0.

    A run of k points has k − 1 steps of the same sign. A peak or trough can end one run and begin
    the next; it keeps the direction of the run it ends (so a mirrored series gets mirrored flags).
    """
    out = [0] * len(values)
    steps = [_sign(values[i] - values[i - 1]) for i in range(1, len(values))]
    i = 0
    while i < len(steps):
        direction = steps[i]
        j = i
        while j < len(steps) and steps[j] == direction:
            j += 1
        # steps i..j-1 join points i..j
        if direction != 0 and j - i + 1 >= run_length:
            for k in range(i, j + 1):
                out[k] = out[k] or direction
        i = j
    return out


def _two_in_three_sides(side: Sequence[int], close: Sequence[bool]) -> list[int]:
    n = len(side)
    out = [0] * n
    for start in range(n - 2):
        window = range(start, start + 3)
        window_sides = {side[k] for k in window}
        if len(window_sides) == 1 and 0 not in window_sides and sum(close[k] for k in window) >= 2:
            for k in window:
                if close[k]:
                    out[k] = side[k]
    return out


def _variation(direction: int, better: str | None) -> str:
    if better is None:
        return NEITHER
    good = 1 if better == "higher" else -1
    return IMPROVEMENT if direction == good else CONCERN


def _variation_icon(last: XmRPoint, direction: int) -> str:
    if not last.rules:
        return "common_cause"
    if last.variation == NEITHER:
        return "special_cause_neither_high" if direction > 0 else "special_cause_neither_low"
    return f"special_cause_{last.variation}"


def _assurance(target: float | None, better: str | None, lower: float, upper: float) -> str | None:
    if target is None or better is None:
        return None
    if target > upper:
        return "consistently_fail" if better == "higher" else "consistently_pass"
    if target < lower:
        return "consistently_pass" if better == "higher" else "consistently_fail"
    return "hit_or_miss"


def xmr(
    values: Sequence[float],
    *,
    better: str | None = None,
    target: float | None = None,
    run_length: int = 7,
    screen_outliers: bool = False,
) -> XmRResult:
    """XmR chart with the Making Data Count special-cause rules (see the module docstring).

    Sources: NHS England / NHS Improvement, "Making Data Count" (2019, and the MDC "Plot the Dots"
    guidance); reference implementation NHSRplotthedots 0.2.2 (NHS-R Community, CRAN), functions
    ``ptd_spc_standard``, ``ptd_calculate_point_type`` and ``ptd_calculate_assurance_type``; the
    constants 2.66 and 3.267 are Shewhart's E2 = 3/d2 and D4 for moving ranges of two points
    (Wheeler, "Understanding Variation", 1993).

    ``values`` are in time order with no gaps; ``better`` is "higher", "lower" or None.
    Raises ValueError for fewer than 2 values, non-finite values, an unknown direction or run_length < 2.
    """
    if better not in BETTER_DIRECTIONS:
        raise ValueError(f"better must be one of {BETTER_DIRECTIONS}, not {better!r}")
    if run_length < 2:
        raise ValueError("run_length must be at least 2")
    xs = [float(v) for v in values]
    if len(xs) < 2:
        raise ValueError("an XmR chart needs at least 2 values")
    if not all(math.isfinite(x) for x in xs):
        raise ValueError("values must be finite numbers")
    if target is not None and not math.isfinite(target):
        raise ValueError("target must be a finite number")

    centre = _mean(xs)
    moving_ranges = [abs(xs[i] - xs[i - 1]) for i in range(1, len(xs))]
    mean_mr = _mean(moving_ranges)
    screened_out: tuple[int, ...] = ()
    if screen_outliers and mean_mr > 0:
        cut = SCREEN_CONSTANT * mean_mr
        kept = [mr for mr in moving_ranges if mr < cut]
        screened_out = tuple(i + 1 for i, mr in enumerate(moving_ranges) if mr >= cut)
        mean_mr = _mean(kept)

    half_width = LIMIT_CONSTANT * mean_mr
    upper, lower = centre + half_width, centre - half_width
    upper_2_3, lower_2_3 = centre + 2 * half_width / 3, centre - 2 * half_width / 3

    side = [_sign(x - centre) for x in xs]
    outside = [x > upper or x < lower for x in xs]
    close = [not out and (x > upper_2_3 or x < lower_2_3) for x, out in zip(xs, outside, strict=True)]

    directions_by_rule = {
        RULE_OUTSIDE: [s if out else 0 for s, out in zip(side, outside, strict=True)],
        RULE_TREND: _trend_directions(xs, run_length),
        RULE_TWO_IN_THREE: _two_in_three_sides(side, close),
        RULE_SHIFT: _shift_sides(side, run_length),
    }

    points = []
    point_directions = []
    for i, x in enumerate(xs):
        rules = frozenset(rule for rule, dirs in directions_by_rule.items() if dirs[i])
        direction = next((directions_by_rule[r][i] for r in _DIRECTION_PRECEDENCE if r in rules), 0)
        point_directions.append(direction)
        points.append(
            XmRPoint(
                index=i,
                value=x,
                moving_range=moving_ranges[i - 1] if i else None,
                rules=rules,
                variation=_variation(direction, better) if rules else None,
            )
        )

    return XmRResult(
        centre=centre,
        mean_mr=mean_mr,
        upper=upper,
        lower=lower,
        upper_2_3=upper_2_3,
        lower_2_3=lower_2_3,
        trial_limits=len(xs) < MIN_POINTS_FOR_FIXED_LIMITS,
        points=tuple(points),
        variation_icon=_variation_icon(points[-1], point_directions[-1]),
        assurance=_assurance(target, better, lower, upper),
        screened_out=screened_out,
    )
