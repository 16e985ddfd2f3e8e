"""outcome summary: monthly numerators and denominators per centre for the compare dashboard;
indexes for the outcome dashboards (paired change by enrolment, programme, unmet needs by municipality)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 09:12:00.000000
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outcome_summary',
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('metric', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('numerator', sa.Integer(), nullable=False),
    sa.Column('denominator', sa.Integer(), nullable=False),
    sa.Column('refreshed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['health_centre.id'], ),
    sa.PrimaryKeyConstraint('centre_id', 'month', 'metric')
    )
    op.create_index('ix_response_enrolment', 'instrument_response',
                    ['enrolment_id', 'instrument', 'timepoint_months', 'score'], unique=False)
    op.create_index('ix_enrolment_programme', 'enrolment', ['programme_id', 'centre_id', 'enrolled_on'], unique=False)
    op.create_index('ix_unmet_need_muni_date', 'unmet_need', ['municipality_id', 'recorded_on'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_unmet_need_muni_date', table_name='unmet_need')
    op.drop_index('ix_enrolment_programme', table_name='enrolment')
    op.drop_index('ix_response_enrolment', table_name='instrument_response')
    op.drop_table('outcome_summary')
