"""The sidebar every logged-in page shares: who you are, demo label, and log out."""

from __future__ import annotations

import functools
from pathlib import Path

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
        if principal.role in CHART_ROLES:
            _preload_charts()
        if st.button(t("sidebar.logout"), icon=":material/logout:", key="logout"):
            session.logout()
            st.rerun()


# The roles whose pages draw Plotly charts (outcomes, compare, evaluation, economics, gaps, feedback).
CHART_ROLES = ("manager", "connector", "partner")


@functools.lru_cache(maxsize=1)
def _chart_module() -> str | None:
    """Streamlit's Plotly chart bundle (about 4.7 MB, its file name changes with each release)."""
    found = sorted((Path(st.__file__).parent / "static" / "static" / "js").glob("PlotlyChart.*.js"))
    return f"./static/js/{found[0].name}" if found else None


def _preload_charts() -> None:
    """Let the browser fetch and compile the chart bundle while the user reads the home page, so the
    first chart page of the session waits less for it (Centre outcomes' first visit after 3 s on the
    home page: 1.98 s without, 1.59 s with; bench/bench_centre_first.py browser). A constant link to
    Streamlit's own file, no user text: the one raw-HTML element in the app."""
    html = preload_html()
    if html:
        st.markdown(html, unsafe_allow_html=True)


def preload_html() -> str | None:
    """The preload element: a constant built from Streamlit's own file name (tests allow exactly this)."""
    module = _chart_module()
    return f'<link rel="modulepreload" href="{module}">' if module else None
