"""Compare centres: funnel plots of three proportions per centre (no league tables), a centre
picked from a chart, and a table of the centres sorted by name with a CSV download."""

from __future__ import annotations

import streamlit as st

from components.compare_charts import funnel_figure
from components.dashboard import chart, figure_row, period_filter, suppression_caption, table_with_download
from components.i18n import fmt_number, show_service_error, t
from components.session import guard
from domain.markdown_safety import md_inline
from services.compare import METRICS, MIN_CENTRES, compare_centres
from services.errors import ServiceError

principal = guard("outcomes_compare")
st.title(t("page.outcomes_compare"))
st.caption(t("compare.intro"))

chosen = period_filter("compare")
try:
    view = compare_centres(principal, chosen.start, chosen.end)
except ServiceError as error:
    show_service_error(error)
    st.stop()

if not view.enough_centres:
    st.info(t("compare.too_few", n=view.centre_count, min=MIN_CENTRES))
    st.stop()

as_of = view.as_of.astimezone().strftime("%Y-%m-%d %H:%M") if view.as_of else "–"
st.caption(t("compare.as_of", time=as_of, period=view.period.label()))

PICK = "compare_centre"
names = {c.centre_id: c.name for c in view.centres}
if st.session_state.get(PICK) not in names:
    st.session_state[PICK] = None


def _picked(chart_key: str, event) -> None:
    """A point chosen in a chart picks its centre (only when the chart's selection changed)."""
    points = list(event.get("selection", {}).get("points", [])) if event else []
    seen_key = f"{chart_key}_seen"
    signature = repr(points)
    if signature == st.session_state.get(seen_key):
        return
    st.session_state[seen_key] = signature
    for point in points:
        centre = point.get("customdata")
        if isinstance(centre, list):
            centre = centre[0] if centre else None
        if centre is not None and int(centre) in names:
            st.session_state[PICK] = int(centre)
            return


BAND_LABELS = {
    f"band.{b}": t(f"compare.band.{b}") for b in ("within", "above_95", "above_998", "below_95", "below_998")
}
for panel in view.panels:
    st.subheader(t(f"compare.metric.{panel.metric}"))
    with st.popover(t("compare.definition"), icon=":material/info:"):
        st.markdown(t(f"compare.def.{panel.metric}"))
        st.markdown(f"**{t('dashboard.numerator')}:** {t(f'compare.def.{panel.metric}.numerator')}")
        st.markdown(f"**{t('dashboard.denominator')}:** {t(f'compare.def.{panel.metric}.denominator')}")
        st.markdown(f"**{t('dashboard.period')}:** {view.period.label()}")
        st.markdown(t("compare.def.limits"))
    if panel.available and panel.metric == "ucla3_reliable" and view.reliability_source:
        st.caption(t("compare.reliability_source", source=view.reliability_source))
    if not panel.available:
        st.info(t("compare.no_reliability"))
        continue
    if not panel.points:
        st.info(t("compare.nothing_drawn", left_out=panel.left_out_text))
        continue
    limits = t("compare.limits_adjusted") if panel.adjusted else t("compare.limits_exact")
    labels = {
        "title": f"{t(f'compare.metric.{panel.metric}')} ({limits})",
        "x": t(f"compare.axis.x.{panel.metric}"),
        "y": t("compare.axis.y"),
        "target": t("compare.target", rate=f"{panel.target * 100:.0f} %"),
        "limit95": t("compare.limit95"),
        "limit998": t("compare.limit998"),
        **BAND_LABELS,
    }
    key = f"funnel_{panel.metric}"
    event = chart(
        funnel_figure(panel, labels),
        key=key,
        on_select="rerun",
        selection_mode=("points", "box"),
        config={"displaylogo": False},
    )
    _picked(key, event)
    st.caption(
        t("compare.drawn", drawn=len(panel.points), left_out=panel.left_out_text)
        + " "
        + (
            t("compare.adjusted_note", phi=fmt_number(panel.phi, 2))
            if panel.adjusted
            else t("compare.exact_note")
        )
    )

st.subheader(t("compare.picked_title"))
st.selectbox(
    t("compare.pick"),
    options=[None, *names],
    format_func=lambda c: t("compare.pick_none") if c is None else names[c],
    key=PICK,
    placeholder=t("compare.pick_none"),
)
picked = next((c for c in view.centres if c.centre_id == st.session_state.get(PICK)), None)
if picked is None:
    st.caption(t("compare.pick_hint"))
else:
    figure_row(
        [(t(f"compare.metric.{m}"), f) for m, f in zip(METRICS, picked.figures, strict=True)], view.period
    )
    st.page_link(
        "app_pages/outcomes_centre.py",
        label=t("compare.open_centre", name=md_inline(picked.name)),
        icon=":material/monitoring:",
        query_params={
            "centre": str(picked.centre_id),
            "from": view.period.start.isoformat(),
            "to": view.period.end.isoformat(),
        },
    )

st.subheader(t("compare.table_title"))
header = [t("compare.col.centre")]
for m in METRICS:
    header += [t(f"compare.metric.{m}"), t("compare.col.band")]
rows, csv_rows = [], []
for c in view.centres:
    row: list[object] = [c.name]
    csv_row: list[object] = [c.name]
    for fig, band in zip(c.figures, c.bands, strict=True):
        band_text = t(f"compare.band.{band}") if band else t("compare.band.not_drawn")
        row += [fig.text, band_text]
        # every metric is a share: the CSV has it as a whole percent number, "–" where withheld
        csv_row += [fig.text if fig.value is None else round(100 * fig.value), band_text]
    rows.append(row)
    csv_rows.append(csv_row)
csv_header = [t("compare.col.centre")]
for m in METRICS:
    csv_header += [f"{t(f'compare.metric.{m}')} (%)", t("compare.col.band")]
table_with_download(
    header,
    rows,
    file_stem="compare-centres",
    key="compare_table",
    caption=t("compare.table_note"),
    csv=(csv_header, csv_rows),
)
st.caption(suppression_caption())
