"""Consistent perturbation of published counts in the style of the ABS cell key method (issue 10).

Every person has a stable random *record key*, an integer drawn uniformly from
[0, RECORD_KEY_RANGE) when the person is registered (``Patient.record_key``; never shown). A published
count of people gets a *cell key*: the sum of its contributors' record keys modulo RECORD_KEY_RANGE,
scaled to [0, 1). The perturbation added to the count is a fixed function of the count and the cell
key (the "perturbation table" below), so

* the same cell (the same people) always shows the same value, on every page, in every download and
  on every visit: asking again does not average the noise away;
* two cells that differ by one person have unrelated cell keys, so subtracting them ("period n and
  n+1", "all centres minus three of them", "programme vs all") gives the small difference plus noise
  of up to ±2·MAX_PERTURBATION, and the reader cannot tell which value is the true one.

The table: counts of 1..k-1 are not perturbed here (they are shown as "<k" by domain.disclosure);
zero stays zero (it identifies no one); a count n >= k moves by d in -MAX_PERTURBATION..
MAX_PERTURBATION with the weights in PERTURBATION_WEIGHTS, restricted to n + d >= k so a published
count is never below k (it would read as a small count). The method is public (README); the record
keys are what keep the noise unpredictable.

Pure functions: no SQL, no Streamlit. Services compute ``n`` and ``key_sum`` (SUM of record keys
over the same rows that are counted) in the same query.
"""

from __future__ import annotations

import hashlib
import secrets

from domain.disclosure import DEFAULT_RULES, DisclosureRules

RECORD_KEY_RANGE = 2**31 - 1
MAX_PERTURBATION = 2
# Symmetric, mean 0, variance 1.2: P(d) for d = -2..2.
PERTURBATION_WEIGHTS: dict[int, float] = {-2: 0.1, -1: 0.2, 0: 0.4, 1: 0.2, 2: 0.1}


def new_record_key() -> int:
    """A fresh record key for a new person."""
    return secrets.randbelow(RECORD_KEY_RANGE)


def cell_key(key_sum: int, n: int) -> float:
    """The cell key in [0, 1) of a cell with `n` contributors whose record keys sum to `key_sum`.

    The sum modulo the range is uniform whenever one contributor's key is; mixing in `n` through a
    hash keeps cells with equal key sums but different counts apart (the ABS table is indexed by
    both)."""
    if n < 0:
        raise ValueError("a count cannot be negative")
    reduced = int(key_sum) % RECORD_KEY_RANGE
    digest = hashlib.blake2b(f"{reduced}:{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def perturbation(n: int, key_sum: int, rules: DisclosureRules = DEFAULT_RULES) -> int:
    """The amount added to a count of `n` people (0 for counts below k)."""
    if n < 0:
        raise ValueError("a count cannot be negative")
    if n < rules.k or MAX_PERTURBATION == 0:
        return 0
    allowed = [
        (d, w) for d, w in PERTURBATION_WEIGHTS.items() if abs(d) <= MAX_PERTURBATION and n + d >= rules.k
    ]
    total = sum(w for _d, w in allowed)
    u = cell_key(key_sum, n) * total
    running = 0.0
    for d, w in allowed:
        running += w
        if u < running:
            return d
    return allowed[-1][0]


def perturbed_count(n: int, key_sum: int, rules: DisclosureRules = DEFAULT_RULES) -> int:
    """The count as published (before the "<k" rule, which applies to the true count)."""
    return n + perturbation(n, key_sum, rules)


def published_count(n: int, key_sum: int, rules: DisclosureRules = DEFAULT_RULES) -> tuple[str, int | None]:
    """(text, value): "<k" with None for 1..k-1 people, else the perturbed count as text and number."""
    if n < 0:
        raise ValueError("a count cannot be negative")
    if 0 < n < rules.k:
        return f"<{rules.k}", None
    shown = perturbed_count(n, key_sum, rules)
    return str(shown), shown


def feasible_true_counts(shown: int, rules: DisclosureRules = DEFAULT_RULES) -> range:
    """What a reader who knows the method can conclude from a published count: the true counts that
    could have produced it."""
    if shown == 0:
        return range(0, 1)
    return range(max(rules.k, shown - MAX_PERTURBATION), shown + MAX_PERTURBATION + 1)


def perturb_table(table, keys):
    """The protected table with every shown count perturbed by its cell key. `keys` maps each body
    cell (row, column) to the sum of its contributors' record keys; a margin's key is the sum of its
    cells' keys (each person is counted in one body cell). Hidden cells keep their symbol; which
    cells are hidden was decided on the true counts."""
    from dataclasses import replace
    from types import MappingProxyType

    from domain.disclosure import TOTAL

    def key_of(row, column) -> int:
        rows = table.rows if row is TOTAL else (row,)
        columns = table.columns if column is TOTAL else (column,)
        return sum(keys.get((r, c), 0) for r in rows for c in columns)

    text, values = dict(table.text), {}
    for (row, column), n in table.values.items():
        shown, value = published_count(n, key_of(row, column), table.rules)
        text[(row, column)] = shown
        values[(row, column)] = value
    return replace(table, text=MappingProxyType(text), values=MappingProxyType(values))


def perturb_counts(protected, keys, rules: DisclosureRules = DEFAULT_RULES):
    """The protected list (domain.disclosure.ProtectedCounts) with every shown count perturbed by its
    cell key. `keys` maps each label to the sum of its contributors' record keys; the total's key is
    the sum of the labels' keys. Which entries are hidden was decided on the true counts."""
    from dataclasses import replace
    from types import MappingProxyType

    from domain.disclosure import TOTAL

    text, values = dict(protected.text), {}
    for label, n in protected.values.items():
        key = sum(keys.get(x, 0) for x in protected.labels) if label is TOTAL else keys.get(label, 0)
        shown, value = published_count(n, key, rules)
        text[label] = shown
        values[label] = value
    return replace(protected, text=MappingProxyType(text), values=MappingProxyType(values))


def published_rate(
    numerator: int,
    numerator_key: int,
    denominator: int,
    denominator_key: int,
    rules: DisclosureRules = DEFAULT_RULES,
) -> tuple[str, str, float | None]:
    """A proportion as published: (numerator text, denominator text, rate). Both counts are perturbed
    by their cell keys and the rate is the ratio of the PUBLISHED counts, so a rate times a shown
    denominator gives back only the shown (perturbed) numerator, never the true one. The caller has
    already decided (domain.disclosure.protect_rate) that the rate may be shown at all."""
    num_text, num_value = published_count(numerator, numerator_key, rules)
    den_text, den_value = published_count(denominator, denominator_key, rules)
    if num_value is None or not den_value:
        return num_text, den_text, None
    return num_text, den_text, min(1.0, num_value / den_value)
