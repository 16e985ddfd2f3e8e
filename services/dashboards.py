"""What every outcome dashboard shares: the period, the centres a user may look at, the disclosure
rules from the settings, figures that carry their own definition, and a cache keyed by scope.

Dashboards show aggregates only. Each dashboard service:

- starts with `dashboard_scope(principal, requested_centres, action=...)`, which fails closed
  (role, then centres outside the user's scope, both audited) and records one `dashboard.view`
  audit row per computation;
- aggregates in SQL over the scope's centres and the period;
- passes every count, rate and mean through `domain.disclosure` with `disclosure_rules()` before
  it leaves the service, so a page cannot show an unprotected number by accident;
- is wrapped in `scoped_cache`, whose key holds the database URL and the principal's scope.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from db import data_version
from db.models import utcnow
from domain.disclosure import DisclosureRules
from domain.statistics import ReliabilityParams
from services.audit import record_now, require_role
from services.errors import AccessDenied, ValidationError
from services.principal import Principal
from settings import ROOT, get_settings

EXAMPLE_RELIABILITY = ROOT / "config" / "reliability.example.json"

DASHBOARD_ROLES = ("manager", "connector")


def disclosure_rules() -> DisclosureRules:
    """The configured thresholds (LOTSA_DISCLOSURE_K, LOTSA_DISCLOSURE_MIN_N)."""
    s = get_settings()
    return DisclosureRules(k=s.disclosure_k, min_n_for_rates=s.disclosure_min_n)


def configured_reliability() -> dict[str, ReliabilityParams]:
    """SD₁ and r per score key ("ucla3", "ons4.happy", ...) from LOTSA_RELIABILITY_FILE; in demo
    mode without it, the example file (whose source text says it is illustrative, and the page shows
    the source). Empty when nothing is configured: then no reliable-change categories are shown.
    A malformed file raises ValueError naming the file, at the first dashboard that needs it."""
    s = get_settings()
    path = Path(s.reliability_file) if s.reliability_file else (EXAMPLE_RELIABILITY if s.demo else None)
    if path is None:
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))["instruments"]
        return {
            code: ReliabilityParams(
                instrument=code,
                sd1=float(v["sd1"]),
                r=float(v["r"]),
                source=str(v["source"]),
                verified=bool(v.get("verified", False)),
            )
            for code, v in raw.items()
        }
    except (OSError, KeyError, TypeError, ValueError, json.JSONDecodeError) as error:
        raise ValueError(f"LOTSA_RELIABILITY_FILE {path}: {error}") from error


# Period -------------------------------------------------------------------------------------------

PERIOD_KINDS = ("year", "quarter", "month")
MIN_YEAR, MAX_YEAR = 2000, 2100


def _month_end(year: int, month: int) -> date:
    following = date(year + (month == 12), month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


@dataclass(frozen=True)
class Period:
    """A fixed reporting period: a calendar year, quarter or month (issue 10). Aggregates are never
    published for arbitrary dates, so moving an end date by one day cannot isolate one person.
    Construct it through `period()` or `reporting_period()`, which validate."""

    start: date
    end: date

    @property
    def kind(self) -> str:
        if (self.start.month, self.end.month) == (1, 12):
            return "year"
        return "month" if self.start.month == self.end.month else "quarter"

    @property
    def number(self) -> int:
        """1 for a year; the quarter (1-4) or the month (1-12)."""
        return {"year": 1, "quarter": (self.start.month - 1) // 3 + 1, "month": self.start.month}[self.kind]

    def months(self) -> list[date]:
        """First day of every calendar month the period touches, in order."""
        out, day = [], self.start.replace(day=1)
        while day <= self.end:
            out.append(day)
            day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
        return out

    def containing(self) -> tuple[Period, ...]:
        """The longer reporting periods that contain this one (quarter and year of a month)."""
        year = reporting_period("year", self.start.year)
        if self.kind == "year":
            return ()
        if self.kind == "quarter":
            return (year,)
        return (reporting_period("quarter", self.start.year, (self.start.month - 1) // 3 + 1), year)

    def code(self) -> str:
        """The period's code in a URL ("2025", "2025-Q2", "2025-03")."""
        return self.label().replace(" ", "-")

    def label(self) -> str:
        if self.kind == "year":
            return str(self.start.year)
        if self.kind == "quarter":
            return f"{self.start.year} Q{self.number}"
        return f"{self.start.year}-{self.start.month:02d}"


def reporting_period(kind: str, year: object, number: object = 1) -> Period:
    """The calendar year, quarter (number 1-4) or month (number 1-12). Errors name the field:
    `kind`, `year`, `number`."""
    errors: dict[str, tuple[str, dict]] = {}
    if kind not in PERIOD_KINDS:
        errors["kind"] = ("error.invalid_choice", {})
    try:
        y = int(str(year).strip())
        if not MIN_YEAR <= y <= MAX_YEAR:
            raise ValueError
    except ValueError:
        errors["year"] = ("dashboard.error.bad_year", {"low": MIN_YEAR, "high": MAX_YEAR})
        y = None
    limit = {"year": 1, "quarter": 4, "month": 12}.get(kind, 12)
    try:
        n = int(str(number).strip())
        if not 1 <= n <= limit:
            raise ValueError
    except ValueError:
        errors["number"] = ("error.invalid_choice", {})
        n = None
    if errors:
        raise ValidationError(errors)
    if kind == "year":
        return Period(date(y, 1, 1), date(y, 12, 31))
    if kind == "quarter":
        first = 3 * (n - 1) + 1
        return Period(date(y, first, 1), _month_end(y, first + 2))
    return Period(date(y, n, 1), _month_end(y, n))


def period_from_code(code: object) -> Period:
    """The period a URL names: "2025", "2025-Q2" or "2025-03" (as `Period.code()` writes it)."""
    text = str(code or "").strip().upper()
    try:
        if "-Q" in text:
            year, number = text.split("-Q", 1)
            return reporting_period("quarter", year, number)
        if "-" in text:
            year, number = text.split("-", 1)
            return reporting_period("month", year, number)
        return reporting_period("year", text)
    except ValidationError:
        raise ValidationError({"period": ("dashboard.error.bad_period", {"value": text[:20]})}) from None


def default_period(today: date | None = None) -> Period:
    """The current calendar year."""
    today = today or date.today()
    return reporting_period("year", today.year)


def period(start: object, end: object) -> Period:
    """A validated reporting period from what a form or URL gave (dates or ISO text): it must be a
    whole calendar year, quarter or month, else `dashboard.error.not_reporting_period` on `end`.
    Errors name the field: `start`, `end`."""
    errors: dict[str, tuple[str, dict]] = {}

    def as_date(value: object, name: str) -> date | None:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            errors[name] = ("dashboard.error.bad_date", {"value": str(value)[:40]})
            return None

    a, b = as_date(start, "start"), as_date(end, "end")
    if a and b:
        if a > b:
            errors["end"] = ("dashboard.error.end_before_start", {})
        elif not MIN_YEAR <= a.year <= MAX_YEAR:
            errors["start"] = ("dashboard.error.bad_year", {"low": MIN_YEAR, "high": MAX_YEAR})
        else:
            fixed = [
                reporting_period("year", a.year),
                reporting_period("quarter", a.year, (a.month - 1) // 3 + 1),
                reporting_period("month", a.year, a.month),
            ]
            if Period(a, b) not in fixed:
                errors["end"] = ("dashboard.error.not_reporting_period", {})
    if errors:
        raise ValidationError(errors)
    return Period(a, b)  # type: ignore[arg-type]


# Scope --------------------------------------------------------------------------------------------


def dashboard_scope(
    principal: Principal | None,
    requested: Iterable[int] | None = None,
    *,
    action: str,
    roles: tuple[str, ...] = DASHBOARD_ROLES,
) -> tuple[int, ...]:
    """The centre ids a dashboard may aggregate: the user's whole scope (when `requested` is None or
    names all of it) or one single centre of it (issue 10: no arbitrary subsets, so that {A,B,C,D}
    minus {B,C,D} cannot isolate a small unit). A centre outside the scope is denied and audited; a
    subset of two or more centres short of the whole scope is a ValidationError on `centres`."""
    principal = require_role(principal, *roles, action=action)
    own = principal.centre_ids
    wanted = own if requested is None else frozenset(int(c) for c in requested)
    if not wanted <= own:
        record_now(principal, action, "denied", detail=f"centres {sorted(wanted - own)}")
        raise AccessDenied()
    if len(wanted) > 1 and wanted != own:
        raise ValidationError({"centres": ("dashboard.error.centre_subset", {})})
    if not wanted:
        return ()
    record_now(principal, "dashboard.view", "ok", detail=f"{action} centres {sorted(wanted)}")
    return tuple(sorted(wanted))


# Figures ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One number as it may be shown, with what explains it in a popover.

    `text` is the display form after disclosure control ("<5", "–" for withheld, "42", "38 %").
    `value` is the shown value as a number (None when withheld) for charts. `definition` is the
    locale key of the metric's definition; its sibling keys `<definition>.numerator` and
    `<definition>.denominator` exist when the figure is a rate."""

    key: str
    text: str
    value: float | None
    definition: str
    numerator_text: str | None = None
    denominator_text: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def withheld(self) -> bool:
        return self.value is None


# Cache --------------------------------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])
_CACHES: list[OrderedDict] = []
_LOCK = threading.Lock()
# A view that took this long to compute may be shown from its last computation while it is being
# recomputed after a write (`stale_seconds`); quicker views are always computed at once.
SLOW_SECONDS = 1.0
INFLIGHT_WAIT_SECONDS = 120.0  # how long a caller waits for the same view computed elsewhere
_SERVED = threading.local()  # what the last scoped_cache call of this thread returned (view_as_of)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AsOf:
    """When the view a dashboard function just returned was computed, and whether it is being
    recomputed because the data has changed since (a stale-while-revalidate view)."""

    at: datetime
    stale: bool


def view_as_of() -> AsOf | None:
    """The `AsOf` of the last scoped_cache call in this thread (a page asks right after its call)."""
    return getattr(_SERVED, "as_of", None)


def lower_thread_priority(niceness: int = 10) -> None:
    """Let the calling thread yield the processor to the app's page runs (Linux schedules each
    thread on its own, so this lowers only this thread): background recomputations must not slow
    the page a user is waiting for. Elsewhere, or without permission, nothing changes."""
    with suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)


@contextmanager
def fresh_only() -> Iterator[None]:
    """Within: scoped_cache functions compute a changed view at once, never show the last one
    (the precompute thread, which exists to compute)."""
    before = getattr(_SERVED, "fresh_only", False)
    _SERVED.fresh_only = True
    try:
        yield
    finally:
        _SERVED.fresh_only = before


def scoped_cache(
    ttl_seconds: float = 300, max_entries: int = 256, stale_seconds: float = 0.0
) -> Callable[[F], F]:
    """Cache a dashboard service function whose first argument is the principal. The key is the
    database URL, the data version, the principal's scope and the remaining arguments (which must
    be hashable), never the user id alone, and never shared across scopes. Entries expire after
    `ttl_seconds`. Every call records one `dashboard.view` audit row for the calling user, whether
    computed or served from the cache.

    With `stale_seconds`, a view that took SLOW_SECONDS or more to compute and whose data has
    changed since (or whose entry expired) is shown from its last computation, if that is at most
    `stale_seconds` old, while a background thread recomputes it (stale-while-revalidate): the page
    tells the user the time of the figures (`view_as_of`) and reloads when `is_current`. The user
    never waits for a slow recomputation they have seen a recent result of."""

    def decorate(fn: F) -> F:
        store: OrderedDict = OrderedDict()  # key -> (monotonic, wall time, value)
        latest: OrderedDict = OrderedDict()  # key without the data version -> (monotonic, wall, took, value)
        inflight: dict[tuple, threading.Event] = {}  # views being computed now
        _CACHES.append(store)
        _CACHES.append(latest)

        def keys(principal: Principal, args: tuple, kwargs: dict) -> tuple[tuple, tuple]:
            settings = get_settings()
            base = (
                settings.db_url,
                # what changes the figures besides the data: thresholds and configured files
                (settings.disclosure_k, settings.disclosure_min_n, settings.ucla3_threshold),
                (settings.reliability_file, settings.demo, settings.eq5d_value_set, settings.hba1c_risk),
                principal.scope_key(),
                args,
                tuple(sorted(kwargs.items())),
            )
            # any write, on any replica, misses the cache
            return (data_version.total(settings.db_url), *base), base

        def store_value(key: tuple, base: tuple, wall: datetime, took: float, value: Any) -> None:
            now = time.monotonic()
            with _LOCK:
                for cache, entry_key, entry in (
                    (store, key, (now, wall, value)),
                    (latest, base, (now, wall, took, value)),
                ):
                    cache[entry_key] = entry
                    cache.move_to_end(entry_key)
                    while len(cache) > max_entries:
                        cache.popitem(last=False)

        def compute(principal: Principal, args: tuple, kwargs: dict, key: tuple, base: tuple) -> Any:
            """Compute and store the view; when the same view is already being computed (the warm-up
            thread, a background refresh, another user of the same scope), wait for that instead of
            computing it twice at once."""
            with _LOCK:
                running = inflight.get(key)
                if running is None:
                    inflight[key] = mine = threading.Event()
            if running is not None:
                running.wait(timeout=INFLIGHT_WAIT_SECONDS)
                with _LOCK:
                    hit = store.get(key)
                if hit is not None:
                    record_cached_view(principal, f"{fn.__name__} cached")
                    _SERVED.as_of = AsOf(hit[1], stale=False)
                    return hit[2]
                mine = None  # the other computation failed or is very slow: compute here
            try:
                started, wall = time.perf_counter(), utcnow()
                value = fn(principal, *args, **kwargs)
                store_value(key, base, wall, time.perf_counter() - started, value)
            finally:
                if mine is not None:
                    with _LOCK:
                        inflight.pop(key, None)
                    mine.set()
            _SERVED.as_of = AsOf(wall, stale=False)
            return value

        def refresh(principal: Principal, args: tuple, kwargs: dict, key: tuple, base: tuple) -> None:
            lower_thread_priority()
            try:
                compute(principal, args, kwargs, key, base)
            except Exception:  # the next view computes (and shows the error) itself
                log.warning("background recompute of %s failed", fn.__name__, exc_info=True)

        @wraps(fn)
        def wrapper(principal: Principal, *args: Any, **kwargs: Any) -> Any:
            _SERVED.as_of = None  # never an earlier call's time, whatever happens below
            if principal is None or principal.role not in (*DASHBOARD_ROLES, "partner"):
                return fn(principal, *args, **kwargs)  # the function denies and audits
            key, base = keys(principal, args, kwargs)
            now = time.monotonic()
            with _LOCK:
                hit = store.get(key)
                fresh = hit is not None and now - hit[0] < ttl_seconds
                if fresh:
                    store.move_to_end(key)
                last = (
                    latest.get(base) if stale_seconds and not getattr(_SERVED, "fresh_only", False) else None
                )
                stale = last is not None and now - last[0] < stale_seconds and last[2] >= SLOW_SECONDS
                start = not fresh and stale and key not in inflight
            if fresh:
                # A view served from the cache is still a view by this user: audited like a computed
                # one (the computation audits inside the function; a hit audits here, once).
                record_cached_view(principal, f"{fn.__name__} cached")
                _SERVED.as_of = AsOf(hit[1], stale=False)
                return hit[2]
            if stale:
                record_cached_view(principal, f"{fn.__name__} stale")
                if start:
                    threading.Thread(
                        target=refresh,
                        args=(principal, args, kwargs, key, base),
                        name=f"lotsa-refresh-{fn.__name__}",
                        daemon=True,
                    ).start()
                _SERVED.as_of = AsOf(last[1], stale=True)
                return last[3]
            return compute(principal, args, kwargs, key, base)

        def is_current(principal: Principal, *args: Any, **kwargs: Any) -> bool:
            """True when a view of the current data is ready (a page showing a stale one reloads)."""
            key, _ = keys(principal, args, kwargs)
            with _LOCK:
                return key in store

        def cache_clear() -> None:
            with _LOCK:
                store.clear()
                latest.clear()

        wrapper.cache_clear = cache_clear  # type: ignore[attr-defined]
        wrapper.is_current = is_current  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def record_cached_view(principal: Principal, detail: str) -> None:
    """The audit row of a view served from the cache (issue 13), written as cheaply as possible
    (issue 10 bench): one prepared INSERT of a plain row, no ORM unit of work, and the SQLite
    write lock held only for that statement and its commit."""
    from sqlalchemy import insert

    from db.engine import write_session
    from db.models import AuditEvent
    from services.audit import _event

    event = _event(principal, "dashboard.view", "ok", patient_pseudonym=None, care_unit=None, detail=detail)
    row = {c.name: getattr(event, c.name) for c in AuditEvent.__table__.columns if c.name != "id"}
    with write_session() as session:
        session.connection().execute(insert(AuditEvent.__table__), row)


def clear_caches() -> None:
    """Forget every cached dashboard (tests; after an import)."""
    with _LOCK:
        for store in _CACHES:
            store.clear()


# Protected release --------------------------------------------------------------------------------
#
# One release per reporting period, scope and cell (issue 10): the first time a CLOSED period's cell
# is published, its protected content is written to `disclosure_release` (insert if absent, so two
# processes racing agree on the first writer) and every later page, download and report reads it
# back. A back-dated change of the data therefore cannot move a closed period's published figures,
# so it cannot be differenced, and two pages that show the same cell cannot disagree. The current,
# still-open period is computed live and is provisional (`is_provisional`).
#
# The payload is JSON of the service's own frozen dataclasses (tagged; only classes from the
# `services.` and `domain.` packages are rebuilt, never arbitrary code).

RELEASE_MODULES = ("services.", "domain.")


def is_provisional(chosen: Period, today: date | None = None) -> bool:
    """True while the period has not ended: its figures are computed live and may still change."""
    return chosen.end >= (today or date.today())


def release_scope_key(role: str, ids: Iterable[int]) -> str:
    """The scope of a release: the kind of unit ("c" centres, "o" organisations, "m"
    municipalities) and their ids, hashed to a fixed length. Two users with the same scope read the
    same release."""
    import hashlib

    text = f"{role}:{','.join(str(i) for i in sorted(set(int(i) for i in ids)))}"
    return text if len(text) <= 64 else "h:" + hashlib.sha256(text.encode()).hexdigest()[:62]


def _encode(obj: Any) -> Any:
    import dataclasses
    import enum
    from datetime import datetime as _datetime
    from types import MappingProxyType

    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, enum.Enum):
        return {"__e__": f"{type(obj).__module__}:{type(obj).__qualname__}", "v": obj.value}
    if isinstance(obj, (int, float)):
        return obj
    if isinstance(obj, _datetime):
        return {"__dt__": obj.isoformat()}
    if isinstance(obj, date):
        return {"__d__": obj.isoformat()}
    if isinstance(obj, tuple):
        return {"__t__": [_encode(v) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v) for v in obj]
    if isinstance(obj, (dict, MappingProxyType)):
        return {
            "__m__": [[_encode(k), _encode(v)] for k, v in obj.items()],
            "p": isinstance(obj, MappingProxyType),
        }
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {
            "__dc__": f"{type(obj).__module__}:{type(obj).__qualname__}",
            "f": {f.name: _encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)},
        }
    raise TypeError(f"cannot release {type(obj).__name__}")


def _class(path: str) -> type:
    import importlib

    module, name = path.split(":", 1)
    if not module.startswith(RELEASE_MODULES):
        raise ValueError(f"release names a class outside {RELEASE_MODULES}: {path}")
    target: Any = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target


def _decode(obj: Any) -> Any:
    import dataclasses
    from datetime import datetime as _datetime
    from types import MappingProxyType

    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__t__" in obj:
        return tuple(_decode(v) for v in obj["__t__"])
    if "__d__" in obj:
        return date.fromisoformat(obj["__d__"])
    if "__dt__" in obj:
        return _datetime.fromisoformat(obj["__dt__"])
    if "__e__" in obj:
        return _class(obj["__e__"])(obj["v"])
    if "__m__" in obj:
        mapping = {_decode(k): _decode(v) for k, v in obj["__m__"]}
        return MappingProxyType(mapping) if obj.get("p") else mapping
    if "__dc__" in obj:
        cls = _class(obj["__dc__"])
        if not dataclasses.is_dataclass(cls):
            raise ValueError(f"not a dataclass: {obj['__dc__']}")
        names = {f.name for f in dataclasses.fields(cls)}
        if set(obj["f"]) != names:  # stored by a version of Lotsa whose view had other fields
            raise ValueError(f"release of {obj['__dc__']} has fields {sorted(obj['f'])}, now {sorted(names)}")
        instance = object.__new__(cls)
        for name, value in obj["f"].items():
            object.__setattr__(instance, name, _decode(value))
        return instance
    raise ValueError("malformed release payload")


def _read_release(period_code: str, scope_key: str, cell: str) -> str | None:
    from db.engine import read_session
    from db.models import DisclosureRelease

    table = DisclosureRelease.__table__
    with read_session() as s:
        return s.execute(
            table.select()
            .with_only_columns(table.c.payload)
            .where(table.c.period_code == period_code, table.c.scope_key == scope_key, table.c.cell == cell)
        ).scalar_one_or_none()


def _insert_release(period_code: str, scope_key: str, cell: str, payload: str) -> None:
    """Insert if absent (ON CONFLICT DO NOTHING on SQLite and Postgres): the first writer wins."""
    from db.engine import write_session
    from db.models import DisclosureRelease, utcnow

    table = DisclosureRelease.__table__
    values = dict(
        period_code=period_code, scope_key=scope_key, cell=cell, payload=payload, created_at=utcnow()
    )
    with write_session() as s:
        if s.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        s.execute(dialect_insert(table).values(**values).on_conflict_do_nothing())


T = TypeVar("T")


def released(
    chosen: Period, scope_key: str, cell: str, compute: Callable[[], T], *, today: date | None = None
) -> T:
    """The protected content of one cell of the release for `chosen` and the scope: computed live
    while the period is open; for a closed period, read from `disclosure_release`, written from
    `compute()` the first time (insert if absent, then read, so concurrent first views agree)."""
    if is_provisional(chosen, today):
        return compute()
    code = chosen.code()
    stored = _read_release(code, scope_key, cell)
    if stored is None:
        _insert_release(code, scope_key, cell, json.dumps(_encode(compute()), separators=(",", ":")))
        stored = _read_release(code, scope_key, cell)
    try:
        return _decode(json.loads(stored))
    except (ValueError, TypeError, AttributeError, ImportError) as error:
        # Written by an older version whose view had another shape: shown live (and logged) rather
        # than failing the page; the stored release is kept.
        import logging

        logging.getLogger(__name__).warning("release %s/%s/%s unreadable: %s", code, scope_key, cell, error)
        return compute()
