"""connector flow: incomplete questionnaires with a reason; referral-linked follow-up enrolment

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 07:55:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A questionnaire saved with unanswered items on purpose: why (a code); such a row has no total.
    with op.batch_alter_table("instrument_response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("incomplete_reason", sa.String(length=32), nullable=True))
    # The follow-up programme a referral started or joined.
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enrolment_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_referral_enrolment", "enrolment", ["enrolment_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_constraint("fk_referral_enrolment", type_="foreignkey")
        batch_op.drop_column("enrolment_id")
    with op.batch_alter_table("instrument_response", schema=None) as batch_op:
        batch_op.drop_column("incomplete_reason")
