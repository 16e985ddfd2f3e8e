"""Serve Lotsa: `streamlit run serve.py` runs app.py inside Streamlit's ASGI server (st.App) with
two small routes that let a browser session survive a reload or a new tab.

A Streamlit script run cannot answer an HTTP request, so it cannot set an HttpOnly cookie. After
login the page posts a one-time handoff token to POST /_lotsa/session, which answers with the
session cookie (HttpOnly, SameSite=Strict, Secure on https); POST /_lotsa/logout clears it.
The server row behind the cookie is checked on every run (services/sessions.py).
`streamlit run app.py` still works, but then a reload logs the user out.
"""

from __future__ import annotations

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from components import session_cookie
from services import sessions
from settings import get_settings


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _same_origin(request: Request) -> bool:
    """Refuse cross-site posts: the Origin header, when sent, must be this server."""
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


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


session_cookie.mark_routes_active()
app = st.App(
    "app.py",
    routes=[
        Route(session_cookie.OPEN_PATH, open_session, methods=["POST"]),
        Route(session_cookie.CLOSE_PATH, close_session, methods=["POST"]),
    ],
)
