"""Bring a benchmark database generated earlier up to the current models without regenerating it.

Benchmark databases take minutes to generate (national SQLite: ~10 min, region on Postgres: ~8 min).
When a migration that was an empty placeholder at generation time is filled in later, Alembic
considers the database current; this adds what the models have and the database lacks (tables,
columns, indexes), as the migrations would. Benchmarks only: never on a real installation, which
migrates with `manage.py migrate`.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlmodel import SQLModel

import db.models  # noqa: F401 - registers the tables
from db.engine import get_engine
from db.migrate import upgrade


def catch_up(url: str) -> list[str]:
    """Migrate to the head, then add missing tables, columns and indexes. Returns what was added."""
    upgrade(url)
    added = []
    with get_engine(url).begin() as conn:
        context = MigrationContext.configure(conn)
        ops = Operations(context)
        for diff in compare_metadata(context, SQLModel.metadata):
            if not isinstance(diff, tuple):
                continue
            kind = diff[0]
            if kind == "add_table":
                diff[1].create(conn)
                added.append(f"table {diff[1].name}")
            elif kind == "add_column":
                column = diff[3].copy()
                ops.add_column(diff[2], column)
                added.append(f"column {diff[2]}.{column.name}")
            elif kind == "add_index":
                diff[1].create(conn)
                added.append(f"index {diff[1].name}")
    return added
