"""Paired outcome scores, one row per enrolment and score, kept by database triggers (issue 12).

Centre outcomes' paired change compares each enrolment's baseline (timepoint 0) with a follow-up of
the same enrolment and score. Found by a self-join of `instrument_response`, that was 20 s of a
region manager's view on SQLite (1.5 M responses). Here the pairing is done once per write instead:
`outcome_pair` holds, per enrolment and score,

* the baseline: the enrolment's first timepoint-0 response with a value (lowest id), its centre,
  day, value, and the patient's record key (domain.cellkey);
* the enrolment's programme;
* the value at the first 3-, 6- and 12-month follow-up response with a value, and at the latest
  follow-up (the highest timepoint above 0; its first response).

A pair belongs to the baseline's centre and day: the dashboard filters on those, and a follow-up
counts with its baseline wherever it was answered.

Triggers on `instrument_response` (insert, update, delete) and `enrolment` (programme changed,
deleted) recompute the rows of the enrolments a write touches, inside the writer's transaction, so
every write path (the screening and follow-up forms, a programme change that moves answers, erasure,
retention, demo data) keeps the table exact without code of its own. On Postgres the recompute first
locks the enrolment row, so two transactions answering for one enrolment at once cannot both insert
its pairs. A bulk load (db/synthetic.py) drops the triggers, loads, and rebuilds the whole table
(`suspended`).

The same SELECT serves the recompute of one enrolment and the rebuild of all: `pairs_select`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

# score -> (instrument, value): the score column, or an ONS4 item from the subscales
SCORES: dict[str, tuple[str, str | None]] = {
    "ucla3": ("ucla3", None),
    "djg6": ("djg6", None),
    "swemwbs": ("swemwbs", None),
    "ons4.satisfied": ("ons4", "satisfied"),
    "ons4.worthwhile": ("ons4", "worthwhile"),
    "ons4.happy": ("ons4", "happy"),
    "ons4.anxious": ("ons4", "anxious"),
}
FOLLOW_UPS = (3, 6, 12)
SQLITE_TRIGGERS = (
    "outcome_pair_ai",
    "outcome_pair_au",
    "outcome_pair_ad",
    "outcome_pair_enrolment_au",
    "outcome_pair_enrolment_ad",
)
PG_TRIGGERS = (("outcome_pair_response", "instrument_response"), ("outcome_pair_enrolment", "enrolment"))
# the response columns a pair depends on: other updates (an acknowledged flag) leave it alone
_RESPONSE_COLUMNS = (
    "enrolment_id, patient_id, centre_id, instrument, administered_on, timepoint_months, score, subscales"
)


def _value(alias: str, item: str | None, dialect: str) -> str:
    """A response's value of one score: its score column, or an ONS4 item of its subscales."""
    if item is None:
        return f"{alias}.score"
    if dialect == "postgresql":
        return f"CAST({alias}.subscales ->> '{item}' AS FLOAT)"
    return f"CAST(json_extract({alias}.subscales, '$.{item}') AS REAL)"


def pairs_select(dialect: str, eid: str | None = None) -> str:
    """The pairs of every enrolment (or of enrolment `eid`, an SQL expression) as one SELECT: per
    score, a baseline row with its follow-ups looked up by ix_response_enrolment (enrolment,
    instrument, timepoint). Written against instrument_response itself, not a view: neither SQLite
    nor Postgres pushes a correlated condition into a UNION ALL view, and a trigger would then scan
    every response."""
    parts = []
    for score, (instrument, item) in SCORES.items():
        b, b0, f = (_value(a, item, dialect) for a in ("b", "b0", "f"))

        def follow_up(condition: str, order: str, instrument=instrument, f=f) -> str:
            return (
                f"(SELECT {f} FROM instrument_response f WHERE f.enrolment_id = b.enrolment_id"
                f" AND f.instrument = '{instrument}' AND {condition} AND {f} IS NOT NULL"
                f" ORDER BY {order} LIMIT 1)"
            )

        which = "b.enrolment_id IS NOT NULL" if eid is None else f"b.enrolment_id = {eid}"
        parts.append(
            f"""SELECT b.enrolment_id, '{score}', b.patient_id, b.centre_id, e.programme_id,
                   b.administered_on, {b}, p.record_key,
                   {follow_up("f.timepoint_months = 3", "f.id")},
                   {follow_up("f.timepoint_months = 6", "f.id")},
                   {follow_up("f.timepoint_months = 12", "f.id")},
                   {follow_up("f.timepoint_months > 0", "f.timepoint_months DESC, f.id")}
            FROM instrument_response b
            JOIN enrolment e ON e.id = b.enrolment_id
            JOIN patient p ON p.id = b.patient_id
            WHERE {which} AND b.instrument = '{instrument}' AND b.timepoint_months = 0 AND {b} IS NOT NULL
              AND b.id = (SELECT min(b0.id) FROM instrument_response b0
                          WHERE b0.enrolment_id = b.enrolment_id AND b0.instrument = '{instrument}'
                            AND b0.timepoint_months = 0 AND {b0} IS NOT NULL)"""
        )
    return "\nUNION ALL\n".join(parts)


COLUMNS = (
    "enrolment_id, score, patient_id, centre_id, programme_id, baseline_on, baseline, record_key, "
    "at3, at6, at12, latest"
)


def _refresh(eid: str, dialect: str) -> str:
    """The statements that recompute enrolment `eid`'s pairs (an SQL expression)."""
    return (
        f"DELETE FROM outcome_pair WHERE enrolment_id = {eid};\n"
        f"INSERT INTO outcome_pair ({COLUMNS}) {pairs_select(dialect, eid)};"
    )


def _sqlite_statements() -> list[str]:
    both = _refresh("OLD.enrolment_id", "sqlite") + "\n" + _refresh("NEW.enrolment_id", "sqlite")
    return [
        f"""CREATE TRIGGER IF NOT EXISTS outcome_pair_ai AFTER INSERT ON instrument_response
            WHEN NEW.enrolment_id IS NOT NULL BEGIN {_refresh("NEW.enrolment_id", "sqlite")} END""",
        f"""CREATE TRIGGER IF NOT EXISTS outcome_pair_au
            AFTER UPDATE OF {_RESPONSE_COLUMNS} ON instrument_response
            WHEN OLD.enrolment_id IS NOT NULL OR NEW.enrolment_id IS NOT NULL BEGIN {both} END""",
        f"""CREATE TRIGGER IF NOT EXISTS outcome_pair_ad AFTER DELETE ON instrument_response
            WHEN OLD.enrolment_id IS NOT NULL BEGIN {_refresh("OLD.enrolment_id", "sqlite")} END""",
        f"""CREATE TRIGGER IF NOT EXISTS outcome_pair_enrolment_au
            AFTER UPDATE OF id, programme_id ON enrolment BEGIN
            {_refresh("OLD.id", "sqlite")}
            {_refresh("NEW.id", "sqlite")}
        END""",
        """CREATE TRIGGER IF NOT EXISTS outcome_pair_enrolment_ad AFTER DELETE ON enrolment BEGIN
            DELETE FROM outcome_pair WHERE enrolment_id = OLD.id;
        END""",
    ]


def _pg_statements() -> list[str]:
    return [
        f"""CREATE OR REPLACE FUNCTION outcome_pair_refresh(eid integer) RETURNS void
            LANGUAGE plpgsql AS $$
            BEGIN
                IF eid IS NULL THEN RETURN; END IF;
                -- one writer per enrolment at a time; the next one's statements see this one's rows
                PERFORM 1 FROM enrolment WHERE id = eid FOR UPDATE;
                {_refresh("eid", "postgresql")}
            END $$""",
        """CREATE OR REPLACE FUNCTION outcome_pair_response() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP <> 'INSERT' THEN PERFORM outcome_pair_refresh(OLD.enrolment_id); END IF;
                IF TG_OP = 'INSERT'
                   OR (TG_OP = 'UPDATE' AND NEW.enrolment_id IS DISTINCT FROM OLD.enrolment_id)
                THEN PERFORM outcome_pair_refresh(NEW.enrolment_id); END IF;
                RETURN NULL;
            END $$""",
        """CREATE OR REPLACE FUNCTION outcome_pair_enrolment() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                DELETE FROM outcome_pair WHERE enrolment_id = OLD.id;
                IF TG_OP = 'UPDATE' THEN PERFORM outcome_pair_refresh(NEW.id); END IF;
                RETURN NULL;
            END $$""",
        "DROP TRIGGER IF EXISTS outcome_pair_response ON instrument_response",
        f"""CREATE TRIGGER outcome_pair_response
            AFTER INSERT OR DELETE OR UPDATE OF {_RESPONSE_COLUMNS} ON instrument_response
            FOR EACH ROW EXECUTE FUNCTION outcome_pair_response()""",
        "DROP TRIGGER IF EXISTS outcome_pair_enrolment ON enrolment",
        """CREATE TRIGGER outcome_pair_enrolment AFTER DELETE OR UPDATE OF id, programme_id ON enrolment
            FOR EACH ROW EXECUTE FUNCTION outcome_pair_enrolment()""",
    ]


def _postgres(bind) -> bool:
    return bind.dialect.name == "postgresql"


def install(bind) -> None:
    """The triggers (and on Postgres their functions); then a rebuild of every pair."""
    for statement in _pg_statements() if _postgres(bind) else _sqlite_statements():
        bind.exec_driver_sql(statement)
    rebuild(bind)


def rebuild(bind) -> None:
    bind.exec_driver_sql("DELETE FROM outcome_pair")
    bind.exec_driver_sql(f"INSERT INTO outcome_pair ({COLUMNS}) {pairs_select(bind.dialect.name)}")


def drop_triggers(bind) -> None:
    if _postgres(bind):
        for name, on in PG_TRIGGERS:
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {on}")
        for function in ("outcome_pair_response()", "outcome_pair_enrolment()", "outcome_pair_refresh(int)"):
            bind.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}")
    else:
        for name in SQLITE_TRIGGERS:
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


@contextmanager
def suspended(bind) -> Iterator[None]:
    """For a bulk load on one connection: no triggers while it runs; afterwards (also after an
    error) the triggers again and a rebuilt table, so it is never left stale."""
    drop_triggers(bind)
    try:
        yield
    finally:
        install(bind)
