"""The session cookie's two halves. In the page: a tiny script that posts the one-time handoff
token to POST /_lotsa/session, or asks POST /_lotsa/logout to clear the cookie. On the server:
those two routes (served by serve.py), which answer with Set-Cookie (HttpOnly, SameSite=Strict,
Secure on https), since a Streamlit script run cannot answer an HTTP request itself.

The routes exist only when Lotsa is served by `streamlit run serve.py` (which sets
`_LOTSA_SESSION_ROUTES=1` in its own process); under plain `streamlit run app.py` nothing is
rendered and sessions last as long as the tab, as before.
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlsplit

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from services import sessions
from settings import get_settings

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


# Server half (Starlette routes, registered by serve.py) -----------------------------------------


def _secure(request: Request) -> bool:
    """Secure cookies on https; behind a TLS-terminating proxy the browser's Origin says so."""
    return request.url.scheme == "https" or request.headers.get("origin", "").startswith("https://")


def _same_origin(request: Request) -> bool:
    """Refuse cross-site posts: the Origin header, when sent, must name this host (the scheme may
    differ behind a TLS-terminating proxy that passes the Host header on)."""
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host", "")


async def open_session(request: Request) -> Response:
    if not _same_origin(request):
        return Response(status_code=403)
    handoff = (await request.body()).decode("ascii", errors="replace").strip()[:200]
    cookie = await run_in_threadpool(sessions.claim, handoff)
    if cookie is None:
        return Response(status_code=403)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        sessions.COOKIE_NAME,
        cookie,
        max_age=int(get_settings().absolute_hours * 3600),
        path="/",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return response


async def close_session(request: Request) -> Response:
    if not _same_origin(request):
        return Response(status_code=403)
    cookie = request.cookies.get(sessions.COOKIE_NAME)
    await run_in_threadpool(sessions.revoke_cookie, cookie, "logout")
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(
        sessions.COOKIE_NAME, path="/", httponly=True, samesite="strict", secure=_secure(request)
    )
    return response
