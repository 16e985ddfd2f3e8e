"""Charts of the evaluation dashboard, pure functions from the service's dataclasses to plotly
figures (no `st.` calls): the CONSORT-style flow as boxes, change per arm with confidence
intervals, and the outcome-contract tracker. Only shown (protected) values go in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from services.evaluation import ChangeRow, FlowStage, TrackerRow

ARM_COLOURS = ("#4c78a8", "#f58518", "#888888", "#54a24b")


def consort_figure(
    flow: Sequence[FlowStage],
    arms: Sequence[str],
    stage_labels: Sequence[str],
    arm_labels: Mapping[str, str],
    title: str,
) -> go.Figure:
    """One column of boxes per arm, one row per stage, arrows down each column."""
    fig = go.Figure()
    width, height = 1.0, 0.6
    rows = len(flow)
    for j, arm in enumerate(arms):
        x0 = j * 1.4
        fig.add_annotation(
            x=x0 + width / 2, y=0.55, text=f"<b>{arm_labels.get(arm, arm)}</b>", showarrow=False,
            font={"size": 14},
        )  # fmt: skip
        for i, (stage, label) in enumerate(zip(flow, stage_labels, strict=True)):
            y1 = -i
            y0 = y1 - height
            fig.add_shape(
                type="rect", x0=x0, x1=x0 + width, y0=y0, y1=y1,
                line={"color": ARM_COLOURS[j % len(ARM_COLOURS)], "width": 2}, fillcolor="white",
            )  # fmt: skip
            fig.add_annotation(
                x=x0 + width / 2, y=y1 - height / 2, showarrow=False,
                text=f"{label}<br><b>{stage.cells[j]}</b>", font={"size": 12},
            )  # fmt: skip
            if i < rows - 1:
                fig.add_annotation(
                    x=x0 + width / 2, y=y0 - (1 - height) + 0.02, ax=x0 + width / 2, ay=y0,
                    xref="x", yref="y", axref="x", ayref="y", showarrow=True, arrowhead=2, text="",
                )  # fmt: skip
    fig.update_xaxes(visible=False, range=[-0.2, len(arms) * 1.4])
    fig.update_yaxes(visible=False, range=[-rows + 0.2, 0.8])
    fig.update_layout(
        title={"text": title}, height=110 + 80 * rows, margin={"l": 10, "r": 10, "t": 50, "b": 10},
        plot_bgcolor="white", showlegend=False,
    )  # fmt: skip
    return fig


def change_figure(
    rows: Sequence[ChangeRow], arm_labels: Mapping[str, str], *, title: str, x_label: str, y_label: str,
    timepoint_label: str,
) -> go.Figure:  # fmt: skip
    """Mean change per arm at each time point with its 95 % interval (withheld means not drawn)."""
    fig = go.Figure()
    arms = [a.arm for a in rows[0].arms] if rows else []
    for j, arm in enumerate(arms):
        xs, ys, plus, minus = [], [], [], []
        for row in rows:
            cell = row.arms[j]
            if cell.mean is None:
                continue
            xs.append(timepoint_label.format(months=row.timepoint))
            ys.append(cell.mean)
            plus.append((cell.high - cell.mean) if cell.high is not None else 0)
            minus.append((cell.mean - cell.low) if cell.low is not None else 0)
        fig.add_trace(
            go.Scatter(
                x=xs, y=ys, mode="markers", name=arm_labels.get(arm, arm),
                marker={"size": 10, "color": ARM_COLOURS[j % len(ARM_COLOURS)]},
                error_y={"type": "data", "array": plus, "arrayminus": minus, "visible": True},
                hovertemplate="%{x}: %{y:.2f}<extra>" + arm_labels.get(arm, arm) + "</extra>",
            )
        )  # fmt: skip
    fig.add_hline(y=0, line={"color": "#999", "width": 1})
    fig.update_layout(
        title={"text": title}, xaxis={"title": {"text": x_label}, "type": "category"},
        yaxis={"title": {"text": y_label}}, scattermode="group", height=340,
        margin={"l": 60, "r": 20, "t": 50, "b": 40}, legend={"orientation": "h", "y": -0.3},
    )  # fmt: skip
    return fig


def tracker_figure(
    rows: Sequence[TrackerRow], arm_labels: Mapping[str, str], *, title: str, x_label: str, y_label: str,
    timepoint_label: str,
) -> go.Figure:  # fmt: skip
    """Share of the cohort out of the risk zone (missing counted as not out), per arm and time."""
    fig = go.Figure()
    arms = list(dict.fromkeys(r.arm for r in rows))
    for j, arm in enumerate(arms):
        mine = [r for r in rows if r.arm == arm and r.of_cohort.value is not None]
        fig.add_trace(
            go.Bar(
                x=[timepoint_label.format(months=r.timepoint) for r in mine],
                y=[r.of_cohort.value for r in mine],
                name=arm_labels.get(arm, arm),
                marker={"color": ARM_COLOURS[j % len(ARM_COLOURS)]},
                error_y={
                    "type": "data",
                    "array": [r.of_cohort.high - r.of_cohort.value for r in mine],
                    "arrayminus": [r.of_cohort.value - r.of_cohort.low for r in mine],
                },
                hovertemplate="%{x}: %{y:.0%}<extra>" + arm_labels.get(arm, arm) + "</extra>",
            )
        )
    fig.update_layout(
        title={"text": title}, barmode="group",
        xaxis={
            "title": {"text": x_label}, "categoryorder": "array",
            "categoryarray": [timepoint_label.format(months=m) for m in sorted({r.timepoint for r in rows})],
        },
        yaxis={"title": {"text": y_label}, "tickformat": ".0%", "range": [0, 1]}, height=340,
        margin={"l": 60, "r": 20, "t": 50, "b": 40}, legend={"orientation": "h", "y": -0.3},
    )  # fmt: skip
    return fig
