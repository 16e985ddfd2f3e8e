"""The server-side session store (services/sessions.py) on SQLite and Postgres: the cookie is a
signed random id stored only as a hash, traded once for a handoff token; idle and absolute
limits, logout, password reset/change and disable end sessions; every end is audited."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlmodel import select

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
