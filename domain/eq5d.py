"""EQ-5D-5L index values from a configured, verified country value set (pure; no I/O beyond reading
the one file `load_value_set` is given).

Lotsa ships no value set. Country value sets (Sweden: Sun et al. 2022; Denmark: Jensen et al. 2021)
must be registered with EuroQol and their numbers checked against the publication before use; a
site administrator writes them into a JSON file and points LOTSA_EQ5D_VALUE_SET at it.

Model. Only additive main-effects models are supported:

    index = 1 - constant x [any dimension above level 1] - sum over the five dimensions of
            decrement[dimension][level]

Value sets with interaction terms (e.g. the EQ-5D-3L "N3" term) or other functional forms (such
as multiplicative or level-4/5 indicator terms) cannot be written in this format and must not be
forced into it: the file refuses any key it does not know, so such a term cannot be silently
ignored.

File format (JSON object; see config/eq5d_value_set.example.json, whose numbers are made up)::

    {
      "_comment": "free text, optional",
      "country": "SE",                      # non-empty text, shown on the page
      "source": "Author et al. year, table n",  # non-empty text, shown on the page
      "verified": true,                     # must be true: someone checked every number against
                                            # the source. An unverified set never produces QALYs.
      "constant": 0.0,                      # finite, >= 0; subtracted once when any level > 1
      "decrements": {                       # exactly the five dimensions, each with exactly five
        "mobility": [0, d2, d3, d4, d5],    # finite numbers >= 0 for levels 1..5; level 1 is 0
        "self_care": [...],
        "usual_activities": [...],
        "pain": [...],
        "anxiety": [...]
      }
    }

`load_value_set` raises ValueError with a message naming the file and the problem for: a missing
or unreadable file, bad JSON, an unknown or missing key, a missing dimension, not exactly five
finite numbers for a dimension, a negative number, a level-1 decrement that is not 0, empty country
or source, or `verified` not true. Its `reason` attribute (a `ValueSetError`) names the kind of
problem so a page can say it in the user's language.

With a non-negative constant and non-negative decrements the index is never above 1 (full health,
profile 11111, is exactly 1).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from domain.instruments import EQ5D5L_DIMENSIONS

DIMENSIONS: tuple[str, ...] = EQ5D5L_DIMENSIONS  # mobility, self_care, usual_activities, pain, anxiety
LEVELS = 5
KNOWN_KEYS = frozenset({"_comment", "country", "source", "verified", "constant", "decrements"})


class ValueSetError(ValueError):
    """A value set file that cannot be used. `reason` is one of: missing, json, format, key,
    dimension, numbers, level1, negative, unverified."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _finite_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class ValueSet:
    """An additive EQ-5D-5L value set. `decrements` holds, in the order of DIMENSIONS, the
    decrements for levels 1..5 of each dimension (hashable, so it can be part of a cache key)."""

    country: str
    source: str
    verified: bool
    constant: float
    decrements: tuple[tuple[float, ...], ...]

    def __post_init__(self) -> None:
        if len(self.decrements) != len(DIMENSIONS) or any(len(d) != LEVELS for d in self.decrements):
            raise ValueSetError("numbers", "a value set needs five decrements for each of five dimensions")
        if not _finite_number(self.constant) or self.constant < 0:
            raise ValueSetError("negative", "the constant must be a finite number of at least 0")
        for name, row in zip(DIMENSIONS, self.decrements, strict=True):
            if not all(_finite_number(v) for v in row):
                raise ValueSetError("numbers", f"{name}: decrements must be finite numbers")
            if any(v < 0 for v in row):
                raise ValueSetError("negative", f"{name}: decrements must be at least 0")
            if row[0] != 0:
                raise ValueSetError("level1", f"{name}: the level-1 decrement must be 0")

    def decrement(self, dimension: str, level: int) -> float:
        return self.decrements[DIMENSIONS.index(dimension)][level - 1]

    def levels(self, dimension: str) -> tuple[float, ...]:
        """The decrements of levels 1..5 of one dimension."""
        return self.decrements[DIMENSIONS.index(dimension)]


def load_value_set(path: str | Path) -> ValueSet:
    """Read and check a value set file (format in the module docstring). Only a verified set is
    returned: an unverified one raises ValueSetError, because it must never produce QALYs."""
    where = f"EQ-5D value set {path}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise ValueSetError("missing", f"{where}: file not found") from error
    except OSError as error:
        raise ValueSetError("missing", f"{where}: cannot be read ({error.strerror})") from error
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueSetError("json", f"{where}: not valid JSON ({error.msg}, line {error.lineno})") from error
    if not isinstance(raw, dict):
        raise ValueSetError("format", f"{where}: must be a JSON object")
    unknown = sorted(set(raw) - KNOWN_KEYS)
    if unknown:
        raise ValueSetError(
            "key",
            f"{where}: unknown keys {unknown}; only additive main-effects value sets are supported",
        )
    for key in ("country", "source", "verified", "constant", "decrements"):
        if key not in raw:
            raise ValueSetError("key", f"{where}: missing key {key!r}")
    country, source = raw["country"], raw["source"]
    if not isinstance(country, str) or not country.strip():
        raise ValueSetError("format", f"{where}: 'country' must be non-empty text")
    if not isinstance(source, str) or not source.strip():
        raise ValueSetError("format", f"{where}: 'source' must be non-empty text naming the publication")
    if not _finite_number(raw["constant"]):
        raise ValueSetError("numbers", f"{where}: 'constant' must be a finite number")
    decrements = raw["decrements"]
    if not isinstance(decrements, dict):
        raise ValueSetError("format", f"{where}: 'decrements' must be an object with one list per dimension")
    missing = [d for d in DIMENSIONS if d not in decrements]
    if missing:
        raise ValueSetError("dimension", f"{where}: missing dimension(s) {missing}")
    extra = sorted(set(decrements) - set(DIMENSIONS))
    if extra:
        raise ValueSetError(
            "dimension",
            f"{where}: unknown dimension(s) {extra}; only additive main-effects value sets are supported",
        )
    rows = []
    for name in DIMENSIONS:
        row = decrements[name]
        if not isinstance(row, list) or len(row) != LEVELS or not all(_finite_number(v) for v in row):
            raise ValueSetError("numbers", f"{where}: {name} needs exactly 5 finite numbers (levels 1-5)")
        rows.append(tuple(float(v) for v in row))
    if raw["verified"] is not True:
        raise ValueSetError(
            "unverified",
            f"{where}: 'verified' is not true. An unverified value set never produces EQ-5D index "
            'values or QALYs; check every number against the source, then set "verified": true',
        )
    try:
        return ValueSet(
            country=country.strip(),
            source=source.strip(),
            verified=True,
            constant=float(raw["constant"]),
            decrements=tuple(rows),
        )
    except ValueSetError as error:
        raise ValueSetError(error.reason, f"{where}: {error}") from error


def index(profile: Mapping[str, int], vs: ValueSet) -> float:
    """The EQ-5D-5L index of a profile {dimension: level 1..5} under a verified value set. Other keys
    in `profile` (e.g. "vas") are ignored. Raises ValueError for a missing dimension, a level that is
    not a whole number 1..5, or an unverified value set."""
    if not vs.verified:
        raise ValueError("an unverified value set never produces EQ-5D index values")
    levels = []
    for name in DIMENSIONS:
        if name not in profile:
            raise ValueError(f"the profile lacks the dimension {name!r}")
        level = profile[name]
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= LEVELS:
            raise ValueError(f"{name}: the level must be a whole number from 1 to 5, not {level!r}")
        levels.append(level)
    value = 1.0 - (vs.constant if any(level > 1 for level in levels) else 0.0)
    value -= math.fsum(vs.decrement(name, level) for name, level in zip(DIMENSIONS, levels, strict=True))
    return value
