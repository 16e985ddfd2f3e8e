"""Funnel plot for the compare dashboard: pure function from a FunnelPanel to a plotly figure.

Only shown values go in: centres drawn have a shown rate (hover: centre name and rate, never the
numerator); the limit curves are the ones in force (overdispersion-adjusted when the data are
overdispersed, which the title says). No `st.` calls here, so an HTML report can reuse it."""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go

from services.compare import FunnelPanel

BAND_COLOURS = {
    "within": "#4c78a8",
    "above_95": "#f58518",
    "above_998": "#b3261e",
    "below_95": "#72b7b2",
    "below_998": "#54278f",
}


def funnel_figure(panel: FunnelPanel, labels: Mapping[str, str]) -> go.Figure:
    """labels: title, x, y, target, limit95, limit998, and band.<band> for every band."""
    fig = go.Figure()
    if panel.curve_n:
        n = list(panel.curve_n)
        for lower, upper, name, dash in (
            (panel.lower998, panel.upper998, labels["limit998"], "dot"),
            (panel.lower95, panel.upper95, labels["limit95"], "dash"),
        ):
            fig.add_trace(
                go.Scatter(
                    x=n, y=list(upper), mode="lines", name=name, legendgroup=name,
                    line={"color": "#888", "dash": dash, "width": 1}, hoverinfo="skip",
                )
            )  # fmt: skip
            fig.add_trace(
                go.Scatter(
                    x=n, y=list(lower), mode="lines", name=name, legendgroup=name, showlegend=False,
                    line={"color": "#888", "dash": dash, "width": 1}, hoverinfo="skip",
                )
            )  # fmt: skip
        if panel.target is not None:
            fig.add_trace(
                go.Scatter(
                    x=[n[0], n[-1]], y=[panel.target, panel.target], mode="lines", name=labels["target"],
                    line={"color": "#333", "width": 1}, hoverinfo="skip",
                )
            )  # fmt: skip
    for band, colour in BAND_COLOURS.items():
        points = [p for p in panel.points if p.band == band]
        if not points:
            continue
        fig.add_trace(
            go.Scatter(
                x=[p.denominator for p in points],
                y=[p.rate for p in points],
                mode="markers",
                name=labels[f"band.{band}"],
                marker={"color": colour, "size": 10, "line": {"color": "white", "width": 1}},
                text=[p.name for p in points],
                customdata=[p.centre_id for p in points],
                hovertemplate="%{text}<br>%{y:.0%}<extra></extra>",
            )
        )
    fig.update_layout(
        title={"text": labels["title"]},
        xaxis={"title": {"text": labels["x"]}, "rangemode": "tozero"},
        yaxis={"title": {"text": labels["y"]}, "tickformat": ".0%", "range": [0, 1.02]},
        legend={"orientation": "h", "y": -0.25},
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
        height=430,
        clickmode="event+select",
        dragmode="select",
    )
    return fig
