"""outcome pairs: each enrolment's baseline and follow-up values per score, kept by triggers (issue 12)

Centre outcomes' paired change paired 1.5 M responses by a self-join on every view (20 s for a
region manager on SQLite). `outcome_pair` holds the pairs, one row per enrolment and score, and
triggers on instrument_response and enrolment keep it exact through every write; see
db/outcome_pairs.py for the definitions. The table is filled here from the existing responses.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 14:40:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from db import outcome_pairs

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outcome_pair",
        sa.Column("enrolment_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("score", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("baseline_on", sa.Date(), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=False),
        sa.Column("record_key", sa.Integer(), nullable=False),
        sa.Column("at3", sa.Float(), nullable=True),
        sa.Column("at6", sa.Float(), nullable=True),
        sa.Column("at12", sa.Float(), nullable=True),
        sa.Column("latest", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("enrolment_id", "score"),
    )
    op.create_index("ix_outcome_pair_scope", "outcome_pair", ["score", "centre_id", "baseline_on"])
    outcome_pairs.install(op.get_bind())


def downgrade() -> None:
    outcome_pairs.drop_triggers(op.get_bind())
    op.drop_index("ix_outcome_pair_scope", table_name="outcome_pair")
    op.drop_table("outcome_pair")
