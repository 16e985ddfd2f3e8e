"""Pure domain logic: national identity numbers and disclosure control."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.disclosure import DisclosureRules, count_cell, rate_allowed
from domain.national_id import InvalidNationalId, luhn_ok, parse_cpr, parse_national_id, parse_personnummer
from domain.security import identity_hash, normalise_national_id

TODAY = date(2026, 11, 22)


def with_check_digit(nine: str) -> str:
    return next(nine + str(d) for d in range(10) if luhn_ok(nine + str(d)))


@pytest.mark.parametrize(
    ("value", "normalised", "born"),
    [
        ("19121212-1212", "191212121212", date(1912, 12, 12)),
        ("191212121212", "191212121212", date(1912, 12, 12)),
        ("121212+1212", "191212121212", date(1912, 12, 12)),
        ("121212-1212", "201212121212", date(2012, 12, 12)),
        ("19460711-8017", "194607118017", date(1946, 7, 11)),
    ],
)
def test_valid_personnummer(value, normalised, born):
    parsed = parse_personnummer(value, today=TODAY)
    assert (parsed.normalised, parsed.birth_date, parsed.country) == (normalised, born, "SE")


def test_samordningsnummer_adds_sixty_to_the_day():
    nine = "701063" + "239"  # 1970-10-03 as a coordination number
    parsed = parse_personnummer("19" + with_check_digit(nine), today=TODAY)
    assert parsed.coordination and parsed.birth_date == date(1970, 10, 3)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("19121212-1213", "checksum"),
        ("191212121", "format"),
        ("abc", "format"),
        ("", "format"),
        ("19121312-" + with_check_digit("121312121")[-4:], "date"),
    ],
)
def test_invalid_personnummer(value, reason):
    with pytest.raises(InvalidNationalId) as bad:
        parse_personnummer(value, today=TODAY)
    assert bad.value.reason == reason


def test_future_birth_date_is_refused():
    with pytest.raises(InvalidNationalId):
        parse_personnummer("20" + with_check_digit("301212121"), today=TODAY)


@given(st.integers(min_value=0, max_value=999_999_999))
def test_exactly_one_check_digit_passes_luhn(n):
    nine = f"{n:09d}"
    assert sum(luhn_ok(nine + str(d)) for d in range(10)) == 1


def test_cpr_validates_the_date_only():
    assert parse_cpr("010160-1234", today=TODAY).birth_date == date(1960, 1, 1)
    assert parse_cpr("3112991234", today=TODAY).birth_date == date(1999, 12, 31)
    for bad in ("320160-1234", "290223-1234", "01016-1234"):
        with pytest.raises(InvalidNationalId):
            parse_cpr(bad, today=TODAY)
    assert parse_national_id("010160-1234", "DK", today=TODAY).country == "DK"


def test_identity_hash_ignores_punctuation_and_is_keyed(monkeypatch):
    assert normalise_national_id("19121212-1212") == "191212121212"
    assert identity_hash("19121212-1212") == identity_hash("191212121212")
    first = identity_hash("191212121212")
    monkeypatch.setenv("LOTSA_SECRET_KEY", "bWJtYm1ibWJtYm1ibWJtYm1ibWJtYm1ibWJtYm1ibWI=")
    assert identity_hash("191212121212") != first


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=2, max_value=10))
def test_count_cell_never_shows_small_positive_counts(n, k):
    shown = count_cell(n, DisclosureRules(k=k))
    if 0 < n < k:
        assert shown == f"<{k}"
    else:
        assert shown == str(n)


def test_rates_need_enough_people():
    assert not rate_allowed(7) and rate_allowed(8)
    assert rate_allowed(3, DisclosureRules(min_n_for_rates=3))
    with pytest.raises(ValueError):
        count_cell(-1)
