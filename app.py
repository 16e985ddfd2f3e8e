"""Lotsa's entry: page config, language, login gate and the role-filtered navigation."""

import streamlit as st

from components import session
from components.i18n import t
from components.navigation import LOGIN_PAGE, PageSpec, pages_for
from components.sidebar import render_sidebar
from settings import get_settings

st.set_page_config(page_title="Lotsa", page_icon=":material/diversity_1:", layout="wide")
if get_settings().development:
    # .streamlit/config.toml hides error details from users; developers see the traceback.
    st.set_option("client.showErrorDetails", "full")


def _page(spec: PageSpec, role: str | None) -> st.Page:
    return st.Page(
        spec.path,
        title=t(f"page.{spec.key}"),
        icon=spec.icon,
        url_path=spec.url_path or spec.key,
        default=role in spec.default_for,
        visibility="hidden" if spec.hidden else "visible",
    )


principal = session.resolve()
if principal is None:
    public = [_page(spec, None) for spec in pages_for(None)]
    login = st.Page(
        LOGIN_PAGE.path, title=t("page.login"), icon=LOGIN_PAGE.icon, url_path="login", default=True
    )
    navigation = st.navigation([login, *public], position="sidebar" if public else "hidden")
else:
    sections: dict[str, list[st.Page]] = {}
    for spec in pages_for(principal.role):
        sections.setdefault(t(f"nav.{spec.section}"), []).append(_page(spec, principal.role))
    navigation = st.navigation(sections)
    render_sidebar(principal)
navigation.run()
