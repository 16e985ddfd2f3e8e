"""The sidebar every logged-in page shares: who you are, demo label, and log out."""

from __future__ import annotations

import functools
import json
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
    """Let the browser fetch, compile and run the chart bundle while the user reads the home page,
    so the first chart page of the session does not wait for it. Fetching and compiling
    (modulepreload) saved 0.4 s; running the module was still a 1.5 s task on the first chart
    (Centre outcomes' first visit after 3 s on the home page: 3.1 s, with the idle import 1.3 s;
    bench/bench_centre_first.py browser). Both are constants naming Streamlit's own file, no user
    text: the app's only raw-HTML element and, besides the session cookie's, its only script."""
    html = preload_html()
    if html:
        st.markdown(html, unsafe_allow_html=True)
        st.html(idle_import_html(), unsafe_allow_javascript=True)


def preload_html() -> str | None:
    """The preload element: a constant built from Streamlit's own file name (tests allow exactly this)."""
    module = _chart_module()
    return f'<link rel="modulepreload" href="{module}">' if module else None


def idle_import_html() -> str:
    """Run the chart module once the browser is idle: the page's first chart then finds it loaded
    (a module runs once per document; Streamlit's own import of the same address reuses it)."""
    address = json.dumps(_chart_module())
    run = f"(window.requestIdleCallback || setTimeout)(() => import({address}));"
    return f'<script type="module">{run}</script>'
