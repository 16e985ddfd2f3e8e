"""The centre dashboard as one self-contained HTML file: inline CSS, plotly.js embedded once inline,
no network reference. Built from the same protected `CentreDashboard` and the same chart functions
as the page, so it shows exactly what a manager may see (suppression applied). No Streamlit here."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date, datetime

from components.outcome_charts import (
    funnel_chart,
    paired_chart,
    paired_table,
    rank_chart,
    rank_table,
    reliable_table,
    spc_chart,
)
from locales import LANGUAGES, translate
from services.dashboards import Period, disclosure_rules, fresh_only, is_provisional
from services.errors import ValidationError
from services.outcomes import centre_dashboard
from services.principal import Principal

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#1d2b36;line-height:1.45;padding:0 1rem}
h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #d9e2e8;padding-bottom:.3rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0;font-size:.92rem}
th,td{border:1px solid #d9e2e8;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f1f5f8}.meta{color:#52616b}.note{color:#52616b;font-size:.9rem}
.warn{background:#fff4e5;border-left:4px solid #ff9800;padding:.5rem .8rem}
.value{font-weight:600;white-space:nowrap}
"""


def report_file_name(chosen: Period) -> str:
    return f"lotsa-centre-report-{chosen.start.isoformat()}-{chosen.end.isoformat()}.html"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _p(text: str, cls: str = "note") -> str:
    return f'<p class="{cls}">{html.escape(text)}</p>'


def centre_report_html(
    principal: Principal,
    centre_ids: tuple[int, ...] | None,
    start: date,
    end: date,
    programme: str | None = None,
    language: str = "sv",
    followup_months: int | None = None,
) -> str:
    """The report for the user's centres and the period (scope, validation and disclosure as on the
    page: this calls `centre_dashboard`)."""
    if language not in LANGUAGES:
        raise ValidationError({"language": ("error.invalid_choice", {})})
    with fresh_only():  # a downloaded report holds the figures of now, never an earlier view's
        board = centre_dashboard(principal, centre_ids, start, end, programme, followup_months)
    rules = disclosure_rules()

    def tr(key: str, **params: object) -> str:
        return translate(key, language, **params)

    charts_done = 0

    def chart(fig) -> str:
        nonlocal charts_done
        charts_done += 1
        return fig.to_html(
            full_html=False,
            include_plotlyjs=charts_done == 1,  # plotly.js inline, once
            config={"displaylogo": False, "responsive": True},
        )

    programme_text = tr("outcomes.filter.all_programmes") if programme is None else programme
    followup = (
        tr("outcomes.followup.latest")
        if followup_months is None
        else tr("outcomes.followup.months", n=followup_months)
    )
    suppression = tr("dashboard.suppression_note", k=rules.k, k_minus=rules.k - 1, n=rules.min_n_for_rates)
    parts: list[str] = [
        f"<h1>{html.escape(tr('outcomes.report.title'))}</h1>",
        '<p class="meta">'
        f"<b>{html.escape(tr('outcomes.report.centres'))}:</b> {html.escape(', '.join(board.centres))}<br>"
        f"<b>{html.escape(tr('outcomes.report.period'))}:</b> {html.escape(board.period.label())}<br>"
        f"<b>{html.escape(tr('outcomes.report.programme'))}:</b> {html.escape(programme_text)}<br>"
        f"<b>{html.escape(tr('outcomes.report.generated'))}:</b> "
        f"{html.escape(datetime.now().strftime('%Y-%m-%d %H:%M'))}</p>",
        _p(suppression, "warn"),
        # issue 10: an open period is computed live; a closed one is its protected release
        *([_p(tr("dashboard.provisional"), "warn")] if is_provisional(board.period) else []),
        f"<h2>{html.escape(tr('outcomes.report.figures'))}</h2>",
    ]
    figure_rows = []
    for fig in board.figures:
        definition = tr(fig.definition)
        if fig.numerator_text is not None:
            definition += (
                f" {tr('dashboard.numerator')}: {tr(fig.definition + '.numerator')} ({fig.numerator_text})."
                f" {tr('dashboard.denominator')}: {tr(fig.definition + '.denominator')}"
                f" ({fig.denominator_text})."
            )
        if fig.withheld:
            definition += " " + tr("dashboard.withheld_note")
        figure_rows.append([tr(f"outcomes.fig.{fig.key}"), fig.text, definition])
    parts.append(
        _table(
            [
                tr("outcomes.report.col.figure"),
                tr("outcomes.report.col.value"),
                tr("outcomes.report.col.definition"),
            ],
            figure_rows,
        )
    )
    parts += [chart(funnel_chart(board.funnel, tr)), _p(tr("outcomes.funnel.note"))]

    parts.append(f"<h2>{html.escape(tr('outcomes.paired.header'))}</h2>")
    parts.append(_p(tr("outcomes.paired.why"), "meta"))
    parts.append(_table(*paired_table(board.paired, tr, language)))
    parts.append(_p(tr("outcomes.paired.definition", followup=followup, n=rules.min_n_for_rates)))
    if any(r.mean_change is not None for r in board.paired):
        parts.append(chart(paired_chart(board.paired, tr)))

    parts.append(f"<h2>{html.escape(tr('outcomes.reliable.header'))}</h2>")
    if not board.reliability_configured:
        parts.append(_p(tr("outcomes.reliable.not_configured"), "warn"))
    else:
        if board.reliability_unverified:
            parts.append(_p(tr("outcomes.reliable.unverified"), "warn"))
        parts.append(_table(*reliable_table(board.reliable, tr, language)))
        parts.append(_p(tr("outcomes.reliable.definition")))

    parts.append(f"<h2>{html.escape(tr('outcomes.spc.header'))}</h2>")
    if board.trend.drawable:
        parts.append(chart(spc_chart(board.trend, tr)))
        if board.trend.trial_limits:
            parts.append(_p(tr("outcomes.spc.trial_note")))
    else:
        parts.append(_p(tr("outcomes.spc.too_few")))
    parts.append(_p(tr("outcomes.spc.legend")))
    if board.trend.months_hidden:
        parts.append(
            _p(
                tr(
                    "outcomes.spc.hidden",
                    hidden=board.trend.months_hidden,
                    total=board.trend.months_total,
                    n=rules.min_n_for_rates,
                )
            )
        )

    parts.append(f"<h2>{html.escape(tr('outcomes.activities.header'))}</h2>")
    for rows, title, kind in (
        (board.activities, tr("outcomes.activities.title"), "activity"),
        (board.categories, tr("outcomes.categories.title"), "category"),
    ):
        if rows:
            parts.append(chart(rank_chart(rows, title, tr("outcomes.activities.x"), language)))
        parts.append(_table(*rank_table(rows, tr, language, kind)))
    parts.append(_p(tr("outcomes.activities.note")))
    parts.append(_p(suppression, "warn"))

    title = f"{tr('outcomes.report.title')} – {', '.join(board.centres)} – {board.period.label()}"
    return (
        f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
        f"<body>{''.join(parts)}</body></html>\n"
    )
