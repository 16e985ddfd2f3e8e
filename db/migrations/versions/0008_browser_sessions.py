"""server-checked browser sessions that survive reload; session invalidation on password change

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 07:45:00.000000
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credential_epoch', sa.Integer(), nullable=False, server_default='0'))
    op.create_table('browser_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('handoff_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('handoff_expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('credential_epoch', sa.Integer(), nullable=False),
    sa.Column('sso', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('revoked_reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('browser_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_browser_session_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_browser_session_token_hash'), ['token_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_browser_session_handoff_hash'), ['handoff_hash'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('browser_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_browser_session_handoff_hash'))
        batch_op.drop_index(batch_op.f('ix_browser_session_token_hash'))
        batch_op.drop_index(batch_op.f('ix_browser_session_user_id'))
    op.drop_table('browser_session')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('credential_epoch')
