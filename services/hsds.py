"""HSDS 3.0 export and import of the activity directory (JSON records and the CSV data package).

Export: `export_json` gives one compiled HSDS service record per activity (by default only the
public ones: active and approved); `export_tabular` writes the same content as the standard's
tabular data package (datapackage.json and one UTF-8 CSV per table) to a folder or a .zip.

Import: `import_json` / `import_tabular` first check every record against
schema/compiled/service.json and against what Lotsa can store, and report every problem with the
record's index and a JSON path. Only a clean batch is written, in one transaction: upserts by
hsds_id, so importing the same data again changes nothing. Organizations, locations and taxonomy
terms are shared between records (first one wins); a service's record is the whole truth about its
contacts, phones, schedules, attributes, costs, areas, places and capacity, so rows it no longer
lists are removed. Municipalities are matched by code and created when the record describes them
fully; otherwise they stay empty. See domain/hsds.py for how Lotsa's fields map onto HSDS.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Integer
from sqlmodel import Session, col, select

from db.engine import read_session, write_session
from db.models import (
    Address,
    Attribute,
    Contact,
    CostOption,
    Location,
    Municipality,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceCapacity,
    TaxonomyTerm,
    utcnow,
)
from domain import hsds
from domain.hsds import Directory, Problem, RecordError, SchemaMissing, shown_text
from locales import translate
from services import audit
from services.errors import AccessDenied
from services.principal import Principal

__all__ = [
    "ImportReport",
    "Problem",
    "SchemaMissing",
    "error_text",
    "export_json",
    "export_tabular",
    "import_json",
    "import_tabular",
    "read_json_records",
    "read_tabular",
    "tabular_bytes",
]

CHUNK = 500
MAX_INT = 2**31 - 1
# Lotsa column -> the HSDS field it comes from, for error messages.
HSDS_NAMES = {"kind": "legal_status", "updated_at": "last_modified", "organization": "organization_id"}


# --- Export -----------------------------------------------------------------------------------------


def _chunks(values: Iterable, size: int = CHUNK) -> Iterable[list]:
    values = sorted({v for v in values if v is not None}, key=str)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _where_in(session: Session, model, column, values: Iterable) -> list:
    out = []
    for chunk in _chunks(values):
        out.extend(session.exec(select(model).where(col(column).in_(chunk))).all())
    return out


def _row(obj, *drop: str) -> dict:
    data = obj.model_dump()
    for name in ("id", *drop):
        data.pop(name, None)
    return data


def _load_directory(session: Session, include_unpublished: bool) -> Directory:
    query = select(Service)
    if not include_unpublished:
        query = query.where(Service.status == "active", Service.approval_status == "approved")
    services = session.exec(query).all()
    sids = [s.id for s in services]
    sals = _where_in(session, ServiceAtLocation, ServiceAtLocation.service_id, sids)
    locations = _where_in(session, Location, Location.id, [x.location_id for x in sals])
    loc_ids = [x.id for x in locations]
    org_ids = {s.organization_id for s in services}
    contacts = {c.id: c for c in _where_in(session, Contact, Contact.service_id, sids)}
    for chunk in _chunks(org_ids):
        query = select(Contact).where(
            col(Contact.organization_id).in_(chunk), col(Contact.service_id).is_(None)
        )
        contacts.update((c.id, c) for c in session.exec(query).all())
    phones = {p.id: p for p in _where_in(session, Phone, Phone.contact_id, contacts)}
    phones.update((p.id, p) for p in _where_in(session, Phone, Phone.service_id, sids))
    own = (col(Phone.contact_id).is_(None), col(Phone.service_id).is_(None))
    for chunk in _chunks(loc_ids):
        query = select(Phone).where(col(Phone.location_id).in_(chunk), *own)
        phones.update((p.id, p) for p in session.exec(query).all())
    for chunk in _chunks(org_ids):
        query = select(Phone).where(
            col(Phone.organization_id).in_(chunk), *own, col(Phone.location_id).is_(None)
        )
        phones.update((p.id, p) for p in session.exec(query).all())
    attributes = _where_in(session, Attribute, Attribute.service_id, sids)
    terms = _where_in(session, TaxonomyTerm, TaxonomyTerm.id, [a.taxonomy_term_id for a in attributes])
    schedules = _where_in(session, Schedule, Schedule.service_id, sids)
    costs = _where_in(session, CostOption, CostOption.service_id, sids)
    areas = _where_in(session, ServiceArea, ServiceArea.service_id, sids)
    capacities = _where_in(session, ServiceCapacity, ServiceCapacity.service_id, sids)
    org_ids |= {x.organization_id for x in locations} | {c.organization_id for c in contacts.values()}
    org_ids |= {p.organization_id for p in phones.values()}
    organizations = _where_in(session, Organization, Organization.id, org_ids)
    addresses = _where_in(session, Address, Address.location_id, loc_ids)
    muni_ids = {x.municipality_id for x in (*services, *locations, *organizations, *areas)}
    municipalities = _where_in(session, Municipality, Municipality.id, muni_ids)

    org = {o.id: o.hsds_id for o in organizations}
    loc = {x.id: x.hsds_id for x in locations}
    svc = {s.id: s.hsds_id for s in services}
    con = {c.id: c.hsds_id for c in contacts.values()}
    term = {t.id: t.hsds_id for t in terms}
    muni = {m.id: m.code for m in municipalities}

    def ref(mapping: dict, key: int | None) -> str | None:
        return mapping.get(key) if key is not None else None

    return Directory(
        municipalities=[_row(m) for m in municipalities],
        taxonomy_terms=[_row(t) for t in terms],
        organizations=[
            {**_row(o, "municipality_id"), "municipality": ref(muni, o.municipality_id)}
            for o in organizations
        ],
        locations=[
            {
                **_row(x, "organization_id", "municipality_id"),
                "organization": ref(org, x.organization_id),
                "municipality": ref(muni, x.municipality_id),
            }
            for x in locations
        ],
        addresses=[{**_row(a, "location_id"), "location": loc[a.location_id]} for a in addresses],
        services=[
            {
                **_row(s, "organization_id", "municipality_id"),
                "organization": org[s.organization_id],
                "municipality": ref(muni, s.municipality_id),
            }
            for s in services
        ],
        service_at_locations=[
            {"hsds_id": x.hsds_id, "service": svc[x.service_id], "location": loc[x.location_id]} for x in sals
        ],
        contacts=[
            {
                **_row(c, "service_id", "organization_id"),
                "service": ref(svc, c.service_id),
                "organization": ref(org, c.organization_id),
            }
            for c in contacts.values()
        ],
        phones=[
            {
                **_row(p, "contact_id", "service_id", "location_id", "organization_id"),
                "contact": ref(con, p.contact_id),
                "service": ref(svc, p.service_id),
                "location": ref(loc, p.location_id),
                "organization": ref(org, p.organization_id),
            }
            for p in phones.values()
        ],
        schedules=[{**_row(x, "service_id"), "service": svc[x.service_id]} for x in schedules],
        attributes=[
            {
                "hsds_id": a.hsds_id,
                "service": svc[a.service_id],
                "taxonomy_term": term[a.taxonomy_term_id],
                "value": a.value,
            }
            for a in attributes
        ],
        cost_options=[{**_row(x, "service_id"), "service": svc[x.service_id]} for x in costs],
        service_areas=[
            {
                **_row(x, "service_id", "municipality_id"),
                "service": svc[x.service_id],
                "municipality": ref(muni, x.municipality_id),
            }
            for x in areas
        ],
        capacities=[{**_row(x, "service_id"), "service": svc[x.service_id]} for x in capacities],
    )


def export_json(
    session: Session | None = None, *, include_unpublished: bool = False, url: str | None = None
) -> list[dict]:
    """Every activity as a compiled HSDS 3.0 service record, sorted by id. Only public activities
    (active and approved) unless `include_unpublished`. Uses `session`, else a read session on
    `url` (default LOTSA_DB_URL)."""
    with nullcontext(session) if session is not None else read_session(url) as s:
        return hsds.build_services(_load_directory(s, include_unpublished))


def _tabular_files(records: Sequence[Mapping]) -> dict[str, str]:
    package = hsds.datapackage()
    files = {"datapackage.json": hsds.datapackage_text()}
    files.update(hsds.tables_to_csv(hsds.to_tabular(records, package), package))
    return files


def tabular_bytes(records: Sequence[Mapping]) -> bytes:
    """The data package of compiled `records` as the bytes of a .zip (for a download button)."""
    return _zip(_tabular_files(records))


def _zip(files: Mapping[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text.encode("utf-8"))
    return buffer.getvalue()


def export_tabular(
    dest: str | Path,
    session: Session | None = None,
    *,
    include_unpublished: bool = False,
    url: str | None = None,
) -> dict[str, int]:
    """Write the HSDS tabular data package (the standard's datapackage.json and one CSV per table)
    into the folder `dest`, or into a zip file when `dest` ends in .zip. Returns rows per CSV."""
    records = export_json(session, include_unpublished=include_unpublished, url=url)
    files = _tabular_files(records)
    dest = Path(dest)
    if dest.suffix.lower() == ".zip":
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(_zip(files))
    else:
        dest.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (dest / name).write_bytes(text.encode("utf-8"))
    return {name: max(text.count("\r\n") - 1, 0) for name, text in files.items() if name.endswith(".csv")}


# --- Import -----------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did (`created`, `updated`, `deleted` rows per table), or, when `errors` is
    not empty, why it wrote nothing."""

    records: int = 0
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    errors: list[RecordError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # What Lotsa has no field for: JSON path (list indexes as []) -> how many values were not kept.
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def unsupported_version(self) -> bool:
        """True when the input was refused as an HSDS version Lotsa does not import (1.x/2.x)."""
        return any((e.key or "").startswith("exchange.error.version_") for e in self.errors)

    def dropped_lines(self) -> list[str]:
        """Every field not kept, with its count, for the command line."""
        if not self.dropped:
            return []
        total = sum(self.dropped.values())
        out = [f"{total} value(s) in {len(self.dropped)} field(s) have no place in Lotsa and were not kept:"]
        out.extend(f"  {path}: {count}" for path, count in self.dropped.items())
        return out

    def lines(self) -> list[str]:
        """Counts per table, for the command line."""
        tables = sorted({*self.created, *self.updated, *self.deleted})
        out = [f"{self.records} service record(s)" + ("" if tables else ": no changes")]
        for table in tables:
            created, updated = self.created.get(table, 0), self.updated.get(table, 0)
            deleted = self.deleted.get(table, 0)
            out.append(f"  {table:<20} {created:>6} created {updated:>6} updated {deleted:>6} deleted")
        return out


class _Rejected(Exception):
    def __init__(self, errors: list[RecordError]) -> None:
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, datetime) and isinstance(new, datetime):
        return hsds.as_utc(old) == hsds.as_utc(new)
    return old == new


def _error(row: Mapping, name: str | None, problem: Problem) -> RecordError:
    index, record_id, path = row.get("_at") or (None, None, "$")
    if name:
        path = f"{path}.{HSDS_NAMES.get(name, name)}"
    return RecordError.of(index, path, problem, record_id)


def error_text(error: RecordError | Problem, lang: str) -> str:
    """A refused import's reason in `lang` (sv, da, en): the text of its key with its parameters,
    or its English message when it has no key. Plain text: values from the file are quoted as
    they are (shortened), so show it escaped where Markdown would be rendered."""
    if not error.key:
        return error.message
    try:
        return translate(error.key, lang, **dict(error.params))
    except (KeyError, IndexError, ValueError):
        return error.message


def _limit_errors(d: Directory) -> list[RecordError]:
    """Values longer (or larger) than Lotsa's columns hold: SQLite would keep them, Postgres not."""
    errors = []
    for model, rows in (
        (Municipality, d.municipalities),
        (TaxonomyTerm, d.taxonomy_terms),
        (Organization, d.organizations),
        (Location, d.locations),
        (Address, d.addresses),
        (Service, d.services),
        (Contact, d.contacts),
        (Phone, d.phones),
        (Schedule, d.schedules),
        (CostOption, d.cost_options),
        (ServiceArea, d.service_areas),
        (Attribute, d.attributes),
        (ServiceCapacity, d.capacities),
    ):
        columns = model.__table__.c
        for row in rows:
            for name, value in row.items():
                if name not in columns or value is None:
                    continue
                kind = columns[name].type
                length = getattr(kind, "length", None)  # String, and SQLModel's AutoString decorator
                if length and isinstance(value, str) and len(value) > length:
                    message = f"is {len(value)} characters long; Lotsa keeps at most {length}"
                    problem = Problem("exchange.error.too_long", message, n=len(value), count=length)
                    errors.append(_error(row, name, problem))
                elif isinstance(kind, Integer) and isinstance(value, int) and abs(value) > MAX_INT:
                    problem = Problem("exchange.error.too_large", f"{value} is too large", value=value)
                    errors.append(_error(row, name, problem))
    return errors


class _Writer:
    """Writes a parsed batch: resolves references, checks Lotsa's limits, then upserts."""

    def __init__(self, session: Session, d: Directory, report: ImportReport) -> None:
        self.s = session
        self.d = d
        self.report = report
        self.errors: list[RecordError] = []
        self.ids: dict[type, dict[str, int]] = {}

    # helpers

    def error(self, row: Mapping, name: str | None, problem: Problem) -> None:
        self.errors.append(_error(row, name, problem))

    def count(self, kind: str, model) -> None:
        table = model.__tablename__
        bucket = getattr(self.report, kind)
        bucket[table] = bucket.get(table, 0) + 1

    def existing(self, model, hsds_ids: Iterable[str]) -> dict[str, Any]:
        return {o.hsds_id: o for o in _where_in(self.s, model, model.hsds_id, hsds_ids)}

    def resolve(self, model, hsds_ids: Iterable[str | None]) -> dict[str, int]:
        """hsds_id -> id for rows of this batch and rows already in the database."""
        known = self.ids.setdefault(model, {})
        missing = {h for h in hsds_ids if h and h not in known}
        if missing:
            for chunk in _chunks(missing):
                for hid, rid in self.s.exec(
                    select(model.hsds_id, model.id).where(col(model.hsds_id).in_(chunk))
                ):
                    known[hid] = rid
        return known

    def values(self, model, row: Mapping, refs: Mapping[str, tuple[str, Any]]) -> dict:
        """The row's column values: references (name -> (column, id)) resolved, `_at` dropped."""
        out = {
            k: v for k, v in row.items() if not k.startswith("_") and k not in refs and k != "municipality"
        }
        for column, value in refs.values():
            out[column] = value
        return {k: v for k, v in out.items() if k in model.__table__.c}

    def upsert(self, model, rows: Sequence[tuple[Mapping, dict]], existing: Mapping[str, Any]) -> None:
        fresh = []
        for row, values in rows:
            obj = existing.get(row["hsds_id"])
            if obj is None:
                obj = model(**values)
                self.s.add(obj)
                fresh.append(obj)
                self.count("created", model)
                continue
            changed = False
            for name, value in values.items():
                if not _same(getattr(obj, name), value):
                    setattr(obj, name, value)
                    changed = True
            if changed:
                self.count("updated", model)
        self.s.flush()
        known = self.ids.setdefault(model, {})
        for row, _values in rows:
            obj = existing.get(row["hsds_id"])
            if obj is not None:
                known[obj.hsds_id] = obj.id
        for obj in fresh:
            known[obj.hsds_id] = obj.id

    def delete(self, objs: Iterable) -> None:
        for obj in objs:
            self.s.delete(obj)
            self.count("deleted", type(obj))

    # the batch

    def run(self, errors: list[RecordError]) -> None:
        """Write the batch, unless `errors` (found before) or the references give a reason not to."""
        self.check_references()
        errors = [*errors, *self.errors]
        if errors:
            raise _Rejected(sorted(errors, key=lambda e: (-1 if e.index is None else e.index, e.path)))
        if not self.d.services:
            return
        self.municipalities()
        self.terms()
        self.organizations()
        self.locations()
        self.services()
        self.remove_stale()
        self.children()

    def check_references(self) -> None:
        d = self.d
        batch_orgs = {o["hsds_id"] for o in d.organizations}
        orgs = self.resolve(Organization, [s["organization"] for s in d.services])
        for s in d.services:
            if s["organization"] and s["organization"] not in batch_orgs and s["organization"] not in orgs:
                message = f"organization {s['organization']} is neither in the import nor in Lotsa"
                problem = Problem(
                    "exchange.error.unknown_organization", message, id=shown_text(s["organization"])
                )
                self.error(s, "organization", problem)
        batch_locations = {x["hsds_id"] for x in d.locations}
        known_locations = self.resolve(
            Location, [x["location"] for x in (*d.service_at_locations, *d.addresses)]
        )
        for row in (*d.service_at_locations, *d.addresses):
            if row["location"] not in batch_locations and row["location"] not in known_locations:
                message = f"location {row['location']} is neither in the import nor in Lotsa"
                problem = Problem("exchange.error.unknown_location", message, id=shown_text(row["location"]))
                self.error(row, "location_id", problem)
        batch_terms = {t["hsds_id"] for t in d.taxonomy_terms}
        known_terms = self.resolve(TaxonomyTerm, [a["taxonomy_term"] for a in d.attributes])
        for a in d.attributes:
            if a["taxonomy_term"] not in batch_terms and a["taxonomy_term"] not in known_terms:
                message = f"taxonomy term {a['taxonomy_term']} is neither in the import nor in Lotsa"
                problem = Problem("exchange.error.unknown_term", message, id=shown_text(a["taxonomy_term"]))
                self.error(a, "taxonomy_term_id", problem)
        services = {s["hsds_id"] for s in d.services}
        for rows in (
            d.service_at_locations,
            d.schedules,
            d.cost_options,
            d.service_areas,
            d.attributes,
            d.capacities,
        ):
            for row in rows:
                if row["service"] not in services:
                    message = f"service {row['service']} is not in this import"
                    problem = Problem(
                        "exchange.error.service_not_in_import", message, id=shown_text(row["service"])
                    )
                    self.error(row, "service_id", problem)

    def municipalities(self) -> None:
        codes = {
            x.get("municipality")
            for rows in (self.d.organizations, self.d.locations, self.d.services, self.d.service_areas)
            for x in rows
        } - {None}
        known = {m.code: m.id for m in _where_in(self.s, Municipality, Municipality.code, codes)}
        for m in self.d.municipalities:
            if m["code"] in known or m["code"] not in codes:
                continue
            if all(m.get(k) is not None for k in ("name", "country", "region_name", "latitude", "longitude")):
                obj = Municipality(**{k: v for k, v in m.items() if not k.startswith("_")})
                self.s.add(obj)
                self.s.flush()
                known[m["code"]] = obj.id
                self.count("created", Municipality)
        missing = sorted(codes - set(known))
        if missing:
            self.report.warnings.append(
                f"municipality code(s) {', '.join(missing)} not in Lotsa and not fully described: left empty"
            )
        self.muni = known

    def muni_ref(self, row: Mapping) -> tuple[str, int | None]:
        return ("municipality_id", self.muni.get(row.get("municipality")))

    def terms(self) -> None:
        rows = self.d.taxonomy_terms
        existing = self.existing(TaxonomyTerm, [t["hsds_id"] for t in rows])
        for t in rows:
            if t["hsds_id"] in existing:
                continue
            match = self.s.exec(
                select(TaxonomyTerm).where(
                    TaxonomyTerm.taxonomy == t["taxonomy"], TaxonomyTerm.code == t["code"]
                )
            ).first()
            if match is not None:  # the same term under another id: use Lotsa's
                self.ids.setdefault(TaxonomyTerm, {})[t["hsds_id"]] = match.id
        mine = [
            t for t in rows if t["hsds_id"] in existing or t["hsds_id"] not in self.ids.get(TaxonomyTerm, {})
        ]
        self.upsert(TaxonomyTerm, [(t, self.values(TaxonomyTerm, t, {})) for t in mine], existing)

    def organizations(self) -> None:
        rows = self.d.organizations
        existing = self.existing(Organization, [o["hsds_id"] for o in rows])
        self.upsert(
            Organization,
            [(o, self.values(Organization, o, {"municipality": self.muni_ref(o)})) for o in rows],
            existing,
        )

    def locations(self) -> None:
        rows = self.d.locations
        orgs = self.resolve(Organization, [x["organization"] for x in rows])
        for x in rows:
            if x["organization"] and x["organization"] not in orgs:
                self.report.warnings.append(
                    f"location {x['hsds_id']}: organization {x['organization']} is unknown; left empty"
                )
        existing = self.existing(Location, [x["hsds_id"] for x in rows])
        refs = lambda x: {  # noqa: E731
            "organization": ("organization_id", orgs.get(x["organization"])),
            "municipality": self.muni_ref(x),
        }
        self.upsert(Location, [(x, self.values(Location, x, refs(x))) for x in rows], existing)

    def services(self) -> None:
        rows = self.d.services
        orgs = self.ids[Organization]
        existing = self.existing(Service, [s["hsds_id"] for s in rows])
        now = utcnow()
        prepared = []
        for s in rows:
            refs = {
                "organization": ("organization_id", orgs[s["organization"]]),
                "municipality": self.muni_ref(s),
            }
            values = self.values(Service, s, refs)
            if values.get("updated_at") is None:
                # No last_modified: a new activity gets now (the default), a changed one is stamped now.
                values.pop("updated_at", None)
                old = existing.get(s["hsds_id"])
                if old is not None and any(not _same(getattr(old, k), v) for k, v in values.items()):
                    values["updated_at"] = now
            prepared.append((s, values))
        self.upsert(Service, prepared, existing)

    def remove_stale(self) -> None:
        """Rows of the imported services, locations and organizations that the records no longer list."""
        d = self.d
        sids = [self.ids[Service][s["hsds_id"]] for s in d.services]
        lids = [self.ids[Location][x["hsds_id"]] for x in d.locations]
        oids = [self.ids[Organization][o["hsds_id"]] for o in d.organizations]
        keep = {
            Phone: {p["hsds_id"] for p in d.phones},
            Contact: {c["hsds_id"] for c in d.contacts},
            Address: {a["hsds_id"] for a in d.addresses},
            ServiceAtLocation: {x["hsds_id"] for x in d.service_at_locations},
            Schedule: {x["hsds_id"] for x in d.schedules},
            Attribute: {x["hsds_id"] for x in d.attributes},
            CostOption: {x["hsds_id"] for x in d.cost_options},
            ServiceArea: {x["hsds_id"] for x in d.service_areas},
            ServiceCapacity: {x["hsds_id"] for x in d.capacities},
        }
        contacts = {c.id: c for c in _where_in(self.s, Contact, Contact.service_id, sids)}
        for chunk in _chunks(oids):
            query = select(Contact).where(
                col(Contact.organization_id).in_(chunk), col(Contact.service_id).is_(None)
            )
            contacts.update((c.id, c) for c in self.s.exec(query).all())
        phones = {p.id: p for p in _where_in(self.s, Phone, Phone.contact_id, contacts)}
        phones.update((p.id, p) for p in _where_in(self.s, Phone, Phone.service_id, sids))
        own = (col(Phone.contact_id).is_(None), col(Phone.service_id).is_(None))
        for chunk in _chunks(lids):
            query = select(Phone).where(col(Phone.location_id).in_(chunk), *own)
            phones.update((p.id, p) for p in self.s.exec(query).all())
        for chunk in _chunks(oids):
            query = select(Phone).where(
                col(Phone.organization_id).in_(chunk), *own, col(Phone.location_id).is_(None)
            )
            phones.update((p.id, p) for p in self.s.exec(query).all())
        # Rows that move to another contact, service or location are updated, not deleted.
        self.delete(p for p in phones.values() if p.hsds_id not in keep[Phone])
        for model in (Attribute, Schedule, CostOption, ServiceArea, ServiceCapacity, ServiceAtLocation):
            stale = _where_in(self.s, model, model.service_id, sids)
            self.delete(x for x in stale if x.hsds_id not in keep[model])
        self.s.flush()
        self.delete(c for c in contacts.values() if c.hsds_id not in keep[Contact])
        self.delete(
            a for a in _where_in(self.s, Address, Address.location_id, lids) if a.hsds_id not in keep[Address]
        )
        self.s.flush()

    def children(self) -> None:
        d = self.d
        svc, loc = self.ids[Service], self.ids[Location]
        terms = self.ids[TaxonomyTerm]

        def add(model, rows: list[dict], refs) -> None:
            existing = self.existing(model, [r["hsds_id"] for r in rows])
            self.upsert(model, [(r, self.values(model, r, refs(r))) for r in rows], existing)

        add(Address, d.addresses, lambda r: {"location": ("location_id", loc[r["location"]])})
        add(
            ServiceAtLocation,
            d.service_at_locations,
            lambda r: {
                "service": ("service_id", svc[r["service"]]),
                "location": ("location_id", loc[r["location"]]),
            },
        )
        orgs = self.resolve(Organization, [c["organization"] for c in (*d.contacts, *d.phones)])
        locs = self.resolve(Location, [p["location"] for p in d.phones])
        add(
            Contact,
            d.contacts,
            lambda r: {
                "service": ("service_id", svc.get(r["service"]) if r["service"] else None),
                "organization": (
                    "organization_id",
                    orgs.get(r["organization"]) if r["organization"] else None,
                ),
            },
        )
        contacts = self.ids[Contact]
        phones = [
            p for p in d.phones if any(p[k] for k in ("contact", "service", "location", "organization"))
        ]
        add(
            Phone,
            phones,
            lambda r: {
                "contact": ("contact_id", contacts.get(r["contact"]) if r["contact"] else None),
                "service": ("service_id", svc.get(r["service"]) if r["service"] else None),
                "location": ("location_id", locs.get(r["location"]) if r["location"] else None),
                "organization": (
                    "organization_id",
                    orgs.get(r["organization"]) if r["organization"] else None,
                ),
            },
        )
        by_service = lambda r: {"service": ("service_id", svc[r["service"]])}  # noqa: E731
        add(Schedule, d.schedules, by_service)
        add(CostOption, d.cost_options, by_service)
        add(
            ServiceArea,
            d.service_areas,
            lambda r: {"service": ("service_id", svc[r["service"]]), "municipality": self.muni_ref(r)},
        )
        add(
            Attribute,
            d.attributes,
            lambda r: {
                "service": ("service_id", svc[r["service"]]),
                "taxonomy_term": ("taxonomy_term_id", terms[r["taxonomy_term"]]),
            },
        )
        capacities = [
            {k: v for k, v in c.items() if not (k == "updated" and v is None)} for c in d.capacities
        ]
        add(ServiceCapacity, capacities, by_service)


def _count_of(records: Any) -> int:
    return len(records) if isinstance(records, list) else 0


def import_json(
    records: Sequence[Any], *, actor: Principal | None = None, url: str | None = None
) -> ImportReport:
    """Check, then import compiled HSDS service records in one transaction (or write nothing).

    `actor` None is the command line; a signed-in user must be an admin. Returns the report; when
    it has errors nothing was written. Raises SchemaMissing when the HSDS schemas are absent."""
    if actor is not None and actor.role != "admin":
        raise AccessDenied()
    report = ImportReport(records=_count_of(records))
    if not isinstance(records, list):
        problem = Problem("exchange.error.not_array", "expected a JSON array of HSDS service records")
        report.errors.append(RecordError.of(None, "$", problem))
        return report
    if not records:
        problem = Problem("exchange.error.no_records", "holds no service records: nothing to import")
        report.errors.append(RecordError.of(None, "$", problem))
        return report
    version = hsds.records_version_problem(records)
    if version:
        report.errors.append(RecordError.of(None, "$", version))
        return report
    report.errors = hsds.validate_records(records)
    if report.errors:
        return report
    flat = hsds.flatten(records)
    report.warnings.extend(flat.warnings)
    directory, problems = hsds.parse_tables(flat.tables)
    report.dropped = hsds.dropped_fields(flat, hsds.directory_tables(directory))
    errors = [*flat.errors, *problems, *_limit_errors(directory)]
    try:
        with write_session(url) as session:
            _Writer(session, directory, report).run(errors)
            changes = (
                sum(report.created.values()) + sum(report.updated.values()) + sum(report.deleted.values())
            )
            audit.record(
                session,
                actor,
                "directory.hsds_import",
                detail=f"records={report.records} changes={changes} dropped={sum(report.dropped.values())}",
                username=None if actor else "manage.py",
            )
    except _Rejected as rejected:
        report.created, report.updated, report.deleted = {}, {}, {}
        report.errors = rejected.errors
    return report


def read_json_records(path: str | Path) -> list[Any]:
    """A JSON file of HSDS service records: an array, one service object, or an API page
    ({"contents": [...]}). Raises ValueError with the position of a JSON syntax error."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as bad:
        message = f"{path} is not valid JSON: {bad.msg} at line {bad.lineno}, column {bad.colno}"
        raise Problem("exchange.error.not_json", message, line=bad.lineno, column=bad.colno) from None
    except UnicodeDecodeError:
        raise Problem("exchange.error.not_utf8", f"{path} is not UTF-8 text") from None
    if isinstance(data, dict):
        if isinstance(data.get("contents"), list):
            return data["contents"]
        return [data]
    return data


def read_tabular(path: str | Path) -> tuple[list[dict], list[RecordError]]:
    """A tabular data package (a folder or a .zip of CSV files named as in the standard's
    datapackage.json) -> compiled records, and the problems found in the CSV files."""
    tables, errors = _read_tables(path)
    return hsds.from_tabular(tables), errors


def _read_tables(path: str | Path) -> tuple[dict[str, list[dict]], list[RecordError]]:
    """The package's CSV files as HSDS tables, and the problems found in them."""
    path = Path(path)
    package = hsds.datapackage()
    wanted = {r["path"] for r in package["resources"]}
    texts: dict[str, str] = {}
    errors: list[RecordError] = []

    def decode(name: str, raw: bytes) -> None:
        try:
            texts[name] = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            errors.append(RecordError.of(None, name, Problem("exchange.error.not_utf8", "is not UTF-8 text")))

    descriptor: Any = None
    if path.is_dir():
        names = [p.name for p in path.iterdir() if p.is_file()]
        if (path / hsds.DATAPACKAGE).is_file():
            descriptor = _descriptor((path / hsds.DATAPACKAGE).read_bytes())
        problem = hsds.package_version_problem(names, descriptor)
        if problem:
            return {}, [RecordError.of(None, str(path), problem)]
        for name in wanted:
            if (path / name).is_file():
                decode(name, (path / name).read_bytes())
    else:
        try:
            with zipfile.ZipFile(path) as archive:
                by_base = {Path(n).name: n for n in archive.namelist() if not n.endswith("/")}
                if hsds.DATAPACKAGE in by_base:
                    descriptor = _descriptor(archive.read(by_base[hsds.DATAPACKAGE]))
                problem = hsds.package_version_problem(by_base, descriptor)
                if problem:
                    return {}, [RecordError.of(None, str(path), problem)]
                for name in wanted:
                    if name in by_base:
                        decode(name, archive.read(by_base[name]))
        except zipfile.BadZipFile:
            problem = Problem("exchange.error.not_zip", "is neither a folder nor a zip file")
            return {}, [RecordError.of(None, str(path), problem)]
    if "services.csv" not in texts and not errors:
        message = "has no services.csv, so it holds no HSDS 3.0 services: nothing to import"
        errors.append(RecordError.of(None, str(path), Problem("exchange.error.no_services_csv", message)))
    tables, problems = hsds.csv_to_tables(texts, package)
    errors.extend(problems)
    return tables, errors


def _rows_left_out(tables: Mapping[str, Sequence[Mapping]], records: Sequence[Mapping]) -> dict[str, int]:
    """Rows of the CSV files that are in no compiled service record (programs, funding, a place
    no service uses, ...): "file.csv (rows in no service)" -> how many."""
    nested = hsds.flatten(records).tables
    paths = {r["name"]: r["path"] for r in hsds.datapackage()["resources"]}
    out = {}
    for name, rows in tables.items():
        kept = {row.get("id") for row in nested.get(name, ())}
        missing = sum(1 for row in rows if row.get("id") not in kept)
        if missing:
            out[f"{paths.get(name, name)} (rows in no service)"] = missing
    return out


def _descriptor(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def import_tabular(
    path: str | Path, *, actor: Principal | None = None, url: str | None = None
) -> ImportReport:
    """Import an HSDS tabular data package (folder or .zip) like `import_json` imports records."""
    if actor is not None and actor.role != "admin":
        raise AccessDenied()
    tables, errors = _read_tables(path)
    records = hsds.from_tabular(tables)
    if errors:
        return ImportReport(records=len(records), errors=errors)
    report = import_json(records, actor=actor, url=url)
    if report.ok:
        report.dropped = dict(sorted({**report.dropped, **_rows_left_out(tables, records)}.items()))
    return report
