"""Widgets every outcome dashboard shares: the period filter (kept in the URL), a figure with its
definition popover, a table with its CSV download, and a chart that never draws withheld points.

Service figures arrive already protected (`services.dashboards.Figure`); nothing here computes or
un-suppresses a number."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import streamlit as st

from components.i18n import show_service_error, t
from domain.csv_safety import to_csv
from services.dashboards import Figure, Period, default_period, period
from services.errors import ValidationError

WITHHELD = "–"


def period_filter(key: str = "period") -> Period:
    """Two date inputs (from, to) in one row, defaulting to the last 12 months, mirrored in the URL
    as ?from=YYYY-MM-DD&to=YYYY-MM-DD so a view can be shared. A bad range keeps the inputs and
    falls back to the default with the error shown."""
    fallback = default_period()
    try:
        initial = period(st.query_params.get("from", fallback.start), st.query_params.get("to", fallback.end))
    except ValidationError:
        initial = fallback
    left, right = st.columns(2)
    start = left.date_input(t("dashboard.from"), value=initial.start, key=f"{key}_from", format="YYYY-MM-DD")
    end = right.date_input(t("dashboard.to"), value=initial.end, key=f"{key}_to", format="YYYY-MM-DD")
    try:
        chosen = period(start, end)
    except ValidationError as error:
        show_service_error(error, {"start": t("dashboard.from"), "end": t("dashboard.to")})
        return initial
    st.query_params["from"] = chosen.start.isoformat()
    st.query_params["to"] = chosen.end.isoformat()
    return chosen


def definition_text(figure: Figure, chosen: Period | None = None) -> str:
    """The popover text: definition, numerator, denominator and period, in the user's language."""
    lines = [t(figure.definition)]
    for part, shown in (("numerator", figure.numerator_text), ("denominator", figure.denominator_text)):
        if shown is not None:
            lines.append(f"**{t('dashboard.' + part)}:** {t(f'{figure.definition}.{part}')} ({shown})")
    if chosen is not None:
        lines.append(f"**{t('dashboard.period')}:** {chosen.label()}")
    if figure.withheld:
        lines.append(t("dashboard.withheld_note"))
    return "\n\n".join(lines)


def figure_metric(label: str, figure: Figure, chosen: Period | None = None, container=None) -> None:
    """st.metric with the figure's shown text and its definition in the help popover."""
    (container or st).metric(
        label, figure.text or WITHHELD, help=definition_text(figure, chosen), border=True
    )


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
) -> None:
    """A protected table as shown, with a CSV download of exactly the shown cells."""
    if not rows:
        st.info(t("dashboard.empty_table"))
        return
    columns = {h: [r[i] for r in rows] for i, h in enumerate(header)}
    for name, values in columns.items():  # "<5", "*" or "" among numbers: one type per column for Arrow
        if len({type(v) for v in values if v is not None} - {bool}) > 1:
            columns[name] = ["" if v is None else str(v) for v in values]
    st.dataframe(
        columns,
        hide_index=True,
        width="stretch",
    )
    if caption:
        st.caption(caption)
    st.download_button(
        t("dashboard.download_csv"),
        csv_bytes(header, rows),
        file_name=f"{file_stem}-{date.today().isoformat()}.csv",
        mime="text/csv",
        key=f"csv_{key}",
        icon=":material/download:",
    )


def suppression_caption() -> str:
    from services.dashboards import disclosure_rules

    rules = disclosure_rules()
    return t("dashboard.suppression_note", k=rules.k, k_minus=rules.k - 1, n=rules.min_n_for_rates)
