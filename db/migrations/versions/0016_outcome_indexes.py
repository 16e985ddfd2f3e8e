"""outcome indexes: Centre outcomes read from covering indexes (issue 12)

At region scale (220 centres, 1.5 M responses) the centre dashboard's screening, referral,
follow-up and activity figures read every row of the period from the tables. These indexes hold
what those statements need, so they read the indexes alone (an id is listed where a statement
needs it: Postgres indexes do not hold the row's key, SQLite's do):

* ix_response_outcome: each patient's first UCLA-3 / ONS answer of the period, per centre and date;
* ix_response_patient + centre_id: a referred patient's first screening at the user's centres;
* ix_referral_centre_created + patient_id, service_id, id: the period's referrals;
* ix_referral_event_status: whether a referral reached a status, its first in-progress moment;
* ix_enrolment_programme + patient_id: a programme's patients at the user's centres;
* ix_follow_up_centre_due + patient_id, enrolment_id: the follow-ups due in the period.

The four extended indexes keep their names and leading columns, so every query that used them
still can. A SQLite database that has planner statistics (ANALYZE was run, as the benchmark does)
gets them refreshed for these tables: without, the planner would weigh the new indexes by guesses
against measured old ones.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 14:40:00.000000
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# name -> (table, columns before, columns after); None before: a new index
INDEXES = {
    "ix_response_outcome": (
        "instrument_response",
        None,
        ["instrument", "centre_id", "administered_on", "patient_id", "id", "total", "band"],
    ),
    "ix_response_patient": (
        "instrument_response",
        ["patient_id", "instrument", "administered_on"],
        ["patient_id", "instrument", "administered_on", "centre_id"],
    ),
    "ix_referral_centre_created": (
        "referral",
        ["centre_id", "created_on", "status"],
        ["centre_id", "created_on", "status", "patient_id", "service_id", "id"],
    ),
    "ix_referral_event_status": ("referral_event", None, ["referral_id", "status", "at"]),
    "ix_enrolment_programme": (
        "enrolment",
        ["programme_id", "centre_id", "enrolled_on"],
        ["programme_id", "centre_id", "enrolled_on", "patient_id"],
    ),
    "ix_follow_up_centre_due": (
        "follow_up",
        ["centre_id", "due_on", "status"],
        ["centre_id", "due_on", "status", "patient_id", "enrolment_id"],
    ),
}


def _refresh_sqlite_statistics() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if bind.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first() is None:
        return
    for table in sorted({table for table, _before, _after in INDEXES.values()}):
        op.execute(f"ANALYZE {table}")


def upgrade() -> None:
    for name, (table, before, after) in INDEXES.items():
        if before is not None:
            op.drop_index(name, table_name=table)
        op.create_index(name, table, after)
    _refresh_sqlite_statistics()


def downgrade() -> None:
    for name, (table, before, _after) in reversed(INDEXES.items()):
        op.drop_index(name, table_name=table)
        if before is not None:
            op.create_index(name, table, before)
    _refresh_sqlite_statistics()
