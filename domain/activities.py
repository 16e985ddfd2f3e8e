"""What makes an activity valid, for the edit form and the public suggestion form alike.

`clean_activity` takes what a form sent (text, lists, booleans; browser-side limits are no defence)
and returns the cleaned `ActivityData` and every problem at once as field -> (locale key, params).
No Streamlit, no SQL: the caller passes the known taxonomy codes and the organisation's places.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, time

from domain import validation as v

ATTENDING = ("in_person", "online", "hybrid")
STATUSES = ("active", "inactive")
PLACE_MODES = ("existing", "new", "none")
FREQUENCIES = ("WEEKLY", "MONTHLY", "DAILY")
SET_POSITIONS = (1, 2, 3, 4, -1)  # first .. fourth, last (weekday of the month)
MAX_DESCRIPTION = 5000
MAX_PLACES = 10_000
MAX_AGE = 120
# Region check: a place this far outside every municipality's centre point is probably a typo.
REGION_MARGIN_DEGREES = 0.6


@dataclass(frozen=True)
class ActivityData:
    name: str
    description: str = ""
    category: str = ""
    target_groups: tuple[str, ...] = ()
    accessibility: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    attending_type: str = "in_person"
    url: str | None = None
    email: str | None = None
    status: str = "active"
    eligibility: str | None = None
    minimum_age: int | None = None
    maximum_age: int | None = None
    is_free: bool = True
    fees: str | None = None
    rolling_start: bool = False
    start_date: date | None = None
    contact_name: str | None = None
    contact_title: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    freq: str = "WEEKLY"
    weekdays: tuple[str, ...] = ()
    setpos: int | None = None
    monthdays: tuple[int, ...] = ()
    interval: int = 1
    opens_at: time | None = None
    closes_at: time | None = None
    dtstart: date | None = None
    until: date | None = None
    place_mode: str = "none"
    location_id: int | None = None
    place_name: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    available: int | None = None
    maximum: int | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def as_form(self) -> dict:
        """Plain values for form widgets (and for comparing two versions field by field)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}


Errors = dict[str, tuple[str, dict]]


class _Collector:
    def __init__(self, values: Mapping) -> None:
        self.values = values
        self.errors: Errors = {}

    def take(self, name: str, check, *args, **kwargs):
        try:
            return check(self.values.get(name), *args, **kwargs)
        except v.FieldError as error:
            self.errors.setdefault(name, (error.key, error.params))
            return None

    def fail(self, name: str, key: str, **params) -> None:
        self.errors.setdefault(name, (key, params))


def _codes(value: object, known: Iterable[str] | None) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    items = (
        [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple, set)) else None
    )
    if items is None:
        raise v.FieldError("error.invalid_choice")
    codes = []
    for item in items:
        code = str(item).strip()
        if known is not None and code not in known:
            raise v.FieldError("error.invalid_choice")
        if code and code not in codes:
            codes.append(code)
    return tuple(codes)


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "ja", "on"):
        return True
    if text in ("", "0", "false", "no", "nej", "off"):
        return False
    raise v.FieldError("error.invalid_choice")


def _monthdays(value: object) -> tuple[int, ...]:
    """Days of the month: '1, 15' -> (1, 15); -1 is the last day."""
    if value is None or value == "" or value == ():
        return ()
    parts = value if isinstance(value, (list, tuple)) else str(value).replace(";", ",").split(",")
    days = []
    for part in parts:
        day = v.integer(part, required=True, minimum=-1, maximum=31)
        if day == 0:
            raise v.FieldError("error.out_of_range", minimum=1, maximum=31)
        if day not in days:
            days.append(day)
    return tuple(sorted(days))


def clean_activity(
    values: Mapping,
    *,
    terms: Mapping[str, Iterable[str]],
    location_ids: Iterable[int] = (),
    require_contact: bool = True,
) -> tuple[ActivityData | None, Errors]:
    """Check every field; on any problem return (None, errors) listing all of them."""
    c = _Collector(values)
    known = {taxonomy: set(codes) for taxonomy, codes in terms.items()}
    name = c.take("name", v.text, required=True, max_length=300)
    description = c.take("description", v.text, max_length=MAX_DESCRIPTION) or ""
    category = c.take("category", v.choice, known.get("category", set()), required=True)
    target_groups = c.take("target_groups", _codes, known.get("target_group")) or ()
    accessibility = c.take("accessibility", _codes, known.get("accessibility")) or ()
    languages = c.take("languages", _codes, known.get("language")) or ()
    attending = c.take("attending_type", v.choice, ATTENDING, required=True) or "in_person"
    url = c.take("url", v.url, required=attending in ("online", "hybrid"))
    email = c.take("email", v.email)
    status = c.take("status", v.choice, STATUSES) or "active"
    eligibility = c.take("eligibility", v.text, max_length=2000)
    minimum_age = c.take("minimum_age", v.integer, minimum=0, maximum=MAX_AGE)
    maximum_age = c.take("maximum_age", v.integer, minimum=0, maximum=MAX_AGE)
    if minimum_age is not None and maximum_age is not None and maximum_age < minimum_age:
        c.fail("maximum_age", "error.max_below_min")
    is_free = c.take("is_free", _flag)
    fees = c.take("fees", v.text, max_length=500)
    rolling_start = c.take("rolling_start", _flag)
    start_date = c.take("start_date", v.day)

    contact_name = c.take("contact_name", v.text, required=require_contact, max_length=200)
    contact_title = c.take("contact_title", v.text, max_length=200)
    contact_phone = c.take("contact_phone", v.phone)
    contact_email = c.take("contact_email", v.email)
    if (
        require_contact
        and not (contact_phone or contact_email)
        and not ("contact_phone" in c.errors or "contact_email" in c.errors)
    ):
        c.fail("contact_phone", "error.phone_or_email")

    freq = c.take("freq", v.choice, FREQUENCIES) or "WEEKLY"
    weekdays = c.take("weekdays", v.weekdays) or ()
    setpos = c.take("setpos", v.integer, minimum=-1, maximum=4) if freq == "MONTHLY" else None
    if setpos == 0:
        setpos = None
    monthdays = c.take("monthdays", _monthdays) if freq == "MONTHLY" else ()
    if freq == "MONTHLY" and setpos is not None and not weekdays and "weekdays" not in c.errors:
        c.fail("weekdays", "error.required")
    if freq == "DAILY":
        weekdays = ()
    interval = c.take("interval", v.integer, minimum=1, maximum=52) or 1
    opens_at = c.take("opens_at", v.clock)
    closes_at = c.take("closes_at", v.clock)
    dtstart = c.take("dtstart", v.day)
    until = c.take("until", v.day)
    if weekdays and opens_at is None and "opens_at" not in c.errors:
        c.fail("opens_at", "error.required")
    if closes_at is not None and opens_at is None and "opens_at" not in c.errors:
        c.fail("opens_at", "error.required")
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        c.fail("closes_at", "error.closes_before_opens")
    if dtstart is not None and until is not None and until < dtstart:
        c.fail("until", "error.until_before_start")

    place_mode = c.take("place_mode", v.choice, PLACE_MODES) or "none"
    location_id = place_name = street = postal_code = city = latitude = longitude = None
    if place_mode == "existing":
        location_id = c.take("location_id", v.integer, required=True)
        if location_id is not None and location_id not in set(location_ids):
            c.fail("location_id", "error.invalid_choice")
    elif place_mode == "new":
        place_name = c.take("place_name", v.text, max_length=300)
        street = c.take("street", v.text, max_length=300)
        postal_code = c.take("postal_code", v.text, max_length=16)
        city = c.take("city", v.text, max_length=120)
        latitude = c.take("latitude", v.latitude)
        longitude = c.take("longitude", v.longitude)
        if (latitude is None) != (longitude is None) and not {"latitude", "longitude"} & set(c.errors):
            c.fail("longitude" if longitude is None else "latitude", "error.coordinates_pair")
        if not (street or city or latitude is not None) and not {"latitude", "longitude"} & set(c.errors):
            c.fail("street", "error.place_needed")
    if attending in ("in_person", "hybrid") and place_mode == "none":
        c.fail("place_mode", "error.place_needed")

    available = c.take("available", v.integer, minimum=0, maximum=MAX_PLACES)
    maximum = c.take("maximum", v.integer, minimum=0, maximum=MAX_PLACES)
    if available is not None and maximum is not None and available > maximum:
        c.fail("available", "error.places_above_maximum")

    if c.errors:
        return None, c.errors
    return (
        ActivityData(
            name=name,
            description=description,
            category=category,
            target_groups=target_groups,
            accessibility=accessibility,
            languages=languages,
            attending_type=attending,
            url=url,
            email=email,
            status=status,
            eligibility=eligibility,
            minimum_age=minimum_age,
            maximum_age=maximum_age,
            is_free=bool(is_free),
            fees=None if is_free else fees,
            rolling_start=bool(rolling_start),
            start_date=None if rolling_start else start_date,
            contact_name=contact_name,
            contact_title=contact_title,
            contact_phone=contact_phone,
            contact_email=contact_email,
            freq=freq,
            weekdays=weekdays,
            setpos=setpos,
            monthdays=monthdays or (),
            interval=interval,
            opens_at=opens_at,
            closes_at=closes_at,
            dtstart=dtstart,
            until=until,
            place_mode=place_mode,
            location_id=location_id,
            place_name=place_name,
            street=street,
            postal_code=postal_code,
            city=city,
            latitude=latitude,
            longitude=longitude,
            available=available,
            maximum=maximum,
        ),
        {},
    )


def region_box(points: Iterable[tuple[float, float]], margin: float = REGION_MARGIN_DEGREES):
    """(south, west, north, east) around the municipalities' centre points, or None without any."""
    points = list(points)
    if not points:
        return None
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    return min(lats) - margin, min(lons) - margin, max(lats) + margin, max(lons) + margin


def outside_region(lat: float, lon: float, box) -> bool:
    if box is None:
        return False
    south, west, north, east = box
    return not (south <= lat <= north and west <= lon <= east)
