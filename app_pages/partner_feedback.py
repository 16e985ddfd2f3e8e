"""Partner feedback: referrals to the partner's own activities and outcome summaries of the people
who took part, protected aggregates only (services.partner_feedback)."""

from __future__ import annotations

import streamlit as st

from components.dashboard import figure_row, period_filter, suppression_caption, table_with_download
from components.i18n import show_service_error, t
from components.session import guard
from domain.disclosure import TOTAL
from services.dashboards import Figure
from services.errors import ServiceError
from services.partner_feedback import COLUMNS, feedback

principal = guard("partner_feedback")
st.title(t("page.partner_feedback"))
st.caption(t("feedback.intro"))
chosen = period_filter()
try:
    view = feedback(principal, chosen.start, chosen.end)
except ServiceError as error:
    show_service_error(error)
    st.stop()

if view.organizations:
    st.caption(t("feedback.organizations", names=", ".join(view.organizations)))

table = view.table
if table is None:
    st.info(t("feedback.no_referrals"))
else:

    def figure(key: tuple, name: str) -> Figure:
        return Figure(name, table.text[key], table.value(key), f"feedback.def.{name}")

    figure_row(
        [
            (t("feedback.received"), figure((TOTAL, TOTAL), "received")),
            (t("feedback.status.started"), figure((TOTAL, "started"), "started")),
            (t("feedback.status.completed"), figure((TOTAL, "completed"), "completed")),
            (t("feedback.status.declined"), figure((TOTAL, "declined"), "declined")),
        ],
        chosen,
    )
    st.subheader(t("feedback.by_activity"))
    header = [t("feedback.activity"), t("feedback.received")] + [t(f"feedback.status.{c}") for c in COLUMNS]
    rows = []
    for row in table.row_keys():
        label = t("feedback.total") if row is TOTAL else view.activity_names[row]
        rows.append(
            [label, table.text.get((row, TOTAL), "")] + [table.text.get((row, c), "") for c in COLUMNS]
        )
    table_with_download(
        header, rows, file_stem="partner-referrals", key="fb_table", caption=t("feedback.status_note")
    )

    if view.reasons is None and table.text.get((TOTAL, "declined")) not in (None, "0"):
        st.caption(t("feedback.reasons_withheld"))
    if view.reasons is not None:
        st.subheader(t("feedback.reasons"))
        reasons = view.reasons
        table_with_download(
            [t("feedback.reason"), t("feedback.count")],
            [
                [t(f"outcome_reason.{r}") if r != "none" else t("feedback.no_reason"), reasons.text[r]]
                for r in reasons.labels
            ]
            + [[t("feedback.total"), reasons.text.get(TOTAL, "")]],
            file_stem="partner-declined-reasons",
            key="fb_reasons",
        )

st.subheader(t("feedback.outcomes"))
st.caption(t("feedback.outcomes_note"))
out_rows, csv_rows = [], []
for o in view.outcomes:
    name, better = t(f"feedback.instrument.{o.instrument}"), t(f"feedback.better.{o.better}")
    if o.mean_change is None:
        mean, ci = t("feedback.too_few"), ""
        csv_rows.append([name, o.n_text, mean, None, None, better])
    else:
        mean, ci = f"{o.mean_change:+.1f}", f"{o.ci_low:+.1f} … {o.ci_high:+.1f}"
        csv_rows.append([name, o.n_text, o.mean_change, o.ci_low, o.ci_high, better])
    out_rows.append([name, o.n_text, mean, ci, better])
table_with_download(
    [
        t("feedback.instrument"),
        t("feedback.n_paired"),
        t("feedback.mean_change"),
        t("feedback.ci"),
        t("feedback.better"),
    ],
    out_rows,
    file_stem="partner-outcomes",
    key="fb_outcomes",
    # the CSV: the mean and its interval's ends as numbers (the table shows "+0,5" and "+0,1 … +0,9")
    csv=(
        [
            t("feedback.instrument"),
            t("feedback.n_paired"),
            t("feedback.mean_change"),
            t("outcomes.csv.ci_low"),
            t("outcomes.csv.ci_high"),
            t("feedback.better"),
        ],
        csv_rows,
    ),
)
with st.expander(t("feedback.definitions")):
    for key in ("received", "started", "completed", "declined", "outcomes"):
        st.markdown(f"**{t(f'feedback.defname.{key}')}**: {t(f'feedback.def.{key}')}")
st.caption(suppression_caption())
