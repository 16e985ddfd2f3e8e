"""Statistical disclosure control: the one place that decides what small numbers may be shown.

Counts of 1 to k-1 people are shown as "<k"; zero is shown (it identifies no one). Means and
percentages need at least `min_n_for_rates` people. Thresholds are configurable per call site
through DisclosureRules; the defaults follow REFERENCE.md (k = 5, rates from n >= 8).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DisclosureRules:
    k: int = 5
    min_n_for_rates: int = 8


DEFAULT_RULES = DisclosureRules()


def count_cell(n: int, rules: DisclosureRules = DEFAULT_RULES) -> str:
    """A count of people as it may be shown."""
    if n < 0:
        raise ValueError("a count cannot be negative")
    return f"<{rules.k}" if 0 < n < rules.k else str(n)


def rate_allowed(n: int, rules: DisclosureRules = DEFAULT_RULES) -> bool:
    return n >= rules.min_n_for_rates
