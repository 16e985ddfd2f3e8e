"""Funnel plots for a proportion: compare units (health centres) without ranking them.

Pure Python (numpy, scipy); no I/O. Sources:

* Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. Statistics in
  Medicine 24:1185–1202, doi:10.1002/sim.1970 — the limits, the exact binomial limits with
  interpolation (appendix) and the overdispersion adjustment (additive random effects);
* Spiegelhalter DJ et al. (2012). Statistical methods for healthcare regulation: rating, screening and
  surveillance. JRSS A 175:1–47 — winsorised z-scores for the dispersion estimate;
* reference implementation FunnelPlotR (NHS-R Community; ``winsorisation``, ``phi_func``,
  ``tau_func``, ``build_limits_lookup``); /work/shared/REFERENCE.md, "Statistics for outcome dashboards".

Target p0: the pooled proportion Σy/Σn over the units shown (as FunnelPlotR does for proportions), or
a given target.

Limits at z (default 1.96 for 95 % and 3.09 for 99.8 %), for every n:

* **normal**: p0 ± z·√(p0(1−p0)/n), cut to [0, 1];
* **exact binomial** (Spiegelhalter 2005, appendix: binomial quantiles with interpolation so the
  limits move smoothly with n). F is the Binomial(n, p0) distribution function, r_p = the smallest r
  with F(r) ≥ p (``scipy.stats.binom.ppf``) and α = (F(r_p) − p) / (F(r_p) − F(r_p − 1)), in [0, 1).
  Lower limit, p = Φ(−z): (r_p − α)/n. Upper limit, p = Φ(z): (r_p + 1 − α)/n — the upper-tail
  form of the ``qbinom.interp`` function in the R "funnel4" program (2016) after Spiegelhalter; the
  plain (r_p − α)/n would flag the count r_p although P(Y ≥ r_p) > Φ(−z). With these limits a count y
  lies below the lower limit exactly when P(Y ≤ y) < Φ(−z) and above the upper exactly when
  P(Y ≥ y) < Φ(−z): an exact one-sided binomial test at each tail (tested). Limits are cut to
  [0, 1]; when nearly all the binomial mass sits on 0 (or on n) an interpolated limit can fall on the
  wrong side of p0, and it is then set to p0 — no count can lie between, so no flag changes;
* **overdispersed** (when τ² > 0): p0 ± z·√(p0(1−p0)/n + τ²), cut to [0, 1].

The limits *in force* (drawn, and used for the flags) are the overdispersed ones when the adjustment
is on and τ² > 0, else the exact binomial ones at every n (they approach the normal ones as n grows;
the normal ones are returned too, for comparison).

Overdispersion: z_i = (y_i − p0)/s_i with s_i = √(p0(1−p0)/n_i) (Spiegelhalter 2005, on the
proportion scale; note FunnelPlotR uses an arcsine-square-root scale for proportions instead);
winsorise the z-scores at their 10th and 90th percentiles (numpy's linear quantile = R's type 7, as
FunnelPlotR); φ = (1/n)·Σ z_w²; τ² = max(0, (nφ − (n−1)) / (Σw − Σw²/Σw)) with w_i = 1/s_i²; the
adjusted limits are used whenever τ² > 0, i.e. whenever nφ > n − 1. That is FunnelPlotR's rule
(``tau_func`` returns 0 when nφ < n − 1 and the plot falls back to unadjusted limits when τ² = 0);
it is slightly looser than "φ > 1". Note that winsorising shrinks φ: for units with no
overdispersion (standard normal z) the expected winsorised φ is about 0.68 rather than 1
(0.8 − 2·1.2816·φ_N(1.2816) + 0.2·1.2816² ≈ 0.679, our arithmetic), so τ² = 0 is the usual outcome
there. φ is None when it cannot be estimated (p0 of 0 or 1); τ² needs at least two units.

Units with a denominator of 0 are left out, with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.stats import binom, norm

DEFAULT_Z = (1.96, 3.09)
WINSOR_FRACTION = 0.1
WITHIN = "within"


class FunnelUnit(NamedTuple):
    name: str
    numerator: int
    denominator: int


@dataclass(frozen=True)
class UnitResult:
    name: str
    numerator: int
    denominator: int
    proportion: float
    z_score: float | None  # (y − p0)/√(p0(1−p0)/n), unadjusted; None when p0 is 0 or 1
    flag: str  # "within" | "above_95" | "above_998" | "below_95" | "below_998"


@dataclass(frozen=True)
class ExcludedUnit:
    name: str
    reason: str


@dataclass(frozen=True)
class LimitCurves:
    """Limits over a range of n, one array per z (in the order of ``z``), for plotting."""

    n: np.ndarray
    target: float
    z: tuple[float, ...]
    labels: tuple[str, ...]  # "95", "998" for the default z
    tau2: float
    lower: tuple[np.ndarray, ...]  # limits in force
    upper: tuple[np.ndarray, ...]
    normal_lower: tuple[np.ndarray, ...]
    normal_upper: tuple[np.ndarray, ...]
    exact_lower: tuple[np.ndarray, ...]
    exact_upper: tuple[np.ndarray, ...]

    @property
    def adjusted(self) -> bool:
        return self.tau2 > 0


@dataclass(frozen=True)
class FunnelResult:
    target: float
    target_given: bool
    z: tuple[float, ...]
    labels: tuple[str, ...]
    phi: float | None  # estimated even when the adjustment is off
    tau2: float
    adjusted: bool  # overdispersed limits in force (overdispersion on and τ² > 0)
    units: tuple[UnitResult, ...]
    excluded: tuple[ExcludedUnit, ...]

    def limits_curve(self, n_values: Iterable[float]) -> LimitCurves:
        """The limits in force (and the normal and exact ones) at each n in ``n_values``."""
        return funnel_limits(self.target, n_values, z=self.z, tau2=self.tau2 if self.adjusted else 0.0)

    def default_n_values(self, points: int = 120) -> np.ndarray:
        """Whole numbers from 1 to a little past the largest denominator, spaced evenly on a log scale."""
        top = max((u.denominator for u in self.units), default=1)
        return np.unique(np.round(np.geomspace(1, max(2, math.ceil(top * 1.1)), points))).astype(int)


def coverage_label(z: float) -> str:
    """Two-sided coverage of ±z as a short label: 1.96 → "95", 3.09 → "998"."""
    percent = round(100 * (1 - 2 * float(norm.sf(z))), 1)
    return f"{percent:g}".replace(".", "")


def _check_z(z: Sequence[float]) -> tuple[float, ...]:
    zs = tuple(float(v) for v in z)
    if not zs or any(not math.isfinite(v) or v <= 0 for v in zs) or list(zs) != sorted(set(zs)):
        raise ValueError("z must be positive, finite and strictly increasing")
    return zs


def _check_n(n_values: Iterable[float]) -> np.ndarray:
    n = np.asarray(list(n_values), dtype=float)
    if n.ndim != 1 or np.any(~np.isfinite(n)) or np.any(n < 1) or np.any(n != np.round(n)):
        raise ValueError("n values must be whole numbers of at least 1")
    return n.astype(np.int64)


def _exact_limit(target: float, n: np.ndarray, p: float, *, upper: bool) -> np.ndarray:
    """Interpolated binomial quantile: (r_p − α)/n below, (r_p + 1 − α)/n above (module docstring)."""
    r = binom.ppf(p, n, target)
    f_r = binom.cdf(r, n, target)
    step = f_r - binom.cdf(r - 1, n, target)  # P(Y = r); binom.pmf overflows for some tiny p0
    alpha = np.divide(f_r - p, step, out=np.zeros_like(step), where=step > 0)
    return (r + 1 - alpha) / n if upper else (r - alpha) / n


def funnel_limits(
    target: float,
    n_values: Iterable[float],
    *,
    z: Sequence[float] = DEFAULT_Z,
    tau2: float = 0.0,
) -> LimitCurves:
    """Funnel limits around ``target`` at each n (whole numbers ≥ 1); see the module docstring.

    With ``tau2`` > 0 the limits in force are the overdispersed normal ones, else the exact binomial.
    """
    if not 0 <= target <= 1:
        raise ValueError("target must be a proportion in [0, 1]")
    if not (math.isfinite(tau2) and tau2 >= 0):
        raise ValueError("tau2 must be a finite number ≥ 0")
    zs = _check_z(z)
    n = _check_n(n_values)
    var = target * (1 - target) / n
    normal_lower, normal_upper, exact_lower, exact_upper, lower, upper = [], [], [], [], [], []
    for zi in zs:
        half = zi * np.sqrt(var)
        normal_lower.append(np.clip(target - half, 0, 1))
        normal_upper.append(np.clip(target + half, 0, 1))
        if 0 < target < 1:
            lo = np.minimum(np.clip(_exact_limit(target, n, float(norm.sf(zi)), upper=False), 0, 1), target)
            hi = np.maximum(np.clip(_exact_limit(target, n, float(norm.cdf(zi)), upper=True), 0, 1), target)
        else:  # all the mass on one value: the limits collapse onto the target
            lo = hi = np.full(n.shape, float(target))
        exact_lower.append(lo)
        exact_upper.append(hi)
        if tau2 > 0:
            half_od = zi * np.sqrt(var + tau2)
            lower.append(np.clip(target - half_od, 0, 1))
            upper.append(np.clip(target + half_od, 0, 1))
        else:
            lower.append(lo)
            upper.append(hi)

    def frozen(arrays: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        for a in arrays:
            a.setflags(write=False)
        return tuple(arrays)

    n.setflags(write=False)
    return LimitCurves(
        n=n,
        target=float(target),
        z=zs,
        labels=tuple(coverage_label(v) for v in zs),
        tau2=float(tau2),
        lower=frozen(lower),
        upper=frozen(upper),
        normal_lower=frozen(normal_lower),
        normal_upper=frozen(normal_upper),
        exact_lower=frozen(exact_lower),
        exact_upper=frozen(exact_upper),
    )


def _as_count(value: float, what: str, name: str) -> int:
    if isinstance(value, bool) or not float(value).is_integer() or value < 0:
        raise ValueError(f"{what} of unit {name!r} must be a whole number ≥ 0, not {value!r}")
    return int(value)


def dispersion(target: float, numerators: np.ndarray, denominators: np.ndarray) -> tuple[float | None, float]:
    """(φ, τ²) from winsorised z-scores (Spiegelhalter 2005 and 2012; FunnelPlotR)."""
    k = len(denominators)
    if k == 0 or not 0 < target < 1:
        return None, 0.0
    s2 = target * (1 - target) / denominators
    z = (numerators / denominators - target) / np.sqrt(s2)
    low, high = np.quantile(z, [WINSOR_FRACTION, 1 - WINSOR_FRACTION])
    phi = float(np.mean(np.clip(z, low, high) ** 2))
    w = 1 / s2
    spread = float(w.sum() - (w**2).sum() / w.sum())
    if k < 2 or spread <= 0 or k * phi <= k - 1:
        return phi, 0.0
    return phi, max(0.0, (k * phi - (k - 1)) / spread)


def funnel(
    units: Iterable[FunnelUnit | tuple[str, int, int]],
    *,
    target: float | None = None,
    overdispersion: bool = True,
    z: Sequence[float] = DEFAULT_Z,
) -> FunnelResult:
    """Funnel plot for a proportion: target, limits, φ, τ² and a flag per unit (module docstring).

    ``units`` are (name, numerator, denominator) with whole numbers, 0 ≤ numerator ≤ denominator.
    Each unit is flagged against the limits in force at its own denominator: "above_998" when its
    proportion is strictly above the 99.8 % upper limit, else "above_95" when above the 95 % one, the
    same below, else "within" (labels follow ``z``; see ``coverage_label``).
    Raises ValueError for bad counts, a target outside [0, 1], or no unit with a denominator above 0
    when the target is to be pooled.
    """
    zs = _check_z(z)
    labels = tuple(coverage_label(v) for v in zs)
    if target is not None and not (math.isfinite(target) and 0 <= target <= 1):
        raise ValueError("target must be a proportion in [0, 1]")

    kept: list[FunnelUnit] = []
    excluded: list[ExcludedUnit] = []
    for unit in units:
        name, numerator, denominator = unit
        num = _as_count(numerator, "numerator", name)
        den = _as_count(denominator, "denominator", name)
        if num > den:
            raise ValueError(f"numerator of unit {name!r} exceeds its denominator")
        if den == 0:
            excluded.append(ExcludedUnit(name, "denominator is 0"))
        else:
            kept.append(FunnelUnit(name, num, den))

    nums = np.array([u.numerator for u in kept], dtype=float)
    dens = np.array([u.denominator for u in kept], dtype=float)
    if target is None:
        if not kept:
            raise ValueError("no unit with a denominator above 0 to pool a target from")
        p0 = float(nums.sum() / dens.sum())
    else:
        p0 = float(target)

    phi, tau2 = dispersion(p0, nums, dens)
    adjusted = overdispersion and tau2 > 0

    results: list[UnitResult] = []
    if kept:
        curves = funnel_limits(p0, dens, z=zs, tau2=tau2 if adjusted else 0.0)
        for i, unit in enumerate(kept):
            y = unit.numerator / unit.denominator
            flag = WITHIN
            for j in reversed(range(len(zs))):
                if y > curves.upper[j][i]:
                    flag = f"above_{labels[j]}"
                    break
                if y < curves.lower[j][i]:
                    flag = f"below_{labels[j]}"
                    break
            z_score = (y - p0) / math.sqrt(p0 * (1 - p0) / unit.denominator) if 0 < p0 < 1 else None
            results.append(UnitResult(unit.name, unit.numerator, unit.denominator, y, z_score, flag))

    return FunnelResult(
        target=p0,
        target_given=target is not None,
        z=zs,
        labels=labels,
        phi=phi,
        tau2=tau2,
        adjusted=adjusted,
        units=tuple(results),
        excluded=tuple(excluded),
    )
