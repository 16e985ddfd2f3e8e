"""Shared fixtures: a migrated database per test on SQLite and (when reachable) on Postgres.

Each test gets its own database: a copy of a migrated SQLite template, or a Postgres database
created from a migrated template database. LOTSA_TEST_PG_URL picks the server (default: the local
one); LOTSA_REQUIRE_PG=1 turns "unreachable" from a skip into a failure.
"""

from __future__ import annotations

import base64
import itertools
import os
import sqlite3
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from db.engine import dispose_all, normalise_url, unpooled_engine
from db.migrate import upgrade
from services.dashboards import clear_caches

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
TEST_KEY = base64.b64encode(b"k" * 32).decode()
_counter = itertools.count()
_suite_notes: dict[str, str] = {}


def pg_server_url() -> str:
    return os.environ.get("LOTSA_TEST_PG_URL") or DEFAULT_PG


def _pg_reachable() -> str | None:
    """None if Postgres answers, else the reason."""
    try:
        engine = unpooled_engine(pg_server_url())
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"


def _with_database(url: str, name: str) -> str:
    return make_url(normalise_url(url)).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(autouse=True)
def _test_env(monkeypatch):
    monkeypatch.setenv("LOTSA_SECRET_KEY", TEST_KEY)
    monkeypatch.delenv("LOTSA_DEMO", raising=False)
    clear_caches()  # dashboard caches are per process; a test never sees another test's figures
    yield
    clear_caches()
    dispose_all()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    upgrade(f"sqlite:///{path}")
    dispose_all()
    return str(path)


@pytest.fixture(scope="session")
def pg_template():
    reason = _pg_reachable()
    if reason:
        _suite_notes["postgres"] = f"SKIPPED: no Postgres at {pg_server_url()} ({reason})"
        if os.environ.get("LOTSA_REQUIRE_PG") == "1":
            pytest.fail(f"LOTSA_REQUIRE_PG=1 but Postgres is unreachable: {reason}")
        pytest.skip(f"Postgres suite skipped: no server at {pg_server_url()} ({reason})")
    _suite_notes["postgres"] = f"ran against {pg_server_url()}"
    name = f"lotsa_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = unpooled_engine(pg_server_url()).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade(_with_database(pg_server_url(), name))
    dispose_all()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _fresh_sqlite(template: str, tmp_path) -> str:
    target = tmp_path / f"lotsa_{next(_counter)}.db"
    src, dst = sqlite3.connect(template), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.pg)])
def db_url(request, monkeypatch, sqlite_template, tmp_path):
    """A fresh migrated database on each backend; LOTSA_DB_URL points at it."""
    if request.param == "sqlite":
        url = _fresh_sqlite(sqlite_template, tmp_path)
        monkeypatch.setenv("LOTSA_DB_URL", url)
        yield url
        return
    template = request.getfixturevalue("pg_template")
    name = f"lotsa_t_{os.getpid()}_{next(_counter)}"
    admin = unpooled_engine(pg_server_url()).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = _with_database(pg_server_url(), name)
    monkeypatch.setenv("LOTSA_DB_URL", url)
    yield url
    dispose_all()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(monkeypatch, sqlite_template, tmp_path) -> str:
    """SQLite only: for page and browser tests, where the backend is not the point."""
    url = _fresh_sqlite(sqlite_template, tmp_path)
    monkeypatch.setenv("LOTSA_DB_URL", url)
    return url


def pytest_sessionfinish(session):
    """Under pytest-xdist each worker learns whether Postgres and Chromium were there; it hands its
    notes to the main process, which prints the summary lines."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["lotsa_suite_notes"] = dict(_suite_notes)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):  # pytest-xdist's hook: a worker finished
    for suite, note in getattr(node, "workeroutput", {}).get("lotsa_suite_notes", {}).items():
        if suite not in _suite_notes or note.startswith("SKIPPED"):
            _suite_notes[suite] = note


def pytest_terminal_summary(terminalreporter):
    for suite, note in _suite_notes.items():
        terminalreporter.write_line(f"{suite} suite: {note}")
