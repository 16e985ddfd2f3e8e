"""The directory in a real browser: a visitor and a connector search, filter, open an activity from
the list and from the map, with screenshots under artifacts/screenshots/directory-*.png.

Uses the shared demo server and Chromium of tests/e2e/conftest.py (no `playwright install`).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import shown as wait_shown

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
VIEWPORT = {"width": 1400, "height": 1000}


@pytest.fixture
def page(chromium, lotsa_server):
    """A fresh session (the shared demo server from conftest.py) that records every request."""
    context = chromium.new_context(viewport=VIEWPORT, locale="sv-SE")
    context.set_default_timeout(30_000)
    pg = context.new_page()
    pg.requested = []
    pg.on("request", lambda request: pg.requested.append(request.url))
    yield pg
    context.close()


@pytest.fixture
def demo_server(lotsa_server):
    return lotsa_server.base_url, f"sqlite:///{lotsa_server.db_path}"


def settle(page) -> None:
    page.wait_for_timeout(400)
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=60_000)
    page.wait_for_timeout(300)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"directory-{name}.png"), full_page=True)


def count(page) -> int:
    text = page.get_by_role("heading", name=re.compile(r"^\d+ aktiviteter$")).first.inner_text()
    return int(text.split()[0])


def open_tab(page, label: str) -> None:
    page.get_by_role("tab", name=label).click()
    settle(page)


def test_visitor_searches_filters_and_opens_an_activity(demo_server, page):
    base, _ = demo_server
    page.goto(f"{base}/directory")
    settle(page)
    everything = count(page)
    assert everything > 200
    page.get_by_label("Sök", exact=True).fill("promenad")
    page.keyboard.press("Enter")
    settle(page)
    found = count(page)
    assert 0 < found < everything
    assert "q=promenad" in page.url
    page.get_by_text("Bara gratis").click()
    settle(page)
    assert count(page) <= found and "free=1" in page.url
    shot(page, "visitor-search")
    page.get_by_role("button", name="Öppna").first.click()
    settle(page)
    assert "/activity" in page.url and "id=" in page.url
    wait_shown(page.get_by_text("Kontaktperson").first)
    shot(page, "visitor-activity")
    page.get_by_text("Tillbaka till sökningen").click()
    settle(page)
    assert "q=promenad" in page.url and page.get_by_label("Sök", exact=True).input_value() == "promenad"
    open_tab(page, "Karta")
    # deck.gl is a lazily loaded chunk: the script can be done before the canvas exists.
    page.locator("[data-testid=stDeckGlJsonChart] canvas").first.wait_for(state="attached", timeout=30_000)
    shot(page, "visitor-map")
    assert not [u for u in page.requested if "cartocdn" in u or "mapbox" in u], "a basemap was requested"


def test_garbage_in_the_url_is_ignored(demo_server, page):
    base, _ = demo_server
    page.goto(f"{base}/directory?near=abc&km=-4&day=XX,TU&sort=drop&cat=%27%3B--")
    settle(page)
    assert page.locator("[data-testid=stException]").count() == 0
    assert count(page) > 0
    page.goto(f"{base}/activity?id=banana")
    settle(page)
    wait_shown(page.get_by_text("Aktiviteten finns inte"))


def _login(page, base: str, username: str) -> None:
    from settings import DEMO_PASSWORD

    page.goto(base)
    settle(page)
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    settle(page)


def _pixel(lat: float, lon: float, view_lat: float, view_lon: float, zoom: float, w: float, h: float):
    """Web Mercator: where deck.gl draws a point, relative to the canvas."""
    scale = 512 * 2**zoom / (2 * math.pi)

    def project(la, lo):
        return scale * math.radians(lo), scale * math.log(math.tan(math.pi / 4 + math.radians(la) / 2))

    x0, y0 = project(view_lat, view_lon)
    x, y = project(lat, lon)
    return w / 2 + (x - x0), h / 2 - (y - y0)


def test_connector_filters_near_their_centre_and_opens_from_the_list_and_the_map(
    demo_server, page, monkeypatch
):
    base, url = demo_server
    _login(page, base, "demo-connector")
    page.get_by_role("link", name="Hitta aktiviteter").click()
    settle(page)
    assert "centre=" in page.url and "sort=distance" in page.url
    page.get_by_text("Bara gratis").click()
    settle(page)
    page.get_by_role("button", name="Tisdag").click()
    settle(page)
    page.get_by_role("button", name="Eftermiddag").click()
    settle(page)
    assert "day=TU" in page.url and "tod=afternoon" in page.url
    shown = count(page)
    assert shown > 0
    shot(page, "connector-filtered")
    page.get_by_role("button", name="Öppna").first.click()
    settle(page)
    wait_shown(page.get_by_text("Kontaktperson").first)
    assert page.locator("a[href^='tel:']").count() >= 1
    shot(page, "connector-activity")
    page.get_by_text("Tillbaka till sökningen").click()
    settle(page)
    assert "day=TU" in page.url
    open_tab(page, "Karta")
    shot(page, "connector-map")

    # Click an activity dot: find one drawn well apart from the centre marker and other dots.
    monkeypatch.setenv("LOTSA_DB_URL", url)
    from services.directory import DirectoryFilter, facet_options, map_points

    flt = DirectoryFilter.from_query_params(dict(re.findall(r"[?&]([^=&]+)=([^&]*)", page.url)))
    data = map_points(flt)
    centre = facet_options("sv").centres[flt.centre_id]
    canvas = page.locator("[data-testid=stDeckGlJsonChart] canvas").first
    canvas.wait_for(state="attached", timeout=30_000)
    canvas.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)  # let deck.gl draw before aiming at a dot
    box = canvas.bounding_box()
    w, h = box["width"], box["height"]
    from components.maps import RINGS_KM, ring_zoom

    # The map zooms so that the largest ring around the centre fits (components/maps.py).
    largest = max({*RINGS_KM, *([flt.max_km] if flt.max_km else [])})
    zoom = min(12.5, ring_zoom(centre.latitude, largest, 560))
    spots = [
        (p, _pixel(p["lat"], p["lon"], centre.latitude, centre.longitude, zoom, w, h)) for p in data.points
    ]
    inside = [(p, xy) for p, xy in spots if 30 < xy[0] < w - 30 and 30 < xy[1] < h - 30]
    centre_xy = (box["width"] / 2, box["height"] / 2)
    lonely = [
        (p, xy)
        for p, xy in inside
        if math.dist(xy, centre_xy) > 25 and all(math.dist(xy, o) > 14 for q, o in inside if q is not p)
    ]
    assert lonely, "the demo data should draw at least one activity dot apart from the others"
    target, (x, y) = lonely[0]
    canvas.hover(position={"x": x, "y": y})
    page.wait_for_timeout(500)
    shot(page, "connector-map-tooltip")
    canvas.click(position={"x": x, "y": y})
    settle(page)
    for _ in range(40):  # client-side navigation: no load event to wait for
        if "/activity" in page.url:
            break
        page.wait_for_timeout(500)
    assert f"id={target['id']}" in page.url
    wait_shown(page.get_by_role("heading", name=target["name"]).first)
    shot(page, "connector-from-map")
