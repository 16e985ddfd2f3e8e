"""HSDS: keep imported fields that have a home

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 07:45:00.000000
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
