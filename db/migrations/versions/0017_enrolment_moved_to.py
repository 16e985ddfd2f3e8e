"""enrolment moved_to_id: where a programme change took the person (issue 12)

A programme change marks the old enrolment and its follow-ups `moved`. The care page still lists
them; opening one now says where the person went on and links to the new programme's follow-up
of the same time point. The new enrolment is recorded on the old one, so the link is exact (a
patient can be enrolled in two programmes on one day). Enrolments moved before this migration keep
no link: the page then names the move without one.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 18:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite allows a REFERENCES clause on a new column that defaults to NULL; Alembic would
        # ask for batch mode, whose copy of the table drops the outcome_pair triggers on enrolment
        # (migration 0015) and rewrites every enrolment.
        op.execute("ALTER TABLE enrolment ADD COLUMN moved_to_id INTEGER REFERENCES enrolment (id)")
    else:
        op.add_column("enrolment", sa.Column("moved_to_id", sa.Integer(), nullable=True))
        op.create_foreign_key("enrolment_moved_to_id_fkey", "enrolment", "enrolment", ["moved_to_id"], ["id"])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # DROP COLUMN refuses a column with a REFERENCES clause, so batch mode copies the table; the
        # outcome_pair triggers name enrolment, so they go first and come back after the copy.
        from db import outcome_pairs

        outcome_pairs.drop_triggers(bind)
        with op.batch_alter_table("enrolment") as batch:
            batch.drop_column("moved_to_id")
        outcome_pairs.install(bind)
    else:
        op.drop_constraint("enrolment_moved_to_id_fkey", "enrolment", type_="foreignkey")
        op.drop_column("enrolment", "moved_to_id")
