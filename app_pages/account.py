"""My account: who I am, what I may see, my language, and my password."""

import streamlit as st

from components.i18n import current_language, show_service_error, t
from components.session import guard, session_id
from domain.markdown_safety import md_inline
from locales import LANGUAGE_NAMES, LANGUAGES
from services.auth import account_details, change_password, set_language
from services.errors import ServiceError

principal = guard("account")
details = account_details(principal)

st.title(t("page.account"))

with st.container(border=True):
    st.markdown(f"**{md_inline(details.display_name)}** · {md_inline(details.username)}")
    st.caption(t("account.role_line", role=t(f"role.{details.role}")))
    if details.scope:
        st.caption(t("account.scope_line", scope=", ".join(md_inline(s) for s in details.scope)))
    if details.email:
        st.caption(t("account.email_line", email=md_inline(details.email)))

st.subheader(t("account.language"))
language = st.radio(
    t("account.language"),
    LANGUAGES,
    index=LANGUAGES.index(current_language()),
    format_func=LANGUAGE_NAMES.get,
    horizontal=True,
    label_visibility="collapsed",
    key="account_language",
)
if language != current_language():
    set_language(principal, language)
    st.session_state["lang"] = language
    st.rerun()
st.caption(t("account.language_help"))

st.subheader(t("account.password_title"))
if not details.has_password:
    st.info(t("account.sso_only"))
else:
    labels = {
        "current": t("account.current_password"),
        "password": t("account.new_password"),
        "repeat": t("account.repeat_password"),
    }
    with st.form("change_password", enter_to_submit=True):
        current = st.text_input(labels["current"], type="password", autocomplete="current-password")
        new = st.text_input(
            labels["password"], type="password", autocomplete="new-password", help=t("account.password_help")
        )
        repeat = st.text_input(labels["repeat"], type="password", autocomplete="new-password")
        submitted = st.form_submit_button(t("account.change_password"), type="primary")
    if submitted:
        try:
            # this browser stays logged in; the user's other sessions end
            change_password(principal, current=current, new=new, repeat=repeat, keep_session_id=session_id())
        except ServiceError as error:
            show_service_error(error, labels)
        else:
            st.success(t("account.password_changed"))
