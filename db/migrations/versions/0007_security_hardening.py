"""security hardening: audit log refuses REPLACE/INSERT over existing ids on SQLite; failed logins
per source for login throttling

SQLite's INSERT OR REPLACE removes the conflicting row without firing DELETE triggers (unless
recursive_triggers is on), so 0002's UPDATE/DELETE triggers did not stop a rewrite. A BEFORE INSERT
trigger runs before conflict resolution and refuses any insert whose id already exists, whatever the
conflict clause; UPSERT (ON CONFLICT DO UPDATE) fires the UPDATE trigger of 0002. Postgres already
refuses both with 0002's statement trigger (INSERT ... ON CONFLICT DO UPDATE fires BEFORE UPDATE).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 07:45:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER audit_event_no_overwrite BEFORE INSERT ON audit_event "
            "WHEN EXISTS (SELECT 1 FROM audit_event WHERE id = NEW.id) "
            "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
        )
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source_key", sa.String(length=64), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_login_failure_source_at", "login_failure", ["source_key", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_failure_source_at", table_name="login_failure")
    op.drop_table("login_failure")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_overwrite")
