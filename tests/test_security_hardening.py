"""Issue 13 hardening, on SQLite and Postgres: the audit log cannot be rewritten by REPLACE or UPSERT;
argon2 runs outside the write lock and write transaction; the write lock exists only on SQLite;
logins are throttled per source; the rate limit and throttle ignore client-sent X-Forwarded-For
unless the peer is a configured trusted proxy; national ids never reach the audit log in clear;
SQLite files are 0600; the password policy refuses blank, trivial, username-like and common
passwords, with messages in sv/da/en."""

from __future__ import annotations

import os
import stat
import threading
import time

import pytest
from sqlalchemy import text
from sqlmodel import select

import services.auth as auth_module
from db.engine import get_engine, read_session, write_session
from db.migrate import upgrade
from db.models import AuditEvent, LoginFailure, User
from domain.network import BadProxySetting, client_address, parse_trusted_proxies
from domain.password_policy import password_problem
from locales import LANGUAGES, translate
from services import audit
from services.auth import authenticate, change_password, validate_password
from services.directory_edit import RateLimited, submit_suggestion
from services.errors import LoginFailed, ValidationError
from services.users import create_user
from tests.factories import PASSWORD, make_world

TOLVAN = "19121212-1212"


def _events(action: str | None = None) -> list[AuditEvent]:
    with read_session() as s:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return list(s.exec(query).all())


# --- 4. The audit log cannot be rewritten ---------------------------------------------------------


def test_audit_log_refuses_replace_and_upsert_over_an_existing_event(db_url):
    make_world()
    audit.record_now(None, "probe", "ok", detail="original")
    original = _events("probe")[0]
    sqlite = db_url.startswith("sqlite")
    attempts = [
        # plain insert over an existing id
        f"INSERT INTO audit_event (id, at, action, outcome, detail) "
        f"VALUES ({original.id}, CURRENT_TIMESTAMP, 'probe', 'ok', 'rewritten')",
        # upsert: both SQLite and Postgres
        f"INSERT INTO audit_event (id, at, action, outcome, detail) "
        f"VALUES ({original.id}, CURRENT_TIMESTAMP, 'probe', 'ok', 'rewritten') "
        f"ON CONFLICT (id) DO UPDATE SET detail = excluded.detail",
    ]
    if sqlite:
        attempts += [
            f"INSERT OR REPLACE INTO audit_event (id, at, action, outcome, detail) "
            f"VALUES ({original.id}, CURRENT_TIMESTAMP, 'probe', 'ok', 'rewritten')",
            f"REPLACE INTO audit_event (id, at, action, outcome, detail) "
            f"VALUES ({original.id}, CURRENT_TIMESTAMP, 'probe', 'ok', 'rewritten')",
        ]
    for statement in attempts:
        for recursive in (False, True) if sqlite else (False,):
            with pytest.raises(Exception), get_engine().begin() as conn:  # noqa: B017
                if recursive:
                    conn.execute(text("PRAGMA recursive_triggers = ON"))
                conn.execute(text(statement))
    after = _events("probe")
    assert [(e.id, e.detail) for e in after] == [(original.id, "original")]
    # an ordinary append still works
    audit.record_now(None, "probe", "ok", detail="second")
    assert [e.detail for e in _events("probe")] == ["original", "second"]


def test_sqlite_replace_refusal_names_the_append_only_rule(sqlite_url):
    audit.record_now(None, "probe", "ok")
    event_id = _events("probe")[0].id
    with pytest.raises(Exception, match="append-only"), get_engine().begin() as conn:
        conn.execute(
            text(
                "INSERT OR REPLACE INTO audit_event (id, at, action, outcome) "
                f"VALUES ({event_id}, CURRENT_TIMESTAMP, 'x', 'ok')"
            )
        )


# --- 7. SQLite files are the owner's only ---------------------------------------------------------


def test_sqlite_database_wal_and_shm_are_created_0600(tmp_path, monkeypatch):
    old = os.umask(0o022)
    try:
        path = tmp_path / "fresh" / "lotsa.db"
        url = f"sqlite:///{path}"
        monkeypatch.setenv("LOTSA_DB_URL", url)
        upgrade(url)  # what `manage.py migrate` does on a new install
        with write_session() as s:
            s.add(AuditEvent(action="probe", outcome="ok"))
        with read_session() as s:
            s.exec(select(AuditEvent)).all()
        files = [path, path.with_name("lotsa.db-wal"), path.with_name("lotsa.db-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {f.name: 0o600 for f in files}
    finally:
        os.umask(old)


def test_an_existing_world_readable_sqlite_file_is_narrowed_to_0600(sqlite_url):
    path = sqlite_url.removeprefix("sqlite:///")
    os.chmod(path, 0o644)
    audit.record_now(None, "probe", "ok")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


# --- 7. No national ids in clear in the audit log ----------------------------------------------------


@pytest.mark.parametrize("typed", [TOLVAN, "191212121212", "121212-1212", "0101901234", "010190-1234"])
def test_a_national_id_typed_as_username_is_not_stored_in_clear(db_url, typed):
    make_world()
    with pytest.raises(LoginFailed):
        authenticate(typed, "some password here")
    with pytest.raises(LoginFailed):
        authenticate(f"  {typed} ", "another password!")
    failed = _events("login")
    digits = "".join(ch for ch in typed if ch.isdigit())
    assert len(failed) == 2
    for event in failed:
        stored = " ".join(str(v) for v in (event.username, event.detail) if v)
        assert digits[-10:-4] not in stored.replace("-", "") and digits[-4:] not in stored
        assert event.username.startswith("id#")
    # the same number typed twice gives the same tag, so repeated tries stay visible
    assert failed[0].username == failed[1].username


def test_same_person_in_short_and_long_form_gets_one_tag_and_details_are_redacted(db_url):
    audit.record_now(None, "probe", "failed", detail=f"search for {TOLVAN} and 191212121212 found nothing")
    audit.record_now(None, "probe", "failed", username="1212121212")
    first, second = _events("probe")
    tags = first.detail.split()
    assert "1212" not in first.detail and tags[2] == tags[4] and tags[2].startswith("id#")
    assert second.username == tags[2]
    # ordinary numbers stay readable
    audit.record_now(None, "probe", "ok", detail="service=12 page=0 total=123456")
    assert _events("probe")[-1].detail == "service=12 page=0 total=123456"


def test_no_national_id_in_clear_in_the_sqlite_file(sqlite_url):
    make_world()
    with pytest.raises(LoginFailed):
        authenticate("198001010005", "some password here")
    get_engine().dispose()
    raw = b""
    path = sqlite_url.removeprefix("sqlite:///")
    for name in (path, f"{path}-wal"):
        if os.path.exists(name):
            with open(name, "rb") as fh:
                raw += fh.read()
    assert b"198001010005" not in raw and b"8001010005" not in raw


# --- 5. Passwords are checked outside the write lock; the lock is SQLite's alone ------------------


def _write_finishes_within(seconds: float) -> bool:
    done = threading.Event()

    def other_user_writes():
        audit.record_now(None, "unrelated.write", "ok")
        done.set()

    thread = threading.Thread(target=other_user_writes, daemon=True)
    thread.start()
    return done.wait(seconds)


@pytest.mark.parametrize("outcome", ["wrong", "right", "unknown"])
def test_argon2_runs_while_other_writes_proceed(db_url, monkeypatch, outcome):
    """While a login is inside argon2, another thread's write must not wait for it (the old code
    verified inside write_session, holding the process-wide lock and a BEGIN IMMEDIATE)."""
    make_world()
    real_verify = auth_module.verify_password
    observed = []

    def verify_and_probe(password_hash, password):
        observed.append(_write_finishes_within(5))
        return real_verify(password_hash, password)

    monkeypatch.setattr(auth_module, "verify_password", verify_and_probe)
    username = "nobody" if outcome == "unknown" else "t-connector"
    password = PASSWORD if outcome == "right" else "a wrong password"
    if outcome == "right":
        assert authenticate(username, password).username == "t-connector"
    else:
        with pytest.raises(LoginFailed):
            authenticate(username, password)
    assert observed == [True]
    assert len(_events("unrelated.write")) == 1


def test_password_change_hashes_outside_the_write_lock(db_url, monkeypatch):
    world = make_world()
    real_hash = auth_module.hash_password
    observed = []

    def hash_and_probe(password):
        observed.append(_write_finishes_within(5))
        return real_hash(password)

    monkeypatch.setattr(auth_module, "hash_password", hash_and_probe)
    new = "a brand new passphrase"
    change_password(world.principals["connector"], current=PASSWORD, new=new, repeat=new)
    assert observed == [True]
    assert authenticate("t-connector", new).username == "t-connector"


def test_write_lock_only_on_sqlite(db_url):
    """Postgres: a writer holding a long transaction does not block another writer's audit insert
    (different rows); SQLite: writers are serialised, as its single-writer design needs."""
    make_world()
    holding = threading.Event()
    release = threading.Event()

    def long_writer():
        with write_session() as s:
            s.add(AuditEvent(action="long.write", outcome="ok"))
            s.flush()
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=long_writer, daemon=True)
    thread.start()
    assert holding.wait(10)
    started = time.monotonic()
    try:
        finished = _write_finishes_within(1.5)
    finally:
        release.set()
        thread.join(10)
    if db_url.startswith("sqlite"):
        assert not finished  # waited for the first writer
    else:
        assert finished, f"Postgres write waited {time.monotonic() - started:.1f}s behind another"


# --- 5. Login throttling per source --------------------------------------------------------------


def test_login_is_throttled_per_source_across_accounts(db_url, monkeypatch):
    monkeypatch.setenv("LOTSA_SOURCE_ATTEMPTS", "4")
    make_world()
    attacker, colleague = "203.0.113.9", "198.51.100.20"
    for name in ("t-admin", "t-manager", "nobody-1", "t-partner"):  # one try each: no account locks
        with pytest.raises(LoginFailed):
            authenticate(name, "guessed password", source=attacker)
    # now even the right password is refused from that source, with the same message
    with pytest.raises(LoginFailed) as refused:
        authenticate("t-connector", PASSWORD, source=attacker)
    assert refused.value.key == "login.failed"
    assert [e.outcome for e in _events("login")][-1] == "throttled"
    # other sources, and the accounts themselves, are unaffected
    assert authenticate("t-connector", PASSWORD, source=colleague).username == "t-connector"
    # only a keyed hash of the address is stored
    with read_session() as s:
        keys = {f.source_key for f in s.exec(select(LoginFailure)).all()}
    assert len(keys) == 1 and attacker not in next(iter(keys))


def test_throttle_window_expires(db_url, monkeypatch):
    monkeypatch.setenv("LOTSA_SOURCE_ATTEMPTS", "2")
    make_world()
    for _ in range(2):
        with pytest.raises(LoginFailed):
            authenticate("nobody", "guessed password", source="203.0.113.9")
    with pytest.raises(LoginFailed):
        authenticate("t-connector", PASSWORD, source="203.0.113.9")
    with write_session() as s:
        s.exec(text("UPDATE login_failure SET at = :old"), params={"old": "2000-01-01 00:00:00"})
    assert authenticate("t-connector", PASSWORD, source="203.0.113.9").username == "t-connector"


# --- 3. Rate limits ignore client-sent X-Forwarded-For by default --------------------------------------


INVENTED = ["1.2.3.4", "5.6.7.8", "9.9.9.9", "10.0.0.7", "192.168.1.1", "8.8.8.8", "2001:db8::1"]


def test_client_address_ignores_forwarded_for_without_trusted_proxies():
    for peer in (None, "127.0.0.1", "10.1.2.3", "192.168.0.5", "203.0.113.5"):
        seen = {client_address(peer, forged, parse_trusted_proxies("")) for forged in INVENTED}
        assert seen == {peer or "127.0.0.1"}


def test_a_peer_the_web_server_took_from_forwarded_for_counts_as_loopback():
    """uvicorn (under Streamlit) replaces a loopback peer by the X-Forwarded-For address."""
    for forged in INVENTED:
        assert client_address(forged, forged, parse_trusted_proxies("")) == "127.0.0.1"
        assert client_address(forged, f"6.6.6.6, {forged}", parse_trusted_proxies("")) == "127.0.0.1"
        # behind a configured local proxy the address it reports is the client
        assert client_address(forged, forged, parse_trusted_proxies("localhost")) == forged


def test_client_address_behind_a_trusted_proxy_reads_from_the_right():
    trusted = parse_trusted_proxies("10.0.0.0/8, localhost")
    # the proxy appended the real client; what the client wrote itself is further left
    assert client_address("10.0.0.2", "6.6.6.6, 203.0.113.7", trusted) == "203.0.113.7"
    # two proxies in a row: skip both
    assert client_address(None, "6.6.6.6, 203.0.113.7, 10.0.0.3", trusted) == "203.0.113.7"
    # a peer that is not a listed proxy is the client, whatever it sends
    assert client_address("198.51.100.1", "203.0.113.7", trusted) == "198.51.100.1"
    # garbage in the header stops at the last good address
    assert client_address("10.0.0.2", "<script>, 203.0.113.7", trusted) == "203.0.113.7"
    assert client_address("10.0.0.2", "not-an-ip", trusted) == "10.0.0.2"
    with pytest.raises(BadProxySetting):
        parse_trusted_proxies("10.0.0.0/8, proxy.example")


def test_seven_invented_forwarded_addresses_share_one_rate_limit(db_url, monkeypatch):
    """The probe: 7 of 7 invented X-Forwarded-For addresses were accepted from one client."""
    monkeypatch.setenv("LOTSA_SUGGESTIONS_PER_HOUR", "5")
    make_world()
    accepted, limited = 0, 0
    for forged in INVENTED:
        source = client_address(None, forged, parse_trusted_proxies(os.environ.get("LOTSA_TRUSTED_PROXIES")))
        try:
            submit_suggestion(
                {
                    "kind": "new",
                    "name": "Promenad",
                    "organization": "Förening",
                    "where": "Parken",
                    "contact_name": "Eva",
                    "contact_email": "eva@example.se",
                },
                client_id=source,
            )
            accepted += 1
        except RateLimited:
            limited += 1
    assert (accepted, limited) == (5, 2)


# --- 6. Password policy -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "key"),
    [
        (" " * 12, "error.password_blank"),
        ("\t \u00a0" * 5, "error.password_blank"),
        ("aaaaaaaaaaaa", "error.password_trivial"),
        ("abababababababab", "error.password_trivial"),
        ("abcabcabcabc", "error.password_trivial"),
        ("t-connector-2026!", "error.password_contains_username"),
        ("password1234", "error.password_common"),
        ("qwertyuiop12", "error.password_common"),
        ("Password2026!", "error.password_common"),
        ("Sommar2026!!", "error.password_common"),
        ("Lösenord12345", "error.password_common"),
        ("abcdefghijklmnop", "error.password_guessable"),
        ("1234567890123", "error.password_guessable"),
    ],
)
def test_password_policy_refuses(password, key):
    problem = password_problem(password, username="t-connector")
    assert problem is not None and problem[0] == key
    assert validate_password(password, username="t-connector") == {"password": problem}


@pytest.mark.parametrize("password", ["correct horse battery", "a brand new passphrase", "Fj4!kq9z#Lm2"])
def test_password_policy_accepts_good_passwords(password):
    assert password_problem(password, username="t-connector") is None


@pytest.mark.parametrize(
    "key",
    ["error.password_blank", "error.password_trivial", "error.password_common", "error.password_guessable"],
)
def test_password_messages_in_every_language(key):
    texts = {lang: translate(key, lang) for lang in LANGUAGES}
    assert all(text and text != key for text in texts.values())
    assert len(set(texts.values())) == len(LANGUAGES)


def test_admin_cannot_create_a_user_with_twelve_spaces_and_the_form_keeps_the_rest(db_url):
    world = make_world()
    with pytest.raises(ValidationError) as caught:
        create_user(
            world.principals["admin"],
            username="new-connector",
            display_name="New Connector",
            role="connector",
            password=" " * 12,
            centre_ids=[world.centre_a],
        )
    assert caught.value.fields == {"password": ("error.password_blank", {})}


def test_change_password_refuses_a_common_password(db_url):
    world = make_world()
    with pytest.raises(ValidationError) as caught:
        change_password(
            world.principals["connector"], current=PASSWORD, new="password1234", repeat="password1234"
        )
    assert caught.value.fields["password"][0] == "error.password_common"
    assert authenticate("t-connector", PASSWORD).username == "t-connector"


@pytest.mark.parametrize("action", ["create", "reset", "first_admin"])
def test_admin_account_writes_hash_outside_the_write_lock(db_url, monkeypatch, action):
    import services.users as users_module

    world = None if action == "first_admin" else make_world()
    real_hash = users_module.hash_password
    observed = []

    def hash_and_probe(password):
        observed.append(_write_finishes_within(5))
        return real_hash(password)

    monkeypatch.setattr(users_module, "hash_password", hash_and_probe)
    new = "a long new passphrase"
    if action == "first_admin":  # the CLI's create-admin on a new installation
        users_module.create_first_admin(username="first-admin", display_name="First", password=new)
        username = "first-admin"
    elif action == "create":
        admin = world.principals["admin"]
        create_user(admin, username="new-volunteer", display_name="New", role="volunteer", password=new)
        username = "new-volunteer"
    else:
        users_module.reset_password(world.principals["admin"], world.principals["partner"].user_id, new)
        username = "t-partner"
    assert observed == [True]
    assert authenticate(username, new).username == username


def test_a_login_rewrites_a_hash_made_under_other_argon2_parameters(db_url, monkeypatch):
    """Installations created with the heavier rfc9106 parameters move to the configured ones on each
    user's next login (and back, if an operator chooses rfc9106): no reset needed, nothing else changes."""
    make_world()
    monkeypatch.setenv("LOTSA_PASSWORD_HASH", "rfc9106")
    heavy = auth_module.hash_password(PASSWORD)
    assert "$m=65536,t=3,p=4$" in heavy
    with write_session() as s:
        user = s.exec(select(User).where(User.username == "t-connector")).one()
        user.password_hash = heavy
        s.add(user)
    monkeypatch.setenv("LOTSA_PASSWORD_HASH", "owasp")
    assert authenticate("t-connector", PASSWORD).username == "t-connector"
    with read_session() as s:
        light = s.exec(select(User.password_hash).where(User.username == "t-connector")).one()
    assert "$m=47104,t=1,p=1$" in light
    assert authenticate("t-connector", PASSWORD).username == "t-connector"
    with pytest.raises(LoginFailed):
        authenticate("t-connector", "a wrong password")


def test_an_unknown_password_hash_setting_is_refused_plainly(monkeypatch):
    from settings import get_settings

    monkeypatch.setenv("LOTSA_PASSWORD_HASH", "md5")
    with pytest.raises(ValueError, match="LOTSA_PASSWORD_HASH must be one of owasp, rfc9106"):
        get_settings()
