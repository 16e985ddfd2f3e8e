"""Scoring of the screening and outcome instruments, exactly as REFERENCE.md describes them.

One public entry, `score(code, answers)`. Answers are a dict of item id -> answer; a missing
item is absent or None. Out-of-range answers and unknown items raise InstrumentError.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

UCLA3_ITEMS = ("companionship", "left_out", "isolated")
ONS_LONELINESS_ANSWERS = ("often_always", "some_of_the_time", "occasionally", "hardly_ever", "never")
DJG6_EMOTIONAL = ("emptiness", "miss_people", "rejected")
DJG6_SOCIAL = ("rely_on", "trust", "close")
DJG6_ANSWERS = ("yes", "more_or_less", "no")
SWEMWBS_ITEMS = ("optimistic", "useful", "relaxed", "problems", "thinking", "close", "own_mind")
ONS4_ITEMS = ("satisfied", "worthwhile", "happy", "anxious")
PHQ9_ITEMS = tuple(f"q{i}" for i in range(1, 10))
GAD7_ITEMS = tuple(f"q{i}" for i in range(1, 8))
EQ5D5L_DIMENSIONS = ("mobility", "self_care", "usual_activities", "pain", "anxiety")

# SWEMWBS raw total (7-35) -> Rasch metric score (Stewart-Brown et al. 2009; REFERENCE.md).
SWEMWBS_METRIC = {
    7: 7.00, 8: 9.51, 9: 11.25, 10: 12.40, 11: 13.33, 12: 14.08, 13: 14.75, 14: 15.32, 15: 15.84,
    16: 16.36, 17: 16.88, 18: 17.43, 19: 17.98, 20: 18.59, 21: 19.25, 22: 19.98, 23: 20.73,
    24: 21.54, 25: 22.35, 26: 23.21, 27: 24.11, 28: 25.03, 29: 26.02, 30: 27.03, 31: 28.13,
    32: 29.31, 33: 30.70, 34: 32.55, 35: 35.00,
}  # fmt: skip

# Common research convention, not an official cut-off (REFERENCE.md marks it unverified).
UCLA3_DEFAULT_THRESHOLD = 6
# Why a form was saved with unanswered items on purpose (such a response gets no total).
INCOMPLETE_REASONS = ("patient_declined", "out_of_time", "complete_by_phone", "too_unwell", "other")


class InstrumentError(ValueError):
    """A clear message naming the instrument, the item and what was wrong."""


@dataclass(frozen=True)
class Score:
    total: float | None = None
    score: float | None = None
    subscales: dict[str, float | None] = field(default_factory=dict)
    band: str | None = None
    bands: dict[str, str | None] = field(default_factory=dict)
    flags: frozenset[str] = frozenset()
    missing: tuple[str, ...] = ()


def _check_items(code: str, answers: Mapping[str, Any], items: tuple[str, ...]) -> None:
    # repr, not the keys themselves: sorting mixed key types (str and int) would raise TypeError.
    unknown = sorted(repr(k) if not isinstance(k, str) else k for k in set(answers) - set(items))
    if unknown:
        raise InstrumentError(f"{code}: unknown item(s) {', '.join(unknown)}")


def _int_answer(code: str, item: str, value: Any, low: int, high: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise InstrumentError(f"{code}: item {item} must be a whole number {low}-{high}, got {value!r}")
    if not low <= value <= high:
        raise InstrumentError(f"{code}: item {item} must be {low}-{high}, got {value}")
    return value


def _choice_answer(code: str, item: str, value: Any, choices: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if value not in choices:
        raise InstrumentError(f"{code}: item {item} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _ints(code: str, answers: Mapping[str, Any], items: tuple[str, ...], low: int, high: int):
    _check_items(code, answers, items)
    values = {item: _int_answer(code, item, answers.get(item), low, high) for item in items}
    missing = tuple(item for item in items if values[item] is None)
    total = None if missing else sum(values.values())
    return values, missing, total


def _band(value: float, cuts: tuple[tuple[float, str], ...]) -> str:
    """The band whose lower bound is the largest one not above value."""
    chosen = cuts[0][1]
    for lower, name in cuts:
        if value >= lower:
            chosen = name
    return chosen


def _ucla3(answers: Mapping[str, Any], threshold: int = UCLA3_DEFAULT_THRESHOLD) -> Score:
    _, missing, total = _ints("ucla3", answers, UCLA3_ITEMS, 1, 3)
    band = None if total is None else ("lonely" if total >= threshold else "not_lonely")
    return Score(total=total, score=total, band=band, missing=missing)


def _ons_loneliness(answers: Mapping[str, Any]) -> Score:
    _check_items("ons_loneliness", answers, ("lonely",))
    answer = _choice_answer("ons_loneliness", "lonely", answers.get("lonely"), ONS_LONELINESS_ANSWERS)
    return Score(band=answer, missing=() if answer else ("lonely",))


def _djg6(answers: Mapping[str, Any]) -> Score:
    """Emotional items score 1 for yes / more or less; social items 1 for no / more or less.
    Manual: a subscale is missing if any of its items is; the total if more than one item is."""
    items = DJG6_EMOTIONAL + DJG6_SOCIAL
    _check_items("djg6", answers, items)
    values = {item: _choice_answer("djg6", item, answers.get(item), DJG6_ANSWERS) for item in items}
    points = {
        item: None
        if value is None
        else int(value in (("yes", "more_or_less") if item in DJG6_EMOTIONAL else ("no", "more_or_less")))
        for item, value in values.items()
    }
    missing = tuple(item for item in items if points[item] is None)

    def subscale(group: tuple[str, ...]) -> int | None:
        return None if any(points[i] is None for i in group) else sum(points[i] for i in group)

    total = None if len(missing) > 1 else sum(p for p in points.values() if p is not None)
    band = None if total is None else _band(total, ((0, "not_lonely"), (2, "moderate"), (5, "severe")))
    return Score(
        total=total,
        score=total,
        band=band,
        missing=missing,
        subscales={"emotional": subscale(DJG6_EMOTIONAL), "social": subscale(DJG6_SOCIAL)},
    )


def _swemwbs(answers: Mapping[str, Any]) -> Score:
    _, missing, total = _ints("swemwbs", answers, SWEMWBS_ITEMS, 1, 5)
    return Score(total=total, score=None if total is None else SWEMWBS_METRIC[total], missing=missing)


def _ons4(answers: Mapping[str, Any]) -> Score:
    values, missing, _ = _ints("ons4", answers, ONS4_ITEMS, 0, 10)
    positive = ((0, "low"), (5, "medium"), (7, "high"), (9, "very_high"))
    anxiety = ((0, "very_low"), (2, "low"), (4, "medium"), (6, "high"))
    bands = {
        item: None if value is None else _band(value, anxiety if item == "anxious" else positive)
        for item, value in values.items()
    }
    return Score(subscales=dict(values), bands=bands, missing=missing)


def _phq9(answers: Mapping[str, Any]) -> Score:
    values, missing, total = _ints("phq9", answers, PHQ9_ITEMS, 0, 3)
    band = (
        None
        if total is None
        else _band(
            total, ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "moderately_severe"), (20, "severe"))
        )
    )
    # Item 9 (thoughts of self-harm) above 0 raises the flag whatever else is missing.
    flags = frozenset({"self_harm"}) if (values["q9"] or 0) > 0 else frozenset()
    return Score(total=total, score=total, band=band, flags=flags, missing=missing)


def _gad7(answers: Mapping[str, Any]) -> Score:
    _, missing, total = _ints("gad7", answers, GAD7_ITEMS, 0, 3)
    band = (
        None
        if total is None
        else _band(total, ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe")))
    )
    return Score(total=total, score=total, band=band, missing=missing)


def _eq5d5l(answers: Mapping[str, Any]) -> Score:
    """Profile (five dimensions, 1-5) and VAS (0-100). The index needs a verified country value
    set and is not computed here; `band` carries the health state, e.g. "11223"."""
    _check_items("eq5d5l", answers, (*EQ5D5L_DIMENSIONS, "vas"))
    levels = {d: _int_answer("eq5d5l", d, answers.get(d), 1, 5) for d in EQ5D5L_DIMENSIONS}
    vas = _int_answer("eq5d5l", "vas", answers.get("vas"), 0, 100)
    missing = tuple(d for d in EQ5D5L_DIMENSIONS if levels[d] is None) + (() if vas is not None else ("vas",))
    profile = (
        None
        if any(v is None for v in levels.values())
        else "".join(str(levels[d]) for d in EQ5D5L_DIMENSIONS)
    )
    return Score(subscales={**levels, "vas": vas}, band=profile, missing=missing)


_SCORERS = {
    "ucla3": _ucla3,
    "ons_loneliness": _ons_loneliness,
    "djg6": _djg6,
    "swemwbs": _swemwbs,
    "ons4": _ons4,
    "phq9": _phq9,
    "gad7": _gad7,
    "eq5d5l": _eq5d5l,
}
CODES = tuple(_SCORERS)


def score(code: str, answers: Mapping[str, Any], *, ucla3_threshold: int = UCLA3_DEFAULT_THRESHOLD) -> Score:
    """Score one administration of instrument `code`."""
    if code not in _SCORERS:
        raise InstrumentError(f"unknown instrument {code!r}; known: {', '.join(CODES)}")
    if not isinstance(answers, Mapping):
        raise InstrumentError(f"{code}: answers must be a mapping of item id to answer")
    if code == "ucla3":
        if isinstance(ucla3_threshold, bool) or not isinstance(ucla3_threshold, int):
            raise InstrumentError(f"ucla3: threshold must be a whole number, got {ucla3_threshold!r}")
        return _ucla3(answers, ucla3_threshold)
    return _SCORERS[code](answers)
