"""SROI, sensitivity, cost per participant and QALY change (issue 5, item 4).

The financial proxies here are made-up test numbers, not proxies to use.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.economics import (
    GLOBAL,
    REFERENCE_RATIOS,
    SroiOutcome,
    cost_per_participant,
    qaly_gain,
    sensitivity,
    sroi,
)


def example(**changes) -> SroiOutcome:
    fields = dict(
        name="less loneliness",
        quantity=10,
        proxy_per_unit=100.0,
        proxy_source="test value, not a real proxy",
        deadweight_pct=20,
        attribution_pct=10,
        displacement_pct=0,
        drop_off_pct=50,
        duration_years=2,
    )
    fields.update(changes)
    return SroiOutcome(**fields)


def test_hand_worked_sroi_one_outcome_two_years():
    # value_1 = 10 x 100 x (1 - 0.20) x (1 - 0.10) x (1 - 0) = 1000 x 0.8 x 0.9 = 720
    # value_2 = 720 x (1 - 0.50)^1 = 360
    # PV at 10 %: 720 / 1.1 + 360 / 1.1^2 = 7200/11 + 36000/121 = (79200 + 36000)/121
    #           = 115200/121 = 952.0661157...
    # ratio = 952.0661157 / 500 = 1.9041322...; net PV = 952.0661157 - 500 = 452.0661157
    r = sroi([example()], investment=500, discount_rate_pct=10, horizon_years=5)
    (o,) = r.outcomes
    assert o.yearly_values == pytest.approx((720.0, 360.0))
    assert o.yearly_present_values == pytest.approx((7200 / 11, 36000 / 121))
    assert r.total_present_value == pytest.approx(115200 / 121)
    assert r.ratio == pytest.approx(115200 / 121 / 500)
    assert r.ratio == pytest.approx(1.9041322, abs=1e-7)
    assert r.net_present_value == pytest.approx(115200 / 121 - 500)


def test_horizon_cuts_the_years_and_outcomes_add_up():
    # horizon 1: only year 1, 720 / 1.1 = 654.5454...
    assert sroi([example()], 500, 10, 1).total_present_value == pytest.approx(7200 / 11)
    # no discounting, no drop-off, 3 years: 3 x 720 = 2160; plus a second outcome 5 x 40 = 200 a year
    # for 1 year: 2360 / 1000 = 2.36
    other = example(
        name="more activity",
        quantity=5,
        proxy_per_unit=40,
        deadweight_pct=0,
        attribution_pct=0,
        drop_off_pct=0,
        duration_years=1,
    )
    r = sroi([example(drop_off_pct=0, duration_years=3), other], 1000, 0, 10)
    assert r.total_present_value == pytest.approx(2360)
    assert r.ratio == pytest.approx(2.36)
    # displacement 25 % takes a quarter off: 720 x 0.75 = 540 in year 1
    assert sroi([example(displacement_pct=25)], 500, 0, 1).total_present_value == pytest.approx(540)


def test_zero_investment_is_refused_with_a_clear_error():
    with pytest.raises(ValueError, match="investment"):
        sroi([example()], investment=0, discount_rate_pct=3.5, horizon_years=5)
    with pytest.raises(ValueError, match="investment"):
        sroi([example()], investment=-10, discount_rate_pct=3.5, horizon_years=5)


@pytest.mark.parametrize("field", ["deadweight_pct", "attribution_pct", "displacement_pct", "drop_off_pct"])
@pytest.mark.parametrize("bad", [-1, 100.5, float("nan")])
def test_percentages_are_validated(field, bad):
    with pytest.raises(ValueError, match="percentage"):
        example(**{field: bad})


def test_other_inputs_are_validated():
    for bad_rate in (-1, 101):
        with pytest.raises(ValueError, match="discount rate"):
            sroi([example()], 500, bad_rate, 5)
    with pytest.raises(ValueError):
        sroi([example()], 500, 3.5, 0)
    with pytest.raises(ValueError, match="source"):
        example(proxy_source=" ")
    with pytest.raises(ValueError):
        example(duration_years=0)
    with pytest.raises(ValueError):
        example(quantity=-1)
    with pytest.raises(ValueError, match="unique"):
        sroi([example(), example()], 500, 3.5, 5)
    # the edges are allowed
    assert sroi([example(deadweight_pct=100)], 500, 0, 5).ratio == 0
    assert example(attribution_pct=0, drop_off_pct=100).drop_off_pct == 100


def test_sensitivity_hand_worked_and_ordered():
    s = sensitivity([example()], investment=500, discount_rate_pct=10, horizon_years=5)
    base = 115200 / 121 / 500
    assert s.base.ratio == pytest.approx(base)
    rows = {(r.outcome, r.assumption): r for r in s.rows}
    dw = rows[("less loneliness", "deadweight_pct")]
    # deadweight 20 % +/- 10 points: the value scales with (1 - dw): 0.9/0.8 and 0.7/0.8 of base
    assert (dw.low_value, dw.high_value) == (10, 30)
    assert dw.ratio_at_low == pytest.approx(base * 0.9 / 0.8)
    assert dw.ratio_at_high == pytest.approx(base * 0.7 / 0.8)
    # investment +/- 10 %: ratio = PV / (500 x 0.9) and PV / (500 x 1.1)
    inv = rows[(GLOBAL, "investment")]
    assert inv.ratio_at_low == pytest.approx(base / 0.9)
    # duration 2 +/- 1 year -> 1 and 3 years
    dur = rows[("less loneliness", "duration_years")]
    assert (dur.low_value, dur.high_value) == (1, 3)
    assert dur.ratio_at_low == pytest.approx(7200 / 11 / 500)
    # ordering: low <= base <= high overall and per row; tornado sorted widest first
    assert s.combined_low <= s.low <= s.base.ratio <= s.high <= s.combined_high
    for r in s.rows:
        assert r.ratio_min <= s.base.ratio + 1e-12 and r.ratio_max >= s.base.ratio - 1e-12
    swings = [r.swing for r in s.rows]
    assert swings == sorted(swings, reverse=True)


def test_sensitivity_given_ranges_and_clipping():
    s = sensitivity(
        [example(deadweight_pct=5)],
        500,
        10,
        5,
        ranges={("less loneliness", "proxy_per_unit"): (50, 200), (GLOBAL, "discount_rate_pct"): (0, 3.5)},
    )
    rows = {(r.outcome, r.assumption): r for r in s.rows}
    assert rows[("less loneliness", "deadweight_pct")].low_value == 0  # 5 - 10 clipped at 0
    proxy = rows[("less loneliness", "proxy_per_unit")]
    assert proxy.ratio_at_high == pytest.approx(2 * s.base.ratio)  # the ratio is linear in the proxy
    assert rows[(GLOBAL, "discount_rate_pct")].high_value == 3.5
    with pytest.raises(ValueError, match="no such assumption"):
        sensitivity([example()], 500, 10, 5, ranges={("nothing", "quantity"): (1, 2)})


outcomes = st.builds(
    SroiOutcome,
    name=st.just("o"),
    quantity=st.floats(0, 1000),
    proxy_per_unit=st.floats(0, 10_000),
    proxy_source=st.just("test"),
    deadweight_pct=st.floats(0, 100),
    attribution_pct=st.floats(0, 100),
    displacement_pct=st.floats(0, 100),
    drop_off_pct=st.floats(0, 100),
    duration_years=st.integers(1, 10),
)


@settings(max_examples=300, deadline=None)
@given(
    outcomes, st.floats(0, 100), st.floats(0, 100), st.floats(1, 1e6), st.floats(0, 20), st.integers(1, 10)
)
def test_more_deadweight_never_increases_the_ratio(outcome, dw_a, dw_b, investment, rate, horizon):
    lo, hi = sorted((dw_a, dw_b))
    r_lo = sroi([replace(outcome, deadweight_pct=lo)], investment, rate, horizon).ratio
    r_hi = sroi([replace(outcome, deadweight_pct=hi)], investment, rate, horizon).ratio
    assert r_hi <= r_lo * (1 + 1e-12) + 1e-300


@settings(max_examples=100, deadline=None)
@given(outcomes, st.floats(1, 1e6), st.floats(0, 20), st.integers(1, 10))
def test_sensitivity_brackets_the_base(outcome, investment, rate, horizon):
    s = sensitivity([outcome], investment, rate, horizon)
    tol = 1e-9 * max(1.0, s.base.ratio)
    assert s.combined_low - tol <= s.low <= s.base.ratio <= s.high <= s.combined_high + tol
    assert all(math.isfinite(r.ratio_at_low) and math.isfinite(r.ratio_at_high) for r in s.rows)


def test_cost_per_participant():
    # 120 h x 400 = 48 000 staff; activities 5 000 + 7 000 = 12 000; 60 000 / 40 = 1 500
    c = cost_per_participant(120, 400, [5000, 7000], 40)
    assert (c.staff_cost, c.activity_cost, c.total_cost, c.per_participant) == (48000, 12000, 60000, 1500)
    assert cost_per_participant(0, 0, 900, 3).per_participant == 300
    with pytest.raises(ValueError, match="participant"):
        cost_per_participant(120, 400, [5000], 0)
    with pytest.raises(ValueError):
        cost_per_participant(-1, 400, [], 5)


def test_qaly_gain():
    # 0.60 -> 0.75 held for 2 years: 0.15 x 2 = 0.30; linear change over the 2 years: half, 0.15
    assert qaly_gain(0.60, 0.75, 2) == pytest.approx(0.30)
    assert qaly_gain(0.60, 0.75, 2, linear=True) == pytest.approx(0.15)
    assert qaly_gain(0.8, 0.7, 1) == pytest.approx(-0.1)
    assert qaly_gain(-0.2, 0.1, 1) == pytest.approx(0.3)  # states worse than death exist
    with pytest.raises(ValueError):
        qaly_gain(0.5, 1.2, 1)
    with pytest.raises(ValueError):
        qaly_gain(0.5, 0.6, -1)


def test_reference_ratios_are_the_published_ones_only():
    figures = {(r.ratio_low, r.ratio_high, r.base) for r in REFERENCE_RATIOS}
    assert figures == {(3.42, 5.94, None), (2.60, 5.16, 5.07)}
    assert all("REFERENCE.md" in r.source for r in REFERENCE_RATIOS)
