"""Statistical disclosure control: the one place that decides what small numbers may be shown.

Counts of 1 to k-1 people are shown as "<k"; zero is shown (it identifies no one). Means and
percentages need at least `min_n_for_rates` people. Thresholds are configurable per call site
through DisclosureRules; the defaults follow REFERENCE.md (k = 5, rates from n >= 8; the Danish
Health Data Authority blurs fewer than 5 persons, NHS England hides sub-national counts of 1-7).

Tables (issue 5, item 7): primary suppression hides each count of 1..k-1 people, in the body and in
the margins. Secondary (complementary) suppression then hides further cells so that no hidden cell
can be worked out from what is shown. A two-way table with its margins is one linear system: every
row of the body sums to its row total, every column to its column total, and the totals row and
column sum to the grand total. A hidden cell is *recoverable* when that system, with the shown values
substituted, fixes its value uniquely; equivalently, when the unit vector of that unknown lies in the
row space of the constraint matrix over the unknowns. (Non-negativity and the "<k" interval are not
used in that test: this is exact linear protection, not interval protection.)

The method here is the classical heuristic plus an exact check:

1. every line (row or column of the table *including its margin cell*, and the totals row/column)
   must hold zero or at least two unknowns; a line with one hides one more of its cells, the one
   with the smallest count (body cells before margins; non-zero counts before zeros, because a hidden
   zero protects little once a reader knows counts are not negative; then by position);
2. the line rule is necessary but not sufficient (a hidden cell can be a "bridge" between two
   groups of hidden cells), so the exact null-space test is run and any hidden cell still
   recoverable gets one more complementary cell in its row or column, chosen the same way;
3. repeat until stable. Hiding everything is always safe, so the loop ends.

Margins that the caller does not publish (row_totals=False, ...) are unknowns that are never shown.

Interval protection (issue 10): exact linear protection is not enough, because counts are whole
numbers, never negative, a "<k" cell is 1..k-1 and a "*" cell is 0 or at least k; "<5", 36, "<5" with
a total of 38 leaves both hidden cells at exactly 1. After the steps above, every "<k" cell's feasible
integer range is computed (`feasible_ranges`, a linear program over a totally unimodular system) and,
while the shown numbers narrow some range beyond what the "<k" and "*" symbols alone allow (usually
the whole 1..k-1), one more cell is hidden; then the steps repeat.
tests/test_disclosure_attacks.py audits the result with an independent integer program.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from scipy.linalg import null_space
from scipy.optimize import linprog


@dataclass(frozen=True)
class DisclosureRules:
    """Thresholds. `k`: counts of 1..k-1 are hidden. `min_n_for_rates`: means and percentages need
    at least this many people. `secondary_symbol`: what a complementary (secondary) suppression
    shows; it says nothing about the size of the hidden count."""

    k: int = 5
    min_n_for_rates: int = 8
    secondary_symbol: str = "*"

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError("k must be at least 1")
        if self.min_n_for_rates < 1:
            raise ValueError("min_n_for_rates must be at least 1")


DEFAULT_RULES = DisclosureRules()


def count_cell(n: int, rules: DisclosureRules = DEFAULT_RULES) -> str:
    """A count of people as it may be shown."""
    if n < 0:
        raise ValueError("a count cannot be negative")
    return f"<{rules.k}" if 0 < n < rules.k else str(n)


def rate_allowed(n: int, rules: DisclosureRules = DEFAULT_RULES) -> bool:
    return n >= rules.min_n_for_rates


def _is_small(n: int, rules: DisclosureRules) -> bool:
    return 0 < n < rules.k


# ---------------------------------------------------------------------------------------------
# Tables


class Margin(enum.Enum):
    """The label of a margin: ``(row, TOTAL)`` is a row total, ``(TOTAL, col)`` a column total and
    ``(TOTAL, TOTAL)`` the grand total. An enum, so it never collides with a real label."""

    TOTAL = "total"

    def __repr__(self) -> str:
        return "TOTAL"


TOTAL = Margin.TOTAL

Label = str | Margin
Key = tuple[Label, Label]


class Reason(enum.StrEnum):
    PRIMARY = "primary"  # a count of 1..k-1 people
    SECONDARY = "secondary"  # hidden so that a primary cell cannot be worked out


@dataclass(frozen=True)
class ProtectedTable:
    """A two-way table of counts as it may be shown.

    ``text`` has every published cell and margin (body cells always; margins as asked); ``values``
    holds the number only for shown cells; ``suppressed`` maps each hidden key to its Reason (use it
    like a set: ``key in table.suppressed``). Keys are ``(row, column)`` with ``TOTAL`` for margins.
    """

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    text: Mapping[Key, str]
    values: Mapping[Key, int]
    suppressed: Mapping[Key, Reason]
    row_totals: bool
    column_totals: bool
    grand_total: bool
    rules: DisclosureRules = field(default=DEFAULT_RULES)

    def row_keys(self) -> tuple[Label, ...]:
        """Row labels in display order, with TOTAL last when a totals row is published."""
        return self.rows + ((TOTAL,) if self.column_totals or self.grand_total else ())

    def column_keys(self) -> tuple[Label, ...]:
        return self.columns + ((TOTAL,) if self.row_totals or self.grand_total else ())

    def published(self, key: Key) -> bool:
        return key in self.text

    def value(self, key: Key) -> int | None:
        """The count if shown, else None (hidden or not published)."""
        return self.values.get(key)


class _Grid:
    """The table extended by one totals row and one totals column, indexed by position."""

    def __init__(self, rows: tuple[str, ...], columns: tuple[str, ...], body: Mapping[Key, int]):
        self.rows, self.columns = rows, columns
        self.R, self.C = len(rows), len(columns)
        v = np.zeros((self.R + 1, self.C + 1), dtype=np.int64)
        for i, r in enumerate(rows):
            for j, c in enumerate(columns):
                v[i, j] = body.get((r, c), 0)
        v[: self.R, self.C] = v[: self.R, : self.C].sum(axis=1)
        v[self.R, : self.C] = v[: self.R, : self.C].sum(axis=0)
        v[self.R, self.C] = v[: self.R, : self.C].sum()
        self.v = v

    def key(self, pos: tuple[int, int]) -> Key:
        i, j = pos
        return (self.rows[i] if i < self.R else TOTAL, self.columns[j] if j < self.C else TOTAL)

    def is_margin(self, pos: tuple[int, int]) -> bool:
        return pos[0] == self.R or pos[1] == self.C

    def positions(self) -> list[tuple[int, int]]:
        return [(i, j) for i in range(self.R + 1) for j in range(self.C + 1)]

    def lines(self) -> list[list[tuple[int, int]]]:
        """Each equation of the system as the positions it links (a row of the extended grid, or a
        column); every line sums its body-side cells to its margin-side cell."""
        rows = [[(i, j) for j in range(self.C + 1)] for i in range(self.R + 1)]
        cols = [[(i, j) for i in range(self.R + 1)] for j in range(self.C + 1)]
        return rows + cols

    def matrix(self, unknowns: list[tuple[int, int]]) -> np.ndarray:
        """The constraint matrix over the unknowns: one row per line, +1 for body-side members and
        -1 for the line's margin-side member (its last position)."""
        index = {p: n for n, p in enumerate(unknowns)}
        lines = self.lines()
        a = np.zeros((len(lines), len(unknowns)))
        for e, line in enumerate(lines):
            for m, p in enumerate(line):
                if p in index:
                    a[e, index[p]] = -1.0 if m == len(line) - 1 else 1.0
        return a


def _determined_by_null_space(a: np.ndarray) -> np.ndarray:
    """Which unknowns the system fixes: unknown j is fixed iff every null-space vector has a zero
    in place j (e_j is orthogonal to the null space iff it lies in the row space)."""
    n_unknowns = a.shape[1]
    if n_unknowns == 0:
        return np.zeros(0, dtype=bool)
    basis = null_space(a) if a.shape[0] else np.eye(n_unknowns)
    if basis.shape[1] == 0:
        return np.ones(n_unknowns, dtype=bool)
    return np.linalg.norm(basis, axis=1) < 1e-8


def _order(grid: _Grid, pos: tuple[int, int]) -> tuple[bool, bool, int, int, int]:
    """Preference for complementary cells: body before margin, non-zero before zero, smallest
    count, then position (deterministic)."""
    count = int(grid.v[pos])
    return (grid.is_margin(pos), count == 0, count, pos[0], pos[1])


def feasible_ranges(
    grid: _Grid,
    published: set[tuple[int, int]],
    hidden: Mapping[tuple[int, int], Reason],
    rules: DisclosureRules,
    skip: set[tuple[int, int]] | frozenset = frozenset(),
    expected: Mapping[tuple[int, int], tuple[int, int]] | None = None,
    symbols_only: bool = False,
    only: tuple[int, int] | None = None,
) -> dict[tuple[int, int], tuple[int, int]]:
    """How far a reader could narrow each hidden "<k" cell: its smallest and largest value over
    every table that matches what is shown, for a reader who knows *more* than the page says: each
    "<k" cell is 1..k-1, each "*" cell is known to be its true kind (0 if it is 0, else at least k;
    the page only says "0 or at least k"), margins not published are any non-negative number.
    Protecting against that stronger reader protects against the real one (tests audit the real one
    with scipy.optimize.milp). Row and column sums with bounds form a network matrix, which is
    totally unimodular, so the linear-programming optimum is integral: these are integer bounds.

    With `symbols_only` the shown numbers are unknowns too (only their kind, 0 or at least k, is
    used): the baseline of what the symbols alone say. With `expected`, a cell stops at its first
    end that differs from it, and the whole call stops at the first such cell; `only` computes one
    cell; `skip` leaves cells
    out."""
    unknown = [p for p in grid.positions() if symbols_only or p in hidden or p not in published]
    index = {p: n for n, p in enumerate(unknown)}
    rows, rhs = [], []
    for line in grid.lines():
        row = np.zeros(len(unknown))
        total = 0.0
        for m, p in enumerate(line):
            sign = -1.0 if m == len(line) - 1 else 1.0
            if p in index:
                row[index[p]] = sign
            else:
                total -= sign * float(grid.v[p])
        if row.any():
            rows.append(row)
            rhs.append(total)

    def bounds(p: tuple[int, int]) -> tuple[float, float | None]:
        if hidden.get(p) is Reason.PRIMARY:
            return (1.0, float(rules.k - 1))
        if hidden.get(p) is Reason.SECONDARY or p in published:  # "*", or a shown number's kind
            return (0.0, 0.0) if int(grid.v[p]) == 0 else (float(rules.k), None)
        return (0.0, None)

    box = [bounds(p) for p in unknown]
    a_eq = np.array(rows) if rows else None
    b_eq = np.array(rhs) if rows else None
    out: dict[tuple[int, int], tuple[int, int]] = {}
    for target in (
        p for p in unknown if hidden.get(p) is Reason.PRIMARY and p not in skip and only in (None, p)
    ):
        ends: list[int] = []
        for sign in (1.0, -1.0):
            if expected is not None and ends and ends[0] != expected[target][0]:
                ends.append(ends[0])  # already narrower than expected: the other end does not matter
                break
            c = np.zeros(len(unknown))
            c[index[target]] = sign
            result = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=box, method="highs")
            ends.append(round(sign * result.fun) if result.status == 0 else int(grid.v[target]))
        out[target] = (ends[0], ends[1])
        if expected is not None and out[target] != expected[target]:
            break
    return out


MAX_TRIES = 6  # complementary cells tried for one narrow cell before taking the first


def _widen_intervals(
    grid: _Grid,
    published: set[tuple[int, int]],
    hidden: dict[tuple[int, int], Reason],
    rules: DisclosureRules,
) -> bool:
    """Interval-safe secondary suppression (issue 10): while the shown numbers let a reader narrow
    some "<k" cell (see `feasible_ranges`) beyond what the symbols alone say (e.g. "<5", 36, "<5"
    with total 38 pins both at 1; "*" and "<5" with total 6 pins them at 5 and 1), hide one more
    shown cell on one of its lines (the smallest, body first), else the smallest shown cell anywhere.
    Hiding everything leaves only the symbols, so this ends. True when it hid anything."""
    changed = False
    # Hiding one more cell only widens every range (it replaces a known value by a constraint the
    # value meets), so a cell found whole stays whole: it is not checked again.
    whole: set[tuple[int, int]] = set()
    if not any(p is Reason.PRIMARY for p in hidden.values()):
        return changed
    # What the symbols alone say ("<k", "*", and which cells are shown), without the shown numbers:
    # the shown numbers must not narrow any "<k" cell beyond that.
    baseline = feasible_ranges(grid, published, hidden, rules, symbols_only=True)
    while True:
        ranges = feasible_ranges(grid, published, hidden, rules, skip=whole, expected=baseline)
        whole |= {p for p, r in ranges.items() if r == baseline[p]}
        narrow = [p for p, r in ranges.items() if r != baseline[p]]
        if not narrow:
            return changed
        target = sorted(narrow)[0]
        shown = [p for p in published if p not in hidden]
        if not shown:
            return changed
        near = sorted(
            {p for line in grid.lines() if target in line for p in line if p in shown},
            key=lambda p: _order(grid, p),
        )
        candidates = near or sorted(shown, key=lambda p: _order(grid, p))
        chosen = candidates[0]
        # Prefer the first candidate that actually widens the target's range (a cell whose line's
        # margin is not published, for instance, widens nothing).
        before = ranges[target]
        for p in candidates[:MAX_TRIES]:
            hidden[p] = Reason.SECONDARY
            after = feasible_ranges(grid, published, hidden, rules, only=target)[target]
            del hidden[p]
            if after != before:
                chosen = p
                break
        hidden[chosen] = Reason.SECONDARY
        changed = True
    return changed


def _validate_labels(cells: Mapping[tuple[str, str], int]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    rows: dict[str, None] = {}
    columns: dict[str, None] = {}
    for key, n in cells.items():
        if not (isinstance(key, tuple) and len(key) == 2):
            raise ValueError(f"a cell key must be (row, column), not {key!r}")
        if isinstance(key[0], Margin) or isinstance(key[1], Margin):
            raise ValueError("margins are computed here; pass body cells only")
        if isinstance(n, bool) or not isinstance(n, int | np.integer):
            raise TypeError(f"a count must be an integer, not {n!r}")
        if n < 0:
            raise ValueError("a count cannot be negative")
        rows.setdefault(key[0], None)
        columns.setdefault(key[1], None)
    return tuple(rows), tuple(columns)


def protect_table(
    cells: Mapping[tuple[str, str], int],
    *,
    row_totals: bool = True,
    column_totals: bool = True,
    grand_total: bool = True,
    rules: DisclosureRules = DEFAULT_RULES,
) -> ProtectedTable:
    """Primary and secondary suppression of a two-way table of counts of people.

    ``cells`` maps ``(row, column)`` to a count; rows and columns keep the order in which they first
    appear; a missing combination counts as zero. Margins are computed from the body and published
    as asked. See the module docstring for the method.
    """
    rows, columns = _validate_labels(cells)
    grid = _Grid(rows, columns, cells)
    published = set()
    for pos in grid.positions():
        i, j = pos
        body_row, body_col = i < grid.R, j < grid.C
        if (
            (body_row and body_col)
            or (body_row and row_totals)
            or (body_col and column_totals)
            or (not body_row and not body_col and grand_total)
        ):
            published.add(pos)

    hidden: dict[tuple[int, int], Reason] = {
        p: Reason.PRIMARY for p in sorted(published) if _is_small(int(grid.v[p]), rules)
    }
    # Unpublished margins of 1..k-1 people must not become computable either.
    targets_extra = [p for p in grid.positions() if p not in published and _is_small(int(grid.v[p]), rules)]

    def unknowns() -> list[tuple[int, int]]:
        return [p for p in grid.positions() if p in hidden or p not in published]

    def shown_in(line: list[tuple[int, int]]) -> list[tuple[int, int]]:
        return [p for p in line if p in published and p not in hidden]

    def apply_line_rule() -> None:
        changed = True
        while changed:
            changed = False
            for line in grid.lines():
                line_unknowns = [p for p in line if p in hidden or p not in published]
                if len(line_unknowns) == 1 and line_unknowns[0] in hidden:
                    candidates = shown_in(line)
                    if candidates:
                        hidden[min(candidates, key=lambda p: _order(grid, p))] = Reason.SECONDARY
                        changed = True

    def still_recoverable() -> list[tuple[int, int]]:
        u = unknowns()
        fixed = _determined_by_null_space(grid.matrix(u))
        return [p for p, f in zip(u, fixed, strict=True) if f and (p in hidden or p in targets_extra)]

    while True:  # exact linear protection, then interval protection, until neither hides more
        while True:
            apply_line_rule()
            exposed = still_recoverable()
            if not exposed:
                break
            target = exposed[0]
            same_lines = [line for line in grid.lines() if target in line]
            candidates = sorted(
                {p for line in same_lines for p in shown_in(line)}, key=lambda p: _order(grid, p)
            ) or sorted((p for p in published if p not in hidden), key=lambda p: _order(grid, p))
            if not candidates:  # everything published is hidden already; cannot happen, but never loop
                break
            chosen = candidates[0]
            for p in candidates:
                hidden[p] = Reason.SECONDARY
                if target not in still_recoverable():
                    chosen = p
                    del hidden[p]
                    break
                del hidden[p]
            hidden[chosen] = Reason.SECONDARY
        if not _widen_intervals(grid, published, hidden, rules):
            break

    text: dict[Key, str] = {}
    values: dict[Key, int] = {}
    suppressed: dict[Key, Reason] = {}
    for pos in grid.positions():
        if pos not in published:
            continue
        key = grid.key(pos)
        if pos in hidden:
            suppressed[key] = hidden[pos]
            text[key] = f"<{rules.k}" if hidden[pos] is Reason.PRIMARY else rules.secondary_symbol
        else:
            values[key] = int(grid.v[pos])
            text[key] = str(values[key])
    return ProtectedTable(
        rows=rows,
        columns=columns,
        text=MappingProxyType(text),
        values=MappingProxyType(values),
        suppressed=MappingProxyType(suppressed),
        row_totals=row_totals,
        column_totals=column_totals,
        grand_total=grand_total,
        rules=rules,
    )


def recoverable_cells(protected: ProtectedTable, original: Mapping[tuple[str, str], int]) -> set[Key]:
    """Hidden cells whose value a reader could work out from what ``protected`` shows.

    The check used by the tests, written independently of protect_table's own null-space test:
    the unknowns are the suppressed cells and the margins that are not published; the equations are
    the row, column and totals sums. Unknown j is fixed iff appending the unit vector e_j to the
    constraint matrix does not raise its rank (e_j already lies in the row space). Non-negativity is
    not used. ``original`` supplies the structure and tells which unpublished margins are counts of
    1..k-1 people (those must not be computable either); its shown values must match ``protected``.
    """
    rows, columns = _validate_labels(original)
    if (rows, columns) != (protected.rows, protected.columns):
        raise ValueError("the protected table was not made from this original")
    grid = _Grid(rows, columns, original)
    unknown_positions: list[tuple[int, int]] = []
    for pos in grid.positions():
        key = grid.key(pos)
        if key in protected.values:
            if protected.values[key] != int(grid.v[pos]):
                raise ValueError(f"shown value of {key!r} differs from the original")
        else:
            unknown_positions.append(pos)
    a = grid.matrix(unknown_positions)
    base_rank = np.linalg.matrix_rank(a) if a.size else 0
    found: set[Key] = set()
    for n, pos in enumerate(unknown_positions):
        key = grid.key(pos)
        sensitive = key in protected.suppressed or (
            not protected.published(key) and _is_small(int(grid.v[pos]), protected.rules)
        )
        if not sensitive:
            continue
        unit = np.zeros((1, len(unknown_positions)))
        unit[0, n] = 1.0
        if np.linalg.matrix_rank(np.vstack([a, unit])) == base_rank:
            found.add(key)
    return found


# ---------------------------------------------------------------------------------------------
# Lists, rates and means


@dataclass(frozen=True)
class ProtectedCounts:
    """A one-way list of counts (and its total, keyed TOTAL, when published) as it may be shown."""

    labels: tuple[str, ...]
    text: Mapping[str | Margin, str]
    values: Mapping[str | Margin, int]
    suppressed: Mapping[str | Margin, Reason]


def protect_counts(
    counts: Mapping[str, int], total: bool = True, rules: DisclosureRules = DEFAULT_RULES
) -> ProtectedCounts:
    """Suppression for a list of counts with (optionally) its total: counts of 1..k-1 are hidden
    (and the total too if it is one); if the total is shown and exactly one count is hidden, the
    next smallest count is hidden as well (non-zero before zero, then list order).

    Implemented as a one-column table whose column total is the list total, so the same exact check
    applies."""
    table = protect_table(
        {(label, "n"): n for label, n in counts.items()},
        row_totals=False,
        column_totals=total,
        grand_total=False,
        rules=rules,
    )

    def one_way(mapping: Mapping[Key, object]) -> dict:
        return {row: value for (row, _col), value in mapping.items()}

    return ProtectedCounts(
        labels=table.rows,
        text=MappingProxyType(one_way(table.text)),
        values=MappingProxyType(one_way(table.values)),
        suppressed=MappingProxyType(one_way(table.suppressed)),
    )


@dataclass(frozen=True)
class ProtectedRate:
    """A proportion as it may be shown. ``rate`` (0..1) is None when showing it with the shown
    denominator would reveal a hidden count."""

    numerator_text: str
    denominator_text: str
    rate: float | None


def protect_rate(
    numerator: int,
    denominator: int,
    rules: DisclosureRules = DEFAULT_RULES,
    *,
    protect_complement: bool = False,
) -> ProtectedRate | None:
    """None unless the denominator reaches ``rules.min_n_for_rates``. Otherwise the counts as they
    may be shown, and the rate. The rate is withheld when the numerator is a hidden count (1..k-1):
    rate x denominator would give it back. With ``protect_complement`` the rate is also withheld
    when denominator - numerator is 1..k-1 (e.g. "3 of 10 did not improve")."""
    if numerator < 0 or denominator < 0:
        raise ValueError("a count cannot be negative")
    if numerator > denominator:
        raise ValueError("the numerator cannot exceed the denominator")
    if not rate_allowed(denominator, rules):
        return None
    exposed = _is_small(numerator, rules) or (
        protect_complement and _is_small(denominator - numerator, rules)
    )
    return ProtectedRate(
        numerator_text=count_cell(numerator, rules),
        denominator_text=count_cell(denominator, rules),
        rate=None if exposed else numerator / denominator,
    )


def protect_mean(values_n: int, mean: float, rules: DisclosureRules = DEFAULT_RULES) -> float | None:
    """The mean if it rests on at least ``rules.min_n_for_rates`` people, else None."""
    if values_n < 0:
        raise ValueError("a count cannot be negative")
    if not math.isfinite(mean):
        raise ValueError("the mean must be a finite number")
    return mean if rate_allowed(values_n, rules) else None
