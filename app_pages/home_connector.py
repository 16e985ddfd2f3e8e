"""Connector home: today's worklist at a glance for the connector's own centres."""

import streamlit as st

from components.i18n import t
from components.session import guard
from services.home import connector_summary

principal = guard("home_connector")
summary = connector_summary(principal)

st.title(t("home.hello", name=principal.display_name))
st.caption(t("home.connector.centres", centres=", ".join(summary.centres)))

st.subheader(t("home.connector.worklist"))
due, overdue, upcoming, unanswered = st.columns(4)
due.metric(t("home.connector.due_today"), summary.due_today, border=True)
overdue.metric(t("home.connector.overdue"), summary.overdue, border=True)
upcoming.metric(t("home.connector.upcoming"), summary.upcoming, border=True)
unanswered.metric(
    t("home.connector.unanswered"),
    summary.unanswered_referrals,
    border=True,
    help=t("home.connector.unanswered_help"),
)

patients, referrals = st.columns(2)
patients.metric(t("home.connector.patients"), summary.patients, border=True)
referrals.metric(t("home.connector.open_referrals"), summary.open_referrals, border=True)

if summary.overdue:
    st.warning(t("home.connector.overdue_note", n=summary.overdue))
elif not summary.patients:
    st.info(t("home.connector.empty"))
