"""HSDS 3.0 (Open Referral's Human Services Data Specification) for Lotsa's activity directory.

Pure functions, no database. Three shapes of the same content:

* `Directory`: Lotsa's rows as plain dicts (model column names; references by `hsds_id`,
  municipalities by their official code).
* tables: HSDS table name (the datapackage.json resource name: "service", "phone", ...) -> rows
  with the standard's field names. This is the tabular data package before it is CSV.
* compiled records: one JSON object per service, as schema/compiled/service.json describes it,
  with the organization, service_at_locations -> location -> addresses, contacts -> phones,
  schedules, cost_options, service_areas, languages and attributes -> taxonomy_term nested.

`directory_tables` and `parse_tables` go between Lotsa and HSDS; `assemble` (tables -> compiled)
and `flatten` (compiled -> tables) between the two HSDS shapes; `to_tabular`/`from_tabular`
and `tables_to_csv`/`csv_to_tables` handle the CSV package.

What HSDS 3.0 has no field for travels in HSDS attributes, whose taxonomy terms come from two
taxonomies of Lotsa's own, so the records stay valid against the standard schema:

* "lotsa.extension": one term per field; the attribute's `value` holds the value. On services:
  approval_status, attending_type, is_free, rolling_start, start_date, created_at and the
  capacity (capacity_id, capacity_available, capacity_maximum, capacity_unit, capacity_updated).
  On schedules: timezone (the IANA name; the standard's `timezone` is a bare UTC offset) and freq
  when it is not one of the standard's WEEKLY/MONTHLY (Lotsa's rolling-start courses are DAILY).
* "lotsa.municipality": the kommun/kommune of a service, organization, location or service area;
  term code = the official municipality code, term description = country, region and centre point.

Lotsa's own taxonomy terms (category, target_group, accessibility, language) are exported as they
are: term `name` is the English name, `description` holds the three names one per line
("sv: Promenader", "da: Gåture", "en: Walking"). Language terms are also listed as the service's
`languages`. An organization's kind is its `legal_status`.

Times are local wall-clock times "HH:MM:SS" in the schedule's timezone; dates are ISO (YYYY-MM-DD),
datetimes ISO in UTC with milliseconds ("2026-05-17T10:00:00.000Z"). Ids are Lotsa's hsds_id
UUIDs; ids Lotsa has no row for (extension attributes and terms, taxonomies, languages) are UUIDv5
derived from what they describe, so the same content always gets the same id.

The schemas are read from LOTSA_HSDS_SCHEMA_DIR (default: shared/standards/hsds-3.0 next to the
repository).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.csv_safety import restore_text, safe_text

SCHEMA_DIR_ENV = "LOTSA_HSDS_SCHEMA_DIR"
_REPO = Path(__file__).resolve().parents[1]
# The official standard beside the repository (as in CI), else the vendored copy of the two files
# Lotsa needs (standards/hsds-3.0, byte-identical; tests/test_hsds.py checks it).
OFFICIAL_SCHEMA_DIR = _REPO.parent / "shared/standards/hsds-3.0"
VENDORED_SCHEMA_DIR = _REPO / "standards/hsds-3.0"
SERVICE_SCHEMA = "schema/compiled/service.json"
DATAPACKAGE = "datapackage.json"

NAMESPACE = uuid.UUID("0d6c54f1-3a57-4c8e-9b59-7f0a4c1e2d10")
EXTENSION_TAXONOMY = "lotsa.extension"
MUNICIPALITY_TAXONOMY = "lotsa.municipality"
LANGUAGE_TAXONOMY = "language"
DEFAULT_TIMEZONE = "Europe/Stockholm"
STANDARD_FREQS = ("WEEKLY", "MONTHLY")
ATTENDING_TYPES = ("in_person", "online", "hybrid")
MAX_MESSAGE = 300
# A value from the file quoted in a message (untrusted text): at most this many characters.
MAX_VALUE = 80

SERVICE_EXTENSIONS: dict[str, tuple[str, str]] = {
    "approval_status": ("Approval status", "Lotsa: moderation state of the activity (approved, pending)."),
    "attending_type": ("Attending type", "Lotsa: how to attend (in_person, online, hybrid)."),
    "is_free": ("Free of charge", "Lotsa: true when the activity costs nothing."),
    "rolling_start": ("Rolling start", "Lotsa: true when participants can start at any time."),
    "start_date": ("Start date", "Lotsa: the date a course starts (YYYY-MM-DD)."),
    "created_at": ("Created", "Lotsa: when the activity was added to the directory (ISO datetime, UTC)."),
    "capacity_id": ("Capacity identifier", "Lotsa: identifier of the activity's capacity record."),
    "capacity_available": ("Free places", "Lotsa: number of places available now."),
    "capacity_maximum": ("Places in total", "Lotsa: the maximum number of participants."),
    "capacity_unit": ("Capacity unit", "Lotsa: what the capacity counts (places)."),
    "capacity_updated": ("Capacity updated", "Lotsa: when the free places were last updated (ISO, UTC)."),
}
SCHEDULE_EXTENSIONS: dict[str, tuple[str, str]] = {
    "timezone": ("Time zone", "Lotsa: IANA time zone of the schedule's local times (e.g. Europe/Stockholm)."),
    "freq": ("Frequency", "Lotsa: RFC 5545 FREQ when it is not WEEKLY or MONTHLY (e.g. DAILY)."),
}
TAXONOMY_DESCRIPTIONS = {
    "category": "Lotsa activity categories.",
    "target_group": "Lotsa target groups.",
    "accessibility": "Lotsa accessibility features.",
    "language": "Languages an activity is held in (ISO 639-1 codes).",
    EXTENSION_TAXONOMY: "Lotsa fields that HSDS 3.0 has no place for; the attribute value holds the value.",
    MUNICIPALITY_TAXONOMY: "Swedish kommuner and Danish kommuner by official code.",
}

# Strings the compiled schema requires: kept even when empty, every other empty string is left out.
REQUIRED: dict[str, frozenset[str]] = {
    "service": frozenset({"id", "name", "status"}),
    "organization": frozenset({"id", "name", "description"}),
    "location": frozenset({"id", "location_type"}),
    "address": frozenset(
        {"id", "address_1", "city", "state_province", "postal_code", "country", "address_type"}
    ),
    "phone": frozenset({"id", "number"}),
    "taxonomy_term": frozenset({"id", "name", "description"}),
    "taxonomy": frozenset({"id", "name", "description"}),
}

# Compiled nesting: entity -> key -> (child entity, is a list).
NESTED: dict[str, dict[str, tuple[str, bool]]] = {
    "service": {
        "organization": ("organization", False),
        "program": ("program", False),
        "phones": ("phone", True),
        "schedules": ("schedule", True),
        "service_areas": ("service_area", True),
        "service_at_locations": ("service_at_location", True),
        "languages": ("language", True),
        "funding": ("funding", True),
        "cost_options": ("cost_option", True),
        "required_documents": ("required_document", True),
        "contacts": ("contact", True),
        "attributes": ("attribute", True),
    },
    "organization": {
        "funding": ("funding", True),
        "contacts": ("contact", True),
        "phones": ("phone", True),
        "locations": ("location", True),
        "programs": ("program", True),
        "organization_identifiers": ("organization_identifier", True),
        "attributes": ("attribute", True),
    },
    "service_at_location": {
        "contacts": ("contact", True),
        "phones": ("phone", True),
        "schedules": ("schedule", True),
        "location": ("location", False),
        "attributes": ("attribute", True),
    },
    "location": {
        "languages": ("language", True),
        "addresses": ("address", True),
        "contacts": ("contact", True),
        "accessibility": ("accessibility", True),
        "phones": ("phone", True),
        "schedules": ("schedule", True),
        "attributes": ("attribute", True),
    },
    "contact": {"phones": ("phone", True), "attributes": ("attribute", True)},
    "phone": {"languages": ("language", True), "attributes": ("attribute", True)},
    "attribute": {"taxonomy_term": ("taxonomy_term", False)},
    "taxonomy_term": {"taxonomy_detail": ("taxonomy", False)},
}
for _entity in (
    "schedule",
    "service_area",
    "cost_option",
    "address",
    "language",
    "funding",
    "required_document",
    "accessibility",
    "program",
    "organization_identifier",
):
    NESTED.setdefault(_entity, {})["attributes"] = ("attribute", True)

# A nested object that the parent refers to (rather than owns): (parent, key) -> parent's id field.
REFERENCE_FIELDS = {
    ("service", "organization"): "organization_id",
    ("service", "program"): "program_id",
    ("service_at_location", "location"): "location_id",
    ("attribute", "taxonomy_term"): "taxonomy_term_id",
    ("taxonomy_term", "taxonomy_detail"): "taxonomy_id",
}
# The id field naming each kind of parent in its children, and which children have it.
PARENT_FIELD = {
    "service": "service_id",
    "organization": "organization_id",
    "location": "location_id",
    "contact": "contact_id",
    "phone": "phone_id",
    "service_at_location": "service_at_location_id",
}
PARENT_FIELDS_OF = {
    "phone": ("location_id", "service_id", "organization_id", "contact_id", "service_at_location_id"),
    "contact": ("organization_id", "service_id", "service_at_location_id", "location_id"),
    "schedule": ("service_id", "location_id", "service_at_location_id"),
    "language": ("service_id", "location_id", "phone_id"),
    "location": ("organization_id",),
    "address": ("location_id",),
    "service_area": ("service_id",),
    "cost_option": ("service_id",),
    "required_document": ("service_id",),
    "service_at_location": ("service_id",),
    "funding": ("organization_id", "service_id"),
    "program": ("organization_id",),
    "organization_identifier": ("organization_id",),
    "accessibility": ("location_id",),
}


# --- Errors -----------------------------------------------------------------------------------------


# HSDS fields Lotsa keeps as they are, in a column of the same name (migration 0011):
# entity -> {field: "text" | "number" | "date"}.
KEPT_FIELDS: dict[str, dict[str, str]] = {
    "organization": {"alternate_name": "text"},
    "service": {"application_process": "text", "wait_time": "text", "alert": "text"},
    "location": {"alternate_name": "text", "transportation": "text"},
    "address": {"address_2": "text"},
    "contact": {"department": "text"},
    "phone": {"extension": "number", "description": "text"},
    "schedule": {"notes": "text"},
    "cost_option": {"valid_from": "date", "valid_to": "date"},
}
_DIRECTORY_LISTS = {
    "organization": "organizations", "service": "services", "location": "locations",
    "address": "addresses", "contact": "contacts", "phone": "phones", "schedule": "schedules",
    "cost_option": "cost_options",
}  # fmt: skip


class SchemaMissing(Exception):
    """The HSDS 3.0 schema folder is not where LOTSA_HSDS_SCHEMA_DIR (or the default) points."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"The HSDS 3.0 schemas are absent at {path}: set {SCHEMA_DIR_ENV} to the folder that holds "
            f"{SERVICE_SCHEMA} and {DATAPACKAGE}."
        )
        self.path = path


class Problem(ValueError):
    """A problem with the input: its English text (str(problem), for the command line) and the
    translation key (exchange.error.*) with the parameters the UI shows it by."""

    def __init__(self, key: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.key = key
        self.params = params

    @property
    def message(self) -> str:
        return str(self)


@dataclass(frozen=True)
class RecordError:
    """One problem in the input: `index` is the record's position (None for a problem in a CSV
    file), `path` a JSON path in the record ("$.schedules[0].freq") or a place in a CSV file.
    `message` is English (the command line); `key` (exchange.error.*) and `params` give the text
    in the user's language (services.hsds.error_text)."""

    index: int | None
    path: str
    message: str
    record_id: str | None = None
    key: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, index: int | None, path: str, problem: Problem, record_id: str | None = None) -> RecordError:
        return cls(index, path, str(problem), record_id, problem.key, problem.params)

    def __str__(self) -> str:
        where = f"record {self.index}" if self.index is not None else "package"
        if self.record_id:
            where += f" (service {self.record_id})"
        return f"{where} at {self.path}: {self.message}"


def shown(value: Any) -> str:
    """A value from the input for a message, as JSON on one line, at most MAX_VALUE characters."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def shown_text(value: Any) -> str:
    """An id or name from the input for a message, unquoted, on one line, at most MAX_VALUE characters."""
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _shown_list(values: Iterable[Any], limit: int = 8) -> str:
    items = list(values)
    text = ", ".join(shown(v) for v in items[:limit]) + (", …" if len(items) > limit else "")
    return _short(text)


# --- The standard's files ---------------------------------------------------------------------------


def schema_dir() -> Path:
    raw = os.environ.get(SCHEMA_DIR_ENV, "").strip()
    if raw:
        return Path(raw).expanduser()
    if (OFFICIAL_SCHEMA_DIR / SERVICE_SCHEMA).is_file():
        return OFFICIAL_SCHEMA_DIR
    return VENDORED_SCHEMA_DIR


def _standard_path(relative: str) -> tuple[str, float]:
    path = schema_dir() / relative
    try:
        return str(path), path.stat().st_mtime
    except OSError:
        raise SchemaMissing(schema_dir()) from None


@lru_cache(maxsize=8)
def _load(path: str, _mtime: float) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def service_schema() -> dict:
    return _load(*_standard_path(SERVICE_SCHEMA))


def datapackage() -> dict:
    return _load(*_standard_path(DATAPACKAGE))


def datapackage_text() -> str:
    """The standard's datapackage.json as published, for the exported package."""
    path, _ = _standard_path(DATAPACKAGE)
    return Path(path).read_text(encoding="utf-8")


@lru_cache(maxsize=4)
def _validator(path: str, mtime: float):
    from jsonschema.validators import Draft202012Validator, validator_for

    schema = _load(path, mtime)
    # The HSDS 3.0 schemas name no $schema; they are written for draft 2020-12 (OpenAPI 3.1).
    cls = validator_for(schema, default=Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def service_validator():
    """A jsonschema validator for schema/compiled/service.json, checking formats (uuid, email...)."""
    return _validator(*_standard_path(SERVICE_SCHEMA))


def not_a_service(record: Any) -> Problem | None:
    """Why `record` is plainly not an HSDS service, or None."""
    if not isinstance(record, dict):
        message = f"is not an HSDS service: expected a JSON object, got {type(record).__name__}"
        return Problem("exchange.error.not_object", message)
    if "status" in record and "name" in record:
        return None
    looks_like = None
    if "contents" in record and isinstance(record.get("contents"), list):
        looks_like = "list", "a paginated list (import its contents)"
    elif "location_type" in record or "addresses" in record:
        looks_like = "location", "a location"
    elif "service" in record and "location" in record:
        looks_like = "service_at_location", "a service_at_location"
    elif {"services", "organization_identifiers", "website", "legal_status", "tax_id"} & set(record):
        looks_like = "organization", "an organization"
    elif "taxonomy" in record or "parent_id" in record or "term_uri" in record:
        looks_like = "taxonomy_term", "a taxonomy term"
    if looks_like:
        kind, words = looks_like
        message = f"is not an HSDS service: it looks like {words}; a service has id, name and status"
        return Problem(f"exchange.error.looks_like_{kind}", message)
    if "name" not in record and "status" not in record:
        return Problem(
            "exchange.error.not_service", "is not an HSDS service: a service has id, name and status"
        )
    return None


def _short(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def validate_records(records: Sequence[Any], validator=None) -> list[RecordError]:
    """Every problem in `records` against schema/compiled/service.json (and records that are not
    services at all), each with the record's index and a JSON path."""
    validator = validator or service_validator()
    errors: list[RecordError] = []
    for index, record in enumerate(records):
        record_id = (
            record.get("id") if isinstance(record, dict) and isinstance(record.get("id"), str) else None
        )
        problem = not_a_service(record)
        if problem:
            errors.append(RecordError.of(index, "$", problem, record_id))
            continue
        found = sorted(validator.iter_errors(record), key=lambda e: (e.json_path, e.message))
        errors.extend(
            RecordError(index, e.json_path, _short(e.message), record_id, *schema_error_key(e)) for e in found
        )
    return errors


# jsonschema's validator (the schema keyword an error breaks) -> the key of its text.
SCHEMA_RULES = {
    "enum": "enum", "const": "const", "pattern": "pattern",
    "minLength": "min_length", "maxLength": "max_length", "minimum": "minimum", "maximum": "maximum",
    "exclusiveMinimum": "exclusive_minimum", "exclusiveMaximum": "exclusive_maximum",
    "minItems": "min_items", "maxItems": "max_items", "uniqueItems": "unique_items",
}  # fmt: skip
SCHEMA_TYPES = ("string", "number", "integer", "boolean", "object", "array", "null")
SCHEMA_FORMATS = ("email", "uri", "uuid", "date-time", "date", "time")
_REQUIRED = re.compile(r"^(['\"])(.*)\1 is a required property$", re.DOTALL)


def schema_error_key(error: Any) -> tuple[str, dict[str, Any]]:
    """The translation key (exchange.error.schema.*) and parameters of a jsonschema error. Values
    from the file are shortened (`shown`); a rule without its own text gets the generic one."""
    rule, expected, instance = error.validator, error.validator_value, error.instance
    value = shown(instance)
    prefix = "exchange.error.schema."
    if rule == "required":
        found = _REQUIRED.match(error.message)
        missing = found[2] if found else next((p for p in expected if p not in instance), "?")
        return prefix + "required", {"field": shown_text(missing)}
    if rule == "type":
        if isinstance(expected, str) and expected in SCHEMA_TYPES:
            return f"{prefix}type_{expected}", {"value": value}
        types = expected if isinstance(expected, list) else [expected]
        return prefix + "type", {"value": value, "expected": ", ".join(map(str, types))}
    if rule == "format":
        if expected in SCHEMA_FORMATS:
            return f"{prefix}format_{expected.replace('-', '_')}", {"value": value}
        return prefix + "format", {"value": value, "format": shown(expected)}
    if rule == "additionalProperties":
        known = set(error.schema.get("properties", {})) if isinstance(error.schema, Mapping) else set()
        extra = sorted(k for k in instance if k not in known) if isinstance(instance, Mapping) else []
        return prefix + "additional_properties", {"fields": _shown_list(extra), "count": max(len(extra), 1)}
    name = SCHEMA_RULES.get(rule)
    if name in ("enum", "const"):
        allowed = expected if rule == "enum" and isinstance(expected, list) else [expected]
        return prefix + name, {"value": value, "allowed": _shown_list(allowed)}
    if name in ("min_length", "max_length", "min_items", "max_items"):
        return prefix + name, {"value": value, "count": expected}
    if name in ("minimum", "maximum", "exclusive_minimum", "exclusive_maximum"):
        return prefix + name, {"value": value, "limit": shown(expected)}
    if name == "pattern":
        return prefix + name, {"value": value, "pattern": shown(expected)}
    if name == "unique_items":
        return prefix + name, {"value": value}
    return prefix + "other", {"value": value, "rule": shown(rule).strip('"')}


# --- Values -----------------------------------------------------------------------------------------


def derived_id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts)))


def fmt_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def fmt_time(value: time | None) -> str | None:
    """HH:MM:SS, the form the data package's `time` fields (and Frictionless) require."""
    if value is None:
        return None
    return value.strftime("%H:%M:%S")


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def fmt_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    return as_utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fmt_bool(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def parse_date(value: Any) -> date:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise Problem("exchange.error.not_date", f"{value!r} is not a date (YYYY-MM-DD)", value=shown(value))
    try:
        return date.fromisoformat(value.strip())
    except ValueError as bad:
        raise Problem(
            "exchange.error.not_date", f"{value!r} is not a date: {bad}", value=shown(value)
        ) from None


_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?")


def parse_time(value: Any) -> time:
    """HH:MM or HH:MM:SS; a UTC offset after it is accepted and ignored (Lotsa keeps local times)."""
    match = _TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match:
        raise Problem("exchange.error.not_time", f"{value!r} is not a time (HH:MM)", value=shown(value))
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise Problem("exchange.error.not_time", f"{value!r} is not a time (HH:MM)", value=shown(value))
    return time(hour, minute, second)


def parse_datetime(value: Any) -> datetime:
    try:
        return as_utc(datetime.fromisoformat(value.strip()))
    except (AttributeError, TypeError, ValueError):
        raise Problem(
            "exchange.error.not_datetime", f"{value!r} is not an ISO datetime", value=shown(value)
        ) from None


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise Problem("exchange.error.not_bool", f"{value!r} is not true or false", value=shown(value))


def parse_int(value: Any) -> int:
    if isinstance(value, bool):
        raise Problem("exchange.error.not_integer", f"{value!r} is not a whole number", value=shown(value))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise Problem("exchange.error.not_integer", f"{value!r} is not a whole number", value=shown(value))


def parse_float(value: Any) -> float:
    if isinstance(value, bool):
        raise Problem("exchange.error.not_number", f"{value!r} is not a number", value=shown(value))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Problem("exchange.error.not_number", f"{value!r} is not a number", value=shown(value)) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise Problem("exchange.error.not_number", f"{value!r} is not a number", value=shown(value))
    return number


def utc_offset_hours(tz_name: str | None) -> int | float | None:
    """The zone's standard UTC offset in hours (HSDS `timezone` is a number), or None."""
    if not tz_name:
        return None
    try:
        offset = datetime(2001, 1, 15, 12, tzinfo=ZoneInfo(tz_name)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return None
    hours = offset.total_seconds() / 3600 if offset is not None else 0.0
    return int(hours) if hours.is_integer() else hours


def zone_for_offset(hours: Any) -> str | None:
    """An IANA zone for a whole-hour UTC offset ("Etc/GMT-1" is UTC+1), else None."""
    try:
        whole = parse_int(hours)
    except ValueError:
        return None
    if whole == 0:
        return "UTC"
    return f"Etc/GMT{-whole:+d}" if -12 <= whole <= 14 else None


def _lines(description: Any) -> dict[str, str]:
    """ "key: value" lines (how Lotsa describes its terms) as a dict; {} for any other text."""
    if not isinstance(description, str) or not description.strip():
        return {}
    out: dict[str, str] = {}
    for line in description.splitlines():
        key, sep, value = line.partition(": ")
        if not sep or not re.fullmatch(r"[a-z_]+", key):
            return {}
        out[key] = value
    return out


def _describe(pairs: Iterable[tuple[str, object]]) -> str:
    return "\n".join(f"{key}: {value}" for key, value in pairs)


# --- Lotsa -> HSDS tables ----------------------------------------------------------------------------


@dataclass
class Directory:
    """Lotsa's directory rows as dicts: model column names; references as `organization`,
    `location`, `service`, `contact`, `taxonomy_term` (hsds_ids) and `municipality` (code)."""

    municipalities: list[dict] = field(default_factory=list)
    taxonomy_terms: list[dict] = field(default_factory=list)
    organizations: list[dict] = field(default_factory=list)
    locations: list[dict] = field(default_factory=list)
    addresses: list[dict] = field(default_factory=list)
    services: list[dict] = field(default_factory=list)
    service_at_locations: list[dict] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)
    phones: list[dict] = field(default_factory=list)
    schedules: list[dict] = field(default_factory=list)
    attributes: list[dict] = field(default_factory=list)
    cost_options: list[dict] = field(default_factory=list)
    service_areas: list[dict] = field(default_factory=list)
    capacities: list[dict] = field(default_factory=list)


class _TableBuilder:
    def __init__(self) -> None:
        self.tables: dict[str, dict[str, dict]] = {}

    def add(self, table: str, row: dict) -> None:
        self.tables.setdefault(table, {}).setdefault(row["id"], row)

    def taxonomy(self, name: str) -> str:
        tax_id = derived_id("taxonomy", name)
        description = TAXONOMY_DESCRIPTIONS.get(name, f"Lotsa taxonomy {name}.")
        self.add("taxonomy", {"id": tax_id, "name": name, "description": description})
        return tax_id

    def term(self, term_id: str, taxonomy: str, code: str, name: str, description: str, language=None) -> str:
        self.add(
            "taxonomy_term",
            {
                "id": term_id,
                "code": code,
                "name": name,
                "description": description,
                "taxonomy": taxonomy,
                "language": language,
                "taxonomy_id": self.taxonomy(taxonomy),
            },
        )
        return term_id

    def attribute(self, attr_id: str, entity: str, link_id: str, term_id: str, value: str | None) -> None:
        self.add(
            "attribute",
            {
                "id": attr_id,
                "link_id": link_id,
                "taxonomy_term_id": term_id,
                "link_entity": entity,
                "value": value,
            },
        )

    def extension(self, entity: str, link_id: str, code: str, value: str | None) -> None:
        if value is None:
            return
        label, description = {**SERVICE_EXTENSIONS, **SCHEDULE_EXTENSIONS}[code]
        term_id = self.term(
            derived_id(EXTENSION_TAXONOMY, code), EXTENSION_TAXONOMY, code, label, description
        )
        self.attribute(derived_id("attribute", link_id, code), entity, link_id, term_id, value)

    def municipality(self, entity: str, link_id: str, code: str | None, munis: Mapping[str, dict]) -> None:
        if not code:
            return
        m = munis.get(code, {"code": code, "name": code})
        description = _describe(
            (key, m[col])
            for key, col in (
                ("country", "country"),
                ("region", "region_name"),
                ("latitude", "latitude"),
                ("longitude", "longitude"),
            )
            if m.get(col) is not None
        )
        term_id = self.term(
            derived_id(MUNICIPALITY_TAXONOMY, code), MUNICIPALITY_TAXONOMY, code, m["name"], description
        )
        self.attribute(derived_id("attribute", link_id, "municipality"), entity, link_id, term_id, None)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def directory_tables(d: Directory) -> dict[str, list[dict]]:
    """Lotsa's rows as HSDS tables (standard field names; None where there is no value)."""
    b = _TableBuilder()
    munis = {m["code"]: m for m in d.municipalities}
    terms = {t["hsds_id"]: t for t in d.taxonomy_terms}
    # state_province is required by the standard: Lotsa's own value, else the region (län/region)
    # of the place's municipality, else the city, so the CSV package passes Frictionless.
    regions = {
        loc["hsds_id"]: (munis.get(loc.get("municipality")) or {}).get("region_name") for loc in d.locations
    }

    for o in d.organizations:
        b.add(
            "organization",
            {
                "id": o["hsds_id"],
                "name": o["name"],
                "description": o.get("description") or "",
                "email": o.get("email"),
                "website": o.get("website"),
                "legal_status": o.get("kind"),
            },
        )
        b.municipality("organization", o["hsds_id"], o.get("municipality"), munis)
    for loc in d.locations:
        b.add(
            "location",
            {
                "id": loc["hsds_id"],
                "location_type": loc["location_type"],
                "url": loc.get("url"),
                "organization_id": loc.get("organization"),
                "name": loc.get("name"),
                "description": loc.get("description"),
                "latitude": loc.get("latitude"),
                "longitude": loc.get("longitude"),
            },
        )
        b.municipality("location", loc["hsds_id"], loc.get("municipality"), munis)
    for a in d.addresses:
        b.add(
            "address",
            {
                "id": a["hsds_id"],
                "location_id": a["location"],
                "address_1": a["address_1"],
                "city": a["city"],
                "region": a.get("region"),
                "state_province": a.get("state_province") or regions.get(a["location"]) or a["city"] or "",
                "postal_code": a["postal_code"],
                "country": a["country"],
                "address_type": a.get("address_type") or "physical",
            },
        )
    capacities = {c["service"]: c for c in d.capacities}
    for s in d.services:
        sid = s["hsds_id"]
        b.add(
            "service",
            {
                "id": sid,
                "organization_id": s["organization"],
                "name": s["name"],
                "alternate_name": s.get("alternate_name"),
                "description": s.get("description"),
                "url": s.get("url"),
                "email": s.get("email"),
                "status": s["status"],
                "fees_description": s.get("fees_description"),
                "eligibility_description": s.get("eligibility_description"),
                "minimum_age": s.get("minimum_age"),
                "maximum_age": s.get("maximum_age"),
                "assured_date": fmt_date(s.get("assured_date")),
                "assurer_email": s.get("assurer_email"),
                "last_modified": fmt_datetime(s.get("updated_at")),
            },
        )
        b.extension("service", sid, "approval_status", s.get("approval_status"))
        b.extension("service", sid, "attending_type", s.get("attending_type"))
        b.extension("service", sid, "is_free", fmt_bool(s.get("is_free")))
        b.extension("service", sid, "rolling_start", fmt_bool(s.get("rolling_start")))
        b.extension("service", sid, "start_date", fmt_date(s.get("start_date")))
        b.extension("service", sid, "created_at", fmt_datetime(s.get("created_at")))
        cap = capacities.get(sid)
        if cap is not None:
            b.extension("service", sid, "capacity_id", cap["hsds_id"])
            b.extension("service", sid, "capacity_available", _str_or_none(cap.get("available")))
            b.extension("service", sid, "capacity_maximum", _str_or_none(cap.get("maximum")))
            b.extension("service", sid, "capacity_unit", cap.get("unit"))
            b.extension("service", sid, "capacity_updated", fmt_datetime(cap.get("updated")))
        b.municipality("service", sid, s.get("municipality"), munis)
    for sal in d.service_at_locations:
        b.add(
            "service_at_location",
            {"id": sal["hsds_id"], "service_id": sal["service"], "location_id": sal["location"]},
        )
    for c in d.contacts:
        b.add(
            "contact",
            {
                "id": c["hsds_id"],
                "organization_id": c.get("organization"),
                "service_id": c.get("service"),
                "name": c.get("name"),
                "title": c.get("title"),
                "email": c.get("email"),
            },
        )
    for p in d.phones:
        b.add(
            "phone",
            {
                "id": p["hsds_id"],
                "location_id": p.get("location"),
                "service_id": p.get("service"),
                "organization_id": p.get("organization"),
                "contact_id": p.get("contact"),
                "number": p["number"],
                "type": p.get("type"),
            },
        )
    for sc in d.schedules:
        freq = sc.get("freq")
        tz = sc.get("timezone")
        b.add(
            "schedule",
            {
                "id": sc["hsds_id"],
                "service_id": sc["service"],
                "valid_from": fmt_date(sc.get("valid_from")),
                "valid_to": fmt_date(sc.get("valid_to")),
                "dtstart": fmt_date(sc.get("dtstart")),
                "timezone": utc_offset_hours(tz),
                "until": fmt_date(sc.get("until")),
                "count": sc.get("count"),
                "freq": freq if freq in STANDARD_FREQS else None,
                "interval": sc.get("interval"),
                "byday": sc.get("byday"),
                "bymonthday": sc.get("bymonthday"),
                "description": sc.get("description"),
                "opens_at": fmt_time(sc.get("opens_at")),
                "closes_at": fmt_time(sc.get("closes_at")),
                "attending_type": sc.get("attending_type"),
            },
        )
        b.extension("schedule", sc["hsds_id"], "timezone", tz)
        if freq and freq not in STANDARD_FREQS:
            b.extension("schedule", sc["hsds_id"], "freq", freq)
    for a in d.attributes:
        term = terms[a["taxonomy_term"]]
        names = (("sv", term["name_sv"]), ("da", term["name_da"]), ("en", term["name_en"]))
        b.term(term["hsds_id"], term["taxonomy"], term["code"], term["name_en"], _describe(names), "en")
        b.attribute(a["hsds_id"], "service", a["service"], term["hsds_id"], a.get("value"))
        if term["taxonomy"] == LANGUAGE_TAXONOMY:
            b.add(
                "language",
                {
                    "id": derived_id("language", a["hsds_id"]),
                    "service_id": a["service"],
                    "name": term["name_en"],
                    "code": term["code"],
                },
            )
    for co in d.cost_options:
        b.add(
            "cost_option",
            {
                "id": co["hsds_id"],
                "service_id": co["service"],
                "option": co.get("option"),
                "currency": co.get("currency"),
                "amount": co.get("amount"),
                "amount_description": co.get("amount_description"),
            },
        )
    for area in d.service_areas:
        b.add(
            "service_area", {"id": area["hsds_id"], "service_id": area["service"], "name": area.get("name")}
        )
        b.municipality("service_area", area["hsds_id"], area.get("municipality"), munis)
    for entity, kept in KEPT_FIELDS.items():
        rows = b.tables.get(entity, {})
        for item in getattr(d, _DIRECTORY_LISTS[entity]):
            row = rows.get(item["hsds_id"])
            if row is None:
                continue
            for name, kind in kept.items():
                value = item.get(name)
                if kind == "date":
                    value = fmt_date(value)
                elif kind == "number" and isinstance(value, float) and value.is_integer():
                    value = int(value)
                row[name] = value
    return {name: list(rows.values()) for name, rows in b.tables.items()}


def build_services(d: Directory) -> list[dict]:
    """Compiled HSDS service records for every service in `d`, sorted by id."""
    return assemble(directory_tables(d))


# --- HSDS tables -> compiled records ----------------------------------------------------------------


def _clean(entity: str, row: Mapping[str, Any]) -> dict:
    keep = REQUIRED.get(entity, frozenset())
    return {
        k: v
        for k, v in row.items()
        if not k.startswith("_") and v is not None and v != [] and (v != "" or k in keep)
    }


_PHONE_OWNERS = (
    ("contact", "contact_id"),
    ("service_at_location", "service_at_location_id"),
    ("service", "service_id"),
    ("location", "location_id"),
    ("organization", "organization_id"),
)
_CONTACT_OWNERS = _PHONE_OWNERS[1:]
_SCHEDULE_OWNERS = (
    ("service_at_location", "service_at_location_id"),
    ("service", "service_id"),
    ("location", "location_id"),
)
_LANGUAGE_OWNERS = (("phone", "phone_id"), ("service", "service_id"), ("location", "location_id"))
_LINK_ENTITIES = {
    "services": "service",
    "organizations": "organization",
    "locations": "location",
    "schedules": "schedule",
    "service_areas": "service_area",
    "contacts": "contact",
    "phones": "phone",
    "addresses": "address",
    "cost_options": "cost_option",
    "languages": "language",
}


class _Assembler:
    def __init__(self, tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        self.rows = {name: [r for r in rows if r.get("id") is not None] for name, rows in tables.items()}
        self.by_id = {name: {r["id"]: r for r in rows} for name, rows in self.rows.items()}
        self.children: dict[tuple[str, str, str], list[Mapping]] = {}
        for table, owners in (
            ("phone", _PHONE_OWNERS),
            ("contact", _CONTACT_OWNERS),
            ("schedule", _SCHEDULE_OWNERS),
            ("language", _LANGUAGE_OWNERS),
            ("address", (("location", "location_id"),)),
            ("service_area", (("service", "service_id"),)),
            ("cost_option", (("service", "service_id"),)),
            ("service_at_location", (("service", "service_id"),)),
        ):
            for row in self.rows.get(table, ()):
                for owner, column in owners:
                    ref = row.get(column)
                    if ref and ref in self.by_id.get(owner, {}):
                        self.children.setdefault((table, owner, ref), []).append(row)
                        break
        for row in self.rows.get("attribute", ()):
            entity = row.get("link_entity") or ""
            entity = _LINK_ENTITIES.get(entity, entity)
            if row.get("link_id"):
                self.children.setdefault(("attribute", entity, row["link_id"]), []).append(row)

    def _list(self, table: str, owner: str, owner_id: str, build) -> list[dict]:
        rows = sorted(self.children.get((table, owner, owner_id), ()), key=lambda r: str(r["id"]))
        return [build(r) for r in rows]

    def attributes(self, entity: str, owner_id: str) -> list[dict]:
        return self._list("attribute", entity, owner_id, self.attribute)

    def attribute(self, row: Mapping) -> dict:
        obj = _clean("attribute", row)
        term = self.by_id.get("taxonomy_term", {}).get(row.get("taxonomy_term_id"))
        if term is not None:
            term_obj = _clean("taxonomy_term", term)
            taxonomy = self.by_id.get("taxonomy", {}).get(term.get("taxonomy_id"))
            if taxonomy is not None:
                term_obj["taxonomy_detail"] = _clean("taxonomy", taxonomy)
            obj["taxonomy_term"] = term_obj
        return obj

    def _with(self, entity: str, row: Mapping, **nested: Any) -> dict:
        obj = _clean(entity, row)
        for key, value in nested.items():
            if value not in (None, []):
                obj[key] = value
        return obj

    def language(self, row: Mapping) -> dict:
        return self._with("language", row, attributes=self.attributes("language", row["id"]))

    def phone(self, row: Mapping) -> dict:
        rid = row["id"]
        return self._with(
            "phone",
            row,
            languages=self._list("language", "phone", rid, self.language),
            attributes=self.attributes("phone", rid),
        )

    def contact(self, row: Mapping) -> dict:
        rid = row["id"]
        return self._with(
            "contact",
            row,
            phones=self._list("phone", "contact", rid, self.phone),
            attributes=self.attributes("contact", rid),
        )

    def schedule(self, row: Mapping) -> dict:
        return self._with("schedule", row, attributes=self.attributes("schedule", row["id"]))

    def simple(self, entity: str):
        return lambda row: self._with(entity, row, attributes=self.attributes(entity, row["id"]))

    def location(self, row: Mapping) -> dict:
        rid = row["id"]
        return self._with(
            "location",
            row,
            languages=self._list("language", "location", rid, self.language),
            addresses=self._list("address", "location", rid, self.simple("address")),
            contacts=self._list("contact", "location", rid, self.contact),
            phones=self._list("phone", "location", rid, self.phone),
            schedules=self._list("schedule", "location", rid, self.schedule),
            attributes=self.attributes("location", rid),
        )

    def service_at_location(self, row: Mapping) -> dict:
        rid = row["id"]
        location = self.by_id.get("location", {}).get(row.get("location_id"))
        return self._with(
            "service_at_location",
            row,
            contacts=self._list("contact", "service_at_location", rid, self.contact),
            phones=self._list("phone", "service_at_location", rid, self.phone),
            schedules=self._list("schedule", "service_at_location", rid, self.schedule),
            location=self.location(location) if location is not None else None,
            attributes=self.attributes("service_at_location", rid),
        )

    def organization(self, row: Mapping) -> dict:
        rid = row["id"]
        return self._with(
            "organization",
            row,
            contacts=self._list("contact", "organization", rid, self.contact),
            phones=self._list("phone", "organization", rid, self.phone),
            attributes=self.attributes("organization", rid),
        )

    def service(self, row: Mapping) -> dict:
        rid = row["id"]
        org = self.by_id.get("organization", {}).get(row.get("organization_id"))
        return self._with(
            "service",
            row,
            phones=self._list("phone", "service", rid, self.phone),
            schedules=self._list("schedule", "service", rid, self.schedule),
            service_areas=self._list("service_area", "service", rid, self.simple("service_area")),
            service_at_locations=self._list("service_at_location", "service", rid, self.service_at_location),
            languages=self._list("language", "service", rid, self.language),
            organization=self.organization(org) if org is not None else None,
            cost_options=self._list("cost_option", "service", rid, self.simple("cost_option")),
            contacts=self._list("contact", "service", rid, self.contact),
            attributes=self.attributes("service", rid),
        )

    def run(self) -> list[dict]:
        return [self.service(r) for r in sorted(self.rows.get("service", ()), key=lambda r: str(r["id"]))]


def assemble(tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[dict]:
    """HSDS tables -> compiled service records (sorted by id; empty values and lists left out).

    Phones, contacts, schedules and languages nest under their most specific owner (a phone with a
    contact_id under that contact); attributes under the object their link_entity/link_id names.
    Programs, funding, required documents, accessibility and organization identifiers are not
    nested: Lotsa keeps none of them."""
    return _Assembler(tables).run()


# --- Compiled records -> HSDS tables ----------------------------------------------------------------


@dataclass
class Flattened:
    """Compiled records as HSDS tables. Every row carries `_at` = (record index, service id, JSON
    path) for error messages; an id met twice keeps its first row."""

    tables: dict[str, list[dict]]
    errors: list[RecordError]
    warnings: list[str]
    # (entity, id) -> the fields the record itself gave (not the parent ids filled in).
    own: dict[tuple[str, Any], dict] = field(default_factory=dict)


class _Flattener:
    def __init__(self) -> None:
        self.tables: dict[str, list[dict]] = {}
        self.seen: dict[tuple[str, Any], dict] = {}
        self.own: dict[tuple[str, Any], dict] = {}
        self.errors: list[RecordError] = []
        self.warnings: list[str] = []

    def walk(self, entity: str, obj: Mapping, path: str, parent: tuple[str, Any] | None, at: tuple) -> Any:
        own = {k: v for k, v in obj.items() if not isinstance(v, (dict, list))}
        row = dict(own)
        if parent is not None:
            owner, owner_id = parent
            if entity == "attribute":
                row["link_id"], row["link_entity"] = owner_id, owner
            else:
                column = PARENT_FIELD.get(owner)
                if column in PARENT_FIELDS_OF.get(entity, ()) and not row.get(column):
                    row[column] = owner_id
        nested = NESTED.get(entity, {})
        for key, value in obj.items():
            spec = nested.get(key)
            if spec is None:
                continue
            child, many = spec
            if many and isinstance(value, list):
                for j, item in enumerate(value):
                    if isinstance(item, dict):
                        self.walk(child, item, f"{path}.{key}[{j}]", (entity, row.get("id")), at)
            elif not many and isinstance(value, dict):
                child_id = self.walk(child, value, f"{path}.{key}", None, at)
                column = REFERENCE_FIELDS.get((entity, key))
                if column and not row.get(column):
                    row[column] = child_id
        self.add(entity, row, own, (at[0], at[1], path))
        return row.get("id")

    def add(self, entity: str, row: dict, own: dict, at: tuple) -> None:
        """Keep the first row per id. The same object met again (HSDS nests one object in several
        places) is fine; another object under the same id is a warning (for a service an error)."""
        key = (entity, row.get("id"))
        first = self.seen.get(key)
        if first is None:
            row["_at"] = at
            self.seen[key] = row
            self.own[key] = own
            self.tables.setdefault(entity, []).append(row)
            return
        if entity == "service":
            message = f"service {row.get('id')} also appears as record {first['_at'][0]}"
            params = {"id": shown_text(row.get("id")), "record": first["_at"][0] + 1}
            problem = Problem("exchange.error.duplicate_service", message, **params)
            self.errors.append(RecordError.of(at[0], at[2], problem, at[1]))
        elif self.own[key] == own:
            # One object under several parents (a phone of the service and of its contact): it
            # belongs to all of them.
            for column in PARENT_FIELDS_OF.get(entity, ()):
                if not first.get(column) and row.get(column):
                    first[column] = row[column]
        else:
            self.warnings.append(
                f"{entity} {row.get('id')} appears more than once with different content "
                f"(record {at[0]} at {at[2]}); the first one (record {first['_at'][0]} at "
                f"{first['_at'][2]}) was used"
            )


def flatten(records: Sequence[Mapping[str, Any]]) -> Flattened:
    """Compiled service records -> HSDS tables, filling in each nested object's parent id."""
    f = _Flattener()
    for index, record in enumerate(records):
        if isinstance(record, Mapping):
            rid = record.get("id") if isinstance(record.get("id"), str) else None
            f.walk("service", record, "$", None, (index, rid))
    return Flattened(f.tables, f.errors, f.warnings, f.own)


# --- Versions and what an import loses ---------------------------------------------------------------

# Files of HSDS 1.x/2.x data packages (and of the 2014 Ohana export) that HSDS 3.0 renamed or dropped.
LEGACY_FILES = frozenset(
    {
        "regular_schedules.csv", "holiday_schedules.csv", "physical_addresses.csv", "postal_addresses.csv",
        "services_at_location.csv", "services_taxonomy.csv", "accessibility_for_disabilities.csv",
        "payments_accepted.csv", "eligibility.csv", "taxonomy.csv", "service.csv", "organization.csv",
        "location.csv", "address.csv", "contact.csv", "phone.csv", "internet_resource.csv",
    }
)  # fmt: skip
# Fields of HSDS 1.x/2.x and Open Referral UK 1.0 service records that HSDS 3.0 does not have.
LEGACY_RECORD_KEYS = frozenset(
    {
        "regular_schedules", "holiday_schedules", "physical_addresses", "postal_addresses",
        "service_taxonomys", "eligibilitys", "fundings", "reviews", "deliverable_type",
        "attending_access", "link_taxonomy", "service_areas_v1",
    }
)  # fmt: skip
VERSION_REFUSED = "Lotsa imports HSDS 3.x only"
UNSUPPORTED_VERSION = (
    "{what} is HSDS {version} ({evidence}); Lotsa imports HSDS 3.x only. Nothing was imported: "
    "convert it to HSDS 3.0 first (Open Referral's upgrade notes list the renamed tables and fields)."
)


def package_version_problem(names: Iterable[str], descriptor: Any = None) -> Problem | None:
    """Why a tabular package is not HSDS 3.x (file names of older versions, or the version its
    datapackage.json declares), or None. `names` are the CSV file names in the package."""
    version = descriptor.get("version") if isinstance(descriptor, Mapping) else None
    legacy = sorted({Path(n).name for n in names} & LEGACY_FILES)
    if isinstance(version, (str, int, float)) and not str(version).strip().startswith("3"):
        evidence = f"its datapackage.json says version {version}"
        message = UNSUPPORTED_VERSION.format(what="This data package", version="1.x/2.x", evidence=evidence)
        return Problem("exchange.error.version_declared", message, version=shown_text(version))
    if legacy:
        evidence = f"it has {', '.join(legacy)}, which HSDS 3.0 does not"
        message = UNSUPPORTED_VERSION.format(what="This data package", version="1.x/2.x", evidence=evidence)
        return Problem("exchange.error.version_files", message, files=_short(", ".join(legacy)))
    return None


def records_version_problem(records: Sequence[Any]) -> Problem | None:
    """Why JSON records are not HSDS 3.x (fields only older versions or ORUK 1.0 have), or None."""
    found: dict[str, int] = {}
    for record in records:
        if isinstance(record, Mapping):
            for key in LEGACY_RECORD_KEYS & set(record):
                found[key] = found.get(key, 0) + 1
    if not found:
        return None
    shown = ", ".join(f"{k} ({n} record(s))" for k, n in sorted(found.items())[:4])
    evidence = f"its records have {shown}, which HSDS 3.0 does not"
    version = "1.x/2.x or Open Referral UK 1.0"
    message = UNSUPPORTED_VERSION.format(what="This file", version=version, evidence=evidence)
    fields = ", ".join(f"{k} ({n})" for k, n in sorted(found.items())[:4])
    return Problem("exchange.error.version_fields", message, fields=fields)


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _same_value(given: Any, kept: Any) -> bool:
    if given == kept:
        return True
    if _blank(kept):
        return False
    for parse in (parse_time, parse_datetime, parse_float):
        try:
            if parse(str(given)) == parse(str(kept)):
                return True
        except (ValueError, TypeError):
            continue
    return str(given).strip().casefold() == str(kept).strip().casefold()


def dropped_fields(flat: Flattened, kept: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, int]:
    """What Lotsa does not keep of the records: JSON path (list indexes as []) -> how many values.

    Compares every field the records gave (`flat.own`) with the tables Lotsa would export (`kept`,
    from `directory_tables`), row by row by id; an object with no row of its id is lost whole
    ("path (whole object)"); languages are matched by code, as Lotsa keeps them as terms."""
    out: dict[str, int] = {}
    by_id = {entity: {r.get("id"): r for r in rows} for entity, rows in kept.items()}
    languages = {r.get("code"): r for r in kept.get("language", ())}
    for entity, rows in flat.tables.items():
        for row in rows:
            own = flat.own.get((entity, row.get("id")), {})
            path = re.sub(r"\[\d+\]", "[]", row["_at"][2])
            match = by_id.get(entity, {}).get(row.get("id"))
            if match is None and entity == "language":
                match = languages.get(row.get("code"))
            given = {k: v for k, v in own.items() if not _blank(v) and k != "id"}
            if match is None:
                if given or own.get("id"):
                    key = f"{path} (whole object)"
                    out[key] = out.get(key, 0) + 1
                continue
            for name, value in given.items():
                if name.endswith("_id") and entity == "language":
                    continue
                if not _same_value(value, match.get(name)):
                    key = f"{path}.{name}"
                    out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items()))


def _fields(resource: Mapping) -> list[dict]:
    return resource.get("schema", {}).get("fields", [])


def to_tabular(records: Sequence[Mapping[str, Any]], package: Mapping | None = None) -> dict[str, list[dict]]:
    """Compiled records -> every table of the data package (resource name -> rows with exactly the
    package's fields, in its order, None where empty), rows sorted by id."""
    package = package if package is not None else datapackage()
    tables = flatten(records).tables
    out: dict[str, list[dict]] = {}
    for resource in package["resources"]:
        names = [f["name"] for f in _fields(resource)]
        rows = sorted(tables.get(resource["name"], ()), key=lambda r: str(r.get("id")))
        out[resource["name"]] = [{n: row.get(n) for n in names} for row in rows]
    return out


def from_tabular(tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[dict]:
    """The tables of a data package -> compiled service records (the inverse of `to_tabular`)."""
    return assemble(tables)


def _csv_value(value: Any) -> str:
    """A cell of the CSV package: formula-like text gets an apostrophe (CSV injection), phone
    numbers and signed numbers stay as they are; `csv_to_tables` takes the apostrophe off again."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return safe_text(value)
    return str(value)


def tables_to_csv(
    tables: Mapping[str, Sequence[Mapping[str, Any]]], package: Mapping | None = None
) -> dict[str, str]:
    """Tables -> {CSV path from the package: UTF-8 text with a header row}, one per resource."""
    package = package if package is not None else datapackage()
    out: dict[str, str] = {}
    for resource in package["resources"]:
        names = [f["name"] for f in _fields(resource)]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(names)
        for row in tables.get(resource["name"], ()):
            writer.writerow([_csv_value(row.get(n)) for n in names])
        out[resource["path"]] = buffer.getvalue()
    return out


def _typed(value: str, spec: Mapping) -> Any:
    value = restore_text(value)
    if value == "":
        required = spec.get("constraints", {}).get("required")
        return "" if required and spec.get("type", "string") == "string" else None
    if spec.get("type") in ("number", "integer"):
        return parse_int(value) if re.fullmatch(r"-?\d+", value.strip()) else parse_float(value)
    return value


def _problem(bad: ValueError, value: Any) -> Problem:
    """A converter's ValueError as a Problem (ours already are; any other gets the generic text)."""
    if isinstance(bad, Problem):
        return bad
    return Problem("exchange.error.bad_value", str(bad), value=shown(value))


def csv_to_tables(
    texts: Mapping[str, str], package: Mapping | None = None
) -> tuple[dict[str, list[dict]], list[RecordError]]:
    """{CSV path: text} -> typed tables (numbers as int/float, empty cells None, empty required
    strings ""); files the package does not list are ignored, missing ones are empty tables."""
    package = package if package is not None else datapackage()
    tables: dict[str, list[dict]] = {}
    errors: list[RecordError] = []
    for resource in package["resources"]:
        text = texts.get(resource["path"])
        if text is None:
            continue
        specs = {f["name"]: f for f in _fields(resource)}
        # newline="": CR-only (old Mac), LF and CRLF line endings all work; quoted line breaks stay.
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
        try:
            fieldnames = reader.fieldnames
        except csv.Error as bad:
            message = f"is not readable CSV: {bad}"
            errors.append(RecordError.of(None, resource["path"], Problem("exchange.error.not_csv", message)))
            continue
        unknown = [c for c in fieldnames or () if c not in specs]
        if unknown:
            columns = ", ".join(map(repr, unknown))
            params = {"columns": _short(columns), "count": len(unknown)}
            problem = Problem("exchange.error.unknown_columns", f"unknown column(s) {columns}", **params)
            errors.append(RecordError.of(None, resource["path"], problem))
            continue
        rows = []
        try:
            for line, raw in enumerate(reader, start=2):
                row: dict[str, Any] = {}
                for name, spec in specs.items():
                    value = raw.get(name)
                    try:
                        row[name] = _typed(value if isinstance(value, str) else "", spec)
                    except ValueError as bad:
                        where = f"{resource['path']} line {line}, {name}"
                        errors.append(RecordError.of(None, where, _problem(bad, value)))
                rows.append(row)
        except csv.Error as bad:
            where = f"{resource['path']} line {reader.line_num}"
            errors.append(
                RecordError.of(None, where, Problem("exchange.error.not_csv", f"is not readable CSV: {bad}"))
            )
            continue
        tables[resource["name"]] = rows
    return tables, errors


# --- HSDS tables -> Lotsa rows ----------------------------------------------------------------------


class _Parser:
    def __init__(self, tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        self.t = {name: list(rows) for name, rows in tables.items()}
        self.d = Directory()
        self.errors: list[RecordError] = []
        self.terms = {r.get("id"): r for r in self.t.get("taxonomy_term", ())}
        self.taxonomies = {r.get("id"): r for r in self.t.get("taxonomy", ())}
        self.ext_ids = {
            derived_id(EXTENSION_TAXONOMY, code): code for code in (*SERVICE_EXTENSIONS, *SCHEDULE_EXTENSIONS)
        }
        self.extensions: dict[tuple[str, str], dict[str, tuple[Any, Mapping]]] = {}
        self.municipality_of: dict[tuple[str, str], str] = {}
        self.service_attributes: list[Mapping] = []
        sals = self.t.get("service_at_location", ())
        self.sal_service = {r.get("id"): r.get("service_id") for r in sals}

    # errors and values

    def error(self, row: Mapping, field_name: str | None, problem: Problem) -> None:
        index, record_id, path = row.get("_at") or (None, None, "$")
        where = f"{path}.{field_name}" if field_name else path
        self.errors.append(RecordError.of(index, where, problem, record_id))

    def value(self, row: Mapping, name: str, convert, *, field_name: str | None = None) -> Any:
        raw = row.get(name)
        if raw is None or raw == "":
            return None
        try:
            return convert(raw)
        except ValueError as bad:
            self.error(row, field_name or name, _problem(bad, raw))
            return None

    def text(self, row: Mapping, name: str) -> str | None:
        raw = row.get(name)
        if raw is None or raw == "":
            return None
        return str(raw)

    def need(self, row: Mapping, name: str, what: str) -> str | None:
        ref = row.get(name)
        if not ref:
            message = f"Lotsa needs the {what} of every {_entity_of(row)}"
            self.error(row, name, Problem("exchange.error.missing_reference", message, field=name))
            return None
        return ref

    def ext(self, entity: str, owner: str, code: str, convert) -> Any:
        found = self.extensions.get((entity, owner), {}).get(code)
        if found is None:
            return None
        raw, attribute = found
        return self.value({"v": raw, "_at": attribute.get("_at")}, "v", convert, field_name="value")

    # the pass over every table

    def run(self) -> tuple[Directory, list[RecordError]]:
        self.attributes()
        self.organizations()
        self.locations()
        self.addresses()
        self.services()
        self.service_at_locations()
        self.contacts_and_phones()
        self.schedules()
        self.lotsa_attributes()
        self.cost_options()
        self.service_areas()
        self.kept_fields()
        return self.d, self.errors

    def kept_fields(self) -> None:
        """The HSDS fields Lotsa has a column of the same name for (KEPT_FIELDS)."""
        convert = {"text": str, "number": parse_float, "date": parse_date}
        for entity, kept in KEPT_FIELDS.items():
            source = {row.get("id"): row for row in self.t.get(entity, ())}
            for item in getattr(self.d, _DIRECTORY_LISTS[entity]):
                row = source.get(item["hsds_id"])
                if row is None:
                    continue
                for name, kind in kept.items():
                    item[name] = self.value(row, name, convert[kind])

    def term_taxonomy(self, term: Mapping) -> str | None:
        if term.get("taxonomy"):
            return str(term["taxonomy"])
        detail = self.taxonomies.get(term.get("taxonomy_id"))
        return str(detail["name"]) if detail and detail.get("name") else None

    def attributes(self) -> None:
        munis: dict[str, dict] = {}
        for row in self.t.get("attribute", ()):
            entity = _LINK_ENTITIES.get(row.get("link_entity") or "", row.get("link_entity") or "")
            owner, term_id = row.get("link_id"), row.get("taxonomy_term_id")
            if not owner or not term_id:
                continue
            term = self.terms.get(term_id) or {}
            taxonomy = self.term_taxonomy(term) if term else None
            if term_id in self.ext_ids or taxonomy == EXTENSION_TAXONOMY:
                code = self.ext_ids.get(term_id) or term.get("code")
                self.extensions.setdefault((entity, owner), {})[code] = (row.get("value"), row)
            elif taxonomy == MUNICIPALITY_TAXONOMY:
                code = term.get("code")
                if not code:
                    message = "a municipality term needs the municipality code"
                    self.error(
                        row, "taxonomy_term.code", Problem("exchange.error.municipality_code", message)
                    )
                    continue
                code = str(code)
                self.municipality_of[(entity, owner)] = code
                if code not in munis:
                    info = _lines(term.get("description"))
                    munis[code] = {
                        "code": code,
                        "name": term.get("name") or code,
                        "country": info.get("country"),
                        "region_name": info.get("region"),
                        "latitude": _float_or_none(info.get("latitude")),
                        "longitude": _float_or_none(info.get("longitude")),
                        "_at": row.get("_at"),
                    }
            elif entity == "service":
                self.service_attributes.append(row)
        self.d.municipalities = list(munis.values())

    def organizations(self) -> None:
        for row in self.t.get("organization", ()):
            oid = row.get("id")
            self.d.organizations.append(
                {
                    "hsds_id": oid,
                    "name": self.text(row, "name") or "",
                    "description": self.text(row, "description") or "",
                    "email": self.text(row, "email"),
                    "website": self.text(row, "website"),
                    "kind": self.text(row, "legal_status") or "ngo",
                    "municipality": self.municipality_of.get(("organization", oid)),
                    "_at": row.get("_at"),
                }
            )

    def locations(self) -> None:
        self.location_types: dict[str, str] = {}
        for row in self.t.get("location", ()):
            lid = row.get("id")
            kind = self.text(row, "location_type") or "physical"
            self.location_types[lid] = kind
            self.d.locations.append(
                {
                    "hsds_id": lid,
                    "organization": row.get("organization_id") or None,
                    "location_type": kind,
                    "name": self.text(row, "name"),
                    "description": self.text(row, "description"),
                    "url": self.text(row, "url"),
                    **_position(
                        self.value(row, "latitude", parse_float), self.value(row, "longitude", parse_float)
                    ),
                    "municipality": self.municipality_of.get(("location", lid)),
                    "_at": row.get("_at"),
                }
            )

    def addresses(self) -> None:
        for row in self.t.get("address", ()):
            location = self.need(row, "location_id", "location")
            if location is None:
                continue
            self.d.addresses.append(
                {
                    "hsds_id": row.get("id"),
                    "location": location,
                    "address_1": self.text(row, "address_1") or "",
                    "city": self.text(row, "city") or "",
                    "region": self.text(row, "region"),
                    "state_province": self.text(row, "state_province") or "",
                    "postal_code": self.text(row, "postal_code") or "",
                    "country": self.text(row, "country") or "",
                    "address_type": self.text(row, "address_type") or "physical",
                    "_at": row.get("_at"),
                }
            )

    def services(self) -> None:
        located: dict[str, set[str]] = {}
        for sal in self.t.get("service_at_location", ()):
            kind = self.location_types.get(sal.get("location_id"))
            if kind:
                located.setdefault(sal.get("service_id"), set()).add(kind)
        priced = {
            co.get("service_id")
            for co in self.t.get("cost_option", ())
            if isinstance(co.get("amount"), (int, float)) and co["amount"] > 0
        }
        for row in self.t.get("service", ()):
            sid = row.get("id")
            organization = self.need(row, "organization_id", "organization")
            kinds = located.get(sid, set())
            attending = self.ext("service", sid, "attending_type", str)
            if attending is None:
                virtual = "virtual" in kinds
                attending = (
                    "hybrid" if virtual and kinds - {"virtual"} else "online" if virtual else "in_person"
                )
            is_free = self.ext("service", sid, "is_free", parse_bool)
            service = {
                "hsds_id": sid,
                "organization": organization,
                "name": self.text(row, "name") or "",
                "alternate_name": self.text(row, "alternate_name"),
                "description": self.text(row, "description") or "",
                "url": self.text(row, "url"),
                "email": self.text(row, "email"),
                "status": self.text(row, "status") or "active",
                "eligibility_description": self.text(row, "eligibility_description"),
                "minimum_age": self.value(row, "minimum_age", parse_int),
                "maximum_age": self.value(row, "maximum_age", parse_int),
                "attending_type": attending,
                "fees_description": self.text(row, "fees_description"),
                "is_free": is_free if is_free is not None else sid not in priced,
                "start_date": self.ext("service", sid, "start_date", parse_date),
                "assured_date": self.value(row, "assured_date", parse_date),
                "assurer_email": self.text(row, "assurer_email"),
                "municipality": self.municipality_of.get(("service", sid)),
                "updated_at": self.value(row, "last_modified", parse_datetime),
                "_at": row.get("_at"),
            }
            # Absent here means "keep what Lotsa has" (or the default for a new activity).
            for code, convert in (
                ("approval_status", str),
                ("rolling_start", parse_bool),
                ("created_at", parse_datetime),
            ):
                value = self.ext("service", sid, code, convert)
                if value is not None:
                    service[code] = value
            self.d.services.append(service)
            self.capacity(row, sid)

    def capacity(self, row: Mapping, sid: str) -> None:
        found = self.extensions.get(("service", sid), {})
        if not any(code.startswith("capacity_") for code in found):
            return
        self.d.capacities.append(
            {
                "hsds_id": self.ext("service", sid, "capacity_id", str) or derived_id("capacity", sid),
                "service": sid,
                "available": self.ext("service", sid, "capacity_available", parse_int),
                "maximum": self.ext("service", sid, "capacity_maximum", parse_int),
                "unit": self.ext("service", sid, "capacity_unit", str) or "places",
                "updated": self.ext("service", sid, "capacity_updated", parse_datetime),
                "_at": row.get("_at"),
            }
        )

    def service_at_locations(self) -> None:
        for row in self.t.get("service_at_location", ()):
            service = self.need(row, "service_id", "service")
            location = self.need(row, "location_id", "location")
            if service and location:
                self.d.service_at_locations.append(
                    {
                        "hsds_id": row.get("id"),
                        "service": service,
                        "location": location,
                        "_at": row.get("_at"),
                    }
                )

    def _service_of(self, row: Mapping) -> str | None:
        return row.get("service_id") or self.sal_service.get(row.get("service_at_location_id")) or None

    def contacts_and_phones(self) -> None:
        for row in self.t.get("contact", ()):
            service, organization = self._service_of(row), row.get("organization_id") or None
            if service is None and organization is None:
                continue  # a location's own contact: Lotsa keeps contacts per activity or organisation
            self.d.contacts.append(
                {
                    "hsds_id": row.get("id"),
                    "service": service,
                    "organization": organization,
                    "name": self.text(row, "name") or "",
                    "title": self.text(row, "title"),
                    "email": self.text(row, "email"),
                    "_at": row.get("_at"),
                }
            )
        for row in self.t.get("phone", ()):
            self.d.phones.append(
                {
                    "hsds_id": row.get("id"),
                    "contact": row.get("contact_id") or None,
                    "service": self._service_of(row),
                    "location": row.get("location_id") or None,
                    "organization": row.get("organization_id") or None,
                    "number": self.text(row, "number") or "",
                    "type": self.text(row, "type") or "voice",
                    "_at": row.get("_at"),
                }
            )

    def schedules(self) -> None:
        for row in self.t.get("schedule", ()):
            service = self._service_of(row)
            if service is None:
                continue  # a location's opening hours: Lotsa keeps schedules per activity
            sid = row.get("id")
            freq = self.ext("schedule", sid, "freq", str) or self.text(row, "freq") or "WEEKLY"
            tz = self.ext("schedule", sid, "timezone", _zone_name)
            attending = self.text(row, "attending_type")
            if tz is None and row.get("timezone") not in (None, ""):
                tz = zone_for_offset(row["timezone"])
            self.d.schedules.append(
                {
                    "hsds_id": sid,
                    "service": service,
                    "freq": freq.upper(),
                    "interval": self.value(row, "interval", parse_int) or 1,
                    "byday": self.text(row, "byday"),
                    "bymonthday": self.text(row, "bymonthday"),
                    "opens_at": self.value(row, "opens_at", parse_time),
                    "closes_at": self.value(row, "closes_at", parse_time),
                    "dtstart": self.value(row, "dtstart", parse_date),
                    "until": self.value(row, "until", parse_date),
                    "count": self.value(row, "count", parse_int),
                    "valid_from": self.value(row, "valid_from", parse_date),
                    "valid_to": self.value(row, "valid_to", parse_date),
                    "timezone": tz or DEFAULT_TIMEZONE,
                    # HSDS has free text here; Lotsa keeps one of its codes, or nothing.
                    "attending_type": attending if attending in ATTENDING_TYPES else None,
                    "description": self.text(row, "description"),
                    "_at": row.get("_at"),
                }
            )

    def lotsa_term(self, term: Mapping) -> dict:
        names = _lines(term.get("description"))
        name = str(term.get("name") or term.get("code") or term.get("id"))
        return {
            "hsds_id": term.get("id"),
            "taxonomy": self.term_taxonomy(term) or "hsds",
            "code": str(term.get("code") or term.get("id")),
            "name_sv": names.get("sv") or name,
            "name_da": names.get("da") or name,
            "name_en": names.get("en") or name,
            "_at": term.get("_at"),
        }

    def lotsa_attributes(self) -> None:
        terms: dict[str, dict] = {}
        pairs: dict[tuple[str, str], Mapping] = {}
        languages: dict[str, set[str]] = {}
        for row in self.service_attributes:
            sid, term_id = row["link_id"], row["taxonomy_term_id"]
            if (sid, term_id) in pairs:
                message = f"the service already has taxonomy term {term_id}"
                problem = Problem("exchange.error.duplicate_term", message, term=shown_text(term_id))
                self.error(row, "taxonomy_term_id", problem)
                continue
            pairs[(sid, term_id)] = row
            term = self.terms.get(term_id)
            if term is not None and term_id not in terms:
                terms[term_id] = self.lotsa_term(term)
            if term_id in terms and terms[term_id]["taxonomy"] == LANGUAGE_TAXONOMY:
                languages.setdefault(sid, set()).add(terms[term_id]["code"])
            self.d.attributes.append(
                {
                    "hsds_id": row.get("id"),
                    "service": sid,
                    "taxonomy_term": term_id,
                    "value": self.text(row, "value"),
                    "_at": row.get("_at"),
                }
            )
        # Languages with no language attribute (data from elsewhere): one attribute per language.
        by_code = {(t["taxonomy"], t["code"]): t for t in terms.values()}
        for row in self.t.get("language", ()):
            sid, code = row.get("service_id"), self.text(row, "code")
            if not sid or not code or code in languages.get(sid, set()):
                continue
            languages.setdefault(sid, set()).add(code)
            term = by_code.get((LANGUAGE_TAXONOMY, code))
            if term is None:
                name = self.text(row, "name") or code
                term = {
                    "hsds_id": derived_id("term", LANGUAGE_TAXONOMY, code),
                    "taxonomy": LANGUAGE_TAXONOMY,
                    "code": code,
                    "name_sv": name,
                    "name_da": name,
                    "name_en": name,
                    "_at": row.get("_at"),
                }
                by_code[(LANGUAGE_TAXONOMY, code)] = terms[term["hsds_id"]] = term
            self.d.attributes.append(
                {
                    "hsds_id": row.get("id"),
                    "service": sid,
                    "taxonomy_term": term["hsds_id"],
                    "value": None,
                    "_at": row.get("_at"),
                }
            )
        self.d.taxonomy_terms = list(terms.values())

    def cost_options(self) -> None:
        for row in self.t.get("cost_option", ()):
            service = self.need(row, "service_id", "service")
            if service is None:
                continue
            self.d.cost_options.append(
                {
                    "hsds_id": row.get("id"),
                    "service": service,
                    "option": self.text(row, "option"),
                    "amount": self.value(row, "amount", parse_float),
                    "currency": (self.text(row, "currency") or "SEK").upper(),
                    "amount_description": self.text(row, "amount_description"),
                    "_at": row.get("_at"),
                }
            )

    def service_areas(self) -> None:
        for row in self.t.get("service_area", ()):
            service = self.need(row, "service_id", "service")
            if service is None:
                continue
            aid = row.get("id")
            self.d.service_areas.append(
                {
                    "hsds_id": aid,
                    "service": service,
                    "name": self.text(row, "name") or self.text(row, "description") or "",
                    "municipality": self.municipality_of.get(("service_area", aid)),
                    "_at": row.get("_at"),
                }
            )


def _entity_of(row: Mapping) -> str:
    path = (row.get("_at") or (None, None, "$"))[2]
    if path == "$":
        return "service"
    last = path.rsplit(".", 1)[-1].split("[", 1)[0]
    return NESTED["service"].get(last, (last, True))[0]


def _position(latitude: float | None, longitude: float | None) -> dict[str, float | None]:
    """A place's coordinates, or none when they are not a position on Earth (the official HSDS 3.0
    example has latitude 100): such values are not stored, so the import reports them as dropped."""
    if latitude is None or longitude is None or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return {"latitude": None, "longitude": None}
    return {"latitude": latitude, "longitude": longitude}


def _float_or_none(value: Any) -> float | None:
    try:
        return parse_float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _zone_name(value: Any) -> str:
    name = str(value).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Problem(
            "exchange.error.not_time_zone", f"{value!r} is not an IANA time zone", value=shown(value)
        ) from None
    return name


def parse_tables(tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> tuple[Directory, list[RecordError]]:
    """HSDS tables (as `flatten` makes them) -> Lotsa rows, and every value Lotsa cannot take.

    Rows keep `_at` for error messages. A service's approval_status, rolling_start and created_at
    are left out when the record has no Lotsa extension for them (keep what Lotsa has); its
    attending_type and is_free then follow from its locations and cost options."""
    return _Parser(tables).run()
