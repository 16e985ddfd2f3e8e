"""search and scale: full-text search and indexes for national-size pages

A per-table data version (bumped with every write, see db/data_version.py) that keeps caches correct
across app replicas, and the indexes the national-size pages need.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 07:45:00.000000
"""

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("name"),
    )
    # The upkeep page's stale list and count: public activities by last verification.
    op.create_index("ix_service_upkeep", "service", ["status", "approval_status", "assured_date"])
    # The same for a partner's organisations (else SQLite walks every stale activity of the country).
    op.create_index(
        "ix_service_org_upkeep", "service", ["organization_id", "status", "approval_status", "assured_date"]
    )
    # Privacy: patients not anonymised and created before the retention cutoff (the only candidates).
    op.create_index("ix_patient_retention", "patient", ["anonymised_at", "created_at"])
    # The directory's default order (by name), walked in the index instead of sorted per request.
    op.create_index(
        "ix_service_public_name", "service", ["status", "approval_status", sa.text("lower(name)"), "id"]
    )
    # Places inside a bounding box (search near a point, matching).
    op.create_index("ix_location_lat_lon", "location", ["latitude", "longitude"])
    # A signposting user's own entries, newest first.
    op.create_index("ix_signposting_user", "signposting", ["user_id", "logged_on", "id"])
    # Activities awaiting approval, oldest first.
    op.create_index("ix_service_pending", "service", ["approval_status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_service_pending", table_name="service")
    op.drop_index("ix_signposting_user", table_name="signposting")
    op.drop_index("ix_location_lat_lon", table_name="location")
    # IF EXISTS: on SQLite a later batch migration that recreated the table may have dropped it
    op.execute("DROP INDEX IF EXISTS ix_service_public_name")
    op.drop_index("ix_patient_retention", table_name="patient")
    op.drop_index("ix_service_org_upkeep", table_name="service")
    op.drop_index("ix_service_upkeep", table_name="service")
    op.drop_table("data_version")
