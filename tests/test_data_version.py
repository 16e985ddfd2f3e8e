"""Issue 14: caches stay correct across app replicas because they are keyed by a data version that
every write bumps in its own transaction (db/data_version.py), not only by time."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from db import data_version
from db.engine import read_session, unpooled_engine, write_session
from db.models import Municipality


def _rename(url: str, old: str, new: str) -> None:
    """A write from "another replica": its own engine and connection, no shared Python state."""
    engine = unpooled_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE municipality SET name = :new WHERE name = :old"), {"new": new, "old": old}
            )
    finally:
        engine.dispose()


def test_written_table_names_the_table_of_each_write():
    assert data_version.written_table('INSERT INTO "service" (name) VALUES (?)') == "service"
    assert data_version.written_table("insert or replace into audit_event (id) values (1)") == "audit_event"
    assert data_version.written_table("UPDATE service_capacity SET available = 1") == "service_capacity"
    assert data_version.written_table("DELETE FROM public.attribute WHERE id = 1") == "attribute"
    assert data_version.written_table("SELECT * FROM service") is None
    assert data_version.written_table("WITH x AS (SELECT 1) SELECT * FROM x") is None


def test_a_committed_write_bumps_its_table_and_a_rollback_does_not(db_url):
    before = data_version.versions(["municipality", "service"])
    with write_session() as s:
        s.add(
            Municipality(
                code="9999", name="Testby", country="SE", region_name="R", latitude=59.0, longitude=18.0
            )
        )
    after = data_version.versions(["municipality", "service"])
    assert after[0] == before[0] + 1 and after[1] == before[1]

    with pytest.raises(RuntimeError), write_session() as s:
        s.add(
            Municipality(
                code="9998", name="Rollback", country="SE", region_name="R", latitude=59.0, longitude=18.0
            )
        )
        s.flush()
        raise RuntimeError("abort")
    assert data_version.versions(["municipality"]) == (after[0],)
    with read_session() as s:
        assert s.exec(text("SELECT count(*) FROM municipality WHERE code = '9998'")).scalar_one() == 0


def test_audit_rows_do_not_bump_any_version(db_url):
    before = data_version.total()
    engine = unpooled_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_event (at, action, outcome, detail) "
                "VALUES (CURRENT_TIMESTAMP, 'test.read', 'ok', '')"
            )
        )
    engine.dispose()
    assert data_version.total() == before


def test_a_versioned_cache_sees_a_write_made_by_another_replica(db_url):
    with write_session() as s:
        s.add(
            Municipality(
                code="9997", name="Gammalby", country="SE", region_name="R", latitude=59.0, longitude=18.0
            )
        )
    calls = []

    @data_version.versioned_cache(["municipality"])
    def names(prefix: str) -> list[str]:
        calls.append(prefix)
        with read_session() as s:
            return [r[0] for r in s.exec(text(f"SELECT name FROM municipality WHERE name LIKE '{prefix}%'"))]

    assert names("Gam") == ["Gammalby"]
    assert names("Gam") == ["Gammalby"] and len(calls) == 1  # served from the cache
    _rename(db_url, "Gammalby", "Gamlestad")
    assert names("Gam") == ["Gamlestad"] and len(calls) == 2  # the other replica's write is seen at once


def test_the_dashboard_cache_misses_after_a_write_on_another_replica(db_url):
    from services.dashboards import scoped_cache
    from tests.factories import make_world

    manager = make_world().principals["manager"]
    calls = []

    @scoped_cache(ttl_seconds=3600)
    def figure(principal, name: str) -> int:
        calls.append(name)
        with read_session() as s:
            return s.exec(text("SELECT count(*) FROM municipality")).scalar_one()

    first = figure(manager, "x")
    assert figure(manager, "x") == first and len(calls) == 1  # served from the cache
    engine = unpooled_engine(db_url)
    with engine.begin() as conn:  # "another replica" adds a municipality
        conn.execute(
            text(
                "INSERT INTO municipality (code, name, country, region_name, latitude, longitude) "
                "VALUES ('9996', 'Nyby', 'SE', 'R', 59.0, 18.0)"
            )
        )
    engine.dispose()
    assert figure(manager, "x") == first + 1 and len(calls) == 2


def test_logins_do_not_empty_the_dashboard_caches(db_url):
    """Every login writes the account row (last login, failed attempts): under load that emptied every
    outcome dashboard's cache once per login (143 misses in one 20-user benchmark), so each view ran the
    disclosure audit again. Account rows change nothing a dashboard shows (its scope is in its key)."""
    from services.auth import authenticate
    from services.errors import LoginFailed
    from tests.factories import PASSWORD, make_world

    make_world()
    before = data_version.total()
    authenticate("t-connector", PASSWORD)
    with pytest.raises(LoginFailed):
        authenticate("t-manager", "a wrong password")
    assert data_version.versions(["app_user"])[0] > 0  # the account rows were written...
    assert data_version.total() == before  # ...and the dashboards' key did not move
    with write_session() as s:
        s.add(Municipality(code="9995", name="Ny", country="SE", region_name="R", latitude=59, longitude=1))
    assert data_version.total() == before + 1
