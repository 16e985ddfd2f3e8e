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


# --- DJG-6: an independent re-implementation from REFERENCE.md's wording --------------------------
# "Emotional items (negative: emptiness; miss having people around; often feel rejected) score 1 for
# 'yes' or 'more or less'. Social items (positive: rely on; trust completely; close to) score 1 for
# 'no' or 'more or less'. Total 0-6: 0-1 not lonely, 2-4 moderately lonely, 5-6 severely lonely.
# Subscales 0-3 each. Missing data: the total is missing if more than one item is missing; a
# subscale is missing if any of its items is."""
REF_EMOTIONAL = ("emptiness", "miss_people", "rejected")
REF_SOCIAL = ("rely_on", "trust", "close")


def reference_djg6(answers: dict) -> dict:
    def point(item):
        answer = answers.get(item)
        if answer is None:
            return None
        if item in REF_EMOTIONAL:
            return {"yes": 1, "more_or_less": 1, "no": 0}[answer]
        return {"yes": 0, "more_or_less": 1, "no": 1}[answer]

    points = {item: point(item) for item in REF_EMOTIONAL + REF_SOCIAL}
    missing = [item for item, p in points.items() if p is None]
    emotional = [points[i] for i in REF_EMOTIONAL]
    social = [points[i] for i in REF_SOCIAL]
    total = None if len(missing) > 1 else sum(p for p in points.values() if p is not None)
    if total is None:
        band = None
    elif total in (0, 1):
        band = "not_lonely"
    elif total in (2, 3, 4):
        band = "moderate"
    else:
        band = "severe"
    return {
        "total": total,
        "band": band,
        "emotional": None if None in emotional else sum(emotional),
        "social": None if None in social else sum(social),
        "missing": tuple(missing),
    }


DJG6_VECTORS = list(itertools.product(["yes", "more_or_less", "no", None], repeat=6))
assert len(DJG6_VECTORS) == 4096


@pytest.mark.parametrize("answers", DJG6_VECTORS)
def test_djg6_every_answer_vector(answers):
    given_answers = dict(zip(REF_EMOTIONAL + REF_SOCIAL, answers, strict=True))
    expected = reference_djg6(given_answers)
    result = score("djg6", given_answers)
    assert result.total == expected["total"]
    assert result.score == expected["total"]
    assert result.band == expected["band"]
    assert result.subscales == {"emotional": expected["emotional"], "social": expected["social"]}
    assert result.missing == expected["missing"]
    assert result.flags == frozenset()
    # A missing item given as absent scores exactly like one given as None.
    assert score("djg6", {k: v for k, v in given_answers.items() if v is not None}) == result


def test_djg6_reference_spot_checks():
    """The re-implementation itself, against hand-worked cases."""
    all_lonely = dict.fromkeys(REF_EMOTIONAL, "yes") | dict.fromkeys(REF_SOCIAL, "no")
    assert reference_djg6(all_lonely)["total"] == 6
    assert reference_djg6(dict.fromkeys(REF_EMOTIONAL + REF_SOCIAL, "more_or_less"))["total"] == 6
    none_lonely = dict.fromkeys(REF_EMOTIONAL, "no") | dict.fromkeys(REF_SOCIAL, "yes")
    assert reference_djg6(none_lonely) == {
        "total": 0,
        "band": "not_lonely",
        "emotional": 0,
        "social": 0,
        "missing": (),
    }
    one_missing = all_lonely | {"trust": None}
    assert reference_djg6(one_missing)["total"] == 5 and reference_djg6(one_missing)["social"] is None
    assert reference_djg6(all_lonely | {"trust": None, "close": None})["total"] is None
    assert score("djg6", all_lonely).band == "severe"


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


# --- Extended: thresholds, every vector, boundaries, types ------------------------------------------


def test_item_ids_are_those_of_the_issue():
    assert UCLA3_ITEMS == ("companionship", "left_out", "isolated")
    assert (DJG6_EMOTIONAL, DJG6_SOCIAL) == (REF_EMOTIONAL, REF_SOCIAL)
    assert SWEMWBS_ITEMS == ("optimistic", "useful", "relaxed", "problems", "thinking", "close", "own_mind")
    assert ONS4_ITEMS == ("satisfied", "worthwhile", "happy", "anxious")
    assert tuple(f"q{i}" for i in range(1, 10)) == PHQ9_ITEMS
    assert tuple(f"q{i}" for i in range(1, 8)) == GAD7_ITEMS


@pytest.mark.parametrize("threshold", range(3, 10))
def test_ucla3_every_answer_vector_at_every_threshold(threshold):
    seen = 0
    for answers in itertools.product([1, 2, 3, None], repeat=3):
        given_answers = dict(zip(UCLA3_ITEMS, answers, strict=True))
        result = score("ucla3", given_answers, ucla3_threshold=threshold)
        if None in answers:
            assert (result.total, result.score, result.band) == (None, None, None)
        else:
            total = answers[0] + answers[1] + answers[2]
            assert 3 <= total <= 9
            assert (result.total, result.score) == (total, total)
            assert result.band == ("lonely" if total >= threshold else "not_lonely")
        assert result.missing == tuple(i for i, a in zip(UCLA3_ITEMS, answers, strict=True) if a is None)
        absent = {k: v for k, v in given_answers.items() if v is not None}
        assert score("ucla3", absent, ucla3_threshold=threshold) == result
        seen += 1
    assert seen == 64


def test_ucla3_default_threshold_is_six():
    assert score("ucla3", {"companionship": 2, "left_out": 2, "isolated": 2}).band == "lonely"
    assert score("ucla3", {"companionship": 2, "left_out": 2, "isolated": 1}).band == "not_lonely"


@pytest.mark.parametrize("threshold", ["6", 6.5, None, True])
def test_ucla3_threshold_must_be_a_whole_number(threshold):
    with pytest.raises(InstrumentError, match="threshold"):
        score("ucla3", {"companionship": 2, "left_out": 2, "isolated": 2}, ucla3_threshold=threshold)


def test_swemwbs_every_answer_vector():
    """All 5^7 answer vectors: raw total is the sum, the score its metric from the typed-in table."""
    count = 0
    for values in itertools.product(range(1, 6), repeat=7):
        result = score("swemwbs", dict(zip(SWEMWBS_ITEMS, values, strict=True)))
        raw = sum(values)
        assert result.total == raw
        assert result.score == REFERENCE_SWEMWBS[raw]
        count += 1
    assert count == 78125


def test_swemwbs_reference_table_is_monotonic_with_fixed_ends():
    metrics = [REFERENCE_SWEMWBS[raw] for raw in range(7, 36)]
    assert metrics == sorted(metrics) and len(set(metrics)) == 29
    assert (REFERENCE_SWEMWBS[7], REFERENCE_SWEMWBS[21], REFERENCE_SWEMWBS[35]) == (7.00, 19.25, 35.00)


def _vector_with_total(items, total, high):
    values, remaining = {}, total
    for item in items:
        values[item] = min(high, remaining)
        remaining -= values[item]
    assert remaining == 0
    return values


PHQ9_BANDS = [
    (0, 4, "minimal"),
    (5, 9, "mild"),
    (10, 14, "moderate"),
    (15, 19, "moderately_severe"),
    (20, 27, "severe"),
]
GAD7_BANDS = [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")]


@pytest.mark.parametrize(
    ("code", "items", "bands"), [("phq9", PHQ9_ITEMS, PHQ9_BANDS), ("gad7", GAD7_ITEMS, GAD7_BANDS)]
)
def test_bands_at_every_total_and_boundary(code, items, bands):
    expected = {total: name for low, high, name in bands for total in range(low, high + 1)}
    assert sorted(expected) == list(range(3 * len(items) + 1))
    for total, band in expected.items():
        result = score(code, _vector_with_total(items, total, 3))
        assert (result.total, result.score, result.band) == (total, total, band)
    # Each boundary, from both sides.
    for (_, high, below), (low, _, above) in itertools.pairwise(bands):
        assert low == high + 1
        assert score(code, _vector_with_total(items, high, 3)).band == below
        assert score(code, _vector_with_total(items, low, 3)).band == above


@pytest.mark.parametrize(
    ("item", "value", "band"),
    [
        ("satisfied", 4, "low"),
        ("satisfied", 5, "medium"),
        ("worthwhile", 6, "medium"),
        ("worthwhile", 7, "high"),
        ("happy", 8, "high"),
        ("happy", 9, "very_high"),
        ("anxious", 1, "very_low"),
        ("anxious", 2, "low"),
        ("anxious", 3, "low"),
        ("anxious", 4, "medium"),
        ("anxious", 5, "medium"),
        ("anxious", 6, "high"),
    ],
)
def test_ons4_band_boundaries_and_items_reported_separately(item, value, band):
    result = score("ons4", {item: value})
    assert result.bands[item] == band
    assert result.subscales[item] == value
    assert all(result.bands[other] is None for other in ONS4_ITEMS if other != item)
    assert result.total is None and result.score is None and result.band is None
    assert result.missing == tuple(i for i in ONS4_ITEMS if i != item)


phq_answer = st.one_of(st.none(), st.integers(0, 3), st.just("absent"))


@given(st.integers(1, 3), st.lists(phq_answer, min_size=8, max_size=8))
def test_phq9_flag_whenever_item9_is_above_zero_whatever_else(item9, others):
    answers = {item: a for item, a in zip(PHQ9_ITEMS[:8], others, strict=True) if a != "absent"}
    answers["q9"] = item9
    result = score("phq9", answers)
    assert result.flags == frozenset({"self_harm"})
    complete = all(isinstance(a, int) for a in others)
    assert (result.total is None) == (not complete)
    if complete:
        assert result.total == sum(others) + item9


@given(st.sampled_from([0, None, "absent"]), st.lists(phq_answer, min_size=8, max_size=8))
def test_phq9_no_flag_unless_item9_is_above_zero(item9, others):
    answers = {item: a for item, a in zip(PHQ9_ITEMS[:8], others, strict=True) if a != "absent"}
    if item9 != "absent":
        answers["q9"] = item9
    assert score("phq9", answers).flags == frozenset()


INT_INSTRUMENTS = [
    ("ucla3", UCLA3_ITEMS, 1, 3),
    ("swemwbs", SWEMWBS_ITEMS, 1, 5),
    ("ons4", ONS4_ITEMS, 0, 10),
    ("phq9", PHQ9_ITEMS, 0, 3),
    ("gad7", GAD7_ITEMS, 0, 3),
    ("eq5d5l", ("mobility", "self_care", "usual_activities", "pain", "anxiety"), 1, 5),
    ("eq5d5l", ("vas",), 0, 100),
]
CHOICE_INSTRUMENTS = [
    (
        "ons_loneliness",
        ("lonely",),
        ("often_always", "some_of_the_time", "occasionally", "hardly_ever", "never"),
    ),
    ("djg6", REF_EMOTIONAL + REF_SOCIAL, ("yes", "more_or_less", "no")),
]
not_an_int = st.one_of(
    st.text(max_size=5),
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda f: not float(f).is_integer()),
    st.booleans(),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)


@given(st.sampled_from(INT_INSTRUMENTS), st.data())
def test_out_of_range_integers_raise(instrument, data):
    code, items, low, high = instrument
    item = data.draw(st.sampled_from(items))
    value = data.draw(st.one_of(st.integers(max_value=low - 1), st.integers(min_value=high + 1)))
    with pytest.raises(InstrumentError, match=item):
        score(code, {item: value})


@given(st.sampled_from(INT_INSTRUMENTS), st.data())
def test_wrong_types_raise_for_numeric_instruments(instrument, data):
    code, items, _, _ = instrument
    item = data.draw(st.sampled_from(items))
    with pytest.raises(InstrumentError, match=item):
        score(code, {item: data.draw(not_an_int)})


@given(st.sampled_from(INT_INSTRUMENTS), st.data())
def test_integral_floats_score_like_integers(instrument, data):
    code, items, low, high = instrument
    item = data.draw(st.sampled_from(items))
    value = data.draw(st.integers(low, high))
    assert score(code, {item: float(value)}) == score(code, {item: value})


@given(st.sampled_from(CHOICE_INSTRUMENTS), st.data())
def test_unknown_answers_raise_for_choice_instruments(instrument, data):
    code, items, choices = instrument
    item = data.draw(st.sampled_from(items))
    value = data.draw(
        st.one_of(st.text(max_size=12).filter(lambda v: v not in choices), st.integers(), st.booleans())
    )
    with pytest.raises(InstrumentError, match=item):
        score(code, {item: value})


@given(
    st.sampled_from(["ucla3", "ons_loneliness", "djg6", "swemwbs", "ons4", "phq9", "gad7", "eq5d5l"]),
    st.one_of(st.text(min_size=1, max_size=12), st.integers(), st.none(), st.tuples(st.integers())),
)
def test_unknown_items_raise_whatever_the_key_type(code, key):
    from domain.instrument_defs import definition

    if key in definition(code).item_ids():
        return
    with pytest.raises(InstrumentError, match="unknown item"):
        score(code, {key: 1, "also_unknown": 2})


@pytest.mark.parametrize("answers", [None, [], "ucla3", 3, [("companionship", 1)]])
def test_answers_must_be_a_mapping(answers):
    with pytest.raises(InstrumentError, match="mapping"):
        score("ucla3", answers)


def test_eq5d5l_missing_dimension_gives_no_profile():
    result = score("eq5d5l", {"mobility": 1, "self_care": 2, "usual_activities": 3, "pain": 4, "vas": 0})
    assert result.band is None and result.missing == ("anxiety",)
    assert result.subscales["vas"] == 0 and result.subscales["anxiety"] is None
    assert (
        score(
            "eq5d5l", dict.fromkeys(("mobility", "self_care", "usual_activities", "pain", "anxiety"), 5)
        ).band
        == "55555"
    )


# --- Instrument definitions as data ---------------------------------------------------------------------

from domain.instrument_defs import DEFINITIONS, SWEMWBS_NOTICE, to_fhir  # noqa: E402
from domain.instruments import CODES  # noqa: E402

LANGS = ("sv", "da", "en")


def test_every_scored_instrument_has_a_definition():
    assert tuple(DEFINITIONS) == CODES
    assert len(CODES) == 8
    for code, d in DEFINITIONS.items():
        assert d.code == code


@pytest.mark.parametrize("code", CODES)
def test_definition_items_are_the_scorers_item_ids(code):
    d = DEFINITIONS[code]
    # The scorer lists every item as missing when nothing is answered, in its own order.
    assert score(code, {}).missing == d.item_ids()
    assert len(set(d.item_ids())) == len(d.items)


@pytest.mark.parametrize("code", CODES)
def test_every_answer_option_scores_and_only_those(code):
    d = DEFINITIONS[code]
    for item in d.items:
        values = item.values()
        assert values, item.link_id
        for value in values:
            result = score(code, {item.link_id: value})
            assert item.link_id not in result.missing
        if item.type == "integer":
            assert (item.minimum, item.maximum) == (0, 100)
            for outside in (item.minimum - 1, item.maximum + 1):
                with pytest.raises(InstrumentError):
                    score(code, {item.link_id: outside})
        elif isinstance(values[0], int):
            for outside in (min(values) - 1, max(values) + 1):
                with pytest.raises(InstrumentError):
                    score(code, {item.link_id: outside})
            assert list(values) == list(range(min(values), max(values) + 1))
    # Answering every item with its first and its last option leaves nothing missing.
    for pick in (0, -1):
        assert score(code, {item.link_id: item.values()[pick] for item in d.items}).missing == ()


@pytest.mark.parametrize("code", CODES)
def test_every_text_exists_in_all_three_languages(code):
    d = DEFINITIONS[code]
    texts = [d.name, d.intro, *(item.text for item in d.items)]
    texts += [o.label for item in d.items for o in item.options]
    texts += [t for t in (d.recall, d.notice, d.note) if t is not None]
    for text in texts:
        assert set(text) == set(LANGS), text
        assert all(isinstance(text[lang], str) and text[lang].strip() for lang in LANGS), text
    for item in d.items:
        labels = {lang: [o.label[lang] for o in item.options] for lang in LANGS}
        for lang in LANGS:
            assert len(set(labels[lang])) == len(item.options), (item.link_id, lang)
    # Swedish and Danish are written out, not left in English (EQ-5D's short VAS name aside).
    for item in d.items:
        assert item.text["sv"] != item.text["en"] and item.text["da"] != item.text["en"]
        assert item.text["sv"] != item.text["da"]


@pytest.mark.parametrize("code", CODES)
def test_translation_status_is_honest(code):
    d = DEFINITIONS[code]
    assert set(d.translation) == set(LANGS)
    assert set(d.translation.values()) <= {"validated", "official", "working"}
    # Our Swedish and Danish texts are not checked against published validated versions, except
    # the Swedish PHQ-9, which is Pfizer's official Swedish version (tests/test_instrument_texts.py).
    assert d.translation["da"] == "working"
    assert d.translation["sv"] == ("official" if code == "phq9" else "working")
    # English is the source text, except EQ-5D-5L whose official wording we do not reproduce.
    assert d.translation["en"] == ("working" if code == "eq5d5l" else "validated")


def test_licence_notices():
    assert SWEMWBS_NOTICE == (
        "SWEMWBS © NHS Health Scotland, University of Warwick and University of Edinburgh, 2008, "
        "all rights reserved."
    )
    assert all(DEFINITIONS["swemwbs"].notice[lang] == SWEMWBS_NOTICE for lang in LANGS)
    eq = DEFINITIONS["eq5d5l"]
    assert "EuroQol" in eq.notice["en"] and "registration" in eq.notice["en"]
    assert "value set" in eq.notice["en"] and "No index" in eq.notice["en"]
    assert "licensed" in eq.note["en"] and "paraphrase" in eq.note["en"]
    for code in ("phq9", "gad7"):
        notice = DEFINITIONS[code].notice
        assert "Pfizer" in notice["en"] and "No permission required" in notice["en"]
        assert all("Pfizer" in notice[lang] for lang in LANGS)


def test_loinc_codes_from_reference():
    assert DEFINITIONS["ucla3"].loinc == "106418-7"
    assert (DEFINITIONS["phq9"].loinc, DEFINITIONS["phq9"].loinc_total) == ("44249-1", "44261-6")
    assert DEFINITIONS["gad7"].loinc_total == "70274-6"


def test_answer_labels_follow_the_reference_order():
    ucla = DEFINITIONS["ucla3"].items[0]
    assert [(o.value, o.label["en"]) for o in ucla.options] == [
        (1, "Hardly ever or never"),
        (2, "Some of the time"),
        (3, "Often"),
    ]
    swemwbs = DEFINITIONS["swemwbs"].items[0]
    assert swemwbs.label(1, "en") == "None of the time" and swemwbs.label(5, "en") == "All of the time"
    djg = DEFINITIONS["djg6"]
    assert [o.value for o in djg.items[0].options] == ["yes", "more_or_less", "no"]
    assert DEFINITIONS["phq9"].item("q9").text["en"].startswith("Thoughts that you would be better off dead")


@pytest.mark.parametrize("lang", LANGS)
def test_fhir_questionnaire_carries_the_link_ids(lang):
    for code in CODES:
        resource = to_fhir(code, lang)
        assert resource["resourceType"] == "Questionnaire"
        assert [i["linkId"] for i in resource["item"]] == list(DEFINITIONS[code].item_ids())
    assert to_fhir("ucla3", lang)["code"] == [{"system": "http://loinc.org", "code": "106418-7"}]
    assert to_fhir("swemwbs", lang)["copyright"] == SWEMWBS_NOTICE
