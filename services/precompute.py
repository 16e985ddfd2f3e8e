"""Centre outcomes computed before anyone asks (issue 12: "8–29 s the first time per browser session"
at region size).

The dashboard cache (`services.dashboards.scoped_cache`) keys every entry by the data version, so
an entry is never served after a write on any replica; but the first view after a write, after the
entry's time-to-live or in a new app process paid for the whole aggregation (16–30 s for a region
manager). Here a background thread in each app process recomputes the default Centre outcomes view
(the current year, all the user's centres, every programme, the latest follow-up) of the managers
who logged in most recently, whenever the data version has changed and before the entries expire,
so that a manager's first view is a cache hit. Only views that take a second or more to compute
are recomputed on every change (see `Warmer`). It goes through the same cached function with the
same key a manager's page uses (role and centres, never a user id), so correctness is the cache's:
keyed by the data version, correct across replicas. The computation runs as the system account
`lotsa-precompute` with a manager's scope and is audited as such (`dashboard.view`); a manager's
later view is audited for that manager as a cached view.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from sqlmodel import col, select

from db import data_version
from db.engine import read_session
from db.models import User, UserCentre
from services.dashboards import default_period, fresh_only, lower_thread_priority
from services.outcomes import centre_dashboard
from services.principal import Principal

SYSTEM = "lotsa-precompute"
POLL_SECONDS = 15.0
REFRESH_SECONDS = 240.0  # before the dashboard cache's 300 s time-to-live runs out
MAX_SCOPES = 8  # the managers who logged in most recently; others compute on their first view
SLOW_SECONDS = 1.0  # a view that computes faster is not worth recomputing on every write
FULL_PASS_SECONDS = 1800.0  # every scope measured again (data grows; managers change)
log = logging.getLogger(__name__)
# Called with each view computed here (serve.py registers the page's chart warm-up, so the first
# manager's first visit does not pay Plotly's first-use cost either; services do not import pages).
VIEW_HOOKS: list = []


def manager_scopes(limit: int = MAX_SCOPES) -> list[frozenset[int]]:
    """The distinct centre sets of active managers, most recent login first."""
    with read_session() as s:
        rows = s.exec(
            select(User.id, UserCentre.centre_id)
            .join(UserCentre, UserCentre.user_id == User.id)
            .where(User.role == "manager", col(User.is_active).is_(True))
            .order_by(col(User.last_login_at).desc().nulls_last(), User.id)
        ).all()
    by_user: dict[int, set[int]] = {}
    for user_id, centre_id in rows:
        by_user.setdefault(user_id, set()).add(centre_id)
    scopes: list[frozenset[int]] = []
    for centres in by_user.values():  # dicts keep the query's order
        scope = frozenset(centres)
        if scope not in scopes:
            scopes.append(scope)
    return scopes[:limit]


def system_principal(centres: frozenset[int]) -> Principal:
    return Principal(
        user_id=None,  # type: ignore[arg-type]  # the system, not a user: audited by name
        username=SYSTEM,
        display_name=SYSTEM,
        role="manager",
        centre_ids=centres,
    )


def warm_scope(centres: frozenset[int]) -> float:
    """Compute (or refresh) one scope's default Centre outcomes view in the dashboard cache, exactly
    as the page asks for it; returns the seconds it took."""
    chosen = default_period()
    # the page's call: centre_dashboard(principal, centre_ids, start, end, programme, followup),
    # centre_ids None for the whole scope of several centres, the one centre of a one-centre scope
    requested = None if len(centres) > 1 else tuple(centres)
    started = time.perf_counter()
    with fresh_only():  # computed now, never the last view shown while recomputing
        view = centre_dashboard(system_principal(centres), requested, chosen.start, chosen.end, None, None)
    took = time.perf_counter() - started
    for hook in VIEW_HOOKS:
        try:
            hook(view)
        except Exception:  # a warm-up of the page's drawing must never stop the computing
            log.warning("a Centre outcomes view hook failed", exc_info=True)
    return took


def warm_centre_outcomes(limit: int = MAX_SCOPES) -> int:
    """Warm every scope of `manager_scopes`; returns how many."""
    scopes = manager_scopes(limit)
    for centres in scopes:
        warm_scope(centres)
    return len(scopes)


@dataclass
class Warmer:
    """One step per poll: when the data version changed or the last warm-up is getting old, warm
    the scopes a manager would wait for. Every scope is measured on a full pass (at start and every
    FULL_PASS_SECONDS); in between only those that took `slow_seconds` or more are recomputed, so a
    small database (every view quick anyway) costs one pass now and then, not work on every write."""

    url: str | None = None
    slow_seconds: float = SLOW_SECONDS
    version: int | None = None
    warmed_at: float = field(default=-1e9)
    full_pass_at: float = field(default=-1e9)
    took: dict[frozenset[int], float] = field(default_factory=dict)

    def step(self) -> int | None:
        """The number of scopes warmed, or None when nothing had changed."""
        version = data_version.total(self.url)  # read before the data, as the cache does
        now = time.monotonic()
        if version == self.version and now - self.warmed_at < REFRESH_SECONDS:
            return None
        full = now - self.full_pass_at >= FULL_PASS_SECONDS
        scopes = manager_scopes()
        chosen = [c for c in scopes if full or self.took.get(c, float("inf")) >= self.slow_seconds]
        for centres in chosen:
            self.took[centres] = warm_scope(centres)
        self.version, self.warmed_at = version, now
        if full:
            self.full_pass_at = now
        return len(chosen)


_STARTED: dict[str, threading.Thread] = {}
_LOCK = threading.Lock()


def start_background(url: str | None = None) -> threading.Thread:
    """The warm-up thread of this process (started once; a daemon, so it never holds up exit)."""
    from settings import get_settings

    key = url or get_settings().db_url
    with _LOCK:
        thread = _STARTED.get(key)
        if thread is None or not thread.is_alive():
            thread = threading.Thread(target=_run, args=(url,), name="lotsa-precompute", daemon=True)
            thread.start()
            _STARTED[key] = thread
    return thread


def _run(url: str | None) -> None:
    lower_thread_priority()  # a user's page run comes first
    warmer = Warmer(url)
    failing = False
    while True:
        try:
            warmer.step()
            failing = False
        except Exception:  # a database that is not there yet, being migrated, or busy: try again
            # the traceback once per run of failures, not every poll
            log.warning("precompute of Centre outcomes failed; retrying", exc_info=not failing)
            failing = True
        time.sleep(POLL_SECONDS)
