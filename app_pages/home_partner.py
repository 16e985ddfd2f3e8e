"""Partner home: the organisation's activities, their freshness and referrals waiting."""

import streamlit as st

from components.i18n import t, tn
from components.session import guard
from domain.markdown_safety import md_inline
from services.home import STALE_DAYS, partner_summary

principal = guard("home_partner")
summary = partner_summary(principal)

st.title(t("home.hello", name=md_inline(principal.display_name)))
st.caption(t("home.partner.organizations", names=", ".join(summary.organizations)))

activities, active, free, waiting = st.columns(4)
activities.metric(t("home.partner.activities"), summary.activities, border=True)
active.metric(t("home.partner.active"), summary.active, border=True)
free.metric(t("home.partner.free_places"), summary.free_places, border=True)
waiting.metric(t("home.partner.referrals_waiting"), summary.referrals_waiting, border=True)

st.page_link("app_pages/directory_upkeep.py", label=t("home.upkeep_link"), icon=":material/fact_check:")
if summary.stale:
    st.warning(tn("home.partner.stale", summary.stale, days=STALE_DAYS))
if summary.pending_approval:
    st.info(tn("home.partner.pending", summary.pending_approval))
if not summary.activities:
    st.info(t("home.partner.empty"))
