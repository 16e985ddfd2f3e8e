"""Sessions in Chromium against `streamlit run serve.py` (the served entry with the cookie routes),
with an idle limit of one minute, so the idle lock happens during the test; the absolute limit
(one hour) is reached by ageing the session row in the server's database.

A reload and a new tab keep the session; the cookie is HttpOnly and SameSite=Strict; the idle
limit locks the page without a click and the session is gone after a reload too; the absolute
limit ends even an active session; an admin's password reset logs the user out at the next
interaction; logout clears the cookie; a deep link lands on its page (with its query) after
login; an unknown address shows the translated not-found page, not Streamlit's English one.
"""

from __future__ import annotations

import base64
import os
import secrets
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from db.engine import dispose_all
from locales import translate
from services.auth import load_principal
from services.sessions import COOKIE_NAME
from settings import DEMO_PASSWORD
from tests.e2e.conftest import (
    HEALTH_TIMEOUT_S,
    ROOT,
    VIEWPORT,
    LotsaServer,
    _free_port,
    _stop,
    error_texts,
    screenshot,
    settle,
)

LANG = "sv"
IDLE_S, ABSOLUTE_S = 60, 3600


@pytest.fixture(scope="module")
def session_server(chromium_executable, tmp_path_factory) -> Iterator[LotsaServer]:
    folder = tmp_path_factory.mktemp("e2e-sessions")
    db_path = folder / "lotsa.db"
    env = {
        **os.environ,
        "LOTSA_DB_URL": f"sqlite:///{db_path}",
        "LOTSA_DEMO": "1",
        "LOTSA_SECRET_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "LOTSA_IDLE_MINUTES": str(IDLE_S / 60),
        "LOTSA_ABSOLUTE_HOURS": str(ABSOLUTE_S / 3600),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    env.pop("LOTSA_ENV", None)
    for command in ("migrate", "demo"):
        done = subprocess.run(
            [sys.executable, "manage.py", command], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"manage.py {command} failed:\n{done.stdout}\n{done.stderr}"
    port = _free_port()
    log_path = folder / "server.log"
    server = LotsaServer(f"http://127.0.0.1:{port}", db_path, log_path)
    server.env = env
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "streamlit", "run", "serve.py", "--server.port", str(port)),
                *("--server.address", "127.0.0.1", "--server.headless", "true"),
                # files change under a running test when others work in the checkout: no reloads
                *("--server.fileWatcherType", "none"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{server.log_tail()}")
            try:
                with urllib.request.urlopen(f"{server.base_url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy after {HEALTH_TIMEOUT_S} s:\n{server.log_tail()}")
            time.sleep(0.3)
        yield server
    finally:
        _stop(proc)


@pytest.fixture
def context(chromium, session_server):
    ctx = chromium.new_context(viewport=VIEWPORT, locale="sv-SE")
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()


def _heading(page, key: str):
    return page.get_by_role("heading", name=translate(key, LANG))


def _logout_button(page):
    return page.get_by_role("button", name=translate("sidebar.logout", LANG))


def _log_in(page, username: str = "demo-connector") -> None:
    page.get_by_label(translate("login.username", LANG), exact=True).wait_for(state="visible")
    page.get_by_label(translate("login.username", LANG), exact=True).fill(username)
    page.get_by_label(translate("login.password", LANG), exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=translate("login.submit", LANG), exact=True).click()
    _logout_button(page).wait_for(state="visible", timeout=90_000)
    settle(page)


def _session_cookie(ctx, page, timeout_s: float = 10) -> dict | None:
    """The session cookie once the page has traded its handoff token for it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [c for c in ctx.cookies() if c["name"] == COOKIE_NAME]
        if found:
            return found[0]
        page.wait_for_timeout(200)
    return None


def _cookie_gone(ctx, page, timeout_s: float = 10) -> bool:
    deadline = time.monotonic() + timeout_s
    while any(c["name"] == COOKIE_NAME for c in ctx.cookies()) and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    return not any(c["name"] == COOKIE_NAME for c in ctx.cookies())


def _open(page, url: str) -> None:
    """Load a page and wait for its title (settle alone can pass before the first run starts)."""
    page.goto(url)
    page.locator('[data-testid="stMain"] h1').first.wait_for(state="visible", timeout=90_000)
    settle(page)


def _reload(page) -> None:
    page.reload()
    page.locator('[data-testid="stMain"] h1').first.wait_for(state="visible", timeout=90_000)
    settle(page)


def _logged_in(page) -> bool:
    return _logout_button(page).count() > 0 and _heading(page, "login.title").count() == 0


def test_reload_and_a_new_tab_keep_the_session(session_server, context):
    page = context.new_page()
    _open(page, session_server.base_url)
    _log_in(page)
    cookie = _session_cookie(context, page)
    assert cookie is not None, session_server.log_tail()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find(COOKIE_NAME) == -1  # scripts cannot read it
    _reload(page)
    assert _logged_in(page), error_texts(page)
    second = context.new_page()
    _open(second, f"{session_server.base_url}/patients")
    assert _logged_in(second)
    assert _heading(second, "page.patients").count() == 1
    screenshot(second, "sessions-new-tab")
    # another browser (no cookie) is not logged in
    other = context.browser.new_context(viewport=VIEWPORT, locale="sv-SE")
    try:
        stranger = other.new_page()
        _open(stranger, f"{session_server.base_url}/patients")
        assert _heading(stranger, "login.title").count() == 1
    finally:
        other.close()


def test_deep_link_lands_on_the_requested_page_with_its_query(session_server, context):
    page = context.new_page()
    _open(page, f"{session_server.base_url}/patients?country=DK")
    assert _heading(page, "login.title").count() == 1
    assert _logout_button(page).count() == 0
    patients = translate("page.patients", LANG)
    assert page.get_by_text(translate("login.continue_to", LANG, page=patients)).count() == 1
    _log_in(page)
    assert page.url.split("?")[0].endswith("/patients"), page.url
    assert "country=DK" in page.url
    assert _heading(page, "page.patients").count() == 1
    assert not error_texts(page)


def test_unknown_address_shows_the_translated_not_found_page(session_server, context):
    page = context.new_page()
    _open(page, f"{session_server.base_url}/no-such-page")
    assert _heading(page, "not_found.title").count() == 1
    assert page.get_by_text("Page not found").count() == 0
    screenshot(page, "sessions-not-found")
    # logged in, an address outside the role is not found either (no English dialog)
    _open(page, session_server.base_url)
    _log_in(page)
    _open(page, f"{session_server.base_url}/audit_log")
    assert _heading(page, "not_found.title").count() == 1
    assert page.get_by_text("Page not found").count() == 0
    assert _logged_in(page)


def test_idle_limit_locks_the_page_without_a_click_and_survives_no_reload(session_server, context):
    page = context.new_page()
    _open(page, f"{session_server.base_url}/patients")
    _log_in(page)
    assert _session_cookie(context, page) is not None
    page.get_by_text(translate("session.idle_countdown_seconds", LANG, n=0).split("0")[0]).first.wait_for()
    # no click from here: the countdown locks the page by itself
    _heading(page, "login.title").wait_for(timeout=(IDLE_S + 20) * 1000)
    assert page.get_by_text(translate("login.idle_timeout", LANG)).count() == 1
    assert _heading(page, "page.patients").count() == 0
    assert _cookie_gone(context, page)  # the row is revoked and the browser drops the cookie
    screenshot(page, "sessions-idle-locked")
    _reload(page)
    assert _heading(page, "login.title").count() == 1
    assert _logout_button(page).count() == 0


def _age_latest_session(server, *, seconds: float) -> None:
    """Move the newest session's start back in the server's database (UTC text, as SQLite stores it)."""
    with sqlite3.connect(server.db_path) as conn:
        row_id, created = conn.execute(
            "SELECT id, created_at FROM browser_session ORDER BY id DESC"
        ).fetchone()
        earlier = datetime.fromisoformat(created) - timedelta(seconds=seconds)
        conn.execute(
            "UPDATE browser_session SET created_at = ? WHERE id = ?",
            (earlier.isoformat(sep=" "), row_id),
        )


def test_absolute_limit_ends_even_an_active_session(session_server, context):
    page = context.new_page()
    _open(page, session_server.base_url)
    _log_in(page)
    assert _session_cookie(context, page) is not None
    _age_latest_session(session_server, seconds=ABSOLUTE_S - 120)
    _reload(page)
    assert _logged_in(page)  # two minutes left, and active
    _age_latest_session(session_server, seconds=180)
    _reload(page)
    assert _heading(page, "login.title").count() == 1
    assert page.get_by_text(translate("login.absolute_timeout", LANG)).count() == 1
    assert _cookie_gone(context, page)


def test_admin_password_reset_logs_the_user_out_at_the_next_interaction(session_server, context, monkeypatch):
    from services.users import list_users, reset_password

    page = context.new_page()
    _open(page, session_server.base_url)
    _log_in(page, "demo-partner")
    assert _session_cookie(context, page) is not None
    monkeypatch.setenv("LOTSA_DB_URL", session_server.env["LOTSA_DB_URL"])
    monkeypatch.setenv("LOTSA_SECRET_KEY", session_server.env["LOTSA_SECRET_KEY"])
    dispose_all()
    try:
        admin = next(u for u in list_users(_admin()) if u.username == "demo-admin")
        partner = next(u for u in list_users(_admin()) if u.username == "demo-partner")
        assert admin.role == "admin"
        reset_password(_admin(), partner.id, "a brand new passphrase 42")
    finally:
        dispose_all()
    page.get_by_role("link", name=translate("page.account", LANG)).first.click()
    _heading(page, "login.title").wait_for(timeout=60_000)
    settle(page)
    assert page.get_by_text(translate("login.credentials_changed", LANG)).count() == 1
    _reload(page)
    assert _heading(page, "login.title").count() == 1


def _admin():
    from sqlmodel import select

    from db.engine import read_session
    from db.models import User

    with read_session() as s:
        admin_id = s.exec(select(User.id).where(User.username == "demo-admin")).one()
    return load_principal(admin_id)


def test_logout_clears_the_cookie_and_a_reload_stays_logged_out(session_server, context):
    page = context.new_page()
    _open(page, session_server.base_url)
    _log_in(page)
    assert _session_cookie(context, page) is not None
    _logout_button(page).click()
    settle(page)
    assert _heading(page, "login.title").count() == 1
    assert _cookie_gone(context, page)
    _reload(page)
    assert _heading(page, "login.title").count() == 1
    assert _logout_button(page).count() == 0
