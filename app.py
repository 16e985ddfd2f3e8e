"""Lotsa's entry: page config, language, login gate and the role-filtered navigation."""

import streamlit as st

from components import session
from components.i18n import t
from components.navigation import LOGIN_PAGE, PageSpec, pages_for
from components.sidebar import render_sidebar

st.set_page_config(page_title="Lotsa", page_icon=":material/diversity_1:", layout="wide")


def _page(spec: PageSpec, role: str | None) -> st.Page:
    return st.Page(
        spec.path,
        title=t(f"page.{spec.key}"),
        icon=spec.icon,
        url_path=spec.url_path or spec.key,
        default=role in spec.default_for,
    )


principal = session.resolve()
if principal is None:
    navigation = st.navigation([_page(LOGIN_PAGE, None)], position="hidden")
else:
    sections: dict[str, list[st.Page]] = {}
    for spec in pages_for(principal.role):
        sections.setdefault(t(f"nav.{spec.section}"), []).append(_page(spec, principal.role))
    navigation = st.navigation(sections)
    render_sidebar(principal)
navigation.run()
