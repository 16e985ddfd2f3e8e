"""Browser tests: the real `streamlit run app.py` on a seeded demo database, driven by Chromium.

Chromium is Debian's (`LOTSA_CHROMIUM`, default /usr/bin/chromium), launched through
Playwright's sync API; `playwright install` is never needed. Without Chromium the browser suite
is skipped and the summary says so (`browser suite: SKIPPED: …`); `LOTSA_REQUIRE_BROWSER=1` makes
that a failure. Screenshots go to artifacts/screenshots/ (gitignored).
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import _suite_notes

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
HEALTH_TIMEOUT_S = 60
VIEWPORT = {"width": 1400, "height": 1000}
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI containers run as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    return os.environ.get("LOTSA_CHROMIUM") or "/usr/bin/chromium"


def _browser_missing(reason: str) -> None:
    """Skip the browser suite plainly, or fail it when LOTSA_REQUIRE_BROWSER=1."""
    if os.environ.get("LOTSA_REQUIRE_BROWSER") == "1":
        _suite_notes["browser"] = f"FAILED (LOTSA_REQUIRE_BROWSER=1): {reason}"
        pytest.fail(f"LOTSA_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    _suite_notes["browser"] = f"SKIPPED: {reason}"
    pytest.skip(f"browser suite skipped: {reason}")


@dataclass
class LotsaServer:
    base_url: str
    db_path: Path
    log_path: Path
    languages: dict[str, str] = field(default_factory=dict)  # demo username -> UI language

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server's whole process group: TERM, then KILL after 10 s."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = chromium_path()
    if not Path(path).is_file() or not os.access(path, os.X_OK):
        _browser_missing(f"no Chromium at {path} (install Debian's chromium or set LOTSA_CHROMIUM)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as missing:
        _browser_missing(f"the playwright package is not installed ({missing})")
    return path


@pytest.fixture(scope="session")
def lotsa_server(chromium_executable, tmp_path_factory) -> Iterator[LotsaServer]:
    """`streamlit run app.py` on a fresh demo database in a temp dir, on a free port."""
    folder = tmp_path_factory.mktemp("e2e")
    db_path = folder / "lotsa.db"
    env = {
        **os.environ,
        "LOTSA_DB_URL": f"sqlite:///{db_path}",
        "LOTSA_DEMO": "1",
        "LOTSA_SECRET_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    env.pop("LOTSA_ENV", None)  # production behaviour: what users see
    for command in ("migrate", "demo"):
        done = subprocess.run(
            [sys.executable, "manage.py", command], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"manage.py {command} failed:\n{done.stdout}\n{done.stderr}"
    with sqlite3.connect(db_path) as conn:
        languages = dict(conn.execute("SELECT username, language FROM app_user").fetchall())

    port = _free_port()
    log_path = folder / "server.log"
    server = LotsaServer(f"http://127.0.0.1:{port}", db_path, log_path, languages)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                # a file edited during a run must not re-import the app ("Table already defined")
                "--server.fileWatcherType",
                "none",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole below
        )
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{server.log_tail()}")
            try:
                with urllib.request.urlopen(f"{server.base_url}/_stcore/health", timeout=2) as response:
                    if response.status == 200 and response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy after {HEALTH_TIMEOUT_S} s:\n{server.log_tail()}")
            time.sleep(0.3)
        yield server
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def chromium(chromium_executable):
    """One headless Chromium per test module (other modules may start their own Playwright)."""
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=chromium_executable, args=CHROMIUM_ARGS, headless=True
            )
        except Error as failed:
            _browser_missing(f"Chromium at {chromium_executable} does not start: {str(failed)[:300]}")
        _suite_notes["browser"] = f"ran with Chromium {browser.version} at {chromium_executable}"
        yield browser
        browser.close()


@pytest.fixture
def tab(chromium, lotsa_server):
    """A fresh browser context (no cookies, new Streamlit session) and page."""
    context = chromium.new_context(viewport=VIEWPORT, locale="sv-SE")
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    context.close()


# Helpers ----------------------------------------------------------------------------------------

APP = '[data-testid="stApp"]'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
ERROR_SELECTORS = ('[data-testid="stException"]', '[data-testid="stAlertContentError"]')


def settle(page, timeout_ms: int = 30_000) -> None:
    """Wait until Streamlit has finished running the script and the page has stopped changing:
    the app is connected and not running, no stale elements are left, and that holds twice."""
    deadline = time.monotonic() + timeout_ms / 1000
    page.wait_for_timeout(150)  # let a click's rerun request reach the server
    quiet = 0
    while quiet < 2:
        page.wait_for_selector(IDLE, timeout=max(1, int((deadline - time.monotonic()) * 1000)))
        stale = page.locator('[data-stale="true"]').count()
        quiet = quiet + 1 if stale == 0 else 0
        if time.monotonic() > deadline:
            raise AssertionError("Streamlit did not settle in time")
        page.wait_for_timeout(200)


def error_texts(page) -> list[str]:
    """Texts of every exception box and error alert on the page (an exception box contains an
    error alert of its own; it is reported once)."""
    found = []
    for selector in ERROR_SELECTORS:
        for text in page.locator(selector).all_inner_texts():
            line = " ".join(text.split())[:300]
            if not any(line in seen for seen in found):
                found.append(f"{selector}: {line}")
    return found


def shown(locator, timeout_ms: int = 20_000) -> None:
    """Assert that `locator` becomes visible, waiting for it: `settle` cannot tell a rerun the server
    has not started yet from a finished one, and on a loaded machine a click's rerun can start
    later than settle's first look (CI, Dec 2026: "Sparat (2 fält ändrade)." checked one instant
    too early). On failure the page's error boxes are part of the message."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        locator.wait_for(state="visible", timeout=timeout_ms)
    except PlaywrightTimeout:
        errors = error_texts(locator.page)
        raise AssertionError(f"not shown within {timeout_ms} ms: {locator}; errors: {errors}") from None


def screenshot(page, name: str) -> Path:
    """A full-page PNG in artifacts/screenshots/. Streamlit scrolls inside its main area, so the
    viewport is stretched to the content's height for the shot, then restored."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    height = page.evaluate(
        """() => Math.max(...['stMain', 'stAppViewContainer', 'stSidebarContent']
             .map(id => document.querySelector(`[data-testid="${id}"]`))
             .filter(Boolean).map(el => el.scrollHeight))"""
    )
    height = int(height or 0)
    tall = min(height + 40, 8000) if height > VIEWPORT["height"] else VIEWPORT["height"]
    if tall != VIEWPORT["height"]:
        page.set_viewport_size({"width": VIEWPORT["width"], "height": tall})
        page.wait_for_timeout(300)
    page.screenshot(path=str(path), full_page=True)
    if tall != VIEWPORT["height"]:
        page.set_viewport_size(VIEWPORT)
    return path
