"""HSDS: keep imported fields that have a home

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 07:45:00.000000

HSDS 3.0 fields Lotsa dropped on import although the activity directory has an obvious place for
them: a second address line, a phone's extension and description, a place's other name and how to
get there, a contact's department, how to apply, waiting time and an alert on an activity,
schedule notes, an organisation's other name and the validity of a price. All nullable.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _text(length: int | None = None):
    return sqlmodel.sql.sqltypes.AutoString(length=length)


# table -> [(column, type)]
COLUMNS = {
    "address": [("address_2", _text(300))],
    "phone": [("extension", sa.Float()), ("description", _text())],
    "location": [("alternate_name", _text(300)), ("transportation", _text())],
    "contact": [("department", _text(200))],
    "service": [("application_process", _text()), ("wait_time", _text(300)), ("alert", _text())],
    "schedule": [("notes", _text())],
    "organization": [("alternate_name", _text(300))],
    "cost_option": [("valid_from", sa.Date()), ("valid_to", sa.Date())],
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name, kind in columns:
                batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name, _kind in reversed(columns):
                batch.drop_column(name)
