"""Funnel plot for a proportion (domain/funnel.py) against hand-worked limits and the published formulas.

Normal limits: p0 ± z·√(p0(1−p0)/n). Exact limits: interpolated binomial quantiles (Spiegelhalter
2005). Overdispersion: winsorised z-scores, φ = mean(z_w²), τ² = (nφ − (n−1)) / (Σw − Σw²/Σw).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom, norm

from domain.funnel import FunnelUnit, coverage_label, dispersion, funnel, funnel_limits


def test_normal_limits_hand_worked():
    # p0 = 0.5, n = 100: √(0.25/100) = 0.05; 1.96·0.05 = 0.098 → 0.402 … 0.598
    # 3.09·0.05 = 0.1545 → 0.3455 … 0.6545
    c = funnel_limits(0.5, [100])
    assert c.labels == ("95", "998")
    assert c.normal_lower[0][0] == pytest.approx(0.402)
    assert c.normal_upper[0][0] == pytest.approx(0.598)
    assert c.normal_lower[1][0] == pytest.approx(0.3455)
    assert c.normal_upper[1][0] == pytest.approx(0.6545)


def test_exact_limit_small_n_hand_worked():
    # Binomial(10, 0.2): P(Y=k) for k = 0…6: 0.1073742, 0.2684355, 0.3019899, 0.2013266,
    # 0.0880804, 0.0264241, 0.0055050; F(4) = 0.9672065, F(5) = 0.9936306, F(6) = 0.9991356
    # upper 95 %: q = Φ(1.96) = 0.9750021 → r = 5 (F(4) < q ≤ F(5));
    #   α = (0.9936306 − 0.9750021)/0.0264241 = 0.70498 → (5 + 1 − 0.70498)/10 = 0.529502
    # upper 99.8 %: q = Φ(3.09) = 0.9989992 → r = 6; α = (0.9991356 − 0.9989992)/0.0055050 = 0.02478
    #   → (7 − 0.02478)/10 = 0.697522
    # normal 95 %: 0.2 + 1.96·√(0.016) = 0.2 + 0.247923 = 0.447923 — well below the exact 0.5295
    c = funnel_limits(0.2, [10])
    assert c.exact_upper[0][0] == pytest.approx(0.529502, abs=2e-6)
    assert c.exact_upper[1][0] == pytest.approx(0.697522, abs=2e-6)
    assert c.normal_upper[0][0] == pytest.approx(0.447923, abs=1e-6)
    assert abs(c.exact_upper[0][0] - c.normal_upper[0][0]) > 0.05
    # lower 95 %: p = 0.0249979 ≤ F(0) = 0.107 → r = 0, α = 0.767 → −0.0767, cut to 0
    assert c.exact_lower[0][0] == 0
    # without overdispersion the exact limits are the ones in force
    assert c.upper[0][0] == c.exact_upper[0][0]


def test_exact_lower_limit_hand_worked_and_symmetric_at_one_half():
    # Binomial(20, 0.5): F(5) = 0.0206947, F(6) = 0.0576591; p = Φ(−1.96) = 0.0249979 → r = 6
    # α = (0.0576591 − 0.0249979)/0.0369644 = 0.88360 → (6 − 0.88360)/20 = 0.255821
    # normal: 0.5 − 1.96·√(0.0125) = 0.5 − 0.219135 = 0.280865
    c = funnel_limits(0.5, [20])
    assert c.exact_lower[0][0] == pytest.approx(0.255821, abs=2e-6)
    assert c.normal_lower[0][0] == pytest.approx(0.280865, abs=1e-6)
    # the distribution is symmetric, so are the limits
    assert c.exact_upper[0][0] == pytest.approx(1 - c.exact_lower[0][0])
    assert c.exact_upper[1][0] == pytest.approx(1 - c.exact_lower[1][0])


@pytest.mark.parametrize("n", [1, 2, 5, 10, 30, 100])
def test_exact_limits_contain_the_binomial_quantiles(n):
    p0 = 0.3
    c = funnel_limits(p0, [n])
    for j, z in enumerate((1.96, 3.09)):
        r_low = binom.ppf(norm.sf(z), n, p0)
        r_high = binom.ppf(norm.cdf(z), n, p0)
        lower, upper = c.exact_lower[j][0], c.exact_upper[j][0]
        assert max(0, (r_low - 1) / n) <= lower <= r_low / n
        assert r_high / n <= upper <= min(1, (r_high + 1) / n)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=1, max_value=400), st.floats(min_value=0.001, max_value=0.999))
def test_exact_limits_are_an_exact_binomial_test(n, p0):
    # a count y is below the lower limit iff P(Y ≤ y) < Φ(−z), above the upper iff P(Y ≥ y) < Φ(−z)
    c = funnel_limits(p0, [n])
    y = np.arange(n + 1)
    for j, z in enumerate((1.96, 3.09)):
        tail = norm.sf(z)
        below = y / n < c.exact_lower[j][0]
        above = y / n > c.exact_upper[j][0]
        assert np.array_equal(below, binom.cdf(y, n, p0) < tail)
        assert np.array_equal(above, binom.cdf(y - 1, n, p0) > norm.cdf(z))


@settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=0, max_value=1),
    st.lists(st.integers(min_value=1, max_value=100_000), min_size=1, max_size=20),
    st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=0.5)),
)
def test_limits_ordered_and_within_zero_one(p0, ns, tau2):
    c = funnel_limits(p0, ns, tau2=tau2)
    for lo998, lo95, hi95, hi998 in (
        (c.lower[1], c.lower[0], c.upper[0], c.upper[1]),
        (c.exact_lower[1], c.exact_lower[0], c.exact_upper[0], c.exact_upper[1]),
        (c.normal_lower[1], c.normal_lower[0], c.normal_upper[0], c.normal_upper[1]),
    ):
        assert np.all(lo998 >= 0) and np.all(hi998 <= 1)
        assert np.all(lo998 <= lo95) and np.all(lo95 <= p0) and np.all(p0 <= hi95) and np.all(hi95 <= hi998)


PLANTED = [
    ("a", 60, 200), ("b", 60, 200), ("c", 60, 200), ("d", 60, 200), ("e", 60, 200),
    ("high", 90, 200), ("rather_high", 76, 200), ("low", 30, 200), ("rather_low", 44, 200),
]  # fmt: skip


def test_flags_against_exact_limits():
    # target 0.3, n = 200, exact limits: 95 % 0.23503 … 0.36704, 99.8 % 0.20053 … 0.40510
    # 90/200 = 0.45 > 0.4051; 76/200 = 0.38 in (0.367, 0.405); 30/200 = 0.15 < 0.2005;
    # 44/200 = 0.22 in (0.2005, 0.235); 60/200 = 0.3 within
    r = funnel(PLANTED, target=0.3, overdispersion=False)
    flags = {u.name: u.flag for u in r.units}
    assert flags == {
        "a": "within", "b": "within", "c": "within", "d": "within", "e": "within",
        "high": "above_998", "rather_high": "above_95", "low": "below_998", "rather_low": "below_95",
    }  # fmt: skip
    high = next(u for u in r.units if u.name == "high")
    # z = (0.45 − 0.3)/√(0.21/200) = 0.15/0.0324037 = 4.6291
    assert high.z_score == pytest.approx(4.6291, abs=1e-4)
    assert r.target_given and r.target == 0.3


def test_planted_outlier_flagged_above_998_with_pooled_target():
    units = [FunnelUnit(f"u{i}", 30, 100) for i in range(19)] + [FunnelUnit("outlier", 60, 100)]
    # pooled p0 = (19·30 + 60)/2000 = 630/2000 = 0.315; the 19 others sit 0.015 below it
    r = funnel(units)
    assert r.target == pytest.approx(0.315)
    # winsorising caps the outlier's z at the 90th percentile (one of the equal others): φ small, τ² = 0
    assert r.tau2 == 0 and not r.adjusted
    flags = {u.name: u.flag for u in r.units}
    assert flags.pop("outlier") == "above_998"
    assert set(flags.values()) == {"within"}


def test_pooled_target_and_excluded_units():
    r = funnel([("a", 10, 100), ("b", 30, 100), ("empty", 0, 0)])
    assert r.target == pytest.approx(40 / 200)
    assert [u.name for u in r.units] == ["a", "b"]
    assert [(e.name, e.reason) for e in r.excluded] == [("empty", "denominator is 0")]


@pytest.mark.parametrize("bad", [[("a", 5, 3)], [("a", -1, 3)], [("a", 1.5, 3)], [("a", 1, -2)]])
def test_rejects_bad_counts(bad):
    with pytest.raises(ValueError):
        funnel(bad)


def test_rejects_nothing_to_pool():
    with pytest.raises(ValueError):
        funnel([("empty", 0, 0)])


def test_dispersion_hand_worked():
    # p0 = 0.5, n = 100 each: s = √(0.25/100) = 0.05, w = 1/s² = 400
    # y = 0.40, 0.45, 0.50, 0.55, 0.60 → z = −2, −1, 0, 1, 2
    # 10th/90th percentiles (linear, positions 0.4 and 3.6): −2 + 0.4 = −1.6 and 1 + 0.6 = 1.6
    # winsorised: −1.6, −1, 0, 1, 1.6 → Σz² = 2.56 + 1 + 0 + 1 + 2.56 = 7.12 → φ = 7.12/5 = 1.424
    # τ² = (5·1.424 − 4) / (2000 − 5·400²/2000) = 3.12 / (2000 − 400) = 3.12/1600 = 0.00195
    phi, tau2 = dispersion(0.5, np.array([40, 45, 50, 55, 60.0]), np.array([100.0] * 5))
    assert phi == pytest.approx(1.424)
    assert tau2 == pytest.approx(0.00195)
    r = funnel([(str(i), y, 100) for i, y in enumerate([40, 45, 50, 55, 60])])
    assert r.adjusted and r.tau2 == pytest.approx(0.00195)
    # limits at n = 100: 0.5 ± 1.96·√(0.0025 + 0.00195) = 0.5 ± 1.96·0.0667083 = 0.5 ± 0.130748
    c = r.limits_curve([100])
    assert c.upper[0][0] == pytest.approx(0.630748, abs=1e-6)
    assert c.lower[0][0] == pytest.approx(0.369252, abs=1e-6)


def test_no_tau2_when_n_phi_not_above_n_minus_one():
    # y = 0.48 … 0.52 → z = −0.4 … 0.4; winsorised ±0.32; Σz² = 0.1024·2 + 0.04·2 = 0.2848
    # φ = 0.05696; nφ = 0.2848 < 4 → τ² = 0
    phi, tau2 = dispersion(0.5, np.array([48, 49, 50, 51, 52.0]), np.array([100.0] * 5))
    assert phi == pytest.approx(0.05696)
    assert tau2 == 0


def test_binomial_data_shows_no_overdispersion():
    rng = np.random.default_rng(20240605)
    ns = rng.integers(50, 500, size=80)
    ys = rng.binomial(ns, 0.3)
    r = funnel([(f"u{i}", int(y), int(n)) for i, (y, n) in enumerate(zip(ys, ns, strict=True))])
    raw_z = np.array([u.z_score for u in r.units])
    assert 0.7 < np.mean(raw_z**2) < 1.3  # the simulation is binomial: unwinsorised mean z² ≈ 1
    # winsorising lowers φ (expected ≈ 0.68 for standard normal z), so nφ < n − 1 and τ² = 0
    assert 0.4 < r.phi < 1
    assert r.tau2 == 0 and not r.adjusted
    c = r.limits_curve(r.default_n_values())
    assert np.array_equal(c.upper[0], c.exact_upper[0])


def test_overdispersed_data_gets_tau2_and_wider_limits():
    rng = np.random.default_rng(7)
    ns = rng.integers(200, 2000, size=60)
    true_p = rng.uniform(0.15, 0.45, size=60)  # each centre its own rate: strong overdispersion
    ys = rng.binomial(ns, true_p)
    units = [(f"u{i}", int(y), int(n)) for i, (y, n) in enumerate(zip(ys, ns, strict=True))]
    r = funnel(units)
    assert r.phi > 2 and r.tau2 > 0 and r.adjusted
    unadjusted = funnel(units, overdispersion=False)
    assert not unadjusted.adjusted and unadjusted.phi == r.phi
    n_values = r.default_n_values()
    wide, narrow = r.limits_curve(n_values), unadjusted.limits_curve(n_values)
    for j in range(2):
        assert np.all(wide.upper[j] >= wide.normal_upper[j]) and np.all(wide.lower[j] <= wide.normal_lower[j])
        big = n_values >= 50
        assert np.all(wide.upper[j][big] > narrow.upper[j][big])
        assert np.all(wide.lower[j][big] < narrow.lower[j][big])
    # fewer units fall outside the adjusted limits than outside the unadjusted ones
    outside = sum(u.flag != "within" for u in r.units)
    assert outside < sum(u.flag != "within" for u in unadjusted.units)


def test_limits_curve_shapes_and_labels():
    r = funnel([("a", 10, 100), ("b", 30, 120)])
    ns = r.default_n_values()
    assert ns[0] == 1 and ns[-1] >= 120 and np.all(np.diff(ns) > 0)
    c = r.limits_curve(ns)
    assert c.n.shape == ns.shape and all(a.shape == ns.shape for a in (*c.lower, *c.upper))
    with pytest.raises(ValueError):
        r.limits_curve([0.5])


def test_coverage_labels():
    assert (coverage_label(1.96), coverage_label(3.09)) == ("95", "998")


def test_degenerate_target_collapses_limits():
    r = funnel([("a", 0, 10), ("b", 0, 20)])
    assert r.target == 0 and r.phi is None and r.tau2 == 0
    assert {u.flag for u in r.units} == {"within"}
    assert all(u.z_score is None for u in r.units)
