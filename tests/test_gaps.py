"""Gap analysis on a planted world: needs against supply with hand-counted cells, suppression of
small counts, a finding that appears exactly at k and not below, map circles only from k, and the
scope rules (manager by centres, partner only as a municipality, denials audited); AppTest pages."""

from __future__ import annotations

import time
from datetime import date
from datetime import time as clock
from pathlib import Path

import pytest
import streamlit as st
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.engine import read_session, write_session
from db.models import (
    Attribute,
    AuditEvent,
    Location,
    Organization,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceCapacity,
    TaxonomyTerm,
    UnmetNeed,
)
from locales import translate
from services import gaps as g
from services.auth import principal_for
from services.errors import AccessDenied
from tests.factories import make_user, make_world


@pytest.fixture(autouse=True)
def _exact_counts(monkeypatch):
    """Hand-worked counts: the cell-key perturbation off here; tests/test_disclosure_attacks.py
    checks the gap analysis's published counts with it on."""
    monkeypatch.setattr("domain.cellkey.MAX_PERTURBATION", 0)

START, END = date(2025, 1, 1), date(2025, 12, 31)
ROOT = Path(__file__).resolve().parents[1]


def plant(world, *, grief: int = 7, lonely: int = 4) -> dict:
    """In municipality 1 (centre A's): one walking activity (Monday 10:00, 4 free places) and one
    choir (Wednesday 18:00); `grief` unmet needs for grief (Rosengård, afternoon, men 65-79), with
    no grief group anywhere; `lonely` unmet needs for loneliness (Limhamn, evening). One more grief
    need outside the period. A municipality organisation and its partner user."""
    with write_session() as s:
        centre_muni = world.principals["manager"]  # noqa: F841 (readability)
        from db.models import HealthCentre

        m1 = s.get(HealthCentre, world.centre_a).municipality_id
        terms = {}
        for code in ("walking", "choir", "grief_group"):
            term = TaxonomyTerm(taxonomy="category", code=code, name_sv=code, name_da=code, name_en=code)
            s.add(term)
            s.flush()
            terms[code] = term.id
        for name, cat, day, opens, free in (
            ("Walk", "walking", "MO", clock(10), 4),
            ("Choir", "choir", "WE", clock(18), None),
        ):
            svc = Service(organization_id=world.org, name=name, municipality_id=m1)
            s.add(svc)
            s.flush()
            s.add(Attribute(service_id=svc.id, taxonomy_term_id=terms[cat]))
            s.add(Schedule(service_id=svc.id, freq="WEEKLY", byday=day, opens_at=opens, closes_at=clock(21)))
            loc = Location(organization_id=world.org, latitude=55.6, longitude=13.0, municipality_id=m1)
            s.add(loc)
            s.flush()
            s.add(ServiceAtLocation(service_id=svc.id, location_id=loc.id))
            if free is not None:
                s.add(ServiceCapacity(service_id=svc.id, available=free))
        rows = [("grief", "Rosengård", "afternoon", "65-79", "male", date(2025, 5, 1))] * grief
        rows += [("loneliness", "Limhamn", "evening", None, None, date(2025, 6, 1))] * lonely
        rows += [("grief", "Rosengård", "afternoon", "65-79", "male", date(2024, 5, 1))]
        for need, area, tod, age, sex, on in rows:
            s.add(
                UnmetNeed(
                    centre_id=world.centre_a,
                    municipality_id=m1,
                    need=need,
                    area=area,
                    time_of_day=tod,
                    age_group=age,
                    sex=sex,
                    recorded_on=on,
                )
            )
        muni_org = Organization(name="Malmö stad", kind="municipality", municipality_id=m1)
        s.add(muni_org)
        s.flush()
        user = make_user(s, "t-muni", "partner", orgs=[muni_org.id])
        return {"municipality_partner": principal_for(s, user), "m1": m1}


@pytest.fixture
def world(db_url):
    return make_world()


def test_needs_against_supply_by_hand(world):
    plant(world)
    view = g.gaps(world.principals["manager"], START, END)
    assert view.available and view.municipalities == ("Malmö",)
    rows = {r.need: r for r in view.need_rows}
    assert set(rows) == {"grief", "loneliness"}
    # grief 7 and loneliness 4 with the total 11 published: 4 is hidden, so 7 is hidden too.
    assert rows["loneliness"].unmet == "<5"
    assert rows["grief"].unmet == "*"
    assert view.unmet_total == "11"
    assert rows["grief"].activities == 0 and rows["grief"].free_places == 0
    assert rows["loneliness"].activities == 2  # walking and choir both meet loneliness
    assert rows["loneliness"].free_places == 4
    when = {(r.kind, r.code): r for r in view.when_rows}
    assert when[("day", "MO")].activities == 1 and when[("day", "WE")].activities == 1
    assert when[("day", "TU")].activities == 0
    assert when[("time", "morning")].activities == 1 and when[("time", "evening")].activities == 1
    assert when[("time", "afternoon")].unmet == "7"
    assert when[("time", "evening")].unmet == "<5"
    areas = {(r.municipality, r.area): r for r in view.area_rows}
    assert areas[("Malmö", "")].activities == 2 and areas[("Malmö", "")].unmet == "11"
    # map: Rosengård's 7 drawn, Limhamn's 4 not
    assert [(p["name"], p["count"]) for p in view.need_points] == [("Rosengård", 7)]
    assert len(view.activity_points) == 2 and not view.activity_cells
    # nothing shown as a count of 1..4
    shown = [r.unmet for r in view.need_rows] + [r.referrals for r in view.need_rows]
    shown += [r.unmet for r in view.when_rows] + [r.unmet for r in view.area_rows]
    assert not [x for x in shown if x.isdigit() and 0 < int(x) < 5]


@pytest.mark.parametrize(("n", "found"), [(4, False), (5, True), (7, True)])
def test_finding_appears_exactly_from_k(world, n, found):
    plant(world, grief=n, lonely=0)
    view = g.gaps(world.principals["manager"], START, END)
    grief = [f for f in view.findings if f.need == "grief"]
    if not found:
        assert grief == []
        return
    (f,) = grief
    assert (f.area, f.municipality, f.time_of_day, f.age_group, f.sex, f.count, f.supply) == (
        "Rosengård",
        "Malmö",
        "afternoon",
        "65-79",
        "male",
        n,
        0,
    )


def test_finding_counts_supply_at_that_time(world):
    plant(world, grief=0, lonely=6)
    (f,) = g.gaps(world.principals["manager"], START, END).findings
    assert (f.need, f.count, f.supply) == ("loneliness", 6, 1)  # only the choir is in the evening


def test_partner_scope(world):
    extra = plant(world)
    view = g.gaps(extra["municipality_partner"], START, END)
    assert view.available and view.municipalities == ("Malmö",)
    ngo = g.gaps(world.principals["partner"], START, END)
    assert not ngo.available and ngo.need_rows == () and ngo.findings == ()
    with read_session() as s:
        denied = s.exec(
            select(AuditEvent).where(AuditEvent.username == "t-partner", AuditEvent.outcome == "denied")
        ).all()
    assert [e.action for e in denied] == [g.ACTION]
    with pytest.raises(AccessDenied):
        g.gaps(extra["municipality_partner"], START, END, centre_ids=(world.centre_a,))


def test_manager_and_role_denials(world):
    plant(world)
    with pytest.raises(AccessDenied):
        g.gaps(world.principals["manager"], START, END, centre_ids=(world.centre_b,))
    with pytest.raises(AccessDenied):
        g.gaps(world.principals["connector"], START, END)
    with read_session() as s:
        denied = {
            (e.username, e.action) for e in s.exec(select(AuditEvent).where(AuditEvent.outcome == "denied"))
        }
    assert {("t-manager", g.ACTION), ("t-connector", g.ACTION)} <= denied


# Pages -----------------------------------------------------------------------------------------


@pytest.fixture
def page_world(sqlite_url):
    st.cache_data.clear()
    st.cache_resource.clear()
    w = make_world()
    w.extra = plant(w)
    return w


def _run(principal) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    now = time.time()
    at.session_state["auth_user_id"] = principal.user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    at.session_state["period_from"] = START
    at.switch_page("app_pages/gaps.py")
    at.query_params["from"] = START.isoformat()
    at.query_params["to"] = END.isoformat()
    return at.run()


def test_page_manager(page_world):
    at = _run(page_world.principals["manager"])
    assert not at.exception, at.exception
    text = "\n".join(m.value for m in at.markdown)
    assert "Rosengård" in text and ": 7 " in text
    assert len(at.get("plotly_chart")) == 1
    assert len(at.get("deck_gl_json_chart")) == 1


def test_page_partner_not_municipality(page_world):
    at = _run(page_world.principals["partner"])
    assert not at.exception
    assert [i.value for i in at.info] == [translate("gaps.not_municipality", "sv")]
    assert not at.get("deck_gl_json_chart")


def test_page_municipality_partner(page_world):
    at = _run(page_world.extra["municipality_partner"])
    assert not at.exception, at.exception
    assert len(at.get("deck_gl_json_chart")) == 1
