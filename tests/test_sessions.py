"""The server-side session store (services/sessions.py) on SQLite and Postgres: the cookie is a
signed random id stored only as a hash, traded once for a handoff token; idle and absolute
limits, logout, password reset/change and disable end sessions; every end is audited."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import pytest
from sqlmodel import select

from components import session_cookie
from db.engine import read_session, write_session
from db.models import AuditEvent, BrowserSession, User, utcnow
from services import sessions
from services.auth import change_password
from services.users import reset_password, set_active
from tests.factories import PASSWORD, make_world


def _login(user_id: int, **kw) -> tuple[int, str]:
    started = sessions.begin(user_id, **kw)
    cookie = sessions.claim(started.handoff)
    assert cookie is not None
    return started.session_id, cookie


def _age(session_id: int, *, seen: timedelta = timedelta(0), created: timedelta = timedelta(0)) -> None:
    with write_session() as s:
        row = s.get(BrowserSession, session_id)
        row.last_seen_at = utcnow() - seen
        row.created_at = utcnow() - created
        s.add(row)


def test_cookie_resumes_the_session_and_only_a_hash_is_stored(db_url):
    world = make_world()
    connector = world.principals["connector"]
    session_id, cookie = _login(connector.user_id)
    resumed = sessions.resume(cookie)
    assert resumed.principal is not None and resumed.principal.user_id == connector.user_id
    assert resumed.session_id == session_id and resumed.reason is None
    token = cookie.split(".")[0]
    with read_session() as s:
        row = s.get(BrowserSession, session_id)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (row.token_hash or "") and row.handoff_hash is None
    # a second tab with the same cookie is the same session
    assert sessions.resume(cookie).session_id == session_id


def test_forged_tampered_or_unknown_cookies_are_refused(db_url):
    world = make_world()
    _, cookie = _login(world.principals["connector"].user_id)
    token, signature = cookie.split(".")
    assert sessions.resume(None).principal is None
    assert sessions.resume("").principal is None
    assert sessions.resume(f"{token}.{'0' * 64}").principal is None  # wrong signature
    assert sessions.resume(f"{token[:-1]}x.{signature}").principal is None  # other id, old signature
    assert sessions.resume(token).principal is None  # unsigned
    assert sessions.resume("a." * 200).principal is None
    forged = sessions.cookie_value("not-a-session")  # signed, but no such row
    assert sessions.resume(forged).principal is None


def test_handoff_is_one_time_and_short_lived(db_url):
    world = make_world()
    started = sessions.begin(world.principals["manager"].user_id)
    assert sessions.claim(started.handoff) is not None
    assert sessions.claim(started.handoff) is None  # second use refused
    assert sessions.claim("made-up") is None and sessions.claim(None) is None
    late = sessions.begin(world.principals["manager"].user_id)
    with write_session() as s:
        row = s.get(BrowserSession, late.session_id)
        row.handoff_expires_at = utcnow() - timedelta(seconds=1)
        s.add(row)
    assert sessions.claim(late.handoff) is None
    # the in-tab session still works (the page holds its id); only the cookie was not issued
    assert sessions.check(late.session_id).principal is not None


def test_idle_limit_ends_the_session_for_good(db_url, monkeypatch):
    monkeypatch.setenv("LOTSA_IDLE_MINUTES", "10")
    world = make_world()
    session_id, cookie = _login(world.principals["connector"].user_id)
    _age(session_id, seen=timedelta(minutes=9))
    assert sessions.resume(cookie).principal is not None  # within the limit, and the clock moves
    _age(session_id, seen=timedelta(minutes=11))
    ended = sessions.resume(cookie)
    assert ended.principal is None and ended.reason == "login.idle_timeout"
    _age(session_id)  # even if the clock were fresh again, a revoked row stays revoked
    assert sessions.resume(cookie).reason == "login.session_ended"
    with read_session() as s:
        assert s.get(BrowserSession, session_id).revoked_reason == "idle_timeout"
        outcomes = s.exec(select(AuditEvent.outcome).where(AuditEvent.action == "logout")).all()
    assert outcomes == ["idle_timeout"]


def test_absolute_limit_holds_even_when_active(db_url, monkeypatch):
    monkeypatch.setenv("LOTSA_ABSOLUTE_HOURS", "12")
    world = make_world()
    session_id, cookie = _login(world.principals["connector"].user_id)
    _age(session_id, created=timedelta(hours=11, minutes=59))
    assert sessions.check(session_id).principal is not None
    _age(session_id, created=timedelta(hours=12, minutes=1))
    assert sessions.check(session_id).reason == "login.absolute_timeout"
    assert sessions.resume(cookie).principal is None


def test_fractional_limits_from_the_environment(db_url, monkeypatch):
    monkeypatch.setenv("LOTSA_IDLE_MINUTES", "0.1")  # six seconds, as the browser test uses
    world = make_world()
    session_id, _ = _login(world.principals["connector"].user_id)
    _age(session_id, seen=timedelta(seconds=7))
    assert sessions.check(session_id).reason == "login.idle_timeout"


def test_idle_deadline_does_not_move_the_clock(db_url, monkeypatch):
    monkeypatch.setenv("LOTSA_IDLE_MINUTES", "10")
    world = make_world()
    session_id, _ = _login(world.principals["connector"].user_id)
    _age(session_id, seen=timedelta(minutes=4))
    deadline = sessions.idle_deadline(session_id)
    assert deadline is not None
    assert timedelta(minutes=5, seconds=50) < deadline - utcnow() <= timedelta(minutes=6)
    assert sessions.idle_deadline(session_id) == deadline


def test_logout_revokes_the_row(db_url):
    world = make_world()
    session_id, cookie = _login(world.principals["partner"].user_id)
    sessions.revoke(session_id, "logout")
    assert sessions.resume(cookie).principal is None
    assert sessions.check(session_id).principal is None
    assert sessions.active_count(world.principals["partner"].user_id) == 0


def test_admin_password_reset_ends_every_session_of_that_user_only(db_url):
    world = make_world()
    connector, manager = world.principals["connector"], world.principals["manager"]
    _, cookie1 = _login(connector.user_id)
    second, _ = _login(connector.user_id)
    other, _ = _login(manager.user_id)
    reset_password(world.principals["admin"], connector.user_id, "a new long passphrase")
    assert sessions.resume(cookie1).reason == "login.credentials_changed"
    assert sessions.check(second).reason == "login.credentials_changed"
    assert sessions.check(other).principal is not None
    # a fresh login after the reset works
    _, cookie = _login(connector.user_id)
    assert sessions.resume(cookie).principal is not None


def test_own_password_change_keeps_this_browser_and_ends_the_others(db_url):
    world = make_world()
    connector = world.principals["connector"]
    here, cookie_here = _login(connector.user_id)
    _, cookie_elsewhere = _login(connector.user_id)
    change_password(
        connector,
        current=PASSWORD,
        new="another long passphrase",
        repeat="another long passphrase",
        keep_session_id=here,
    )
    assert sessions.resume(cookie_here).principal is not None
    assert sessions.resume(cookie_elsewhere).reason == "login.credentials_changed"


def test_keep_session_id_of_another_user_is_not_kept(db_url):
    world = make_world()
    connector, manager = world.principals["connector"], world.principals["manager"]
    managers_session, _ = _login(manager.user_id)
    before = sessions.check(managers_session)
    change_password(
        connector,
        current=PASSWORD,
        new="another long passphrase",
        repeat="another long passphrase",
        keep_session_id=managers_session,
    )
    with read_session() as s:
        row = s.get(BrowserSession, managers_session)
        assert row.credential_epoch == s.get(User, manager.user_id).credential_epoch
    assert before.principal is not None and sessions.check(managers_session).principal is not None


def test_disable_ends_sessions_and_enable_does_not_bring_them_back(db_url):
    world = make_world()
    admin, partner = world.principals["admin"], world.principals["partner"]
    session_id, cookie = _login(partner.user_id)
    set_active(admin, partner.user_id, False)
    assert sessions.resume(cookie).principal is None
    set_active(admin, partner.user_id, True)
    assert sessions.resume(cookie).principal is None
    assert sessions.check(session_id).principal is None


def test_begin_refuses_a_disabled_user(db_url):
    world = make_world()
    set_active(world.principals["admin"], world.principals["partner"].user_id, False)
    with pytest.raises(ValueError):
        sessions.begin(world.principals["partner"].user_id)


def test_principal_is_reloaded_so_a_changed_role_shows_at_once(db_url):
    world = make_world()
    _, cookie = _login(world.principals["connector"].user_id)
    with write_session() as s:
        user = s.get(User, world.principals["connector"].user_id)
        user.display_name = "Renamed"
        s.add(user)
    assert sessions.resume(cookie).principal.display_name == "Renamed"


def test_purge_deletes_old_rows_only(db_url):
    world = make_world()
    old, _ = _login(world.principals["connector"].user_id)
    recent, _ = _login(world.principals["connector"].user_id)
    _age(old, created=timedelta(days=40), seen=timedelta(days=40))
    assert sessions.purge(30) == 1
    with read_session() as s:
        assert s.get(BrowserSession, old) is None and s.get(BrowserSession, recent) is not None


# The cookie routes (components/session_cookie.py, served by serve.py) ---------------------------


def _post(handler, *, body: bytes = b"", headers: dict[str, str] | None = None, scheme: str = "http"):
    from starlette.requests import Request

    headers = {"host": "lotsa.example.se", **(headers or {})}
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": scheme,
        "path": "/_lotsa/session",
        "query_string": b"",
        "server": ("lotsa.example.se", 443 if scheme == "https" else 80),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    return asyncio.run(handler(Request(scope, receive)))


def test_route_trades_the_handoff_for_an_httponly_strict_cookie_once(db_url):
    world = make_world()
    started = sessions.begin(world.principals["connector"].user_id)
    response = _post(session_cookie.open_session, body=started.handoff.encode())
    assert response.status_code == 204
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith(f"{sessions.COOKIE_NAME}=")
    assert "HttpOnly" in set_cookie and "SameSite=strict" in set_cookie and "Path=/" in set_cookie
    assert "Secure" not in set_cookie  # plain http (a developer's machine)
    value = set_cookie.split(";")[0].split("=", 1)[1]
    assert sessions.resume(value).session_id == started.session_id
    assert _post(session_cookie.open_session, body=started.handoff.encode()).status_code == 403


def test_route_sets_secure_on_https_and_behind_a_tls_proxy(db_url):
    world = make_world()
    direct = sessions.begin(world.principals["connector"].user_id)
    response = _post(session_cookie.open_session, body=direct.handoff.encode(), scheme="https")
    assert "Secure" in response.headers["set-cookie"]
    proxied = sessions.begin(world.principals["connector"].user_id)
    response = _post(
        session_cookie.open_session,
        body=proxied.handoff.encode(),
        headers={"origin": "https://lotsa.example.se"},
    )
    assert response.status_code == 204 and "Secure" in response.headers["set-cookie"]


def test_route_refuses_another_origin_and_made_up_tokens(db_url):
    world = make_world()
    started = sessions.begin(world.principals["connector"].user_id)
    foreign = _post(
        session_cookie.open_session,
        body=started.handoff.encode(),
        headers={"origin": "https://evil.example.org"},
    )
    assert foreign.status_code == 403 and "set-cookie" not in foreign.headers
    assert _post(session_cookie.open_session, body=b"made-up").status_code == 403
    assert _post(session_cookie.open_session, body=b"").status_code == 403
    # the handoff was not spent by the refused cross-site post
    assert _post(session_cookie.open_session, body=started.handoff.encode()).status_code == 204


def test_logout_route_revokes_the_session_and_clears_the_cookie(db_url):
    world = make_world()
    session_id, cookie = _login(world.principals["manager"].user_id)
    response = _post(session_cookie.close_session, headers={"cookie": f"{sessions.COOKIE_NAME}={cookie}"})
    assert response.status_code == 204
    cleared = response.headers["set-cookie"]
    assert cleared.startswith(f'{sessions.COOKIE_NAME}=""') and "Max-Age=0" in cleared
    assert sessions.check(session_id).principal is None


# Single sign-on: an ended session also ends the identity provider's login (st.logout) ------------


def _resolve_script():
    import streamlit as st

    from components import session

    principal = session.resolve()
    st.write(f"principal={principal.username if principal else None}")


def _sso_app(monkeypatch, session_id: int, calls: list[str]):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from components import session

    monkeypatch.setattr(st, "logout", lambda: calls.append("logout"))
    monkeypatch.setattr(session, "oidc_configured", lambda: False)  # no secrets.toml in tests
    at = AppTest.from_function(_resolve_script, default_timeout=30)
    at.session_state["auth_session_id"] = session_id
    at.session_state["auth_sso"] = True
    at.session_state["auth_cookie_tried"] = True
    return at


@pytest.mark.parametrize("limit", ["idle", "absolute"])
def test_sso_timeouts_call_st_logout(db_url, monkeypatch, limit):
    world = make_world()
    started = sessions.begin(world.principals["connector"].user_id, sso=True)
    calls: list[str] = []
    at = _sso_app(monkeypatch, started.session_id, calls).run()
    assert "principal=t-connector" in at.markdown[0].value and calls == []
    if limit == "idle":
        _age(started.session_id, seen=timedelta(minutes=31))
    else:
        _age(started.session_id, created=timedelta(hours=12, minutes=1))
    at.run()
    assert "principal=None" in at.markdown[0].value
    assert calls == ["logout"]


def test_local_login_timeout_does_not_call_st_logout(db_url, monkeypatch):
    world = make_world()
    started = sessions.begin(world.principals["connector"].user_id, sso=False)
    calls: list[str] = []
    at = _sso_app(monkeypatch, started.session_id, calls)
    at.session_state["auth_sso"] = False
    _age(started.session_id, seen=timedelta(minutes=31))
    at.run()
    assert "principal=None" in at.markdown[0].value and calls == []


def test_a_login_drops_the_users_long_dead_rows_only(db_url):
    world = make_world()
    connector, manager = world.principals["connector"], world.principals["manager"]
    ended, _ = _login(connector.user_id)
    sessions.revoke(ended, "logout")
    expired, _ = _login(connector.user_id)
    live, _ = _login(connector.user_id)
    others, _ = _login(manager.user_id)
    sessions.revoke(others, "logout")
    with write_session() as s:
        for sid in (ended, others):
            row = s.get(BrowserSession, sid)
            row.revoked_at = utcnow() - timedelta(days=2)
            s.add(row)
    _age(expired, created=timedelta(hours=12 + 25), seen=timedelta(hours=12 + 25))
    _login(connector.user_id)
    with read_session() as s:
        assert s.get(BrowserSession, ended) is None and s.get(BrowserSession, expired) is None
        assert s.get(BrowserSession, live) is not None
        assert s.get(BrowserSession, others) is not None  # another user's rows wait for their login


def test_a_click_reads_the_session_and_writes_only_when_the_idle_clock_is_stale(db_url):
    """Every run of every page checks the session: a write (and its commit) per click was a good part
    of a replica's work under load, so the idle clock moves at most every TOUCH_EVERY seconds; the
    limits and revocations are still enforced on every check."""
    world = make_world()
    connector = world.principals["connector"]
    session_id, _ = _login(connector.user_id)

    def last_seen():
        with read_session() as s:
            return s.get(BrowserSession, session_id).last_seen_at

    _age(session_id, seen=timedelta(seconds=5))
    before = last_seen()
    assert sessions.check(session_id).principal.user_id == connector.user_id
    assert last_seen() == before  # fresh: read only
    _age(session_id, seen=sessions.TOUCH_EVERY + timedelta(seconds=1))
    stale = last_seen()
    assert sessions.check(session_id).principal is not None
    assert last_seen() > stale  # stale: the clock moved
    # a revocation between two clicks is seen by the next one, fresh clock or not
    reset_password(world.principals["admin"], connector.user_id, "a long new passphrase")
    ended = sessions.check(session_id)
    assert ended.principal is None and ended.reason == "login.credentials_changed"
    assert sessions.check(session_id).principal is None
