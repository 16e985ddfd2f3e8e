"""Centre outcomes precomputed (issue 12): a manager's first view of the default Centre outcomes
is served from the dashboard cache the background warm-up filled, keyed by the data version (a
write anywhere means a new computation), and audited for what it is. After a write, a slow view
(a region's) is shown from its last computation, with its time, while it is recomputed in the
background, and the page reloads itself when the new figures are ready (stale-while-revalidate);
a quick view, or a last computation older than the window, is computed at once."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.engine import read_session, write_session
from db.models import AuditEvent, utcnow
from services import dashboards, precompute
from services.dashboards import clear_caches, default_period, fresh_only, view_as_of
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


def _centre_outcomes_page(manager) -> AppTest:
    """The Centre outcomes page, run once, for a logged-in manager."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    now = time.time()
    at.session_state["auth_user_id"] = manager.user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    at.switch_page("app_pages/outcomes_centre.py")
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_page_is_served_from_the_warm_cache(db_url):
    clear_caches()
    w = make_world()
    manager = w.principals["manager"]
    assert key_problem() is None  # the app's first run records its key check once per database (a write)
    precompute.warm_centre_outcomes()
    _centre_outcomes_page(manager)
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


def _write() -> None:
    with write_session() as s:  # any write to the data, on any replica
        s.exec(text("UPDATE health_centre SET name = name"))


def _wait_until_current(manager) -> None:
    chosen = default_period()
    requested = None if len(manager.centre_ids) > 1 else tuple(manager.centre_ids)
    deadline = time.monotonic() + 30
    while not centre_dashboard.is_current(manager, requested, chosen.start, chosen.end, None, None):
        assert time.monotonic() < deadline, "the background recomputation never finished"
        time.sleep(0.05)


def test_after_a_write_a_slow_view_is_shown_from_its_last_computation_while_recomputed(db_url, monkeypatch):
    clear_caches()
    w = make_world()
    manager = w.principals["manager"]
    monkeypatch.setattr(dashboards, "SLOW_SECONDS", 0.0)  # every view counts as slow here
    first = _manager_view(manager)
    assert view_as_of().stale is False
    _write()
    second = _manager_view(manager)
    as_of = view_as_of()
    assert second is first and as_of.stale and as_of.at <= utcnow()
    assert "centre_dashboard stale" in _views(manager.username)
    _wait_until_current(manager)  # computed in the background meanwhile
    third = _manager_view(manager)
    assert third is not first and view_as_of().stale is False
    assert _views(manager.username)[-1].endswith("centre_dashboard cached")
    _write()
    with fresh_only():  # the warm-up thread and the report: computed now
        fourth = _manager_view(manager)
    assert fourth is not third and view_as_of().stale is False
    assert not _views(manager.username)[-1].endswith(("stale", "cached"))


def test_a_quick_view_or_a_last_computation_older_than_the_window_is_computed_at_once(db_url, monkeypatch):
    clear_caches()
    w = make_world()
    manager = w.principals["manager"]
    monkeypatch.setattr(dashboards, "SLOW_SECONDS", 3600.0)  # no view is that slow
    first = _manager_view(manager)
    _write()
    assert _manager_view(manager) is not first and view_as_of().stale is False
    monkeypatch.setattr(dashboards, "SLOW_SECONDS", 0.0)
    second = _manager_view(manager)
    _write()
    later = time.monotonic() + 901  # the window is 15 minutes
    monkeypatch.setattr(dashboards.time, "monotonic", lambda: later)
    assert _manager_view(manager) is not second and view_as_of().stale is False


def test_the_page_says_its_figures_are_being_recomputed_and_reloads_when_ready(db_url, monkeypatch):
    clear_caches()
    w = make_world()
    manager = w.principals["manager"]
    monkeypatch.setattr(dashboards, "SLOW_SECONDS", 0.0)
    assert key_problem() is None
    at = _centre_outcomes_page(manager)
    stale_text = "Siffrorna är från kl."
    assert not [i for i in at.info if stale_text in i.value]
    _write()
    at.run()
    assert not at.exception, at.exception
    [notice] = [i.value for i in at.info if stale_text in i.value]
    assert "räknas om" in notice
    _wait_until_current(manager)
    at.run()
    assert not [i for i in at.info if stale_text in i.value]


def test_background_recomputations_run_at_a_lower_priority_than_page_runs():
    """The warm-up thread and a stale view's recompute lower only their own thread (Linux)."""
    import os
    import threading

    seen = {}

    def background():
        dashboards.lower_thread_priority()
        seen["thread"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    worker = threading.Thread(target=background)
    worker.start()
    worker.join()
    assert seen["thread"] == max(before, 10)  # niceness 10 (never raised above the process)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before  # this thread as it was


def test_the_same_view_asked_for_twice_at_once_is_computed_once(db_url):
    """The warm-up thread and a manager's page (or a background refresh) asking for the same view:
    the second waits for the first instead of running the same seconds-long statements beside it."""
    import threading

    w = make_world()
    manager = w.principals["manager"]
    calls = []
    started = threading.Event()

    @dashboards.scoped_cache(ttl_seconds=300)
    def slow_view(principal, n):
        calls.append(n)
        started.set()
        time.sleep(0.5)
        return object()

    results = {}
    first = threading.Thread(target=lambda: results.setdefault("first", slow_view(manager, 1)))
    first.start()
    assert started.wait(10)
    results["second"] = slow_view(manager, 1)  # asked while the first is still computing
    first.join()
    assert calls == [1] and results["first"] is results["second"]
    assert _views(manager.username)[-1] == "slow_view cached"
