"""Keeping the directory fresh: edit and create activities, free places, "still correct",
approvals, the stale list, the change history, and the public suggestion queue.

Every write checks the actor here, not in the page: a partner edits only their own organisations'
activities, managers and admins edit all and approve. Every change of a field is kept as a
ServiceChange row (who, when, field, old, new) in the same transaction as the change itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from db.engine import read_session, write_session
from db.models import (
    Address,
    Attribute,
    Contact,
    DirectorySuggestion,
    Location,
    Municipality,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceCapacity,
    ServiceChange,
    TaxonomyTerm,
    User,
)
from domain import validation as v
from domain.activities import ActivityData, clean_activity, outside_region, region_box
from domain.security import client_key
from services import audit
from services.errors import AccessDenied, NotFound, ServiceError, ValidationError
from services.principal import Principal
from settings import get_settings

EDITORS = ("admin", "manager", "partner")
MODERATORS = ("admin", "manager")
SUGGESTION_KINDS = ("new", "correction")
# The taxonomies an activity form sets, and the form field holding each one's codes.
TAXONOMY_FIELDS = {
    "category": "category",
    "target_group": "target_groups",
    "accessibility": "accessibility",
    "language": "languages",
}


class RateLimited(ServiceError):
    def __init__(self, per_hour: int) -> None:
        super().__init__("suggest.rate_limited", n=per_hour)


@dataclass(frozen=True)
class SaveResult:
    service_id: int
    changed: tuple[str, ...]
    warnings: tuple[tuple[str, dict], ...] = ()


@dataclass(frozen=True)
class Change:
    at: datetime
    user: str
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class UpkeepRow:
    id: int
    name: str
    organization: str
    organization_id: int
    approval_status: str
    status: str
    assured_date: date | None
    days_since_verified: int | None
    available: int | None
    maximum: int | None
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None


@dataclass(frozen=True)
class SuggestionRow:
    id: int
    kind: str
    service_id: int | None
    service_name: str | None
    payload: dict
    message: str | None
    submitter_name: str | None
    submitter_email: str | None
    status: str
    created_at: datetime


# --- Reading an activity as form values -----------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _terms(session: Session) -> dict[str, set[str]]:
    terms: dict[str, set[str]] = {t: set() for t in TAXONOMY_FIELDS}
    for taxonomy, code in session.execute(select(TaxonomyTerm.taxonomy, TaxonomyTerm.code)):
        terms.setdefault(taxonomy, set()).add(code)
    return terms


def places_of(session: Session, organization_id: int) -> dict[int, str]:
    """The organisation's physical places: id -> "name, street, city"."""
    rows = session.execute(
        select(Location.id, Location.name, Address.address_1, Address.city)
        .outerjoin(Address, Address.location_id == Location.id)
        .where(Location.organization_id == organization_id, Location.location_type == "physical")
        .order_by(Location.name, Location.id)
    )
    places: dict[int, str] = {}
    for lid, name, street, city in rows:
        places.setdefault(lid, ", ".join(p for p in (name, street, city) if p) or f"#{lid}")
    return places


def _load(session: Session, service_id: int) -> Service:
    service = session.get(Service, service_id)
    if service is None:
        raise NotFound()
    return service


_BYDAY_RE = re.compile(r"^([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)$")


def _rule_fields(schedule: Schedule | None) -> dict:
    """The first schedule's rule as form fields: frequency, weekdays (with their position in the
    month, e.g. -1SU = last Sunday) and days of the month."""
    if schedule is None:
        return {"freq": "WEEKLY", "weekdays": (), "setpos": None, "monthdays": ()}
    weekdays, setpos = [], None
    for token in (schedule.byday or "").split(","):
        match = _BYDAY_RE.match(token.strip())
        if match:
            weekdays.append(match.group(2))
            setpos = setpos if setpos is not None or not match.group(1) else int(match.group(1))
    monthdays = tuple(
        int(d) for d in (schedule.bymonthday or "").split(",") if d.strip().lstrip("-").isdigit()
    )
    return {
        "freq": schedule.freq if schedule.freq in ("WEEKLY", "MONTHLY", "DAILY") else "WEEKLY",
        "weekdays": tuple(weekdays),
        "setpos": setpos,
        "monthdays": monthdays,
    }


def _snapshot(session: Session, service: Service) -> dict:
    """The activity as the edit form shows it."""
    sid = service.id
    codes: dict[str, list[str]] = {t: [] for t in TAXONOMY_FIELDS}
    for taxonomy, code in session.execute(
        select(TaxonomyTerm.taxonomy, TaxonomyTerm.code)
        .join(Attribute, Attribute.taxonomy_term_id == TaxonomyTerm.id)
        .where(Attribute.service_id == sid)
        .order_by(Attribute.id)
    ):
        codes.setdefault(taxonomy, []).append(code)
    contact = session.scalars(select(Contact).where(Contact.service_id == sid).order_by(Contact.id)).first()
    phone = None
    if contact is not None:
        phone = session.scalars(
            select(Phone.number).where(Phone.contact_id == contact.id).order_by(Phone.id)
        ).first()
    schedule = session.scalars(
        select(Schedule).where(Schedule.service_id == sid).order_by(Schedule.id)
    ).first()
    physical = session.execute(
        select(Location.id)
        .join(ServiceAtLocation, ServiceAtLocation.location_id == Location.id)
        .where(ServiceAtLocation.service_id == sid, Location.location_type == "physical")
        .order_by(ServiceAtLocation.id)
    ).scalar()
    capacity = session.scalars(select(ServiceCapacity).where(ServiceCapacity.service_id == sid)).first()
    place = None
    if physical is not None:
        location = session.get(Location, physical)
        place = (
            places_of(session, location.organization_id).get(physical) if location.organization_id else None
        )
        if location.latitude is not None:
            place = f"{place or ''} ({location.latitude:.5f}, {location.longitude:.5f})".strip()
    return {
        "name": service.name,
        "description": service.description or "",
        "category": (codes["category"] or [""])[0],
        "target_groups": tuple(codes["target_group"]),
        "accessibility": tuple(codes["accessibility"]),
        "languages": tuple(codes["language"]),
        "attending_type": service.attending_type,
        "url": service.url,
        "email": service.email,
        "status": service.status,
        "eligibility": service.eligibility_description,
        "minimum_age": service.minimum_age,
        "maximum_age": service.maximum_age,
        "is_free": service.is_free,
        "fees": service.fees_description,
        "rolling_start": service.rolling_start,
        "start_date": service.start_date,
        "contact_name": contact.name if contact else None,
        "contact_title": contact.title if contact else None,
        "contact_phone": phone,
        "contact_email": contact.email if contact else None,
        **_rule_fields(schedule),
        "interval": schedule.interval if schedule else 1,
        "opens_at": schedule.opens_at if schedule else None,
        "closes_at": schedule.closes_at if schedule else None,
        "dtstart": schedule.dtstart if schedule else None,
        "until": schedule.until if schedule else None,
        "place_mode": "existing" if physical else "none",
        "location_id": physical,
        "place_name": None,
        "street": None,
        "postal_code": None,
        "city": None,
        "latitude": None,
        "longitude": None,
        "available": capacity.available if capacity else None,
        "maximum": capacity.maximum if capacity else None,
        "place": place,
    }


# Form inputs that choose or describe a place: the history records the resulting "place" instead.
_PLACE_INPUTS = (
    "place_mode",
    "location_id",
    "place_name",
    "street",
    "postal_code",
    "city",
    "latitude",
    "longitude",
)


@dataclass(frozen=True)
class EditForm:
    """What the edit page needs: current values, the organisation and its places, the vocabulary."""

    service_id: int | None
    organization_id: int
    organization: str
    values: dict
    places: dict[int, str]
    approval_status: str


def _editable_organizations(session: Session, principal: Principal) -> dict[int, str]:
    query = select(Organization.id, Organization.name).order_by(Organization.name)
    if principal.role == "partner":
        query = query.where(Organization.id.in_(principal.organization_ids or {-1}))
    return dict(session.execute(query).all())


def editable_organizations(principal: Principal) -> dict[int, str]:
    audit.require_role(principal, *EDITORS, action="directory.edit")
    with read_session() as s:
        return _editable_organizations(s, principal)


def _may_edit(principal: Principal, organization_id: int) -> bool:
    return principal.role in MODERATORS or principal.serves_organization(organization_id)


def _deny(principal: Principal, action: str, service_id: int | None) -> AccessDenied:
    audit.record_now(principal, action, "denied", detail=f"service={service_id}")
    return AccessDenied()


def _check_may_edit(principal: Principal, service_id: int, action: str) -> None:
    """Before a write transaction (a denial is audited in its own transaction)."""
    with read_session() as s:
        organization_id = s.scalar(select(Service.organization_id).where(Service.id == service_id))
    if organization_id is None:
        raise NotFound()
    if not _may_edit(principal, organization_id):
        raise _deny(principal, action, service_id)


def edit_form(
    principal: Principal, service_id: int | None = None, organization_id: int | None = None
) -> EditForm:
    """Current values of an activity (or an empty one for `organization_id`), for its editor only."""
    audit.require_role(principal, *EDITORS, action="directory.edit")
    with read_session() as s:
        if service_id is not None:
            service = _load(s, service_id)
            if not _may_edit(principal, service.organization_id):
                raise _deny(principal, "directory.edit", service_id)
            org = s.get(Organization, service.organization_id)
            return EditForm(
                service.id,
                org.id,
                org.name,
                _snapshot(s, service),
                places_of(s, org.id),
                service.approval_status,
            )
        organizations = _editable_organizations(s, principal)
        if organization_id not in organizations:
            raise _deny(principal, "directory.create", None)
        values = {"attending_type": "in_person", "status": "active", "is_free": True, "interval": 1}
        places = places_of(s, organization_id)
        values["place_mode"] = "existing" if places else "new"
        return EditForm(None, organization_id, organizations[organization_id], values, places, "pending")


# --- Writing ----------------------------------------------------------------------------------------


def _text(value) -> str | None:
    if value is None or value == () or value == "":
        return None
    if isinstance(value, (tuple, list)):
        return ", ".join(str(x) for x in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "isoformat"):
        return value.isoformat(timespec="minutes") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def _log(session: Session, principal: Principal, service_id: int, field: str, old, new, at: datetime) -> None:
    session.add(
        ServiceChange(
            service_id=service_id,
            user_id=principal.user_id,
            at=at,
            field_name=field,
            old_value=_text(old),
            new_value=_text(new),
        )
    )


def _region_warnings(session: Session, data: ActivityData) -> tuple[tuple[str, dict], ...]:
    if data.place_mode != "new" or data.latitude is None:
        return ()
    box = region_box(session.execute(select(Municipality.latitude, Municipality.longitude)).all())
    if outside_region(data.latitude, data.longitude, box):
        return (("edit.outside_region", {"lat": round(data.latitude, 5), "lon": round(data.longitude, 5)}),)
    return ()


def _municipality_near(session: Session, lat: float | None, lon: float | None) -> int | None:
    if lat is None:
        return None
    rows = session.execute(select(Municipality.id, Municipality.latitude, Municipality.longitude)).all()
    if not rows:
        return None
    return min(rows, key=lambda r: (r.latitude - lat) ** 2 + (r.longitude - lon) ** 2).id


def _write_place(session: Session, service: Service, data: ActivityData) -> int | None:
    """Link the chosen or new physical place; returns its municipality, if known."""
    physical_links = session.execute(
        select(ServiceAtLocation.id)
        .join(Location, Location.id == ServiceAtLocation.location_id)
        .where(ServiceAtLocation.service_id == service.id, Location.location_type == "physical")
    ).scalars()
    session.execute(delete(ServiceAtLocation).where(ServiceAtLocation.id.in_(list(physical_links))))
    if data.attending_type == "online" or data.place_mode == "none":
        return None
    if data.place_mode == "existing":
        location = session.get(Location, data.location_id)
    else:
        municipality_id = _municipality_near(session, data.latitude, data.longitude)
        location = Location(
            organization_id=service.organization_id,
            location_type="physical",
            name=data.place_name or data.street or data.city,
            latitude=data.latitude,
            longitude=data.longitude,
            municipality_id=municipality_id,
        )
        session.add(location)
        session.flush()
        if data.street or data.city or data.postal_code:
            country = session.scalar(select(Municipality.country).where(Municipality.id == municipality_id))
            session.add(
                Address(
                    location_id=location.id,
                    address_1=data.street or "",
                    city=data.city or "",
                    postal_code=data.postal_code or "",
                    country=country or "SE",
                )
            )
    session.add(ServiceAtLocation(service_id=service.id, location_id=location.id))
    return location.municipality_id


def _write_online(session: Session, service: Service, data: ActivityData) -> None:
    links = session.execute(
        select(ServiceAtLocation.id, Location.id)
        .join(Location, Location.id == ServiceAtLocation.location_id)
        .where(ServiceAtLocation.service_id == service.id, Location.location_type == "virtual")
    ).all()
    if data.attending_type in ("online", "hybrid"):
        if links:
            session.get(Location, links[0][1]).url = data.url
            return
        location = Location(
            organization_id=service.organization_id, location_type="virtual", name="Online", url=data.url
        )
        session.add(location)
        session.flush()
        session.add(ServiceAtLocation(service_id=service.id, location_id=location.id))
        return
    for link_id, _location_id in links:
        session.execute(delete(ServiceAtLocation).where(ServiceAtLocation.id == link_id))


def _write_contact(session: Session, service: Service, data: ActivityData) -> None:
    contact = session.scalars(
        select(Contact).where(Contact.service_id == service.id).order_by(Contact.id)
    ).first()
    if contact is None:
        if not (data.contact_name or data.contact_phone or data.contact_email):
            return
        contact = Contact(service_id=service.id, organization_id=service.organization_id, name="")
        session.add(contact)
    contact.name = data.contact_name or ""
    contact.title = data.contact_title
    contact.email = data.contact_email
    session.flush()
    phone = session.scalars(select(Phone).where(Phone.contact_id == contact.id).order_by(Phone.id)).first()
    if data.contact_phone and phone is None:
        session.add(Phone(contact_id=contact.id, service_id=service.id, number=data.contact_phone))
    elif data.contact_phone:
        phone.number = data.contact_phone
    elif phone is not None:
        session.delete(phone)


def _write_schedule(session: Session, service: Service, data: ActivityData, timezone: str) -> None:
    schedule = session.scalars(
        select(Schedule).where(Schedule.service_id == service.id).order_by(Schedule.id)
    ).first()
    empty = not (data.weekdays or data.monthdays or data.opens_at or data.dtstart or data.until)
    if empty:
        if schedule is not None:
            session.delete(schedule)
        return
    if schedule is None:
        schedule = Schedule(service_id=service.id, timezone=timezone)
        session.add(schedule)
    schedule.freq = data.freq
    prefix = str(data.setpos) if data.freq == "MONTHLY" and data.setpos else ""
    schedule.byday = ",".join(f"{prefix}{day}" for day in data.weekdays) or None
    schedule.bymonthday = ",".join(str(d) for d in data.monthdays) or None
    schedule.interval = data.interval
    schedule.opens_at = data.opens_at
    schedule.closes_at = data.closes_at
    schedule.dtstart = data.dtstart
    schedule.until = data.until


def _write_terms(session: Session, service: Service, data: ActivityData) -> None:
    wanted = [("category", data.category)] if data.category else []
    wanted += [("target_group", c) for c in data.target_groups]
    wanted += [("accessibility", c) for c in data.accessibility]
    wanted += [("language", c) for c in data.languages]
    ids = {
        (taxonomy, code): tid
        for tid, taxonomy, code in session.execute(
            select(TaxonomyTerm.id, TaxonomyTerm.taxonomy, TaxonomyTerm.code).where(
                TaxonomyTerm.taxonomy.in_(list(TAXONOMY_FIELDS))
            )
        )
    }
    managed = list(ids.values())
    session.execute(
        delete(Attribute).where(Attribute.service_id == service.id, Attribute.taxonomy_term_id.in_(managed))
    )
    for key in dict.fromkeys(wanted):
        session.add(Attribute(service_id=service.id, taxonomy_term_id=ids[key]))


def _write_capacity(session: Session, service: Service, data: ActivityData, at: datetime) -> None:
    capacity = session.scalars(
        select(ServiceCapacity).where(ServiceCapacity.service_id == service.id)
    ).first()
    if data.available is None and data.maximum is None:
        if capacity is not None:
            session.delete(capacity)
        return
    if capacity is None:
        capacity = ServiceCapacity(service_id=service.id)
        session.add(capacity)
    if (capacity.available, capacity.maximum) != (data.available, data.maximum):
        capacity.available, capacity.maximum, capacity.updated = data.available, data.maximum, at


def _apply(
    session: Session, principal: Principal, service: Service, data: ActivityData, at: datetime
) -> tuple[str, ...]:
    old = _snapshot(session, service) if service.id is not None else {}
    service.name = data.name
    service.description = data.description
    service.attending_type = data.attending_type
    service.url = data.url
    service.email = data.email
    service.status = data.status
    service.eligibility_description = data.eligibility
    service.minimum_age, service.maximum_age = data.minimum_age, data.maximum_age
    service.is_free, service.fees_description = data.is_free, data.fees
    service.rolling_start, service.start_date = data.rolling_start, data.start_date
    service.updated_at = at
    # Whoever saves the activity has just looked it over: that counts as verified today.
    service.assured_date = at.date()
    service.assurer_email = principal.username
    session.add(service)
    session.flush()
    timezone = session.scalar(
        select(Schedule.timezone).where(Schedule.service_id == service.id).order_by(Schedule.id)
    )
    if timezone is None:
        country = session.scalar(
            select(Municipality.country).where(Municipality.id == service.municipality_id)
        )
        timezone = "Europe/Copenhagen" if country == "DK" else "Europe/Stockholm"
    municipality_id = _write_place(session, service, data)
    if municipality_id is not None:
        service.municipality_id = municipality_id
    _write_online(session, service, data)
    _write_contact(session, service, data)
    _write_schedule(session, service, data, timezone)
    _write_terms(session, service, data)
    _write_capacity(session, service, data, at)
    session.flush()
    new = _snapshot(session, service)
    changed = []
    for name, value in new.items():
        if name in _PLACE_INPUTS:
            continue
        if _text(old.get(name)) != _text(value):
            changed.append(name)
            _log(session, principal, service.id, name, old.get(name), value, at)
    return tuple(changed)


def _clean(session: Session, values: Mapping, organization_id: int) -> ActivityData:
    data, errors = clean_activity(
        values, terms=_terms(session), location_ids=places_of(session, organization_id)
    )
    if errors:
        raise ValidationError(errors)
    return data


def save_activity(
    principal: Principal,
    values: Mapping,
    *,
    service_id: int | None = None,
    organization_id: int | None = None,
    now: datetime | None = None,
) -> SaveResult:
    """Create (with `organization_id`) or update (with `service_id`) an activity, all or nothing.

    A partner's new activity waits for approval; a manager's or admin's is published at once."""
    audit.require_role(principal, *EDITORS, action="directory.edit")
    at = _now(now)
    if service_id is not None:
        _check_may_edit(principal, service_id, "directory.edit")
    else:
        with read_session() as s:
            if organization_id is None or organization_id not in _editable_organizations(s, principal):
                raise _deny(principal, "directory.create", None)
    with write_session() as s:
        if service_id is not None:
            service = _load(s, service_id)
            action = "directory.edit"
        else:
            service = Service(
                organization_id=organization_id,
                name="",
                approval_status="approved" if principal.role in MODERATORS else "pending",
                created_at=at,
            )
            action = "directory.create"
        data = _clean(s, values, service.organization_id)
        warnings = _region_warnings(s, data)
        changed = _apply(s, principal, service, data, at)
        audit.record(s, principal, action, detail=f"service={service.id} fields={len(changed)}")
        return SaveResult(service.id, changed, warnings)


def set_free_places(
    principal: Principal, service_id: int, available: object, maximum: object = None, *, now=None
) -> SaveResult:
    """The one-step update partners do most: free places now (and optionally the maximum)."""
    audit.require_role(principal, *EDITORS, action="directory.places")
    errors: dict[str, tuple[str, dict]] = {}
    try:
        free = v.integer(available, required=True, minimum=0, maximum=10_000)
    except v.FieldError as error:
        errors["available"] = (error.key, error.params)
    try:
        top = v.integer(maximum, minimum=0, maximum=10_000)
    except v.FieldError as error:
        errors["maximum"] = (error.key, error.params)
    if errors:
        raise ValidationError(errors)
    at = _now(now)
    _check_may_edit(principal, service_id, "directory.places")
    with write_session() as s:
        _load(s, service_id)
        capacity = s.scalars(select(ServiceCapacity).where(ServiceCapacity.service_id == service_id)).first()
        if capacity is None:
            capacity = ServiceCapacity(service_id=service_id, available=None, maximum=None)
            s.add(capacity)
        top = capacity.maximum if top is None else top
        if top is not None and free > top:
            raise ValidationError({"available": ("error.places_above_maximum", {})})
        changed = []
        for field, old, new in (("available", capacity.available, free), ("maximum", capacity.maximum, top)):
            if old != new:
                _log(s, principal, service_id, field, old, new, at)
                changed.append(field)
        capacity.available, capacity.maximum, capacity.updated = free, top, at
        audit.record(s, principal, "directory.places", detail=f"service={service_id} available={free}")
        return SaveResult(service_id, tuple(changed))


def verify(principal: Principal, service_id: int, *, now: datetime | None = None) -> SaveResult:
    """ "Still correct": the activity was checked today."""
    audit.require_role(principal, *EDITORS, action="directory.verify")
    at = _now(now)
    _check_may_edit(principal, service_id, "directory.verify")
    with write_session() as s:
        service = _load(s, service_id)
        if service.assured_date != at.date():
            _log(s, principal, service_id, "assured_date", service.assured_date, at.date(), at)
        service.assured_date, service.assurer_email = at.date(), principal.username
        audit.record(s, principal, "directory.verify", detail=f"service={service_id}")
        return SaveResult(service_id, ("assured_date",))


def set_approval(principal: Principal, service_id: int, approve: bool, *, now=None) -> SaveResult:
    """Managers and admins publish a waiting activity, or turn it down."""
    audit.require_role(principal, *MODERATORS, action="directory.approve")
    at = _now(now)
    with write_session() as s:
        service = _load(s, service_id)
        status = "approved" if approve else "rejected"
        if service.approval_status != status:
            _log(s, principal, service_id, "approval_status", service.approval_status, status, at)
        service.approval_status = status
        if approve:
            service.assured_date, service.assurer_email = at.date(), principal.username
        audit.record(
            s, principal, f"directory.{'approve' if approve else 'reject'}", detail=f"service={service_id}"
        )
        return SaveResult(service_id, ("approval_status",))


# --- Lists for the upkeep page ------------------------------------------------------------------------


def _upkeep_query(principal: Principal):
    first = aliased(Contact)
    contact = (
        select(first.id)
        .where(first.service_id == Service.id)
        .order_by(first.id)
        .limit(1)
        .correlate(Service)
        .scalar_subquery()
    )
    phone = (
        select(Phone.number)
        .where(Phone.contact_id == Contact.id)
        .order_by(Phone.id)
        .limit(1)
        .correlate(Contact)
        .scalar_subquery()
    )
    query = (
        select(
            Service.id,
            Service.name,
            Organization.name.label("organization"),
            Service.organization_id,
            Service.approval_status,
            Service.status,
            Service.assured_date,
            ServiceCapacity.available,
            ServiceCapacity.maximum,
            Contact.name.label("contact_name"),
            Contact.email.label("contact_email"),
            phone.label("contact_phone"),
        )
        .join(Organization, Organization.id == Service.organization_id)
        .outerjoin(ServiceCapacity, ServiceCapacity.service_id == Service.id)
        .outerjoin(Contact, Contact.id == contact)
    )
    if principal.role == "partner":
        query = query.where(Service.organization_id.in_(principal.organization_ids or {-1}))
    return query


def _upkeep_rows(session: Session, query, today: date) -> list[UpkeepRow]:
    return [
        UpkeepRow(
            id=r.id,
            name=r.name,
            organization=r.organization,
            organization_id=r.organization_id,
            approval_status=r.approval_status,
            status=r.status,
            assured_date=r.assured_date,
            days_since_verified=(today - r.assured_date).days if r.assured_date else None,
            available=r.available,
            maximum=r.maximum,
            contact_name=r.contact_name,
            contact_phone=r.contact_phone,
            contact_email=r.contact_email,
        )
        for r in session.execute(query)
    ]


def stale(
    principal: Principal, *, days: int | None = None, today: date | None = None, limit: int = 500
) -> list[UpkeepRow]:
    """Active activities not verified for more than `days` (LOTSA_STALE_DAYS), oldest first (never
    verified before all). Two index range reads (ix_service_upkeep), not a sort of every activity."""
    audit.require_role(principal, *EDITORS, action="directory.stale")
    today = today or datetime.now(UTC).date()
    limit = min(max(int(limit), 1), 500)
    never, older = _stale_parts(principal, days, today)
    with read_session() as s:
        rows = _upkeep_rows(
            s, _upkeep_query(principal).where(*never).order_by(Service.id).limit(limit), today
        )
        if len(rows) < limit:
            query = _upkeep_query(principal).where(*older).order_by(Service.assured_date, Service.id)
            rows += _upkeep_rows(s, query.limit(limit - len(rows)), today)
    return rows


def _stale_parts(principal: Principal, days: int | None, today: date) -> tuple[list, list]:
    """The stale conditions split into "never verified" and "verified before the cutoff", so each is
    a range of the (status, approval_status, assured_date) index."""
    cutoff = today - timedelta(days=get_settings().stale_days if days is None else days)
    common = [Service.status == "active", Service.approval_status == "approved"]
    if principal.role == "partner":
        common.append(Service.organization_id.in_(principal.organization_ids or {-1}))
    return [*common, Service.assured_date.is_(None)], [*common, Service.assured_date < cutoff]


def stale_count(principal: Principal, *, days: int | None = None, today: date | None = None) -> int:
    audit.require_role(principal, *EDITORS, action="directory.stale")
    today = today or datetime.now(UTC).date()
    never, older = _stale_parts(principal, days, today)
    with read_session() as s:
        return sum(s.scalar(select(func.count(Service.id)).where(*part)) or 0 for part in (never, older))


def awaiting_approval(
    principal: Principal, *, today: date | None = None, limit: int = 200
) -> list[UpkeepRow]:
    """Activities awaiting approval, oldest first, at most `limit` (the page shows a few at a time)."""
    audit.require_role(principal, *EDITORS, action="directory.approve")
    today = today or datetime.now(UTC).date()
    limit = min(max(int(limit), 1), 500)
    query = (
        _upkeep_query(principal)
        .where(Service.approval_status == "pending")
        .order_by(Service.created_at, Service.id)
        .limit(limit)
    )
    with read_session() as s:
        return _upkeep_rows(s, query, today)


def awaiting_count(principal: Principal) -> int:
    audit.require_role(principal, *EDITORS, action="directory.approve")
    query = select(func.count(Service.id)).where(Service.approval_status == "pending")
    if principal.role == "partner":
        query = query.where(Service.organization_id.in_(principal.organization_ids or {-1}))
    with read_session() as s:
        return s.scalar(query) or 0


def own_activities(principal: Principal, *, today: date | None = None, limit: int = 500) -> list[UpkeepRow]:
    """A partner's activities (all organisations for managers and admins, capped), by name."""
    audit.require_role(principal, *EDITORS, action="directory.edit")
    today = today or datetime.now(UTC).date()
    query = _upkeep_query(principal).order_by(Service.name, Service.id).limit(limit)
    with read_session() as s:
        return _upkeep_rows(s, query, today)


def history(service_id: int, principal: Principal | None = None, *, limit: int = 200) -> list[Change]:
    """The activity's changes, newest first: who, when, which field, old and new value. For the
    activity's editors only (its organisation's partners, admins, managers); a denial is audited."""
    audit.require_role(principal, *EDITORS, action="directory.history")
    _check_may_edit(principal, service_id, "directory.history")
    with read_session() as s:
        rows = s.execute(
            select(ServiceChange, User.display_name)
            .outerjoin(User, User.id == ServiceChange.user_id)
            .where(ServiceChange.service_id == service_id)
            .order_by(ServiceChange.at.desc(), ServiceChange.id.desc())
            .limit(limit)
        ).all()
    return [Change(c.at, name or "—", c.field_name, c.old_value, c.new_value) for c, name in rows]


# --- Public suggestions -----------------------------------------------------------------------------


def submit_suggestion(values: Mapping, *, client_id: str, now: datetime | None = None) -> int | None:
    """A visitor proposes a new activity or a correction. Nothing is public until a moderator acts.

    Validated here; rate-limited per visitor (keyed hash of their address, LOTSA_SUGGESTIONS_PER_HOUR);
    a filled-in honeypot field is taken as a bot: accepted silently and dropped (returns None)."""
    at = _now(now)
    if str(values.get("homepage") or "").strip():
        return None
    errors: dict[str, tuple[str, dict]] = {}

    def take(name, check, *args, **kwargs):
        try:
            return check(values.get(name), *args, **kwargs)
        except v.FieldError as error:
            errors[name] = (error.key, error.params)
            return None

    kind = take("kind", v.choice, SUGGESTION_KINDS, required=True)
    message = take("message", v.text, required=kind == "correction", max_length=2000)
    submitter_name = take("submitter_name", v.text, max_length=200)
    submitter_email = take("submitter_email", v.email)
    payload: dict = {}
    service_id = None
    with read_session() as s:
        if kind == "correction":
            service_id = take("service_id", v.integer, required=True)
            if service_id is not None and not s.scalar(
                select(Service.id).where(
                    Service.id == service_id,
                    Service.status == "active",
                    Service.approval_status == "approved",
                )
            ):
                errors["service_id"] = ("error.invalid_choice", {})
        elif kind == "new":
            payload = {
                "name": take("name", v.text, required=True, max_length=300),
                "organization": take("organization", v.text, required=True, max_length=300),
                "description": take("description", v.text, max_length=5000),
                "category": take("category", v.choice, _terms(s)["category"]),
                "when": take("when", v.text, max_length=300),
                "where": take("where", v.text, max_length=300),
                "url": take("url", v.url),
                "contact_name": take("contact_name", v.text, required=True, max_length=200),
                "contact_phone": take("contact_phone", v.phone),
                "contact_email": take("contact_email", v.email),
            }
            if not (payload["contact_phone"] or payload["contact_email"]) and not (
                {"contact_phone", "contact_email"} & set(errors)
            ):
                errors["contact_phone"] = ("error.phone_or_email", {})
            if not (payload["where"] or payload["url"]) and not ({"where", "url"} & set(errors)):
                errors["where"] = ("error.place_needed", {})
    if errors:
        raise ValidationError(errors)
    key = client_key(str(client_id or "unknown"))
    per_hour = get_settings().suggestions_per_hour
    with write_session() as s:
        recent = s.scalar(
            select(func.count(DirectorySuggestion.id)).where(
                DirectorySuggestion.client_key == key,
                DirectorySuggestion.created_at >= at - timedelta(hours=1),
            )
        )
        if recent >= per_hour:
            raise RateLimited(per_hour)
        suggestion = DirectorySuggestion(
            kind=kind,
            service_id=service_id,
            payload={k: val for k, val in payload.items() if val is not None},
            message=message,
            submitter_name=submitter_name,
            submitter_email=submitter_email,
            client_key=key,
            created_at=at,
        )
        s.add(suggestion)
        s.flush()
        audit.record(s, None, "directory.suggest", detail=f"suggestion={suggestion.id} kind={kind}")
        return suggestion.id


def suggestions(principal: Principal, status: str = "pending", *, limit: int = 200) -> list[SuggestionRow]:
    audit.require_role(principal, *MODERATORS, action="directory.moderate")
    with read_session() as s:
        rows = s.execute(
            select(DirectorySuggestion, Service.name)
            .outerjoin(Service, Service.id == DirectorySuggestion.service_id)
            .where(DirectorySuggestion.status == status)
            .order_by(DirectorySuggestion.created_at, DirectorySuggestion.id)
            .limit(limit)
        ).all()
    return [
        SuggestionRow(
            d.id,
            d.kind,
            d.service_id,
            name,
            dict(d.payload or {}),
            d.message,
            d.submitter_name,
            d.submitter_email,
            d.status,
            d.created_at,
        )
        for d, name in rows
    ]


def pending_suggestion_count(principal: Principal) -> int:
    audit.require_role(principal, *MODERATORS, action="directory.moderate")
    with read_session() as s:
        return (
            s.scalar(
                select(func.count(DirectorySuggestion.id)).where(DirectorySuggestion.status == "pending")
            )
            or 0
        )


def _organization_for(session: Session, name: str) -> int:
    found = session.scalar(select(Organization.id).where(func.lower(Organization.name) == name.lower()))
    if found is not None:
        return found
    org = Organization(name=name, kind="ngo")
    session.add(org)
    session.flush()
    return org.id


def review_suggestion(
    principal: Principal, suggestion_id: int, *, accept: bool, note: str | None = None, now=None
) -> int | None:
    """Accept or reject. Accepting a new activity creates it, unpublished (awaiting approval), in
    the named organisation (created if missing) so the moderator completes it in the editor before
    publishing; accepting a correction just closes it (the moderator edits the activity). Returns
    the activity's id, if any."""
    audit.require_role(principal, *MODERATORS, action="directory.moderate")
    try:
        note = v.text(note, max_length=1000)
    except v.FieldError as error:
        raise ValidationError({"note": (error.key, error.params)}) from None
    at = _now(now)
    with write_session() as s:
        suggestion = s.get(DirectorySuggestion, suggestion_id)
        if suggestion is None:
            raise NotFound()
        if suggestion.status != "pending":
            raise ServiceError("suggest.already_reviewed")
        suggestion.status = "approved" if accept else "rejected"
        suggestion.reviewed_by, suggestion.reviewed_at, suggestion.review_note = principal.user_id, at, note
        created = suggestion.service_id
        if accept and suggestion.kind == "new":
            p = suggestion.payload or {}
            service = Service(
                organization_id=_organization_for(s, p["organization"]),
                name=p["name"],
                description="\n\n".join(
                    x for x in (p.get("description"), p.get("when"), p.get("where")) if x
                ),
                url=p.get("url"),
                attending_type="online" if p.get("url") and not p.get("where") else "in_person",
                approval_status="pending",
                created_at=at,
                updated_at=at,
            )
            s.add(service)
            s.flush()
            if p.get("category"):
                term = s.scalar(
                    select(TaxonomyTerm.id).where(
                        TaxonomyTerm.taxonomy == "category", TaxonomyTerm.code == p["category"]
                    )
                )
                if term:
                    s.add(Attribute(service_id=service.id, taxonomy_term_id=term))
            contact = Contact(
                service_id=service.id,
                organization_id=service.organization_id,
                name=p.get("contact_name") or "",
                email=p.get("contact_email"),
            )
            s.add(contact)
            s.flush()
            if p.get("contact_phone"):
                s.add(Phone(contact_id=contact.id, service_id=service.id, number=p["contact_phone"]))
            _log(s, principal, service.id, "created_from_suggestion", None, str(suggestion.id), at)
            suggestion.created_service_id = created = service.id
        audit.record(
            s,
            principal,
            "directory.moderate",
            detail=f"suggestion={suggestion_id} {'accept' if accept else 'reject'}",
        )
        return created
