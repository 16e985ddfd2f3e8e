"""The audit log: who read or changed what, filtered and paged in SQL, exportable as safe CSV."""

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from components.i18n import audit_label, t
from components.session import guard
from locales import catalogue
from services.audit import AUDIT_PAGE_SIZE, export_events, search_events

principal = guard("audit_log")

st.title(t("page.audit_log"))
st.caption(t("audit.intro"))

OUTCOMES = ("", "ok", "denied", "failed", "locked", "throttled", "idle_timeout", "absolute_timeout")
# Action groups are the first part of the action codes (patient., login, ...), named in the catalogue.
_GROUP = "audit.group."
GROUPS = ("", *sorted(k.removeprefix(_GROUP) for k in catalogue("sv") if k.startswith(_GROUP)))


with st.form("audit_filters", enter_to_submit=True, border=True):
    first, second, third = st.columns(3)
    username = first.text_input(t("audit.user"), key="audit_user", max_chars=80)
    action = second.selectbox(
        t("audit.action"),
        GROUPS,
        key="audit_action",
        format_func=lambda g: t(f"audit.group.{g}") if g else t("audit.any"),
    )
    outcome = third.selectbox(
        t("audit.outcome"),
        OUTCOMES,
        key="audit_outcome",
        format_func=lambda o: audit_label("result", o) if o else t("audit.any"),
    )
    pseudonym = first.text_input(t("audit.patient"), key="audit_patient", max_chars=20)
    today = datetime.now(UTC).date()
    period = second.date_input(
        t("audit.period"), value=(today - timedelta(days=30), today), max_value=today, key="audit_period"
    )
    st.form_submit_button(t("audit.apply"), type="primary", icon=":material/filter_alt:")

since = until = None
if isinstance(period, tuple) and len(period) == 2:
    since = datetime.combine(period[0], time.min, tzinfo=UTC)
    until = datetime.combine(period[1] + timedelta(days=1), time.min, tzinfo=UTC)
elif isinstance(period, tuple) and len(period) == 1:
    since = datetime.combine(period[0], time.min, tzinfo=UTC)

criteria = {
    "username": username or None,
    "action": action or None,
    "outcome": outcome or None,
    "patient_pseudonym": pseudonym or None,
    "since": since,
    "until": until,
}
signature = repr(sorted(criteria.items()))
if st.session_state.get("audit_signature") != signature:
    st.session_state["audit_signature"] = signature
    st.session_state["audit_page"] = 0
page = st.session_state.get("audit_page", 0)

events, total = search_events(principal, page=page, **criteria)
pages = max(1, -(-total // AUDIT_PAGE_SIZE))

if not events:
    st.info(t("audit.empty"))
else:
    st.dataframe(
        {
            t("audit.at"): [e.at for e in events],
            t("audit.user"): [e.username or "" for e in events],
            t("audit.role"): [t(f"role.{e.role}") if e.role else "" for e in events],
            t("audit.care_unit"): [e.care_unit or "" for e in events],
            t("audit.patient"): [e.patient_pseudonym or "" for e in events],
            t("audit.action"): [audit_label("action", e.action) for e in events],
            t("audit.outcome"): [audit_label("result", e.outcome) for e in events],
            t("audit.detail"): [e.detail or "" for e in events],
        },
        hide_index=True,
        width="stretch",
        column_config={t("audit.at"): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")},
    )

prev_col, info_col, next_col, export_col = st.columns([1, 3, 1, 2], vertical_alignment="center")
if prev_col.button(t("audit.previous"), disabled=page == 0, icon=":material/chevron_left:", key="audit_prev"):
    st.session_state["audit_page"] = page - 1
    st.rerun()
info_col.caption(t("audit.page_of", page=page + 1, pages=pages, total=total))
if next_col.button(
    t("audit.next"), disabled=page + 1 >= pages, icon=":material/chevron_right:", key="audit_next"
):
    st.session_state["audit_page"] = page + 1
    st.rerun()
export_col.download_button(
    t("audit.export"),
    data=lambda: export_events(principal, **criteria)[0],
    file_name=f"lotsa-audit-{today.isoformat()}.csv",
    mime="text/csv",
    icon=":material/download:",
    disabled=total == 0,
    on_click="ignore",
    key="audit_export",
)
