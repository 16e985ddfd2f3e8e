"""Serve Lotsa: `streamlit run serve.py` runs app.py inside Streamlit's ASGI server (st.App) with
two small routes that let a browser session survive a reload or a new tab.

A Streamlit script run cannot answer an HTTP request, so it cannot set an HttpOnly cookie. After
login the page posts a one-time handoff token to POST /_lotsa/session, which answers with the
session cookie (HttpOnly, SameSite=Strict, Secure on https); POST /_lotsa/logout clears it.
The server row behind the cookie is checked on every run (services/sessions.py).
`streamlit run app.py` still works, but then a reload logs the user out.
"""

from __future__ import annotations

# Loaded once, before any session runs: plotly finds pandas through sys.modules, so a chart drawn while
# another session's first page was still importing pandas failed with "partially initialized module
# 'pandas'" (seen under load, bench/RESULTS.md); and no user's first page pays for these imports.
import pandas  # noqa: F401
import plotly.graph_objects  # noqa: F401
import scipy.optimize  # noqa: F401
import streamlit as st
from starlette.routing import Route

from components import outcome_charts, session_cookie
from services import precompute

session_cookie.mark_routes_active()
precompute.VIEW_HOOKS.append(outcome_charts.warm_up)  # and its charts drawn once, off any user's run
precompute.start_background()  # Centre outcomes computed before a manager asks (issue 12)
app = st.App(
    "app.py",
    routes=[
        Route(session_cookie.OPEN_PATH, session_cookie.open_session, methods=["POST"]),
        Route(session_cookie.CLOSE_PATH, session_cookie.close_session, methods=["POST"]),
    ],
)
