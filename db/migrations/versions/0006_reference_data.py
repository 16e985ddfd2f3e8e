"""reference data for a real install (centres with HSA-id, taxonomy synonyms) and identity key version

- taxonomy_term.synonyms: a JSON list of strings (text), matched by services.reference.term_index
- health_centre.identifier: HSA-id (Sweden) or SOR code (Denmark), optional
- patient.key_version: which key generation encrypted the identity blob (see manage.py rotate-key)
- key_check: an HMAC of a constant per key version, so a wrong LOTSA_SECRET_KEY is detected at start

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 07:45:00.000000
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('taxonomy_term') as batch_op:
        batch_op.add_column(sa.Column('synonyms', sa.Text(), nullable=False, server_default='[]'))
    with op.batch_alter_table('health_centre') as batch_op:
        batch_op.add_column(sa.Column('identifier', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    with op.batch_alter_table('patient') as batch_op:
        batch_op.add_column(sa.Column('key_version', sa.Integer(), nullable=False, server_default='1'))
    op.create_table('key_check',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('check_value', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('version')
    )


def downgrade() -> None:
    op.drop_table('key_check')
    with op.batch_alter_table('patient') as batch_op:
        batch_op.drop_column('key_version')
    with op.batch_alter_table('health_centre') as batch_op:
        batch_op.drop_column('identifier')
    with op.batch_alter_table('taxonomy_term') as batch_op:
        batch_op.drop_column('synonyms')
