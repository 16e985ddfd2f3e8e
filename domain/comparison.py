"""Comparing two groups from summary statistics: means with t intervals and Welch's difference.

Pure Python (scipy for the t quantiles); no I/O. The services compute n, Σx and Σx² in SQL and pass
them here, so no per-person value leaves the database.

* Sample variance from sums: s² = (Σx² − (Σx)²/n) / (n − 1), cut at 0 (rounding can make it a hair
  negative when all values are equal).
* Mean with a t interval: x̄ ± t(1 − α/2, n − 1) · s/√n (the one-sample interval; for paired
  changes x is each person's follow-up minus baseline).
* Welch's difference of two means (Welch 1947; the unequal-variance t interval): d = x̄₁ − x̄₂,
  SE = √(s₁²/n₁ + s₂²/n₂), ν = SE⁴ / ((s₁²/n₁)²/(n₁ − 1) + (s₂²/n₂)²/(n₂ − 1)) (Welch–Satterthwaite),
  CI = d ± t(1 − α/2, ν) · SE. Matches scipy.stats.ttest_ind(a, b, equal_var=False)
  .confidence_interval() on the raw numbers (tested).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats


@dataclass(frozen=True)
class SummaryStats:
    """n, Σx and Σx² of one group."""

    n: int
    total: float
    total_sq: float

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 0:
            raise ValueError(f"n must be a whole number ≥ 0, not {self.n!r}")
        for value in (self.total, self.total_sq):
            if not math.isfinite(value):
                raise ValueError("sums must be finite")

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None

    @property
    def variance(self) -> float | None:
        """Sample variance (n − 1); None below two values."""
        if self.n < 2:
            return None
        return max(0.0, (self.total_sq - self.total * self.total / self.n) / (self.n - 1))


@dataclass(frozen=True)
class MeanCI:
    n: int
    mean: float | None
    sd: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Difference:
    """Group 1 minus group 2, Welch interval. None parts when a group has fewer than two values."""

    estimate: float | None
    se: float | None
    df: float | None
    low: float | None
    high: float | None


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")


def mean_ci(group: SummaryStats, confidence: float = 0.95) -> MeanCI:
    """Mean with a t interval from n, Σx, Σx² (module docstring)."""
    _check_confidence(confidence)
    var = group.variance
    if var is None:
        return MeanCI(group.n, group.mean, None, None, None)
    sd = math.sqrt(var)
    half = float(stats.t.ppf(1 - (1 - confidence) / 2, group.n - 1)) * sd / math.sqrt(group.n)
    mean = group.mean
    assert mean is not None
    return MeanCI(group.n, mean, sd, mean - half, mean + half)


def welch_difference(first: SummaryStats, second: SummaryStats, confidence: float = 0.95) -> Difference:
    """first − second with a Welch 95 % (or `confidence`) interval from summary statistics."""
    _check_confidence(confidence)
    v1, v2 = first.variance, second.variance
    if v1 is None or v2 is None:
        estimate = None if first.mean is None or second.mean is None else first.mean - second.mean
        return Difference(estimate, None, None, None, None)
    a, b = v1 / first.n, v2 / second.n
    estimate = first.total / first.n - second.total / second.n
    se2 = a + b
    if se2 == 0:  # both groups constant: no spread to estimate an interval from
        return Difference(estimate, 0.0, None, estimate, estimate)
    se = math.sqrt(se2)
    df = se2 * se2 / (a * a / (first.n - 1) + b * b / (second.n - 1))
    half = float(stats.t.ppf(1 - (1 - confidence) / 2, df)) * se
    return Difference(estimate, se, df, estimate - half, estimate + half)
