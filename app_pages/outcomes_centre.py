"""Centre dashboard (issue 5, item 1): a manager's centres or a connector's own, for a period and
programme. The service returns protected, display-ready results; this page only lays them out."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from components.dashboard import chart, figure_metric, period_filter, suppression_caption, table_with_download
from components.i18n import current_language, show_service_error, t, tn
from components.outcome_charts import (
    funnel_chart,
    paired_chart,
    paired_csv,
    paired_table,
    rank_chart,
    rank_csv,
    rank_table,
    reliable_csv,
    reliable_table,
    spc_chart,
)
from components.query import query_id
from components.session import guard
from services.dashboards import view_as_of
from services.errors import ServiceError
from services.outcomes import FOLLOWUP_CHOICES, centre_choices, centre_dashboard, programme_choices
from services.report import centre_report_html, report_file_name

MAX_NAMED_CENTRES = 5

principal = guard("outcomes_centre")
language = current_language()
st.title(t("page.outcomes_centre"))

try:
    centres = centre_choices(principal)
    programmes = programme_choices(principal)
except ServiceError as error:
    show_service_error(error)
    st.stop()
if not centres:
    st.info(t("outcomes.no_centres"))
    st.stop()

chosen = period_filter("outcomes_centre")
left, middle, right = st.columns([2, 1, 1])
centre_names = dict(centres)
# The whole scope or one centre, never another subset (issue 10). ?centre=<id> (the link from Compare
# centres) preselects that centre when it is one of the user's.
centre_options = [None, *centre_names] if len(centre_names) > 1 else list(centre_names)
linked = query_id("centre")
picked = left.selectbox(
    t("outcomes.filter.centre"),
    options=centre_options,
    index=centre_options.index(linked) if linked in centre_names else 0,
    format_func=lambda cid: t("outcomes.filter.all_centres") if cid is None else centre_names[cid],
    key="outcomes_centre_centre",
)
programme_names = {code: names[{"sv": 0, "da": 1, "en": 2}[language]] for code, names in programmes}
programme = middle.selectbox(
    t("outcomes.filter.programme"),
    options=[None, *programme_names],
    format_func=lambda code: t("outcomes.filter.all_programmes") if code is None else programme_names[code],
    key="outcomes_centre_programme",
)
followup = right.selectbox(
    t("outcomes.filter.followup"),
    options=list(FOLLOWUP_CHOICES),
    format_func=lambda m: t("outcomes.followup.latest") if m is None else t("outcomes.followup.months", n=m),
    key="outcomes_centre_followup",
)
centre_ids = None if picked is None else (picked,)
try:
    board = centre_dashboard(principal, centre_ids, chosen.start, chosen.end, programme, followup)
except ServiceError as error:
    show_service_error(
        error, {"programme": t("outcomes.filter.programme"), "followup": t("outcomes.filter.followup")}
    )
    st.stop()
as_of = view_as_of()
if as_of is not None and as_of.stale:
    # The data changed since these figures were computed; they are being recomputed in the
    # background and the page reloads itself when the new ones are ready.
    st.info(t("outcomes.stale", time=as_of.at.astimezone().strftime("%H:%M")), icon=":material/update:")

    @st.fragment(run_every=timedelta(seconds=2))
    def _reload_when_current() -> None:
        if centre_dashboard.is_current(principal, centre_ids, chosen.start, chosen.end, programme, followup):
            st.rerun(scope="app")

    _reload_when_current()

# A region's 200 centre names would fill the screen: a count, the names a click away.
many = len(board.centres) > MAX_NAMED_CENTRES
st.caption(
    t(
        "outcomes.intro",
        centres=tn("outcomes.centres", len(board.centres)) if many else ", ".join(board.centres),
        period=board.period.label(),
        programme=t("outcomes.filter.all_programmes") if programme is None else programme_names[programme],
    )
)
if many:
    with st.expander(t("outcomes.centres_listed")):
        st.caption(", ".join(board.centres))
st.caption(suppression_caption())

# Figures -------------------------------------------------------------------------------------------
st.subheader(t("outcomes.section.screening"))
for offset in range(0, len(board.figures), 5):
    chunk = board.figures[offset : offset + 5]
    for column, fig in zip(st.columns(5), chunk, strict=False):
        figure_metric(t(f"outcomes.fig.{fig.key}"), fig, board.period, container=column)
chart(funnel_chart(board.funnel, t), width="stretch", key="outcomes_funnel")
st.caption(t("outcomes.funnel.note"))

# Paired change -------------------------------------------------------------------------------------
st.subheader(t("outcomes.paired.header"))
st.markdown(t("outcomes.paired.why"))
header, rows = paired_table(board.paired, t, language)
table_with_download(
    header, rows, file_stem="paired-change", key="outcomes_paired", csv=paired_csv(board.paired, t)
)
followup_label = (
    t("outcomes.followup.latest") if followup is None else t("outcomes.followup.months", n=followup)
)
st.caption(t("outcomes.paired.definition", followup=followup_label, n=board.rules.min_n_for_rates))
if any(r.mean_change is not None for r in board.paired):
    chart(paired_chart(board.paired, t), width="stretch", key="outcomes_paired_chart")

# Reliable change -----------------------------------------------------------------------------------
st.subheader(t("outcomes.reliable.header"))
if not board.reliability_configured:
    st.info(t("outcomes.reliable.not_configured"))
else:
    if board.reliability_unverified:
        st.warning(t("outcomes.reliable.unverified"))
    header, rows = reliable_table(board.reliable, t, language)
    table_with_download(
        header,
        rows,
        file_stem="reliable-change",
        key="outcomes_reliable",
        csv=reliable_csv(board.reliable, t),
    )
    st.caption(t("outcomes.reliable.definition"))

# SPC trend -----------------------------------------------------------------------------------------
st.subheader(t("outcomes.spc.header"))
if board.trend.drawable:
    chart(spc_chart(board.trend, t), width="stretch", key="outcomes_spc")
    if board.trend.trial_limits:
        st.caption(t("outcomes.spc.trial_note"))
else:
    st.info(t("outcomes.spc.too_few"))
st.caption(t("outcomes.spc.legend"))
if board.trend.months_hidden:
    st.caption(
        t(
            "outcomes.spc.hidden",
            hidden=board.trend.months_hidden,
            total=board.trend.months_total,
            n=board.rules.min_n_for_rates,
        )
    )

# Activities ----------------------------------------------------------------------------------------
st.subheader(t("outcomes.activities.header"))
left, right = st.columns(2)
for column, ranked, kind, title, stem in (
    (left, board.activities, "activity", "outcomes.activities.title", "activities"),
    (right, board.categories, "category", "outcomes.categories.title", "categories"),
):
    with column:
        if ranked:
            chart(
                rank_chart(ranked, t(title), t("outcomes.activities.x"), language),
                width="stretch",
                key=f"outcomes_{stem}_chart",
            )
        header, rows = rank_table(ranked, t, language, kind)
        table_with_download(
            header,
            rows,
            file_stem=stem,
            key=f"outcomes_{stem}",
            csv=rank_csv(ranked, t, language, kind),
        )
st.caption(t("outcomes.activities.note"))

# Report --------------------------------------------------------------------------------------------
st.divider()
st.download_button(
    t("outcomes.report.download"),
    data=lambda: centre_report_html(
        principal, centre_ids, chosen.start, chosen.end, programme, language, followup
    ),
    file_name=report_file_name(chosen),
    mime="text/html",
    icon=":material/description:",
    key="outcomes_report",
)
st.caption(suppression_caption())
