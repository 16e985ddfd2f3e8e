"""XmR chart and Making Data Count rules (domain/spc.py) against hand-worked series.

Each planted series is built so that exactly one rule can fire; the arithmetic for the mean, the mean
moving range (mean mR) and the lines it is compared with is written beside it. Limits are
mean ± 2.66·mean mR; the 2-sigma ("two thirds of the way") lines are mean ± (2/3)·2.66·mean mR.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.spc import RULE_OUTSIDE, RULE_SHIFT, RULE_TREND, RULE_TWO_IN_THREE, xmr

ALT_PRE = [3, -3, 3, -3, 3, -3]  # alternating: never a run, never a trend
ALT_POST = [-3, 3, -3, 3, -3, 3]


def flagged(result, rule=None):
    return [p.index for p in result.points if (rule in p.rules if rule else p.rules)]


def test_hand_worked_limits():
    values = [10, 12, 11, 13, 12, 14, 13, 15, 14, 16, 15, 17]
    # sum = 162, n = 12 → mean = 13.5
    # moving ranges: 2,1,2,1,2,1,2,1,2,1,2 → 11 ranges, sum 17 → mean mR = 17/11 = 1.545454…
    # half width = 2.66 · 17/11 = 45.22/11 = 4.110909… → limits 9.389091 and 17.610909
    # 2-sigma lines: 13.5 ± (2/3)·4.110909 = 13.5 ± 2.740606 → 10.759394 and 16.240606
    r = xmr(values)
    assert r.centre == pytest.approx(13.5)
    assert r.mean_mr == pytest.approx(17 / 11)
    assert r.upper == pytest.approx(17.610909, abs=1e-6)
    assert r.lower == pytest.approx(9.389091, abs=1e-6)
    assert r.upper_2_3 == pytest.approx(16.240606, abs=1e-6)
    assert r.lower_2_3 == pytest.approx(10.759394, abs=1e-6)
    assert r.sigma == pytest.approx(4.110909 / 3, abs=1e-6)
    assert [p.moving_range for p in r.points] == [None, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2]
    # runs below the mean have 5 points (10,12,11,13,12), above 5 (15,14,16,15,17); the steps
    # alternate; 10 and 17 pass the 2-sigma lines but each alone in its window: all common cause.
    assert flagged(r) == []
    assert r.trial_limits is False
    assert r.variation_icon == "common_cause"


def test_trial_limits_below_twelve_points():
    assert xmr([10, 12, 11, 13, 12, 14, 13, 15, 14, 16, 15]).trial_limits is True
    assert xmr([10, 12, 11, 13, 12, 14, 13, 15, 14, 16, 15, 17]).trial_limits is False


SPIKE_PRE = [1, -1, 1, -1, 1, -1]
SPIKE_POST = [-1, 1, -1, 1, -1, 1]


def test_point_outside_limits_triggers():
    # spike 12 in the middle: sum 12, n 13 → mean 12/13 = 0.9231
    # mR: 5×2, |12−(−1)| = 13, |−1−12| = 13, 5×2 → 46/12 = 3.8333
    # upper = 0.9231 + 2.66·3.8333 = 0.9231 + 10.1967 = 11.1197 < 12
    r = xmr([*SPIKE_PRE, 12, *SPIKE_POST])
    assert r.upper == pytest.approx(12 / 13 + 2.66 * 46 / 12)
    assert flagged(r) == [6]
    assert r.points[6].rules == frozenset({RULE_OUTSIDE})


def test_point_inside_limits_does_not_trigger():
    # spike 10: mean 10/13 = 0.7692; mR: 10 + 11 + 11 + 10 = 42/12 = 3.5
    # upper = 0.7692 + 2.66·3.5 = 0.7692 + 9.31 = 10.0792 > 10; 2-sigma line 6.976 < 10 but alone
    r = xmr([*SPIKE_PRE, 10, *SPIKE_POST])
    assert r.upper == pytest.approx(10 / 13 + 9.31)
    assert flagged(r) == []


def test_low_point_outside_lower_limit():
    # −12 between −1s: mean −12/13; mR 10 + |−12−(−1)| 11 + 11 + 10 = 42/12 = 3.5
    # lower = −0.9231 − 9.31 = −10.2331 > −12
    r = xmr([*SPIKE_PRE, -12, *SPIKE_POST])
    assert r.lower == pytest.approx(-12 / 13 - 2.66 * 3.5)
    assert flagged(r) == [6]
    assert r.points[6].rules == frozenset({RULE_OUTSIDE})


def test_seven_on_one_side_is_a_shift():
    # run [1,2,1,2,1,2,1] between two −3s; sum 0 + 10 + 0 = 10, n 19 → mean 10/19 = 0.526:
    # the 7 run points are above, the ±3 points alternate sides, so the only run is the 7
    # mR: 5×6 + |1−(−3)| 4 + 6×1 + |−3−1| 4 + 5×6 = 74/18 = 4.111 → limits ±10.9, 2-sigma ±7.3
    r = xmr([*ALT_PRE, 1, 2, 1, 2, 1, 2, 1, *ALT_POST])
    assert r.mean_mr == pytest.approx(74 / 18)
    assert flagged(r) == list(range(6, 13))
    assert all(r.points[i].rules == frozenset({RULE_SHIFT}) for i in range(6, 13))


def test_six_on_one_side_is_not_a_shift():
    r = xmr([*ALT_PRE, 1, 2, 1, 2, 1, 2, *ALT_POST])  # mean 9/18 = 0.5; run of 6 above
    assert flagged(r) == []


def test_run_length_is_configurable():
    r = xmr([*ALT_PRE, 1, 2, 1, 2, 1, 2, *ALT_POST], run_length=6)
    assert flagged(r, RULE_SHIFT) == list(range(6, 12))


def test_point_exactly_on_the_mean_breaks_the_run():
    # sums: [1,−3,1,−3,3,−3] = −4, [1,2,1,0,1,2,1] = 8, [−3,1,−3,1,−3,3] = −4 → total 0, mean exactly 0
    # the middle run point 0 lies on the mean: runs of 3 above, then 3 above → no shift
    broken = xmr([1, -3, 1, -3, 3, -3, 1, 2, 1, 0, 1, 2, 1, -3, 1, -3, 1, -3, 3])
    assert broken.centre == 0
    assert flagged(broken) == []
    # the same with 0.5 instead of 0: mean 0.5/19 = 0.026, all 7 above → a shift
    whole = xmr([1, -3, 1, -3, 3, -3, 1, 2, 1, 0.5, 1, 2, 1, -3, 1, -3, 1, -3, 3])
    assert flagged(whole, RULE_SHIFT) == list(range(6, 13))


def test_seven_rising_is_a_trend():
    # [−3,…,3] after a 3 and before a −3: exactly 7 rising points; sums 0 → mean 0
    # mR: 5×6 + 6 + 6×1 + 6 + 5×6 = 78/18 = 4.333 → limits ±11.53, 2-sigma ±7.68
    # sides within the trend: 3 below, one on the mean, 3 above → no shift
    r = xmr([-3, 3, -3, 3, -3, 3, -3, -2, -1, 0, 1, 2, 3, *ALT_POST])
    assert r.mean_mr == pytest.approx(78 / 18)
    assert flagged(r) == list(range(6, 13))
    assert all(r.points[i].rules == frozenset({RULE_TREND}) for i in range(6, 13))


def test_seven_falling_is_a_trend():
    r = xmr([3, -3, 3, -3, 3, -3, 3, 2, 1, 0, -1, -2, -3, 3, -3, 3, -3, 3, -3])
    assert flagged(r) == list(range(6, 13))


def test_six_rising_is_not_a_trend():
    r = xmr([-3, 3, -3, 3, -3, 3, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, *ALT_POST])
    assert flagged(r) == []


def test_equal_consecutive_values_break_a_trend():
    # −3,−2,−1,0 then 0,1,2,3: two rising runs of 4 points, not 8
    r = xmr([-3, 3, -3, 3, -3, 3, -3, -2, -1, 0, 0, 1, 2, 3, *ALT_POST])
    assert flagged(r) == []


TWO_PRE = [1, -1] * 5
TWO_POST = [-1, 1] * 5


def test_two_of_three_beyond_two_sigma_same_side_triggers():
    # [6, 1, 6] planted: sum 13, n 23 → mean 13/23 = 0.5652 (so the 1 between is above the mean)
    # mR: 9×2 + |6−(−1)| 7 + 5 + 5 + 7 + 9×2 = 60/22 = 2.7273
    # 2-sigma line 0.5652 + (2/3)·2.66·2.7273 = 0.5652 + 4.8364 = 5.4016 < 6 < limit 7.8198
    r = xmr([*TWO_PRE, 6, 1, 6, *TWO_POST])
    assert r.mean_mr == pytest.approx(60 / 22)
    assert r.upper_2_3 == pytest.approx(13 / 23 + 2 * 2.66 * 60 / 22 / 3)
    assert flagged(r) == [10, 12]  # only the two points beyond the line, not the 1 between
    assert r.points[10].rules == frozenset({RULE_TWO_IN_THREE})


def test_two_of_three_opposite_sides_do_not_trigger():
    # [6, 1, −6]: mean 1/23 = 0.0435; mR: 9×2 + 7 + 5 + |−6−1| 7 + |−1−(−6)| 5 + 9×2 = 60/22 = 2.7273
    # → 2-sigma lines 0.0435 ± 4.8364 = −4.79 and 4.88: 6 above, −6 below, beyond on opposite sides
    r = xmr([*TWO_PRE, 6, 1, -6, *TWO_POST])
    assert r.points[10].value > r.upper_2_3 and r.points[12].value < r.lower_2_3
    assert flagged(r) == []


def test_two_of_three_need_the_third_point_on_the_same_side():
    # [6, −1, 6]: both 6s beyond the 2-sigma line (5.637) but the −1 between is below the mean;
    # NHSRplotthedots 0.2.2 (the MDC Single Chart tool) then does not flag them
    r = xmr([*TWO_PRE, 6, -1, 6, *TWO_POST])
    assert r.points[10].value > r.upper_2_3 and r.points[12].value > r.upper_2_3
    assert flagged(r) == []


def test_one_point_beyond_two_sigma_does_not_trigger():
    r = xmr([*TWO_PRE, 6, 1, 1, *TWO_POST])
    assert r.points[10].value > r.upper_2_3
    assert flagged(r) == []


def test_outlier_screening_drops_large_moving_ranges():
    # spike 12: mean mR 46/12 = 3.8333; cut 3.267·3.8333 = 12.52; the two ranges of 13 ≥ cut are
    # dropped → mean mR = (5×2 + 5×2)/10 = 2.0; the centre line is unchanged
    values = [*SPIKE_PRE, 12, *SPIKE_POST]
    plain, screened = xmr(values), xmr(values, screen_outliers=True)
    assert plain.mean_mr == pytest.approx(46 / 12)
    assert screened.mean_mr == pytest.approx(2.0)
    assert screened.screened_out == (6, 7)
    assert screened.centre == plain.centre
    assert screened.upper == pytest.approx(12 / 13 + 2.66 * 2)


def test_outlier_screening_keeps_ranges_below_the_cut():
    # spike 10: mean mR 42/12 = 3.5; cut 3.267·3.5 = 11.43 > 11 → nothing dropped
    values = [*SPIKE_PRE, 10, *SPIKE_POST]
    screened = xmr(values, screen_outliers=True)
    assert screened.mean_mr == pytest.approx(3.5)
    assert screened.screened_out == ()


@pytest.mark.parametrize(
    ("spike", "better", "expected"),
    [(12, "higher", "improvement"), (12, "lower", "concern"), (-12, "higher", "concern"),
     (-12, "lower", "improvement"), (12, None, "neither")],
)  # fmt: skip
def test_improvement_or_concern_by_direction(spike, better, expected):
    r = xmr([*SPIKE_PRE, spike, *SPIKE_POST], better=better)
    assert r.points[6].variation == expected
    assert all(p.variation is None for p in r.points if p.index != 6)


def test_rising_trend_is_improvement_even_below_the_mean():
    # NHSRplotthedots 0.2.2 (PR #180): a trend point takes the trend's direction, not its side
    r = xmr([-3, 3, -3, 3, -3, 3, -3, -2, -1, 0, 1, 2, 3, *ALT_POST], better="higher")
    assert {r.points[i].variation for i in range(6, 13)} == {"improvement"}
    r = xmr([-3, 3, -3, 3, -3, 3, -3, -2, -1, 0, 1, 2, 3, *ALT_POST], better="lower")
    assert {r.points[i].variation for i in range(6, 13)} == {"concern"}


def test_trend_decides_over_shift_when_they_disagree():
    # rising run −6 … −3 (step 0.5) between the −3s that end ALT_PRE and start ALT_POST:
    # sum −31.5, n 19 → mean −1.658; the 7 trend points and both −3s are below it (a shift of 9);
    # mR: 5×6 + 3 + 6×0.5 + 0 + 5×6 = 66/18 = 3.667 → limits −11.41 … 8.09, 2-sigma −8.16: none beyond
    r = xmr([*ALT_PRE, -6, -5.5, -5, -4.5, -4, -3.5, -3, *ALT_POST], better="higher")
    assert r.mean_mr == pytest.approx(66 / 18)
    assert [r.points[i].rules for i in range(5, 15)] == [frozenset({RULE_SHIFT})] + [
        frozenset({RULE_SHIFT, RULE_TREND})
    ] * 7 + [frozenset({RULE_SHIFT}), frozenset()]
    # the shift says concern, the rising trend improvement: the trend comes first (PR #180)
    assert {r.points[i].variation for i in range(6, 13)} == {"improvement"}
    assert r.points[5].variation == r.points[13].variation == "concern"


def test_shift_below_the_mean_is_concern_when_higher_is_better():
    r = xmr([-v for v in [*ALT_PRE, 1, 2, 1, 2, 1, 2, 1, *ALT_POST]], better="higher")
    assert {r.points[i].variation for i in range(6, 13)} == {"concern"}


def test_variation_icon_follows_the_latest_point():
    # last point 12 after 12 alternating ±1: mean 12/13; mR (11×2 + 13)/12 = 2.9167;
    # upper = 0.923 + 7.758 = 8.68 < 12
    values = [1, -1] * 6 + [12]
    assert xmr(values, better="higher").variation_icon == "special_cause_improvement"
    assert xmr(values, better="lower").variation_icon == "special_cause_concern"
    assert xmr(values).variation_icon == "special_cause_neither_high"
    assert xmr([-v for v in values]).variation_icon == "special_cause_neither_low"
    assert xmr([*SPIKE_PRE, 12, *SPIKE_POST], better="higher").variation_icon == "common_cause"


@pytest.mark.parametrize(
    ("target", "better", "expected"),
    [(20, "higher", "consistently_fail"), (5, "higher", "consistently_pass"), (15, "higher", "hit_or_miss"),
     (20, "lower", "consistently_pass"), (5, "lower", "consistently_fail"), (15, None, None),
     (None, "higher", None)],
)  # fmt: skip
def test_assurance(target, better, expected):
    # limits 9.389 … 17.611 (hand-worked above)
    values = [10, 12, 11, 13, 12, 14, 13, 15, 14, 16, 15, 17]
    assert xmr(values, target=target, better=better).assurance == expected


@pytest.mark.parametrize("bad", [[], [1.0], [1.0, float("nan"), 2.0]])
def test_rejects_too_few_or_non_finite(bad):
    with pytest.raises(ValueError):
        xmr(bad)


def test_rejects_unknown_direction():
    with pytest.raises(ValueError):
        xmr([1, 2, 3], better="up")


def test_constant_series_has_zero_width_and_no_special_cause_from_limits():
    r = xmr([5] * 12, screen_outliers=True)
    assert (r.lower, r.centre, r.upper, r.mean_mr) == (5, 5, 5, 0)
    assert flagged(r) == []  # every point is on the mean; no step is a rise or fall


series = st.lists(st.integers(min_value=-1000, max_value=1000), min_size=2, max_size=40)


@given(series, st.booleans())
def test_lines_are_ordered(values, screen):
    r = xmr(values, screen_outliers=screen)
    assert r.lower <= r.lower_2_3 <= r.centre <= r.upper_2_3 <= r.upper
    assert r.trial_limits == (len(values) < 12)


@given(series, st.sampled_from(["higher", "lower", None]))
def test_variation_set_exactly_for_special_cause_points(values, better):
    for p in xmr(values, better=better).points:
        assert (p.variation is None) == (not p.rules)


@given(series)
def test_mirror_image_swaps_improvement_and_concern(values):
    # negation is exact in floating point, so the same points are flagged with the direction swapped
    up = xmr(values, better="higher")
    down = xmr([-v for v in values], better="lower")
    assert [p.rules for p in up.points] == [p.rules for p in down.points]
    assert [p.variation for p in up.points] == [p.variation for p in down.points]
