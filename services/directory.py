"""The public activity directory: search with filters, the activity page, map points and a week view.

Everything is filtered, sorted and paged in SQL (SQLite and Postgres alike); only active, approved
activities are shown, to everyone. A search lives in the URL through `DirectoryFilter`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, cast, column, exists, false, func, or_, select, table
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.sql.elements import ColumnElement

from db.data_version import DIRECTORY, versioned_cache
from db.engine import read_session
from db.models import (
    Address,
    Attribute,
    Contact,
    CostOption,
    HealthCentre,
    Location,
    Municipality,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceCapacity,
    TaxonomyTerm,
)
from domain import schedules
from services.errors import NotFound
from services.principal import Principal

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
TIMES_OF_DAY = ("morning", "afternoon", "evening")
# [from, to) of each time of day, by the time an occurrence starts (as domain.schedules.time_of_day).
TIME_RANGES = {"morning": (time(0, 0), time(12, 0)), "afternoon": (time(12, 0), time(17, 0))}
ATTENDING = ("in_person", "online", "hybrid")
STARTS = ("rolling", "fixed")
SORTS = ("name", "distance", "recently_verified")
TAXONOMIES = ("category", "target_group", "accessibility", "language")
MAX_TEXT = 200
MAX_CHOICES = 50
MAX_KM = 500.0
KM_PER_DEGREE = 111.195  # mean Earth radius × π / 180
TIMETABLE_CAP = 300
MAP_LIMIT = 10_000
# Above MAP_LIMIT the map shows counts per grid cell; a screen-sized map cannot show more cells than
# this apart, and each cell is a feature the browser receives on every rerun (payload, render time).
CELL_LIMIT = 2_000

_CODE_RE = re.compile(r"^[a-z0-9_]{1,64}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_TRUE = {"1", "true", "yes", "on"}


# --- The filter, and its URL form ---------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryFilter:
    """What a user searches for. Normalised on creation (deduplicated, trimmed), so two filters that
    search the same thing compare equal and survive a URL round trip unchanged."""

    text: str = ""
    categories: tuple[str, ...] = ()
    target_groups: tuple[str, ...] = ()
    weekdays: tuple[str, ...] = ()
    times_of_day: tuple[str, ...] = ()
    attending: tuple[str, ...] = ()
    free_only: bool = False
    accessibility: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    municipality_ids: tuple[int, ...] = ()
    has_free_places: bool = False
    start: str | None = None
    centre_id: int | None = None
    near: tuple[float, float] | None = None
    max_km: float | None = None
    sort: str = "name"

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "text", _CONTROL_RE.sub(" ", self.text or "").strip()[:MAX_TEXT].strip())
        for name in ("categories", "target_groups", "accessibility", "languages"):
            set_(self, name, tuple(dict.fromkeys(getattr(self, name)))[:MAX_CHOICES])
        set_(self, "weekdays", tuple(d for d in WEEKDAYS if d in self.weekdays))
        set_(self, "times_of_day", tuple(x for x in TIMES_OF_DAY if x in self.times_of_day))
        set_(self, "attending", tuple(x for x in ATTENDING if x in self.attending))
        set_(self, "municipality_ids", tuple(dict.fromkeys(self.municipality_ids))[:MAX_CHOICES])
        if self.near is not None:
            set_(self, "near", (float(self.near[0]), float(self.near[1])))

    @property
    def has_point(self) -> bool:
        return self.near is not None or self.centre_id is not None

    def is_empty(self) -> bool:
        """True when nothing narrows the search (sorting and a reference point don't)."""
        return replace(self, sort="name", centre_id=None, near=None) == DirectoryFilter()

    def to_query_params(self) -> dict[str, str]:
        """The filter as URL query parameters; defaults are left out to keep links short."""
        out: dict[str, str] = {}
        if self.text:
            out["q"] = self.text
        for key, name in _LIST_PARAMS.items():
            values = getattr(self, name)
            if values:
                out[key] = ",".join(str(v) for v in values)
        if self.free_only:
            out["free"] = "1"
        if self.has_free_places:
            out["places"] = "1"
        if self.start:
            out["start"] = self.start
        if self.centre_id is not None:
            out["centre"] = str(self.centre_id)
        if self.near is not None:
            out["near"] = f"{self.near[0]!r},{self.near[1]!r}"
        if self.max_km is not None:
            out["km"] = repr(self.max_km)
        if self.sort != "name":
            out["sort"] = self.sort
        return out

    @classmethod
    def from_query_params(cls, params: Mapping) -> DirectoryFilter:
        """A filter from URL query parameters. Never raises: invalid values are ignored."""

        def raw(key: str) -> str:
            try:
                value = params.get(key)
            except Exception:
                return ""
            if isinstance(value, (list, tuple)):
                value = ",".join(str(v) for v in value)
            return value if isinstance(value, str) else ""

        def items(key: str) -> list[str]:
            return [p.strip() for p in raw(key).split(",") if p.strip()][:MAX_CHOICES]

        kwargs: dict = {"text": raw("q")}
        for key in ("cat", "tg", "acc", "langs"):
            kwargs[_LIST_PARAMS[key]] = tuple(c for c in items(key) if _CODE_RE.match(c))
        kwargs["weekdays"] = tuple(d for d in items("day") if d in WEEKDAYS)
        kwargs["times_of_day"] = tuple(x for x in items("tod") if x in TIMES_OF_DAY)
        kwargs["attending"] = tuple(x for x in items("att") if x in ATTENDING)
        kwargs["municipality_ids"] = tuple(i for i in (_positive_int(x) for x in items("muni")) if i)
        kwargs["free_only"] = raw("free").lower() in _TRUE
        kwargs["has_free_places"] = raw("places").lower() in _TRUE
        kwargs["start"] = raw("start") if raw("start") in STARTS else None
        kwargs["centre_id"] = _positive_int(raw("centre"))
        kwargs["near"] = _point(raw("near"))
        km = _number(raw("km"))
        kwargs["max_km"] = km if km is not None and 0 < km <= MAX_KM else None
        kwargs["sort"] = raw("sort") if raw("sort") in SORTS else "name"
        return cls(**kwargs)


_LIST_PARAMS = {
    "cat": "categories",
    "tg": "target_groups",
    "day": "weekdays",
    "tod": "times_of_day",
    "att": "attending",
    "acc": "accessibility",
    "langs": "languages",
    "muni": "municipality_ids",
}
QUERY_PARAM_KEYS = (*_LIST_PARAMS, "q", "free", "places", "start", "centre", "near", "km", "sort")


def _positive_int(value: str) -> int | None:
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        return None
    number = int(value)
    return number if number > 0 else None


def _number(value: str) -> float | None:
    try:
        number = float(value.strip()) if len(value) < 40 else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _point(value: str) -> tuple[float, float] | None:
    parts = value.split(",")
    if len(parts) != 2:
        return None
    lat, lon = _number(parts[0]), _number(parts[1])
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return (lat, lon)


# --- Options for the filter widgets -------------------------------------------------------------


@dataclass(frozen=True)
class CentreOption:
    id: int
    name: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class FacetOptions:
    """code -> name in the user's language, per taxonomy; municipalities; health centres."""

    terms: dict[str, dict[str, str]]
    municipalities: dict[int, str]
    centres: dict[int, CentreOption]
    places: list[dict]  # municipality names and coordinates, to orient a map with no basemap

    def restrict(self, flt: DirectoryFilter) -> DirectoryFilter:
        """Drop what no longer exists (an old shared link), so widgets get only valid defaults."""
        return replace(
            flt,
            categories=tuple(c for c in flt.categories if c in self.terms["category"]),
            target_groups=tuple(c for c in flt.target_groups if c in self.terms["target_group"]),
            accessibility=tuple(c for c in flt.accessibility if c in self.terms["accessibility"]),
            languages=tuple(c for c in flt.languages if c in self.terms["language"]),
            municipality_ids=tuple(m for m in flt.municipality_ids if m in self.municipalities),
            centre_id=flt.centre_id if flt.centre_id in self.centres else None,
        )


def _name_column(lang: str):
    return {"da": TaxonomyTerm.name_da, "en": TaxonomyTerm.name_en}.get(lang, TaxonomyTerm.name_sv)


@versioned_cache(DIRECTORY)
def facet_options(lang: str) -> FacetOptions:
    name = _name_column(lang)
    with read_session() as s:
        terms: dict[str, dict[str, str]] = {t: {} for t in TAXONOMIES}
        for taxonomy, code, label in s.execute(
            select(TaxonomyTerm.taxonomy, TaxonomyTerm.code, name).order_by(TaxonomyTerm.taxonomy, name)
        ):
            terms.setdefault(taxonomy, {})[code] = label
        places = [
            {"id": r.id, "name": r.name, "lat": r.latitude, "lon": r.longitude}
            for r in s.execute(
                select(
                    Municipality.id, Municipality.name, Municipality.latitude, Municipality.longitude
                ).order_by(Municipality.name)
            )
        ]
        municipalities = {p["id"]: p["name"] for p in places}
        centres = {
            row.id: CentreOption(row.id, row.name, row.latitude, row.longitude)
            for row in s.execute(
                select(HealthCentre.id, HealthCentre.name, HealthCentre.latitude, HealthCentre.longitude)
                .where(HealthCentre.active == True)  # noqa: E712
                .order_by(HealthCentre.name)
            )
        }
    return FacetOptions(terms, municipalities, centres, places)


# --- SQL building blocks --------------------------------------------------------------------------

S = Service.__table__
O = Organization.__table__  # noqa: E741
L = Location.__table__
SAL = ServiceAtLocation.__table__
A = Attribute.__table__
T = TaxonomyTerm.__table__
SC = Schedule.__table__
CAP = ServiceCapacity.__table__


def _public(indexed: bool = True) -> ColumnElement:
    """Active and approved. `indexed=False` writes it so no index is picked for it (`status || ''`):
    when a bounding box narrows far more, SQLite (without statistics) must start from the places."""
    if indexed:
        return and_(S.c.status == "active", S.c.approval_status == "approved")
    return and_(S.c.status.concat("") == "active", S.c.approval_status.concat("") == "approved")


def _point_location_id():
    """The activity's first physical place with coordinates (one point per activity)."""
    return (
        select(func.min(SAL.c.location_id))
        .select_from(SAL.join(L, L.c.id == SAL.c.location_id))
        .where(SAL.c.service_id == S.c.id, L.c.latitude.is_not(None), L.c.longitude.is_not(None))
        .scalar_subquery()
    )


@dataclass(frozen=True)
class _Geo:
    lat: float
    lon: float
    cos_lat: float

    def d2(self):
        """Squared distance in degrees of latitude (equirectangular; no trigonometry in SQL)."""
        dy = L.c.latitude - self.lat
        dx = (L.c.longitude - self.lon) * self.cos_lat
        return dx * dx + dy * dy

    def km(self, lat: float | None, lon: float | None) -> float | None:
        if lat is None or lon is None:
            return None
        return math.hypot((lon - self.lon) * self.cos_lat, lat - self.lat) * KM_PER_DEGREE


def _geo(session, flt: DirectoryFilter) -> _Geo | None:
    point = flt.near
    if point is None and flt.centre_id is not None:
        row = session.execute(
            select(HealthCentre.latitude, HealthCentre.longitude).where(HealthCentre.id == flt.centre_id)
        ).first()
        point = tuple(row) if row else None
    if point is None:
        return None
    return _Geo(point[0], point[1], max(math.cos(math.radians(point[0])), 0.01))


def _term_ids(session, taxonomy: str, codes: tuple[str, ...]) -> list[int]:
    return list(session.scalars(select(T.c.id).where(T.c.taxonomy == taxonomy, T.c.code.in_(codes))).all())


def _has_term(term_ids: list[int]) -> ColumnElement:
    """Tagged with one of the terms: the term's activities from the (term, service) index, so a
    category narrows the search instead of being checked on every public activity."""
    if not term_ids:
        return false()
    return S.c.id.in_(select(A.c.service_id).where(A.c.taxonomy_term_id.in_(term_ids)))


def _like_any(column, token: str, sqlite: bool) -> ColumnElement:
    """Case-insensitive contains. Postgres' ILIKE knows every letter; SQLite's lower() only ASCII,
    so there also try the capitalised and upper-case word (Ål, ÅL) to match Nordic letters."""
    escaped = token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    variants = dict.fromkeys(
        (escaped.lower(), escaped.capitalize(), escaped.upper()) if sqlite else (escaped,)
    )
    return or_(*(column.ilike(f"%{v}%", escape="\\") for v in variants))


# The search index of migration 0013: one row per activity with its name, description and
# organisation name (one per line), kept in step by triggers. SQLite: FTS5 with trigrams (rowid =
# service.id); Postgres: (service_id, body) with a pg_trgm GIN index.
_FTS = table("service_search", column("rowid", Integer), column("body"))
_TRGM = table("service_search", column("service_id", Integer), column("body"))
_TRIGRAM = 3  # the index answers words of at least this many letters; shorter ones read the index table


_INDEXED: dict[str, bool] = {}


def _has_search_index(session) -> bool:
    """Whether the database has migration 0013's index (a database stamped while 0013 was still an
    empty placeholder does not): without it the words are matched by LIKE, as before."""
    bind = session.get_bind()
    key = bind.url.render_as_string(hide_password=True)
    if key not in _INDEXED:
        _INDEXED[key] = sa_inspect(bind).has_table("service_search")
    return _INDEXED[key]


def _like_match(token: str, sqlite: bool) -> ColumnElement:
    return or_(*(_like_any(column, token, sqlite) for column in (S.c.name, S.c.description, O.c.name)))


def _text_match(token: str, sqlite: bool, narrowed: bool = False) -> ColumnElement:
    """The activity's name, description or organisation name contains `token`, case-insensitively
    (ÅÄÖ, ÆØ too): answered from the search index, never by reading every activity. `narrowed`: a
    longer word of the same search already picks the activities from the index."""
    if not sqlite:
        return S.c.id.in_(select(_TRGM.c.service_id).where(_like_any(_TRGM.c.body, token, False)))
    if len(token) >= _TRIGRAM:
        phrase = '"' + token.replace('"', '""') + '"'  # one literal phrase: a substring to FTS5 trigrams
        return S.c.id.in_(select(_FTS.c.rowid).where(_FTS.c.body.op("MATCH")(phrase)))
    if narrowed:  # one or two letters (no trigram): checked on the activities the longer word found
        return _like_match(token, True)
    # Only short words: read the index table (smaller than the activities with their organisations).
    return S.c.id.in_(select(_FTS.c.rowid).where(_like_any(_FTS.c.body, token, True)))


def _schedule_condition(flt: DirectoryFilter, today: date) -> ColumnElement | None:
    if not flt.weekdays and not flt.times_of_day:
        return None
    parts = [
        SC.c.service_id == S.c.id,
        or_(SC.c.valid_to.is_(None), SC.c.valid_to >= today),
        or_(SC.c.until.is_(None), SC.c.until >= today),
    ]
    if flt.weekdays:
        # Daily schedules without BYDAY happen every day; BYDAY may carry an ordinal (1TU, -1FR).
        parts.append(
            or_(
                and_(SC.c.freq == "DAILY", SC.c.byday.is_(None)),
                *(SC.c.byday.like(f"%{day}%") for day in flt.weekdays),
            )
        )
    if flt.times_of_day:
        ranges = []
        for name in flt.times_of_day:
            if name == "evening":
                ranges.append(SC.c.opens_at >= TIME_RANGES["afternoon"][1])
            else:
                low, high = TIME_RANGES[name]
                ranges.append(and_(SC.c.opens_at >= low, SC.c.opens_at < high))
        parts.append(or_(*ranges))
    return exists().where(*parts)


@dataclass(frozen=True)
class _Query:
    where: list[ColumnElement]
    geo: _Geo | None
    needs_location: bool
    sqlite: bool


def _build(session, flt: DirectoryFilter, today: date) -> _Query:
    where: list[ColumnElement] = [_public()]
    sqlite = session.get_bind().dialect.name == "sqlite"
    tokens = flt.text.split()[:8]
    indexed = bool(tokens) and _has_search_index(session)
    narrowed = any(len(token) >= _TRIGRAM for token in tokens)
    for token in tokens:
        where.append(_text_match(token, sqlite, narrowed) if indexed else _like_match(token, sqlite))
    if indexed and sqlite:  # (Postgres estimates the plain condition well; SQLite would start from it)
        # Start from the index's matches (a few activities), not from every public one filtered.
        where[0] = _public(indexed=False)
    if flt.categories:
        where.append(_has_term(_term_ids(session, "category", flt.categories)))
    if flt.target_groups:
        where.append(_has_term(_term_ids(session, "target_group", flt.target_groups)))
    if flt.languages:
        where.append(_has_term(_term_ids(session, "language", flt.languages)))
    for code in flt.accessibility:  # every chosen accessibility need must be met
        where.append(_has_term(_term_ids(session, "accessibility", (code,))))
    schedule = _schedule_condition(flt, today)
    if schedule is not None:
        where.append(schedule)
    if flt.attending:
        where.append(S.c.attending_type.in_(flt.attending))
    if flt.free_only:
        where.append(S.c.is_free == True)  # noqa: E712
    if flt.municipality_ids:
        where.append(S.c.municipality_id.in_(flt.municipality_ids))
    if flt.has_free_places:
        where.append(exists().where(CAP.c.service_id == S.c.id, CAP.c.available > 0))
    if flt.start == "rolling":
        where.append(S.c.rolling_start == True)  # noqa: E712
    elif flt.start == "fixed":
        course = exists().where(
            SC.c.service_id == S.c.id, or_(SC.c.count.is_not(None), SC.c.until.is_not(None))
        )
        where.append(and_(S.c.rolling_start == False, or_(S.c.start_date.is_not(None), course)))  # noqa: E712
    geo = _geo(session, flt)
    needs_location = False
    if geo is not None and flt.max_km is not None:
        needs_location = True
        dlat = flt.max_km / KM_PER_DEGREE
        dlon = dlat / geo.cos_lat
        # Bounding box first (cheap, one pass over places), then the exact distance on the point.
        in_box = (
            select(SAL.c.service_id)
            .select_from(SAL.join(L, L.c.id == SAL.c.location_id))
            .where(L.c.latitude.between(geo.lat - dlat, geo.lat + dlat))
            .where(L.c.longitude.between(geo.lon - dlon, geo.lon + dlon))
        )
        where.append(S.c.id.in_(in_box))
        where.append(geo.d2() <= dlat * dlat)
        where[0] = _public(indexed=False)
    return _Query(where, geo, needs_location, sqlite)


def _from(needs_location: bool):
    joined = S.join(O, O.c.id == S.c.organization_id)
    if needs_location:
        joined = joined.outerjoin(L, L.c.id == _point_location_id())
    return joined


# --- For other services (matching) -------------------------------------------------------------


def public_query(
    session, flt: DirectoryFilter, today: date
) -> tuple[list[ColumnElement], object, _Geo | None]:
    """The directory's conditions for `flt` (public activities only), the FROM clause they need and
    the reference point, for a service that narrows the directory further (matching) without
    repeating its SQL. With a reference point the FROM clause joins each activity's point place
    (`L`), so `geo.d2()` can order by distance and `L.c.latitude` / `L.c.longitude` be selected."""
    query = _build(session, flt, today)
    return query.where, _from(query.needs_location or query.geo is not None), query.geo


def schedule_condition(flt: DirectoryFilter, today: date) -> ColumnElement | None:
    """The SQL condition "has a current schedule on one of `flt`'s weekdays and times of day"."""
    return _schedule_condition(flt, today)


def schedule_rules(session, ids: list[int]) -> dict[int, list[schedules.Rule]]:
    """The activities' well-formed schedule rules (malformed imported rows are skipped)."""
    return {sid: _rules(rows) for sid, rows in _schedules_for(session, ids).items()}


# --- Search -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryRow:
    id: int
    name: str
    organization: str
    organization_id: int
    category: str | None
    category_code: str | None
    attending: str
    is_free: bool
    rolling_start: bool
    available: int | None
    maximum: int | None
    places_updated: datetime | None
    distance_km: float | None
    municipality: str | None
    schedule_text: str
    days_since_verified: int | None


def _order(flt: DirectoryFilter, query: _Query) -> list:
    name = func.lower(S.c.name)
    if flt.sort == "distance" and query.geo is not None:
        return [L.c.latitude.is_(None), query.geo.d2(), name, S.c.id]
    if flt.sort == "recently_verified":
        return [S.c.assured_date.is_(None), S.c.assured_date.desc(), name, S.c.id]
    words = flt.text.split()
    if words:  # activities whose name holds the first word come first
        return [~_like_any(S.c.name, words[0], query.sqlite), name, S.c.id]
    return [name, S.c.id]


@versioned_cache(DIRECTORY)
def search(
    flt: DirectoryFilter, *, page: int = 0, page_size: int = 25, lang: str = "sv", today: date | None = None
) -> tuple[list[DirectoryRow], int]:
    """One page of public activities matching `flt`, and how many match in all."""
    today = today or date.today()
    page_size = min(max(int(page_size), 1), 200)
    page = max(int(page), 0)
    with read_session() as s:
        query = _build(s, flt, today)
        sort_by_distance = flt.sort == "distance" and query.geo is not None
        # The page, then the total on its own: a window count would make SQL read every match
        # before the first 25, where the page alone walks the (status, approval, name) index.
        ids = list(
            s.scalars(
                select(S.c.id)
                .select_from(_from(query.needs_location or sort_by_distance))
                .where(*query.where)
                .order_by(*_order(flt, query))
                .limit(page_size)
                .offset(page * page_size)
            )
        )
        if page == 0 and len(ids) < page_size:
            total = len(ids)
        else:
            counted = select(func.count()).select_from(_from(query.needs_location)).where(*query.where)
            total = int(s.execute(counted).scalar_one())
        rows = _rows(s, ids, query.geo, lang, today)
    return rows, total


def _rows(session, ids: list[int], geo: _Geo | None, lang: str, today: date) -> list[DirectoryRow]:
    if not ids:
        return []
    point = _point_location_id().correlate(S)
    details = session.execute(
        select(
            S.c.id,
            S.c.name,
            O.c.name.label("org"),
            S.c.organization_id,
            S.c.attending_type,
            S.c.is_free,
            S.c.rolling_start,
            S.c.assured_date,
            Municipality.name.label("municipality"),
            CAP.c.available,
            CAP.c.maximum,
            CAP.c.updated,
            L.c.latitude,
            L.c.longitude,
        )
        .select_from(
            S.join(O, O.c.id == S.c.organization_id)
            .outerjoin(Municipality, Municipality.id == S.c.municipality_id)
            .outerjoin(CAP, CAP.c.service_id == S.c.id)
            .outerjoin(L, L.c.id == point)
        )
        .where(S.c.id.in_(ids))
    ).all()
    categories = _categories(session, ids, lang)
    texts = _schedule_texts(session, ids, lang)
    by_id = {}
    for r in details:
        code, label = categories.get(r.id, (None, None))
        by_id[r.id] = DirectoryRow(
            id=r.id,
            name=r.name,
            organization=r.org,
            organization_id=r.organization_id,
            category=label,
            category_code=code,
            attending=r.attending_type,
            is_free=bool(r.is_free),
            rolling_start=bool(r.rolling_start),
            available=r.available,
            maximum=r.maximum,
            places_updated=_aware(r.updated),
            distance_km=geo.km(r.latitude, r.longitude) if geo else None,
            municipality=r.municipality,
            schedule_text=texts.get(r.id, ""),
            days_since_verified=(today - r.assured_date).days if r.assured_date else None,
        )
    return [by_id[i] for i in ids if i in by_id]


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _categories(session, ids: list[int], lang: str) -> dict[int, tuple[str, str]]:
    out: dict[int, tuple[str, str]] = {}
    for sid, code, label in session.execute(
        select(A.c.service_id, T.c.code, _name_column(lang))
        .select_from(A.join(T, T.c.id == A.c.taxonomy_term_id))
        .where(A.c.service_id.in_(ids), T.c.taxonomy == "category")
        .order_by(A.c.service_id, A.c.id)
    ):
        out.setdefault(sid, (code, label))
    return out


def _schedules_for(session, ids: list[int]) -> dict[int, list[Schedule]]:
    out: dict[int, list[Schedule]] = {}
    for row in session.scalars(
        select(Schedule).where(Schedule.service_id.in_(ids)).order_by(Schedule.service_id, Schedule.id)
    ):
        out.setdefault(row.service_id, []).append(row)
    return out


def _rules(rows: list[Schedule]) -> list:
    rules = []
    for row in rows:
        try:
            rules.append(schedules.rule_from_row(row))
        except ValueError:
            continue  # a malformed imported schedule must not hide the activity
    return rules


def _schedule_texts(session, ids: list[int], lang: str) -> dict[int, str]:
    return {sid: schedules.describe(_rules(rows), lang) for sid, rows in _schedules_for(session, ids).items()}


# --- The activity page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    name: str | None
    address: str | None
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class Cost:
    option: str | None
    amount: float | None
    currency: str
    description: str | None


@dataclass(frozen=True)
class ActivityDetail:
    id: int
    name: str
    description: str
    organization: str
    organization_id: int
    organization_website: str | None
    categories: list[str]
    target_groups: list[str]
    accessibility: list[str]
    languages: list[str]
    attending: str
    url: str | None
    email: str | None
    schedule_text: str
    next_dates: list[tuple[datetime, datetime | None]]
    places: list[Place]
    online_urls: list[str]
    contact_name: str | None
    contact_title: str | None
    contact_phones: list[str]
    contact_email: str | None
    is_free: bool
    fees: str | None
    costs: list[Cost]
    eligibility: str | None
    minimum_age: int | None
    maximum_age: int | None
    rolling_start: bool
    start_date: date | None
    available: int | None
    maximum: int | None
    places_updated: datetime | None
    assured_date: date | None
    days_since_verified: int | None
    municipality: str | None
    public: bool
    approval_status: str
    status: str
    timezone: str = "Europe/Stockholm"


def may_edit(principal: Principal | None, organization_id: int) -> bool:
    """Managers and admins edit every activity; a partner only their own organisation's."""
    if principal is None:
        return False
    return principal.role in ("admin", "manager") or principal.serves_organization(organization_id)


def activity_detail(
    service_id: int,
    lang: str = "sv",
    *,
    principal: Principal | None = None,
    now: datetime | None = None,
) -> ActivityDetail:
    """Everything a connector needs to refer by phone. Activities that are not public (inactive or
    awaiting approval) are shown only to those who may edit them; for anyone else they don't exist."""
    now = now or datetime.now(UTC)
    with read_session() as s:
        row = s.execute(
            select(Service, Organization, Municipality.name)
            .join(Organization, Organization.id == Service.organization_id)
            .outerjoin(Municipality, Municipality.id == Service.municipality_id)
            .where(Service.id == service_id)
        ).first()
        if row is None:
            raise NotFound()
        service, org, municipality = row
        public = service.status == "active" and service.approval_status == "approved"
        if not public and not may_edit(principal, org.id):
            raise NotFound()
        terms: dict[str, list[str]] = {t: [] for t in TAXONOMIES}
        for taxonomy, label in s.execute(
            select(T.c.taxonomy, _name_column(lang))
            .select_from(A.join(T, T.c.id == A.c.taxonomy_term_id))
            .where(A.c.service_id == service_id)
            .order_by(T.c.taxonomy, A.c.id)
        ):
            terms.setdefault(taxonomy, []).append(label)
        places, online = _places(s, service_id)
        contact = s.execute(
            select(Contact).where(Contact.service_id == service_id).order_by(Contact.id).limit(1)
        ).scalar_one_or_none()
        phones = _phones(s, service_id, contact.id if contact else None)
        costs = [
            Cost(c.option, c.amount, c.currency, c.amount_description)
            for c in s.scalars(
                select(CostOption).where(CostOption.service_id == service_id).order_by(CostOption.id)
            )
        ]
        capacity = s.scalars(select(ServiceCapacity).where(ServiceCapacity.service_id == service_id)).first()
        rows = _schedules_for(s, [service_id]).get(service_id, [])
    rules = _rules(rows)
    today = now.astimezone(ZoneInfo(rows[0].timezone if rows else "Europe/Stockholm")).date()
    return ActivityDetail(
        id=service.id,
        name=service.name,
        description=service.description or "",
        organization=org.name,
        organization_id=org.id,
        organization_website=org.website,
        categories=terms["category"],
        target_groups=terms["target_group"],
        accessibility=terms["accessibility"],
        languages=terms["language"],
        attending=service.attending_type,
        url=service.url,
        email=service.email,
        schedule_text=schedules.describe(rules, lang) if rules else "",
        next_dates=schedules.next_occurrences(rules, now, 5) if rules else [],
        places=places,
        online_urls=online,
        contact_name=contact.name if contact else None,
        contact_title=contact.title if contact else None,
        contact_phones=phones,
        contact_email=contact.email if contact else None,
        is_free=service.is_free,
        fees=service.fees_description,
        costs=costs,
        eligibility=service.eligibility_description,
        minimum_age=service.minimum_age,
        maximum_age=service.maximum_age,
        rolling_start=service.rolling_start,
        start_date=service.start_date,
        available=capacity.available if capacity else None,
        maximum=capacity.maximum if capacity else None,
        places_updated=_aware(capacity.updated) if capacity else None,
        assured_date=service.assured_date,
        days_since_verified=(today - service.assured_date).days if service.assured_date else None,
        municipality=municipality,
        public=public,
        approval_status=service.approval_status,
        status=service.status,
        timezone=rows[0].timezone if rows else "Europe/Stockholm",
    )


def _places(session, service_id: int) -> tuple[list[Place], list[str]]:
    places, online = [], []
    for location, address in session.execute(
        select(Location, Address)
        .join(ServiceAtLocation, ServiceAtLocation.location_id == Location.id)
        .outerjoin(Address, Address.location_id == Location.id)
        .where(ServiceAtLocation.service_id == service_id)
        .order_by(Location.id)
    ):
        if location.location_type == "virtual" or (location.url and location.latitude is None):
            if location.url and location.url not in online:
                online.append(location.url)
            continue
        text = None
        if address is not None:
            text = ", ".join(
                p for p in (address.address_1, f"{address.postal_code} {address.city}".strip()) if p
            )
        places.append(Place(location.name, text, location.latitude, location.longitude))
    return places, online


def _phones(session, service_id: int, contact_id: int | None) -> list[str]:
    condition = Phone.service_id == service_id
    if contact_id is not None:
        condition = or_(Phone.contact_id == contact_id, condition)
    return list(
        dict.fromkeys(session.scalars(select(Phone.number).where(condition).order_by(Phone.id)).all())
    )


# --- Map ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapData:
    """Either points (one per activity) or grid cells (counts) when more than `limit` match."""

    mode: str  # "points" | "cells"
    total: int  # matching activities with a place on the map
    without_place: int  # matching activities with no coordinates (online)
    points: list[dict]
    cells: list[dict]
    cell_km: float | None = None


@versioned_cache(DIRECTORY)
def map_points(
    flt: DirectoryFilter,
    limit: int = MAP_LIMIT,
    *,
    lang: str = "sv",
    today: date | None = None,
    cell_deg: float = 0.05,
    cell_limit: int = CELL_LIMIT,
) -> MapData:
    """Compact map rows: id, lat, lon, category code and name; above `limit` activities, counts
    per grid cell (from about 5 km, doubled until at most min(limit, cell_limit) cells) instead, so
    a render never carries more than that many features."""
    today = today or date.today()
    with read_session() as s:
        query = _build(s, flt, today)
        base = _from(True)
        located = [*query.where, L.c.latitude.is_not(None)]
        counts = s.execute(
            select(func.count(), func.count(L.c.latitude)).select_from(base).where(*query.where)
        ).one()
        total, on_map = int(counts[0]), int(counts[1])
        if on_map <= limit:
            category = (
                select(func.min(T.c.code))
                .select_from(A.join(T, T.c.id == A.c.taxonomy_term_id))
                .where(A.c.service_id == S.c.id, T.c.taxonomy == "category")
                .scalar_subquery()
            )
            points = [
                {
                    "id": r.id,
                    "lat": round(r.latitude, 5),
                    "lon": round(r.longitude, 5),
                    "cat": r.cat or "",
                    "name": r.name[:80],
                    "org": r.org[:80],
                }
                for r in s.execute(
                    select(
                        S.c.id,
                        L.c.latitude,
                        L.c.longitude,
                        category.label("cat"),
                        S.c.name,
                        O.c.name.label("org"),
                    )
                    .select_from(base)
                    .where(*located)
                    .order_by(S.c.id)
                    .limit(limit)
                )
            ]
            return MapData("points", on_map, total - on_map, points, [])
        size = cell_deg
        while True:
            gy = _cell(L.c.latitude, size, 90.0)
            gx = _cell(L.c.longitude, size, 180.0)
            cells = [
                {"lat": round(float(r.lat), 5), "lon": round(float(r.lon), 5), "count": int(r.n)}
                for r in s.execute(
                    select(
                        func.avg(L.c.latitude).label("lat"),
                        func.avg(L.c.longitude).label("lon"),
                        func.count().label("n"),
                    )
                    .select_from(base)
                    .where(*located)
                    .group_by(gy, gx)
                )
            ]
            if len(cells) <= min(limit, cell_limit) or size > 10:
                break
            size *= 2
    return MapData("cells", on_map, total - on_map, [], cells, cell_km=round(size * KM_PER_DEGREE, 1))


def _cell(column, size: float, offset: float):
    """Grid cell index of a coordinate; CAST of a positive number (offset) truncates on SQLite and
    rounds on Postgres, which only shifts the grid by half a cell."""
    return cast((column + offset) / size, Integer)


# --- Week view --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimetableEntry:
    service_id: int
    name: str
    organization: str
    start: datetime
    end: datetime | None
    attending: str


@dataclass(frozen=True)
class Timetable:
    week_start: date
    days: list[tuple[date, list[TimetableEntry]]]
    activities: int  # activities considered (at most the cap)
    total: int  # activities matching the filter
    capped: bool
    anytime: list[tuple[int, str]]  # matching activities without fixed times (rolling start)


@versioned_cache(DIRECTORY)
def timetable(
    flt: DirectoryFilter, week_start: date, *, cap: int = TIMETABLE_CAP, lang: str = "sv"
) -> Timetable:
    """Occurrences of the filtered activities in the week from `week_start` (Monday), for at most
    `cap` activities (in the list's order): a week view of more is not readable anyway."""
    week_start = week_start - timedelta(days=week_start.weekday())
    with read_session() as s:
        query = _build(s, flt, week_start)
        total = int(
            s.execute(
                select(func.count()).select_from(_from(query.needs_location)).where(*query.where)
            ).scalar_one()
        )
        sort_by_distance = flt.sort == "distance" and query.geo is not None
        picked = s.execute(
            select(S.c.id, S.c.name, O.c.name.label("org"), S.c.attending_type, S.c.rolling_start)
            .select_from(_from(query.needs_location or sort_by_distance))
            .where(*query.where)
            .order_by(*_order(flt, query))
            .limit(cap)
        ).all()
        by_service = _schedules_for(s, [r.id for r in picked])
    entries: dict[date, list[TimetableEntry]] = {week_start + timedelta(days=i): [] for i in range(7)}
    anytime: list[tuple[int, str]] = []
    for r in picked:
        rows = by_service.get(r.id, [])
        if r.rolling_start or all(row.opens_at is None for row in rows):
            anytime.append((r.id, r.name))
            continue
        tz = ZoneInfo(rows[0].timezone or "Europe/Stockholm")
        start = datetime.combine(week_start, time(0), tz)
        end = start + timedelta(days=7)
        for begin, finish in schedules.occurrences_between(_rules(rows), start, end):
            local = begin.astimezone(tz)
            if local.date() in entries:
                entries[local.date()].append(
                    TimetableEntry(
                        r.id,
                        r.name,
                        r.org,
                        local,
                        finish.astimezone(tz) if finish else None,
                        r.attending_type,
                    )
                )
    days = [(day, sorted(items, key=lambda e: (e.start, e.name))) for day, items in entries.items()]
    return Timetable(week_start, days, len(picked), total, total > len(picked), anytime)
