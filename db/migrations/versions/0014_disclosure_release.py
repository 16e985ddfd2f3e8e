"""protected releases of outcome figures (issue 10): one release per period, scope and cell

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 12:00:00.000000

* `disclosure_release`: what a closed reporting period published, written once (insert if absent)
  and read thereafter by every page and download (services/dashboards.py `released`).
* `outcome_summary.numerator_key` / `denominator_key`: the sums of the contributors' record keys
  per summary row, so the compare dashboard can perturb its counts by their cell keys
  (domain/cellkey.py). The summaries are a derived cache: they are emptied here, so the first
  compare view rebuilds them with the keys (a row without keys would perturb by the count alone,
  which a reader could undo, and a closed period's release would keep that for good).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disclosure_release",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("period_code", sa.String(length=16), nullable=False),
        sa.Column("scope_key", sa.String(length=64), nullable=False),
        sa.Column("cell", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("period_code", "scope_key", "cell", name="uq_disclosure_release_cell"),
    )
    with op.batch_alter_table("outcome_summary", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("numerator_key", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(
            sa.Column("denominator_key", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
    op.execute(sa.text("DELETE FROM outcome_summary"))


def downgrade() -> None:
    with op.batch_alter_table("outcome_summary", schema=None) as batch_op:
        batch_op.drop_column("denominator_key")
        batch_op.drop_column("numerator_key")
    op.drop_table("disclosure_release")
