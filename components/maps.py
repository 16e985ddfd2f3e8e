"""pydeck maps of the directory: activities coloured by category (one dot per place, with a count
where several activities meet), health centres, distance rings, and counts per grid cell when too
many activities match.

The base map works offline: land, lakes, country borders and län/regions from Natural Earth
(public domain), bundled as static/basemap/nordic.json and served by Streamlit's static file
serving, so the browser fetches it once and each rerun only sends its address. With
LOTSA_MAP_TILE_URL set, raster tiles from that server are drawn instead.

Streamlit draws a Carto basemap (from the internet) when `mapStyle` is missing or null; pydeck's
`"__MAP_STYLE__"` placeholder (with no map provider) is the one value that makes it draw none.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable
from urllib.parse import quote

import pydeck as pdk
import streamlit as st

from components.i18n import fmt_number, t, tn
from settings import get_settings

NO_BASEMAP = "__MAP_STYLE__"
# Relative to the page, served from static/ (server.enableStaticServing in .streamlit/config.toml).
BASEMAP_URL = "app/static/basemap/nordic.json"
BASEMAP_BOUNDS = (4.5, 53.8, 26.0, 69.5)  # west, south, east, north: see tools/build_basemap.py
SEA = (214, 228, 240)
LAND = (246, 245, 240)
BORDER = (120, 120, 120)
REGION_LINE = (185, 185, 185)
SAME_PLACE_DECIMALS = 4  # activities within about 10 m share one dot
# Paul Tol's colour-blind-safe "muted" scheme, then Okabe–Ito for the categories beyond nine.
PALETTE = (
    (51, 34, 136),
    (17, 119, 51),
    (68, 170, 153),
    (136, 204, 238),
    (221, 204, 119),
    (204, 102, 119),
    (170, 68, 153),
    (136, 34, 85),
    (153, 153, 51),
    (230, 159, 0),
    (0, 114, 178),
    (213, 94, 0),
)
CATEGORY_ORDER = (
    "walking",
    "exercise",
    "gardening",
    "language_cafe",
    "culture",
    "crafts",
    "choir",
    "grief_group",
    "diabetes_school",
    "meeting_place",
    "digital_course",
    "volunteering",
)
OTHER = (120, 120, 120)
CENTRE_FILL = (255, 255, 255)
CENTRE_LINE = (20, 20, 20)
RING_COLOUR = (90, 90, 90)
RINGS_KM = (1.0, 2.0, 5.0)
KM_PER_DEGREE = 111.195
TOOLTIP = {"text": "{name}\n{org}"}  # text, not html: activity names are user input
ACTIVITY_LAYER = "activities"  # one layer per category: "activities-walking", ...


class CompactDeck(pdk.Deck):
    """A Deck whose JSON has no indentation: Streamlit sends `to_json()` on every rerun, and
    pydeck's indented JSON nearly doubles the bytes of thousands of points."""

    def to_json(self) -> str:
        return json.dumps(json.loads(super().to_json()), separators=(",", ":"), ensure_ascii=False)


def base_layers() -> list[pdk.Layer]:
    """The offline base map: sea, land and lakes, borders; none when tiles are configured."""
    if get_settings().map_tile_url:
        return []
    west, south, east, north = BASEMAP_BOUNDS
    sea = pdk.Layer(
        "SolidPolygonLayer",
        id="basemap-sea",
        data=[{"polygon": [[west, south], [east, south], [east, north], [west, north]]}],
        get_polygon="polygon",
        get_fill_color=list(SEA),
        pickable=False,
    )
    land = pdk.Layer(
        "GeoJsonLayer",
        id="basemap",
        data=BASEMAP_URL,
        filled=True,
        stroked=True,
        get_fill_color=f"properties.k === 'land' ? {list(LAND)} : {list(SEA)}",
        get_line_color=f"properties.k === 'country' ? {list(BORDER)} : {list(REGION_LINE)}",
        get_line_width=1,
        line_width_units="'pixels'",
        pickable=False,
    )
    return [sea, land]


def map_style() -> str:
    """No provider basemap, or a MapLibre raster style over LOTSA_MAP_TILE_URL ({z}/{x}/{y}).
    The style travels as a data: URL: Streamlit's chart treats an object style as a string."""
    url = get_settings().map_tile_url
    if not url:
        return NO_BASEMAP
    style = {
        "version": 8,
        "sources": {"tiles": {"type": "raster", "tiles": [url], "tileSize": 256}},
        "layers": [{"id": "tiles", "type": "raster", "source": "tiles"}],
    }
    return "data:application/json;charset=utf-8," + quote(json.dumps(style, separators=(",", ":")))


def deck(layers: list[pdk.Layer], view: pdk.ViewState, height: int) -> pdk.Deck:
    """A compact deck over the base map."""
    return CompactDeck(
        layers=[*base_layers(), *layers],
        initial_view_state=view,
        map_style=map_style(),
        map_provider=None,
        tooltip=TOOLTIP,
        height=height,
    )


def colour(category: str | None, order: Iterable[str] = CATEGORY_ORDER) -> tuple[int, int, int]:
    order = tuple(order)
    if category in order:
        return PALETTE[order.index(category) % len(PALETTE)]
    return OTHER


def legend(categories: dict[str, str], present: Iterable[str] | None = None) -> None:
    """Colour swatches with the category names (escaped: names come from the database)."""
    codes = [c for c in categories if present is None or c in set(present)]
    if not codes:
        return
    items = " ".join(
        f'<span style="white-space:nowrap;margin-right:0.9em">'
        f'<span style="display:inline-block;width:0.8em;height:0.8em;border-radius:50%;'
        f"background:rgb{colour(code)};margin-right:0.3em;vertical-align:baseline;"
        f'border:1px solid #444"></span>{html.escape(categories[code])}</span>'
        for code in codes
    )
    centre = (
        '<span style="white-space:nowrap"><span style="display:inline-block;width:0.9em;height:0.9em;'
        'border-radius:50%;background:#fff;border:3px solid #141414;margin-right:0.3em"></span>'
        f"{html.escape(t('directory.map_centre'))}</span>"
    )
    st.markdown(
        f'<div style="font-size:0.85em;line-height:1.8">{items} {centre}</div>', unsafe_allow_html=True
    )


def ring_zoom(lat: float, km: float, height_px: int = 560) -> float:
    """The zoom at which a circle of `km` around a point at `lat` fits the map's height with a
    margin (Web Mercator: 512 × 2^zoom pixels span 360°; metres per pixel shrink with cos(lat))."""
    metres_per_pixel_at_zoom0 = 2 * math.pi * 6_378_137 * math.cos(math.radians(lat)) / 512
    wanted_px = height_px * 0.42  # the radius takes a little under half the height
    return math.log2(metres_per_pixel_at_zoom0 * wanted_px / (km * 1000))


def on_map(lat: float | None, lon: float | None) -> bool:
    """Whether a position can be drawn (Web Mercator stops short of the poles); imported data can hold
    impossible values, such as latitude 100 in the official HSDS 3.0 example."""
    return lat is not None and lon is not None and -85 <= lat <= 85 and -180 <= lon <= 180


def _view(
    points: list[tuple[float, float]],
    focus: tuple[float, float] | None,
    zoom: float | None = None,
    *,
    fit_km: float | None = None,
    height: int = 560,
):
    """Centre on the chosen point (showing its largest ring whole), or fit every point into a map
    about 900 × `height` pixels."""
    if focus is not None:
        if zoom is None:
            zoom = min(12.5, ring_zoom(focus[0], fit_km, height)) if fit_km else 12.5
        return pdk.ViewState(latitude=focus[0], longitude=focus[1], zoom=zoom)
    # an impossible coordinate (the official HSDS 3.0 example has latitude 100) must not blank the map
    points = [(lat, lon) for lat, lon in points if on_map(lat, lon)]
    if not points:
        return pdk.ViewState(latitude=59.0, longitude=15.0, zoom=4.2)
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    middle = (max(lats) + min(lats)) / 2
    # Web Mercator: 512 × 2^zoom pixels per 360° of longitude; latitude stretched by 1/cos.
    lat_span = (max(lats) - min(lats)) / max(math.cos(math.radians(middle)), 0.01)
    lon_span = max(lons) - min(lons)
    fits = [
        math.log2(0.8 * px * 360 / (512 * span))
        for px, span in ((900, lon_span), (height, lat_span))
        if span > 0
    ]
    return pdk.ViewState(
        latitude=middle,
        longitude=(max(lons) + min(lons)) / 2,
        zoom=max(3.5, min(13.5, zoom or min(fits, default=13))),
    )


def _centre_rows(centres: Iterable, chosen: int | None) -> list[dict]:
    label = t("directory.map_centre")
    return [
        {
            "name": c.name,
            "org": label + (" ✓" if c.id == chosen else ""),
            "lat": c.latitude,
            "lon": c.longitude,
        }
        for c in centres
    ]


def _centre_layers(centres: list[dict]) -> list[pdk.Layer]:
    return [
        pdk.Layer(
            "ScatterplotLayer",
            id="centres",
            data=centres,
            get_position="[lon, lat]",
            get_fill_color=list(CENTRE_FILL),
            get_line_color=list(CENTRE_LINE),
            stroked=True,
            filled=True,
            line_width_min_pixels=3,
            get_radius=60,
            radius_min_pixels=7,
            radius_max_pixels=14,
            pickable=True,
        ),
    ]


def circle(lat: float, lon: float, km: float, steps: int = 72) -> list[list[float]]:
    """A closed path of a circle of `km` around a point (equirectangular, like the search)."""
    dlat = km / KM_PER_DEGREE
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    return [
        [
            round(lon + dlon * math.sin(2 * math.pi * k / steps), 6),
            round(lat + dlat * math.cos(2 * math.pi * k / steps), 6),
        ]
        for k in range(steps + 1)
    ]


def _ring_layers(centre: tuple[float, float] | None, rings_km: Iterable[float]) -> list[pdk.Layer]:
    if centre is None:
        return []
    rings = sorted(set(rings_km))
    paths = [{"path": circle(centre[0], centre[1], km), "km": km} for km in rings]
    labels = [
        {
            "position": [centre[1], centre[0] + km / KM_PER_DEGREE],
            "text": f"{fmt_number(km, 0 if km == int(km) else 1)} km",
        }
        for km in rings
    ]
    return [
        pdk.Layer(
            "PathLayer",
            id="rings",
            data=paths,
            get_path="path",
            get_color=list(RING_COLOUR),
            get_width=6,
            width_min_pixels=2,
            pickable=False,
        ),
        pdk.Layer(
            "TextLayer",
            id="ring-labels",
            data=labels,
            get_position="position",
            get_text="text",
            get_size=12,
            get_color=list(RING_COLOUR),
            get_pixel_offset=[0, -8],
            pickable=False,
        ),
    ]


def _place_names(municipalities: Iterable[dict]) -> pdk.Layer:
    return pdk.Layer(
        "TextLayer",
        id="place-names",
        data=[{"position": [m["lon"], m["lat"]], "text": m["name"]} for m in municipalities],
        get_position="position",
        get_text="text",
        get_size=13,
        get_color=[110, 110, 110, 200],
        character_set="'auto'",  # a JS string: a bare "auto" would be read as an expression
        pickable=False,
    )


def group_by_place(points: list[dict]) -> list[dict]:
    """One row per place: activities at the same coordinates (to about 10 m) would draw on top of
    each other and look like one. A shared place keeps every id, a count and the names."""
    places: dict[tuple[float, float], list[dict]] = {}
    for p in points:
        places.setdefault(
            (round(p["lat"], SAME_PLACE_DECIMALS), round(p["lon"], SAME_PLACE_DECIMALS)), []
        ).append(p)
    rows = []
    for group in places.values():
        first = group[0]
        row = {"id": first["id"], "lat": first["lat"], "lon": first["lon"], "name": first["name"]}
        row["org"] = first.get("org", "")
        row["cat"] = first.get("cat") or ""
        if len(group) > 1:
            row["ids"] = [p["id"] for p in group]
            row["n"] = len(group)
            row["name"] = tn("directory.map_place", len(group))
            names = [p["name"] for p in group[:6]]
            row["org"] = "\n".join(names) + ("\n…" if len(group) > 6 else "")
            # The place's colour is its most common category.
            cats = [p.get("cat") or "" for p in group]
            row["cat"] = max(set(cats), key=cats.count)
        rows.append(row)
    return rows


def activities_deck(
    points: list[dict],
    *,
    centres: Iterable = (),
    chosen_centre: tuple[float, float] | None = None,
    chosen_centre_id: int | None = None,
    rings_km: Iterable[float] = RINGS_KM,
    municipalities: Iterable[dict] = (),
    height: int = 560,
) -> pdk.Deck:
    """One dot per place (id, lat, lon, cat, name, org), coloured by category: one layer per
    category, so each point carries no colour of its own; a number on a dot where several
    activities share the place."""
    rings_km = tuple(rings_km)
    by_category: dict[str, list[dict]] = {}
    places = group_by_place(points)
    for row in places:
        by_category.setdefault(row.pop("cat"), []).append(row)
    dots = [
        pdk.Layer(
            "ScatterplotLayer",
            id=f"{ACTIVITY_LAYER}-{category or 'other'}",
            data=rows,
            get_position="[lon, lat]",
            get_fill_color=list(colour(category)),
            get_line_color=[255, 255, 255],
            stroked=True,
            line_width_min_pixels=1,
            get_radius=40,
            radius_min_pixels=5,
            radius_max_pixels=11,
            pickable=True,
            auto_highlight=True,
        )
        for category, rows in sorted(by_category.items())
    ]
    shared = [{"lat": r["lat"], "lon": r["lon"], "text": str(r["n"])} for r in places if "n" in r]
    counts = pdk.Layer(
        "TextLayer",
        id="place-counts",
        data=shared,
        get_position="[lon, lat]",
        get_text="text",
        get_size=11,
        get_color=[255, 255, 255],
        font_weight=700,
        pickable=False,
    )
    layers = [
        _place_names(municipalities),
        *_ring_layers(chosen_centre, rings_km),
        *dots,
        *([counts] if shared else []),
        *_centre_layers(_centre_rows(centres, chosen_centre_id)),
    ]
    view = _view(
        [(p["lat"], p["lon"]) for p in points],
        chosen_centre,
        fit_km=max(rings_km, default=None),
        height=height,
    )
    return deck(layers, view, height)


def cells_deck(
    cells: list[dict],
    *,
    cell_km: float,
    centres: Iterable = (),
    chosen_centre: tuple[float, float] | None = None,
    chosen_centre_id: int | None = None,
    municipalities: Iterable[dict] = (),
    height: int = 560,
) -> pdk.Deck:
    """Counts per grid cell (aggregated in SQL) as hexagonal columns, darker and taller for more."""
    top = max((c["count"] for c in cells), default=1)
    data = []
    for c in cells:
        share = math.sqrt(c["count"] / top)
        data.append(
            {
                "lat": c["lat"],
                "lon": c["lon"],
                "count": c["count"],
                "name": tn("directory.map_cell", c["count"]),
                "org": "",
                "color": [int(255 - 200 * share), int(200 - 120 * share), int(120 + 60 * share), 210],
            }
        )
    layers = [
        _place_names(municipalities),
        pdk.Layer(
            "ColumnLayer",
            id="activity-cells",
            data=data,
            get_position="[lon, lat]",
            get_elevation="count",
            elevation_scale=max(cell_km * 1000 / max(top, 1) * 2, 1),
            radius=cell_km * 1000 * 0.45,
            disk_resolution=6,
            extruded=True,
            get_fill_color="color",
            pickable=True,
            auto_highlight=True,
        ),
        *_centre_layers(_centre_rows(centres, chosen_centre_id)),
    ]
    view = _view([(c["lat"], c["lon"]) for c in cells], chosen_centre, zoom=None, height=height)
    view.pitch = 35
    return deck(layers, view, height)


def place_deck(lat: float, lon: float, name: str, height: int = 300) -> pdk.Deck:
    """A small map of one activity's place."""
    layer = pdk.Layer(
        "ScatterplotLayer",
        id="place",
        data=[{"lat": lat, "lon": lon, "name": name, "org": ""}],
        get_position="[lon, lat]",
        get_fill_color=[0, 114, 178],
        get_line_color=[255, 255, 255],
        stroked=True,
        line_width_min_pixels=2,
        get_radius=30,
        radius_min_pixels=9,
        pickable=True,
    )
    rings = _ring_layers((lat, lon), (0.5, 1.0))
    return deck([*rings, layer], _view([], (lat, lon), fit_km=1.0, height=height), height)


def selected_activities(state) -> list[int]:
    """The activity ids at the place a user clicked on the map (one, or all that share the place),
    from st.pydeck_chart's selection state."""
    try:
        layers = state["selection"]["objects"]
    except (KeyError, TypeError):
        return []
    for layer_id, objects in (layers or {}).items():
        if str(layer_id).startswith(ACTIVITY_LAYER + "-"):
            for obj in objects or []:
                if not isinstance(obj, dict):
                    continue
                ids = obj.get("ids")
                if isinstance(ids, list) and all(isinstance(i, int) for i in ids):
                    return ids
                if isinstance(obj.get("id"), int):
                    return [obj["id"]]
    return []


def payload_bytes(deck: pdk.Deck) -> int:
    return len(deck.to_json().encode("utf-8"))
