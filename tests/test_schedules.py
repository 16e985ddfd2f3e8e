"""Schedules: readable text in three languages, next dates, and RRULE edge cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.schedules import (
    WEEKDAYS,
    Rule,
    describe,
    format_occurrence,
    next_occurrences,
    occurrences_between,
    parse_byday,
    rule_from_row,
    time_of_day,
    to_rrule_string,
    weekday_names,
)
from locales import LANGUAGES

STHLM = ZoneInfo("Europe/Stockholm")
TODAY = date(2026, 8, 20)
TUE_THU = Rule(byday=("TU", "TH"), opens_at=time(10), closes_at=time(11, 30), dtstart=date(2026, 9, 3))


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("sv", "Tisdagar och torsdagar 10:00–11:30 från 3 september"),
        ("da", "Tirsdage og torsdage 10.00–11.30 fra 3. september"),
        ("en", "Tuesdays and Thursdays 10:00–11:30 from 3 September"),
    ],
)
def test_issue_example_in_each_language(lang, expected):
    assert describe([TUE_THU], lang, today=TODAY) == expected


@pytest.mark.parametrize(
    ("rule", "lang", "expected"),
    [
        (Rule(byday=("MO", "WE", "FR")), "en", "Mondays, Wednesdays and Fridays"),
        (Rule(byday=("MO", "WE", "FR")), "sv", "Måndagar, onsdagar och fredagar"),
        (Rule(byday=("SA",), opens_at=time(9)), "da", "Lørdage kl. 09.00"),
        (
            Rule(interval=2, byday=("MO",), opens_at=time(13), closes_at=time(15)),
            "sv",
            "Varannan vecka: måndagar 13:00–15:00",
        ),
        (Rule(interval=3, byday=("MO",)), "en", "Every 3 weeks: Mondays"),
        (
            Rule(freq="MONTHLY", byday=("-1FR",), opens_at=time(18), closes_at=time(20)),
            "sv",
            "Sista fredagen i månaden 18:00–20:00",
        ),
        (Rule(freq="MONTHLY", byday=("-1FR",)), "da", "Sidste fredag i måneden"),
        (Rule(freq="MONTHLY", byday=("1MO",)), "en", "First Monday of the month"),
        (Rule(freq="MONTHLY", bymonthday=(15,)), "da", "Den 15. i hver måned"),
        (Rule(freq="DAILY"), "en", "Every day"),
        (Rule(byday=("TU",), until=date(2026, 12, 15)), "sv", "Tisdagar till och med 15 december"),
        (Rule(byday=("TU",), until=date(2027, 1, 15)), "en", "Tuesdays until 15 January 2027"),
        (Rule(freq="WEEKLY"), "sv", "Varje vecka"),
    ],
)
def test_readable_text(rule, lang, expected):
    assert describe([rule], lang, today=TODAY) == expected


def test_several_rules_and_no_rules():
    text = describe([Rule(byday=("MO",), opens_at=time(10)), Rule(byday=("TH",), opens_at=time(18))], "en")
    assert text == "Mondays at 10:00; Thursdays at 18:00"
    assert describe([], "sv") == "Tider enligt överenskommelse"
    assert describe([], "da") == "Tider efter aftale"


def test_start_date_in_the_past_is_not_mentioned():
    rule = Rule(byday=("TU",), dtstart=date(2025, 1, 7))
    assert describe([rule], "en", today=TODAY) == "Tuesdays"


def test_next_five_dates_of_the_issue_example():
    after = datetime(2026, 9, 1, 12, tzinfo=STHLM)
    starts = [s for s, _ in next_occurrences([TUE_THU], after, 5)]
    assert [s.date() for s in starts] == [
        date(2026, 9, 3),
        date(2026, 9, 8),
        date(2026, 9, 10),
        date(2026, 9, 15),
        date(2026, 9, 17),
    ]
    first_start, first_end = next_occurrences([TUE_THU], after, 1)[0]
    assert (first_start.hour, first_start.minute, first_end.hour, first_end.minute) == (10, 0, 11, 30)


def test_daylight_saving_keeps_wall_clock_time():
    sunday = Rule(byday=("SU",), opens_at=time(10), closes_at=time(11))
    spring = next_occurrences([sunday], datetime(2026, 3, 20, tzinfo=UTC), 3)
    assert [s.isoformat() for s, _ in spring] == [
        "2026-03-22T10:00:00+01:00",
        "2026-03-29T10:00:00+02:00",
        "2026-04-05T10:00:00+02:00",
    ]
    autumn = next_occurrences([sunday], datetime(2026, 10, 20, tzinfo=UTC), 2)
    assert [s.isoformat() for s, _ in autumn] == ["2026-10-25T10:00:00+01:00", "2026-11-01T10:00:00+01:00"]
    assert [s.astimezone(UTC).hour for s, _ in spring[:2]] == [9, 8]  # UTC shifts, local does not


def test_last_friday_of_the_month():
    rule = Rule(freq="MONTHLY", byday=("-1FR",), opens_at=time(18))
    dates = [s.date() for s, _ in next_occurrences([rule], datetime(2026, 1, 1, tzinfo=STHLM), 6)]
    assert dates == [
        date(2026, 1, 30),
        date(2026, 2, 27),
        date(2026, 3, 27),
        date(2026, 4, 24),
        date(2026, 5, 29),
        date(2026, 6, 26),
    ]


def test_end_date_and_count_are_honoured():
    rule = Rule(byday=("MO",), opens_at=time(9), dtstart=date(2026, 9, 1), until=date(2026, 9, 21))
    dates = [s.date() for s, _ in next_occurrences([rule], datetime(2026, 8, 1, tzinfo=STHLM), 10)]
    assert dates == [date(2026, 9, 7), date(2026, 9, 14), date(2026, 9, 21)]  # until is inclusive
    reversed_rule = Rule(byday=("MO",), dtstart=date(2026, 9, 1), until=date(2026, 8, 1))
    assert next_occurrences([reversed_rule], datetime(2026, 1, 1, tzinfo=STHLM), 5) == []
    counted = Rule(byday=("MO",), dtstart=date(2026, 9, 7), count=2)
    assert len(next_occurrences([counted], datetime(2026, 1, 1, tzinfo=STHLM), 5)) == 2


def test_weekly_without_any_day_has_no_dates_but_text():
    assert next_occurrences([Rule()], datetime(2026, 1, 1, tzinfo=UTC), 5) == []
    assert describe([Rule(dtstart=date(2026, 9, 2))], "en", today=TODAY) == "Wednesdays from 2 September"


def test_closing_after_midnight_ends_next_day():
    late = Rule(byday=("FR",), opens_at=time(22), closes_at=time(1))
    start, end = next_occurrences([late], datetime(2026, 9, 1, tzinfo=STHLM), 1)[0]
    assert end - start == timedelta(hours=3)


def test_week_between_merges_rules_in_order():
    rules = [Rule(byday=("TH",), opens_at=time(18)), Rule(byday=("MO", "TH"), opens_at=time(10))]
    week = occurrences_between(rules, datetime(2026, 9, 7, tzinfo=STHLM), datetime(2026, 9, 14, tzinfo=STHLM))
    assert [(s.strftime("%a %H")) for s, _ in week] == ["Mon 10", "Thu 10", "Thu 18"]


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        next_occurrences([TUE_THU], datetime(2026, 1, 1), 1)


@pytest.mark.parametrize("bad", ["TUE", "XX", "6MO", "0FR", "MO;TU", "1"])
def test_invalid_byday_tokens_raise(bad):
    with pytest.raises(ValueError):
        parse_byday(bad)


def test_byday_parsing_and_row_mapping():
    assert parse_byday(" tu, TH ,TU") == ("TU", "TH")
    assert parse_byday("+1MO,-1FR") == ("1MO", "-1FR")
    row = SimpleNamespace(
        freq="weekly",
        interval=None,
        byday="TU",
        bymonthday=None,
        opens_at=time(10),
        closes_at=None,
        dtstart=date(2026, 1, 1),
        until=date(2026, 12, 31),
        count=None,
        valid_from=date(2026, 3, 1),
        valid_to=date(2026, 6, 30),
        timezone="Europe/Copenhagen",
        description=None,
    )
    rule = rule_from_row(row)
    assert (rule.freq, rule.dtstart, rule.until, rule.timezone) == (
        "WEEKLY",
        date(2026, 3, 1),
        date(2026, 6, 30),
        "Europe/Copenhagen",
    )
    with pytest.raises(ValueError):
        rule_from_row(SimpleNamespace(freq="HOURLY"))
    with pytest.raises(ValueError):
        rule_from_row(SimpleNamespace(freq="WEEKLY", timezone="Mars/Olympus"))


def test_rrule_string_and_helpers():
    assert to_rrule_string(Rule(byday=("TU", "TH"), until=date(2026, 12, 15))) == (
        "FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20261215"
    )
    assert to_rrule_string(Rule(freq="MONTHLY", interval=2, byday=("-1FR",), count=4)) == (
        "FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR;COUNT=4"
    )
    assert [time_of_day(time(h)) for h in (8, 12, 16, 17, 23)] == [
        "morning",
        "afternoon",
        "afternoon",
        "evening",
        "evening",
    ]
    assert time_of_day(None) is None
    assert weekday_names("sv")["TU"] == "tisdag" and weekday_names("da")["SA"] == "lørdag"
    for lang in LANGUAGES:
        assert len(set(weekday_names(lang).values())) == 7


rules = st.builds(
    Rule,
    freq=st.sampled_from(["WEEKLY", "DAILY", "MONTHLY"]),
    interval=st.integers(1, 4),
    byday=st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=3, unique=True).map(tuple),
    opens_at=st.one_of(st.none(), st.times().map(lambda t: t.replace(second=0, microsecond=0))),
    dtstart=st.one_of(st.none(), st.dates(date(2025, 1, 1), date(2027, 12, 31))),
    until=st.one_of(st.none(), st.dates(date(2025, 1, 1), date(2028, 12, 31))),
    timezone=st.sampled_from(["Europe/Stockholm", "Europe/Copenhagen"]),
)


@settings(max_examples=150, deadline=None)
@given(rule=rules, after=st.datetimes(datetime(2025, 1, 1), datetime(2028, 1, 1), timezones=st.just(UTC)))
def test_occurrence_properties(rule, after):
    found = next_occurrences([rule], after, 5)
    starts = [s for s, _ in found]
    assert starts == sorted(starts)
    assert all(s > after for s in starts)
    assert all(WEEKDAYS[s.weekday()] in rule.byday for s in starts)
    if rule.dtstart:
        assert all(s.date() >= rule.dtstart for s in starts)
    if rule.until:
        assert all(s.date() <= rule.until for s in starts)
    if rule.opens_at:
        assert all(
            (s.hour, s.minute) == (rule.opens_at.hour, rule.opens_at.minute)
            for s in starts
            if s.fold == 0 and s.utcoffset() == s.replace(fold=1).utcoffset()
        )
    for lang in LANGUAGES:
        assert describe([rule], lang)


def test_a_date_as_people_read_it():
    start = datetime(2026, 11, 24, 14, tzinfo=STHLM)
    end = datetime(2026, 11, 24, 15, 30, tzinfo=STHLM)
    today = date(2026, 11, 23)
    assert format_occurrence(start, end, "sv", today) == "tisdag 24 november 14:00–15:30"
    assert format_occurrence(start, end, "da", today) == "tirsdag 24. november 14.00–15.30"
    assert format_occurrence(start, None, "en", date(2025, 1, 1)) == "Tuesday 24 November 2026 14:00"
