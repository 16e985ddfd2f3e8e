"""Field checks shared by forms and imports (domain/validation.py)."""

from __future__ import annotations

from datetime import time

import pytest

from domain import validation as v


@pytest.mark.parametrize(
    ("raw", "codes"),
    [
        ("tisdag", ("TU",)),
        ("tisdagar och torsdagar", ("TU", "TH")),
        ("Tirsdag og torsdag", ("TU", "TH")),
        ("TU,TH", ("TU", "TH")),
        ("mån-fre", ("MO", "TU", "WE", "TH", "FR")),
        ("lör–mån", ("MO", "SA", "SU")),
        (["FR", "MO", "FR"], ("MO", "FR")),
        ("", ()),
    ],
)
def test_weekdays_in_three_languages_and_ranges(raw, codes):
    assert v.weekdays(raw) == codes


@pytest.mark.parametrize("raw", ["mån-", "x-y", "mån-fre-lör", "m@n", "funday"])
def test_unknown_weekdays_are_refused_not_guessed(raw):
    with pytest.raises(v.FieldError) as caught:
        v.weekdays(raw)
    assert caught.value.key == "error.weekday_unknown"


@pytest.mark.parametrize(
    ("raw", "expected"), [("10:00", time(10)), ("9.30", time(9, 30)), ("1415", time(14, 15))]
)
def test_clock_accepts_common_ways_of_writing_a_time(raw, expected):
    assert v.clock(raw) == expected


@pytest.mark.parametrize("raw", ["25:00", "10:60", "tio", "10:0"])
def test_clock_refuses_impossible_times(raw):
    with pytest.raises(v.FieldError):
        v.clock(raw)


def test_coordinates_out_of_range_are_refused():
    assert v.latitude("55,6") == 55.6
    for bad in ("91", "-90.5", "nan", "inf"):
        with pytest.raises(v.FieldError):
            v.latitude(bad)
    with pytest.raises(v.FieldError):
        v.longitude("180.01")
