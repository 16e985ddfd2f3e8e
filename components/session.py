"""The browser session: who is logged in, idle and absolute timeouts, and the page guard.

The principal is reloaded from the database on every run, so a disabled user or a changed
scope takes effect at the next interaction.
"""

from __future__ import annotations

import time

import streamlit as st

from components.i18n import t
from components.navigation import allowed
from services import audit
from services.auth import load_principal, principal_for_email
from services.principal import Principal
from settings import get_settings

_USER = "auth_user_id"
_LOGIN_AT = "auth_login_at"
_LAST_SEEN = "auth_last_seen"
_PRINCIPAL = "auth_principal"
_NOTICE = "auth_notice"


def start(principal: Principal) -> None:
    now = time.time()
    st.session_state[_USER] = principal.user_id
    st.session_state[_LOGIN_AT] = now
    st.session_state[_LAST_SEEN] = now
    st.session_state[_PRINCIPAL] = principal
    st.session_state["lang"] = principal.language


def end(notice: str | None = None) -> None:
    for key in (_USER, _LOGIN_AT, _LAST_SEEN, _PRINCIPAL):
        st.session_state.pop(key, None)
    if notice:
        st.session_state[_NOTICE] = notice


def pop_notice() -> str | None:
    return st.session_state.pop(_NOTICE, None)


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all
        return False


def _oidc_principal() -> Principal | None:
    if not oidc_configured() or not st.user.is_logged_in:
        return None
    principal = principal_for_email(st.user.get("email"))
    if principal is None:
        st.session_state[_NOTICE] = "login.oidc_unknown"
        st.logout()
    return principal


def resolve() -> Principal | None:
    """The logged-in principal for this run, or None; enforces the timeouts."""
    settings = get_settings()
    user_id = st.session_state.get(_USER)
    if user_id is None:
        principal = _oidc_principal()
        if principal is not None:
            start(principal)
        return principal
    now = time.time()
    if now - st.session_state.get(_LAST_SEEN, 0) > settings.idle_minutes * 60:
        audit.record_now(st.session_state.get(_PRINCIPAL), "logout", "idle_timeout")
        end("login.idle_timeout")
        return None
    if now - st.session_state.get(_LOGIN_AT, 0) > settings.absolute_hours * 3600:
        audit.record_now(st.session_state.get(_PRINCIPAL), "logout", "absolute_timeout")
        end("login.absolute_timeout")
        return None
    principal = load_principal(user_id)
    if principal is None:
        end("login.account_disabled")
        return None
    st.session_state[_LAST_SEEN] = now
    st.session_state[_PRINCIPAL] = principal
    return principal


def logout() -> None:
    principal = st.session_state.get(_PRINCIPAL)
    audit.record_now(principal, "logout", "ok")
    end("login.logged_out")
    if oidc_configured() and st.user.is_logged_in:
        st.logout()


def current() -> Principal | None:
    return st.session_state.get(_PRINCIPAL)


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
