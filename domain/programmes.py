"""Follow-up programmes: due dates, follow-up windows, the Samverkansmodell inclusion check and
the concealed, seeded allocation sequence of a programme run as a study.

Pure logic: no Streamlit, no SQL. The services store what these functions compute.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# The programme templates (months after enrolment; 0 is the baseline).
TEMPLATES: dict[str, tuple[int, ...]] = {
    "social_prescribing": (0, 3, 6),
    "samverkansmodell": (0, 6, 12, 36),
    "digital_course": (0, 3),
}
MAX_TIMEPOINT_MONTHS = 120
DEFAULT_ALLOCATION_SEED = 20_240_601
DEFAULT_BLOCK_SIZE = 4


# --- Dates ----------------------------------------------------------------------------------------

# The status of an enrolment, and of its follow-ups, left for another programme
# (services/followup.py change_programme): nobody was lost, nothing more is due there.
MOVED = "moved"


def add_months(day: date, months: int) -> date:
    """`day` plus whole calendar months, clamping the day to the target month's last day
    (31 Jan + 1 month = 28 or 29 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def clean_timepoints(timepoints: Iterable[int]) -> tuple[int, ...]:
    """Sorted distinct months; a programme always starts with its baseline at 0."""
    points = set()
    for tp in timepoints:
        if isinstance(tp, bool) or not isinstance(tp, int) or not 0 <= tp <= MAX_TIMEPOINT_MONTHS:
            raise ValueError(f"timepoint out of range: {tp!r}")
        points.add(tp)
    points.add(0)
    return tuple(sorted(points))


def due_dates(enrolled_on: date, timepoints: Iterable[int]) -> list[tuple[int, date]]:
    """(months, due date) for each time point; the baseline (0) is due on the enrolment date."""
    return [(tp, add_months(enrolled_on, tp)) for tp in clean_timepoints(timepoints)]


def window_days(months: int) -> int:
    """Half-width of the window around a follow-up: two weeks up to 6 months, a month beyond."""
    return 14 if months <= 6 else 30


def follow_up_window(due_on: date, months: int) -> tuple[date, date]:
    """The days on which a follow-up counts as on time. The baseline may be done in the two
    weeks after enrolment, never before it."""
    half = timedelta(days=window_days(months))
    if months == 0:
        return due_on, due_on + half
    return due_on - half, due_on + half


def bucket(due_on: date, today: date, *, horizon_days: int = 14) -> str:
    """Where an open follow-up belongs on the worklist: due_today, overdue, upcoming or later."""
    if due_on == today:
        return "due_today"
    if due_on < today:
        return "overdue"
    if due_on <= today + timedelta(days=horizon_days):
        return "upcoming"
    return "later"


def age_in(year: int, birth_year: int | None) -> int | None:
    """Age reached during `year` (only the birth year is stored)."""
    return None if birth_year is None else year - birth_year


# --- Samverkansmodell inclusion -------------------------------------------------------------------

AGE_RANGE = (60, 75)
SYSTOLIC_RANGE = (140, 159)
DIASTOLIC_RANGE = (90, 99)
HBA1C_RANGE = (42, 52)  # mmol/mol
MADRS_RANGE = (12, 20)  # mild depression
WAIST_ABOVE = {"male": 94.0, "female": 80.0}  # cm, strictly above
CRITERIA = ("blood_pressure", "hba1c", "depression", "waist")


@dataclass(frozen=True)
class Eligibility:
    """`met`: the criteria met (untreated); `not_met`: why the person is not (or not also)
    included, as codes: age_unknown, age_out_of_range, no_criterion, <criterion>_treated,
    <criterion>_missing, <criterion>_outside, waist_sex_unknown."""

    eligible: bool
    age: int | None
    met: tuple[str, ...]
    not_met: tuple[str, ...]


def _within(value: float | None, bounds: tuple[float, float]) -> bool:
    return value is not None and bounds[0] <= value <= bounds[1]


def blood_pressure_in_range(systolic: float | None, diastolic: float | None) -> bool | None:
    """Grade 1 hypertension: 140–159 systolic and/or 90–99 diastolic, but neither in grade 2
    (160+ / 100+, which needs treatment rather than a prevention programme). None: no value."""
    if systolic is None and diastolic is None:
        return None
    if (systolic is not None and systolic > SYSTOLIC_RANGE[1]) or (
        diastolic is not None and diastolic > DIASTOLIC_RANGE[1]
    ):
        return False
    return _within(systolic, SYSTOLIC_RANGE) or _within(diastolic, DIASTOLIC_RANGE)


def samverkan_eligibility(
    *,
    age: int | None,
    sex: str | None,
    systolic: float | None = None,
    diastolic: float | None = None,
    hba1c: float | None = None,
    madrs: float | None = None,
    waist_cm: float | None = None,
    treated: Iterable[str] = (),
) -> Eligibility:
    """REFERENCE.md: age 60–75 and at least one, untreated: blood pressure 140–159 / 90–99 mmHg;
    HbA1c 42–52 mmol/mol; mild depression MADRS 12–20; waist > 94 cm (men) / > 80 cm (women)."""
    treated = set(treated)
    unknown = treated - set(CRITERIA)
    if unknown:
        raise ValueError(f"unknown criteria: {sorted(unknown)}")
    met: list[str] = []
    why_not: list[str] = []
    if age is None:
        why_not.append("age_unknown")
    elif not AGE_RANGE[0] <= age <= AGE_RANGE[1]:
        why_not.append("age_out_of_range")

    results: dict[str, bool | None] = {
        "blood_pressure": blood_pressure_in_range(systolic, diastolic),
        "hba1c": None if hba1c is None else _within(hba1c, HBA1C_RANGE),
        "depression": None if madrs is None else _within(madrs, MADRS_RANGE),
    }
    if waist_cm is None:
        results["waist"] = None
    elif sex not in WAIST_ABOVE:
        results["waist"] = None
        why_not.append("waist_sex_unknown")
    else:
        results["waist"] = waist_cm > WAIST_ABOVE[sex]
    for criterion in CRITERIA:
        result = results[criterion]
        if result is None:
            if not (criterion == "waist" and "waist_sex_unknown" in why_not):
                why_not.append(f"{criterion}_missing")
        elif not result:
            why_not.append(f"{criterion}_outside")
        elif criterion in treated:
            why_not.append(f"{criterion}_treated")
        else:
            met.append(criterion)
    age_ok = age is not None and AGE_RANGE[0] <= age <= AGE_RANGE[1]
    if not met:
        why_not.insert(0 if age_ok else 1, "no_criterion")
    return Eligibility(eligible=age_ok and bool(met), age=age, met=tuple(met), not_met=tuple(why_not))


# --- Concealed allocation -------------------------------------------------------------------------


def allocation_sequence(
    seed: int, arms: Sequence[str], n: int, block_size: int = DEFAULT_BLOCK_SIZE
) -> list[str]:
    """The first `n` arms of the seeded permuted-block sequence: every block of `block_size` holds
    each arm equally often in a random order. Deterministic for a seed, and a longer sequence
    starts with the shorter one (so a programme's log can be extended with the same seed)."""
    arms = list(arms)
    if not arms or len(set(arms)) != len(arms):
        raise ValueError("arms must be distinct and at least one")
    if block_size < len(arms) or block_size % len(arms):
        raise ValueError("block_size must be a positive multiple of the number of arms")
    if n < 0:
        raise ValueError("n must not be negative")
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < n:
        block = arms * (block_size // len(arms))
        rng.shuffle(block)
        out.extend(block)
    return out[:n]
