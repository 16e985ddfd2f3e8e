"""Alembic environment: targets SQLModel.metadata; the URL is LOTSA_DB_URL or the caller's."""

import warnings

from alembic import context
from sqlalchemy.exc import SAWarning
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers every table on the metadata)
from db.engine import unpooled_engine
from settings import get_settings

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    url = config.attributes.get("url") or get_settings().db_url
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = unpooled_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    # SQLite cannot reflect the expression index ix_service_public_name (lower(name)); batch mode
    # reflects the tables a copied table refers to and says so on every new install. That copy
    # does not rebuild service, so the index stays (tests/test_migrations.py compares the schema).
    warnings.filterwarnings(
        "ignore", message="Skipped unsupported reflection of expression-based index", category=SAWarning
    )
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run python manage.py migrate")
run_migrations_online()
