"""Field checks shared by every form and import: each returns the cleaned value or raises
FieldError with a locale key, so services collect all problems of a form or a row at once.

No Streamlit, no SQL. Services turn the collected FieldErrors into a ValidationError.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Local part: RFC 5322 atext (letters, digits, !#$%&'*+/=?^_`{|}~- and dots), letters beyond ASCII
# allowed; domain: labels of letters, digits and hyphens. Brackets, parentheses, quotes, commas, colons,
# angle brackets and spaces are refused: an address is put into mailto: links and Markdown.
EMAIL_RE = re.compile(
    r"^[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,63}$"
)
PHONE_RE = re.compile(r"^\+?[0-9 ()\-]{5,25}$")
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
# Control characters other than tab and newline never belong in user text.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class FieldError(ValueError):
    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def text(value: object, *, required: bool = False, max_length: int = 300) -> str | None:
    """Trimmed text; None when empty and optional."""
    if value is None or (isinstance(value, float) and value != value):  # None or NaN
        value = ""
    value = _CONTROL_RE.sub("", str(value)).strip()
    if not value:
        if required:
            raise FieldError("error.required")
        return None
    if len(value) > max_length:
        raise FieldError("error.too_long", n=max_length)
    return value


def email(value: object, *, required: bool = False) -> str | None:
    cleaned = text(value, required=required, max_length=200)
    if cleaned is not None and not EMAIL_RE.match(cleaned):
        raise FieldError("error.email_format")
    return cleaned.lower() if cleaned else None


def phone(value: object, *, required: bool = False) -> str | None:
    cleaned = text(value, required=required, max_length=40)
    if cleaned is not None and not PHONE_RE.match(cleaned):
        raise FieldError("error.phone_format")
    return cleaned


def url(value: object, *, required: bool = False) -> str | None:
    cleaned = text(value, required=required, max_length=500)
    if cleaned is not None and not URL_RE.match(cleaned):
        raise FieldError("error.url_format")
    return cleaned


def integer(value: object, *, required: bool = False, minimum: int | None = None, maximum: int | None = None):
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FieldError("error.required")
        return None
    if isinstance(value, bool):
        raise FieldError("error.integer")
    try:
        if isinstance(value, float):
            if value != value or not value.is_integer():
                raise ValueError
            number = int(value)
        else:
            number = int(str(value).strip())
    except ValueError:
        raise FieldError("error.integer") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise FieldError("error.out_of_range", minimum=minimum, maximum=maximum)
    return number


def decimal(
    value: object, *, required: bool = False, minimum: float | None = None, maximum: float | None = None
):
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FieldError("error.required")
        return None
    if isinstance(value, bool):
        raise FieldError("error.number")
    try:
        number = float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise FieldError("error.number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise FieldError("error.number")
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise FieldError("error.out_of_range", minimum=minimum, maximum=maximum)
    return number


def latitude(value: object, *, required: bool = False) -> float | None:
    return decimal(value, required=required, minimum=-90.0, maximum=90.0)


def longitude(value: object, *, required: bool = False) -> float | None:
    return decimal(value, required=required, minimum=-180.0, maximum=180.0)


def clock(value: object, *, required: bool = False) -> time | None:
    """A time of day from a time, or text like 10:00, 10.00, 9:30 or 1000."""
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0)
    if isinstance(value, datetime):
        return value.time().replace(second=0, microsecond=0)
    raw = text(value, required=required, max_length=8)
    if raw is None:
        return None
    match = re.fullmatch(r"(\d{1,2})(?:[:.]?(\d{2}))?", raw)
    if not match:
        raise FieldError("error.time_format")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise FieldError("error.time_format")
    return time(hour, minute)


def day(value: object, *, required: bool = False) -> date | None:
    """A date from a date or ISO text (YYYY-MM-DD)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = text(value, required=required, max_length=10)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FieldError("error.date_format") from None


def weekdays(value: object, *, required: bool = False) -> tuple[str, ...]:
    """RRULE weekday codes from codes or Swedish/Danish/English names: 'tisdag, torsdag' -> (TU, TH)."""
    if value is None:
        value = ""
    if isinstance(value, (list, tuple, set, frozenset)):
        parts = [str(v) for v in value]
    else:
        parts = re.split(r"[,;/+&\s]+|\boch\b|\bog\b|\band\b", str(value))
    codes: list[str] = []
    for part in parts:
        token = part.strip().lower().rstrip(".")
        if not token:
            continue
        ends = re.split(r"\s*[-–]\s*", token)
        if len(ends) == 2 and all(ends):  # a range such as mån-fre: Monday to Friday
            first, last = (_weekday_code(end, part) for end in ends)
            start, stop = WEEKDAYS.index(first), WEEKDAYS.index(last)
            span = WEEKDAYS[start : stop + 1] if start <= stop else WEEKDAYS[start:] + WEEKDAYS[: stop + 1]
        else:
            span = (_weekday_code(token, part),)
        for code in span:
            if code not in codes:
                codes.append(code)
    if required and not codes:
        raise FieldError("error.required")
    return tuple(sorted(codes, key=WEEKDAYS.index))


def _weekday_code(token: str, original: str) -> str:
    """A day name or its abbreviation; a three-letter prefix only for plain words ("tisdagar")."""
    code = _WEEKDAY_NAMES.get(token) or (_WEEKDAY_NAMES.get(token[:3]) if token.isalpha() else None)
    if code is None:
        raise FieldError("error.weekday_unknown", value=original.strip()[:40])
    return code


_WEEKDAY_NAMES: dict[str, str] = {}
for _code, _names in {
    "MO": ("mo", "mon", "monday", "måndag", "mån", "mandag", "man"),
    "TU": ("tu", "tue", "tuesday", "tisdag", "tis", "tirsdag", "tir"),
    "WE": ("we", "wed", "wednesday", "onsdag", "ons"),
    "TH": ("th", "thu", "thursday", "torsdag", "tor", "tors"),
    "FR": ("fr", "fri", "friday", "fredag", "fre"),
    "SA": ("sa", "sat", "saturday", "lördag", "lör", "lørdag", "lør"),
    "SU": ("su", "sun", "sunday", "söndag", "sön", "søndag", "søn"),
}.items():
    for _name in _names:
        _WEEKDAY_NAMES[_name] = _code


def choice(value: object, options, *, required: bool = False) -> str | None:
    raw = text(value, required=required, max_length=64)
    if raw is None:
        return None
    if raw not in options:
        raise FieldError("error.invalid_choice")
    return raw
