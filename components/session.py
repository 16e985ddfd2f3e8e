"""The browser session: who is logged in, idle and absolute timeouts, and the page guard.

Each login opens a server-side session row (services/sessions.py). This tab keeps the row's id;
a reload or a new tab finds the row again from the HttpOnly session cookie (set through
serve.py's route, see components/session_cookie.py). Every run checks the row, so the idle and
absolute limits, logout, a password reset or change and a disabled account take effect at the
next interaction, and the principal is reloaded from the database each time. With single
sign-on, an ended session also calls st.logout(), so the next click does not log the same person
straight back in. An idle countdown in the sidebar locks the page without a click.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import streamlit as st

from components import routing, session_cookie
from components.i18n import t
from components.navigation import allowed
from db.models import utcnow
from services import audit, sessions
from services.auth import principal_for_email
from services.principal import Principal
from settings import get_settings

_SESSION = "auth_session_id"
_PRINCIPAL = "auth_principal"
_SSO = "auth_sso"
_NOTICE = "auth_notice"
_COOKIE_TRIED = "auth_cookie_tried"
_HANDOFF = "auth_handoff"
_CLEAR_COOKIE = "auth_clear_cookie"


def start(principal: Principal, *, sso: bool = False) -> None:
    """Open a session for a principal who has just logged in (login form or single sign-on)."""
    started = sessions.begin(principal.user_id, sso=sso)
    st.session_state[_SESSION] = started.session_id
    st.session_state[_HANDOFF] = started.handoff
    st.session_state[_PRINCIPAL] = principal
    st.session_state[_SSO] = sso
    st.session_state[_COOKIE_TRIED] = True  # the cookie this tab arrived with is no longer wanted
    st.session_state["lang"] = principal.language
    routing.forget_requested()  # the page asked for before login is where this run lands


def end(notice: str | None = None) -> None:
    for key in (_SESSION, _PRINCIPAL, _SSO, _HANDOFF):
        st.session_state.pop(key, None)
    st.session_state[_CLEAR_COOKIE] = True
    if notice:
        st.session_state[_NOTICE] = notice


def pop_notice() -> str | None:
    return st.session_state.pop(_NOTICE, None)


def session_id() -> int | None:
    """This browser's session row (account page: keep it when changing one's own password)."""
    return st.session_state.get(_SESSION)


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all
        return False


def _oidc_logged_in() -> bool:
    return oidc_configured() and bool(st.user.is_logged_in)


def _oidc_principal() -> Principal | None:
    if not _oidc_logged_in():
        return None
    principal = principal_for_email(st.user.get("email"))
    if principal is None:
        st.session_state[_NOTICE] = "login.oidc_unknown"
        st.logout()
    return principal


def _ended(checked: sessions.Checked) -> None:
    end(checked.reason)
    if checked.sso or _oidc_logged_in():
        st.logout()  # else the identity provider's cookie logs the same person straight back in


# AppTest-driven tests and benchmarks log a user in by putting these keys (user id, and epoch
# seconds of login and last activity) into session_state; a browser cannot set them. They are
# turned into a server session row like any other login.
_ADOPT_USER, _ADOPT_LOGIN_AT, _ADOPT_LAST_SEEN = "auth_user_id", "auth_login_at", "auth_last_seen"


def _adopt_in_tab_login() -> None:
    user_id = st.session_state.pop(_ADOPT_USER, None)
    login_at = st.session_state.pop(_ADOPT_LOGIN_AT, None)
    last_seen = st.session_state.pop(_ADOPT_LAST_SEEN, None)
    if user_id is None:
        return

    def when(seconds: float | None) -> datetime | None:
        return None if seconds is None else datetime.fromtimestamp(seconds, UTC)

    try:
        started = sessions.begin(int(user_id), started_at=when(login_at), last_seen_at=when(last_seen))
    except ValueError:  # no such active user
        end("login.account_disabled")
        return
    st.session_state[_SESSION] = started.session_id
    st.session_state[_COOKIE_TRIED] = True


def resolve() -> Principal | None:
    """The logged-in principal for this run, or None; enforces the limits on the server row."""
    _adopt_in_tab_login()
    sid = st.session_state.get(_SESSION)
    if sid is None and not st.session_state.get(_COOKIE_TRIED):
        st.session_state[_COOKIE_TRIED] = True
        cookie = st.context.cookies.get(sessions.COOKIE_NAME)
        if cookie:
            checked = sessions.resume(cookie)
            if checked.principal is None:
                _ended(checked)
                return None
            st.session_state[_SESSION] = sid = checked.session_id
            st.session_state[_SSO] = checked.sso
            st.session_state["lang"] = checked.principal.language
    if sid is None:
        principal = _oidc_principal()
        if principal is not None:
            start(principal, sso=True)
        return principal
    checked = sessions.check(sid)
    if checked.principal is None:
        _ended(checked)
        return None
    if not checked.handoff_pending:
        st.session_state.pop(_HANDOFF, None)
    st.session_state[_PRINCIPAL] = checked.principal
    return checked.principal


def browser_actions() -> None:
    """The router calls this once per run: hand the cookie over, or clear it."""
    handoff = st.session_state.get(_HANDOFF)
    if handoff and st.session_state.get(_SESSION) is not None:
        session_cookie.open_cookie(handoff)
    elif st.session_state.pop(_CLEAR_COOKIE, False):
        session_cookie.clear_cookie()


def logout() -> None:
    principal = st.session_state.get(_PRINCIPAL)
    sid = st.session_state.get(_SESSION)
    sessions.revoke(sid, "logout")
    audit.record_now(principal, "logout", "ok")
    sso = st.session_state.get(_SSO, False)
    end("login.logged_out")
    if sso or _oidc_logged_in():
        st.logout()


def current() -> Principal | None:
    return st.session_state.get(_PRINCIPAL)


def _tick_seconds() -> float:
    """How often the countdown looks at the clock: a twelfth of the idle limit, 2 to 30 seconds."""
    return min(30.0, max(2.0, get_settings().idle_minutes * 5))


def _countdown_body() -> None:
    sid = st.session_state.get(_SESSION)
    if sid is None:
        return
    deadline = sessions.idle_deadline(sid)  # reading it does not move the idle clock
    remaining = None if deadline is None else (deadline - utcnow()).total_seconds()
    if remaining is None or remaining <= 0:
        st.rerun(scope="app")  # the full run ends the session and shows the login page
    if remaining < 60:
        text = t("session.idle_countdown_seconds", n=math.ceil(remaining))
    else:
        text = t("session.idle_countdown", n=math.ceil(remaining / 60))
    st.caption(text, help=t("session.idle_help"))


def idle_countdown() -> None:
    """In the sidebar: minutes left before the idle lock; at zero the page locks by itself."""
    st.fragment(_countdown_body, run_every=timedelta(seconds=_tick_seconds()))()


def guard(page_key: str, *, public: bool = False) -> Principal | None:
    """Every page's first line: stop unless the logged-in user's role may see this page.

    Public pages pass `public=True` and get None for a visitor who is not logged in."""
    principal = current()
    if public and principal is None and allowed(page_key, None):
        return None
    if principal is None or not allowed(page_key, principal.role):
        audit.record_now(principal, f"page.{page_key}", "denied")
        st.error(t("error.access_denied"))
        st.stop()
    return principal
