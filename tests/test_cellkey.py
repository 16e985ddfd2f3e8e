"""The cell-key perturbation (issue 10): consistent, bounded, never a small count, and unrelated for
cells that differ by one person."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from domain.cellkey import (
    MAX_PERTURBATION,
    RECORD_KEY_RANGE,
    cell_key,
    feasible_true_counts,
    new_record_key,
    perturbation,
    published_count,
)
from domain.disclosure import DisclosureRules

RULES = DisclosureRules(k=5)


def keys(n: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.randrange(RECORD_KEY_RANGE) for _ in range(n)]


def test_the_same_cell_always_shows_the_same_value():
    people = keys(30, 1)
    first = published_count(30, sum(people), RULES)
    assert all(published_count(30, sum(people), RULES) == first for _ in range(5))
    # the order in which contributors are summed does not matter
    assert published_count(30, sum(reversed(people)), RULES) == first


def test_small_counts_are_not_numbers_and_zero_stays_zero():
    assert published_count(0, 0, RULES) == ("0", 0)
    for n in range(1, 5):
        assert published_count(n, 12345, RULES) == ("<5", None)


def test_perturbation_is_bounded_and_never_gives_a_small_count():
    rng = random.Random(7)
    for n in range(5, 40):
        for _ in range(50):
            d = perturbation(n, rng.randrange(10**12), RULES)
            assert -MAX_PERTURBATION <= d <= MAX_PERTURBATION
            assert n + d >= RULES.k
            assert n in feasible_true_counts(n + d, RULES)


def test_the_noise_is_spread_and_centred():
    rng = random.Random(3)
    seen = Counter(perturbation(50, rng.randrange(10**12), RULES) for _ in range(4000))
    assert set(seen) == set(range(-MAX_PERTURBATION, MAX_PERTURBATION + 1))
    assert abs(sum(d * c for d, c in seen.items()) / 4000) < 0.1
    assert 0.3 < seen[0] / 4000 < 0.5


def test_one_more_person_gives_an_unrelated_cell_key():
    people = keys(20, 11)
    base = cell_key(sum(people), 20)
    moved = [abs(cell_key(sum(people) + extra, 21) - base) for extra in keys(200, 12)]
    assert sum(m > 0.1 for m in moved) > 150  # not clustered around the old key


def test_differencing_two_cells_one_person_apart_is_noisy():
    """The n/n+1 attack on perturbed counts: the difference is 1 only some of the time."""
    hits = 0
    for seed in range(300):
        people = keys(21, seed)
        big = published_count(21, sum(people), RULES)[1]
        small = published_count(20, sum(people[:20]), RULES)[1]
        hits += big - small == 1
    assert hits / 300 < 0.5


def test_record_keys_are_in_range():
    assert all(0 <= new_record_key() < RECORD_KEY_RANGE for _ in range(100))
    with pytest.raises(ValueError):
        published_count(-1, 0, RULES)


def test_perturbed_lists_keep_the_hidden_entries_and_key_the_total_by_its_parts():
    from domain.cellkey import perturb_counts
    from domain.disclosure import TOTAL, protect_counts

    counts = {"a": 30, "b": 2, "c": 12}
    key_of = {"a": 11, "b": 22, "c": 33}
    shown = perturb_counts(protect_counts(counts, total=True, rules=RULES), key_of, RULES)
    assert shown.text["b"] == "<5" and "b" not in shown.values
    for label in ("a", "c"):
        if label in shown.values:
            assert shown.values[label] == published_count(counts[label], key_of[label], RULES)[1]
    assert shown.values[TOTAL] == published_count(44, 66, RULES)[1]


def test_published_rates_come_from_the_published_counts():
    from domain.cellkey import published_rate

    for seed in range(50):
        nk, dk = keys(2, seed)
        num_text, den_text, rate = published_rate(18, nk, 40, dk, RULES)
        assert rate == pytest.approx(int(num_text) / int(den_text))
    assert published_rate(3, 1, 40, 2, RULES)[2] is None  # a hidden numerator: no rate
