"""Issue 5, item 10: every dashboard query reaches the patient tables through an index.

Each outcome service runs on the demo region while every SELECT it sends is captured; SQLite's
`EXPLAIN QUERY PLAN` of each must SEARCH (an index lookup bounded by the user's centres, period or
referrals) and never SCAN one of the large tables, not even along an index: a scan grows with the whole
installation, not with the user's scope. (The centre dashboard once grouped every referral event in
the database: 4.5 s at national size, 0.1 s once bounded. This test would have failed on it.)
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from db.demo import seed_demo
from db.engine import get_engine
from services.auth import authenticate
from services.compare import compare_centres
from services.dashboards import default_period
from services.evaluation import evaluation, evaluation_programmes
from services.gaps import gaps
from services.health_economics import programme_costs
from services.outcomes import centre_dashboard
from services.partner_feedback import feedback
from settings import DEMO_PASSWORD

LARGE = ("instrument_response", "referral_event", "referral", "follow_up", "enrolment", "health_measure",
         "patient", "coaching_contact", "unmet_need", "arm_allocation")  # fmt: skip
FULL_SCAN = re.compile(rf"^SCAN ({'|'.join(LARGE)})\b")


def full_scans(url: str, run) -> list[tuple[str, str]]:
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
            for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).fetchall():
                if FULL_SCAN.match(row[-1]):
                    found.append((row[-1], " ".join(statement.split())[:300]))
    return found


@pytest.fixture
def demo(sqlite_url, monkeypatch):
    monkeypatch.setenv("LOTSA_DEMO", "1")  # the reliability example, so reliable-change queries run
    seed_demo()
    return sqlite_url


def test_the_detector_flags_a_whole_table_grouping(demo):
    engine = get_engine(demo)
    with engine.connect() as conn:
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT referral_id, max(status) FROM referral_event GROUP BY referral_id"
        ).fetchall()
    assert any(FULL_SCAN.match(row[-1]) for row in plan), plan


def test_no_dashboard_query_scans_a_large_table(demo):
    chosen = default_period()
    manager = authenticate("demo-manager", DEMO_PASSWORD)
    region = authenticate("demo-region", DEMO_PASSWORD)
    partner = authenticate("demo-partner", DEMO_PASSWORD)
    municipality = authenticate("demo-municipality", DEMO_PASSWORD)
    programme = evaluation_programmes(manager)[0].id
    runs = {
        "centre outcomes": lambda: centre_dashboard(manager, None, chosen.start, chosen.end),
        "centre outcomes, 6 months": lambda: centre_dashboard(
            manager, None, chosen.start, chosen.end, None, 6
        ),
        "compare centres": lambda: compare_centres(region, chosen.start, chosen.end),
        "evaluation": lambda: evaluation(manager, programme, chosen.start, chosen.end),
        "economics": lambda: programme_costs(manager, chosen.start, chosen.end, hourly_cost="500"),
        "gaps, manager": lambda: gaps(manager, chosen.start, chosen.end),
        "gaps, municipality": lambda: gaps(municipality, chosen.start, chosen.end),
        "partner feedback": lambda: feedback(partner, chosen.start, chosen.end),
    }
    problems = {name: scans for name, run in runs.items() if (scans := full_scans(demo, run))}
    assert not problems, problems
