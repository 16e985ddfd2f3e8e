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
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from domain.disclosure import DisclosureRules
from domain.statistics import ReliabilityParams
from services.audit import record_now, require_role
from services.errors import AccessDenied, ValidationError
from services.principal import Principal
from settings import ROOT, get_settings

EXAMPLE_RELIABILITY = ROOT / "config" / "reliability.example.json"

MAX_PERIOD_DAYS = 366 * 10
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


@dataclass(frozen=True)
class Period:
    """Inclusive dates. Validated by `period()`; construct it through that function."""

    start: date
    end: date

    def months(self) -> list[date]:
        """First day of every calendar month the period touches, in order."""
        out, day = [], self.start.replace(day=1)
        while day <= self.end:
            out.append(day)
            day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
        return out

    def label(self) -> str:
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def default_period(today: date | None = None) -> Period:
    """The last twelve whole months plus the current one."""
    today = today or date.today()
    start = date(today.year - 1, today.month, 1)
    return Period(start, today)


def period(start: object, end: object) -> Period:
    """A validated period from what a form or URL gave (dates or ISO text). Errors name the field:
    `start`, `end`."""
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
        elif (b - a).days > MAX_PERIOD_DAYS:
            errors["end"] = ("dashboard.error.period_too_long", {"years": MAX_PERIOD_DAYS // 366})
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
    """The centre ids a dashboard may aggregate: the requested ones (all of the user's when None),
    each of which must be one of the user's. Anything else is denied and audited."""
    principal = require_role(principal, *roles, action=action)
    own = principal.centre_ids
    wanted = own if requested is None else frozenset(int(c) for c in requested)
    if not wanted <= own:
        record_now(principal, action, "denied", detail=f"centres {sorted(wanted - own)}")
        raise AccessDenied()
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


def scoped_cache(ttl_seconds: float = 300, max_entries: int = 256) -> Callable[[F], F]:
    """Cache a dashboard service function whose first argument is the principal. The key is the
    database URL, the principal's scope and the remaining arguments (which must be hashable), never
    the user id alone, and never shared across scopes. Entries expire after `ttl_seconds`."""

    def decorate(fn: F) -> F:
        store: OrderedDict = OrderedDict()
        _CACHES.append(store)

        @wraps(fn)
        def wrapper(principal: Principal, *args: Any, **kwargs: Any) -> Any:
            if principal is None or principal.role not in (*DASHBOARD_ROLES, "partner"):
                return fn(principal, *args, **kwargs)  # the function denies and audits
            settings = get_settings()
            key = (
                settings.db_url,
                # what changes the figures besides the data: thresholds and configured files
                (settings.disclosure_k, settings.disclosure_min_n, settings.ucla3_threshold),
                (settings.reliability_file, settings.demo, settings.eq5d_value_set, settings.hba1c_risk),
                principal.scope_key(),
                args,
                tuple(sorted(kwargs.items())),
            )
            now = time.monotonic()
            with _LOCK:
                hit = store.get(key)
                if hit is not None and now - hit[0] < ttl_seconds:
                    store.move_to_end(key)
                    return hit[1]
            value = fn(principal, *args, **kwargs)
            with _LOCK:
                store[key] = (now, value)
                store.move_to_end(key)
                while len(store) > max_entries:
                    store.popitem(last=False)
            return value

        wrapper.cache_clear = store.clear  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def clear_caches() -> None:
    """Forget every cached dashboard (tests; after an import)."""
    with _LOCK:
        for store in _CACHES:
            store.clear()
