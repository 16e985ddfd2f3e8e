"""EQ-5D-5L index from a configured value set: hand-computed indexes on a made-up test set, every
refusal of the loader, and (hypothesis) the index is never above 1 and falls when a level rises."""

from __future__ import annotations

import copy
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from domain.eq5d import DIMENSIONS, ValueSet, ValueSetError, index, load_value_set

# MADE-UP numbers for tests only; not any country's value set.
TEST_SET = {
    "_comment": "Test value set, numbers made up",
    "country": "XX",
    "source": "Made-up test numbers",
    "verified": True,
    "constant": 0.05,
    "decrements": {
        "mobility": [0, 0.04, 0.08, 0.2, 0.3],
        "self_care": [0, 0.03, 0.07, 0.15, 0.2],
        "usual_activities": [0, 0.03, 0.06, 0.15, 0.18],
        "pain": [0, 0.05, 0.09, 0.25, 0.35],
        "anxiety": [0, 0.05, 0.1, 0.22, 0.3],
    },
}


def write(tmp_path, data, name="vs.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def profile(code: str) -> dict[str, int]:
    return dict(zip(DIMENSIONS, (int(c) for c in code), strict=True))


@pytest.fixture
def vs(tmp_path):
    return load_value_set(write(tmp_path, TEST_SET))


def test_loads_country_source_and_numbers(vs):
    assert vs.country == "XX" and vs.source == "Made-up test numbers" and vs.verified
    assert vs.constant == 0.05
    assert vs.levels("pain") == (0, 0.05, 0.09, 0.25, 0.35)
    assert vs.decrement("anxiety", 4) == 0.22


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("11111", 1.0),
        ("21111", 1 - 0.05 - 0.04),  # 0.91
        ("11112", 1 - 0.05 - 0.05),  # 0.90
        ("12345", 1 - 0.05 - 0.03 - 0.06 - 0.25 - 0.30),  # 0.31
        ("55555", 1 - 0.05 - (0.3 + 0.2 + 0.18 + 0.35 + 0.3)),  # -0.38
    ],
)
def test_hand_computed_indexes(vs, code, expected):
    assert math.isclose(index(profile(code), vs), expected, abs_tol=1e-12)


def test_all_ones_is_exactly_one(vs):
    assert index(profile("11111"), vs) == 1.0


def test_other_answer_keys_are_ignored(vs):
    assert math.isclose(index({**profile("21111"), "vas": 70}, vs), 0.91)


@pytest.mark.parametrize(
    "bad",
    [
        {k: v for k, v in profile("11111").items() if k != "pain"},
        {**profile("11111"), "pain": 0},
        {**profile("11111"), "pain": 6},
        {**profile("11111"), "pain": 2.5},
        {**profile("11111"), "pain": "2"},
        {**profile("11111"), "pain": True},
        {**profile("11111"), "pain": None},
    ],
)
def test_index_rejects_bad_levels(vs, bad):
    with pytest.raises(ValueError):
        index(bad, vs)


def test_index_refuses_an_unverified_set():
    unverified = ValueSet("XX", "made up", False, 0.0, tuple((0.0, 0.1, 0.2, 0.3, 0.4) for _ in DIMENSIONS))
    with pytest.raises(ValueError, match="unverified"):
        index(profile("11111"), unverified)


def _changed(**over):
    data = copy.deepcopy(TEST_SET)
    for key, value in over.items():
        if key.startswith("d_"):
            if value is None:
                del data["decrements"][key[2:]]
            else:
                data["decrements"][key[2:]] = value
        elif value is None:
            del data[key]
        else:
            data[key] = value
    return data


@pytest.mark.parametrize(
    ("data", "reason", "words"),
    [
        ("{not json", "json", "not valid JSON"),
        ("[1, 2]", "format", "JSON object"),
        (_changed(d_pain=None), "dimension", "missing dimension"),
        (_changed(d_pain=[0, 0.1, 0.2, 0.3]), "numbers", "exactly 5 finite numbers"),
        (_changed(d_pain=[0, 0.1, 0.2, 0.3, 0.4, 0.5]), "numbers", "exactly 5 finite numbers"),
        (_changed(d_pain=[0, 0.1, "0.2", 0.3, 0.4]), "numbers", "exactly 5 finite numbers"),
        (_changed(d_pain=[0, 0.1, True, 0.3, 0.4]), "numbers", "exactly 5 finite numbers"),
        (_changed(d_pain=[0, 0.1, 0.2, 0.3, None]), "numbers", "exactly 5 finite numbers"),
        (
            '{"country": "XX", "source": "s", "verified": true, "constant": 0, "decrements": '
            '{"mobility": [0, 0, 0, 0, NaN], "self_care": [0,0,0,0,0], "usual_activities": [0,0,0,0,0], '
            '"pain": [0,0,0,0,0], "anxiety": [0,0,0,0,0]}}',
            "numbers",
            "exactly 5 finite numbers",
        ),
        (_changed(d_pain=[0.01, 0.1, 0.2, 0.3, 0.4]), "level1", "level-1 decrement must be 0"),
        (_changed(d_pain=[0, -0.1, 0.2, 0.3, 0.4]), "negative", "at least 0"),
        (_changed(constant=-0.1), "negative", "at least 0"),
        (_changed(constant="0.1"), "numbers", "'constant' must be a finite number"),
        (_changed(verified=False), "unverified", "never produces EQ-5D index values or QALYs"),
        (_changed(verified="true"), "unverified", "never produces"),
        (_changed(verified=None), "key", "missing key 'verified'"),
        (_changed(country=""), "format", "'country'"),
        (_changed(source=None), "key", "missing key 'source'"),
        (_changed(n3=0.2), "key", "only additive main-effects"),
        (_changed(d_vas=[0, 0, 0, 0, 0]), "dimension", "only additive main-effects"),
    ],
)
def test_loader_refuses_with_a_clear_message(tmp_path, data, reason, words):
    path = write(tmp_path, data)
    with pytest.raises(ValueSetError) as failed:
        load_value_set(path)
    assert failed.value.reason == reason
    assert words in str(failed.value)
    assert str(path) in str(failed.value)


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="file not found") as failed:
        load_value_set(tmp_path / "nope.json")
    assert failed.value.reason == "missing"


def test_shipped_example_is_marked_unverified_and_refused():
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "config" / "eq5d_value_set.example.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["verified"] is False and "MADE-UP" in raw["source"]
    with pytest.raises(ValueSetError) as failed:
        load_value_set(path)
    assert failed.value.reason == "unverified"
    # with verified set to true the format itself loads
    raw["verified"] = True
    assert (
        ValueSet(
            raw["country"],
            raw["source"],
            True,
            raw["constant"],
            tuple(tuple(float(v) for v in raw["decrements"][d]) for d in DIMENSIONS),
        ).constant
        == raw["constant"]
    )


# Properties -------------------------------------------------------------------------------------

decrement = hs.floats(min_value=0, max_value=1, allow_nan=False, allow_infinity=False)
levels = hs.fixed_dictionaries({d: hs.integers(1, 5) for d in DIMENSIONS})


@hs.composite
def any_value_set(draw, monotone: bool = False):
    rows = []
    for _ in DIMENSIONS:
        values = [draw(decrement) for _ in range(4)]
        rows.append((0.0, *(sorted(values) if monotone else values)))
    return ValueSet("XX", "hypothesis", True, draw(decrement), tuple(rows))


@settings(max_examples=300, deadline=None)
@given(any_value_set(), levels)
def test_index_never_above_one(vs, prof):
    assert index(prof, vs) <= 1.0


@settings(max_examples=300, deadline=None)
@given(any_value_set(monotone=True), levels, hs.sampled_from(DIMENSIONS))
def test_raising_one_level_never_raises_the_index(vs, prof, dimension):
    if prof[dimension] == 5:
        return
    worse = {**prof, dimension: prof[dimension] + 1}
    assert index(worse, vs) <= index(prof, vs) + 1e-12
