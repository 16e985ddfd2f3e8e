"""Issue 12: Centre outcomes' screening, monthly trend, referral, follow-up and activity statements
read the period's rows from the covering indexes of migration 0016, with and without a programme,
for a year and for a quarter.

Each statement that `_Queries` sends (all but paired change, which reads `outcome_pair`) is
captured on the demo region. SQLite: its `EXPLAIN QUERY PLAN` may reach the response, referral,
event, follow-up and enrolment tables only by a SEARCH on one of the indexes below, as a COVERING
INDEX (the table rows are never read: at region scale reading them was most of the time), and never
SCAN one of them. Postgres: the planner picks sequential scans on the small demo tables, so
sequential scans are priced out (`enable_seqscan = off`, what a big table with a small period looks
like to it, after VACUUM ANALYZE as autovacuum would): each plan must read those tables by the same
indexes, the responses by Index Only Scan.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import event
from sqlmodel import select

from db.demo import seed_demo
from db.engine import get_engine, read_session
from db.models import HealthCentre, Programme
from services.dashboards import default_period, disclosure_rules, reporting_period
from services.outcomes import _Queries

METHODS = (
    "screening",
    "monthly_lonely",
    "referrals",
    "referred_people",
    "days_to_referral",
    "days_to_attendance",
    "followups",
    "activities",
)
# table -> the indexes its rows may be read from (the primary key: one row by id)
COVERING = {
    "instrument_response": {"ix_response_outcome", "ix_response_patient"},
    "referral": {"ix_referral_centre_created"},
    "referral_event": {"ix_referral_event_status"},
    "follow_up": {"ix_follow_up_centre_due"},
    # a programme's patients; or one patient's enrolments (Postgres, joining a few referred patients)
    "enrolment": {"ix_enrolment_programme", "ix_enrolment_patient_id", "PRIMARY KEY"},
    "patient": {"PRIMARY KEY"},
}
_SQLITE_LINE = re.compile(
    r"^(SCAN|SEARCH) (\w+)(?: USING (COVERING INDEX (\w+)|INDEX (\w+)|INTEGER PRIMARY KEY))?"
)
_PG_LINE = re.compile(r"(Seq Scan|Index Only Scan|Index Scan|Bitmap Heap Scan)(?: using (\w+))? on (\w+)")


@pytest.fixture
def demo(db_url, monkeypatch):
    monkeypatch.setenv("LOTSA_DEMO", "1")
    seed_demo()
    return db_url


def _statements(url: str) -> list[tuple[str, str, object]]:
    """(view and method, statement, parameters) of every SELECT the methods send: all centres, the
    current year and its third quarter, without and with a programme."""
    engine = get_engine(url)
    sent: list[tuple[str, str, object]] = []
    current = ["?"]

    def capture(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            sent.append((current[0], statement, params))

    year = default_period()
    quarter = reporting_period("quarter", year.start.year, 3)
    with read_session() as s:
        centres = tuple(sorted(s.exec(select(HealthCentre.id)).all()))
        programme = s.exec(select(Programme.id).order_by(Programme.id)).first()
        assert len(centres) > 1 and programme is not None
        event.listen(engine, "before_cursor_execute", capture)
        try:
            for label, chosen, programme_id in (
                ("year", year, None),
                ("year, programme", year, programme),
                ("quarter", quarter, None),
                ("quarter, programme", quarter, programme),
            ):
                query = _Queries(s, centres, chosen, programme_id, disclosure_rules(), 6, date.today())
                for method in METHODS:
                    current[0] = f"{label}: {method}"
                    getattr(query, method)()
        finally:
            event.remove(engine, "before_cursor_execute", capture)
    return sent


def _sqlite_problems(line: str) -> str | None:
    match = _SQLITE_LINE.match(line)
    if not match or match.group(2) not in COVERING:
        return None
    table, allowed = match.group(2), COVERING[match.group(2)]
    if match.group(1) == "SCAN":
        return "scan"
    if "INTEGER PRIMARY KEY" in line:
        return None if "PRIMARY KEY" in allowed else "by primary key"
    if match.group(4) in allowed:
        return None
    return "table rows read" if match.group(5) in allowed else f"index not expected for {table}"


def _pg_problems(line: str) -> str | None:
    if match := re.search(r"Seq Scan on (\w+)", line):
        return "sequential scan" if match.group(1) in COVERING else None
    if match := re.search(r"Bitmap Index Scan on (\w+)", line):
        known = set().union(*COVERING.values())
        return None if match.group(1) in known or match.group(1).endswith("_pkey") else "index not expected"
    match = _PG_LINE.search(line)
    if not match or match.group(3) not in COVERING:
        return None
    kind, index, table = match.groups()
    if index == f"{table}_pkey" and "PRIMARY KEY" in COVERING[table]:
        return None
    if index not in COVERING[table]:
        return f"index not expected for {table}: {index}"
    if table == "instrument_response" and kind != "Index Only Scan":
        return "response rows read"  # the half million responses of a region's year: index only
    return None


def test_the_sqlite_check_flags_an_index_that_reads_the_rows():
    assert _sqlite_problems("SEARCH instrument_response USING INDEX ix_response_outcome (instrument=?)")
    assert _sqlite_problems(
        "SEARCH instrument_response USING INDEX ix_response_centre_date_score (centre_id=?)"
    )
    assert _sqlite_problems("SCAN referral_event")
    assert not _sqlite_problems(
        "SEARCH referral USING COVERING INDEX ix_referral_centre_created (centre_id=?)"
    )
    assert not _sqlite_problems("SEARCH patient USING INTEGER PRIMARY KEY (rowid=?)")
    assert _pg_problems("->  Index Scan using ix_response_outcome on instrument_response  (cost=0.1..2)")
    assert _pg_problems("->  Index Scan using ix_response_centre_date_score on instrument_response  (c)")
    assert _pg_problems("->  Seq Scan on referral_event  (cost=0.00..7851.26 rows=207146 width=4)")
    assert not _pg_problems("->  Index Only Scan using ix_referral_event_status on referral_event e")


def test_outcome_statements_read_covering_indexes(demo):
    sent = _statements(demo)
    engine = get_engine(demo)
    sqlite = engine.dialect.name == "sqlite"
    problems = []
    with engine.connect() as conn:
        if not sqlite:  # as autovacuum leaves a real database: statistics and the visibility map
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
            conn.exec_driver_sql("SET enable_seqscan = off")
        for where, statement, params in sent:
            explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            plan = [
                str(row[-1] if sqlite else row[0])
                for row in conn.exec_driver_sql(explain + statement, params)
            ]
            for line in plan:
                problem = _sqlite_problems(line.strip()) if sqlite else _pg_problems(line)
                if problem:
                    problems.append((where, problem, line.strip(), " ".join(statement.split())[:200]))
    # referred_people reads what referrals' statement summed (one statement for both)
    assert {where.split(": ")[1] for where, _s, _p in sent} == set(METHODS) - {"referred_people"}
    assert not problems, "\n".join(map(str, problems))
