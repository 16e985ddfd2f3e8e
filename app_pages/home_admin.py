"""Admin home: accounts, sign-in problems and the state of the installation."""

import streamlit as st

from components.i18n import t
from components.session import guard
from domain.markdown_safety import md_inline
from services.home import admin_summary
from services.principal import ROLES

principal = guard("home_admin")
summary = admin_summary(principal)

st.title(t("home.hello", name=md_inline(principal.display_name)))

cols = st.columns(len(ROLES))
for col, role in zip(cols, ROLES, strict=True):
    col.metric(t(f"role.{role}"), summary.users_by_role.get(role, 0), border=True)

inactive, locked, events, failed = st.columns(4)
inactive.metric(t("home.admin.inactive"), summary.inactive_users, border=True)
locked.metric(t("home.admin.locked"), summary.locked_users, border=True)
events.metric(t("home.admin.events_24h"), summary.audit_events_24h, border=True)
failed.metric(t("home.admin.failed_logins_24h"), summary.failed_logins_24h, border=True)

st.caption(t("home.admin.backend", backend=summary.backend))
if summary.demo:
    st.warning(t("home.admin.demo_warning"))

links = st.columns(2)
links[0].page_link("app_pages/admin_users.py", label=t("page.admin_users"), icon=":material/group:")
links[1].page_link("app_pages/audit_log.py", label=t("page.audit_log"), icon=":material/policy:")
