"""Import an activity inventory (CSV or XLSX) into the directory: preview first, then write.

`preview_import` reads the file, maps its columns (suggested unless given), checks every row and
marks likely duplicates, and for partners every row whose organisation is not theirs. Nothing is
written. `run_import` writes the rows that passed in ONE transaction, with Core bulk inserts in
chunks (20,000 rows in seconds on SQLite): every row or none. Organisations that don't exist yet
are created by name (admins and managers only). A partner's activities wait for approval.
`error_report_csv` is the downloadable list of problems, safe to open in a spreadsheet.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlmodel import Session

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
    ServiceAtLocation,
    ServiceCapacity,
    ServiceChange,
    TaxonomyTerm,
)
from domain import inventory
from domain.csv_safety import to_csv
from domain.inventory import ActivityRow, Duplicate, InventoryError, RowError
from domain.taxonomy import parse_synonyms
from locales import translate
from services import audit
from services.errors import AccessDenied, ServiceError
from services.principal import Principal

IMPORT_ROLES = ("admin", "manager", "partner")
MODES = ("valid_only", "all_or_nothing")
CHUNK = 200
ACTION = "directory.import"
TAXONOMIES = ("category", "target_group", "accessibility", "language")

Progress = Callable[[int, int], object]


class ImportFileError(ServiceError):
    """The file as a whole cannot be imported (unreadable, empty, too large, columns missing)."""


@dataclass
class ImportPreview:
    """What an import would do. Keep it (e.g. in the session) and pass it to `run_import`."""

    filename: str
    user_id: int
    lang: str
    encoding: str
    headers: list[str]
    mapping: dict[str, str | None]
    valid: list[ActivityRow]
    errors: list[RowError]
    duplicates: list[Duplicate]
    rows_read: int
    new_organizations: list[str] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)  # XLSX: every sheet, to choose another
    sheet: str | None = None  # XLSX: the sheet read
    header_row: int = 1  # the spreadsheet row the headings were read from

    @property
    def error_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})

    @property
    def duplicate_rows(self) -> list[int]:
        return sorted({d.row for d in self.duplicates})


@dataclass(frozen=True)
class ImportResult:
    created: int
    skipped: int
    organizations_created: int = 0
    service_ids: tuple[int, ...] = ()


# --- Preview ----------------------------------------------------------------------------------------


def _organizations(session: Session) -> dict[str, list[tuple[int, str, int | None]]]:
    """Normalised name -> [(id, name, municipality_id)], oldest first."""
    found: dict[str, list[tuple[int, str, int | None]]] = {}
    for oid, name, municipality_id in session.execute(
        select(Organization.id, Organization.name, Organization.municipality_id).order_by(Organization.id)
    ):
        found.setdefault(inventory.normalise(name), []).append((oid, name, municipality_id))
    return found


def _existing_keys(session: Session) -> dict[tuple[str, str], int]:
    """duplicate_key -> service id for every activity in the directory (by each of its addresses)."""
    keys: dict[tuple[str, str], int] = {}
    with_address: set[int] = set()
    rows = session.execute(
        select(Service.id, Service.name, Address.address_1, Address.city)
        .join(ServiceAtLocation, ServiceAtLocation.service_id == Service.id)
        .join(Address, Address.location_id == ServiceAtLocation.location_id)
    )
    for sid, name, street, city in rows:
        keys.setdefault(inventory.duplicate_key(name, street, city), sid)
        with_address.add(sid)
    for sid, name, url in session.execute(select(Service.id, Service.name, Service.url)):
        if sid not in with_address:
            keys.setdefault(inventory.duplicate_key(name, None, None, url), sid)
    return keys


def _taxonomy_lookup(session: Session) -> dict[str, inventory.TermLookup]:
    """Names in every language and the synonyms (TaxonomyTerm.synonyms) of every term."""
    rows = session.execute(
        select(
            TaxonomyTerm.taxonomy,
            TaxonomyTerm.code,
            TaxonomyTerm.name_sv,
            TaxonomyTerm.name_da,
            TaxonomyTerm.name_en,
            TaxonomyTerm.synonyms,
        ).where(TaxonomyTerm.taxonomy.in_(TAXONOMIES))
    ).all()
    return inventory.build_taxonomy_lookup(
        (tax, code, sv, da, en, parse_synonyms(synonyms)) for tax, code, sv, da, en, synonyms in rows
    )


def _allowed(principal: Principal, candidates: list[tuple[int, str, int | None]]) -> bool:
    if principal.role in ("admin", "manager"):
        return True
    return any(principal.serves_organization(oid) for oid, _name, _muni in candidates)


def preview_import(
    principal: Principal | None,
    data: bytes,
    filename: str,
    mapping: Mapping[str, str | None] | None = None,
    *,
    lang: str = "sv",
    sheet: str | None = None,
    header_row: int | None = None,
) -> ImportPreview:
    """Read, map and check the file; nothing is written. Raises ImportFileError (a ServiceError)
    when the file as a whole cannot be used, AccessDenied for roles that may not import.
    `sheet` (XLSX) and `header_row` (1 = the first row) override the ones Lotsa finds."""
    audit.require_role(principal, *IMPORT_ROLES, action=ACTION)
    try:
        table = inventory.read_table(data, filename, sheet=sheet, header_row=header_row)
        chosen = dict(mapping) if mapping is not None else inventory.suggest_mapping(table.headers)
        with read_session() as session:
            lookup = _taxonomy_lookup(session)
            organizations = _organizations(session)
            existing = _existing_keys(session)
        checked = inventory.validate_rows(table, chosen, lookup, lang=lang, existing=existing)
    except InventoryError as exc:
        raise ImportFileError(exc.key, **exc.params) from None
    valid, errors = [], list(checked.errors)
    new_organizations: dict[str, str] = {}
    column = chosen.get("organization") or ""
    for row in checked.valid:
        key = inventory.normalise(row.organization)
        candidates = organizations.get(key, [])
        if not _allowed(principal, candidates):
            errors.append(
                RowError(row.row, column, "import.error.organization_not_yours", {}, "organization")
            )
            continue
        if not candidates:
            new_organizations.setdefault(key, row.organization)
        valid.append(row)
    errors.sort(key=lambda e: e.row)  # stable: a row's errors stay in column order
    kept = {row.row for row in valid}
    return ImportPreview(
        filename=_clean_filename(filename),
        user_id=principal.user_id,
        lang=lang,
        encoding=table.encoding,
        headers=list(table.headers),
        mapping=chosen,
        valid=valid,
        errors=errors,
        duplicates=[d for d in checked.duplicates if d.row in kept],
        rows_read=checked.rows_read,
        new_organizations=list(new_organizations.values()),
        sheets=list(table.sheets),
        sheet=table.sheet,
        header_row=table.header_row,
    )


def _clean_filename(filename: object) -> str:
    return re.sub(r"[\x00-\x1f\x7f]", "", str(filename or ""))[:120]


# --- Import ---------------------------------------------------------------------------------------------


def _insert(session: Session, model, rows: list[dict]) -> list[int]:
    """Bulk insert (Core, batched on SQLite and Postgres alike); the new ids in the order of `rows`."""
    if not rows:
        return []
    table = model.__table__
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.connection().execute(statement, rows).scalars())


def _insert_plain(session: Session, model, rows: list[dict]) -> None:
    if rows:
        session.connection().execute(insert(model.__table__), rows)


def _uid() -> str:
    return str(uuid.uuid4())


def _country_of_postcode(postal_code: str | None) -> str | None:
    digits = re.sub(r"\D", "", postal_code or "")
    return {4: "DK", 5: "SE"}.get(len(digits)) if digits else None


class _Writer:
    """Writes checked rows chunk by chunk inside the caller's transaction."""

    def __init__(self, session: Session, principal: Principal, preview: ImportPreview) -> None:
        self.s = session
        self.principal = principal
        self.preview = preview
        self.now = datetime.now(UTC)
        self.status = "pending" if principal.role == "partner" else "approved"
        self.term_ids = {
            (taxonomy, code): tid
            for tid, taxonomy, code in session.execute(
                select(TaxonomyTerm.id, TaxonomyTerm.taxonomy, TaxonomyTerm.code)
            )
        }
        self.municipalities: dict[str, tuple[int, str]] = {}
        self.points: list[tuple[float, float, int, str]] = []
        for mid, name, country, lat, lon in session.execute(
            select(
                Municipality.id,
                Municipality.name,
                Municipality.country,
                Municipality.latitude,
                Municipality.longitude,
            ).order_by(Municipality.id)
        ):
            self.municipalities.setdefault(inventory.normalise(name), (mid, country))
            self.points.append((lat, lon, mid, country))
        self.countries = {mid: country for _lat, _lon, mid, country in self.points}
        self.locations: dict[tuple, int] = {}
        self.organizations_created = 0
        self.org_of: dict[str, tuple[int, int | None]] = {}
        self.skipped_rows: set[int] = set()

    def organizations(self, rows: list[ActivityRow]) -> list[ActivityRow]:
        """Resolve each row's organisation, creating missing ones; rows a partner may not import
        (their scope changed since the preview) are dropped."""
        known = _organizations(self.s)
        missing: dict[str, str] = {}
        for row in rows:
            key = inventory.normalise(row.organization)
            candidates = known.get(key, [])
            if not candidates:
                if self.principal.role in ("admin", "manager"):
                    missing.setdefault(key, row.organization)
                continue
            if self.principal.role == "partner":
                candidates = [c for c in candidates if self.principal.serves_organization(c[0])]
            if candidates:
                self.org_of[key] = (candidates[0][0], candidates[0][2])
        if missing:
            first_row = {}
            for row in rows:
                first_row.setdefault(inventory.normalise(row.organization), row)
            new_rows = [
                {
                    "hsds_id": _uid(),
                    "name": name,
                    "description": "",
                    "email": None,
                    "website": None,
                    "kind": "ngo",
                    "municipality_id": self._municipality(first_row[key])[0],
                }
                for key, name in missing.items()
            ]
            for key, new_row, oid in zip(
                missing, new_rows, _insert(self.s, Organization, new_rows), strict=True
            ):
                self.org_of[key] = (oid, new_row["municipality_id"])
            self.organizations_created = len(new_rows)
        kept = []
        for row in rows:
            if inventory.normalise(row.organization) in self.org_of:
                kept.append(row)
            else:
                self.skipped_rows.add(row.row)
        return kept

    def _municipality(self, row: ActivityRow) -> tuple[int | None, str | None]:
        if row.city:
            found = self.municipalities.get(inventory.normalise(row.city))
            if found:
                return found
        if row.latitude is not None and row.longitude is not None and self.points:
            lat, lon, mid, country = min(
                self.points, key=lambda p: (p[0] - row.latitude) ** 2 + (p[1] - row.longitude) ** 2
            )
            if abs(lat - row.latitude) < 1.0 and abs(lon - row.longitude) < 1.5:
                return mid, country
        return None, None

    def _country(self, row: ActivityRow, municipality_id: int | None, org_municipality: int | None) -> str:
        return (
            (self.countries.get(municipality_id) if municipality_id else None)
            or _country_of_postcode(row.postal_code)
            or (self.countries.get(org_municipality) if org_municipality else None)
            or ("DK" if self.preview.lang == "da" else "SE")
        )

    def write(self, rows: list[ActivityRow], progress: Progress | None) -> list[int]:
        rows = self.organizations(rows)
        ids: list[int] = []
        total = len(rows)
        for start in range(0, total, CHUNK):
            ids.extend(self._chunk(rows[start : start + CHUNK]))
            if progress is not None:
                progress(min(start + CHUNK, total), total)
        return ids

    def _chunk(self, rows: list[ActivityRow]) -> list[int]:
        now = self.now
        context = []
        service_rows = []
        for row in rows:
            org_id, org_municipality = self.org_of[inventory.normalise(row.organization)]
            municipality_id, _ = self._municipality(row)
            country = self._country(row, municipality_id, org_municipality)
            context.append((row, org_id, country))
            named_contact = bool(row.contact_name)
            service_rows.append(
                {
                    "hsds_id": _uid(),
                    "organization_id": org_id,
                    "name": row.name,
                    "alternate_name": None,
                    "description": row.description or "",
                    "url": row.url,
                    "email": None if named_contact else row.contact_email,
                    "status": "active",
                    "eligibility_description": row.eligibility,
                    "minimum_age": row.minimum_age,
                    "maximum_age": row.maximum_age,
                    "attending_type": row.attending_type,
                    "fees_description": None,
                    "is_free": row.is_free,
                    "rolling_start": row.rolling_start,
                    "start_date": row.start_date,
                    "approval_status": self.status,
                    "assured_date": None,
                    "assurer_email": None,
                    "municipality_id": municipality_id or org_municipality,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        service_ids = _insert(self.s, Service, service_rows)

        # Places: one physical location per organisation and address in the whole import.
        new_places: dict[tuple, dict] = {}
        new_addresses: dict[tuple, dict] = {}
        place_of: list[tuple | None] = []
        for row, org_id, country in context:
            if row.attending_type == "online" or not (row.street or row.latitude is not None):
                place_of.append(None)
                continue
            key = (
                org_id,
                inventory.normalise(row.street or ""),
                inventory.normalise(row.city or ""),
                row.latitude,
                row.longitude,
            )
            place_of.append(key)
            if key in self.locations or key in new_places:
                continue
            municipality_id, _ = self._municipality(row)
            new_places[key] = {
                "hsds_id": _uid(),
                "organization_id": org_id,
                "location_type": "physical",
                "name": row.street or row.city,
                "description": None,
                "url": None,
                "latitude": row.latitude,
                "longitude": row.longitude,
                "municipality_id": municipality_id,
            }
            if row.street:
                new_addresses[key] = {
                    "hsds_id": _uid(),
                    "address_1": row.street,
                    "city": row.city or "",
                    "region": None,
                    "state_province": "",
                    "postal_code": row.postal_code or "",
                    "country": country,
                    "address_type": "physical",
                }
        place_ids = _insert(self.s, Location, list(new_places.values()))
        self.locations.update(zip(new_places, place_ids, strict=True))
        _insert_plain(
            self.s,
            Address,
            [dict(address, location_id=self.locations[key]) for key, address in new_addresses.items()],
        )

        virtual_rows, virtual_for = [], []
        for (row, org_id, _country), sid in zip(context, service_ids, strict=True):
            if row.attending_type in ("online", "hybrid") and row.url:
                virtual_rows.append(
                    {
                        "hsds_id": _uid(),
                        "organization_id": org_id,
                        "location_type": "virtual",
                        "name": "Online",
                        "description": None,
                        "url": row.url,
                        "latitude": None,
                        "longitude": None,
                        "municipality_id": None,
                    }
                )
                virtual_for.append(sid)
        virtual_ids = dict(zip(virtual_for, _insert(self.s, Location, virtual_rows), strict=True))

        links, contacts, contact_for, phones, schedules, attributes, costs, capacities, changes = (
            [], [], [], [], [], [], [], [], []
        )  # fmt: skip
        for (row, org_id, country), sid, place in zip(context, service_ids, place_of, strict=True):
            if place is not None:
                links.append({"hsds_id": _uid(), "service_id": sid, "location_id": self.locations[place]})
            if sid in virtual_ids:
                links.append({"hsds_id": _uid(), "service_id": sid, "location_id": virtual_ids[sid]})
            if row.contact_name:
                contacts.append(
                    {
                        "hsds_id": _uid(),
                        "service_id": sid,
                        "organization_id": org_id,
                        "name": row.contact_name,
                        "title": None,
                        "email": row.contact_email,
                    }
                )
                contact_for.append((sid, row.contact_phone))
            elif row.contact_phone:
                phones.append(_phone(None, sid, row.contact_phone))
            if row.weekdays:
                schedules.append(
                    {
                        "hsds_id": _uid(),
                        "service_id": sid,
                        "freq": "WEEKLY",
                        "interval": 1,
                        "byday": ",".join(row.weekdays),
                        "bymonthday": None,
                        "opens_at": row.opens_at,
                        "closes_at": row.closes_at,
                        "dtstart": row.start_date,
                        "until": row.end_date,
                        "count": None,
                        "valid_from": None,
                        "valid_to": None,
                        "timezone": "Europe/Copenhagen" if country == "DK" else "Europe/Stockholm",
                        "attending_type": row.attending_type,
                        "description": None,
                    }
                )
            terms = [
                *(("category", c) for c in row.categories),
                *(("target_group", c) for c in row.target_groups),
                *(("accessibility", c) for c in row.accessibility),
                *(("language", c) for c in row.languages),
            ]
            attributes.extend(
                {"hsds_id": _uid(), "service_id": sid, "taxonomy_term_id": self.term_ids[term], "value": None}
                for term in dict.fromkeys(terms)
                if term in self.term_ids
            )
            if row.cost:
                costs.append(
                    {
                        "hsds_id": _uid(),
                        "service_id": sid,
                        "option": None,
                        "amount": row.cost,
                        "currency": "DKK" if country == "DK" else "SEK",
                        "amount_description": None,
                    }
                )
            if row.free_places is not None or row.max_places is not None:
                capacities.append(
                    {
                        "hsds_id": _uid(),
                        "service_id": sid,
                        "available": row.free_places,
                        "maximum": row.max_places,
                        "unit": "places",
                        "updated": now,
                    }
                )
            changes.append(
                {
                    "service_id": sid,
                    "user_id": self.principal.user_id,
                    "at": now,
                    "field_name": "created",
                    "old_value": None,
                    "new_value": f"import {self.preview.filename} row {row.row}",
                }
            )
        _insert_plain(self.s, ServiceAtLocation, links)
        contact_ids = _insert(self.s, Contact, contacts)
        phones.extend(
            _phone(cid, sid, number)
            for cid, (sid, number) in zip(contact_ids, contact_for, strict=True)
            if number
        )
        _insert_plain(self.s, Phone, phones)
        _insert_plain(self.s, Schedule, schedules)
        _insert_plain(self.s, Attribute, attributes)
        _insert_plain(self.s, CostOption, costs)
        _insert_plain(self.s, ServiceCapacity, capacities)
        _insert_plain(self.s, ServiceChange, changes)
        return service_ids


def _phone(contact_id: int | None, service_id: int, number: str) -> dict:
    return {
        "hsds_id": _uid(),
        "contact_id": contact_id,
        "service_id": service_id,
        "location_id": None,
        "organization_id": None,
        "number": number,
        "type": "voice",
    }


def run_import(
    principal: Principal | None,
    preview: ImportPreview,
    *,
    mode: str = "valid_only",
    progress: Progress | None = None,
    skip_duplicates: bool = False,
) -> ImportResult:
    """Write the rows that passed the preview in one transaction: all of them, or nothing at all.

    mode "valid_only" imports the rows without errors and skips the rest; "all_or_nothing"
    imports nothing (ServiceError) if any row has an error. `progress(done, total)` is called
    after every CHUNK rows. With `skip_duplicates`, rows marked as likely duplicates are skipped."""
    audit.require_role(principal, *IMPORT_ROLES, action=ACTION)
    if not isinstance(preview, ImportPreview) or preview.user_id != principal.user_id:
        audit.record_now(principal, ACTION, "denied", detail="preview of another user")
        raise AccessDenied()
    if mode not in MODES:
        raise ServiceError("import.error.mode")
    name = preview.filename
    if mode == "all_or_nothing" and preview.errors:
        audit.record_now(
            principal,
            ACTION,
            "refused",
            detail=f"file={name} mode={mode} error_rows={len(preview.error_rows)}",
        )
        raise ServiceError("import.error.has_errors", count=len(preview.error_rows))
    duplicates = set(preview.duplicate_rows) if skip_duplicates else set()
    rows = [row for row in preview.valid if row.row not in duplicates]
    try:
        with write_session() as session:
            writer = _Writer(session, principal, preview)
            ids = writer.write(rows, progress)
            skipped = preview.rows_read - len(ids)
            audit.record(
                session,
                principal,
                ACTION,
                detail=(
                    f"file={name} mode={mode} created={len(ids)} skipped={skipped} "
                    f"organizations={writer.organizations_created} approval={writer.status}"
                ),
            )
    except BaseException as exc:
        with contextlib.suppress(Exception):
            audit.record_now(
                principal, ACTION, "failed", detail=f"file={name} mode={mode} {type(exc).__name__}"
            )
        raise
    return ImportResult(
        created=len(ids),
        skipped=skipped,
        organizations_created=writer.organizations_created,
        service_ids=tuple(ids),
    )


# --- Error report ---------------------------------------------------------------------------------------


def error_message(key: str, params: Mapping | None, lang: str) -> str:
    """A row error or warning in the user's language; never fails on odd parameters."""
    try:
        return translate(key, lang, **dict(params or {}))
    except (KeyError, IndexError, ValueError):
        return translate(key, lang)


def _report_rows(preview: ImportPreview, lang: str) -> Iterable[tuple[int, str, str]]:
    name_column = preview.mapping.get("name") or ""
    lines = [(e.row, 0, e.column, error_message(e.key, e.params, lang)) for e in preview.errors]
    for d in preview.duplicates:
        key = "import.warning.duplicate_existing" if d.existing else "import.warning.duplicate_row"
        lines.append((d.row, 1, name_column, error_message(key, {"other": d.other}, lang)))
    for row, _order, column, message in sorted(lines, key=lambda line: (line[0], line[1])):
        yield row, column, message


def error_report_csv(preview: ImportPreview, lang: str = "sv") -> bytes:
    """Row, column and message of every problem (errors, then likely duplicates, by row), as CSV in
    UTF-8 with BOM; cells that a spreadsheet would run as formulas are neutralised."""
    header = [translate(f"import.report.{k}", lang) for k in ("row", "column", "message")]
    return to_csv(header, _report_rows(preview, lang)).encode("utf-8")


def template_csv(lang: str = "sv") -> bytes:
    """An empty inventory with every field as a heading in the user's language (UTF-8 with BOM)."""
    return to_csv([translate(f"import.field.{key}", lang) for key in inventory.FIELDS], []).encode("utf-8")
