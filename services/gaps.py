"""Gap analysis (issue 5, item 5): needs against supply, for the municipalities a user may look at.

Scope: a manager sees the municipalities of their centres (through `dashboard_scope`, which fails
closed and audits); a partner only when one of their organisations has kind "municipality", for
that organisation's municipality. Any other partner gets `GapView(available=False)` and no data
(the refusal is audited as a denial); any other role is denied.

Demand (in the period): unmet needs recorded (UnmetNeed.recorded_on) in the municipalities, and
referrals made (Referral.created_on) by the centres in the municipalities, by need.
Supply (now): published activities (status active, approved) of the municipalities; by the
categories that meet each need (`domain.care.NEEDS`), by weekday and time of day of their
schedules (opening time before 12 morning, before 17 afternoon, else evening; a daily schedule
counts on every weekday), by municipality, and their free places (ServiceCapacity.available).

Counts of people (unmet needs, referrals) leave as `count_cell` text or through `protect_counts`
with the total, every shown one perturbed by its cell key (domain/cellkey.py: a referral's key is
its patient's record key; an unmet need, recorded without identity, has a key derived from its row
by `_unmet_key`); counts of activities and places are not about people and are shown as they are.
The demand side of a closed period is its protected release (services.dashboards.released).
On the map, need circles with fewer than k unmet needs are not drawn. Findings are made only from
groups of at least k unmet needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from sqlalchemy import BigInteger, and_, case, cast, func, literal, literal_column, or_
from sqlmodel import col, select

from db.engine import read_session
from db.models import (
    Attribute,
    HealthCentre,
    Location,
    Municipality,
    Organization,
    Patient,
    Referral,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceCapacity,
    TaxonomyTerm,
    UnmetNeed,
)
from domain.care import NEED_CODES, NEEDS
from domain.cellkey import RECORD_KEY_RANGE, perturb_counts, published_count
from domain.disclosure import TOTAL, protect_counts
from domain.matching import TIMES_OF_DAY
from domain.schedules import WEEKDAYS
from services.audit import record_now, require_role
from services.dashboards import (
    dashboard_scope,
    disclosure_rules,
    period,
    release_scope_key,
    released,
    scoped_cache,
)
from services.errors import AccessDenied
from services.principal import Principal

ACTION = "gaps.view"
MAX_POINTS = 10_000
GRID_DEGREES = 0.02  # about 2 km: the cell size when there are too many activity points
MAX_FINDINGS = 20


@dataclass(frozen=True)
class NeedRow:
    need: str
    unmet: str
    referrals: str
    categories: tuple[str, ...]
    activities: int
    free_places: int


@dataclass(frozen=True)
class WhenRow:
    kind: str  # "day" or "time"
    code: str  # MO..SU, morning/afternoon/evening
    unmet: str
    activities: int


@dataclass(frozen=True)
class AreaRow:
    municipality: str
    area: str  # "" for the whole municipality
    unmet: str
    activities: int | None  # None on area rows (supply is counted per municipality)
    free_places: int | None


@dataclass(frozen=True)
class Finding:
    need: str
    area: str
    municipality: str
    time_of_day: str | None
    age_group: str | None
    sex: str | None
    count: int  # at least k
    supply: int  # activities in the municipality meeting the need (at that time of day, if one)


@dataclass(frozen=True)
class GapView:
    available: bool
    municipalities: tuple[str, ...] = ()
    need_rows: tuple[NeedRow, ...] = ()
    unmet_total: str = "0"
    referral_total: str = "0"
    when_rows: tuple[WhenRow, ...] = ()
    area_rows: tuple[AreaRow, ...] = ()
    need_points: tuple[dict, ...] = ()  # lat, lon, name, org (text), count (>= k)
    activity_points: tuple[dict, ...] = ()  # lat, lon, name, org; or cells with count
    activity_cells: bool = False
    places: tuple[dict, ...] = ()  # municipality names for orientation
    findings: tuple[Finding, ...] = ()
    category_names: dict[str, tuple[str, str, str]] | None = None  # code -> (sv, da, en)

    def category(self, code: str, lang: str) -> str:
        names = (self.category_names or {}).get(code)
        if not names:
            return code
        return dict(zip(("sv", "da", "en"), names, strict=True)).get(lang, names[0])


def gaps(principal: Principal, start: date, end: date, centre_ids: tuple[int, ...] | None = None) -> GapView:
    """The gap analysis for the user's municipalities and the period."""
    principal = require_role(principal, "manager", "partner", action=ACTION)
    chosen = period(start, end)
    if principal.role == "partner" and centre_ids is not None:
        record_now(principal, ACTION, "denied", detail="partners choose no centres")
        raise AccessDenied()
    return _gaps(principal, chosen.start, chosen.end, centre_ids)


def _municipalities(principal: Principal, centre_ids: tuple[int, ...] | None) -> tuple[int, ...]:
    if principal.role == "manager":
        centres = dashboard_scope(principal, centre_ids, action=ACTION, roles=("manager",))
        with read_session() as s:
            return tuple(
                sorted(
                    set(
                        s.exec(
                            select(HealthCentre.municipality_id).where(col(HealthCentre.id).in_(centres))
                        ).all()
                    )
                )
            )
    with read_session() as s:
        ids = s.exec(
            select(Organization.municipality_id).where(
                col(Organization.id).in_(tuple(principal.organization_ids)),
                Organization.kind == "municipality",
                col(Organization.municipality_id).is_not(None),
            )
        ).all()
    munis = tuple(sorted(set(ids)))
    if munis:
        record_now(principal, "dashboard.view", "ok", detail=f"{ACTION} municipalities {list(munis)}")
    else:
        record_now(principal, ACTION, "denied", detail="no municipality organisation")
    return munis


KEY_MULTIPLIER = 2_654_435_761  # odd, near 2**32 / golden ratio: spreads consecutive ids


def _unmet_key():
    """The record key of an unmet need (a row without a person): its id scrambled into
    [0, RECORD_KEY_RANGE). Deterministic, so the same cell always shows the same value."""
    return (cast(UnmetNeed.id, BigInteger) * literal(KEY_MULTIPLIER, BigInteger)) % literal(
        RECORD_KEY_RANGE, BigInteger
    )


def _keysum(expr):
    return func.coalesce(func.sum(expr), 0)


def _shown(n: int, key_sum: int, rules) -> str:
    return published_count(n, key_sum, rules)[0]


def _active(munis: tuple[int, ...]):
    return and_(
        col(Service.municipality_id).in_(munis),
        Service.status == "active",
        Service.approval_status == "approved",
    )


def _in_categories(categories: tuple[str, ...]):
    return col(Service.id).in_(
        select(Attribute.service_id)
        .join(TaxonomyTerm, TaxonomyTerm.id == Attribute.taxonomy_term_id)
        .where(TaxonomyTerm.taxonomy == "category", col(TaxonomyTerm.code).in_(categories))
    )


def _time_bucket():
    return case(
        (col(Schedule.opens_at).is_(None), None),
        (Schedule.opens_at < time(12), "morning"),
        (Schedule.opens_at < time(17), "afternoon"),
        else_="evening",
    )


def _on_day(code: str):
    return or_(Schedule.freq == "DAILY", col(Schedule.byday).like(f"%{code}%"))


@scoped_cache(ttl_seconds=300)
def _gaps(principal: Principal, start: date, end: date, centre_ids: tuple[int, ...] | None) -> GapView:
    munis = _municipalities(principal, centre_ids)
    if not munis:
        return GapView(available=principal.role == "manager")
    rules = disclosure_rules()
    # A closed period's gap analysis is released once, supply included (as it was when first shown).
    return released(
        period(start, end),
        release_scope_key("m", munis),
        f"gaps:k{rules.k}",
        lambda: _compute_gaps(munis, start, end, rules),
    )


def _compute_gaps(munis: tuple[int, ...], start: date, end: date, rules) -> GapView:
    unmet_in = and_(
        col(UnmetNeed.municipality_id).in_(munis),
        UnmetNeed.recorded_on >= start,
        UnmetNeed.recorded_on <= end,
    )
    with read_session() as s:
        places = s.exec(
            select(Municipality.id, Municipality.name, Municipality.latitude, Municipality.longitude).where(
                col(Municipality.id).in_(munis)
            )
        ).all()
        muni_name = {p[0]: p[1] for p in places}
        category_names = {
            code: (sv, da, en)
            for code, sv, da, en in s.exec(
                select(
                    TaxonomyTerm.code, TaxonomyTerm.name_sv, TaxonomyTerm.name_da, TaxonomyTerm.name_en
                ).where(TaxonomyTerm.taxonomy == "category")
            ).all()
        }
        centres_in = select(HealthCentre.id).where(col(HealthCentre.municipality_id).in_(munis))

        # Demand by need
        unmet_by_need, unmet_keys = {}, {}
        for need, n, k in s.exec(
            select(UnmetNeed.need, func.count(), _keysum(_unmet_key()))
            .where(unmet_in)
            .group_by(UnmetNeed.need)
        ).all():
            unmet_by_need[need], unmet_keys[need] = int(n), int(k)
        referrals_by_need, referral_keys = {}, {}
        for need, n, k in s.exec(
            select(
                func.coalesce(Referral.need, literal_column("'other'")),
                func.count(),
                _keysum(Patient.record_key),
            )
            .join(Patient, Patient.id == Referral.patient_id)
            .where(
                col(Referral.centre_id).in_(centres_in),
                Referral.created_on >= start,
                Referral.created_on <= end,
                Referral.status != "entered-in-error",
            )
            .group_by(func.coalesce(Referral.need, literal_column("'other'")))
        ).all():
            referrals_by_need[need], referral_keys[need] = int(n), int(k)
        # Supply by need (distinct activities in the need's categories, and their free places)
        supply: dict[str, tuple[int, int]] = {}
        for need in NEED_CODES:
            categories = NEEDS[need]
            if not categories:
                supply[need] = (0, 0)
                continue
            n, free = s.exec(
                select(func.count(Service.id), func.coalesce(func.sum(ServiceCapacity.available), 0))
                .select_from(Service)
                .outerjoin(ServiceCapacity, ServiceCapacity.service_id == Service.id)
                .where(_active(munis), _in_categories(categories))
            ).one()
            supply[need] = (int(n or 0), int(free or 0))

        # When: demand by weekday and time of day; supply of distinct activities at each
        unmet_when = s.exec(
            select(UnmetNeed.days, UnmetNeed.time_of_day, func.count(), _keysum(_unmet_key()))
            .where(unmet_in)
            .group_by(UnmetNeed.days, UnmetNeed.time_of_day)
        ).all()
        scheduled = (
            select(Schedule.service_id).join(Service, Service.id == Schedule.service_id).where(_active(munis))
        )
        day_supply = {
            code: int(
                s.exec(
                    select(func.count(func.distinct(Schedule.service_id))).where(
                        col(Schedule.service_id).in_(scheduled), _on_day(code)
                    )
                ).one()
                or 0
            )
            for code in WEEKDAYS
        }
        tod_supply = {
            tod: int(
                s.exec(
                    select(func.count(func.distinct(Schedule.service_id))).where(
                        col(Schedule.service_id).in_(scheduled), _time_bucket() == tod
                    )
                ).one()
                or 0
            )
            for tod in TIMES_OF_DAY
        }

        # Where: unmet needs by municipality and area; supply by municipality
        unmet_area = s.exec(
            select(
                UnmetNeed.municipality_id,
                func.coalesce(UnmetNeed.area, literal_column("''")),
                func.count(),
                _keysum(_unmet_key()),
            )
            .where(unmet_in)
            .group_by(UnmetNeed.municipality_id, func.coalesce(UnmetNeed.area, literal_column("''")))
        ).all()
        supply_muni = {
            m: (int(n or 0), int(free or 0))
            for m, n, free in s.exec(
                select(
                    Service.municipality_id,
                    func.count(Service.id),
                    func.coalesce(func.sum(ServiceCapacity.available), 0),
                )
                .select_from(Service)
                .outerjoin(ServiceCapacity, ServiceCapacity.service_id == Service.id)
                .where(_active(munis))
                .group_by(Service.municipality_id)
            ).all()
        }

        # Map: need density per centre and area; activity points
        need_groups = s.exec(
            select(
                UnmetNeed.municipality_id,
                func.coalesce(UnmetNeed.area, literal_column("''")),
                HealthCentre.latitude,
                HealthCentre.longitude,
                func.count(),
                _keysum(_unmet_key()),
            )
            .select_from(UnmetNeed)
            .outerjoin(HealthCentre, HealthCentre.id == UnmetNeed.centre_id)
            .where(unmet_in)
            .group_by(
                UnmetNeed.municipality_id,
                func.coalesce(UnmetNeed.area, literal_column("''")),
                HealthCentre.latitude,
                HealthCentre.longitude,
            )
        ).all()
        located = (
            select(Location.latitude, Location.longitude, Service.name, Organization.name)
            .select_from(Service)
            .join(ServiceAtLocation, ServiceAtLocation.service_id == Service.id)
            .join(Location, Location.id == ServiceAtLocation.location_id)
            .join(Organization, Organization.id == Service.organization_id)
            .where(_active(munis), col(Location.latitude).is_not(None), col(Location.longitude).is_not(None))
        )
        n_points = s.exec(select(func.count()).select_from(located.subquery())).one()
        cells = n_points > MAX_POINTS
        if cells:
            lat_cell = func.round(Location.latitude / GRID_DEGREES)
            lon_cell = func.round(Location.longitude / GRID_DEGREES)
            point_rows = [
                {"lat": float(a) * GRID_DEGREES, "lon": float(b) * GRID_DEGREES, "count": int(n)}
                for a, b, n in s.exec(
                    select(lat_cell, lon_cell, func.count())
                    .select_from(Service)
                    .join(ServiceAtLocation, ServiceAtLocation.service_id == Service.id)
                    .join(Location, Location.id == ServiceAtLocation.location_id)
                    .where(_active(munis), col(Location.latitude).is_not(None))
                    .group_by(lat_cell, lon_cell)
                ).all()
            ]
        else:
            point_rows = [
                {"lat": round(a, 5), "lon": round(b, 5), "name": name, "org": org}
                for a, b, name, org in s.exec(located).all()
            ]

        # Findings: the finest groups with at least k unmet needs
        groups = s.exec(
            select(
                UnmetNeed.municipality_id,
                func.coalesce(UnmetNeed.area, literal_column("''")),
                UnmetNeed.need,
                UnmetNeed.time_of_day,
                UnmetNeed.age_group,
                UnmetNeed.sex,
                func.count(),
                _keysum(_unmet_key()),
            )
            .where(unmet_in)
            .group_by(
                UnmetNeed.municipality_id,
                func.coalesce(UnmetNeed.area, literal_column("''")),
                UnmetNeed.need,
                UnmetNeed.time_of_day,
                UnmetNeed.age_group,
                UnmetNeed.sex,
            )
            .having(func.count() >= rules.k)
            .order_by(func.count().desc())
            .limit(MAX_FINDINGS)
        ).all()
        findings = []
        for muni, area, need, tod, age, sex, n, key in groups:
            categories = NEEDS.get(need, ())
            found = 0
            if categories:
                q = select(func.count(func.distinct(Service.id))).select_from(Service)
                if tod in TIMES_OF_DAY:
                    q = q.join(Schedule, Schedule.service_id == Service.id).where(_time_bucket() == tod)
                found = int(s.exec(q.where(_active((muni,)), _in_categories(categories))).one() or 0)
            findings.append(
                Finding(
                    need,
                    area or muni_name.get(muni, ""),
                    muni_name.get(muni, ""),
                    tod,
                    age,
                    sex,
                    int(published_count(int(n), int(key), rules)[1] or 0),
                    found,
                )
            )

    # Protect and shape
    needs_shown = [n for n in NEED_CODES if unmet_by_need.get(n) or referrals_by_need.get(n)]
    unmet_p = perturb_counts(
        protect_counts({n: int(unmet_by_need.get(n, 0)) for n in needs_shown}, total=True, rules=rules),
        unmet_keys,
        rules,
    )
    ref_p = perturb_counts(
        protect_counts({n: int(referrals_by_need.get(n, 0)) for n in needs_shown}, total=True, rules=rules),
        referral_keys,
        rules,
    )
    need_rows = tuple(
        NeedRow(n, unmet_p.text[n], ref_p.text[n], NEEDS[n], supply[n][0], supply[n][1]) for n in needs_shown
    )
    day_counts = dict.fromkeys(WEEKDAYS, 0)
    tod_counts = dict.fromkeys(TIMES_OF_DAY, 0)
    day_keys = dict.fromkeys(WEEKDAYS, 0)
    tod_keys = dict.fromkeys(TIMES_OF_DAY, 0)
    for days, tod, n, key in unmet_when:
        for code in (days or "").split(","):
            if code in day_counts:
                day_counts[code] += int(n)
                day_keys[code] += int(key)
        if tod in tod_counts:
            tod_counts[tod] += int(n)
            tod_keys[tod] += int(key)
    when_rows = tuple(
        [WhenRow("day", c, _shown(day_counts[c], day_keys[c], rules), day_supply[c]) for c in WEEKDAYS]
        + [
            WhenRow("time", c, _shown(tod_counts[c], tod_keys[c], rules), int(tod_supply.get(c, 0)))
            for c in TIMES_OF_DAY
        ]
    )
    area_rows: list[AreaRow] = []
    for muni in sorted(munis, key=lambda m: muni_name.get(m, "")):
        per_area = {area: int(n) for m, area, n, _k in unmet_area if m == muni}
        area_keys = {area: int(k) for m, area, _n, k in unmet_area if m == muni}
        protected = perturb_counts(
            protect_counts(dict(sorted(per_area.items())), total=True, rules=rules), area_keys, rules
        )
        activities, free = supply_muni.get(muni, (0, 0))
        area_rows.append(
            AreaRow(
                muni_name.get(muni, ""),
                "",
                protected.text.get(TOTAL, "0") if per_area else "0",
                activities,
                free,
            )
        )
        area_rows += [
            AreaRow(muni_name.get(muni, ""), area, protected.text[area], None, None)
            for area in protected.labels
            if area
        ]
    fallback = {p[0]: (p[2], p[3]) for p in places}
    density: dict[tuple[float, float, str], int] = {}
    density_keys: dict[tuple[float, float, str], int] = {}
    for muni, area, lat, lon, n, k in need_groups:
        if lat is None:
            lat, lon = fallback.get(muni, (None, None))
        if lat is None:
            continue
        key = (round(float(lat), 5), round(float(lon), 5), area or muni_name.get(muni, ""))
        density[key] = density.get(key, 0) + int(n)
        density_keys[key] = density_keys.get(key, 0) + int(k)
    need_points = tuple(
        {"lat": lat, "lon": lon, "name": name, "org": text, "count": value}
        for (lat, lon, name), n in sorted(density.items())
        if n >= rules.k
        for text, value in (published_count(n, density_keys[(lat, lon, name)], rules),)
    )
    findings.sort(key=lambda f: (-f.count, f.supply, f.municipality, f.area, f.need))
    return GapView(
        available=True,
        municipalities=tuple(sorted(muni_name.values())),
        need_rows=need_rows,
        unmet_total=unmet_p.text.get(TOTAL, "0"),
        referral_total=ref_p.text.get(TOTAL, "0"),
        when_rows=when_rows,
        area_rows=tuple(area_rows),
        need_points=need_points,
        activity_points=tuple(point_rows),
        activity_cells=cells,
        places=tuple({"name": p[1], "lat": p[2], "lon": p[3]} for p in places),
        findings=tuple(findings),
        category_names=category_names,
    )
