"""full-text search index for the directory (issue 14): reserved, filled in by the search work

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 12:00:00.000000
"""

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
