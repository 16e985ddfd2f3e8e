"""The sidebar every logged-in page shares: who you are, demo label, and log out."""

from __future__ import annotations

import streamlit as st

from components import session
from components.i18n import t
from domain.markdown_safety import md_inline
from services.principal import Principal
from settings import get_settings


def render_sidebar(principal: Principal) -> None:
    with st.sidebar:
        name = md_inline(principal.display_name)
        st.caption(t("sidebar.signed_in_as", name=name, role=t(f"role.{principal.role}")))
        if principal.care_unit:
            st.caption(t("sidebar.care_unit", unit=principal.care_unit))
        if get_settings().demo:
            st.caption(t("login.demo_badge"))
        session.idle_countdown()
        if st.button(t("sidebar.logout"), icon=":material/logout:", key="logout"):
            session.logout()
            st.rerun()
