"""Lotsa's entry: page config, language, login gate and the role-filtered navigation."""

from pathlib import Path

import streamlit as st

from components import routing, session
from components.i18n import t
from components.language import translate_streamlit_texts
from components.navigation import LOGIN_PAGE, PageSpec, pages_for
from components.sidebar import render_sidebar
from services.keys import key_problem
from settings import get_settings

# A bundled favicon: a Material icon here would be fetched from an external font host on every page.
FAVICON = Path(__file__).resolve().parent / "static" / "favicon.png"
st.set_page_config(page_title="Lotsa", page_icon=str(FAVICON), layout="wide")
translate_streamlit_texts()
if get_settings().development:
    # .streamlit/config.toml hides error details from users; developers see the traceback.
    st.set_option("client.showErrorDetails", "full")

# A wrong or missing LOTSA_SECRET_KEY stops here with a plain message, before any patient page runs.
_key_problem = key_problem()
if _key_problem:
    st.error(f"**{t('key.error.title')}**\n\n{t(_key_problem)}")
    st.stop()


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
    public_specs = pages_for(None)
    public = [_page(spec, None) for spec in public_specs]
    login = st.Page(
        LOGIN_PAGE.path, title=t("page.login"), icon=LOGIN_PAGE.icon, url_path="login", default=True
    )
    # a deep link to a protected page shows the login under its address, then lands there
    gates = routing.login_gates({routing.url_path(spec) for spec in public_specs})
    known = [login, *public, *gates]
    known += routing.not_found_page({"login", *(page.url_path for page in [*public, *gates])}, login)
    navigation = st.navigation(known, position="sidebar" if public else "hidden")
else:
    sections: dict[str, list[st.Page]] = {}
    homes = []
    for spec in pages_for(principal.role):
        page = _page(spec, principal.role)
        sections.setdefault(t(f"nav.{spec.section}"), []).append(page)
        homes += [page] if principal.role in spec.default_for else []
    paths = {routing.url_path(spec) for spec in pages_for(principal.role)}
    missing = routing.not_found_page(paths, (homes or next(iter(sections.values())))[0])
    if missing:
        sections.setdefault(t("nav.main"), []).extend(missing)
    navigation = st.navigation(sections)
    render_sidebar(principal)
session.browser_actions()
navigation.run()
