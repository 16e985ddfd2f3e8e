"""Suggesting activities for a patient, the patient's shortlist, and the printable shortlist.

Connectors of the patient's centre only; every read and write is audited with the patient's
pseudonym, and so is every denial. Candidates come from SQL, bounded (the need's categories,
public, not full, verified recently, the right ages, within a distance of the patient's health
centre, at most CANDIDATE_LIMIT per branch), so this stays fast at national size; the ranking
and its reasons are `domain.matching`'s.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlparse

from sqlalchemy import and_, exists, func, not_, or_, select
from sqlalchemy.exc import IntegrityError

from db.data_version import DIRECTORY, versioned_cache
from db.engine import read_session, write_session
from db.models import (
    Contact,
    HealthCentre,
    Organization,
    Patient,
    PatientNeed,
    Phone,
    Service,
    ShortlistItem,
)
from domain import matching as dm
from domain import schedules
from domain.care import NEEDS
from locales import LANGUAGES, translate
from services import audit, scope
from services.directory import (
    CAP,
    MAX_KM,
    SC,
    WEEKDAYS,
    A,
    DirectoryFilter,
    L,
    S,
    T,
    activity_detail,
    public_query,
    schedule_condition,
    schedule_rules,
)
from services.errors import AccessDenied, NotFound, ValidationError
from services.principal import Principal
from settings import get_settings

DEFAULT_KM = 25.0
CANDIDATE_LIMIT = 300  # per branch (near places, online): what SQL hands to the ranking at most
MAX_LIMIT = 100
SHORTLIST_CAP = 50
DOCUMENT_CAP = 30


@dataclass(frozen=True)
class Suggestion:
    service_id: int
    name: str
    organization: str
    score: float
    reasons: tuple[tuple, ...]
    need: str | None  # the patient's need this activity meets (for the referral), if any
    category: str | None
    attending: str
    distance_km: float | None
    next_start: datetime | None
    next_end: datetime | None
    available: int | None
    maximum: int | None
    is_free: bool
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None
    shortlisted: bool = False
    favourite: bool = False


@dataclass(frozen=True)
class ShortlistEntry:
    service_id: int
    name: str
    organization: str
    favourite: bool
    added_at: datetime
    public: bool  # still active and approved
    available: int | None


@dataclass(frozen=True)
class PatientFacts:
    """What matching knows about a patient (read with the same permission check)."""

    id: int
    pseudonym: str
    centre_id: int
    centre_code: str
    centre_point: tuple[float, float] | None
    birth_year: int | None
    age: int | None
    sex: str | None
    preferred_language: str
    interests: str
    needs: tuple[str, ...]

    @property
    def age_group(self) -> str | None:
        return dm.age_group(self.age)


# --- Access ---------------------------------------------------------------------------------------


def _deny(principal: Principal | None, action: str, *, pseudonym: str | None = None, care_unit=None):
    audit.record_now(principal, action, "denied", patient_pseudonym=pseudonym, care_unit=care_unit)
    return AccessDenied()


def _valid_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise NotFound()
    return value


def _patient(principal: Principal | None, patient_id: int, action: str, today: date) -> PatientFacts:
    """The patient if `principal` is a connector of the patient's centre; else audited denial."""
    if principal is None or principal.role != "connector":
        raise _deny(principal, action, care_unit=None)
    try:
        patient_id = _valid_id(patient_id)
    except NotFound:
        audit.record_now(principal, action, "not_found", detail=f"id={patient_id!r}"[:60])
        raise
    with read_session() as s:
        row = s.execute(
            select(Patient, HealthCentre.code, HealthCentre.latitude, HealthCentre.longitude)
            .join(HealthCentre, HealthCentre.id == Patient.centre_id)
            .where(Patient.id == patient_id)
        ).first()
        scope.check_patient(principal, row[0] if row else None, action, care_unit=row[1] if row else None,
                            ref=f"id={patient_id}")
        needs = list(
            s.scalars(
                select(PatientNeed.need)
                .where(PatientNeed.patient_id == patient_id)
                .order_by(PatientNeed.recorded_at, PatientNeed.id)
            )
        )
    patient, code, lat, lon = row
    age = today.year - patient.birth_year if patient.birth_year else None
    return PatientFacts(
        id=patient.id,
        pseudonym=patient.pseudonym,
        centre_id=patient.centre_id,
        centre_code=code,
        centre_point=(lat, lon) if lat is not None and lon is not None else None,
        birth_year=patient.birth_year,
        age=age,
        sex=patient.sex,
        preferred_language=patient.preferred_language or "sv",
        interests=patient.interests or "",
        needs=tuple(dict.fromkeys(n for n in needs if n in NEEDS)),
    )


def patient_facts(principal: Principal, patient_id: int, *, today: date | None = None) -> PatientFacts:
    """The patient's matching profile (needs, age, language, interests); audited as a read."""
    facts = _patient(principal, patient_id, "matching.profile", today or date.today())
    with write_session() as s:
        audit.record(s, principal, "matching.profile", patient_pseudonym=facts.pseudonym)
    return facts


# --- Suggestions ----------------------------------------------------------------------------------


def _clean_filters(mode, weekdays, time_of_day, max_km, limit) -> tuple[str, tuple, tuple, float | None, int]:
    errors: dict[str, tuple[str, dict]] = {}
    mode = mode or "any"
    if mode not in dm.MODES:
        errors["mode"] = ("error.invalid_choice", {})
    days: tuple[str, ...] = ()
    if weekdays:
        raw = [weekdays] if isinstance(weekdays, str) else list(weekdays)
        codes = [str(d).upper() for d in raw]
        by_short = {v: k for k, v in dm.DAY_CODES.items()}
        codes = [by_short.get(c.lower(), c) for c in codes]
        if any(c not in WEEKDAYS for c in codes):
            errors["weekdays"] = ("error.invalid_choice", {})
        days = tuple(d for d in WEEKDAYS if d in codes)
    times: tuple[str, ...] = ()
    if time_of_day:
        raw_times = [time_of_day] if isinstance(time_of_day, str) else list(time_of_day)
        if any(x not in dm.TIMES_OF_DAY for x in raw_times):
            errors["time_of_day"] = ("error.invalid_choice", {})
        times = tuple(x for x in dm.TIMES_OF_DAY if x in raw_times)
    km = None
    if max_km is not None:
        try:
            km = float(max_km)
        except (TypeError, ValueError):
            km = float("nan")
        if not (0 < km <= MAX_KM):
            errors["max_km"] = ("matching.error_km", {"max": int(MAX_KM)})
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = ("error.invalid_input", {})
    if errors:
        raise ValidationError(errors)
    return mode, days, times, km, limit


def _prefilter(flt_days: DirectoryFilter, facts: PatientFacts | _Place, today: date, stale_days: int) -> list:
    """SQL conditions that only ever leave out what the ranking would leave out too."""
    full = exists().where(CAP.c.service_id == S.c.id, CAP.c.available <= 0)
    where = [not_(full), S.c.assured_date >= today - timedelta(days=stale_days)]
    if facts.age is not None:
        where.append(or_(S.c.minimum_age.is_(None), S.c.minimum_age <= facts.age))
        where.append(or_(S.c.maximum_age.is_(None), S.c.maximum_age >= facts.age))
    if flt_days.weekdays or flt_days.times_of_day:
        # On a chosen day/time, or with no fixed days/times at all (rolling, by arrangement).
        fixed_day = exists().where(
            SC.c.service_id == S.c.id, or_(SC.c.byday.is_not(None), SC.c.freq == "DAILY")
        )
        fixed_time = exists().where(SC.c.service_id == S.c.id, SC.c.opens_at.is_not(None))
        loose = not_(fixed_day) if flt_days.weekdays else not_(fixed_time)
        if flt_days.weekdays and flt_days.times_of_day:
            loose = and_(not_(fixed_day), not_(fixed_time))
        where.append(or_(schedule_condition(flt_days, today), loose))
    return where


def _candidate_ids(s, facts: PatientFacts | _Place, profile: dm.Profile, today: date, stale_days: int):
    """(service id, distance km or None) of at most CANDIDATE_LIMIT near and CANDIDATE_LIMIT online
    public activities in the needs' categories, nearest first."""
    when = DirectoryFilter(weekdays=profile.weekdays, times_of_day=profile.times_of_day)
    extra = _prefilter(when, facts, today, stale_days)
    categories = profile.categories
    found: dict[int, float | None] = {}
    if profile.mode != "online" and facts.centre_point is not None:
        flt = DirectoryFilter(
            categories=categories,
            attending=("in_person", "hybrid"),
            near=facts.centre_point,
            max_km=profile.max_km or DEFAULT_KM,
        )
        where, from_, geo = public_query(s, flt, today)
        for sid, lat, lon in s.execute(
            select(S.c.id, L.c.latitude, L.c.longitude)
            .select_from(from_)
            .where(*where, *extra)
            .order_by(geo.d2(), S.c.id)
            .limit(CANDIDATE_LIMIT)
        ):
            found[sid] = geo.km(lat, lon)
    if profile.mode != "in_person":
        attending = ("online", "hybrid") if profile.mode == "online" else ("online",)
        where, from_, _ = public_query(s, DirectoryFilter(categories=categories, attending=attending), today)
        for (sid,) in s.execute(
            select(S.c.id)
            .select_from(from_)
            .where(*where, *extra)
            .order_by(S.c.assured_date.desc(), S.c.id)
            .limit(CANDIDATE_LIMIT)
        ):
            found.setdefault(sid, None)
    return found


def _candidates(s, found: dict[int, float | None], today: date) -> tuple[list[dm.Candidate], dict, dict]:
    ids = list(found)
    if not ids:
        return [], {}, {}
    terms: dict[int, dict[str, list[str]]] = {sid: {} for sid in ids}
    for sid, taxonomy, code in s.execute(
        select(A.c.service_id, T.c.taxonomy, T.c.code)
        .select_from(A.join(T, T.c.id == A.c.taxonomy_term_id))
        .where(A.c.service_id.in_(ids))
        .order_by(A.c.service_id, A.c.id)
    ):
        terms[sid].setdefault(taxonomy, []).append(code)
    rules = schedule_rules(s, ids)
    rows = s.execute(
        select(
            S.c.id,
            S.c.name,
            S.c.description,
            S.c.attending_type,
            S.c.is_free,
            S.c.status,
            S.c.approval_status,
            S.c.assured_date,
            S.c.minimum_age,
            S.c.maximum_age,
            S.c.eligibility_description,
            Organization.name.label("org"),
            CAP.c.available,
            CAP.c.maximum,
        )
        .select_from(
            S.join(Organization, Organization.id == S.c.organization_id).outerjoin(
                CAP, CAP.c.service_id == S.c.id
            )
        )
        .where(S.c.id.in_(ids))
    ).all()
    candidates, extras = [], {}
    for r in rows:
        days, times = dm.schedule_days(rules.get(r.id, []), today)
        own = terms.get(r.id, {})
        candidates.append(
            dm.Candidate(
                id=r.id,
                name=r.name,
                description=r.description or "",
                categories=tuple(own.get("category", ())),
                target_groups=tuple(own.get("target_group", ())),
                languages=tuple(own.get("language", ())),
                attending=r.attending_type,
                weekdays=days,
                times_of_day=times,
                distance_km=found[r.id],
                is_free=bool(r.is_free),
                available=r.available,
                status=r.status,
                approval_status=r.approval_status,
                assured_date=r.assured_date,
                minimum_age=r.minimum_age,
                maximum_age=r.maximum_age,
                eligibility=r.eligibility_description,
            )
        )
        extras[r.id] = (r.org, r.maximum)
    return candidates, extras, rules


def _contacts(s, ids: list[int]) -> dict[int, tuple[str | None, str | None, str | None]]:
    """service id -> (name, first phone, e-mail) of its first contact person."""
    out: dict[int, tuple[str | None, str | None, str | None]] = {}
    if not ids:
        return out
    first = (
        select(Contact.service_id, func.min(Contact.id).label("cid"))
        .where(Contact.service_id.in_(ids))
        .group_by(Contact.service_id)
        .subquery()
    )
    contact_ids: dict[int, int] = {}
    for sid, cid, name, email in s.execute(
        select(first.c.service_id, Contact.id, Contact.name, Contact.email).join(
            Contact, Contact.id == first.c.cid
        )
    ):
        out[sid] = (name, None, email)
        contact_ids[cid] = sid
    phones: dict[int, str] = {}
    for contact_id, service_id, number in s.execute(
        select(Phone.contact_id, Phone.service_id, Phone.number)
        .where(or_(Phone.contact_id.in_(list(contact_ids) or [-1]), Phone.service_id.in_(ids)))
        .order_by(Phone.id)
    ):
        sid = contact_ids.get(contact_id) if contact_id in contact_ids else service_id
        if sid is not None and sid not in phones:
            phones[sid] = number
    for sid in ids:
        name, _, email = out.get(sid, (None, None, None))
        out[sid] = (name, phones.get(sid), email)
    return out


def _need_for(profile: dm.Profile, categories: Iterable[str]) -> str | None:
    codes = set(categories)
    return next((need for need in profile.needs if codes & set(NEEDS[need])), None)


@dataclass(frozen=True)
class _Place:
    """What the candidate queries need of the patient: where their centre is, and their age."""

    centre_point: tuple[float, float] | None
    age: int | None


@versioned_cache(DIRECTORY, max_entries=512)
def _ranked(
    centre_point: tuple[float, float] | None,
    age: int | None,
    profile: dm.Profile,
    today: date,
    stale_days: int,
    limit: int,
) -> tuple[tuple[dm.Match, ...], int, dict, dict, dict]:
    """The ranked suggestions for a profile, from public directory data only, cached under the
    directory tables' data version (a write in any replica is seen by the next call): a connector's
    rerun of the page, or a second connector with the same patient profile, reads one small row.
    The caller has checked the access; the key holds the profile (never the patient or principal).
    (matches, how many candidates, id -> (organisation, maximum), id -> schedule rules, id -> contact);
    shared between callers: never mutated."""
    with read_session() as s:
        found = _candidate_ids(s, _Place(centre_point, age), profile, today, stale_days)
        candidates, extras, rules = _candidates(s, found, today)
        ranked = dm.rank(profile, candidates, today=today, stale_days=stale_days, limit=limit)
        picked = [m.candidate.id for m in ranked]
        contacts = _contacts(s, picked)
    return (
        tuple(ranked),
        len(candidates),
        {sid: extras[sid] for sid in picked},
        {sid: rules[sid] for sid in picked if sid in rules},
        contacts,
    )


def suggest(
    principal: Principal,
    patient_id: int,
    *,
    mode: str | None = None,
    weekdays: Iterable[str] | str | None = None,
    time_of_day: Iterable[str] | str | None = None,
    max_km: float | None = None,
    limit: int = 20,
    today: date | None = None,
    now: datetime | None = None,
) -> list[Suggestion]:
    """Activities for the patient, best first, each with the reasons it is suggested."""
    now = now or datetime.now(UTC)
    today = today or date.today()
    facts = _patient(principal, patient_id, "matching.suggest", today)
    mode, days, times, km, limit = _clean_filters(mode, weekdays, time_of_day, max_km, limit)
    stale_days = get_settings().stale_days
    profile = dm.Profile(
        needs=facts.needs,
        interests=facts.interests,
        age=facts.age,
        sex=facts.sex,
        language=facts.preferred_language,
        mode=mode,
        weekdays=days,
        times_of_day=times,
        max_km=km or DEFAULT_KM,
    )
    ranked, n_candidates, extras, rules, contacts = _ranked(
        facts.centre_point, facts.age, profile, today, stale_days, limit
    )
    with read_session() as s:
        kept = {
            sid: fav
            for sid, fav in s.execute(
                select(ShortlistItem.service_id, ShortlistItem.favourite).where(
                    ShortlistItem.patient_id == facts.id
                )
            )
        }
    out = []
    for match in ranked:
        c = match.candidate
        upcoming = schedules.next_occurrences(rules.get(c.id, []), now, 1) if rules.get(c.id) else []
        org, maximum = extras[c.id]
        name, phone, email = contacts.get(c.id, (None, None, None))
        out.append(
            Suggestion(
                service_id=c.id,
                name=c.name,
                organization=org,
                score=match.score,
                reasons=match.reasons,
                need=_need_for(profile, c.categories),
                category=c.categories[0] if c.categories else None,
                attending=c.attending,
                distance_km=c.distance_km,
                next_start=upcoming[0][0] if upcoming else None,
                next_end=upcoming[0][1] if upcoming else None,
                available=c.available,
                maximum=maximum,
                is_free=c.is_free,
                contact_name=name,
                contact_phone=phone,
                contact_email=email,
                shortlisted=c.id in kept,
                favourite=bool(kept.get(c.id)),
            )
        )
    with write_session() as s:
        audit.record(
            s,
            principal,
            "matching.suggest",
            patient_pseudonym=facts.pseudonym,
            detail=f"n={len(out)} candidates={n_candidates} mode={mode} km={profile.max_km:g}",
        )
    return out


# --- Shortlist --------------------------------------------------------------------------------------


def _entries(s, patient_id: int) -> list[ShortlistEntry]:
    rows = s.execute(
        select(
            ShortlistItem,
            Service.name,
            Service.status,
            Service.approval_status,
            Organization.name,
            CAP.c.available,
        )
        .join(Service, Service.id == ShortlistItem.service_id)
        .join(Organization, Organization.id == Service.organization_id)
        .outerjoin(CAP, CAP.c.service_id == Service.id)
        .where(ShortlistItem.patient_id == patient_id)
        .order_by(ShortlistItem.favourite.desc(), ShortlistItem.added_at, ShortlistItem.id)
        .limit(SHORTLIST_CAP)
    ).all()
    return [
        ShortlistEntry(
            service_id=item.service_id,
            name=name,
            organization=org,
            favourite=bool(item.favourite),
            added_at=item.added_at if item.added_at.tzinfo else item.added_at.replace(tzinfo=UTC),
            public=status == "active" and approval == "approved",
            available=available,
        )
        for item, name, status, approval, org, available in rows
    ]


def shortlist(principal: Principal, patient_id: int) -> list[ShortlistEntry]:
    """The patient's shortlist, favourites first."""
    facts = _patient(principal, patient_id, "matching.shortlist", date.today())
    with read_session() as s:
        entries = _entries(s, facts.id)
    with write_session() as s:
        audit.record(s, principal, "matching.shortlist", patient_pseudonym=facts.pseudonym)
    return entries


def _service_id(value: object) -> int:
    try:
        return _valid_id(value)
    except NotFound:
        raise ValidationError({"service_id": ("error.not_found", {})}) from None


def _public_service(s, service_id: int) -> Service:
    service = s.get(Service, service_id)
    if service is None or service.status != "active" or service.approval_status != "approved":
        raise ValidationError({"service_id": ("error.not_found", {})})
    return service


def _keep(principal: Principal, patient_id: int, service_id: int, favourite: bool | None, action: str):
    facts = _patient(principal, patient_id, action, date.today())
    service_id = _service_id(service_id)
    for attempt in (1, 2):
        try:
            with write_session() as s:
                item = s.execute(
                    select(ShortlistItem).where(
                        ShortlistItem.patient_id == facts.id, ShortlistItem.service_id == service_id
                    )
                ).scalar_one_or_none()
                if item is None:
                    service = _public_service(s, service_id)
                    item = ShortlistItem(
                        patient_id=facts.id,
                        service_id=service.id,
                        favourite=bool(favourite),
                        user_id=principal.user_id,
                    )
                    s.add(item)
                    outcome = "added"
                elif favourite is not None and item.favourite != favourite:
                    item.favourite = favourite
                    s.add(item)
                    outcome = "changed"
                else:
                    outcome = "unchanged"
                s.flush()
                audit.record(
                    s,
                    principal,
                    action,
                    patient_pseudonym=facts.pseudonym,
                    detail=f"service={service_id} favourite={item.favourite} {outcome}",
                )
                entries = _entries(s, facts.id)
            break
        except IntegrityError:  # added at the same moment elsewhere: read it again
            if attempt == 2:
                raise
    return next(e for e in entries if e.service_id == service_id)


def add_to_shortlist(
    principal: Principal, patient_id: int, service_id: int, favourite: bool = False
) -> ShortlistEntry:
    """Put the activity on the patient's shortlist (a second call changes nothing; favourite=True
    also marks an existing entry as favourite)."""
    return _keep(principal, patient_id, service_id, True if favourite else None, "matching.shortlist_add")


def set_favourite(principal: Principal, patient_id: int, service_id: int, favourite: bool) -> ShortlistEntry:
    """Mark or unmark a favourite; a favourite is always on the shortlist (added if needed)."""
    if not isinstance(favourite, bool):
        raise ValidationError({"favourite": ("error.invalid_input", {})})
    return _keep(principal, patient_id, service_id, favourite, "matching.favourite")


def remove_from_shortlist(principal: Principal, patient_id: int, service_id: int) -> bool:
    """Take the activity off the shortlist; True if it was there (removing twice is harmless)."""
    facts = _patient(principal, patient_id, "matching.shortlist_remove", date.today())
    service_id = _service_id(service_id)
    with write_session() as s:
        item = s.execute(
            select(ShortlistItem).where(
                ShortlistItem.patient_id == facts.id, ShortlistItem.service_id == service_id
            )
        ).scalar_one_or_none()
        if item is not None:
            s.delete(item)
        audit.record(
            s,
            principal,
            "matching.shortlist_remove",
            patient_pseudonym=facts.pseudonym,
            detail=f"service={service_id} {'removed' if item else 'absent'}",
        )
    return item is not None


# --- The printable shortlist ---------------------------------------------------------------------------

_STYLE = """
body{font-family:Georgia,'Times New Roman',serif;max-width:46em;margin:2em auto;padding:0 1em;
color:#111;line-height:1.45;font-size:12pt}
h1{font-size:1.6em;margin-bottom:.2em}
.intro{color:#333;margin-top:0}
section{border-top:1px solid #999;padding:.6em 0 .8em;page-break-inside:avoid}
h2{font-size:1.25em;margin:.3em 0}
.org{color:#444;margin:0 0 .4em}
.fav{font-size:.8em;border:1px solid #555;border-radius:3px;padding:0 .3em;margin-left:.4em}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:.5em 0}
dt{font-weight:bold}
dd{margin:0}
footer{border-top:1px solid #999;margin-top:1em;padding-top:.5em;font-size:.85em;color:#444}
@media print{body{margin:0;max-width:none}a{color:#111}}
""".strip()


def _safe_url(url: str | None) -> str | None:
    if not url:
        return None
    parsed = urlparse(url.strip())
    return url.strip() if parsed.scheme in ("http", "https") and parsed.netloc else None


def document_filename(pseudonym: str, today: date) -> str:
    """The printable shortlist's file name: pseudonym and date, no identity."""
    safe = "".join(ch for ch in pseudonym if ch.isascii() and ch.isalnum())[:20]
    return f"lotsa-{safe}-{today.isoformat()}.html"


def _document_language(facts: PatientFacts, principal: Principal) -> str:
    if facts.preferred_language in LANGUAGES:
        return facts.preferred_language
    return principal.language if principal.language in LANGUAGES else "sv"


def _item_html(item, favourite: bool, lang: str, today: date) -> str:
    e = html.escape

    def tr(key: str, **params) -> str:
        return translate(f"matching.doc_{key}", lang, **params)

    rows: list[tuple[str, str]] = []
    when = item.schedule_text or tr("by_arrangement")
    if item.next_dates:
        start, end = item.next_dates[0]
        when += " — " + tr("next", date=schedules.format_occurrence(start, end, lang, today))
    rows.append((tr("when"), e(when)))
    places = []
    for place in item.places:
        places.append(e(", ".join(p for p in (place.name, place.address) if p)))
    for url in item.online_urls:
        safe = _safe_url(url)
        places.append(f'{e(tr("online"))}: <a href="{e(safe)}">{e(safe)}</a>' if safe else e(url))
    rows.append((tr("where"), "<br>".join(places) or e(tr("no_place"))))
    costs = []
    if item.is_free:
        costs.append(e(tr("free")))
    for cost in item.costs:
        amount = f"{cost.amount:g} {cost.currency}" if cost.amount is not None else ""
        costs.append(e(" · ".join(p for p in (cost.option or "", amount, cost.description or "") if p)))
    if item.fees and not item.costs:
        costs.append(e(item.fees))
    rows.append((tr("cost"), "<br>".join(c for c in costs if c) or e(tr("cost_unknown"))))
    contact = []
    if item.contact_name:
        title = f", {item.contact_title}" if item.contact_title else ""
        contact.append(e(item.contact_name + title))
    for number in item.contact_phones:
        contact.append(f'{e(tr("phone"))}: <a href="tel:{e(number.replace(" ", ""))}">{e(number)}</a>')
    if item.contact_email:
        contact.append(
            f'{e(tr("email"))}: <a href="mailto:{e(item.contact_email)}">{e(item.contact_email)}</a>'
        )
    rows.append((tr("contact"), "<br>".join(contact) or e(tr("no_contact"))))
    fav = f'<span class="fav">{e(tr("favourite"))}</span>' if favourite else ""
    dl = "".join(f"<dt>{e(label)}</dt><dd>{value}</dd>" for label, value in rows)
    description = f"<p>{e(item.description)}</p>" if item.description else ""
    return (
        f"<section><h2>{e(item.name)}{fav}</h2>"
        f'<p class="org">{e(item.organization)}</p>{description}<dl>{dl}</dl></section>'
    )


def shortlist_document(
    principal: Principal, patient_id: int, *, today: date | None = None
) -> tuple[str, str]:
    """(file name, printable self-contained HTML) of the shortlist in the patient's language (Swedish,
    Danish or English; otherwise the user's), with each activity's time, place, cost and contact."""
    today = today or date.today()
    facts = _patient(principal, patient_id, "matching.shortlist_document", today)
    lang = _document_language(facts, principal)
    with read_session() as s:
        entries = _entries(s, facts.id)[:DOCUMENT_CAP]
    now = datetime.now(UTC)
    sections = []
    for entry in entries:
        try:
            item = activity_detail(entry.service_id, lang, now=now)
        except NotFound:
            continue  # no longer public: not handed to the patient
        sections.append(_item_html(item, entry.favourite, lang, today))
    e = html.escape

    def tr(key: str, **params) -> str:
        return translate(f"matching.doc_{key}", lang, **params)

    body = "".join(sections) or f"<p>{e(tr('empty'))}</p>"
    document = (
        f'<!DOCTYPE html><html lang="{e(lang)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(tr('title'))}</title><style>{_STYLE}</style></head><body>"
        f'<h1>{e(tr("title"))}</h1><p class="intro">{e(tr("intro"))}</p>{body}'
        f"<footer>{e(tr('footer', date=today.isoformat()))}</footer></body></html>"
    )
    with write_session() as s:
        audit.record(
            s,
            principal,
            "matching.shortlist_document",
            patient_pseudonym=facts.pseudonym,
            detail=f"lang={lang} items={len(sections)}",
        )
    return document_filename(facts.pseudonym, today), document


__all__ = [
    "PatientFacts",
    "ShortlistEntry",
    "Suggestion",
    "add_to_shortlist",
    "document_filename",
    "patient_facts",
    "remove_from_shortlist",
    "set_favourite",
    "shortlist",
    "shortlist_document",
    "suggest",
]
