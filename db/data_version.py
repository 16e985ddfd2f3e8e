"""Data versions: one counter per table, bumped in the same transaction as every write to it.

Caches that must stay correct across several app processes (Streamlit replicas behind a proxy, all
on one Postgres) key their entries by the versions of the tables they read: a write in any replica
commits the new counter together with the data, so every replica's next read of the counter misses
its old entry. Time-to-live alone would serve stale results for up to the TTL.

How: every INSERT/UPDATE/DELETE sent through an engine notes its table on the connection; just
before the transaction commits, one upsert per noted table bumps `data_version` through the same
DBAPI connection (so it commits or rolls back with the data). Reading is one indexed SELECT on a
small table. Tables missing from `data_version` read as version 0.

Read the version *before* reading the data: data read afterwards is at least as new as the key.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import date
from functools import wraps
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine

TABLE = "data_version"
_WRITE_RE = re.compile(
    r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM|REPLACE\s+INTO)\s+"
    r"[\"`]?(?:\w+[\"`]?\.[\"`]?)?(\w+)",
    re.IGNORECASE,
)
# Written on nearly every request (audit of reads, sessions, throttling): not data anyone caches.
# disclosure_release: a closed period's release is written once from data already read (issue 10).
IGNORED = frozenset(
    {TABLE, "alembic_version", "audit_event", "browser_session", "login_failure", "disclosure_release"}
)
_TOUCHED = "lotsa_touched_tables"

# The tables each cached read depends on.
DIRECTORY = (
    "service",
    "organization",
    "location",
    "service_at_location",
    "address",
    "attribute",
    "taxonomy_term",
    "schedule",
    "service_capacity",
    "municipality",
    "health_centre",
    "contact",
    "phone",
    "cost_option",
)


def written_table(statement: str) -> str | None:
    """The table an INSERT/UPDATE/DELETE statement writes, lower-case; None for anything else."""
    match = _WRITE_RE.match(statement)
    return match.group(1).lower() if match else None


@event.listens_for(Engine, "after_cursor_execute")
def _note_write(conn, cursor, statement, parameters, context, executemany) -> None:
    table = written_table(statement)
    if table and table not in IGNORED:
        conn.info.setdefault(_TOUCHED, set()).add(table)


@event.listens_for(Engine, "rollback")
def _forget(conn) -> None:
    conn.info.pop(_TOUCHED, None)


@event.listens_for(Engine, "commit")
def _bump(conn) -> None:
    """Runs inside the transaction, just before COMMIT: the counters commit with the data."""
    touched = conn.info.pop(_TOUCHED, None)
    if not touched:
        return
    dialect = conn.dialect.name
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        if dialect == "sqlite":
            cursor.execute(f"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{TABLE}'")
            mark = "?"
        else:
            cursor.execute(f"SELECT to_regclass('{TABLE}') IS NOT NULL")
            mark = "%s"
        row = cursor.fetchone()
        if not row or not row[0]:
            return  # a database not yet migrated to 0009
        for table in sorted(touched):  # one order everywhere, so two writers never deadlock
            cursor.execute(
                f"INSERT INTO {TABLE} (name, version) VALUES ({mark}, 1) "
                f"ON CONFLICT (name) DO UPDATE SET version = {TABLE}.version + 1",
                (table,),
            )
    finally:
        cursor.close()


def versions(tables: Iterable[str], url: str | None = None) -> tuple[int, ...]:
    """The current version of each table (0 when never written since 0009), in the given order."""
    from sqlalchemy import bindparam, text

    from db.engine import get_engine

    names = tuple(tables)
    query = text(f"SELECT name, version FROM {TABLE} WHERE name IN :names").bindparams(
        bindparam("names", expanding=True)
    )
    with get_engine(url).connect() as conn:
        found = dict(conn.execute(query, {"names": list(names)}).all())
    return tuple(int(found.get(name, 0)) for name in names)


# Login accounts: every login writes its account row (last login, failed attempts, lock). Nothing an
# outcome dashboard shows comes from them (its scope is part of its cache key), so `total` leaves them
# out; otherwise each login emptied every dashboard cache of every replica.
ACCOUNTS = ("app_user", "user_centre", "user_organization")


def total(url: str | None = None) -> int:
    """One number that changes with every write to any table but the ignored ones and the login
    accounts (a cache key for figures that read many tables, such as the outcome dashboards)."""
    from sqlalchemy import bindparam, text

    from db.engine import get_engine

    query = text(f"SELECT coalesce(sum(version), 0) FROM {TABLE} WHERE name NOT IN :accounts").bindparams(
        bindparam("accounts", expanding=True)
    )
    with get_engine(url).connect() as conn:
        return int(conn.execute(query, {"accounts": list(ACCOUNTS)}).scalar_one())


F = TypeVar("F", bound=Callable[..., Any])
_CACHES: list[OrderedDict] = []
_LOCK = threading.Lock()


def versioned_cache(
    tables: Iterable[str], *, max_entries: int = 256, ttl_seconds: float = 3600
) -> Callable[[F], F]:
    """Cache a function of hashable arguments by (database URL, the tables' versions, arguments).
    Only for data every caller may see (the public directory): the key holds no principal. The TTL
    bounds memory and time-dependent results the arguments and the day do not name. Callers must not
    mutate what they get back (it is shared)."""
    names = tuple(tables)

    def decorate(fn: F) -> F:
        store: OrderedDict = OrderedDict()
        _CACHES.append(store)

        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from settings import get_settings

            url = get_settings().db_url
            # The day too: results with "today" in them (schedules, days since verified) change at midnight.
            key = (url, versions(names, url), date.today(), args, tuple(sorted(kwargs.items())))
            now = time.monotonic()
            with _LOCK:
                hit = store.get(key)
                if hit is not None and now - hit[0] < ttl_seconds:
                    store.move_to_end(key)
                    return hit[1]
            value = fn(*args, **kwargs)
            with _LOCK:
                store[key] = (now, value)
                store.move_to_end(key)
                while len(store) > max_entries:
                    store.popitem(last=False)
            return value

        wrapper.cache_clear = store.clear  # type: ignore[attr-defined]
        wrapper.uncached = fn  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def clear_caches() -> None:
    with _LOCK:
        for store in _CACHES:
            store.clear()
