"""Disclosure control for tables, lists, rates and means (issue 5, item 7)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.disclosure import (
    DEFAULT_RULES,
    TOTAL,
    DisclosureRules,
    Reason,
    _determined_by_null_space,
    count_cell,
    protect_counts,
    protect_mean,
    protect_rate,
    protect_table,
    recoverable_cells,
)


def table(rows: list[list[int]]) -> dict[tuple[str, str], int]:
    return {(f"r{i}", f"c{j}"): n for i, row in enumerate(rows) for j, n in enumerate(row)}


# --- hand-worked cases ------------------------------------------------------------------------


def test_two_by_two_with_one_small_cell_hides_its_partners_and_the_diagonal():
    #        c0  c1 | total
    #   r0    3  10 |  13
    #   r1   12  20 |  32
    #   tot  15  30 |  45
    # 3 is primary. Row r0 then has one hidden cell, so its smallest other body cell (10) goes;
    # column c0 has one hidden cell -> 12; column c1 now has one hidden (10) -> 20. All four body
    # cells hidden, every margin shown. Check: a+b=13, c+d=32, a+c=15, b+d=30 has rank 3 in four
    # unknowns (a = t, b = 13-t, c = 15-t, d = 17+t), so no cell is fixed.
    cells = table([[3, 10], [12, 20]])
    t = protect_table(cells)
    assert t.suppressed == {
        ("r0", "c0"): Reason.PRIMARY,
        ("r0", "c1"): Reason.SECONDARY,
        ("r1", "c0"): Reason.SECONDARY,
        ("r1", "c1"): Reason.SECONDARY,
    }
    assert t.text[("r0", "c0")] == "<5"
    assert t.text[("r1", "c1")] == "*"
    assert dict(t.values) == {
        ("r0", TOTAL): 13,
        ("r1", TOTAL): 32,
        (TOTAL, "c0"): 15,
        (TOTAL, "c1"): 30,
        (TOTAL, TOTAL): 45,
    }
    assert recoverable_cells(t, cells) == set()


def test_without_secondary_suppression_the_small_cell_is_recoverable():
    # The checker itself must be able to fail: the primary-only pattern of the case above shows
    # row r0 total 13 and its other cell 10, so 13 - 10 = 3 comes back.
    cells = table([[3, 10], [12, 20]])
    t = protect_table(cells)
    primary_only = type(t)(
        rows=t.rows,
        columns=t.columns,
        text={**t.text, ("r0", "c1"): "10", ("r1", "c0"): "12", ("r1", "c1"): "20"},
        values={**t.values, ("r0", "c1"): 10, ("r1", "c0"): 12, ("r1", "c1"): 20},
        suppressed={("r0", "c0"): Reason.PRIMARY},
        row_totals=True,
        column_totals=True,
        grand_total=True,
    )
    assert recoverable_cells(primary_only, cells) == {("r0", "c0")}


def test_zero_is_shown_and_small_margins_are_hidden():
    #        c0  c1 | total
    #   r0    0   2 |   2   <- the row total 2 is itself a count of 1..4: primary
    #   r1   10  20 |  30
    #   tot  10  22 |  32
    cells = table([[0, 2], [10, 20]])
    t = protect_table(cells)
    assert t.text[("r0", "c0")] == "0"
    assert t.suppressed[("r0", "c1")] is Reason.PRIMARY
    assert t.suppressed[("r0", TOTAL)] is Reason.PRIMARY
    assert recoverable_cells(t, cells) == set()
    assert all(not (0 < v < 5) for v in t.values.values())


def test_complement_prefers_non_zero_then_smallest_then_position():
    #        c0  c1  c2  c3
    #   r0    2   0   9   7   row r0: 2 primary; candidates 0 (zero: last), 9, 7 -> 7 (c3)
    #   r1   30  30  30   8
    cells = table([[2, 0, 9, 7], [30, 30, 30, 8]])
    t = protect_table(cells)
    assert t.suppressed[("r0", "c3")] is Reason.SECONDARY
    assert ("r0", "c1") not in t.suppressed
    # columns c0 and c3 each hold one hidden cell; their partners in r1 (30 and 8) go too
    assert t.suppressed[("r1", "c0")] is Reason.SECONDARY
    assert t.suppressed[("r1", "c3")] is Reason.SECONDARY
    assert len(t.suppressed) == 4
    assert recoverable_cells(t, cells) == set()


def test_a_margin_is_hidden_when_the_line_has_nothing_else():
    # One column: each row total equals its only cell, so a hidden cell forces its row total out;
    # the totals column then needs a second hidden total.
    #        c0 | total
    #   r0    3 |   3   (both primary)
    #   r1    9 |   9
    #   r2   20 |  20
    #   tot  32 |  32
    cells = table([[3], [9], [20]])
    t = protect_table(cells)
    assert {("r0", "c0"), ("r0", TOTAL)} <= set(t.suppressed)
    assert recoverable_cells(t, cells) == set()
    # column c0: 3 hidden, 9 is the smallest partner; row r1 then hides its total 9
    assert t.suppressed[("r1", "c0")] is Reason.SECONDARY
    assert t.suppressed[("r1", TOTAL)] is Reason.SECONDARY


def test_bridge_between_two_hidden_cycles_is_broken_by_the_exact_check():
    # A table where every line holds 0 or >= 2 hidden cells is still unsafe when one hidden cell
    # is a bridge. Build it by hand: hidden cycle A on rows r0,r1 x cols c0,c1 and cycle B on
    # rows r2,r3 x cols c2,c3, joined by hidden (r1,c2). The line rule holds (r1 has 3 hidden,
    # c2 has 3), yet (r1,c2) is fixed: summing the r0 and r1 row equations and subtracting the
    # c0 and c1 column equations cancels every cycle-A unknown and leaves (r1,c2) alone.
    cells = table([[40, 40, 40, 40], [40, 40, 40, 40], [40, 40, 40, 40], [40, 40, 40, 40]])
    t = protect_table(cells)
    hidden = {("r0", "c0"), ("r0", "c1"), ("r1", "c0"), ("r1", "c1"), ("r2", "c2"), ("r2", "c3")}
    hidden |= {("r3", "c2"), ("r3", "c3"), ("r1", "c2")}
    forged = type(t)(
        rows=t.rows,
        columns=t.columns,
        text={k: ("*" if k in hidden else v) for k, v in t.text.items()},
        values={k: v for k, v in t.values.items() if k not in hidden},
        suppressed=dict.fromkeys(hidden, Reason.SECONDARY),
        row_totals=True,
        column_totals=True,
        grand_total=True,
    )
    assert recoverable_cells(forged, cells) == {("r1", "c2")}


def test_grand_total_alone_still_protects_a_lone_hidden_cell():
    # Only the grand total is published: 3 = 45 - (10 + 12 + 20) would come back, so one more
    # cell must go (the smallest body cell, 10 at r0,c1).
    cells = table([[3, 10], [12, 20]])
    t = protect_table(cells, row_totals=False, column_totals=False)
    assert set(t.suppressed) == {("r0", "c0"), ("r0", "c1")}
    assert (TOTAL, TOTAL) in t.values
    assert ("r0", TOTAL) not in t.text
    assert recoverable_cells(t, cells) == set()


def test_no_margins_needs_no_secondary_suppression():
    cells = table([[3, 10], [12, 20]])
    t = protect_table(cells, row_totals=False, column_totals=False, grand_total=False)
    assert set(t.suppressed) == {("r0", "c0")}
    assert recoverable_cells(t, cells) == set()


def test_missing_combinations_count_as_zero_and_order_follows_the_input():
    t = protect_table({("b", "y"): 10, ("a", "x"): 7})
    assert t.rows == ("b", "a") and t.columns == ("y", "x")
    assert t.text[("b", "x")] == "0" and t.text[("a", "y")] == "0"
    assert t.row_keys() == ("b", "a", TOTAL)


def test_configurable_k_and_symbol():
    rules = DisclosureRules(k=3, secondary_symbol="..")
    cells = table([[2, 3], [4, 20]])
    t = protect_table(cells, rules=rules)
    assert t.text[("r0", "c0")] == "<3"
    assert t.text[("r0", "c1")] == ".."  # 3 is allowed with k = 3 but hidden as the complement
    assert recoverable_cells(t, cells) == set()


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        protect_table({("a", "x"): -1})
    with pytest.raises(TypeError):
        protect_table({("a", "x"): 2.5})
    with pytest.raises(ValueError):
        protect_table({("a", TOTAL): 2})
    with pytest.raises(ValueError):
        DisclosureRules(k=0)


def test_empty_table():
    t = protect_table({})
    assert t.text == {(TOTAL, TOTAL): "0"}


# --- properties -------------------------------------------------------------------------------

small_heavy = st.one_of(st.integers(0, 4), st.integers(0, 30))


@st.composite
def tables(draw):
    n_rows = draw(st.integers(2, 6))
    n_cols = draw(st.integers(2, 6))
    return table([[draw(small_heavy) for _ in range(n_cols)] for _ in range(n_rows)])


margins = st.tuples(st.booleans(), st.booleans(), st.booleans())


@settings(max_examples=100, deadline=None)
@given(tables(), margins, st.integers(2, 8))
def test_protected_tables_are_safe(cells, flags, k):
    rules = DisclosureRules(k=k)
    row_totals, column_totals, grand_total = flags
    kwargs = dict(row_totals=row_totals, column_totals=column_totals, grand_total=grand_total, rules=rules)
    t = protect_table(cells, **kwargs)
    # no count of 1..k-1 is ever shown, in the body or the margins
    assert all(not (0 < v < k) for v in t.values.values())
    assert all(t.text[key] == str(v) for key, v in t.values.items())
    # every small count is hidden as primary
    for key, n in cells.items():
        if 0 < n < k:
            assert t.suppressed[key] is Reason.PRIMARY
    # nothing hidden can be worked out from what is shown
    assert recoverable_cells(t, cells) == set()
    # shown values equal the originals (recoverable_cells also checks the margins against them)
    for key, v in t.values.items():
        if TOTAL not in key:
            assert cells[key] == v
    # deterministic: the same input gives the same output
    assert protect_table(dict(cells), **kwargs) == t
    # every published key is either shown or hidden, never both
    assert set(t.text) == set(t.values) | set(t.suppressed)
    assert not set(t.values) & set(t.suppressed)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 8), st.integers(1, 8), st.data())
def test_two_recoverability_checks_agree(n_eq, n_unknowns, data):
    # protect_table uses a null-space test, recoverable_cells a rank test; on random 0/+-1 systems
    # they must agree on which unknowns are fixed.
    a = np.array(
        data.draw(
            st.lists(
                st.lists(st.sampled_from([-1.0, 0.0, 1.0]), min_size=n_unknowns, max_size=n_unknowns),
                min_size=n_eq,
                max_size=n_eq,
            )
        )
    )
    by_null = _determined_by_null_space(a)
    r = np.linalg.matrix_rank(a)
    by_rank = [np.linalg.matrix_rank(np.vstack([a, np.eye(n_unknowns)[j]])) == r for j in range(n_unknowns)]
    assert list(by_null) == by_rank


# --- lists, rates, means ----------------------------------------------------------------------


def test_list_with_one_small_count_hides_the_next_smallest():
    # 3 + 0 + 10 + 20 = 33. 3 is primary; with the total shown, 33 - 0 - 10 - 20 would give it
    # back, so the next smallest non-zero count (10) goes too.
    p = protect_counts({"a": 3, "b": 0, "c": 10, "d": 20})
    assert dict(p.suppressed) == {"a": Reason.PRIMARY, "c": Reason.SECONDARY}
    assert p.text[TOTAL] == "33" and p.values[TOTAL] == 33
    assert p.text["b"] == "0" and p.text["c"] == "*"


def test_list_without_total_or_with_two_small_needs_nothing_more():
    assert set(protect_counts({"a": 3, "b": 10}, total=False).suppressed) == {"a"}
    assert set(protect_counts({"a": 3, "b": 2, "c": 10}).suppressed) == {"a", "b"}
    # a small total is hidden too; then a single hidden count is safe
    p = protect_counts({"a": 3, "b": 0})
    assert set(p.suppressed) == {"a", TOTAL}


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.text("abcdef", min_size=1, max_size=3), small_heavy, min_size=1, max_size=8),
    st.booleans(),
)
def test_lists_never_show_small_counts_nor_a_lone_hidden_count(counts, total):
    p = protect_counts(counts, total=total)
    assert all(not (0 < v < 5) for v in p.values.values())
    hidden_body = [k for k in p.suppressed if k is not TOTAL]
    if total and TOTAL in p.values:
        assert len(hidden_body) != 1


def test_rates_need_the_denominator_and_hide_a_small_numerator():
    assert protect_rate(3, 7) is None  # 7 < 8
    r = protect_rate(6, 8)
    assert r is not None and r.rate == 0.75 and r.numerator_text == "6"
    small = protect_rate(3, 40)  # 3/40 = 7.5 % x 40 would give back 3
    assert small is not None and small.rate is None and small.numerator_text == "<5"
    assert protect_rate(0, 40).rate == 0.0
    # the complement: 37 of 40 means 3 did not
    assert protect_rate(37, 40).rate == pytest.approx(0.925)
    assert protect_rate(37, 40, protect_complement=True).rate is None
    assert protect_rate(3, 3, DisclosureRules(k=2, min_n_for_rates=3)).rate == 1.0
    with pytest.raises(ValueError):
        protect_rate(5, 4)


def test_means_need_enough_people():
    assert protect_mean(7, 2.5) is None
    assert protect_mean(8, 2.5) == 2.5
    assert protect_mean(3, 2.5, DisclosureRules(min_n_for_rates=3)) == 2.5
    with pytest.raises(ValueError):
        protect_mean(10, float("nan"))


def test_count_cell_unchanged():
    assert count_cell(4) == "<5" and count_cell(0) == "0" and count_cell(5, DEFAULT_RULES) == "5"
