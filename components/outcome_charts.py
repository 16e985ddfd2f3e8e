"""Charts of the centre dashboard: pure functions from `services.outcomes` results to plotly figures.

No Streamlit here, so the HTML report draws the same charts. Every label comes through `tr`
(a `translate`-like function for the user's language). Only shown values are drawn: withheld
funnel stages, SPC months and activity counts appear as their text ("<5", "*"), never as a bar or
point, and hover texts show the value alone, never an n that would give back a hidden count.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import plotly.graph_objects as go

from locales.formatting import format_number
from services.outcomes import FunnelStage, PairedRow, RankRow, Trend

Translate = Callable[..., str]

IMPROVEMENT_COLOUR = "#1f77b4"  # Making Data Count: blue for improvement
CONCERN_COLOUR = "#ff7f0e"  # orange for concern
COMMON_COLOUR = "#7f7f7f"
BAR_COLOUR = "#2a9d8f"
LAYOUT = {"margin": {"l": 10, "r": 10, "t": 60, "b": 40}, "template": "plotly_white", "height": 380}


def funnel_chart(stages: Sequence[FunnelStage], tr: Translate) -> go.Figure:
    """Screened → lonely → referred → accepted → started → completed, people. Hidden stages keep
    their row with the "<5" / "*" text and no bar."""
    labels = [tr(f"outcomes.funnel.{s.key}") for s in stages]
    fig = go.Figure(
        go.Bar(
            x=[s.value for s in stages],
            y=labels,
            orientation="h",
            text=[s.text for s in stages],
            textposition="outside",
            marker_color=BAR_COLOUR,
            hovertemplate="%{y}: %{text}<extra></extra>",
            cliponaxis=False,
        )
    )
    fig.update_layout(
        title=tr("outcomes.funnel.title"),
        xaxis_title=tr("outcomes.funnel.x"),
        yaxis={"autorange": "reversed", "title": None},
        showlegend=False,
        **LAYOUT,
    )
    return fig


def _rule_names(rules: Sequence[str], tr: Translate) -> str:
    return ", ".join(tr(f"outcomes.spc.rule.{r}") for r in rules)


def spc_chart(trend: Trend, tr: Translate) -> go.Figure:
    """XmR chart of the monthly share lonely at screening: points, mean, process limits and the
    2/3 lines; special-cause points coloured by improvement or concern."""
    fig = go.Figure()
    months = [p.month for p in trend.points]
    shares = [100 * p.share for p in trend.points]
    fig.add_trace(
        go.Scatter(
            x=months,
            y=shares,
            mode="lines+markers",
            name=tr("outcomes.spc.common"),
            line={"color": COMMON_COLOUR},
            marker={"color": COMMON_COLOUR, "size": 7},
            hovertemplate="%{x|%Y-%m}: %{y:.0f} %<extra></extra>",
        )
    )
    if trend.drawable:
        limit_label = tr("outcomes.spc.trial_limits" if trend.trial_limits else "outcomes.spc.limits")
        lines = (
            (trend.centre, tr("outcomes.spc.mean"), "solid", "#264653", True),
            (trend.upper, limit_label, "dash", "#e76f51", True),
            (trend.lower, limit_label, "dash", "#e76f51", False),
            (trend.upper_2_3, tr("outcomes.spc.two_thirds"), "dot", "#bbbbbb", True),
            (trend.lower_2_3, tr("outcomes.spc.two_thirds"), "dot", "#bbbbbb", False),
        )
        for value, name, dash, colour, legend in lines:
            fig.add_trace(
                go.Scatter(
                    x=[months[0], months[-1]],
                    y=[100 * value] * 2,
                    mode="lines",
                    name=name,
                    legendgroup=name,
                    showlegend=legend,
                    line={"color": colour, "dash": dash, "width": 1.5},
                    hovertemplate=f"{name}: %{{y:.0f}} %<extra></extra>",
                )
            )
        for variation, colour in (("improvement", IMPROVEMENT_COLOUR), ("concern", CONCERN_COLOUR)):
            special = [p for p in trend.points if p.rules and p.variation == variation]
            fig.add_trace(
                go.Scatter(
                    x=[p.month for p in special],
                    y=[100 * p.share for p in special],
                    mode="markers",
                    name=tr(f"outcomes.spc.{variation}"),
                    marker={"color": colour, "size": 11, "line": {"color": "white", "width": 1}},
                    text=[_rule_names(p.rules, tr) for p in special],
                    hovertemplate="%{x|%Y-%m}: %{y:.0f} %<br>%{text}<extra></extra>",
                    visible=True if special else "legendonly",
                )
            )
    title = tr("outcomes.spc.title")
    if trend.trial_limits and trend.drawable:
        title += f" ({tr('outcomes.spc.trial_limits')})"
    fig.update_layout(
        title=title,
        xaxis_title=tr("outcomes.spc.x"),
        yaxis_title=tr("outcomes.spc.y"),
        legend={"orientation": "h", "y": -0.25},
        **{**LAYOUT, "height": 430},
    )
    fig.update_xaxes(tickformat="%Y-%m")
    return fig


def rank_chart(rows: Sequence[RankRow], title: str, x_label: str, language: str) -> go.Figure:
    """Horizontal bars of the most used activities or categories; small counts show "<5"."""
    fig = go.Figure(
        go.Bar(
            x=[r.value for r in rows],
            y=[r.label(language) for r in rows],
            orientation="h",
            text=[r.text for r in rows],
            textposition="outside",
            marker_color=BAR_COLOUR,
            hovertemplate="%{y}: %{text}<extra></extra>",
            cliponaxis=False,
        )
    )
    fig.update_layout(
        title=title,
        xaxis_title=x_label,
        yaxis={"autorange": "reversed", "title": None},
        showlegend=False,
        **LAYOUT,
    )
    return fig


def paired_chart(rows: Sequence[PairedRow], tr: Translate) -> go.Figure:
    """Mean paired change with its 95% confidence interval per score (withheld scores left out)."""
    shown = [r for r in rows if r.mean_change is not None]
    fig = go.Figure(
        go.Scatter(
            x=[r.mean_change for r in shown],
            y=[tr(f"outcomes.score.{r.score}") for r in shown],
            mode="markers",
            marker={"size": 10, "color": "#264653"},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [r.ci_high - r.mean_change for r in shown],
                "arrayminus": [r.mean_change - r.ci_low for r in shown],
            },
            hovertemplate="%{y}: %{x:.2f}<extra></extra>",
            name=tr("outcomes.paired.mean_change"),
        )
    )
    fig.add_vline(x=0, line={"color": "#999999", "dash": "dot"})
    fig.update_layout(
        title=tr("outcomes.paired.chart_title"),
        xaxis_title=tr("outcomes.paired.chart_x"),
        yaxis={"autorange": "reversed", "title": None},
        showlegend=False,
        **LAYOUT,
    )
    return fig


# Tables (header, rows) shared by the page and the HTML report -------------------------------------

WITHHELD = "–"


def number(value: float | None, language: str, digits: int = 2) -> str:
    """A number in the user's language (decimal comma in Swedish and Danish; a true minus)."""
    if value is None:
        return WITHHELD
    return format_number(value, language, digits).replace("-", "−")  # Babel's separators and grouping


def percent(rate: float | None) -> str:
    return WITHHELD if rate is None else f"{round(100 * rate)} %"


def paired_table(
    rows: Sequence[PairedRow], tr: Translate, language: str
) -> tuple[list[str], list[list[str]]]:
    header = [
        tr("outcomes.paired.col.score"),
        tr("outcomes.paired.col.better"),
        tr("outcomes.paired.col.n_baseline"),
        tr("outcomes.paired.col.n_followed"),
        tr("outcomes.paired.col.share_lost"),
        tr("outcomes.paired.col.mean_change"),
    ]
    body = []
    for r in rows:
        change = WITHHELD
        if r.mean_change is not None:
            change = tr(
                "outcomes.paired.ci",
                mean=number(r.mean_change, language),
                low=number(r.ci_low, language),
                high=number(r.ci_high, language),
            )
        body.append(
            [
                tr(f"outcomes.score.{r.score}"),
                tr(f"outcomes.better.{r.better}"),
                r.n_baseline,
                r.n_followed,
                percent(r.share_lost),
                change,
            ]
        )
    return header, body


def reliable_table(rows: Sequence, tr: Translate, language: str) -> tuple[list[str], list[list[str]]]:
    header = [
        tr("outcomes.paired.col.score"),
        tr("outcomes.reliable.col.n"),
        tr("outcomes.reliable.col.improved"),
        tr("outcomes.reliable.col.no_change"),
        tr("outcomes.reliable.col.deteriorated"),
        tr("outcomes.reliable.col.threshold"),
        tr("outcomes.reliable.col.params"),
        tr("outcomes.reliable.col.source"),
    ]

    def cell(text: str, share: float | None) -> str:
        return text if share is None else f"{text} ({percent(share)})"

    body = [
        [
            tr(f"outcomes.score.{r.score}"),
            r.n,
            cell(r.improved, r.improved_share),
            cell(r.no_change, r.no_change_share),
            cell(r.deteriorated, r.deteriorated_share),
            number(r.minimum_difference, language),
            f"{number(r.sd1, language)} / {number(r.r, language)}",
            f"{r.source} ({tr('outcomes.reliable.' + ('verified' if r.verified else 'not_verified'))})",
        ]
        for r in rows
    ]
    return header, body


def rank_table(
    rows: Sequence[RankRow], tr: Translate, language: str, kind: str
) -> tuple[list[str], list[list[str]]]:
    header = [tr(f"outcomes.activities.col.{kind}"), tr("outcomes.activities.col.referrals")]
    return header, [[r.label(language), r.text] for r in rows]


# CSV downloads: the same rows as numbers (issue 12), not the display text -----------------------


def _count(text: str | int | None) -> int | str | None:
    """A published count as a number ("42" -> 42); "<5", "*" and "–" stay as they are."""
    return int(text) if isinstance(text, str) and text.isdigit() else text


def _pct(share: float | None) -> int | None:
    return None if share is None else round(100 * share)


def paired_csv(rows: Sequence[PairedRow], tr: Translate) -> tuple[list[str], list[list]]:
    header = [
        tr("outcomes.paired.col.score"),
        tr("outcomes.paired.col.better"),
        tr("outcomes.paired.col.n_baseline"),
        tr("outcomes.paired.col.n_followed"),
        tr("outcomes.csv.share_lost_pct"),
        tr("outcomes.paired.mean_change"),
        tr("outcomes.csv.ci_low"),
        tr("outcomes.csv.ci_high"),
    ]
    body = [
        [
            tr(f"outcomes.score.{r.score}"),
            tr(f"outcomes.better.{r.better}"),
            _count(r.n_baseline),
            _count(r.n_followed),
            _pct(r.share_lost),
            r.mean_change,
            r.ci_low,
            r.ci_high,
        ]
        for r in rows
    ]
    return header, body


def reliable_csv(rows: Sequence, tr: Translate) -> tuple[list[str], list[list]]:
    header = [
        tr("outcomes.paired.col.score"),
        tr("outcomes.reliable.col.n"),
        tr("outcomes.reliable.col.improved"),
        tr("outcomes.csv.improved_pct"),
        tr("outcomes.reliable.col.no_change"),
        tr("outcomes.csv.no_change_pct"),
        tr("outcomes.reliable.col.deteriorated"),
        tr("outcomes.csv.deteriorated_pct"),
        tr("outcomes.reliable.col.threshold"),
        tr("outcomes.csv.sd1"),
        tr("outcomes.csv.r"),
        tr("outcomes.reliable.col.source"),
    ]
    body = [
        [
            tr(f"outcomes.score.{r.score}"),
            _count(r.n),
            _count(r.improved),
            _pct(r.improved_share),
            _count(r.no_change),
            _pct(r.no_change_share),
            _count(r.deteriorated),
            _pct(r.deteriorated_share),
            r.minimum_difference,
            r.sd1,
            r.r,
            f"{r.source} ({tr('outcomes.reliable.' + ('verified' if r.verified else 'not_verified'))})",
        ]
        for r in rows
    ]
    return header, body


def rank_csv(
    rows: Sequence[RankRow], tr: Translate, language: str, kind: str
) -> tuple[list[str], list[list]]:
    header = [tr(f"outcomes.activities.col.{kind}"), tr("outcomes.activities.col.referrals")]
    return header, [[r.label(language), r.value if r.value is not None else r.text] for r in rows]


_WARMED = threading.Event()


def warm_up(board) -> None:
    """Draw Centre outcomes' charts once per process from a computed view, off any user's run.

    Plotly builds each layout and trace property's validator the first time it is set: about 0.5 s
    for this page's charts, which otherwise fell on the first visit after a server start (measured
    with py-spy: `update_layout` of the first funnel chart). The precompute thread calls this
    (services/precompute.py VIEW_HOOKS, registered by serve.py)."""
    if _WARMED.is_set():
        return
    from locales import translate

    def tr(key: str, **params) -> str:
        return translate(key, "sv", **params)

    funnel_chart(board.funnel, tr)
    paired_chart(board.paired, tr)
    if board.trend.drawable:
        spc_chart(board.trend, tr)
    rank_chart(board.activities, "", "", "sv")
    _WARMED.set()
