"""Deep links and unknown addresses for the router (app.py).

- Logged out, every protected page's address (/patients?…) shows the login form under that same
  address; Streamlit keys a page by its url path, so after login the rerun lands on the real page
  with its query string.
- An address no page of this user has shows a translated "page not found" page instead of
  Streamlit's English dialog over the default page.
"""

from __future__ import annotations

import re

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from components.i18n import t
from components.navigation import LOGIN_PAGE, PAGES, PUBLIC
from domain.markdown_safety import md_inline

_SAFE_PATH = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_REQUESTED = "auth_requested_page"


def requested_path() -> str | None:
    """The url path the browser asked for when this page loaded ('patients'), else None.

    Streamlit 1.67 has no public API for it; st.navigation resolves the same value."""
    ctx = get_script_run_ctx()
    name = getattr(getattr(ctx, "pages_manager", None), "intended_page_name", None)
    return name or None


def url_path(spec) -> str:
    return spec.url_path or spec.key


def login_gates(public_paths: set[str]) -> list[st.Page]:
    """Hidden pages at every protected address that show the login form; remembers the title of
    the one the visitor asked for, for the login page to name (`requested_title`)."""
    gates: dict[str, st.Page] = {}
    asked = requested_path()
    for spec in PAGES:
        path = url_path(spec)
        if PUBLIC in spec.roles or path in public_paths or path in gates or path == "login":
            continue
        gates[path] = st.Page(
            LOGIN_PAGE.path, title=t("page.login"), icon=LOGIN_PAGE.icon, url_path=path, visibility="hidden"
        )
        if path == asked:
            st.session_state[_REQUESTED] = f"page.{spec.key}"
    return list(gates.values())


def requested_title() -> str | None:
    """The translated title of the protected page a logged-out visitor asked for, if any."""
    key = st.session_state.get(_REQUESTED)
    return t(key) if key else None


def forget_requested() -> None:
    st.session_state.pop(_REQUESTED, None)


def _not_found() -> None:
    st.title(t("not_found.title"))
    st.write(t("not_found.body", path=md_inline(f"/{st.session_state.get('_lotsa_missing_path', '')}")))
    st.page_link(st.session_state["_lotsa_home"], label=t("not_found.home"), icon=":material/home:")


def not_found_page(known_paths: set[str], home: st.Page) -> list[st.Page]:
    """A hidden translated not-found page at the requested address when no page has it."""
    path = requested_path()
    if path is None or path in known_paths or not _SAFE_PATH.match(path):
        return []
    st.session_state["_lotsa_missing_path"] = path
    st.session_state["_lotsa_home"] = home
    return [st.Page(_not_found, title=t("page.not_found"), url_path=path, visibility="hidden")]
