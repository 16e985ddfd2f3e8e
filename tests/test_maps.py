"""The directory maps: an offline base map served once as a static file, an optional tile server,
one dot per place with every matching activity reachable, and rings that fit the map."""

from __future__ import annotations

import itertools
import json
import math
import tomllib
from pathlib import Path
from urllib.parse import unquote

import pytest

from components import maps

ROOT = Path(__file__).resolve().parents[1]
BASEMAP = ROOT / "static" / maps.BASEMAP_URL.removeprefix("app/static/")


def _on_land(lat: float, lon: float) -> bool:
    """Even-odd point-in-polygon over the base map's land polygons."""
    inside = False
    for feature in json.loads(BASEMAP.read_text(encoding="utf-8"))["features"]:
        if feature["properties"]["k"] != "land":
            continue
        ring = feature["geometry"]["coordinates"][0]
        for (x1, y1), (x2, y2) in itertools.pairwise(ring):
            if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


def _layers(deck) -> dict[str, dict]:
    return {layer["id"]: layer for layer in json.loads(deck.to_json())["layers"]}


def _points(n: int, *, same_place: int = 0) -> list[dict]:
    points = [
        {
            "id": i,
            "lat": 55.55 + i * 0.003,
            "lon": 12.95 + i * 0.002,
            "cat": "walking",
            "name": f"A{i}",
            "org": "O",
        }
        for i in range(n)
    ]
    for i in range(same_place):
        points[i].update(lat=55.6, lon=13.0)
    return points


def test_the_base_map_is_bundled_small_and_right():
    assert BASEMAP.is_file()
    assert BASEMAP.stat().st_size < 400_000
    for lat, lon in [(55.70, 13.19), (55.62, 12.30), (59.33, 18.06), (57.40, 18.50), (56.05, 12.70)]:
        assert _on_land(lat, lon), (lat, lon)  # Lund, Zealand, Stockholm, Gotland, Helsingborg
    for lat, lon in [(56.80, 11.50), (55.30, 15.50), (58.00, 20.00)]:
        assert not _on_land(lat, lon), (lat, lon)  # Kattegat, the Baltic
    kinds = {f["properties"]["k"] for f in json.loads(BASEMAP.read_text())["features"]}
    assert kinds == {"land", "lake", "country", "region"}


def test_streamlit_serves_the_static_folder():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["enableStaticServing"] is True
    assert maps.BASEMAP_URL.startswith("app/static/")


def test_every_map_draws_the_offline_base_map_by_address_not_inline(monkeypatch):
    monkeypatch.delenv("LOTSA_MAP_TILE_URL", raising=False)
    for deck in (
        maps.activities_deck(_points(300)),
        maps.cells_deck([{"lat": 55.6, "lon": 13.0, "count": 40}], cell_km=5),
        maps.place_deck(55.6, 13.0, "Place"),
    ):
        layers = _layers(deck)
        assert layers["basemap"]["data"] == maps.BASEMAP_URL
        assert json.loads(deck.to_json())["mapStyle"] == maps.NO_BASEMAP  # nothing from the internet
        assert list(layers)[:2] == ["basemap-sea", "basemap"]  # under everything else
    # Three hundred places stay small on every rerun: the base map is not in the payload.
    assert maps.payload_bytes(maps.activities_deck(_points(300))) < 60_000


def test_a_configured_tile_server_replaces_the_bundled_map(monkeypatch):
    monkeypatch.setenv("LOTSA_MAP_TILE_URL", "https://tiles.example.se/{z}/{x}/{y}.png")
    spec = json.loads(maps.activities_deck(_points(3)).to_json())
    assert "basemap" not in {layer["id"] for layer in spec["layers"]}
    prefix = "data:application/json;charset=utf-8,"
    assert spec["mapStyle"].startswith(prefix)
    style = json.loads(unquote(spec["mapStyle"].removeprefix(prefix)))
    assert style["sources"]["tiles"]["tiles"] == ["https://tiles.example.se/{z}/{x}/{y}.png"]


def test_activities_at_one_place_are_one_dot_with_a_count_and_all_ids():
    rows = maps.group_by_place(_points(5, same_place=3))
    assert len(rows) == 3
    shared = next(r for r in rows if "ids" in r)
    assert shared["ids"] == [0, 1, 2] and shared["n"] == 3
    assert shared["name"] == "3 aktiviteter på platsen"
    assert "A0" in shared["org"] and "A2" in shared["org"]


def test_every_matching_activity_is_on_the_map():
    points = _points(40, same_place=6)
    layers = _layers(maps.activities_deck(points))
    ids = set()
    for layer_id, layer in layers.items():
        if layer_id.startswith(maps.ACTIVITY_LAYER + "-"):
            for row in layer["data"]:
                ids |= set(row.get("ids", [row["id"]]))
    assert ids == {p["id"] for p in points}
    assert layers["place-counts"]["data"] == [{"lat": 55.6, "lon": 13.0, "text": "6"}]


def test_a_click_on_a_shared_place_gives_all_its_activities():
    state = {"selection": {"objects": {"activities-walking": [{"id": 4, "ids": [4, 9]}]}}}
    assert maps.selected_activities(state) == [4, 9]
    assert maps.selected_activities({"selection": {"objects": {"activities-x": [{"id": 7}]}}}) == [7]
    assert maps.selected_activities({"selection": {"objects": {"centres": [{"name": "VC"}]}}}) == []
    assert maps.selected_activities(None) == []


@pytest.mark.parametrize("km", [1.0, 5.0, 10.0, 25.0])
def test_the_largest_ring_fits_the_map(km):
    centre = (55.6, 13.0)
    view = json.loads(maps.activities_deck(_points(3), chosen_centre=centre, rings_km=(1.0, km)).to_json())[
        "initialViewState"
    ]
    assert view["latitude"] == centre[0]
    metres_per_pixel = 2 * math.pi * 6_378_137 * math.cos(math.radians(centre[0])) / (512 * 2 ** view["zoom"])
    radius_px = km * 1000 / metres_per_pixel
    assert radius_px <= 560 / 2 - 20  # the whole ring and its label are inside the map's height
    assert radius_px >= 560 / 6  # and it is not a speck


def test_ring_labels_follow_the_language():
    layers = _layers(maps.activities_deck(_points(2), chosen_centre=(55.6, 13.0), rings_km=(1.0, 2.5)))
    assert [label["text"] for label in layers["ring-labels"]["data"]] == ["1 km", "2,5 km"]


def test_an_impossible_coordinate_does_not_move_the_view_off_the_map():
    """An imported place at latitude 100 (the official HSDS 3.0 example) left the directory map blank."""
    from components.maps import _view

    view = _view([(55.6, 13.0), (55.7, 13.1), (100.0, 101.0)], None, height=560)
    assert 55.6 <= view.latitude <= 55.7 and 13.0 <= view.longitude <= 13.1


def test_only_drawable_positions_are_on_the_map():
    from components.maps import on_map

    assert on_map(55.6, 13.0) and on_map(-33.9, 151.2)
    assert not on_map(100.0, 101.0) and not on_map(55.6, 190.0) and not on_map(None, 13.0)
