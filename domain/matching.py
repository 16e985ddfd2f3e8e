"""Matching a patient to community activities: leave out what does not fit, rank the rest with a
transparent score, and say why each one is suggested.

Pure logic (no Streamlit, no SQL). The service loads a bounded set of candidates from the
database; this module decides. Every suggestion carries its reasons as structured codes, which
the page renders in the user's language, e.g. "Walking · Tuesdays · 1.2 km · free · Swedish":

    ("category", "walking")      the activity's category meets one of the patient's needs
    ("interest", "choir")        a word of the patient's interests is in the activity
    ("weekday", "tue")           a day the activity happens (a preferred day, when given)
    ("daily",)                   it happens every day
    ("time_of_day", "morning")   a preferred time of day it happens
    ("distance", 1.2)            km from the patient's health centre
    ("online",)                  online: no travel
    ("free",)                    no cost
    ("language", "sv")           held in the patient's preferred language

The score is a plain sum of the weights in `WEIGHTS` (see `score_parts`), so a connector can be
told exactly why one activity is above another. Ties are broken by distance, name and id, so the
ranking never depends on the order the candidates came in.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from domain.care import NEEDS
from domain.schedules import WEEKDAYS, Rule, time_of_day

MODES = ("any", "in_person", "online")
TIMES_OF_DAY = ("morning", "afternoon", "evening")
AGE_GROUPS = ("0-17", "18-29", "30-64", "65-79", "80+")
DAY_CODES = dict(zip(WEEKDAYS, ("mon", "tue", "wed", "thu", "fri", "sat", "sun"), strict=True))

# What a suggestion earns. Kept small and readable: a connector can add it up.
WEIGHTS: dict[str, float] = {
    "category": 4.0,  # meets a recorded need
    "interest": 2.0,  # per matching interest word, at most two words
    "language": 2.0,  # held in the patient's language
    "weekday": 1.0,  # on a preferred day
    "time_of_day": 1.0,  # at a preferred time of day
    "near": 2.0,  # at 0 km; falls linearly to 0 at NEAR_KM
    "online": 0.5,  # no travel, but no meeting in person either: as good as a place 7.5 km away
    "free": 0.5,
}
MAX_INTEREST_WORDS = 2
NEAR_KM = 10.0

# Target groups that are for people with a condition or situation: only patients with one of the
# listed needs are suggested such a group (a diabetes school is not for everyone who is lonely).
CONDITION_GROUPS: dict[str, tuple[str, ...]] = {
    "diabetes": ("diabetes",),
    "heart_disease": ("heart_health",),
    "dementia": ("carer_support",),
    "grief": ("grief",),
    "carers": ("carer_support",),
    "mental_health": ("mental_wellbeing",),
}
# Groups for one sex only, and the recorded sex they leave out.
SEX_GROUPS: dict[str, str] = {"men": "female", "women": "male"}

# Why a candidate is left out, in the order they are checked.
EXCLUSIONS = (
    "inactive",
    "unapproved",
    "stale",
    "full",
    "age",
    "condition",
    "sex",
    "mode",
    "day",
    "time",
    "distance",
)

# Folded, three letters or more (shorter words are dropped anyway).
_STOPWORDS = frozenset(
    {
        *("och", "att", "med", "som", "for", "til", "till", "the", "and", "with", "from", "fra"),
        *("den", "det", "der", "ett", "har", "vid", "ved", "our", "you", "din", "dig", "eller"),
    }
)
_WORD_RE = re.compile(r"[^\W_]+")
_ITEM_RE = re.compile(r"[,;\n]+")


# --- Inputs and outputs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """What is known about the patient, and what the connector chose in the filter row."""

    needs: tuple[str, ...] = ()
    interests: str = ""
    age: int | None = None
    sex: str | None = None
    language: str | None = None
    mode: str = "any"  # any | in_person | online
    weekdays: tuple[str, ...] = ()  # MO..SU, preferred days; empty = any day
    times_of_day: tuple[str, ...] = ()  # morning | afternoon | evening; empty = any time
    max_km: float | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "needs", tuple(dict.fromkeys(n for n in self.needs if n in NEEDS)))
        set_(self, "weekdays", tuple(d for d in WEEKDAYS if d in self.weekdays))
        set_(self, "times_of_day", tuple(x for x in TIMES_OF_DAY if x in self.times_of_day))
        if self.mode not in MODES:
            set_(self, "mode", "any")

    @property
    def categories(self) -> tuple[str, ...]:
        """The activity categories that meet the patient's needs, in the needs' order."""
        return tuple(dict.fromkeys(c for need in self.needs for c in NEEDS[need]))


@dataclass(frozen=True)
class Candidate:
    """One activity as the matcher sees it."""

    id: int
    name: str
    description: str = ""
    categories: tuple[str, ...] = ()
    target_groups: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    attending: str = "in_person"  # in_person | online | hybrid
    weekdays: tuple[str, ...] = ()  # days it happens; empty = no fixed days (any day)
    times_of_day: tuple[str, ...] = ()  # times it starts; empty = no fixed times
    distance_km: float | None = None  # None: no place (online) or no reference point
    is_free: bool = True
    available: int | None = None  # free places; None = not known
    status: str = "active"
    approval_status: str = "approved"
    assured_date: date | None = None
    minimum_age: int | None = None
    maximum_age: int | None = None
    eligibility: str | None = None


@dataclass(frozen=True)
class Match:
    candidate: Candidate
    score: float
    reasons: tuple[tuple, ...]
    parts: dict[str, float] = field(default_factory=dict, compare=False)


# --- Words ----------------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case without accents: 'Språkcafé' -> 'sprakcafe', 'Strikkecafé' -> 'strikkecafe'.
    ø, æ and ß have no combining form, so they are spelled out as o, ae and ss."""
    text = unicodedata.normalize("NFKD", text or "").casefold()
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.replace("ø", "o").replace("æ", "ae").replace("ß", "ss").replace("đ", "d")


def tokens(text: str) -> tuple[str, ...]:
    """Distinct words of three letters or more, folded, without the commonest little words."""
    words = (w for w in _WORD_RE.findall(fold(text)) if len(w) >= 3 and w not in _STOPWORDS)
    return tuple(dict.fromkeys(words))


def interest_items(text: str) -> tuple[str, ...]:
    """The patient's interests as items ('walking, choir' -> ('walking', 'choir'))."""
    items = (fold(part).strip() for part in _ITEM_RE.split(text or ""))
    return tuple(dict.fromkeys(i for i in items if i))


def _interest_hits(interests: str, candidate: Candidate) -> list[str]:
    """Interests found in the activity: a whole item equal to a category code ('language_cafe'),
    or a word of it at the start of a word of the name or description ('promenad' finds
    'Promenadgrupp'). Each interest counts once; returned in the order the patient gave them."""
    words = set(tokens(f"{candidate.name} {candidate.description}"))
    for code in candidate.categories:
        words.update(tokens(code.replace("_", " ")))
    codes = {fold(c) for c in candidate.categories}
    hits: list[str] = []
    for item in interest_items(interests):
        if item in codes:
            hits.append(item)
            continue
        for word in tokens(item):
            if word in words or (len(word) >= 4 and any(w.startswith(word) for w in words)):
                hits.append(word)
                break
    return list(dict.fromkeys(hits))


# --- Exclusion --------------------------------------------------------------------------------------


def is_stale(candidate: Candidate, today: date, stale_days: int) -> bool:
    """Never verified, or last verified more than `stale_days` ago."""
    return candidate.assured_date is None or (today - candidate.assured_date).days > stale_days


def age_group(age: int | None) -> str | None:
    if age is None or age < 0:
        return None
    for group in AGE_GROUPS:
        low, _, high = group.partition("-")
        if high and int(low) <= age <= int(high):
            return group
    return AGE_GROUPS[-1] if age >= 80 else None


def exclusion(profile: Profile, candidate: Candidate, *, today: date, stale_days: int) -> str | None:
    """Why the candidate must not be suggested (a code from EXCLUSIONS), or None when it may be."""
    if candidate.status != "active":
        return "inactive"
    if candidate.approval_status != "approved":
        return "unapproved"
    if is_stale(candidate, today, stale_days):
        return "stale"
    if candidate.available is not None and candidate.available <= 0:
        return "full"
    if profile.age is not None:
        if candidate.minimum_age is not None and profile.age < candidate.minimum_age:
            return "age"
        if candidate.maximum_age is not None and profile.age > candidate.maximum_age:
            return "age"
    for group in candidate.target_groups:
        if group in CONDITION_GROUPS and not set(CONDITION_GROUPS[group]) & set(profile.needs):
            return "condition"
    if profile.sex is not None and any(SEX_GROUPS.get(g) == profile.sex for g in candidate.target_groups):
        return "sex"
    if profile.mode == "in_person" and candidate.attending == "online":
        return "mode"
    if profile.mode == "online" and candidate.attending == "in_person":
        return "mode"
    if profile.weekdays and candidate.weekdays and not set(profile.weekdays) & set(candidate.weekdays):
        return "day"
    if (
        profile.times_of_day
        and candidate.times_of_day
        and not set(profile.times_of_day) & set(candidate.times_of_day)
    ):
        return "time"
    if (
        profile.max_km is not None
        and candidate.distance_km is not None
        and candidate.distance_km > profile.max_km
    ):
        return "distance"
    return None


# --- Scoring ----------------------------------------------------------------------------------------


def score_parts(profile: Profile, candidate: Candidate) -> tuple[dict[str, float], tuple[tuple, ...]]:
    """The points per criterion and the reasons, in the order they are read out."""
    parts: dict[str, float] = {}
    reasons: list[tuple] = []
    wanted = profile.categories
    met = [c for c in candidate.categories if c in wanted]
    if met:
        parts["category"] = WEIGHTS["category"]
        reasons.append(("category", met[0]))
    elif candidate.categories:
        reasons.append(("category", candidate.categories[0]))  # what it is, even without points
    hits = _interest_hits(profile.interests, candidate)[:MAX_INTEREST_WORDS]
    if hits:
        parts["interest"] = WEIGHTS["interest"] * len(hits)
        reasons.extend(("interest", word) for word in hits)
    days = [d for d in candidate.weekdays if not profile.weekdays or d in profile.weekdays]
    if profile.weekdays and days:
        parts["weekday"] = WEIGHTS["weekday"]
    if len(candidate.weekdays) == 7 and not profile.weekdays:
        reasons.append(("daily",))
    else:
        reasons.extend(("weekday", DAY_CODES[d]) for d in days)
    times = [x for x in candidate.times_of_day if x in profile.times_of_day]
    if times:
        parts["time_of_day"] = WEIGHTS["time_of_day"]
        reasons.extend(("time_of_day", x) for x in times)
    if candidate.distance_km is not None:
        km = max(0.0, float(candidate.distance_km))
        near = WEIGHTS["near"] * max(0.0, 1.0 - km / NEAR_KM)
        if near > 0:
            parts["near"] = round(near, 3)
        reasons.append(("distance", round(km, 1)))
    elif candidate.attending == "online":
        parts["online"] = WEIGHTS["online"]
        reasons.append(("online",))
    if candidate.is_free:
        parts["free"] = WEIGHTS["free"]
        reasons.append(("free",))
    if profile.language and profile.language in candidate.languages:
        parts["language"] = WEIGHTS["language"]
        reasons.append(("language", profile.language))
    return parts, tuple(reasons)


def _order_key(match: Match) -> tuple:
    c = match.candidate
    distance = c.distance_km if c.distance_km is not None else float("inf")
    return (-match.score, distance, fold(c.name), c.id)


def rank(
    profile: Profile,
    candidates: Iterable[Candidate],
    *,
    today: date,
    stale_days: int,
    limit: int | None = None,
) -> list[Match]:
    """The candidates that may be suggested, best first, each with its score and reasons.

    A candidate given twice (same id) counts once. The result does not depend on the order of
    `candidates`."""
    seen: dict[int, Candidate] = {}
    for candidate in candidates:
        seen.setdefault(candidate.id, candidate)
    matches = []
    for candidate in seen.values():
        if exclusion(profile, candidate, today=today, stale_days=stale_days) is not None:
            continue
        parts, reasons = score_parts(profile, candidate)
        matches.append(Match(candidate, round(sum(parts.values()), 3), reasons, parts))
    matches.sort(key=_order_key)
    return matches if limit is None else matches[: max(0, limit)]


# --- Schedules -------------------------------------------------------------------------------------


def schedule_days(rules: Sequence[Rule], today: date) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The weekdays (MO..SU) and times of day an activity happens on, from its current rules.

    A daily rule without days means every day; a weekly rule without days is on its start date's
    weekday; rules that ended before `today` are ignored. Empty means not fixed (any day/time)."""
    days: set[str] = set()
    times: set[str] = set()
    for rule in rules:
        if rule.until is not None and rule.until < today:
            continue
        if rule.byday:
            days.update(token.lstrip("+-0123456789") for token in rule.byday)
        elif rule.freq == "DAILY":
            days.update(WEEKDAYS)
        elif rule.dtstart is not None and rule.freq == "WEEKLY":
            days.add(WEEKDAYS[rule.dtstart.weekday()])
        moment = time_of_day(rule.opens_at)
        if moment:
            times.add(moment)
    return tuple(d for d in WEEKDAYS if d in days), tuple(x for x in TIMES_OF_DAY if x in times)
