"""The public directory: every filter narrows to exactly the planted activities that must match, on
SQLite and Postgres; distance, paging, map aggregation and the week view; the URL form of a
search; and the directory and activity pages for every role and for visitors."""

from __future__ import annotations

import json
import math
import time as clock
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import streamlit as st
from hypothesis import given, settings
from hypothesis import strategies as hs
from sqlalchemy import inspect as sa_inspect
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.engine import write_session
from db.models import (
    Address,
    Attribute,
    Contact,
    HealthCentre,
    Location,
    Municipality,
    Phone,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceCapacity,
    TaxonomyTerm,
)
from locales import translate

pytest.importorskip("domain.schedules", reason="the directory needs domain.schedules (RRULE rendering)")

from services.directory import (
    ATTENDING,
    SORTS,
    STARTS,
    TIMES_OF_DAY,
    WEEKDAYS,
    DirectoryFilter,
    activity_detail,
    facet_options,
    map_points,
    search,
    timetable,
)
from services.errors import NotFound
from tests.factories import make_world

ROOT = Path(__file__).resolve().parents[1]
CENTRE = (55.6000, 13.0000)
TODAY = date(2026, 3, 2)  # a Monday
TERMS = {
    "category": ("walking", "choir", "language_cafe"),
    "target_group": ("seniors", "newly_arrived"),
    "accessibility": ("wheelchair", "hearing_loop"),
    "language": ("sv", "ar", "da"),
}


def offset(km_north: float = 0.0, km_east: float = 0.0) -> tuple[float, float]:
    lat = CENTRE[0] + km_north / 111.195
    return lat, CENTRE[1] + km_east / (111.195 * math.cos(math.radians(CENTRE[0])))


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


class Plant:
    """Plants activities that differ from a reference one (the acceptance match) in one way each."""

    def __init__(self, session, org_id: int, muni_id: int, terms: dict):
        self.s, self.org_id, self.muni_id, self.terms = session, org_id, muni_id, terms

    def __call__(
        self,
        name: str,
        *,
        point: tuple[float, float] | None = offset(1.5),
        byday: str | None = "TU",
        freq: str = "WEEKLY",
        opens: time | None = time(14, 0),
        closes: time | None = time(15, 30),
        terms: tuple = (("category", "walking"), ("language", "sv"), ("accessibility", "wheelchair")),
        available: int | None = 3,
        description: str = "Vi ses varje vecka.",
        org_id: int | None = None,
        muni_id: int | None = -1,
        assured_days: int | None = 10,
        **service,
    ) -> int:
        row = Service(
            organization_id=org_id or self.org_id,
            name=name,
            description=description,
            municipality_id=self.muni_id if muni_id == -1 else muni_id,
            assured_date=TODAY - timedelta(days=assured_days) if assured_days is not None else None,
            **service,
        )
        self.s.add(row)
        self.s.flush()
        if point is not None:
            place = Location(
                organization_id=row.organization_id,
                name=f"Lokal {name}",
                latitude=point[0],
                longitude=point[1],
            )
            self.s.add(place)
            self.s.flush()
            self.s.add(ServiceAtLocation(service_id=row.id, location_id=place.id))
            self.s.add(
                Address(
                    location_id=place.id,
                    address_1="Storgatan 1",
                    city="Malmö",
                    postal_code="211 11",
                    country="SE",
                )
            )
        if row.attending_type in ("online", "hybrid"):
            virtual = Location(location_type="virtual", name="Online", url=f"https://example.org/{row.id}")
            self.s.add(virtual)
            self.s.flush()
            self.s.add(ServiceAtLocation(service_id=row.id, location_id=virtual.id))
        self.s.add(
            Schedule(
                service_id=row.id,
                freq=freq,
                byday=byday,
                opens_at=opens,
                closes_at=closes,
                dtstart=TODAY - timedelta(days=60),
            )
        )
        for term in terms:
            self.s.add(Attribute(service_id=row.id, taxonomy_term_id=self.terms[term]))
        if available is not None:
            self.s.add(
                ServiceCapacity(
                    service_id=row.id,
                    available=available,
                    maximum=12,
                    updated=datetime(2026, 2, 20, 9, tzinfo=UTC),
                )
            )
        contact = Contact(service_id=row.id, name=f"Kontakt {name}", email="kontakt@example.org")
        self.s.add(contact)
        self.s.flush()
        self.s.add(Phone(contact_id=contact.id, service_id=row.id, number="+46 40 123 45 67"))
        self.s.flush()
        return row.id


REFERENCE = "Target"
PLANTED = {
    # name: (overrides, filters it must fail)
    "Target": ({}, ()),
    "Paid": ({"is_free": False}, ("free",)),
    "Morning": ({"opens": time(10, 0), "closes": time(11, 0)}, ("afternoon",)),
    "Evening": ({"opens": time(18, 0), "closes": time(19, 0)}, ("afternoon",)),
    "Wednesday": ({"byday": "WE"}, ("tuesday",)),
    "Far": ({"point": offset(2.2, 1.0)}, ("2km",)),
    "Arabic": (
        {"terms": (("category", "walking"), ("language", "ar"), ("accessibility", "wheelchair"))},
        ("swedish",),
    ),
    "Stairs": ({"terms": (("category", "choir"), ("language", "sv"))}, ("wheelchair",)),
}
HIDDEN = {
    "Inactive": {"status": "inactive"},
    "Pending": {"approval_status": "pending"},
}


@pytest.fixture
def world(db_url):
    return build_world()


def build_world():
    """The reference world: a centre, the acceptance match and its near misses, hidden ones."""
    st.cache_data.clear()
    st.cache_resource.clear()
    w = make_world()
    with write_session() as s:
        centre = s.get(HealthCentre, w.centre_a)
        centre.latitude, centre.longitude = CENTRE
        muni = s.exec(select(Municipality).order_by(Municipality.id)).first()
        terms = {}
        for taxonomy, codes in TERMS.items():
            for code in codes:
                term = TaxonomyTerm(
                    taxonomy=taxonomy,
                    code=code,
                    name_sv=f"{code} sv",
                    name_da=f"{code} da",
                    name_en=f"{code} en",
                )
                s.add(term)
                s.flush()
                terms[(taxonomy, code)] = term.id
        plant = Plant(s, w.org, muni.id, terms)
        ids = {name: plant(name, **overrides) for name, (overrides, _) in PLANTED.items()}
        for name, overrides in HIDDEN.items():
            ids[name] = plant(name, **overrides)
        ids["Online course"] = plant(
            "Online course",
            point=None,
            freq="DAILY",
            byday=None,
            opens=None,
            closes=None,
            attending_type="online",
            rolling_start=True,
            available=None,
            muni_id=None,
            terms=(("category", "language_cafe"), ("language", "sv"), ("language", "ar")),
        )
        ids["Kör för seniorer"] = plant(
            "Kör för seniorer",
            point=offset(-0.5, 0.5),
            byday="MO,TH",
            opens=time(18, 30),
            closes=time(20, 0),
            terms=(
                ("category", "choir"),
                ("target_group", "seniors"),
                ("language", "sv"),
                ("accessibility", "hearing_loop"),
            ),
            description="Vi sjunger ÅLDRANDE sånger",
            org_id=w.other_org,
            is_free=False,
            available=0,
            assured_days=200,
        )
        ids["Diabetesskola"] = plant(
            "Diabetesskola",
            point=offset(0.2),
            byday="WE",
            start_date=TODAY + timedelta(days=9),
            terms=(("category", "walking"),),
        )
    w.ids = ids
    return w


def names(flt: DirectoryFilter, **kwargs) -> set[str]:
    rows, total = search(flt, page_size=200, today=TODAY, **kwargs)
    assert total == len(rows)
    return {r.name for r in rows}


PUBLIC_NAMES = {*PLANTED, "Online course", "Kör för seniorer", "Diabetesskola"}


def acceptance(world) -> DirectoryFilter:
    return DirectoryFilter(
        free_only=True,
        weekdays=("TU",),
        times_of_day=("afternoon",),
        centre_id=world.centre_a,
        max_km=2.0,
        languages=("sv",),
        accessibility=("wheelchair",),
    )


def test_acceptance_search_finds_exactly_the_planted_match(world):
    """'A free activity on Tuesday afternoons within 2 km of their centre, in Swedish, wheelchair
    accessible' -- each planted near-miss fails exactly one of these conditions."""
    assert names(acceptance(world)) == {REFERENCE}


@pytest.mark.parametrize(
    "drop",
    ["free", "tuesday", "afternoon", "2km", "swedish", "wheelchair"],
)
def test_dropping_one_condition_lets_in_exactly_its_near_misses(world, drop):
    flt = acceptance(world)
    flt = {
        "free": replace(flt, free_only=False),
        "tuesday": replace(flt, weekdays=()),
        "afternoon": replace(flt, times_of_day=()),
        "2km": replace(flt, max_km=None),
        "swedish": replace(flt, languages=()),
        "wheelchair": replace(flt, accessibility=()),
    }[drop]
    expected = {REFERENCE} | {name for name, (_, fails) in PLANTED.items() if fails == (drop,)}
    assert names(flt) == expected


def test_empty_filter_shows_every_public_activity_and_never_inactive_or_pending(world):
    assert names(DirectoryFilter()) == PUBLIC_NAMES


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"categories": ("choir",)}, {"Stairs", "Kör för seniorer"}),
        ({"categories": ("choir", "language_cafe")}, {"Stairs", "Kör för seniorer", "Online course"}),
        ({"target_groups": ("seniors",)}, {"Kör för seniorer"}),
        ({"languages": ("ar",)}, {"Arabic", "Online course"}),
        ({"accessibility": ("wheelchair", "hearing_loop")}, set()),
        ({"accessibility": ("hearing_loop",)}, {"Kör för seniorer"}),
        ({"attending": ("online",)}, {"Online course"}),
        ({"attending": ("in_person", "hybrid")}, PUBLIC_NAMES - {"Online course"}),
        ({"start": "rolling"}, {"Online course"}),
        ({"start": "fixed"}, {"Diabetesskola"}),
        ({"has_free_places": True}, PUBLIC_NAMES - {"Online course", "Kör för seniorer"}),
        ({"weekdays": ("TH",)}, {"Kör för seniorer", "Online course"}),
        ({"weekdays": ("MO",), "times_of_day": ("evening",)}, {"Kör för seniorer"}),
        ({"times_of_day": ("morning",)}, {"Morning"}),
        ({"times_of_day": ("morning", "evening")}, {"Morning", "Evening", "Kör för seniorer"}),
        ({"text": "kör"}, {"Kör för seniorer"}),
        ({"text": "KÖR"}, {"Kör för seniorer"}),
        ({"text": "åldrande"}, {"Kör för seniorer"}),  # description, Nordic letters in another case
        ({"text": "språkcaféet"}, {"Kör för seniorer"}),  # the other organisation's name
        ({"text": "vecka Wednesday"}, {"Wednesday"}),  # every word must match somewhere
        ({"text": "%"}, set()),  # LIKE wildcards are literal
        ({"text": "_"}, set()),
    ],
)
def test_each_filter_narrows_to_the_activities_that_match(world, kwargs, expected):
    assert names(DirectoryFilter(**kwargs)) == expected


def test_municipality_filter(world):
    muni = next(k for k, v in facet_options("sv").municipalities.items() if v == "Malmö")
    assert names(DirectoryFilter(municipality_ids=(muni,))) == PUBLIC_NAMES - {"Online course"}
    assert names(DirectoryFilter(municipality_ids=(999_999,))) == set()


def test_distance_sort_orders_by_distance_with_online_last(world):
    rows, _ = search(DirectoryFilter(centre_id=world.centre_a, sort="distance"), page_size=200, today=TODAY)
    distances = [r.distance_km for r in rows]
    located = [d for d in distances if d is not None]
    assert located == sorted(located)
    assert distances[-1] is None and rows[-1].name == "Online course"
    assert rows[0].name == "Diabetesskola"
    target = next(r for r in rows if r.name == REFERENCE)
    assert target.distance_km == pytest.approx(haversine_km(CENTRE, offset(1.5)), rel=0.01)


def test_max_km_uses_the_true_distance_not_just_the_box(world):
    # "Far" is 2.2 km north and 1 km east: inside a 2.5 km box, but 2.42 km away.
    assert "Far" not in names(DirectoryFilter(near=CENTRE, max_km=2.4))
    assert "Far" in names(DirectoryFilter(near=CENTRE, max_km=2.5))
    assert names(DirectoryFilter(near=offset(300), max_km=1)) == set()


def test_paging_is_disjoint_and_complete(world):
    flt = DirectoryFilter(sort="recently_verified")
    seen, total_seen = [], set()
    for page in range(4):
        rows, total = search(flt, page=page, page_size=3, today=TODAY)
        assert total == len(PUBLIC_NAMES)
        seen += [r.id for r in rows]
        total_seen.add(total)
    assert len(seen) == len(set(seen)) == len(PUBLIC_NAMES)
    assert search(flt, page=50, page_size=3, today=TODAY) == ([], len(PUBLIC_NAMES))


def test_rows_carry_what_the_list_shows(world):
    rows, _ = search(DirectoryFilter(text="Target", centre_id=world.centre_a), lang="en", today=TODAY)
    (row,) = rows
    assert row.organization == "Föreningen Gå Tillsammans"
    assert row.category == "walking en" and row.category_code == "walking"
    assert row.is_free and row.attending == "in_person"
    assert row.available == 3 and row.places_updated.tzinfo is not None
    assert row.days_since_verified == 10
    assert row.municipality == "Malmö"
    assert row.schedule_text
    assert row.distance_km == pytest.approx(1.5, rel=0.01)


def test_activity_detail_has_what_a_connector_needs(world):
    now = datetime(2026, 3, 2, 8, tzinfo=UTC)
    item = activity_detail(world.ids[REFERENCE], "sv", now=now)
    assert item.contact_name == "Kontakt Target" and item.contact_phones == ["+46 40 123 45 67"]
    assert item.contact_email == "kontakt@example.org"
    assert item.places[0].latitude == pytest.approx(offset(1.5)[0])
    assert item.places[0].address == "Storgatan 1, 211 11 Malmö"
    assert item.accessibility == ["wheelchair sv"] and item.languages == ["sv sv"]
    assert item.available == 3 and item.days_since_verified == (now.date() - TODAY).days + 10
    assert len(item.next_dates) == 5
    assert all(start.weekday() == 1 for start, _ in item.next_dates)
    assert item.next_dates[0][0] > now
    online = activity_detail(world.ids["Online course"], "sv", now=now)
    assert online.places == [] and online.online_urls == [f"https://example.org/{world.ids['Online course']}"]


def test_hidden_activities_exist_only_for_their_editors(world):
    for name in HIDDEN:
        sid = world.ids[name]
        for who in (None, world.principals["connector"]):
            with pytest.raises(NotFound):
                activity_detail(sid, "sv", principal=who)
        for who in ("partner", "manager", "admin"):
            assert activity_detail(sid, "sv", principal=world.principals[who]).public is False
    with pytest.raises(NotFound):
        activity_detail(10_000_000, "sv")


def test_map_points_switch_to_cells_above_the_limit(world):
    flt = DirectoryFilter()
    points = map_points(flt, limit=100, today=TODAY)
    assert points.mode == "points"
    assert points.total == len(PUBLIC_NAMES) - 1 and points.without_place == 1
    assert {p["id"] for p in points.points} == {world.ids[n] for n in PUBLIC_NAMES if n != "Online course"}
    by_id = {p["id"]: p for p in points.points}
    assert by_id[world.ids["Stairs"]]["cat"] == "choir"
    cells = map_points(flt, limit=3, today=TODAY, cell_deg=0.01)
    assert cells.mode == "cells" and cells.points == []
    assert 0 < len(cells.cells) <= 3
    assert sum(c["count"] for c in cells.cells) == points.total
    narrowed = map_points(DirectoryFilter(categories=("choir",)), limit=3, today=TODAY)
    assert narrowed.mode == "points" and len(narrowed.points) == 2


def test_timetable_places_sessions_on_their_days_and_caps(world):
    table = timetable(DirectoryFilter(free_only=True, text="Target"), TODAY + timedelta(days=2))
    assert table.week_start == TODAY
    by_day = {day: [e.name for e in entries] for day, entries in table.days}
    assert by_day[TODAY + timedelta(days=1)] == [REFERENCE]
    assert sum(len(v) for v in by_day.values()) == 1
    (entry,) = dict(table.days)[TODAY + timedelta(days=1)]
    assert (entry.start.hour, entry.start.minute) == (14, 0) and entry.end.hour == 15
    capped = timetable(DirectoryFilter(), TODAY, cap=2)
    assert capped.capped and capped.activities == 2 and capped.total == len(PUBLIC_NAMES)
    everything = timetable(DirectoryFilter(), TODAY)
    assert everything.anytime == [(world.ids["Online course"], "Online course")]


def test_facet_options_and_restrict_drop_unknown_values(world):
    options = facet_options("da")
    assert options.terms["category"]["walking"] == "walking da"
    assert world.centre_a in options.centres
    flt = DirectoryFilter(categories=("walking", "nonsense"), municipality_ids=(999,), centre_id=999)
    assert options.restrict(flt) == DirectoryFilter(categories=("walking",))


# --- The URL form ----------------------------------------------------------------------------------

codes = hs.from_regex(r"[a-z0-9_]{1,12}", fullmatch=True)
filters = hs.builds(
    DirectoryFilter,
    text=hs.text(max_size=60),
    categories=hs.lists(codes, max_size=4).map(tuple),
    target_groups=hs.lists(codes, max_size=3).map(tuple),
    weekdays=hs.lists(hs.sampled_from(WEEKDAYS), max_size=7).map(tuple),
    times_of_day=hs.lists(hs.sampled_from(TIMES_OF_DAY), max_size=3).map(tuple),
    attending=hs.lists(hs.sampled_from(ATTENDING), max_size=3).map(tuple),
    free_only=hs.booleans(),
    accessibility=hs.lists(codes, max_size=2).map(tuple),
    languages=hs.lists(codes, max_size=3).map(tuple),
    municipality_ids=hs.lists(hs.integers(1, 10**9), max_size=4).map(tuple),
    has_free_places=hs.booleans(),
    start=hs.sampled_from((None, *STARTS)),
    centre_id=hs.none() | hs.integers(1, 10**9),
    near=hs.none() | hs.tuples(hs.floats(-90, 90), hs.floats(-180, 180)),
    max_km=hs.none() | hs.floats(0.01, 500),
    sort=hs.sampled_from(SORTS),
)


@given(filters)
@settings(max_examples=300, deadline=None)
def test_to_and_from_query_params_is_identity(flt):
    params = flt.to_query_params()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
    assert DirectoryFilter.from_query_params(params) == flt


@given(
    hs.dictionaries(
        hs.text(max_size=8)
        | hs.sampled_from(
            ("q", "cat", "day", "near", "km", "muni", "centre", "sort", "start", "free", "tod", "att")
        ),
        hs.text() | hs.lists(hs.text(), max_size=3) | hs.integers() | hs.none(),
    )
)
@settings(max_examples=400, deadline=None)
def test_from_query_params_never_raises_on_garbage(params):
    flt = DirectoryFilter.from_query_params(params)
    assert isinstance(flt, DirectoryFilter)
    assert DirectoryFilter.from_query_params(flt.to_query_params()) == flt


@pytest.mark.parametrize(
    "params",
    [
        {"near": "nan,nan"},
        {"near": "91,10"},
        {"near": "1e999,0"},
        {"km": "-5"},
        {"km": "inf"},
        {"centre": "-3"},
        {"centre": "٣"},  # a non-ASCII digit
        {"muni": "1,x,,2,0"},
        {"day": "XX,TU,tu"},
        {"sort": "DROP TABLE"},
        {"cat": "walking,Walking,'; --"},
    ],
)
def test_invalid_url_values_are_ignored(params):
    flt = DirectoryFilter.from_query_params(params)
    assert flt.near is None and flt.max_km is None and flt.centre_id is None and flt.sort == "name"
    assert flt.municipality_ids in ((), (1, 2))
    assert flt.weekdays in ((), ("TU",))
    assert flt.categories in ((), ("walking",))


# --- Pages --------------------------------------------------------------------------------------------


def app(world, role: str | None = None, **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if role is not None:
        principal = world.principals[role]
        now = clock.time()
        at.session_state["auth_user_id"] = principal.user_id
        at.session_state["auth_login_at"] = now
        at.session_state["auth_last_seen"] = now
    for key, value in params.items():
        at.query_params[key] = value
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.title, *at.header, *at.subheader, *at.markdown, *at.caption)]
    parts += [e.value for e in (*at.error, *at.warning, *at.info, *at.success)]
    return "\n".join(str(p) for p in parts)


ROLES = (None, "connector", "manager", "partner", "admin")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", ROLES)
def test_directory_page_for_every_role_and_visitors(world, role):
    at = app(world, role, q="Target", free="1")
    at.switch_page("app_pages/directory.py")
    at.run()
    assert not at.exception, at.exception
    assert translate("directory.count", "sv", count=1) in texts(at)
    assert at.text_input(key="dir_q").value == "Target"
    assert at.toggle(key="dir_free").value is True
    assert translate("error.access_denied", "sv") not in texts(at)
    assert "Kontakt Target" not in texts(at)  # the list shows no contact details


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_connector_finds_the_acceptance_match_in_one_screen_and_opens_it(world):
    at = app(world, "connector")
    at.switch_page("app_pages/directory.py")
    at.run()
    # A connector starts near their own centre, sorted by distance.
    assert at.selectbox(key="dir_centre").value == world.centre_a
    assert at.query_params["centre"] == str(world.centre_a)
    at.toggle(key="dir_free").set_value(True).run()
    at.pills(key="dir_day").set_value(["TU"]).run()
    at.pills(key="dir_tod").set_value(["afternoon"]).run()
    at.select_slider(key="dir_km").set_value(2.0).run()
    at.pills(key="dir_acc").set_value(["wheelchair"]).run()
    at.multiselect(key="dir_langs").set_value(["sv"]).run()
    assert not at.exception
    assert translate("directory.count", "sv", count=1) in texts(at)
    assert at.query_params["day"] == "TU" and at.query_params["km"] == "2.0"
    at.button(key=f"open_{world.ids[REFERENCE]}").click().run()
    assert not at.exception
    assert at.title[0].value == REFERENCE
    assert "Kontakt Target" in texts(at) and "+46 40 123 45 67" in texts(at)
    assert at.query_params["id"] == str(world.ids[REFERENCE]) and at.query_params["day"] == "TU"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_empty_result_says_what_to_change(world):
    at = app(world, None, q="no such activity anywhere")
    at.switch_page("app_pages/directory.py")
    at.run()
    assert translate("directory.empty_filtered", "sv") in texts(at)
    next(b for b in at.button if b.label == translate("directory.clear_filters", "sv")).click().run()
    assert at.text_input(key="dir_q").value == ""
    assert translate("directory.count", "sv", count=len(PUBLIC_NAMES)) in texts(at)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", (None, "connector"))
def test_map_tab_draws_activities_without_an_internet_basemap(world, role):
    at = app(world, role, view="map", cat="choir")
    at.switch_page("app_pages/directory.py")
    at.run()
    assert not at.exception, at.exception
    (chart,) = at.get("deck_gl_json_chart")
    spec = json.loads(chart.proto.json)
    assert "\n" not in chart.proto.json  # compact: the JSON travels on every rerun
    assert spec.get("mapStyle") == "__MAP_STYLE__" and "mapProvider" not in spec
    assert "cartocdn" not in chart.proto.json and "mapbox" not in chart.proto.json
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert {"activities-choir", "centres", "place-names"} <= set(layers)
    assert [k for k in layers if k.startswith("activities")] == ["activities-choir"]
    assert {d["name"] for d in layers["activities-choir"]["data"]} == {"Stairs", "Kör för seniorer"}
    assert all(layer.get("id") for layer in spec["layers"])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_timetable_tab_renders(world):
    at = app(world, "connector", view="timetable", q="Target")
    at.switch_page("app_pages/directory.py")
    at.run()
    assert not at.exception, at.exception


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", ROLES)
def test_activity_page_for_every_role_and_visitors(world, role):
    at = app(world, role, id=str(world.ids[REFERENCE]), q="Target")
    at.switch_page("app_pages/activity.py")
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == REFERENCE
    shown = texts(at)
    assert "Kontakt Target" in shown and "kontakt@example.org" in shown
    assert translate("activity.verified", "sv", n=(date.today() - TODAY).days + 10) in shown or (
        translate("activity.verified_stale", "sv", n=(date.today() - TODAY).days + 10) in shown
    )
    assert len(at.get("deck_gl_json_chart")) == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("raw", ["", "abc", "-1", "99999999", "1e3", "٣", "1;DROP TABLE service"])
def test_activity_page_with_a_bad_id_says_so_and_links_back(world, raw):
    at = app(world, "connector", id=raw)
    at.switch_page("app_pages/activity.py")
    at.run()
    assert not at.exception, at.exception
    assert translate("activity.not_found", "sv") in texts(at)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_pending_activity_is_hidden_from_visitors_and_shown_to_its_partner(world):
    sid = str(world.ids["Pending"])
    at = app(world, None, id=sid)
    at.switch_page("app_pages/activity.py")
    at.run()
    assert translate("activity.not_found", "sv") in texts(at)
    at = app(world, "partner", id=sid)
    at.switch_page("app_pages/activity.py")
    at.run()
    assert at.title[0].value == "Pending"
    assert translate("activity.status_pending", "sv") in texts(at)


# --- Free-text search through the search index (issue 14, migration 0013) ---------------------------


def _text_total(text: str) -> int:
    return search.uncached(DirectoryFilter(text=text), page_size=200, today=TODAY)[1]


def _raw_service(org: int, name: str, description: str = "") -> int:
    from sqlalchemy import text as sql

    with write_session() as s:
        s.execute(
            sql(
                "INSERT INTO service (hsds_id, organization_id, name, description, status, attending_type, "
                "is_free, rolling_start, approval_status, created_at, updated_at) VALUES "
                "(:h, :o, :n, :d, 'active', 'in_person', true, false, 'approved', :t, :t)"
            ),
            {"h": f"fts-{name}"[:36], "o": org, "n": name, "d": description, "t": TODAY},
        )
        return s.execute(
            sql("SELECT id FROM service WHERE hsds_id = :h"), {"h": f"fts-{name}"[:36]}
        ).scalar_one()


def test_text_search_index_follows_every_write_to_activities_and_organisations(db_url):
    """Created, edited, renamed organisation, deleted: each write reaches the index (triggers), with
    prefix and inner-word matches, any case, Swedish and Danish letters."""
    from sqlalchemy import text as sql

    world = make_world()
    sid = _raw_service(world.org, "Promenad vid Ålsjön", "Vi går i skogen. Æblehaven efteråt.")
    for word, found in [
        ("prom", 1), ("PROMENAD", 1), ("menad", 1), ("ålsjön", 1), ("ÅLSJÖN", 1), ("ålSJÖn", 1),
        ("æblehaven", 1), ("ÆBLEHAVEN", 1), ("skogen.", 1), ("alsjon", 0), ("promenader", 0),
        ("vid ålsjön", 1), ("vid skidor", 0),
    ]:  # fmt: skip
        assert _text_total(word) == found, word
    with write_session() as s:
        s.execute(sql("UPDATE service SET name = 'Stavgång' WHERE id = :i"), {"i": sid})
    assert _text_total("promenad") == 0 and _text_total("stavg") == 1
    assert _text_total("skogen") == 1  # the description is still there
    assert _text_total("vandrere") == 0
    with write_session() as s:
        s.execute(sql("UPDATE organization SET name = 'Øresunds Vandrere' WHERE id = :o"), {"o": world.org})
    assert _text_total("øresund") == _text_total("ØRESUNDS") == _text_total("vandrere") >= 1
    assert _text_total("øresund stavgång") == 1
    with write_session() as s:
        s.execute(sql("DELETE FROM service WHERE id = :i"), {"i": sid})
    assert _text_total("stavgång") == 0


def _brute_force(url: str, word: str) -> int:
    """How many public activities hold `word` in name, description or organisation name, by Python."""
    from sqlalchemy import text as sql

    from db.engine import get_engine

    with get_engine(url).connect() as conn:
        rows = conn.execute(
            sql(
                "SELECT s.name, s.description, o.name FROM service s JOIN organization o "
                "ON o.id = s.organization_id WHERE s.status = 'active' AND s.approval_status = 'approved'"
            )
        ).all()
    return sum(any(word.lower() in (part or "").lower() for part in row) for row in rows)


def _brute_force_all(url: str, words: tuple[str, ...]) -> int:
    """Public activities holding every word somewhere in name, description or organisation name."""
    from sqlalchemy import text as sql

    from db.engine import get_engine

    with get_engine(url).connect() as conn:
        rows = conn.execute(
            sql(
                "SELECT s.name, s.description, o.name FROM service s JOIN organization o "
                "ON o.id = s.organization_id WHERE s.status = 'active' AND s.approval_status = 'approved'"
            )
        ).all()
    return sum(all(any(w.lower() in (part or "").lower() for part in row) for w in words) for row in rows)


@pytest.mark.parametrize("seed", ["demo", "synthetic"])
def test_text_search_on_seeded_data_finds_what_a_scan_finds(db_url, monkeypatch, seed):
    """Demo and synthetic data are written with the index in place (and the migration fills it for
    rows written before): every word finds the same activities as reading them all would."""
    if seed == "demo":
        from db.demo import seed_demo

        monkeypatch.setenv("LOTSA_DEMO", "1")
        seed_demo()
    else:
        from db.synthetic import generate

        generate("clinic", db_url)
    words = ["promenad", "prom", "kör", "KÖR", "språk", "café", "Malmö", "öv", "a", "ab", "zzzq"]
    checked = 0
    for word in words:
        expected = _brute_force(db_url, word)
        assert _text_total(word) == expected, word
        checked += expected > 0
    for search_text in ("prom a", "kör ÖV", "språk ab"):  # a short word next to a longer one
        long, short = search_text.split()
        both = _brute_force_all(db_url, (long, short))
        assert _text_total(search_text) == both, search_text
    assert checked >= 4  # the words really hit activities of this data


def test_text_search_index_follows_an_hsds_import_and_reimport(db_url):
    """An HSDS import writes activities in bulk; the index follows it, and a re-import that renames
    the activity replaces its old words."""
    import copy

    from domain.hsds import OFFICIAL_SCHEMA_DIR
    from services import hsds as hsds_io

    source = OFFICIAL_SCHEMA_DIR / "examples" / "service_full.json"
    if not source.is_file():
        pytest.skip(f"the official HSDS example is absent at {source}")
    example = json.loads(source.read_text(encoding="utf-8"))
    record = copy.deepcopy(example)
    record["name"] = "Qzxåkning för alla"
    report = hsds_io.import_json([record], url=db_url)
    assert report.ok, [str(e) for e in report.errors]
    assert _brute_force(db_url, "qzxå") == 1  # imported as a public activity
    assert _text_total("QZXÅKNING") == _text_total("qzxå") == 1
    org_word = example["organization"]["name"].split()[0]
    assert _text_total(org_word) == _brute_force(db_url, org_word)
    record["name"] = "Annat namn"
    assert hsds_io.import_json([record], url=db_url).ok
    assert _text_total("qzxå") == 0 and _text_total("annat namn") == _brute_force_all(
        db_url, ("annat", "namn")
    )


def test_text_search_without_the_index_falls_back_to_like(db_url):
    """A database stamped at 0013 while it was still an empty placeholder has no index: the search
    still answers (by LIKE, as before), rather than failing on a missing table."""
    from sqlalchemy import text as sql

    world = make_world()
    with write_session() as s:
        for trigger in ("service_search_ai", "service_search_au", "service_search_ad"):
            s.execute(
                sql(f"DROP TRIGGER IF EXISTS {trigger}" + ("" if "sqlite" in db_url else " ON service"))
            )
        s.execute(
            sql(
                "DROP TRIGGER IF EXISTS service_search_org_au"
                + ("" if "sqlite" in db_url else " ON organization")
            )
        )
        s.execute(sql("DROP TABLE service_search"))
    _raw_service(world.org, "Promenad vid Ålsjön")
    assert _text_total("prom") == _text_total("ålsjön") == 1 and _text_total("zzzq") == 0


def test_migration_0013_indexes_the_activities_already_there(db_url):
    """Upgrading a database with activities (0012 -> head) fills the index from them, and its
    downgrade removes the index and its triggers (writes then work without it)."""
    from sqlalchemy import text as sql

    from db.engine import dispose_all, get_engine
    from db.migrate import downgrade, upgrade

    world = make_world()
    dispose_all()
    downgrade(db_url, "0012")
    _raw_service(world.org, "Promenad före indexet")  # written with no triggers in place
    with get_engine(db_url).connect() as conn:
        assert not sa_inspect(conn).has_table("service_search")
    dispose_all()
    upgrade(db_url)
    key = "rowid" if db_url.startswith("sqlite") else "service_id"
    with get_engine(db_url).connect() as conn:
        indexed = conn.execute(
            sql(f"SELECT count(*) FROM service_search WHERE {key} IN (SELECT id FROM service)")
        )
        assert indexed.scalar_one() == conn.execute(sql("SELECT count(*) FROM service")).scalar_one() >= 1
    assert _text_total("före indexet") == 1 and _text_total("FÖRE") == 1


def test_text_search_takes_any_characters_literally(db_url):
    """FTS5 query syntax (quotes, *, ^, NEAR, AND/OR) and LIKE wildcards in a word are plain text."""
    world = make_world()
    _raw_service(world.org, 'Promenad "utomhus" (AND/OR) 50% rabatt_kod* ^start NEAR(x)', "a\\b")
    words = ['"utomhus"', '"utom', 'hus"', "(and/or)", "AND", "OR", "50%", "rabatt_kod*", "kod*"]
    words += ["^start", "^", "near(x)", "NEAR(", "*", '"', "\\", "a\\b", "%", "_", 'utomhus"x']
    for word in words:
        assert _text_total(word) == _brute_force(db_url, word), word
    assert _text_total('"utomhus" 50%') == 1
