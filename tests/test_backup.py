"""Backup and restore on SQLite and Postgres: a round trip gives the original data back, the
append-only audit table survives it, and a bad file changes nothing."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from db.backup import BackupError, backup, restore
from db.engine import get_engine, is_sqlite, write_session
from db.models import HealthCentre, User
from services.patients import register_patient
from tests.factories import make_world

PERSONNUMMER = "19460502-2369"
OTHER_PERSONNUMMER = "19521224-4437"


def _snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    with get_engine(url).connect() as conn:
        return {
            table.name: [
                tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in SQLModel.metadata.sorted_tables
        }


def _world_with_a_patient():
    world = make_world()
    register_patient(
        world.principals["connector"],
        centre_id=world.centre_a,
        national_id=PERSONNUMMER,
        country="SE",
        name="Greta Lind",
    )
    return world


def test_backup_then_restore_gives_the_original_back(db_url, tmp_path):
    world = _world_with_a_patient()
    original = _snapshot(db_url)
    assert original["patient"] and original["audit_event"]

    written = backup(tmp_path / "lotsa.backup", db_url)
    assert written.stat().st_size > 0

    register_patient(
        world.principals["connector"],
        centre_id=world.centre_a,
        national_id=OTHER_PERSONNUMMER,
        country="SE",
        name="Nils Berg",
    )
    with write_session() as s:
        s.get(User, world.principals["admin"].user_id).display_name = "Changed"
        s.get(HealthCentre, world.centre_b).name = "Renamed"
    assert _snapshot(db_url) != original

    result = restore(written, db_url)
    assert result.revision == result.head and not result.needs_migrate
    assert _snapshot(db_url) == original

    # The restored audit table is still append-only, and new rows get fresh ids.
    with pytest.raises(Exception, match="append-only"), get_engine(db_url).begin() as conn:
        conn.execute(text("DELETE FROM audit_event"))
    register_patient(
        world.principals["connector"],
        centre_id=world.centre_a,
        national_id=OTHER_PERSONNUMMER,
        country="SE",
        name="Nils Berg",
    )
    assert len(_snapshot(db_url)["patient"]) == len(original["patient"]) + 1


@pytest.mark.parametrize("content", [b"", b"this is not a database" * 200, b"PGDMP" + b"\x00" * 500])
def test_restore_refuses_a_bad_file_and_changes_nothing(db_url, tmp_path, content):
    _world_with_a_patient()
    original = _snapshot(db_url)
    bad = tmp_path / "bad.backup"
    bad.write_bytes(content)
    with pytest.raises(BackupError):
        restore(bad, db_url)
    with pytest.raises(BackupError, match="does not exist"):
        restore(tmp_path / "missing.backup", db_url)
    assert _snapshot(db_url) == original


def test_restore_refuses_a_database_that_is_not_lotsa(sqlite_url, tmp_path):
    _world_with_a_patient()
    original = _snapshot(sqlite_url)
    stranger = tmp_path / "stranger.db"
    with sqlite3.connect(stranger) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    with pytest.raises(BackupError, match="Alembic"):
        restore(stranger, sqlite_url)
    assert _snapshot(sqlite_url) == original


def test_sqlite_backup_is_online_and_holds_only_committed_data(sqlite_url, tmp_path):
    _world_with_a_patient()
    database = make_url(sqlite_url).database
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE health_centre SET name = 'uncommitted'")
    try:
        written = backup(tmp_path / "online.backup", sqlite_url)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    with sqlite3.connect(written) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        names = {name for (name,) in copy.execute("SELECT name FROM health_centre")}
    assert names and "uncommitted" not in names
    assert is_sqlite(sqlite_url)
