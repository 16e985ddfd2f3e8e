"""The browser half of the session cookie: a tiny script that posts the one-time handoff token to
serve.py's route (which sets the HttpOnly cookie), or asks it to clear the cookie on logout.

The routes exist only when Lotsa is served by `streamlit run serve.py` (which sets
`_LOTSA_SESSION_ROUTES=1` in its own process); under plain `streamlit run app.py` nothing is
rendered and sessions last as long as the tab, as before.
"""

from __future__ import annotations

import json
import os

import streamlit as st

OPEN_PATH = "/_lotsa/session"
CLOSE_PATH = "/_lotsa/logout"
_FLAG = "_LOTSA_SESSION_ROUTES"


def mark_routes_active() -> None:
    """Called by serve.py: the cookie routes are served in this process."""
    os.environ[_FLAG] = "1"


def routes_active() -> bool:
    return os.environ.get(_FLAG) == "1"


def _script(path: str, body: str, marker: str) -> None:
    # The token is urlsafe base64 and the paths are constants; json.dumps quotes them for JS.
    st.html(
        f"<script data-lotsa-session='{marker}'>"
        f"fetch({json.dumps(path)}, {{method: 'POST', credentials: 'same-origin', cache: 'no-store', "
        f"headers: {{'Content-Type': 'text/plain'}}, body: {json.dumps(body)}}})"
        f".then(r => document.documentElement.dataset.lotsaSession = '{marker}:' + r.status)"
        f".catch(() => document.documentElement.dataset.lotsaSession = '{marker}:error');"
        "</script>",
        unsafe_allow_javascript=True,
        width="content",
    )


def open_cookie(handoff: str) -> None:
    """Let the browser trade the handoff token for the session cookie."""
    if routes_active():
        _script(OPEN_PATH, handoff, "open")


def clear_cookie() -> None:
    """Let the browser drop the session cookie (logout, ended session)."""
    if routes_active():
        _script(CLOSE_PATH, "", "close")
