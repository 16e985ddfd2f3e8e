"""Log in: local account form, single sign-on when configured, language picker, demo notice."""

import streamlit as st

from components import routing, session
from components.client import client_id
from components.i18n import error_text, t
from components.language import language_picker
from services.auth import authenticate
from services.errors import LoginFailed
from settings import DEMO_ACCOUNTS, DEMO_PASSWORD, get_settings

language_picker()
st.title(t("login.title"))
st.caption(t("login.tagline"))

notice = session.pop_notice()
if notice:
    st.info(t(notice))
if routing.requested_title():
    st.caption(t("login.continue_to", page=routing.requested_title()))

if get_settings().demo:
    with st.container(border=True):
        st.markdown(f"**{t('login.demo_title')}**")
        st.caption(t("login.demo_body", password=DEMO_PASSWORD))
        st.table(
            {
                t("login.username"): [u for u, _ in DEMO_ACCOUNTS],
                t("login.role"): [t(f"role.{r}") for _, r in DEMO_ACCOUNTS],
            }
        )

with st.form("login", enter_to_submit=True):
    username = st.text_input(t("login.username"), autocomplete="username", max_chars=80)
    password = st.text_input(t("login.password"), type="password", autocomplete="current-password")
    submitted = st.form_submit_button(t("login.submit"), type="primary")

if submitted:
    try:
        principal = authenticate(username, password, source=client_id())
    except LoginFailed as failure:
        st.error(error_text(failure))
    else:
        session.start(principal)
        st.rerun()

if session.oidc_configured():
    st.divider()
    if st.button(t("login.sso"), icon=":material/badge:"):
        st.login()
