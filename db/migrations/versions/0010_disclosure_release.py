"""disclosure: stable record keys for the cell-key perturbation and protected releases

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 07:45:00.000000
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
