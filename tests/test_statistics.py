"""domain.statistics against hand-worked cases and the published formulas, plus properties.

Constants used below, to 6 significant figures (any table of Student's t / the normal distribution):
t(0.975, df=3) = 3.18245, t(0.975, df=1) = 12.7062, z(0.975) = 1.95996.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.statistics import (
    BETTER_DIRECTION,
    CHANGE_THRESHOLDS,
    RELIABILITY,
    ChangeCounts,
    ReliabilityParams,
    minimum_reliable_difference,
    paired_change,
    proportion_ci,
    reliability_params,
    reliable_change_category,
    reliable_change_counts,
    reliable_change_index,
    threshold_change,
    threshold_change_counts,
    unpaired_difference,
)

# --- Paired change: hand-worked -------------------------------------------------------------------


def test_paired_change_hand_worked_ci():
    # changes 1, 2, 3, 4: mean 2.5; deviations -1.5 -0.5 0.5 1.5, squares sum 5, var 5/3,
    # sd = sqrt(5/3) = 1.290994; se = sd/sqrt(4) = 0.645497; half = 3.182446 * 0.645497
    # = 1.936491 + 0.117768 = 2.054260; CI = 2.5 ± 2.054260 = (0.445740, 4.554260)
    result = paired_change([(10, 11), (10, 12), (10, 13), (10, 14)])
    assert (result.n_baseline, result.n_followed, result.share_lost) == (4, 4, 0.0)
    assert result.mean_baseline == 10.0 and result.mean_followup == 12.5
    assert result.mean_change == 2.5
    assert result.sd_change == pytest.approx(1.290994, abs=1e-6)
    assert result.ci_low == pytest.approx(0.445740, abs=1e-6)
    assert result.ci_high == pytest.approx(4.554260, abs=1e-6)
    assert result.confidence == 0.95


def test_paired_change_other_confidence_uses_t_of_that_level():
    # same changes, 90%: t(0.95, 3) = 2.353363; half = 2.353363 * 0.645497 = 1.519089
    result = paired_change([(0, 1), (0, 2), (0, 3), (0, 4)], confidence=0.90)
    assert result.ci_low == pytest.approx(2.5 - 1.519089, abs=1e-5)
    assert result.ci_high == pytest.approx(2.5 + 1.519089, abs=1e-5)


def test_paired_change_two_people():
    # changes 2 and 4: mean 3, sd = sqrt(((−1)² + 1²)/1) = sqrt(2) = 1.414214, se = 1.414214/sqrt(2) = 1
    # half = t(0.975, 1) * 1 = 12.706205 -> CI (−9.706205, 15.706205)
    result = paired_change([(5, 7), (5, 9)])
    assert result.sd_change == pytest.approx(math.sqrt(2))
    assert result.ci_low == pytest.approx(3 - 12.706205, abs=1e-5)
    assert result.ci_high == pytest.approx(3 + 12.706205, abs=1e-5)


def test_paired_change_none_handling_and_means_over_paired_only():
    pairs = [
        (10, 12),  # paired, change +2
        (20, 20),  # paired, change 0
        (30, None),  # baseline only: lost; NOT in the paired means
        (None, 99),  # follow-up without baseline: neither counted at baseline nor paired
        (None, None),
    ]
    result = paired_change(pairs)
    assert result.n_baseline == 3
    assert result.n_followed == 2
    assert result.share_lost == pytest.approx(1 / 3)  # 1 − 2/3
    assert result.mean_baseline == 15.0  # (10 + 20) / 2, not (10 + 20 + 30) / 3
    assert result.mean_followup == 16.0  # (12 + 20) / 2, the 99 is unpaired
    assert result.mean_change == 1.0
    assert result.n_followup_only == 1


def test_paired_change_nobody():
    result = paired_change([])
    assert (result.n_baseline, result.n_followed, result.share_lost) == (0, 0, None)
    assert result.mean_change is None and result.sd_change is None and result.ci_low is None
    assert result.mean_baseline is None and result.mean_followup is None


def test_paired_change_baselines_but_nobody_followed():
    result = paired_change([(4, None), (5, None)])
    assert (result.n_baseline, result.n_followed, result.share_lost) == (2, 0, 1.0)
    assert result.mean_change is None and result.ci_high is None


def test_paired_change_one_person_has_a_mean_but_no_spread():
    result = paired_change([(4, 7), (6, None)])
    assert result.n_followed == 1 and result.share_lost == 0.5
    assert result.mean_change == 3.0
    assert result.sd_change is None and result.ci_low is None and result.ci_high is None


def test_paired_change_equal_changes_collapse_the_ci():
    result = paired_change([(3, 5), (7, 9), (1, 3)])
    assert result.sd_change == 0.0
    assert result.ci_low == result.ci_high == result.mean_change == 2.0


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "3"])
def test_paired_change_rejects_non_numbers(bad):
    with pytest.raises((ValueError, TypeError)):
        paired_change([(1, 2), (bad, 3)])


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.1])
def test_paired_change_rejects_bad_confidence(confidence):
    with pytest.raises(ValueError):
        paired_change([(1, 2), (2, 3)], confidence=confidence)


# --- The unpaired mistake, planted ----------------------------------------------------------------


def test_unpaired_difference_hides_drop_out_of_the_loneliest():
    # UCLA-3 (3-9, lower is better). Six people at baseline; the two loneliest (9, 9) are lost.
    baselines = [3, 4, 5, 6, 9, 9]
    followups = [4, 6, 5, 7, None, None]
    # Paired: changes +1, +2, 0, +1 -> mean +1.0 (lonelier). sd: deviations 0, 1, −1, 0 -> var 2/3,
    # sd 0.816497, se 0.408248, half = 3.182446 * 0.408248 = 1.299228 -> CI (−0.299228, 2.299228).
    paired = paired_change(list(zip(baselines, followups, strict=True)))
    assert paired.mean_change == 1.0
    assert paired.share_lost == pytest.approx(1 / 3)
    assert paired.ci_low == pytest.approx(-0.299228, abs=1e-5)
    assert paired.ci_high == pytest.approx(2.299228, abs=1e-5)
    # Unpaired: mean follow-up 22/4 = 5.5 minus mean baseline 36/6 = 6.0 -> −0.5 ("less lonely").
    unpaired = unpaired_difference(baselines, followups)
    assert unpaired == -0.5
    # Opposite sign, and outside the paired interval.
    assert unpaired * paired.mean_change < 0
    assert not paired.ci_low <= unpaired <= paired.ci_high


def test_unpaired_difference_empty_sides():
    assert unpaired_difference([], [1]) is None
    assert unpaired_difference([1, None], [None]) is None
    assert unpaired_difference([1, 3], [4]) == 2.0


# --- Paired change: properties --------------------------------------------------------------------

scores = st.one_of(st.none(), st.integers(min_value=-1000, max_value=1000))
pair_lists = st.lists(st.tuples(scores, scores), max_size=40)


@given(pair_lists)
def test_share_lost_in_unit_interval_and_counts_consistent(pairs):
    result = paired_change(pairs)
    assert result.n_followed <= result.n_baseline <= len(pairs)
    if result.n_baseline:
        assert 0.0 <= result.share_lost <= 1.0
    else:
        assert result.share_lost is None


@given(pair_lists, st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_ci_contains_the_mean_change(pairs, confidence):
    result = paired_change(pairs, confidence=confidence)
    if result.n_followed >= 2:
        assert result.ci_low <= result.mean_change <= result.ci_high
        assert result.mean_change == pytest.approx(result.mean_followup - result.mean_baseline, abs=1e-9)


@given(pair_lists)
def test_wider_confidence_wider_interval(pairs):
    narrow, wide = paired_change(pairs, confidence=0.9), paired_change(pairs, confidence=0.99)
    if narrow.n_followed >= 2:
        assert wide.ci_low <= narrow.ci_low and narrow.ci_high <= wide.ci_high


@given(pair_lists, st.integers(min_value=-1000, max_value=1000))
def test_paired_change_invariant_to_a_constant_added_at_both_times(pairs, constant):
    shifted = [(None if a is None else a + constant, None if b is None else b + constant) for a, b in pairs]
    before, after = paired_change(pairs), paired_change(shifted)
    assert (after.n_baseline, after.n_followed, after.share_lost) == (
        before.n_baseline,
        before.n_followed,
        before.share_lost,
    )
    for field in ("mean_change", "sd_change", "ci_low", "ci_high"):
        assert getattr(after, field) == getattr(before, field)  # integers: exact
    if before.n_followed:
        assert after.mean_baseline == pytest.approx(before.mean_baseline + constant)


@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), min_size=1, max_size=40))
def test_without_drop_out_paired_and_unpaired_agree(pairs):
    baselines, followups = zip(*pairs, strict=True)
    assert paired_change(pairs).mean_change == pytest.approx(unpaired_difference(baselines, followups))


# --- Reliable change ------------------------------------------------------------------------------


def test_rci_hand_worked():
    # sd1 = 5, r = 0.8: SE = 5·sqrt(0.2) = 2.236068; S_diff = sqrt(2)·2.236068 = 3.162278 (= sqrt(10))
    # x1 = 20, x2 = 27: RC = 7 / 3.162278 = 2.213594
    assert reliable_change_index(20, 27, sd1=5, r=0.8) == pytest.approx(2.213594, abs=1e-6)
    assert reliable_change_index(27, 20, sd1=5, r=0.8) == pytest.approx(-2.213594, abs=1e-6)
    # the published form, SD1·√2·√(1−r), typed in separately
    assert reliable_change_index(20, 27, sd1=5, r=0.8) == pytest.approx(
        7 / (5 * math.sqrt(2) * math.sqrt(0.2))
    )
    # minimum reliable difference = 1.96 · 3.162278 = 6.198064
    assert minimum_reliable_difference(5, 0.8) == pytest.approx(6.198064, abs=1e-6)


def test_rci_boundary_exactly_z_is_not_reliable():
    # sd1 = 1, r = 0.5: S_diff = 1·√2·√0.5 = 1 (exactly, as computed), so RC = x2 − x1.
    assert reliable_change_index(0, 1.96, sd1=1, r=0.5) == 1.96
    for better in ("higher", "lower"):
        assert reliable_change_category(0, 1.96, sd1=1, r=0.5, better=better) == "no_reliable_change"
        assert reliable_change_category(1.96, 0, sd1=1, r=0.5, better=better) == "no_reliable_change"
    just_above = math.nextafter(1.96, math.inf)
    assert reliable_change_category(0, just_above, sd1=1, r=0.5, better="higher") == "improved"
    assert reliable_change_category(0, -just_above, sd1=1, r=0.5, better="higher") == "deteriorated"
    # sd1 = 2: S_diff = 2, a change of 3.92 is RC = 1.96 exactly; 3.93 is reliable.
    assert reliable_change_category(10, 13.92, sd1=2, r=0.5, better="higher") == "no_reliable_change"
    assert reliable_change_category(10, 13.93, sd1=2, r=0.5, better="higher") == "improved"


@pytest.mark.parametrize("code", ["ucla3", "djg6", "ons4.anxious", "phq9", "gad7"])
def test_lower_is_better_instruments(code):
    better = BETTER_DIRECTION[code]
    assert better == "lower"
    # sd1 = 1, r = 0.5 -> RC = x2 − x1
    assert reliable_change_category(9, 3, sd1=1, r=0.5, better=better) == "improved"  # RC −6
    assert reliable_change_category(3, 9, sd1=1, r=0.5, better=better) == "deteriorated"  # RC +6
    assert reliable_change_category(5, 6, sd1=1, r=0.5, better=better) == "no_reliable_change"  # RC +1


@pytest.mark.parametrize("code", ["swemwbs", "ons4.satisfied", "ons4.worthwhile", "ons4.happy"])
def test_higher_is_better_instruments(code):
    better = BETTER_DIRECTION[code]
    assert better == "higher"
    # SWEMWBS metric 19.25 -> 24.11 with sd1 = 1, r = 0.5: RC = +4.86
    assert reliable_change_category(19.25, 24.11, sd1=1, r=0.5, better=better) == "improved"
    assert reliable_change_category(24.11, 19.25, sd1=1, r=0.5, better=better) == "deteriorated"


def test_reliable_change_counts():
    # sd1 = 1, r = 0.5 -> RC = x2 − x1; better lower (UCLA-3)
    pairs = [(9, 3), (8, 4), (5, 5), (4, 5), (3, 9), (7, None), (None, 4)]
    counts = reliable_change_counts(pairs, sd1=1, r=0.5, better="lower")
    # −6, −4 improved; 0, +1 no reliable change; +6 deteriorated; two incomplete pairs skipped
    assert counts == ChangeCounts(improved=2, no_reliable_change=2, deteriorated=1, skipped=2)
    assert counts.n == 5
    assert reliable_change_counts([], sd1=1, r=0.5, better="lower") == ChangeCounts()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sd1": 0, "r": 0.5},
        {"sd1": -1, "r": 0.5},
        {"sd1": 1, "r": 1.0},
        {"sd1": 1, "r": -0.1},
        {"sd1": float("nan"), "r": 0.5},
    ],
)
def test_rci_rejects_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        reliable_change_index(1, 2, **kwargs)
    with pytest.raises(ValueError):
        minimum_reliable_difference(**kwargs)


def test_category_rejects_bad_direction():
    with pytest.raises(ValueError):
        reliable_change_category(1, 2, sd1=1, r=0.5, better="up")
    with pytest.raises(ValueError):
        reliable_change_counts([], sd1=1, r=0.5, better="down")


@given(
    st.floats(-100, 100),
    st.floats(-100, 100),
    st.floats(0.1, 20),
    st.floats(0.0, 0.99),
    st.sampled_from(["higher", "lower"]),
)
def test_category_agrees_with_the_minimum_reliable_difference(x1, x2, sd1, r, better):
    mrd = minimum_reliable_difference(sd1, r)
    change = x2 - x1
    assume(abs(abs(change) - mrd) > 1e-9 * max(1.0, mrd))  # away from the rounding edge
    category = reliable_change_category(x1, x2, sd1=sd1, r=r, better=better)
    if abs(change) < mrd:
        assert category == "no_reliable_change"
    else:
        assert category == ("improved" if (change > 0) == (better == "higher") else "deteriorated")
    # swapping the time points flips the sign of RC
    assert reliable_change_index(x2, x1, sd1=sd1, r=r) == -reliable_change_index(x1, x2, sd1=sd1, r=r)


def test_no_unverified_reliability_constants_are_shipped():
    for params in RELIABILITY.values():
        assert params.verified and params.source
    assert reliability_params("ucla3") is None
    configured = {"ucla3": ReliabilityParams("ucla3", 1.5, 0.7, "local reference sample 2025", False)}
    assert reliability_params("ucla3", configured).sd1 == 1.5


def test_reliability_params_validated():
    with pytest.raises(ValueError):
        ReliabilityParams("x", 1.0, 0.7, "  ", False)
    with pytest.raises(ValueError):
        ReliabilityParams("x", 0.0, 0.7, "paper", False)


# --- Threshold change (PHQ-9, GAD-7) --------------------------------------------------------------


def test_threshold_change_boundaries():
    assert CHANGE_THRESHOLDS == {"phq9": 6, "gad7": 4}
    # PHQ-9: a drop of exactly 6 counts, 5 does not
    assert threshold_change("phq9", 16, 10) == "improved"
    assert threshold_change("phq9", 16, 11) == "no_reliable_change"
    assert threshold_change("phq9", 10, 16) == "deteriorated"
    assert threshold_change("phq9", 10, 15) == "no_reliable_change"
    # GAD-7: 4
    assert threshold_change("gad7", 12, 8) == "improved"
    assert threshold_change("gad7", 12, 9) == "no_reliable_change"
    assert threshold_change("gad7", 8, 12) == "deteriorated"
    with pytest.raises(ValueError):
        threshold_change("ucla3", 9, 3)


def test_threshold_change_counts():
    counts = threshold_change_counts("gad7", [(15, 5), (10, 10), (3, 8), (None, 2), (7, None)])
    assert counts == ChangeCounts(improved=1, no_reliable_change=1, deteriorated=1, skipped=2)


# --- Wilson interval ------------------------------------------------------------------------------


def test_wilson_hand_worked_five_of_ten():
    # p = 0.5, n = 10, z = 1.959964, z² = 3.841459, z²/n = 0.3841459
    # centre = (0.5 + 0.1920729) / 1.3841459 = 0.5
    # half = 1.959964 / 1.3841459 · sqrt(0.025 + 3.841459/400) = 1.416010 · sqrt(0.0346036)
    #      = 1.416010 · 0.186021 = 0.263407  ->  (0.236593, 0.763407)
    low, high = proportion_ci(5, 10)
    assert low == pytest.approx(0.236593, abs=1e-6)
    assert high == pytest.approx(0.763407, abs=1e-6)


@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [
        # Newcombe 1998 (Stat Med 17:857), Table I, method 3 (Wilson score, no continuity correction)
        (81, 263, (0.2553, 0.3662)),
        (15, 148, (0.0624, 0.1605)),
        (0, 20, (0.0, 0.1611)),
        (1, 29, (0.0061, 0.1718)),
        (29, 29, (0.8830, 1.0)),
    ],
)
def test_wilson_against_newcombe(successes, n, expected):
    low, high = proportion_ci(successes, n)
    assert (round(low, 4), round(high, 4)) == expected


def test_wilson_extremes_are_exact():
    # 0 of n: upper = z²/(n + z²) = 3.841459 / 13.841459 = 0.277533 for n = 10
    assert proportion_ci(0, 10) == (0.0, pytest.approx(0.277533, abs=1e-6))
    assert proportion_ci(10, 10) == (pytest.approx(1 - 0.277533, abs=1e-6), 1.0)


@pytest.mark.parametrize(("successes", "n"), [(0, 0), (-1, 5), (6, 5)])
def test_wilson_rejects_impossible_counts(successes, n):
    with pytest.raises(ValueError):
        proportion_ci(successes, n)


def test_wilson_rejects_non_integers():
    with pytest.raises(TypeError):
        proportion_ci(2.5, 10)


@given(st.integers(1, 100_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_contains_p_within_unit_interval(case):
    successes, n = case
    low, high = proportion_ci(successes, n)
    assert 0.0 <= low <= successes / n <= high <= 1.0
    wide_low, wide_high = proportion_ci(successes, n, confidence=0.998)
    assert wide_low <= low and high <= wide_high
