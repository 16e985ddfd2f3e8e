"""Widgets every outcome dashboard shares: the reporting-period picker (kept in the URL), a figure with its
definition popover, a table with its CSV download, and a chart that never draws withheld points.

Service figures arrive already protected (`services.dashboards.Figure`); nothing here computes or
un-suppresses a number."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import streamlit as st

from components.i18n import display_column, fmt_numbers, localize_figure, t
from domain.csv_safety import to_csv
from services.dashboards import (
    PERIOD_KINDS,
    Figure,
    Period,
    default_period,
    is_provisional,
    period,
    period_from_code,
    reporting_period,
)
from services.errors import ValidationError

WITHHELD = "–"


PERIOD_YEARS_BACK = 6


def period_filter(key: str = "period") -> Period:
    """The reporting period: a calendar year, quarter or month (never arbitrary dates, issue 10),
    chosen with three select boxes in one row, defaulting to the current year and mirrored in the URL
    as ?period=2025, 2025-Q2 or 2025-03 so a view can be shared (an old ?from=&to= link that names a
    whole year, quarter or month still opens it). A bad ?period= falls back to the default."""
    try:
        if "period" in st.query_params:
            initial = period_from_code(st.query_params["period"])
        elif "from" in st.query_params and "to" in st.query_params:  # links from before issue 10
            initial = period(st.query_params["from"], st.query_params["to"])
        else:
            initial = default_period()
    except ValidationError:
        initial = default_period()
    for old in ("from", "to"):
        if old in st.query_params:
            del st.query_params[old]
    this_year = date.today().year
    years = list(range(this_year, this_year - PERIOD_YEARS_BACK, -1))
    if initial.start.year not in years:
        years.append(initial.start.year)
    kind_col, year_col, number_col = st.columns(3)
    kind = kind_col.selectbox(
        t("dashboard.period_kind"),
        options=list(PERIOD_KINDS),
        index=PERIOD_KINDS.index(initial.kind),
        format_func=lambda k: t(f"dashboard.period_kind.{k}"),
        key=f"{key}_kind",
    )
    year = year_col.selectbox(
        t("dashboard.period_year"), options=years, index=years.index(initial.start.year), key=f"{key}_year"
    )
    number = 1
    if kind != "year":
        count = 4 if kind == "quarter" else 12
        wanted = initial.number if initial.kind == kind else 1
        number = number_col.selectbox(
            t(f"dashboard.period_{kind}"),
            options=list(range(1, count + 1)),
            index=wanted - 1,
            format_func=(lambda q: f"Q{q}") if kind == "quarter" else (lambda m: t(f"schedule.month.{m}")),
            key=f"{key}_{kind}",
        )
    chosen = reporting_period(kind, year, number)
    st.query_params["period"] = chosen.code()
    if is_provisional(chosen):  # issue 10: an open period is live; a closed one is its fixed release
        st.caption(t("dashboard.provisional"))
    return chosen


def definition_text(figure: Figure, chosen: Period | None = None) -> str:
    """The popover text: definition, numerator, denominator and period, in the user's language."""
    lines = [t(figure.definition)]
    for part, shown in (("numerator", figure.numerator_text), ("denominator", figure.denominator_text)):
        if shown is not None:
            lines.append(
                f"**{t('dashboard.' + part)}:** {t(f'{figure.definition}.{part}')} ({fmt_numbers(shown)})"
            )
    if chosen is not None:
        lines.append(f"**{t('dashboard.period')}:** {chosen.label()}")
    if figure.withheld:
        lines.append(t("dashboard.withheld_note"))
    return "\n\n".join(lines)


def figure_metric(label: str, figure: Figure, chosen: Period | None = None, container=None) -> None:
    """st.metric with the figure's shown text and its definition in the help popover."""
    (container or st).metric(
        label, fmt_numbers(figure.text) or WITHHELD, help=definition_text(figure, chosen), border=True
    )


def chart(fig, container=None, **kwargs):
    """st.plotly_chart with numbers on hover, axes and labels in the user's language."""
    return (container or st).plotly_chart(localize_figure(fig), **kwargs)


def figure_row(items: Sequence[tuple[str, Figure]], chosen: Period | None = None) -> None:
    """Several figures side by side (at most four per row, wrapping)."""
    for offset in range(0, len(items), 4):
        chunk = items[offset : offset + 4]
        for column, (label, fig) in zip(st.columns(4), chunk, strict=False):
            figure_metric(label, fig, chosen, container=column)


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """UTF-8 with one BOM (to_csv adds it; Excel opens it right), cells made formula-safe."""
    return to_csv(header, rows).encode("utf-8")


def table_with_download(
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    file_stem: str,
    key: str,
    caption: str | None = None,
    csv: tuple[Sequence[str], Sequence[Sequence[object]]] | None = None,
) -> None:
    """A protected table as shown, with a CSV download of the shown cells as numbers (numbers stay
    numbers; the table shows them in the user's language). `csv` (header, rows) replaces the
    download's content where the table shows several numbers in one cell ("0,52 (0,10–0,94)")."""
    if not rows:
        st.info(t("dashboard.empty_table"))
        return
    columns = {h: [r[i] for r in rows] for i, h in enumerate(header)}
    # Shown as text in the user's language ("65,8" in Swedish; "<5", "*" or "" among the numbers);
    # the download below keeps the numbers themselves.
    columns = {name: display_column(values) for name, values in columns.items()}
    st.dataframe(
        columns,
        hide_index=True,
        width="stretch",
    )
    if caption:
        st.caption(caption)
    st.download_button(
        t("dashboard.download_csv"),
        csv_bytes(*(csv or (header, rows))),
        file_name=f"{file_stem}-{date.today().isoformat()}.csv",
        mime="text/csv",
        key=f"csv_{key}",
        icon=":material/download:",
    )


def suppression_caption() -> str:
    from domain.cellkey import MAX_PERTURBATION
    from services.dashboards import disclosure_rules

    rules = disclosure_rules()
    return " ".join(
        (
            t("dashboard.suppression_note", k=rules.k, k_minus=rules.k - 1, n=rules.min_n_for_rates),
            t("dashboard.perturbation_note", k_minus=rules.k - 1, d=MAX_PERTURBATION),
        )
    )
