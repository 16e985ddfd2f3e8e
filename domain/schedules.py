"""Activity schedules: HSDS 3.0 schedule rows (iCal RRULE fields) as readable text in Swedish,
Danish and English, and their next dates in local wall-clock time.

"Tisdagar och torsdagar 10:00–11:30 från 3 september" / "Tirsdage og torsdage 10.00–11.30 fra
3. september" / "Tuesdays and Thursdays 10:00–11:30 from 3 September".

Occurrences are computed on naive local times and then given the rule's time zone, so a 10:00
walk stays at 10:00 across daylight-saving changes (its UTC offset changes instead).
No Streamlit, no SQL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule as rr

from locales import translate

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
FREQS = {"DAILY": rr.DAILY, "WEEKLY": rr.WEEKLY, "MONTHLY": rr.MONTHLY}
_DATEUTIL_DAYS = dict(zip(WEEKDAYS, (rr.MO, rr.TU, rr.WE, rr.TH, rr.FR, rr.SA, rr.SU), strict=True))
_BYDAY_RE = re.compile(r"^([+-]?[1-5])?(MO|TU|WE|TH|FR|SA|SU)$")
# Where no start date is given, an interval > 1 counts from this Monday, so "every other week"
# is the same weeks for everyone.
_ANCHOR = date(2024, 1, 1)
_HORIZON_DAYS = 3 * 366  # look no further ahead than this for "next" dates


@dataclass(frozen=True)
class Rule:
    freq: str = "WEEKLY"
    interval: int = 1
    byday: tuple[str, ...] = ()
    bymonthday: tuple[int, ...] = ()
    opens_at: time | None = None
    closes_at: time | None = None
    dtstart: date | None = None
    until: date | None = None
    count: int | None = None
    timezone: str = "Europe/Stockholm"
    description: str | None = None


def parse_byday(text: str | None) -> tuple[str, ...]:
    """'TU,TH' or '-1FR' -> ('TU', 'TH') / ('-1FR',); raises ValueError on an unknown token."""
    if not text:
        return ()
    tokens = []
    for raw in str(text).split(","):
        token = raw.strip().upper()
        if not token:
            continue
        if not _BYDAY_RE.match(token):
            raise ValueError(f"invalid BYDAY token: {raw!r}")
        if token.startswith("+"):
            token = token[1:]
        if token not in tokens:
            tokens.append(token)
    return tuple(tokens)


def parse_bymonthday(text: str | None) -> tuple[int, ...]:
    if not text:
        return ()
    days = []
    for raw in str(text).split(","):
        if not raw.strip():
            continue
        day = int(raw.strip())
        if day == 0 or not -31 <= day <= 31:
            raise ValueError(f"invalid BYMONTHDAY: {raw!r}")
        days.append(day)
    return tuple(days)


def rule_from_row(row) -> Rule:
    """A Rule from anything with db.models.Schedule's attributes; ValueError if malformed."""
    freq = (getattr(row, "freq", None) or "WEEKLY").upper()
    if freq not in FREQS:
        raise ValueError(f"unsupported FREQ: {freq!r}")
    interval = int(getattr(row, "interval", None) or 1)
    if interval < 1:
        raise ValueError("INTERVAL must be at least 1")
    starts = [d for d in (getattr(row, "dtstart", None), getattr(row, "valid_from", None)) if d]
    ends = [d for d in (getattr(row, "until", None), getattr(row, "valid_to", None)) if d]
    zone = getattr(row, "timezone", None) or "Europe/Stockholm"
    _zone(zone)
    return Rule(
        freq=freq,
        interval=interval,
        byday=parse_byday(getattr(row, "byday", None)),
        bymonthday=parse_bymonthday(getattr(row, "bymonthday", None)),
        opens_at=getattr(row, "opens_at", None),
        closes_at=getattr(row, "closes_at", None),
        dtstart=max(starts) if starts else None,
        until=min(ends) if ends else None,
        count=getattr(row, "count", None),
        timezone=zone,
        description=getattr(row, "description", None),
    )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone: {name!r}") from error


def _split(token: str) -> tuple[int | None, str]:
    match = _BYDAY_RE.match(token)
    if not match:
        raise ValueError(token)
    return (int(match.group(1)) if match.group(1) else None), match.group(2)


# --- Occurrences ------------------------------------------------------------------------------------


def _recurrence(rule: Rule) -> rr.rrule | None:
    """The dateutil rule over naive local datetimes, or None when it cannot produce dates."""
    if rule.freq == "WEEKLY" and not rule.byday and rule.dtstart is None:
        return None  # "every week", but on which day is not known
    if rule.until and rule.dtstart and rule.until < rule.dtstart:
        return None
    start_day = rule.dtstart or _ANCHOR
    opens = rule.opens_at or time(0, 0)
    kwargs: dict = {"dtstart": datetime.combine(start_day, opens), "interval": rule.interval}
    if rule.byday:
        days = []
        for token in rule.byday:
            nth, code = _split(token)
            weekday = _DATEUTIL_DAYS[code]
            days.append(weekday(nth) if nth and rule.freq == "MONTHLY" else weekday)
        kwargs["byweekday"] = days
    if rule.bymonthday:
        kwargs["bymonthday"] = rule.bymonthday
    if rule.until:
        kwargs["until"] = datetime.combine(rule.until, time(23, 59, 59))
    if rule.count:
        kwargs["count"] = rule.count
    return rr.rrule(FREQS[rule.freq], **kwargs)


def _with_end(rule: Rule, start_local: datetime, zone: ZoneInfo) -> tuple[datetime, datetime | None]:
    start = start_local.replace(tzinfo=zone)
    if rule.closes_at is None or rule.opens_at is None:
        return start, None
    end_day = start_local.date() + timedelta(days=1 if rule.closes_at <= rule.opens_at else 0)
    return start, datetime.combine(end_day, rule.closes_at, zone)


def _occurrences(rule: Rule, start: datetime, end: datetime, inclusive: bool, limit: int):
    recurrence = _recurrence(rule)
    if recurrence is None:
        return []
    zone = _zone(rule.timezone)
    lo = start.astimezone(zone).replace(tzinfo=None)
    hi = end.astimezone(zone).replace(tzinfo=None)
    found = []
    for local in recurrence.xafter(lo, inc=inclusive):
        if local >= hi or len(found) >= limit:
            break
        found.append(_with_end(rule, local, zone))
    return found


def next_occurrences(
    rules: Sequence[Rule], after: datetime, n: int = 5
) -> list[tuple[datetime, datetime | None]]:
    """The next `n` (start, end) strictly after `after` (aware), merged over all rules, in order."""
    if after.tzinfo is None:
        raise ValueError("`after` must be timezone-aware")
    horizon = after + timedelta(days=_HORIZON_DAYS)
    merged = [occ for rule in rules for occ in _occurrences(rule, after, horizon, False, n)]
    return sorted(merged, key=lambda occ: occ[0])[:n]


def occurrences_between(
    rules: Sequence[Rule], start: datetime, end: datetime, limit: int = 1000
) -> list[tuple[datetime, datetime | None]]:
    """Every (start, end) with start in [start, end), merged over all rules, at most `limit`."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("`start` and `end` must be timezone-aware")
    merged = [occ for rule in rules for occ in _occurrences(rule, start, end, True, limit)]
    return sorted(merged, key=lambda occ: occ[0])[:limit]


def time_of_day(moment: time | None) -> str | None:
    if moment is None:
        return None
    if moment < time(12, 0):
        return "morning"
    if moment < time(17, 0):
        return "afternoon"
    return "evening"


# --- Text ---------------------------------------------------------------------------------------


def weekday_names(lang: str) -> dict[str, str]:
    """{'MO': 'måndag', ...}: singular weekday names, as written mid-sentence in `lang`."""
    return {code: translate(f"schedule.day.{code}", lang) for code in WEEKDAYS}


def _join(items: list[str], lang: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {translate('schedule.and', lang)} " + items[-1]


def _clock(moment: time, lang: str) -> str:
    return translate("schedule.clock", lang, h=f"{moment.hour:02d}", m=f"{moment.minute:02d}")


def _date(day: date, lang: str, today: date) -> str:
    month = translate(f"schedule.month.{day.month}", lang)
    key = "schedule.date" if day.year == today.year else "schedule.date_year"
    return translate(key, lang, day=day.day, month=month, year=day.year)


def _days_phrase(rule: Rule, lang: str) -> str:
    if rule.freq == "DAILY":
        if rule.interval == 1:
            return translate("schedule.daily", lang)
        return translate("schedule.every_n_days", lang, n=rule.interval)
    if rule.freq == "MONTHLY":
        if rule.byday:
            parts = []
            for token in rule.byday:
                nth, code = _split(token)
                if nth:
                    parts.append(
                        translate(f"schedule.nth.{nth}", lang)
                        + " "
                        + translate(f"schedule.day_def.{code}", lang)
                    )
                else:
                    parts.append(translate(f"schedule.days.{code}", lang))
            return translate("schedule.monthly_weekday", lang, days=_join(parts, lang))
        if rule.bymonthday:
            return translate("schedule.monthly_day", lang, n=_join([str(d) for d in rule.bymonthday], lang))
        return translate("schedule.monthly", lang)
    # WEEKLY
    codes = [_split(token)[1] for token in rule.byday]
    if not codes and rule.dtstart is not None:
        codes = [WEEKDAYS[rule.dtstart.weekday()]]
    if not codes:
        return translate("schedule.weekly_no_day", lang)
    days = _join([translate(f"schedule.days.{code}", lang) for code in codes], lang)
    if rule.interval == 1:
        return days
    if rule.interval == 2:
        return translate("schedule.every_other_week", lang, days=days)
    return translate("schedule.every_n_weeks", lang, n=rule.interval, days=days)


def describe_rule(rule: Rule, lang: str, today: date | None = None) -> str:
    today = today or date.today()
    parts = [_days_phrase(rule, lang)]
    if rule.opens_at and rule.closes_at:
        parts.append(
            translate(
                "schedule.times", lang, start=_clock(rule.opens_at, lang), end=_clock(rule.closes_at, lang)
            )
        )
    elif rule.opens_at:
        parts.append(translate("schedule.at", lang, start=_clock(rule.opens_at, lang)))
    if rule.dtstart and rule.dtstart > today:
        parts.append(translate("schedule.from", lang, date=_date(rule.dtstart, lang, today)))
    if rule.until:
        parts.append(translate("schedule.until", lang, date=_date(rule.until, lang, today)))
    if rule.count:
        parts.append(translate("schedule.count", lang, n=rule.count))
    text = " ".join(parts)
    if rule.description:
        text += f" ({rule.description.strip()})"
    return text


def describe(rules: Sequence[Rule], lang: str, today: date | None = None) -> str:
    """All rules as one readable sentence-like text, capitalised; 'Times by arrangement' if none."""
    texts = [describe_rule(rule, lang, today) for rule in rules]
    text = "; ".join(t for t in texts if t)
    if not text:
        return translate("schedule.by_arrangement", lang)
    return text[0].upper() + text[1:]


def to_rrule_string(rule: Rule) -> str:
    """The iCal RRULE for HSDS export, e.g. 'FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20261215'."""
    parts = [f"FREQ={rule.freq}"]
    if rule.interval != 1:
        parts.append(f"INTERVAL={rule.interval}")
    if rule.byday:
        parts.append("BYDAY=" + ",".join(rule.byday))
    if rule.bymonthday:
        parts.append("BYMONTHDAY=" + ",".join(str(d) for d in rule.bymonthday))
    if rule.until:
        parts.append(f"UNTIL={rule.until:%Y%m%d}")
    if rule.count:
        parts.append(f"COUNT={rule.count}")
    return ";".join(parts)


def format_occurrence(start: datetime, end: datetime | None, lang: str, today: date | None = None) -> str:
    """One date as a person reads it: 'tisdag 24 november 14:00–15:30' / 'Tuesday 24 November ...'."""
    today = today or date.today()
    text = (
        f"{translate(f'schedule.day.{WEEKDAYS[start.weekday()]}', lang)} {_date(start.date(), lang, today)}"
    )
    if start.hour or start.minute or end is not None:
        if end is not None:
            clock = translate(
                "schedule.times", lang, start=_clock(start.time(), lang), end=_clock(end.time(), lang)
            )
        else:
            clock = _clock(start.time(), lang)
        text += f" {clock}"
    return text
