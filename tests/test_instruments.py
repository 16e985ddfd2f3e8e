"""Instrument scoring against REFERENCE.md: exhaustive where the answer space is small
(every UCLA-3 and DJG-6 answer vector, with missing items; every SWEMWBS raw total),
property-based elsewhere."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.instruments import (
    DJG6_EMOTIONAL,
    DJG6_SOCIAL,
    GAD7_ITEMS,
    ONS4_ITEMS,
    PHQ9_ITEMS,
    SWEMWBS_ITEMS,
    UCLA3_ITEMS,
    InstrumentError,
    score,
)

# REFERENCE.md's SWEMWBS conversion table, typed in again from the document, not imported.
REFERENCE_SWEMWBS = dict(zip(range(7, 36), [
    7.00, 9.51, 11.25, 12.40, 13.33, 14.08, 14.75, 15.32, 15.84, 16.36, 16.88, 17.43, 17.98, 18.59,
    19.25, 19.98, 20.73, 21.54, 22.35, 23.21, 24.11, 25.03, 26.02, 27.03, 28.13, 29.31, 30.70, 32.55,
    35.00], strict=True))  # fmt: skip


@pytest.mark.parametrize("answers", list(itertools.product([1, 2, 3, None], repeat=3)))
def test_ucla3_every_answer_vector(answers):
    result = score("ucla3", dict(zip(UCLA3_ITEMS, answers, strict=True)))
    if None in answers:
        assert result.total is None and result.band is None
        assert result.missing == tuple(i for i, a in zip(UCLA3_ITEMS, answers, strict=True) if a is None)
    else:
        assert result.total == result.score == sum(answers)
        assert result.band == ("lonely" if sum(answers) >= 6 else "not_lonely")


def test_ucla3_threshold_is_configurable():
    answers = {"companionship": 2, "left_out": 2, "isolated": 1}
    assert score("ucla3", answers).band == "not_lonely"
    assert score("ucla3", answers, ucla3_threshold=5).band == "lonely"


def _djg_point(item, answer):
    if answer is None:
        return None
    if item in DJG6_EMOTIONAL:
        return 1 if answer in ("yes", "more_or_less") else 0
    return 1 if answer in ("no", "more_or_less") else 0


@pytest.mark.parametrize("answers", list(itertools.product(["yes", "more_or_less", "no", None], repeat=6)))
def test_djg6_every_answer_vector(answers):
    items = DJG6_EMOTIONAL + DJG6_SOCIAL
    result = score("djg6", dict(zip(items, answers, strict=True)))
    points = [_djg_point(i, a) for i, a in zip(items, answers, strict=True)]
    n_missing = points.count(None)
    emotional, social = points[:3], points[3:]
    assert result.subscales["emotional"] == (None if None in emotional else sum(emotional))
    assert result.subscales["social"] == (None if None in social else sum(social))
    if n_missing > 1:
        assert result.total is None and result.band is None
    else:
        total = sum(p for p in points if p is not None)
        assert result.total == total
        assert result.band == ("not_lonely" if total <= 1 else "moderate" if total <= 4 else "severe")


@pytest.mark.parametrize("raw", range(7, 36))
def test_swemwbs_every_raw_total_converts_to_the_metric_score(raw):
    # Build an answer vector with this raw total.
    answers, remaining = {}, raw
    for n, item in enumerate(SWEMWBS_ITEMS):
        left = len(SWEMWBS_ITEMS) - n - 1
        value = min(5, remaining - left)
        answers[item] = value
        remaining -= value
    result = score("swemwbs", answers)
    assert result.total == raw
    assert result.score == REFERENCE_SWEMWBS[raw]


def test_swemwbs_missing_item_gives_no_score():
    answers = dict.fromkeys(SWEMWBS_ITEMS[:-1], 3)
    result = score("swemwbs", answers)
    assert result.total is None and result.score is None and result.missing == ("own_mind",)


@pytest.mark.parametrize(
    ("value", "positive", "anxiety"),
    [
        (0, "low", "very_low"),
        (1, "low", "very_low"),
        (2, "low", "low"),
        (3, "low", "low"),
        (4, "low", "medium"),
        (5, "medium", "medium"),
        (6, "medium", "high"),
        (7, "high", "high"),
        (8, "high", "high"),
        (9, "very_high", "high"),
        (10, "very_high", "high"),
    ],
)
def test_ons4_bands_per_item(value, positive, anxiety):
    result = score("ons4", dict.fromkeys(ONS4_ITEMS, value))
    assert result.bands == {
        "satisfied": positive,
        "worthwhile": positive,
        "happy": positive,
        "anxious": anxiety,
    }
    assert result.total is None  # ONS4 has no composite


@pytest.mark.parametrize(
    "answer", ["often_always", "some_of_the_time", "occasionally", "hardly_ever", "never"]
)
def test_ons_direct_question_band_is_the_answer(answer):
    assert score("ons_loneliness", {"lonely": answer}).band == answer


@given(st.lists(st.integers(0, 3), min_size=9, max_size=9))
def test_phq9_total_band_and_self_harm_flag(values):
    result = score("phq9", dict(zip(PHQ9_ITEMS, values, strict=True)))
    total = sum(values)
    assert result.total == total
    expected = (
        "minimal"
        if total <= 4
        else "mild"
        if total <= 9
        else "moderate"
        if total <= 14
        else "moderately_severe"
        if total <= 19
        else "severe"
    )
    assert result.band == expected
    assert ("self_harm" in result.flags) == (values[8] > 0)


@given(st.integers(1, 3), st.sets(st.sampled_from(PHQ9_ITEMS[:8])))
def test_phq9_flag_is_raised_whatever_else_is_missing(item9, missing):
    answers = {item: 0 for item in PHQ9_ITEMS[:8] if item not in missing} | {"q9": item9}
    result = score("phq9", answers)
    assert "self_harm" in result.flags
    assert (result.total is None) == bool(missing)


@given(st.lists(st.integers(0, 3), min_size=7, max_size=7))
def test_gad7_total_and_band(values):
    result = score("gad7", dict(zip(GAD7_ITEMS, values, strict=True)))
    total = sum(values)
    assert result.total == total
    assert result.band == (
        "minimal" if total <= 4 else "mild" if total <= 9 else "moderate" if total <= 14 else "severe"
    )


def test_eq5d5l_profile_and_vas_without_index():
    result = score(
        "eq5d5l", {"mobility": 1, "self_care": 1, "usual_activities": 2, "pain": 2, "anxiety": 3, "vas": 70}
    )
    assert result.band == "11223"
    assert result.subscales["vas"] == 70
    assert result.total is None and result.score is None


@pytest.mark.parametrize(
    ("code", "answers", "message"),
    [
        ("ucla3", {"companionship": 4}, "companionship must be 1-3"),
        ("ucla3", {"companionship": True}, "whole number"),
        ("ucla3", {"companionship": "2"}, "whole number"),
        ("ucla3", {"lonely": 2}, "unknown item"),
        ("djg6", {"trust": "maybe"}, "must be one of"),
        ("swemwbs", {"useful": 0}, "useful must be 1-5"),
        ("ons4", {"happy": 11}, "happy must be 0-10"),
        ("phq9", {"q9": -1}, "q9 must be 0-3"),
        ("eq5d5l", {"vas": 101}, "vas must be 0-100"),
        ("nope", {}, "unknown instrument"),
    ],
)
def test_out_of_range_answers_raise_a_clear_error(code, answers, message):
    with pytest.raises(InstrumentError, match=message):
        score(code, answers)
