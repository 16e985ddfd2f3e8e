"""Alembic: upgrade from empty, downgrade to empty, and no drift between models and migrations,
on SQLite and Postgres."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import db.models  # noqa: F401
from db.engine import dispose_all, unpooled_engine
from db.migrate import downgrade, upgrade


def _tables(url: str) -> set[str]:
    engine = unpooled_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _modelled(name, type_, parent_names) -> bool:
    """Not the directory's search index (migration 0013: an FTS5 table and its shadow tables on
    SQLite, a pg_trgm-indexed table on Postgres), kept by triggers rather than by a model."""
    return not (type_ == "table" and name.startswith("service_search"))


def test_models_and_migrations_do_not_drift(db_url):
    engine = unpooled_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True, "include_name": _modelled}),
            SQLModel.metadata,
        )
    engine.dispose()
    assert diff == []


def test_downgrade_to_empty_and_upgrade_again(db_url):
    model_tables = set(SQLModel.metadata.tables)
    assert model_tables <= _tables(db_url)
    dispose_all()
    downgrade(db_url, "base")
    assert _tables(db_url) <= {"alembic_version"}
    upgrade(db_url)
    assert model_tables <= _tables(db_url)


def test_upgrade_is_idempotent(db_url):
    upgrade(db_url)
    upgrade(db_url)
    assert "audit_event" in _tables(db_url)
