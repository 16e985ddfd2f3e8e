"""Plotly figures for the health-economics page, pure functions from service dataclasses (no
Streamlit), so a report can reuse them. Labels arrive translated."""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go

from services.health_economics import SroiView

LOW_COLOUR = "#CC6677"  # Paul Tol muted: rose for the lower end
HIGH_COLOUR = "#117733"  # green for the higher end


def tornado(
    view: SroiView,
    *,
    bar_label: Callable[[str, str], str],
    title: str,
    x_label: str,
    low_name: str,
    high_name: str,
    base_name: str,
    max_bars: int = 12,
    number: Callable[[float], str] = lambda v: f"{v:.2f}",
) -> go.Figure:
    """One-at-a-time sensitivity as a tornado: per assumption a bar from the ratio at the
    assumption's low end to the ratio at its high end, widest on top, around the base ratio.
    `bar_label(outcome, assumption)` names a bar in the user's language, `number` writes the base
    ratio in it."""
    bars = [b for b in view.bars if abs(b.ratio_at_high - b.ratio_at_low) > 1e-12][:max_bars]
    bars = list(reversed(bars))  # plotly draws the first category at the bottom
    labels = [bar_label(b.outcome, b.assumption) for b in bars]
    base = view.ratio
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=labels,
            x=[b.ratio_at_low - base for b in bars],
            base=base,
            orientation="h",
            name=low_name,
            marker_color=LOW_COLOUR,
            customdata=[[b.low_value, b.ratio_at_low] for b in bars],
            hovertemplate="%{y}: %{customdata[0]:.4g} → %{customdata[1]:.2f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            y=labels,
            x=[b.ratio_at_high - base for b in bars],
            base=base,
            orientation="h",
            name=high_name,
            marker_color=HIGH_COLOUR,
            customdata=[[b.high_value, b.ratio_at_high] for b in bars],
            hovertemplate="%{y}: %{customdata[0]:.4g} → %{customdata[1]:.2f}<extra></extra>",
        )
    )
    fig.add_vline(x=base, line_dash="dash", line_color="#333", annotation_text=f"{base_name} {number(base)}")
    fig.update_layout(
        title=title,
        barmode="overlay",
        xaxis_title=x_label,
        height=max(260, 60 + 34 * len(bars)),
        margin={"l": 10, "r": 10, "t": 60, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig
