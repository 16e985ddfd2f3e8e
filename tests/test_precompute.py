"""Centre outcomes precomputed (issue 12): a manager's first view of the default Centre outcomes
is served from the dashboard cache the background warm-up filled, keyed by the data version (a
write anywhere means a fresh computation, never a stale figure), and audited for what it is."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.engine import read_session, write_session
from db.models import AuditEvent
from services import precompute
from services.dashboards import clear_caches, default_period
from services.keys import key_problem
from services.outcomes import centre_dashboard
from tests.factories import make_world

ROOT = Path(__file__).resolve().parents[1]


def _views(username: str) -> list[str]:
    with read_session() as s:
        rows = s.exec(
            select(AuditEvent.detail)
            .where(AuditEvent.action == "dashboard.view", AuditEvent.username == username)
            .order_by(AuditEvent.id)
        ).all()
    return [r or "" for r in rows]


def _manager_view(principal):
    """As the page asks for it: a one-centre manager's view names that centre."""
    chosen = default_period()
    requested = None if len(principal.centre_ids) > 1 else tuple(principal.centre_ids)
    return centre_dashboard(principal, requested, chosen.start, chosen.end, None, None)


def test_the_warm_up_fills_the_cache_a_manager_then_hits(db_url):
    clear_caches()
    w = make_world()
    manager = w.principals["manager"]
    assert precompute.manager_scopes() == [manager.centre_ids]
    assert precompute.warm_centre_outcomes() == 1
    assert any("cached" not in d for d in _views(precompute.SYSTEM))  # computed, as the system
    _manager_view(manager)
    assert _views(manager.username)[-1].endswith("centre_dashboard cached")


def test_a_write_means_a_fresh_computation_until_the_warm_up_runs_again(db_url):
    clear_caches()
    w = make_world()
    manager = w.principals["manager"]
    warmer = precompute.Warmer(slow_seconds=0)  # every view counts as slow here
    assert warmer.step() == 1
    assert warmer.step() is None  # nothing changed: nothing to do
    with write_session() as s:  # any write to the data, on any replica
        s.exec(text("UPDATE health_centre SET name = name"))
    _manager_view(manager)
    assert not _views(manager.username)[-1].endswith("cached")  # never the old figures
    assert warmer.step() == 1
    _manager_view(manager)
    assert _views(manager.username)[-1].endswith("cached")


def test_only_slow_views_are_recomputed_after_a_write(db_url):
    clear_caches()
    make_world()
    warmer = precompute.Warmer(slow_seconds=3600)  # no view is that slow
    assert warmer.step() == 1  # the first pass measures every scope
    with write_session() as s:
        s.exec(text("UPDATE health_centre SET name = name"))
    assert warmer.step() == 0  # a quick view is left to compute on demand
    warmer.full_pass_at -= precompute.FULL_PASS_SECONDS  # half an hour later: measured again
    with write_session() as s:
        s.exec(text("UPDATE health_centre SET name = name"))
    assert warmer.step() == 1


def test_the_page_is_served_from_the_warm_cache(db_url):
    clear_caches()
    w = make_world()
    manager = w.principals["manager"]
    assert key_problem() is None  # the app's first run records its key check once per database (a write)
    precompute.warm_centre_outcomes()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    now = time.time()
    at.session_state["auth_user_id"] = manager.user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    at.switch_page("app_pages/outcomes_centre.py")
    at.run()
    assert not at.exception, at.exception
    assert "centre_dashboard cached" in _views(manager.username)


def test_each_computed_view_is_handed_to_the_hooks_and_a_failing_hook_stops_nothing(db_url, monkeypatch):
    """serve.py registers the page's chart warm-up here: Plotly builds each property's validator on
    first use (about 0.5 s for this page's charts), which otherwise fell on the first visit."""
    from components import outcome_charts

    clear_caches()
    w = make_world()
    seen = []

    def broken(view):
        raise RuntimeError("a hook that fails")

    monkeypatch.setattr(precompute, "VIEW_HOOKS", [broken, seen.append, outcome_charts.warm_up])
    monkeypatch.setattr(outcome_charts, "_WARMED", outcome_charts.threading.Event())
    assert precompute.warm_centre_outcomes() == 1
    assert len(seen) == 1 and seen[0] == _manager_view(w.principals["manager"])
    assert outcome_charts._WARMED.is_set()  # the charts were drawn from the real view
