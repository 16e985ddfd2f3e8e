"""Figures for the gap analysis, pure functions from the service's GapView (no Streamlit calls):
a plotly chart of needs against supply, and a pydeck map of need density against activities in
the house style of components/maps.py (layer ids, no internet basemap, text tooltips)."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import pydeck as pdk

from components.maps import NO_BASEMAP, CompactDeck, _view
from services.gaps import GapView

NEED_COLOUR = (204, 102, 119)  # Paul Tol muted rose
ACTIVITY_COLOUR = (51, 34, 136)  # Paul Tol muted indigo
TOOLTIP = {"text": "{name}\n{org}"}  # text, not html: names come from the database


def needs_vs_supply(
    view: GapView,
    *,
    need_label,
    title: str,
    y_label: str,
    unmet_name: str,
    referrals_name: str,
    activities_name: str,
) -> go.Figure:
    """Grouped bars per need: unmet needs and referrals (only shown counts; hidden ones are left
    out) and activities in the categories that meet the need."""

    def shown(text: str) -> int | None:
        return int(text) if text.isdigit() else None

    labels = [need_label(r.need) for r in view.need_rows]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(x=labels, y=[shown(r.unmet) for r in view.need_rows], name=unmet_name, marker_color="#CC6677")
    )
    fig.add_trace(
        go.Bar(
            x=labels,
            y=[shown(r.referrals) for r in view.need_rows],
            name=referrals_name,
            marker_color="#DDCC77",
        )
    )
    fig.add_trace(
        go.Bar(
            x=labels, y=[r.activities for r in view.need_rows], name=activities_name, marker_color="#332288"
        )
    )
    fig.update_layout(
        title=title,
        barmode="group",
        yaxis_title=y_label,
        height=380,
        margin={"l": 10, "r": 10, "t": 60, "b": 40},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def gap_deck(view: GapView, *, need_text: str, cell_text: str, height: int = 520) -> pdk.Deck:
    """Need circles (area proportional to the count of unmet needs; only counts of at least k
    arrive here) over activity points, or activity counts per grid cell beyond ~10k points.
    `need_text` and `cell_text` are translated templates with {n}."""
    needs = [
        {
            "lat": p["lat"],
            "lon": p["lon"],
            "name": p["name"],
            "org": need_text.format(n=p["count"]),
            "r": 250 * math.sqrt(p["count"]),
        }
        for p in view.need_points
    ]
    if view.activity_cells:
        activities = [
            {
                "lat": c["lat"],
                "lon": c["lon"],
                "name": cell_text.format(n=c["count"]),
                "org": "",
                "r": 120 * math.sqrt(c["count"]),
            }
            for c in view.activity_points
        ]
    else:
        activities = [
            {"lat": p["lat"], "lon": p["lon"], "name": p["name"], "org": p["org"], "r": 40}
            for p in view.activity_points
        ]
    layers = [
        pdk.Layer(
            "TextLayer",
            id="place-names",
            data=[{"position": [p["lon"], p["lat"]], "text": p["name"]} for p in view.places],
            get_position="position",
            get_text="text",
            get_size=13,
            get_color=[110, 110, 110, 200],
            character_set="'auto'",
            pickable=False,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            id="need-density",
            data=needs,
            get_position="[lon, lat]",
            get_radius="r",
            get_fill_color=[*NEED_COLOUR, 110],
            get_line_color=[*NEED_COLOUR, 255],
            stroked=True,
            line_width_min_pixels=2,
            radius_min_pixels=8,
            pickable=True,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            id="activity-cells" if view.activity_cells else "activities",
            data=activities,
            get_position="[lon, lat]",
            get_radius="r",
            get_fill_color=[*ACTIVITY_COLOUR, 220],
            get_line_color=[255, 255, 255],
            stroked=True,
            line_width_min_pixels=1,
            radius_min_pixels=3,
            radius_max_pixels=12,
            pickable=True,
            auto_highlight=True,
        ),
    ]
    points = [(p["lat"], p["lon"]) for p in (*needs, *activities)] or [
        (p["lat"], p["lon"]) for p in view.places
    ]
    return CompactDeck(
        layers=layers,
        initial_view_state=_view(points, None),
        map_style=NO_BASEMAP,
        map_provider=None,
        tooltip=TOOLTIP,
        height=height,
    )
