"""disclosure: stable record keys for the cell-key perturbation and protected releases

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 07:45:00.000000
"""

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


# Record keys are uniform integers in [0, 2**31 - 1) (domain.cellkey.RECORD_KEY_RANGE); the server
# default gives every row inserted by plain SQL one too, on each backend.
_SERVER_DEFAULT = {
    "sqlite": "(abs(random()) % 2147483647)",
    "postgresql": "(floor(random() * 2147483647))::integer",
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    expression = _SERVER_DEFAULT.get(dialect, _SERVER_DEFAULT["postgresql"])
    default = sa.text(expression)
    with op.batch_alter_table("patient") as batch:
        batch.add_column(sa.Column("record_key", sa.Integer(), nullable=True))
    # Existing patients: one random key each (the cell key method needs them stable, not secret
    # from the database, but never shown).
    op.execute(sa.text(f"UPDATE patient SET record_key = {expression}"))
    with op.batch_alter_table("patient") as batch:
        batch.alter_column("record_key", existing_type=sa.Integer(), nullable=False, server_default=default)


def downgrade() -> None:
    with op.batch_alter_table("patient") as batch:
        batch.drop_column("record_key")
