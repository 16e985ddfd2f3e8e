"""Matching: the pure ranking (exclusions, score, reasons; property tests), the suggestion and
shortlist services on SQLite and Postgres with their permission rules and audit, the printable
shortlist in the patient's language, unmet needs without identity, and the page through AppTest.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path

import pytest
import streamlit as st
from hypothesis import given, settings
from hypothesis import strategies as hs
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from db.engine import read_session, write_session
from db.models import (
    Attribute,
    AuditEvent,
    Contact,
    CostOption,
    Location,
    Patient,
    PatientConsent,
    PatientNeed,
    Phone,
    Referral,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceCapacity,
    ShortlistItem,
    TaxonomyTerm,
    UnmetNeed,
)
from domain import matching as dm
from domain.schedules import Rule
from locales import translate
from services import matching, unmet
from services.errors import AccessDenied, NotFound, ValidationError
from tests.factories import make_world

TODAY = date.today()
ROOT = Path(__file__).resolve().parents[1]


# --- Domain --------------------------------------------------------------------------------------------


def cand(id=1, **kw) -> dm.Candidate:
    base = dict(
        name=f"Activity {id}",
        categories=("walking",),
        languages=("sv",),
        weekdays=("TU",),
        times_of_day=("morning",),
        distance_km=1.2,
        assured_date=TODAY - timedelta(days=5),
    )
    base.update(kw)
    return dm.Candidate(id=id, **base)


PROFILE = dm.Profile(needs=("physical_activity",), age=70, sex="female", language="sv")


def rank(profile=PROFILE, candidates=(), **kw):
    return dm.rank(profile, candidates, today=TODAY, stale_days=90, **kw)


def test_reasons_read_like_the_issue_example():
    (match,) = rank(candidates=[cand()])
    assert match.reasons == (
        ("category", "walking"),
        ("weekday", "tue"),
        ("distance", 1.2),
        ("free",),
        ("language", "sv"),
    )
    # 4 (need) + 2 × (1 − 1.2/10) (near) + 0.5 (free) + 2 (language)
    assert match.score == pytest.approx(4 + 1.76 + 0.5 + 2)
    assert match.parts == {"category": 4.0, "near": 1.76, "free": 0.5, "language": 2.0}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "inactive"}, "inactive"),
        ({"approval_status": "pending"}, "unapproved"),
        ({"assured_date": TODAY - timedelta(days=91)}, "stale"),
        ({"assured_date": None}, "stale"),
        ({"available": 0}, "full"),
        ({"minimum_age": 75}, "age"),
        ({"maximum_age": 30}, "age"),
        ({"target_groups": ("diabetes",)}, "condition"),
        ({"target_groups": ("men",)}, "sex"),
    ],
)
def test_each_exclusion_leaves_the_activity_out(change, reason):
    bad = cand(2, **change)
    assert dm.exclusion(PROFILE, bad, today=TODAY, stale_days=90) == reason
    assert [m.candidate.id for m in rank(candidates=[cand(1), bad])] == [1]


def test_borderline_values_are_kept():
    kept = [
        cand(1, assured_date=TODAY - timedelta(days=90)),  # exactly stale_days: still fresh
        cand(2, available=1),
        cand(3, available=None),  # capacity unknown is not full
        cand(4, minimum_age=70, maximum_age=70),
        cand(5, target_groups=("heart_disease",)),
        cand(6, target_groups=("women", "seniors")),
    ]
    profile = replace(PROFILE, needs=("physical_activity", "heart_health"))
    assert sorted(m.candidate.id for m in rank(profile, kept)) == [1, 2, 3, 4, 5, 6]


def test_filters_mode_days_times_and_distance():
    online = cand(1, attending="online", distance_km=None, weekdays=(), times_of_day=())
    tuesday = cand(2, weekdays=("TU",), times_of_day=("morning",), distance_km=3.0)
    thursday_evening = cand(3, weekdays=("TH",), times_of_day=("evening",), distance_km=1.0)
    hybrid_far = cand(4, attending="hybrid", distance_km=40.0)
    all_ = [online, tuesday, thursday_evening, hybrid_far]

    def ids(**kw):
        return sorted(m.candidate.id for m in rank(replace(PROFILE, **kw), all_))

    assert ids(mode="online") == [1, 4]
    assert ids(mode="in_person") == [2, 3, 4]
    assert ids(weekdays=("TU",)) == [1, 2, 4]  # no fixed days fits any day
    assert ids(times_of_day=("evening",)) == [1, 3]
    assert ids(max_km=5.0) == [1, 2, 3]  # online has no distance to exceed


def test_ranking_prefers_needs_language_nearness_and_preferred_days():
    walk = cand(1, categories=("walking",), distance_km=2.0)
    crafts = cand(2, categories=("crafts",), distance_km=0.5)
    arabic = cand(3, categories=("walking",), languages=("ar",), distance_km=2.0)
    order = [m.candidate.id for m in rank(candidates=[crafts, arabic, walk])]
    assert order == [1, 3, 2]
    assert next(m for m in rank(candidates=[crafts]) if m.candidate.id == 2).reasons[0] == (
        "category",
        "crafts",
    )
    thursday = cand(4, weekdays=("TH",), distance_km=2.0)
    ranked = rank(replace(PROFILE, weekdays=("TU", "TH")), [walk, thursday])
    assert [m.candidate.id for m in ranked] == [1, 4]  # same score: tie broken by name
    ranked = rank(replace(PROFILE, weekdays=("TH",)), [walk, thursday])
    assert [m.candidate.id for m in ranked] == [4]
    assert ("weekday", "thu") in ranked[0].reasons


def test_interests_match_accent_insensitive_words_and_category_codes():
    choir = cand(1, name="Kör för alla", description="Vi sjunger visor", categories=("choir",))
    cafe = cand(2, name="Sprogcafé", categories=("language_cafe",))
    walk = cand(3, name="Promenadgrupp Öster", categories=("walking",))
    profile = replace(PROFILE, needs=(), interests="kor, SPROGCAFE; language_cafe\npromenad, the")
    by_id = {m.candidate.id: m for m in rank(profile, [choir, cafe, walk])}
    assert ("interest", "kor") in by_id[1].reasons
    assert ("interest", "sprogcafe") in by_id[2].reasons and ("interest", "language_cafe") in by_id[2].reasons
    assert ("interest", "promenad") in by_id[3].reasons  # a prefix of a compound word
    assert by_id[2].parts["interest"] == 2 * dm.WEIGHTS["interest"]
    assert dm.tokens("Språkcafé för alla på Ærø") == ("sprakcafe", "alla", "aero")


def test_daily_online_and_paid_reasons():
    every_day = cand(1, weekdays=dm.WEEKDAYS, is_free=False)
    online = cand(2, attending="online", distance_km=None, weekdays=())
    by_id = {m.candidate.id: m.reasons for m in rank(candidates=[every_day, online])}
    assert ("daily",) in by_id[1] and ("free",) not in by_id[1]
    assert ("online",) in by_id[2] and not any(r[0] == "distance" for r in by_id[2])


def test_schedule_days_from_rules():
    rules = [
        Rule(byday=("TU", "TH"), opens_at=clock(10)),
        Rule(freq="MONTHLY", byday=("-1FR",), opens_at=clock(18)),
        Rule(byday=("SU",), until=TODAY - timedelta(days=1)),  # ended
        Rule(dtstart=date(2026, 1, 5)),  # weekly on its start date's weekday (Monday)
    ]
    assert dm.schedule_days(rules, TODAY) == (("MO", "TU", "TH", "FR"), ("morning", "evening"))
    assert dm.schedule_days([Rule(freq="DAILY", opens_at=clock(13))], TODAY) == (dm.WEEKDAYS, ("afternoon",))
    assert dm.schedule_days([], TODAY) == ((), ())


def test_age_groups():
    assert [dm.age_group(a) for a in (None, 5, 18, 29, 30, 64, 65, 79, 80, 104)] == [
        None,
        "0-17",
        "18-29",
        "18-29",
        "30-64",
        "30-64",
        "65-79",
        "65-79",
        "80+",
        "80+",
    ]


candidates_st = hs.builds(
    dm.Candidate,
    id=hs.integers(1, 40),
    name=hs.sampled_from(["Promenad", "Kör", "Språkcafé", "Stickcafé", "Qigong"]),
    description=hs.sampled_from(["", "Vi går", "Vi sjunger", "Kaffe och samtal"]),
    categories=hs.lists(
        hs.sampled_from(["walking", "choir", "crafts", "exercise", "language_cafe"]), max_size=2
    ).map(tuple),
    target_groups=hs.lists(hs.sampled_from(["seniors", "diabetes", "men", "women", "grief"]), max_size=2).map(
        tuple
    ),
    languages=hs.lists(hs.sampled_from(["sv", "da", "ar"]), max_size=2).map(tuple),
    attending=hs.sampled_from(["in_person", "online", "hybrid"]),
    weekdays=hs.lists(hs.sampled_from(dm.WEEKDAYS), max_size=3, unique=True).map(tuple),
    times_of_day=hs.lists(hs.sampled_from(dm.TIMES_OF_DAY), max_size=2, unique=True).map(tuple),
    distance_km=hs.none() | hs.floats(0, 60, allow_nan=False),
    is_free=hs.booleans(),
    available=hs.none() | hs.integers(-1, 5),
    status=hs.sampled_from(["active", "active", "inactive"]),
    approval_status=hs.sampled_from(["approved", "approved", "pending"]),
    assured_date=hs.none() | hs.integers(0, 200).map(lambda d: TODAY - timedelta(days=d)),
    minimum_age=hs.none() | hs.integers(0, 90),
    maximum_age=hs.none() | hs.integers(20, 100),
)
profiles_st = hs.builds(
    dm.Profile,
    needs=hs.lists(hs.sampled_from(sorted(dm.NEEDS)), max_size=3).map(tuple),
    interests=hs.sampled_from(["", "promenad", "kör, stickning", "language_cafe"]),
    age=hs.none() | hs.integers(15, 100),
    sex=hs.sampled_from([None, "female", "male"]),
    language=hs.sampled_from([None, "sv", "da", "ar"]),
    mode=hs.sampled_from(dm.MODES),
    weekdays=hs.lists(hs.sampled_from(dm.WEEKDAYS), max_size=3).map(tuple),
    times_of_day=hs.lists(hs.sampled_from(dm.TIMES_OF_DAY), max_size=2).map(tuple),
    max_km=hs.none() | hs.floats(1, 50),
)


@settings(max_examples=300, deadline=None)
@given(profile=profiles_st, candidates=hs.lists(candidates_st, max_size=25), data=hs.data())
def test_property_excluded_never_appear_and_ranking_is_deterministic(profile, candidates, data):
    ranked = rank(profile, candidates)
    first = {}
    for c in candidates:
        first.setdefault(c.id, c)
    allowed = {i for i, c in first.items() if dm.exclusion(profile, c, today=TODAY, stale_days=90) is None}
    assert [m.candidate.id for m in ranked if m.candidate.id not in allowed] == []
    assert {m.candidate.id for m in ranked} == allowed
    for m in ranked:
        c = m.candidate
        assert c.status == "active" and c.approval_status == "approved"
        assert c.available is None or c.available > 0
        assert c.assured_date is not None and (TODAY - c.assured_date).days <= 90
        assert profile.age is None or c.minimum_age is None or profile.age >= c.minimum_age
        assert m.score == pytest.approx(sum(m.parts.values()))
    scores = [m.score for m in ranked]
    assert scores == sorted(scores, reverse=True)
    # The same candidates in another order (ids unique, so the first of each id is the same).
    shuffled = data.draw(hs.permutations(list(first.values())))
    assert rank(profile, shuffled) == rank(profile, list(first.values())) == ranked


# --- A small world in the database ------------------------------------------------------------------


@dataclass
class MatchWorld:
    w: object
    patient: int
    danish: int
    other_patient: int
    ids: dict[str, int]

    def p(self, role: str):
        return self.w.principals[role]


TERMS = {
    "category": [
        ("walking", "Promenader", "Gåture", "Walking"),
        ("choir", "Kör", "Kor", "Choir"),
        ("exercise", "Motion", "Motion", "Exercise"),
        ("digital_course", "Digital kurs", "Digitalt kursus", "Digital course"),
    ],
    "target_group": [
        ("diabetes", "Diabetes", "Diabetes", "Diabetes"),
        ("seniors", "Seniorer", "Seniorer", "Seniors"),
    ],
    "language": [
        ("sv", "Svenska", "Svensk", "Swedish"),
        ("da", "Danska", "Dansk", "Danish"),
        ("ar", "Arabiska", "Arabisk", "Arabic"),
    ],
}


def _activity(s, w, terms, name, *, point=None, online=False, category="walking", lang="sv", day="TU", **kw):
    capacity = kw.pop("available", "none")
    groups = kw.pop("groups", ())
    service = Service(
        organization_id=w.org,
        name=name,
        description=kw.pop("description", f"Beskrivning av {name}"),
        attending_type="online" if online else "in_person",
        assured_date=kw.pop("assured_date", TODAY - timedelta(days=10)),
        **kw,
    )
    s.add(service)
    s.flush()
    if point is not None:
        loc = Location(organization_id=w.org, name=f"Plats {name}", latitude=point[0], longitude=point[1])
    else:
        loc = Location(
            organization_id=w.org, location_type="virtual", url="https://example.org/video?a=1&b=<2>"
        )
    s.add(loc)
    s.flush()
    s.add(ServiceAtLocation(service_id=service.id, location_id=loc.id))
    for taxonomy, code in [
        ("category", category),
        ("language", lang),
        *(("target_group", g) for g in groups),
    ]:
        s.add(Attribute(service_id=service.id, taxonomy_term_id=terms[(taxonomy, code)]))
    if day:
        s.add(Schedule(service_id=service.id, byday=day, opens_at=clock(10), closes_at=clock(11, 30)))
    if capacity != "none":
        s.add(ServiceCapacity(service_id=service.id, available=capacity, maximum=10))
    return service.id


def _patient(
    s, centre, pseudonym, *, lang="sv", needs=("loneliness", "physical_activity"), interests="promenad"
):
    patient = Patient(
        pseudonym=pseudonym,
        centre_id=centre,
        birth_year=TODAY.year - 70,
        sex="female",
        preferred_language=lang,
        interests=interests,
    )
    s.add(patient)
    s.flush()
    for need in needs:
        s.add(PatientNeed(patient_id=patient.id, need=need))
    for kind in ("referral", "share_contact", "evaluation"):
        s.add(PatientConsent(patient_id=patient.id, kind=kind, granted=True))
    return patient.id


def build() -> MatchWorld:
    st.cache_data.clear()
    st.cache_resource.clear()
    w = make_world()  # centre A at (55.6, 13.0), centre B at (55.7, 13.2)
    near, mid, far = (55.605, 13.005), (55.62, 13.0), (56.5, 13.0)
    with write_session() as s:
        terms = {}
        for taxonomy, rows in TERMS.items():
            for code, sv, da, en in rows:
                term = TaxonomyTerm(taxonomy=taxonomy, code=code, name_sv=sv, name_da=da, name_en=en)
                s.add(term)
                s.flush()
                terms[(taxonomy, code)] = term.id
        ids = {
            "walk": _activity(s, w, terms, "Promenadgrupp Centrum", point=near, available=5),
            "choir": _activity(
                s, w, terms, "Kör för alla", point=mid, category="choir", day="TH", is_free=False
            ),
            "far": _activity(s, w, terms, "Långt bort", point=far),
            "full": _activity(s, w, terms, "Fullt gäng", point=near, available=0),
            "stale": _activity(
                s, w, terms, "Gammal grupp", point=near, assured_date=TODAY - timedelta(days=200)
            ),
            "pending": _activity(s, w, terms, "Väntar på godkännande", point=near, approval_status="pending"),
            "inactive": _activity(s, w, terms, "Nedlagd", point=near, status="inactive"),
            "young": _activity(s, w, terms, "Unga vuxna går", point=near, maximum_age=30),
            "diabetes": _activity(s, w, terms, "Diabetespromenad", point=near, groups=("diabetes",)),
            "arabic": _activity(s, w, terms, "Promenad på arabiska", point=near, lang="ar"),
            "online": _activity(s, w, terms, "Gympa online", online=True, category="exercise", day=None),
            "course": _activity(s, w, terms, "Datorkurs", point=near, category="digital_course"),
        }
        contact = Contact(
            service_id=ids["walk"],
            name='Anna "Ankan" <Andersson>',
            title="Samordnare",
            email="anna@example.org",
        )
        s.add(contact)
        s.flush()
        s.add(Phone(contact_id=contact.id, number="040-12 34 56"))
        s.add(CostOption(service_id=ids["choir"], option="Terminsavgift", amount=200, currency="SEK"))
        patient = _patient(s, w.centre_a, "PTESTAAAA1")
        danish = _patient(s, w.centre_a, "PTESTDDDD1", lang="da")
        other = _patient(s, w.centre_b, "PTESTBBBB1")
    return MatchWorld(w, patient, danish, other, ids)


@pytest.fixture
def mw(db_url) -> MatchWorld:
    return build()


def audits(action: str, outcome: str = "ok") -> list[AuditEvent]:
    with read_session() as s:
        return list(
            s.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == action, AuditEvent.outcome == outcome)
                .order_by(AuditEvent.id)
            )
        )


# --- Suggestions ------------------------------------------------------------------------------------


def test_suggestions_leave_out_the_unfit_and_explain_the_rest(mw):
    result = matching.suggest(mw.p("connector"), mw.patient)
    names = [s.name for s in result]
    assert names == ["Promenadgrupp Centrum", "Promenad på arabiska", "Kör för alla", "Gympa online"]
    top = result[0]
    assert top.reasons == (
        ("category", "walking"),
        ("interest", "promenad"),
        ("weekday", "tue"),
        ("distance", 0.6),
        ("free",),
        ("language", "sv"),
    )
    assert top.need == "loneliness" and top.available == 5 and top.maximum == 10
    assert (top.contact_name, top.contact_phone, top.contact_email) == (
        'Anna "Ankan" <Andersson>',
        "040-12 34 56",
        "anna@example.org",
    )
    assert top.next_start is not None and top.next_start.weekday() == 1 and top.next_start.hour == 10
    online = result[-1]
    assert ("online",) in online.reasons and online.distance_km is None and online.need == "physical_activity"
    choir = next(s for s in result if s.name == "Kör för alla")
    assert ("free",) not in choir.reasons and ("weekday", "thu") in choir.reasons
    (event,) = audits("matching.suggest")
    assert event.patient_pseudonym == "PTESTAAAA1"


def test_filters_narrow_the_suggestions(mw):
    connector = mw.p("connector")
    assert [s.name for s in matching.suggest(connector, mw.patient, mode="online")] == ["Gympa online"]
    assert "Gympa online" not in [s.name for s in matching.suggest(connector, mw.patient, mode="in_person")]
    thursday = matching.suggest(connector, mw.patient, weekdays=["TH"])
    assert [s.name for s in thursday] == ["Kör för alla", "Gympa online"]  # online has no fixed day
    assert [s.name for s in matching.suggest(connector, mw.patient, weekdays=["thu"], mode="in_person")] == [
        "Kör för alla"
    ]
    assert [s.name for s in matching.suggest(connector, mw.patient, time_of_day="evening")] == [
        "Gympa online"
    ]
    near = [s.name for s in matching.suggest(connector, mw.patient, max_km=1.0, mode="in_person")]
    assert near == ["Promenadgrupp Centrum", "Promenad på arabiska"]
    wide = [s.name for s in matching.suggest(connector, mw.patient, max_km=200)]
    assert "Långt bort" in wide and "Fullt gäng" not in wide
    assert len(matching.suggest(connector, mw.patient, limit=2)) == 2
    for bad in (
        {"mode": "car"},
        {"weekdays": ["XX"]},
        {"time_of_day": "night"},
        {"max_km": 0},
        {"max_km": 501},
    ):
        with pytest.raises(ValidationError) as error:
            matching.suggest(connector, mw.patient, **bad)
        assert set(error.value.fields) == {next(iter(bad)) if "weekdays" not in bad else "weekdays"}
    with pytest.raises(ValidationError):
        matching.suggest(connector, mw.patient, limit=0)


def test_no_needs_means_every_category(mw):
    with write_session() as s:
        s.execute(PatientNeed.__table__.delete().where(PatientNeed.patient_id == mw.patient))
    names = {s.name for s in matching.suggest(mw.p("connector"), mw.patient)}
    assert "Datorkurs" in names and "Promenadgrupp Centrum" in names
    assert "Diabetespromenad" not in names  # a condition group is still for those with the condition


def test_other_centres_connector_and_other_roles_are_denied_and_audited(mw):
    for role in ("connector_b", "partner", "manager", "admin"):
        with pytest.raises(AccessDenied):
            matching.suggest(mw.p(role), mw.patient)
        with pytest.raises(AccessDenied):
            matching.add_to_shortlist(mw.p(role), mw.patient, mw.ids["walk"])
        with pytest.raises(AccessDenied):
            matching.shortlist_document(mw.p(role), mw.patient)
    denied = audits("matching.suggest", "denied")
    assert len(denied) == 4
    assert denied[0].username == "t-connector-b" and denied[0].patient_pseudonym == "PTESTAAAA1"
    with pytest.raises(AccessDenied):  # and the other way round
        matching.suggest(mw.p("connector"), mw.other_patient)
    with pytest.raises(NotFound):
        matching.suggest(mw.p("connector"), 999_999)
    with read_session() as s:
        assert s.scalar(select(func.count()).select_from(ShortlistItem)) == 0


def test_suggestions_are_cached_under_the_directory_version_yet_always_current(mw):
    """Issue 14: a rerun of the page does not search again (the ranking is cached under the data
    version of the directory tables), yet a directory write, a shortlist change and the access check
    and audit take effect on every call."""
    from sqlalchemy import event, update

    from db.engine import get_engine

    connector = mw.p("connector")
    first = [x.name for x in matching.suggest(connector, mw.patient)]
    sent: list[str] = []

    def capture(conn, cursor, statement, params, context, executemany):
        sent.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        again = matching.suggest(connector, mw.patient)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert [x.name for x in again] == first
    assert not [q for q in sent if "service_at_location" in q or "taxonomy_term" in q], sent
    with write_session() as s:  # the choir closes
        s.execute(update(Service).where(Service.id == mw.ids["choir"]).values(status="inactive"))
    assert [x.name for x in matching.suggest(connector, mw.patient)] == [
        n for n in first if n != "Kör för alla"
    ]
    matching.add_to_shortlist(connector, mw.patient, mw.ids["walk"])
    top = matching.suggest(connector, mw.patient)[0]
    assert top.service_id == mw.ids["walk"] and top.shortlisted
    with pytest.raises(AccessDenied):
        matching.suggest(mw.p("connector_b"), mw.patient)
    assert len(audits("matching.suggest")) == 4 and len(audits("matching.suggest", "denied")) == 1


# --- Shortlist ------------------------------------------------------------------------------------------


def test_shortlist_add_remove_and_favourite_are_idempotent(mw):
    c, pid, walk, choir = mw.p("connector"), mw.patient, mw.ids["walk"], mw.ids["choir"]
    first = matching.add_to_shortlist(c, pid, walk)
    again = matching.add_to_shortlist(c, pid, walk)
    assert first == again and first.favourite is False and first.public
    matching.add_to_shortlist(c, pid, choir)
    assert matching.set_favourite(c, pid, choir, True).favourite is True
    assert matching.set_favourite(c, pid, choir, True).favourite is True
    assert [(e.name, e.favourite) for e in matching.shortlist(c, pid)] == [
        ("Kör för alla", True),
        ("Promenadgrupp Centrum", False),
    ]
    assert matching.add_to_shortlist(c, pid, choir).favourite is True  # adding again keeps the star
    flags = {s.service_id: (s.shortlisted, s.favourite) for s in matching.suggest(c, pid)}
    assert flags[walk] == (True, False) and flags[choir] == (True, True)
    assert matching.remove_from_shortlist(c, pid, walk) is True
    assert matching.remove_from_shortlist(c, pid, walk) is False
    assert [e.service_id for e in matching.shortlist(c, pid)] == [choir]
    assert matching.set_favourite(c, pid, walk, True).favourite is True  # a favourite is shortlisted
    with read_session() as s:
        assert s.scalar(select(func.count()).select_from(ShortlistItem)) == 2
    with pytest.raises(ValidationError):
        matching.add_to_shortlist(c, pid, mw.ids["pending"])  # not public
    with pytest.raises(ValidationError):
        matching.add_to_shortlist(c, pid, "1")
    actions = [e.action for e in audits("matching.shortlist_add")] + [
        e.action for e in audits("matching.favourite")
    ]
    assert len(actions) == 7  # 4 adds and 3 favourites; refused ones write nothing
    assert all(e.patient_pseudonym == "PTESTAAAA1" for e in audits("matching.shortlist_remove"))


def test_shortlist_document_in_danish_with_the_contact_person_escaped(mw):
    c = mw.p("connector")
    matching.add_to_shortlist(c, mw.danish, mw.ids["walk"])
    matching.set_favourite(c, mw.danish, mw.ids["choir"], True)
    matching.add_to_shortlist(c, mw.danish, mw.ids["online"])
    name, html = matching.shortlist_document(c, mw.danish)
    assert name == f"lotsa-PTESTDDDD1-{TODAY.isoformat()}.html"
    assert html.startswith("<!DOCTYPE html>") and '<html lang="da">' in html
    for key in ("title", "when", "where", "contact", "phone", "cost"):
        assert translate(f"matching.doc_{key}", "da") in html
    assert "Anna &quot;Ankan&quot; &lt;Andersson&gt;, Samordnare" in html
    assert "<Andersson>" not in html
    assert "040-12 34 56" in html and "mailto:anna@example.org" in html
    assert "Tirsdage 10.00–11.30" in html  # the schedule as the activity page renders it, in Danish
    assert "Terminsavgift · 200 SEK" in html
    assert "https://example.org/video?a=1&amp;b=&lt;2&gt;" in html
    assert html.index("Kör för alla") < html.index("Promenadgrupp Centrum")  # favourite first
    assert "<script" not in html
    (event,) = audits("matching.shortlist_document")
    assert event.patient_pseudonym == "PTESTDDDD1" and "lang=da" in event.detail
    # A Swedish-speaking patient gets Swedish, whatever the user's language.
    matching.add_to_shortlist(c, mw.patient, mw.ids["walk"])
    _, swedish = matching.shortlist_document(replace(c, language="en"), mw.patient)
    assert '<html lang="sv">' in swedish and translate("matching.doc_contact", "sv") in swedish


def test_document_falls_back_to_the_users_language(mw):
    with write_session() as s:
        s.get(Patient, mw.patient).preferred_language = "ar"
    _, html = matching.shortlist_document(replace(mw.p("connector"), language="en"), mw.patient)
    assert '<html lang="en">' in html and translate("matching.doc_empty", "en") in html


# --- Unmet needs ------------------------------------------------------------------------------------------


def test_unmet_need_is_recorded_without_identity_once_per_key(mw):
    c = mw.p("connector")
    rid = unmet.record_unmet_need(
        c,
        centre_id=mw.w.centre_a,
        need="grief",
        area=" Centrum ",
        days=["thu", "TU"],
        time_of_day="afternoon",
        age_group="65-79",
        sex="female",
        idempotency_key="k1",
    )
    again = unmet.record_unmet_need(c, centre_id=mw.w.centre_a, need="grief", idempotency_key="k1")
    assert again == rid
    with read_session() as s:
        rows = s.scalars(select(UnmetNeed)).all()
        assert len(rows) == 1
        row = rows[0]
        assert (row.need, row.area, row.days, row.time_of_day, row.age_group, row.sex) == (
            "grief",
            "Centrum",
            "TU,TH",
            "afternoon",
            "65-79",
            "female",
        )
        assert row.recorded_on == TODAY and row.municipality_id is not None
        assert not hasattr(row, "patient_id")
    (event,) = audits("unmet.record")
    assert event.patient_pseudonym is None and event.care_unit == "VC-A"


def test_unmet_need_is_validated_and_scoped(mw):
    c = mw.p("connector")
    with pytest.raises(ValidationError) as error:
        unmet.record_unmet_need(
            c,
            centre_id=mw.w.centre_a,
            need="happiness",
            days="XX",
            time_of_day="night",
            age_group="old",
            sex="x",
        )
    assert set(error.value.fields) == {"need", "days", "time_of_day", "age_group", "sex"}
    with pytest.raises(ValidationError):
        unmet.record_unmet_need(c, centre_id=mw.w.centre_a, need="grief", area="x" * 121)
    for role, centre in (
        ("connector", mw.w.centre_b),
        ("partner", mw.w.centre_a),
        ("manager", mw.w.centre_a),
    ):
        with pytest.raises(AccessDenied):
            unmet.record_unmet_need(mw.p(role), centre_id=centre, need="grief")
    assert len(audits("unmet.record", "denied")) == 3
    with read_session() as s:
        assert s.scalar(select(func.count()).select_from(UnmetNeed)) == 0


# --- The page ----------------------------------------------------------------------------------------------


def page(mw: MatchWorld, role: str = "connector", **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    principal = mw.p(role)
    now = time.time()
    at.session_state["auth_user_id"] = principal.user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page("app_pages/matching.py")
    return at.run()


def texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.title, *at.header, *at.subheader, *at.markdown, *at.caption)]
    parts += [e.value for e in (*at.error, *at.warning, *at.info, *at.success)]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_page_shows_suggestions_with_reasons_and_shortlists(mw):
    at = page(mw, patient=str(mw.patient))
    assert not at.exception, at.exception
    shown = texts(at)
    assert translate("matching.title", "sv", pseudonym="PTESTAAAA1") in shown
    assert "Promenadgrupp Centrum" in shown and "Fullt gäng" not in shown and "Långt bort" not in shown
    assert (
        "Promenader · intresse: promenad · Tisdagar · 0,6 km · gratis · Svenska" not in shown
    )  # day lower-case
    assert "Promenader · intresse: promenad · tisdagar · 0,6 km · gratis · Svenska" in shown
    assert translate("matching.places", "sv", n=5) in shown
    at.button(key=f"match{mw.patient}_keep_{mw.ids['walk']}").click().run()
    assert not at.exception, at.exception
    assert [e.name for e in matching.shortlist(mw.p("connector"), mw.patient)] == ["Promenadgrupp Centrum"]
    assert translate("matching.shortlist_title", "sv", n=1) in texts(at)
    at.button(key=f"match{mw.patient}_sfav_{mw.ids['walk']}").click().run()
    assert matching.shortlist(mw.p("connector"), mw.patient)[0].favourite is True
    at.button(key=f"match{mw.patient}_srm_{mw.ids['walk']}").click().run()
    assert matching.shortlist(mw.p("connector"), mw.patient) == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_page_without_a_patient_or_for_another_centre(mw):
    at = page(mw)
    assert not at.exception and translate("matching.no_patient", "sv") in texts(at)
    at = page(mw, patient=str(mw.other_patient))
    assert not at.exception and translate("error.access_denied", "sv") in texts(at)
    assert "PTESTBBBB1" not in texts(at)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_page_records_an_unmet_need_when_nothing_fits(mw):
    at = page(mw, patient=str(mw.patient))
    P = f"match{mw.patient}_"
    at.selectbox(key=P + "mode").set_value("in_person").run()
    at.pills(key=P + "tod").set_value(["morning"]).run()
    at.pills(key=P + "days").set_value(["SU"]).run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert translate("matching.empty", "sv") in shown
    U = P + "u_SU_morning_"
    assert at.selectbox(key=U + "age").value == "65-79"  # prefilled from the patient
    assert at.selectbox(key=U + "tod").value == "morning"  # and from the filter
    assert at.multiselect(key=U + "days").value == ["SU"]
    at.selectbox(key=U + "need").set_value("grief")
    at.text_input(key=U + "area").set_value("Centrum")
    at.button(key=f"FormSubmitter:{P}unmet_form-{translate('matching.unmet_save', 'sv')}").click().run()
    assert not at.exception, at.exception
    assert translate("matching.unmet_saved", "sv") in texts(at)
    with read_session() as s:
        row = s.scalars(select(UnmetNeed)).one()
    assert (row.need, row.age_group, row.time_of_day, row.days, row.area) == (
        "grief",
        "65-79",
        "morning",
        "SU",
        "Centrum",
    )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_refer_creates_exactly_one_referral_in_one_click(mw):
    at = page(mw, patient=str(mw.patient))
    key = f"match{mw.patient}_refer_{mw.ids['walk']}"
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert translate("matching.refer_done", "sv") in shown
    assert "040-12 34 56" in shown and "anna@example.org" in shown
    at.run()  # a rerun (or a second click) does not refer again
    with read_session() as s:
        rows = s.scalars(select(Referral)).all()
    assert [(r.patient_id, r.service_id) for r in rows] == [(mw.patient, mw.ids["walk"])]
    assert at.button(key=key).disabled
    links = [str(e.proto) for e in at.get("page_link")]
    assert any("referral" in link for link in links), links
    # Another session (the next day, another connector of the centre) sees it as referred too.
    later = page(mw, patient=str(mw.patient))
    assert later.button(key=key).disabled
    assert later.button(key=key).label == translate("matching.referred", "sv")
    assert not later.button(key=f"match{mw.patient}_refer_{mw.ids['choir']}").disabled
