"""full-text search index for the directory (issue 14)

The directory's free text matches each word anywhere in an activity's name, description or
organisation name, case-insensitively (Swedish ÅÄÖ and Danish ÆØÅ too): "prom" finds "Promenad",
"menad" finds it as well. That was a LIKE over every public activity. Now one row per activity in
`service_search` holds name, description and organisation name (one per line), indexed by trigrams:

* SQLite: an FTS5 table with the trigram tokenizer (rowid = service.id); MATCH of a quoted word of
  three letters or more is a substring search through the index, case-folded per Unicode.
* Postgres: a table (service_id, body) with a GIN `gin_trgm_ops` index (pg_trgm), which ILIKE
  '%word%' uses. pg_trgm is created here when the server offers it; without it the table still
  answers correctly, by a scan of itself.

Triggers keep it in step with every write to `service` (insert, update, delete, whatever writes it:
the editors, HSDS and spreadsheet imports, the demo and synthetic data) and with a renamed
organisation. A later migration that recreates `service` or `organization` on SQLite (a batch
operation) drops their triggers and must create them again (`create_sqlite` below).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 12:00:00.000000
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# name, description and organisation name, one per line: a searched word never holds a line break,
# so it cannot match across two of them.
_SQLITE_BODY = (
    "{s}.name || char(10) || coalesce({s}.description, '') || char(10) || "
    "coalesce((SELECT o.name FROM organization o WHERE o.id = {s}.organization_id), '')"
)
_PG_BODY = (
    "{s}.name || E'\\n' || coalesce({s}.description, '') || E'\\n' || "
    "coalesce((SELECT o.name FROM organization o WHERE o.id = {s}.organization_id), '')"
)

SQLITE_TRIGGERS = (
    "service_search_ai",
    "service_search_au",
    "service_search_ad",
    "service_search_org_au",
)


def _has_fts5_trigram(bind) -> bool:
    """FTS5 with the trigram tokenizer (SQLite 3.34+, built with FTS5, as Python's usually is)."""
    try:
        bind.exec_driver_sql("CREATE VIRTUAL TABLE temp.lotsa_fts_probe USING fts5(x, tokenize = 'trigram')")
    except Exception:
        return False
    bind.exec_driver_sql("DROP TABLE temp.lotsa_fts_probe")
    return True


def create_sqlite(bind) -> None:
    """The FTS5 table (if missing), its triggers, and a fresh copy of every activity. Without FTS5
    trigrams nothing is created and the directory matches words by LIKE, as before."""
    if not _has_fts5_trigram(bind):
        return
    bind.exec_driver_sql(
        "CREATE VIRTUAL TABLE IF NOT EXISTS service_search USING fts5(body, tokenize = 'trigram')"
    )
    new = _SQLITE_BODY.format(s="NEW")
    statements = [
        f"""CREATE TRIGGER IF NOT EXISTS service_search_ai AFTER INSERT ON service BEGIN
            INSERT INTO service_search (rowid, body) VALUES (NEW.id, {new});
        END""",
        f"""CREATE TRIGGER IF NOT EXISTS service_search_au
            AFTER UPDATE OF id, name, description, organization_id ON service BEGIN
            DELETE FROM service_search WHERE rowid = OLD.id;
            INSERT INTO service_search (rowid, body) VALUES (NEW.id, {new});
        END""",
        """CREATE TRIGGER IF NOT EXISTS service_search_ad AFTER DELETE ON service BEGIN
            DELETE FROM service_search WHERE rowid = OLD.id;
        END""",
        f"""CREATE TRIGGER IF NOT EXISTS service_search_org_au AFTER UPDATE OF name ON organization BEGIN
            DELETE FROM service_search
             WHERE rowid IN (SELECT id FROM service WHERE organization_id = NEW.id);
            INSERT INTO service_search (rowid, body)
            SELECT s.id, {_SQLITE_BODY.format(s="s")} FROM service s WHERE s.organization_id = NEW.id;
        END""",
    ]
    for statement in statements:
        bind.exec_driver_sql(statement)
    bind.exec_driver_sql("DELETE FROM service_search")
    bind.exec_driver_sql(
        f"INSERT INTO service_search (rowid, body) SELECT s.id, {_SQLITE_BODY.format(s='s')} FROM service s"
    )


def _create_postgres(bind) -> None:
    available = bind.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").first()
    have_trgm = False
    if available:
        bind.exec_driver_sql("SAVEPOINT lotsa_trgm")
        try:
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            bind.exec_driver_sql("RELEASE SAVEPOINT lotsa_trgm")
            have_trgm = True
        except Exception:  # not allowed to create it (no privilege): search still works, unindexed
            bind.exec_driver_sql("ROLLBACK TO SAVEPOINT lotsa_trgm")
    bind.exec_driver_sql(
        "CREATE TABLE service_search ("
        " service_id integer PRIMARY KEY REFERENCES service (id) ON DELETE CASCADE,"
        " body text NOT NULL)"
    )
    bind.exec_driver_sql(
        f"INSERT INTO service_search (service_id, body) SELECT s.id, {_PG_BODY.format(s='s')} FROM service s"
    )
    if have_trgm:
        # gin_trgm_ops lives in the schema pg_trgm was created in (public by default)
        schema = bind.exec_driver_sql(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'"
        ).scalar_one()
        bind.exec_driver_sql(
            # fastupdate off: a new or edited activity goes into the index itself, not a pending
            # list that every search reads (and the planner counts) until the next vacuum.
            "CREATE INDEX ix_service_search_trgm ON service_search "
            f'USING gin (body "{schema}".gin_trgm_ops) WITH (fastupdate = off)'
        )
    bind.exec_driver_sql(
        f"""CREATE FUNCTION service_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND OLD.id <> NEW.id THEN
                DELETE FROM service_search WHERE service_id = OLD.id;
            END IF;
            INSERT INTO service_search (service_id, body) VALUES (NEW.id, {_PG_BODY.format(s="NEW")})
            ON CONFLICT (service_id) DO UPDATE SET body = EXCLUDED.body;
            RETURN NULL;
        END $$"""
    )
    bind.exec_driver_sql(
        f"""CREATE FUNCTION service_search_org_sync() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE service_search ss SET body = {_PG_BODY.format(s="s")}
              FROM service s WHERE s.organization_id = NEW.id AND ss.service_id = s.id;
            RETURN NULL;
        END $$"""
    )
    # Deletes follow by ON DELETE CASCADE.
    bind.exec_driver_sql(
        "CREATE TRIGGER service_search_ai AFTER INSERT ON service "
        "FOR EACH ROW EXECUTE FUNCTION service_search_sync()"
    )
    bind.exec_driver_sql(
        "CREATE TRIGGER service_search_au AFTER UPDATE OF id, name, description, organization_id ON service "
        "FOR EACH ROW EXECUTE FUNCTION service_search_sync()"
    )
    bind.exec_driver_sql(
        "CREATE TRIGGER service_search_org_au AFTER UPDATE OF name ON organization "
        "FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION service_search_org_sync()"
    )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        create_sqlite(bind)
    else:
        _create_postgres(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        bind.exec_driver_sql("DROP TABLE IF EXISTS service_search")
    else:
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS service_search_org_au ON organization")
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS service_search_au ON service")
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS service_search_ai ON service")
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS service_search_org_sync()")
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS service_search_sync()")
        bind.exec_driver_sql("DROP TABLE IF EXISTS service_search")
        # pg_trgm stays: other objects may use it, and it holds no data.
