"""Issue 14: the pages that grew with the installation (directory upkeep, search, map, signposting,
privacy, matching, admin users) reach their large tables through an index.

Each service runs on the demo region while every SELECT it sends is captured; SQLite's
`EXPLAIN QUERY PLAN` of each must not SCAN one of the large tables (a scan grows with the whole
country, not with what the page shows). The model is tests/test_dashboard_plans.py.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, text

from db.demo import seed_demo
from db.engine import get_engine, write_session
from services.auth import authenticate
from settings import DEMO_PASSWORD

LARGE = (
    "service", "location", "service_at_location", "attribute", "schedule", "contact", "phone",
    "service_capacity", "patient", "referral", "referral_event", "instrument_response", "follow_up",
    "signposting", "app_user", "audit_event", "directory_suggestion", "service_change",
)  # fmt: skip
FULL_SCAN = re.compile(rf"^SCAN ({'|'.join(LARGE)})\b")


# Columns that narrow a large table to a large share of it (every active, approved activity).
LOW = {"status", "approval_status"}
_SEARCH = re.compile(rf"^SEARCH ({'|'.join(LARGE)}) USING (?:COVERING )?INDEX \w+ \((.*)\)$")


def _broad(line: str) -> bool:
    """An index search that only narrows by low-selectivity columns (status=? AND approval_status=?)."""
    match = _SEARCH.match(line)
    if not match:
        return False
    columns = {
        part.split("=")[0].split("<")[0].split(">")[0].strip() for part in match.group(2).split(" AND ")
    }
    return columns <= LOW


def unbounded(plan: list[str]) -> list[str]:
    """The plan lines that make a statement grow with the whole table: a full SCAN of a large table,
    or a broad index search whose rows are then all sorted (a TEMP B-TREE) to return the first few."""
    scans = [line for line in plan if FULL_SCAN.match(line)]
    if any("USE TEMP B-TREE" in line for line in plan):
        scans += [line for line in plan if _broad(line)]
    return scans


def full_scans(url: str, run) -> list[tuple[str, str]]:
    """(plan line, statement) of every unbounded read among the SELECTs `run` sends."""
    engine = get_engine(url)
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert statements, "the service sent no query"
    found = []
    with engine.connect() as conn:
        for statement, params in statements:
            plan = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)]
            found += [(line, " ".join(statement.split())[:300]) for line in unbounded(plan)]
    return found


@pytest.fixture
def demo(sqlite_url, monkeypatch):
    monkeypatch.setenv("LOTSA_DEMO", "1")
    seed_demo()
    return sqlite_url


def test_the_detector_flags_a_sort_of_every_activity(demo):
    """The old stale list: ORDER BY an expression over every active activity."""
    engine = get_engine(demo)
    with engine.connect() as conn:
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM service WHERE status = 'active' "
            "AND (assured_date IS NULL OR assured_date < '2026-01-01') "
            "ORDER BY assured_date IS NOT NULL, assured_date LIMIT 50"
        ).fetchall()
    assert unbounded([row[-1] for row in plan]), plan


def test_no_upkeep_query_scans_a_large_table(demo):
    from services.directory_edit import (
        awaiting_approval,
        awaiting_count,
        own_activities,
        pending_suggestion_count,
        stale,
        stale_count,
        suggestions,
    )

    manager = authenticate("demo-manager", DEMO_PASSWORD)
    partner = authenticate("demo-partner", DEMO_PASSWORD)
    runs = {
        "stale, manager": lambda: stale(manager, limit=50),
        "stale count, manager": lambda: stale_count(manager),
        "awaiting approval, manager": lambda: awaiting_approval(manager, limit=50),
        "awaiting count, manager": lambda: awaiting_count(manager),
        "suggestions": lambda: suggestions(manager, limit=50),
        "suggestion count": lambda: pending_suggestion_count(manager),
        "stale, partner": lambda: stale(partner, limit=50),
        "own activities, partner": lambda: own_activities(partner),
    }
    problems = {name: scans for name, run in runs.items() if (scans := full_scans(demo, run))}
    assert not problems, problems


def test_stale_list_is_never_verified_first_then_oldest_and_counts_match(db_url):
    from services.directory_edit import stale, stale_count
    from tests.factories import make_world

    world = make_world()
    manager = world.principals["manager"]
    today = date(2026, 6, 1)
    with write_session() as s:
        s.execute(text("DELETE FROM service"))
        for i, assured in enumerate(
            [None, today - timedelta(days=400), today, today - timedelta(days=100), None]
        ):
            s.execute(
                text(
                    "INSERT INTO service (hsds_id, organization_id, name, description, status, "
                    "attending_type, "
                    "is_free, rolling_start, approval_status, assured_date, created_at, updated_at) VALUES "
                    "(:h, :o, :n, '', 'active', 'in_person', true, false, 'approved', :a, :t, :t)"
                ),
                {"h": f"h{i}", "o": world.org, "n": f"Activity {i}", "a": assured, "t": today},
            )
    rows = stale(manager, days=90, today=today)
    assert [r.name for r in rows] == ["Activity 0", "Activity 4", "Activity 1", "Activity 3"]
    assert stale_count(manager, days=90, today=today) == 4
    assert [r.name for r in stale(manager, days=90, today=today, limit=3)] == [
        "Activity 0",
        "Activity 4",
        "Activity 1",
    ]


def test_awaiting_approval_is_capped_and_counted(db_url):
    from services.directory_edit import awaiting_approval, awaiting_count
    from tests.factories import make_world

    world = make_world()
    manager = world.principals["manager"]
    with write_session() as s:
        for i in range(7):
            s.execute(
                text(
                    "INSERT INTO service (hsds_id, organization_id, name, description, status, "
                    "attending_type, "
                    "is_free, rolling_start, approval_status, created_at, updated_at) VALUES "
                    "(:h, :o, :n, '', 'active', 'in_person', true, false, 'pending', :t, :t)"
                ),
                {"h": f"p{i}", "o": world.org, "n": f"Pending {i}", "t": date(2026, 1, 1 + i)},
            )
    assert [r.name for r in awaiting_approval(manager, limit=3)] == ["Pending 0", "Pending 1", "Pending 2"]
    assert awaiting_count(manager) == 7


def _first_patient_of(url: str, centres) -> int:
    with get_engine(url).connect() as conn:
        return conn.execute(
            text("SELECT id FROM patient WHERE centre_id = :c ORDER BY id LIMIT 1"), {"c": min(centres)}
        ).scalar_one()


def test_no_page_query_scans_a_large_table(demo):
    from services.directory import DirectoryFilter, search, timetable
    from services.matching import suggest
    from services.privacy import anonymisable
    from services.signposting import my_signpostings

    connector = authenticate("demo-connector", DEMO_PASSWORD)
    admin = authenticate("demo-admin", DEMO_PASSWORD)
    # Not here: the map (bounded by MAP_LIMIT points or grid cells by design, and cached by data
    # version).
    volunteer = authenticate("demo-volunteer", DEMO_PASSWORD)
    patient = _first_patient_of(demo, connector.centre_ids)
    runs = {
        "signposting list": lambda: my_signpostings(volunteer, limit=20),
        "privacy: past retention": lambda: anonymisable(admin),
        "matching": lambda: suggest(connector, patient),
        "matching, online": lambda: suggest(connector, patient, mode="online"),
        "directory, category": lambda: search.uncached(DirectoryFilter(categories=("walking",))),
        "directory, near a centre": lambda: search.uncached(
            DirectoryFilter(centre_id=min(connector.centre_ids), max_km=2.0, sort="distance")
        ),
        "week view": lambda: timetable.uncached(DirectoryFilter(), date.today()),
        # Free text reads the FTS5 trigram index (migration 0013), a word of any length.
        "directory, free text": lambda: search.uncached(DirectoryFilter(text="promenad")),
        "directory, free text, a prefix and a short word": lambda: search.uncached(
            DirectoryFilter(text="prom ål")
        ),
        "directory, free text by category": lambda: search.uncached(
            DirectoryFilter(text="kör", categories=("choir",))
        ),
    }
    problems = {}
    for name, run in runs.items():
        if scans := full_scans(demo, run):
            problems[name] = scans
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())


def test_free_text_search_reads_the_index_not_the_activities(demo):
    """The words' matches come from `service_search` (FTS5 MATCH), never from a scan of `service`;
    the detector above would also flag the old LIKE (it scans `service`)."""
    from services.directory import DirectoryFilter, search

    plans = []
    engine = get_engine(demo)

    def capture(conn, cursor, statement, params, context, executemany):
        if "FROM service_search" in statement:
            plans.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        _, total = search.uncached(DirectoryFilter(text="promenad"), page_size=200)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert total > 0 and plans
    with engine.connect() as conn:
        for statement, params in plans:
            plan = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)]
            assert any(line.startswith("SCAN service_search VIRTUAL TABLE INDEX") for line in plan), plan
            assert not unbounded(plan), plan
        like = (
            "EXPLAIN QUERY PLAN SELECT id FROM service WHERE status = 'active' AND approval_status = "
            "'approved' AND (name LIKE '%promenad%' OR description LIKE '%promenad%') "
            "ORDER BY NOT (lower(name) LIKE '%promenad%'), lower(name), id"
        )
        assert unbounded([row[-1] for row in conn.exec_driver_sql(like)])


@pytest.mark.pg
def test_free_text_search_uses_the_trigram_index_on_postgres(db_url, monkeypatch):
    """Postgres: a word is looked up in the pg_trgm GIN index of `service_search`, and its few
    matches are then fetched by key: no sequential scan of `service`. The demo region plus 20,000
    made-up activities (written through the triggers) and ANALYZE, so the planner sees a big table."""
    if not db_url.startswith("postgresql"):
        pytest.skip("Postgres only")
    from services.directory import DirectoryFilter, search

    monkeypatch.setenv("LOTSA_DEMO", "1")
    seed_demo()
    engine = get_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO service (hsds_id, organization_id, name, description, status, attending_type, "
            "is_free, rolling_start, approval_status, created_at, updated_at) "
            "SELECT 'bulk-' || n, (SELECT min(id) FROM organization), 'Aktivitet ' || n, "
            "'Beskrivning nummer ' || n, 'active', 'in_person', true, false, 'approved', now(), now() "
            "FROM generate_series(1, 20000) AS n"
        )
        conn.exec_driver_sql("ANALYZE")
    statements = []

    def capture(conn, cursor, statement, params, context, executemany):
        if "FROM service_search" in statement:
            statements.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        _, total = search.uncached(DirectoryFilter(text="promenad"))
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert total > 0 and statements
    with engine.connect() as conn:
        for statement, params in statements:
            plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, params))
            assert "ix_service_search_trgm" in plan, plan
            assert "Seq Scan on service " not in plan + " ", plan


def test_user_list_reads_one_page_by_the_username_index(demo):
    """Admin users (issue 14): one page of accounts walked in username order from the unique index
    (no sort of every account), their centres and organisations by key, and one COUNT from an index.
    (A role or text filter reads the accounts table: a few thousand rows even nationally.)"""
    from services.users import search_users

    admin = authenticate("demo-admin", DEMO_PASSWORD)
    engine = get_engine(demo)
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        found = search_users(admin, page_size=5)
        search_users(admin, page=1, page_size=5)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert found.rows and found.total >= len(found.rows)
    with engine.connect() as conn:
        for statement, params in statements:
            plan = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)]
            assert not any("TEMP B-TREE" in line for line in plan), (statement, plan)
            for line in plan:
                if re.match(r"^SCAN (user_centre|user_organization|health_centre|organization)\b", line):
                    raise AssertionError((statement, plan))
                if line.startswith("SCAN app_user"):  # only the ordered walk of a page, or the count
                    assert "USING" in line and "INDEX" in line, (statement, plan)
