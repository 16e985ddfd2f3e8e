"""Checks for reference data typed by an admin: codes, health-centre identifiers per country,
coordinates and programme time points. Pure; each check returns a locale key (or None)."""

from __future__ import annotations

import itertools
import re

COUNTRIES = ("SE", "DK")
TAXONOMIES = ("category", "target_group", "accessibility", "language")

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_]{1,63}$")  # terms and programmes: walking, social_prescribing
CENTRE_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")  # VC-LIMHAMN
# Kommunkod (Sweden, 4 digits, e.g. 1280 Malmö) and kommunekode (Denmark, 3 digits, e.g. 217).
MUNICIPALITY_CODE_RE = {"SE": re.compile(r"^\d{4}$"), "DK": re.compile(r"^\d{3}$")}
# HSA-id: "SE" + the organisation number (10 digits) + "-" + the unit's own suffix.
HSA_ID_RE = re.compile(r"^SE\d{10}-[A-Z0-9]{1,19}$")
# SOR code (Sundhedsvæsenets Organisationsregister): digits only.
SOR_RE = re.compile(r"^\d{6,18}$")
# Sweden and Denmark, with their islands, with a margin.
LATITUDE, LONGITUDE = (54.0, 69.5), (7.5, 24.5)
MAX_TIMEPOINT_MONTHS = 120


def normalise_identifier(value: str | None) -> str | None:
    text = "".join(str(value or "").split()).upper()
    return text or None


def identifier_error(country: str, identifier: str | None) -> str | None:
    """An HSA-id for a Swedish centre, a SOR code for a Danish one; empty is allowed."""
    if not identifier:
        return None
    if country == "SE" and not HSA_ID_RE.match(identifier):
        return "reference.error.hsa_id"
    if country == "DK" and not SOR_RE.match(identifier):
        return "reference.error.sor_code"
    return None


def coordinate_error(latitude: object, longitude: object) -> dict[str, tuple[str, dict]]:
    errors: dict[str, tuple[str, dict]] = {}
    for name, value, (low, high) in (("latitude", latitude, LATITUDE), ("longitude", longitude, LONGITUDE)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors[name] = ("error.number", {})
        elif not low <= float(value) <= high:
            errors[name] = ("error.out_of_range", {"minimum": low, "maximum": high})
    return errors


def timepoints_error(timepoints: object) -> str | None:
    """Months after enrolment: integers from 0, strictly increasing, at most 120."""
    if not isinstance(timepoints, list | tuple) or not timepoints:
        return "reference.error.timepoints"
    if any(isinstance(t, bool) or not isinstance(t, int) for t in timepoints):
        return "reference.error.timepoints"
    if timepoints[0] != 0 or any(b <= a for a, b in itertools.pairwise(timepoints)):
        return "reference.error.timepoints"
    if timepoints[-1] > MAX_TIMEPOINT_MONTHS:
        return "reference.error.timepoints"
    return None


def parse_timepoints(text: str) -> list[int] | None:
    """"0, 3, 6" -> [0, 3, 6]; None when a part is not a whole number."""
    parts = [p.strip() for p in str(text or "").replace(";", ",").split(",") if p.strip()]
    try:
        return [int(p) for p in parts]
    except ValueError:
        return None
