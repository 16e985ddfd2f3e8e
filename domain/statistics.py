"""Statistics for the outcome dashboards: paired change, reliable change and proportion intervals.

Pure functions over plain numbers; the aggregation itself (which people, which period, which centre)
happens in SQL and the services. Formulas and their sources (see also /work/shared/REFERENCE.md,
"Statistics for outcome dashboards"):

* **Paired change.** Each person's follow-up minus their own baseline on the same instrument. Report
  n at baseline, n followed up, the share lost to follow-up and the mean change with a t-based
  confidence interval: mean ± t(1 − α/2, n − 1) · sd / √n (Student's t; the standard one-sample
  interval applied to the within-person differences). The common mistake, subtracting the mean of all
  baselines from the mean of all follow-ups (unpaired), is `unpaired_difference`, kept so the
  dashboard and the tests can show how far it can mislead when drop-out is not random.
* **Reliable Change Index** (Jacobson & Truax 1991, with the √2 of Christensen & Mendoza 1986):
  RC = (x₂ − x₁) / (SD₁ · √2 · √(1 − r)), SD₁ the baseline standard deviation of a reference
  population and r the instrument's test-retest reliability. |RC| > z (1.96) is reliable change.
* **Threshold change** for PHQ-9 (drop ≥ 6) and GAD-7 (drop ≥ 4): NHS Talking Therapies' reliable
  improvement criteria, from a *secondary source* (REFERENCE.md).
* **Wilson score interval** for a proportion (Wilson 1927; recommended by Newcombe 1998, Statistics in
  Medicine 17:857-872, "method 3"): centre (p + z²/2n) / (1 + z²/n), half-width
  z / (1 + z²/n) · √(p(1 − p)/n + z²/4n²).

No published reliability constants are shipped (see `RELIABILITY`): a deployment configures SD₁ and
r per instrument, with their source, before the dashboard shows reliable-change categories.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from scipy import stats

Better = Literal["higher", "lower"]
ChangeCategory = Literal["improved", "no_reliable_change", "deteriorated"]

IMPROVED: ChangeCategory = "improved"
NO_RELIABLE_CHANGE: ChangeCategory = "no_reliable_change"
DETERIORATED: ChangeCategory = "deteriorated"

# Which direction is better, per score the outcome dashboards show (REFERENCE.md: UCLA-3 "higher is
# lonelier", DJG-6 0-1 not lonely … 5-6 severely lonely, SWEMWBS a wellbeing score, ONS4 anxiety
# banded "very low" at 0-1, PHQ-9/GAD-7 severity bands rising with the total). ONS4 items are keyed
# "ons4.<item>" because ONS4 has no composite score.
BETTER_DIRECTION: Mapping[str, Better] = MappingProxyType(
    {
        "ucla3": "lower",
        "djg6": "lower",
        "swemwbs": "higher",
        "ons4.satisfied": "higher",
        "ons4.worthwhile": "higher",
        "ons4.happy": "higher",
        "ons4.anxious": "lower",
        "phq9": "lower",
        "gad7": "lower",
    }
)


def _check_finite(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{what} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return float(value)


def _check_confidence(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    return confidence


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


# --- Paired change --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairedChange:
    """Paired change on one instrument over a group of people.

    n_baseline: people with a baseline score. n_followed: people with both a baseline and a follow-up
    (only they enter the means). share_lost: 1 − n_followed / n_baseline (None when n_baseline is 0).
    mean_baseline, mean_followup and mean_change (follow-up minus baseline) are over the paired people
    only: None when n_followed is 0. sd_change (sample SD, n − 1) and the confidence interval need
    n_followed ≥ 2, else None. n_followup_only counts follow-ups without a baseline (not used; shown so
    a data problem is visible).
    """

    n_baseline: int
    n_followed: int
    share_lost: float | None
    mean_baseline: float | None
    mean_followup: float | None
    mean_change: float | None
    sd_change: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    n_followup_only: int = 0


def paired_change(
    pairs: Sequence[tuple[float | None, float | None]], *, confidence: float = 0.95
) -> PairedChange:
    """Paired change from (baseline, follow-up) per person; None marks a missing score.

    CI = mean change ± t(1 − α/2, n − 1) · sd / √n with scipy.stats.t (α = 1 − confidence).
    """
    _check_confidence(confidence)
    baseline_count = 0
    followup_only = 0
    base: list[float] = []
    follow: list[float] = []
    for index, pair in enumerate(pairs):
        x1, x2 = pair
        if x1 is not None:
            x1 = _check_finite(x1, f"baseline of pair {index}")
            baseline_count += 1
        if x2 is not None:
            x2 = _check_finite(x2, f"follow-up of pair {index}")
            if x1 is None:
                followup_only += 1
        if x1 is not None and x2 is not None:
            base.append(x1)
            follow.append(x2)

    n = len(base)
    share_lost = None if baseline_count == 0 else 1.0 - n / baseline_count
    if n == 0:
        return PairedChange(
            baseline_count, 0, share_lost, None, None, None, None, None, None, confidence, followup_only
        )

    changes = [b - a for a, b in zip(base, follow, strict=True)]
    mean_change = _mean(changes)
    sd = ci_low = ci_high = None
    if n >= 2:
        # Two-pass sample variance; an exact zero when all changes are equal.
        sd = math.sqrt(math.fsum((c - mean_change) ** 2 for c in changes) / (n - 1))
        t_crit = float(stats.t.ppf(1.0 - (1.0 - confidence) / 2.0, n - 1))
        half = t_crit * sd / math.sqrt(n)
        ci_low, ci_high = mean_change - half, mean_change + half
    return PairedChange(
        n_baseline=baseline_count,
        n_followed=n,
        share_lost=share_lost,
        mean_baseline=_mean(base),
        mean_followup=_mean(follow),
        mean_change=mean_change,
        sd_change=sd,
        ci_low=ci_low,
        ci_high=ci_high,
        confidence=confidence,
        n_followup_only=followup_only,
    )


def unpaired_difference(baselines: Iterable[float | None], followups: Iterable[float | None]) -> float | None:
    """The common mistake, for display beside the paired change: mean of ALL follow-ups minus mean
    of ALL baselines, people unmatched. When drop-out depends on the baseline score this can differ
    from the paired change in size and even in sign. None when either side has no scores."""
    base = [_check_finite(x, "baseline") for x in baselines if x is not None]
    follow = [_check_finite(x, "follow-up") for x in followups if x is not None]
    if not base or not follow:
        return None
    return _mean(follow) - _mean(base)


# --- Reliable change ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReliabilityParams:
    """SD₁ (baseline SD of a reference sample) and test-retest reliability r for one instrument,
    with the exact source they were taken from. verified: someone checked the numbers against the
    source itself (not a citation of it)."""

    instrument: str
    sd1: float
    r: float
    source: str
    verified: bool

    def __post_init__(self) -> None:
        _check_params(self.sd1, self.r)
        if not self.source.strip():
            raise ValueError(f"{self.instrument}: reliability parameters need their source")


# Deliberately empty. REFERENCE.md gives no SD₁ or test-retest r for UCLA-3, DJG-6, SWEMWBS, ONS4,
# PHQ-9 or GAD-7, and none could be checked against the original papers here, so none is shipped.
# A deployment must configure each instrument it wants reliable-change categories for (e.g. from the
# instrument's validation paper or a local reference sample), passing ReliabilityParams with the
# source, and show the source on screen. Until then the dashboard should omit the categories (or, for
# PHQ-9 and GAD-7, use `threshold_change`).
RELIABILITY: Mapping[str, ReliabilityParams] = MappingProxyType({})


def reliability_params(
    code: str, configured: Mapping[str, ReliabilityParams] | None = None
) -> ReliabilityParams | None:
    """The parameters for an instrument: the deployment's configuration first, then RELIABILITY.
    None when neither has it (the caller then shows no reliable-change categories)."""
    if configured is not None and code in configured:
        return configured[code]
    return RELIABILITY.get(code)


def _check_params(sd1: float, r: float) -> None:
    sd1 = _check_finite(sd1, "sd1")
    r = _check_finite(r, "r")
    if sd1 <= 0:
        raise ValueError(f"sd1 must be positive, got {sd1!r}")
    if not 0.0 <= r < 1.0:
        raise ValueError(f"reliability r must lie in [0, 1), got {r!r}")


def _check_better(better: str) -> None:
    if better not in ("higher", "lower"):
        raise ValueError(f'better must be "higher" or "lower", got {better!r}')


def _s_diff(sd1: float, r: float) -> float:
    # SD₁·√2·√(1 − r) written as SD₁·√(2(1 − r)): the same number, one rounding fewer.
    return sd1 * math.sqrt(2.0 * (1.0 - r))


def reliable_change_index(x1: float, x2: float, *, sd1: float, r: float) -> float:
    """RC = (x₂ − x₁) / (SD₁ · √2 · √(1 − r)) (Jacobson & Truax 1991; Christensen & Mendoza 1986).
    Positive when the score went up, whichever direction is better."""
    _check_params(sd1, r)
    x1 = _check_finite(x1, "x1")
    x2 = _check_finite(x2, "x2")
    return (x2 - x1) / _s_diff(sd1, r)


def minimum_reliable_difference(sd1: float, r: float, z: float = 1.96) -> float:
    """The change a score must EXCEED to be reliable: z · SD₁ · √2 · √(1 − r)."""
    _check_params(sd1, r)
    if z <= 0:
        raise ValueError(f"z must be positive, got {z!r}")
    return z * _s_diff(sd1, r)


def reliable_change_category(
    x1: float, x2: float, *, sd1: float, r: float, better: Better, z: float = 1.96
) -> ChangeCategory:
    """ "improved", "no_reliable_change" or "deteriorated". Reliable only when |RC| > z strictly
    (RC exactly z is not reliable); the sign is read against the instrument's better direction."""
    _check_better(better)
    if z <= 0:
        raise ValueError(f"z must be positive, got {z!r}")
    rc = reliable_change_index(x1, x2, sd1=sd1, r=r)
    if abs(rc) <= z:
        return NO_RELIABLE_CHANGE
    went_up = rc > 0
    return IMPROVED if went_up == (better == "higher") else DETERIORATED


@dataclass(frozen=True)
class ChangeCounts:
    """People per change category; n counts only pairs with both scores (skipped: the rest)."""

    improved: int = 0
    no_reliable_change: int = 0
    deteriorated: int = 0
    skipped: int = 0

    @property
    def n(self) -> int:
        return self.improved + self.no_reliable_change + self.deteriorated


def _count(categories: Iterable[ChangeCategory | None]) -> ChangeCounts:
    tally = {IMPROVED: 0, NO_RELIABLE_CHANGE: 0, DETERIORATED: 0, None: 0}
    for category in categories:
        tally[category] += 1
    return ChangeCounts(tally[IMPROVED], tally[NO_RELIABLE_CHANGE], tally[DETERIORATED], tally[None])


def reliable_change_counts(
    pairs: Iterable[tuple[float | None, float | None]],
    *,
    sd1: float,
    r: float,
    better: Better,
    z: float = 1.96,
) -> ChangeCounts:
    """Reliable-change categories counted over (baseline, follow-up) pairs; incomplete pairs skipped."""
    _check_params(sd1, r)
    _check_better(better)
    return _count(
        None
        if x1 is None or x2 is None
        else reliable_change_category(x1, x2, sd1=sd1, r=r, better=better, z=z)
        for x1, x2 in pairs
    )


# --- Threshold change (PHQ-9, GAD-7) --------------------------------------------------------------

THRESHOLD_SOURCE = (
    "NHS Talking Therapies (formerly IAPT) reliable improvement: PHQ-9 drop >= 6, GAD-7 drop >= 4. "
    "Secondary source (REFERENCE.md); check against the NHS Talking Therapies Manual before relying on it."
)
# Points a total must fall by to count as reliable improvement (lower is better on both).
CHANGE_THRESHOLDS: Mapping[str, int] = MappingProxyType({"phq9": 6, "gad7": 4})


def threshold_change(code: str, x1: float, x2: float) -> ChangeCategory:
    """PHQ-9 / GAD-7 change by NHS Talking Therapies' fixed thresholds (see THRESHOLD_SOURCE).

    improved: x₁ − x₂ ≥ threshold (the drop counts AT the threshold, unlike the RCI's strict >).
    deteriorated: x₂ − x₁ ≥ threshold — the same threshold upwards, *unverified*: REFERENCE.md states
    only the improvement criterion. Combining the two measures into NHS Talking Therapies' joint
    "reliable improvement" of a case is not done here.
    """
    if code not in CHANGE_THRESHOLDS:
        raise ValueError(f"no change threshold for {code!r}; known: {sorted(CHANGE_THRESHOLDS)}")
    threshold = CHANGE_THRESHOLDS[code]
    drop = _check_finite(x1, "x1") - _check_finite(x2, "x2")
    if drop >= threshold:
        return IMPROVED
    if -drop >= threshold:
        return DETERIORATED
    return NO_RELIABLE_CHANGE


def threshold_change_counts(code: str, pairs: Iterable[tuple[float | None, float | None]]) -> ChangeCounts:
    """`threshold_change` counted over (baseline, follow-up) pairs; incomplete pairs skipped."""
    return _count(None if x1 is None or x2 is None else threshold_change(code, x1, x2) for x1, x2 in pairs)


# --- Proportions ----------------------------------------------------------------------------------


def proportion_ci(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for successes / n (Wilson 1927; Newcombe 1998 method 3).

    z = Φ⁻¹(1 − α/2); centre = (p + z²/2n) / (1 + z²/n); half = z/(1 + z²/n) · √(p(1−p)/n + z²/4n²).
    The bounds are exactly 0 when successes = 0 and exactly 1 when successes = n. n must be ≥ 1:
    with nobody there is no proportion to bound.
    """
    _check_confidence(confidence)
    for value, name in ((successes, "successes"), (n, "n")):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {value!r}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must lie in [0, n={n}], got {successes}")
    z = float(stats.norm.ppf(1.0 - (1.0 - confidence) / 2.0))
    p = successes / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high
