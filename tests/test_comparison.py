"""domain.comparison against scipy on raw numbers and a hand-worked case."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from domain.comparison import SummaryStats, mean_ci, welch_difference


def summary(values) -> SummaryStats:
    return SummaryStats(len(values), float(sum(values)), float(sum(v * v for v in values)))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ([-3, -1, -2, -4, 0, -2, -3, -1, -2], [0, -1, 1, 0, -1, 0, 2, -1, 0, 1, 0]),
        ([1.5, 2.5, 3.0, 0.5, 2.0, 4.5, 1.0, 2.2], [0.1, 0.3, -0.2, 0.4, 0.0, 0.2, 0.1, 0.3, -0.1, 0.5]),
        ([10, 12, 9, 11], [3, 20, -5, 14, 8]),
    ],
)
def test_welch_matches_scipy(a, b):
    result = welch_difference(summary(a), summary(b))
    test = stats.ttest_ind(a, b, equal_var=False)
    ci = test.confidence_interval(0.95)
    assert result.estimate == pytest.approx(sum(a) / len(a) - sum(b) / len(b))
    assert result.low == pytest.approx(ci.low, rel=1e-9)
    assert result.high == pytest.approx(ci.high, rel=1e-9)
    assert result.df == pytest.approx(test.df, rel=1e-9)


def test_welch_by_hand():
    # a: mean 2, s² = 1 (n 4: 1,2,3,2 -> Σ(x-2)² = 2, /3 ... use 1,3,1,3: s² = 4/3); b: 0,0,2,2 -> s² 4/3
    a, b = [1, 3, 1, 3], [0, 0, 2, 2]
    r = welch_difference(summary(a), summary(b))
    se = math.sqrt(4 / 3 / 4 + 4 / 3 / 4)  # 0.8165
    assert r.estimate == 1.0 and r.se == pytest.approx(se)
    assert r.df == pytest.approx(6.0)  # equal n and variances: n1 + n2 - 2
    assert r.high - 1.0 == pytest.approx(2.446912 * se, rel=1e-6)  # t(0.975, 6) = 2.4469


def test_mean_ci_matches_scipy():
    values = [-2, -1, 0, -3, -2, -1, -4, 0]
    ci = mean_ci(summary(values))
    low, high = stats.t.interval(0.95, len(values) - 1, loc=sum(values) / 8, scale=stats.sem(values))
    assert (ci.low, ci.high) == pytest.approx((low, high))


def test_small_groups_and_constant_values():
    assert welch_difference(summary([1.0]), summary([2.0, 3.0])).low is None
    assert mean_ci(summary([5.0])).low is None
    same = welch_difference(summary([1, 1, 1]), summary([0, 0]))
    assert same.estimate == 1 and same.low == same.high == 1
    with pytest.raises(ValueError):
        SummaryStats(-1, 0.0, 0.0)
    with pytest.raises(ValueError):
        welch_difference(summary([1, 2]), summary([1, 2]), confidence=1.0)
