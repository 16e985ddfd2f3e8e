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
            _preload_charts(run_when_idle=principal.role in DASHBOARD_ROLES)
        if st.button(t("sidebar.logout"), icon=":material/logout:", key="logout"):
            session.logout()
            st.rerun()


# The roles whose pages draw Plotly charts (outcomes, compare, evaluation, economics, gaps, feedback).
CHART_ROLES = ("manager", "connector", "partner")
# The roles whose work is the dashboards: their browser also runs the chart module when idle (below).
DASHBOARD_ROLES = ("manager",)


@functools.lru_cache(maxsize=1)
def _chart_module() -> str | None:
    """Streamlit's Plotly chart bundle (about 4.7 MB, its file name changes with each release)."""
    found = sorted((Path(st.__file__).parent / "static" / "static" / "js").glob("PlotlyChart.*.js"))
    return f"./static/js/{found[0].name}" if found else None


def _preload_charts(*, run_when_idle: bool) -> None:
    """Let the browser fetch and compile the chart bundle while the user reads the home page, so the
    first chart page of the session waits less for it. A constant link to Streamlit's own file, no
    user text.

    For managers, whose pages are the dashboards, the browser also runs the module at its first idle
    moment. Running it is most of a first chart's cost in the browser (Centre outcomes, region
    manager, quiet 2-core machine: 0.9 s of Plotly's own code and about 1 s of compiling and layout
    in a 2.1-2.6 s first visit; bench/bench_centre_first.py browser). It is one main-thread task of
    about a second, once per tab; a click during it waits for it, and would have waited as long on
    the chart page. Connectors and partners, who click through forms and maps and seldom open a
    chart, are not given that pause (two connector browser tests clicked into it, Dec 2026)."""
    html = preload_html()
    if html:
        st.markdown(html, unsafe_allow_html=True)
        if run_when_idle:
            st.html(idle_import_html(), unsafe_allow_javascript=True)


def preload_html() -> str | None:
    """The preload element: a constant built from Streamlit's own file name (tests allow exactly this)."""
    module = _chart_module()
    return f'<link rel="modulepreload" href="{module}">' if module else None


def idle_import_html() -> str:
    """Run the chart module once the browser is idle: the page's first chart then finds it loaded (a
    module runs once per document; Streamlit's own import of the same address reuses it). A constant
    naming Streamlit's own file; with the session cookie's, the app's only script."""
    address = json.dumps(_chart_module())
    run = f"(window.requestIdleCallback || setTimeout)(() => import({address}));"
    return f'<script type="module">{run}</script>'
