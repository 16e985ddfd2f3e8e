"""One engine per database URL, and the only two ways to open a session: read and write.

SQLite: WAL, busy_timeout, foreign keys on; write transactions start with BEGIN IMMEDIATE and
are serialised within the process (plain BEGIN with several writers gives "database is locked").
The database file and its -wal/-shm companions are readable by the owner only (0600).
Postgres: psycopg 3, no process-wide lock (the server handles concurrent writers; a lock here
made audit writes queue behind logins).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from settings import get_settings

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
# SQLite only: one writer at a time within the process.
_write_locks: dict[str, threading.RLock] = {}


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use psycopg 3 for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(url: str) -> bool:
    return normalise_url(url).startswith("sqlite")


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy, not the driver, issue BEGIN, so we can choose IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("lotsa_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


SQLITE_FILE_MODE = 0o600


def _ensure_sqlite_folder(url: str) -> None:
    """SQLite creates the file but not its folder (data/ does not exist in a fresh clone).

    The file is created here with mode 0600 before SQLite opens it (SQLite gives the -wal and -shm
    files the database file's mode); an existing file readable by others is narrowed to 0600."""
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:" and not path.startswith("file:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, SQLITE_FILE_MODE))
            for name in (path, f"{path}-wal", f"{path}-shm", f"{path}-journal"):
                try:
                    if os.stat(name).st_mode & 0o077:
                        os.chmod(name, SQLITE_FILE_MODE)
                except FileNotFoundError:
                    pass


PG_OPTIONS = "-c jit=off"


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    _ensure_sqlite_folder(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        _install_sqlite_hooks(engine)
        return engine
    # JIT compilation off for this app's sessions: the dashboards' aggregates are costed high enough
    # to trigger it, and compiling took 1.0 s of a 2.0 s statement at region size (issue 12); the
    # queries themselves are index reads that gain nothing from it.
    return create_engine(
        url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args={"options": PG_OPTIONS}
    )


def get_engine(url: str | None = None) -> Engine:
    url = normalise_url(url or get_settings().db_url)
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
            if is_sqlite(url):
                _write_locks[url] = threading.RLock()
        return engine


def dispose_all() -> None:
    """Close every pooled connection (tests, restore)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _write_locks.clear()


@contextmanager
def read_session(url: str | None = None) -> Iterator[Session]:
    engine = get_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        yield session


@contextmanager
def write_session(url: str | None = None) -> Iterator[Session]:
    """One all-or-nothing write transaction: committed on success, rolled back on any error."""
    engine = get_engine(url)
    write_engine = engine.execution_options(lotsa_write=True)
    lock = _write_locks.get(normalise_url(url or get_settings().db_url)) or nullcontext()
    with lock, Session(write_engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def unpooled_engine(url: str) -> Engine:
    """A throwaway engine for admin tasks (migrate, create database, backup) that must not be pooled."""
    url = normalise_url(url)
    _ensure_sqlite_folder(url)
    return create_engine(url, poolclass=NullPool)
