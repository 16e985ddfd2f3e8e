"""Reference data for a real install: health centres, municipalities, programmes and taxonomy
terms (categories, target groups, accessibility, languages) with synonyms.

Every function is admin only (denials audited). Writes are validated field by field (errors carry
locale keys, so the page says them in the user's language and keeps what was typed), written in
one transaction with their audit event, or not at all. `seed_reference` loads the starter
vocabulary of `db.reference_data` and is idempotent. `term_index` is for matching labels typed in
imports ("Äldre", "Ældre", "Promenad") to terms.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from db.engine import read_session, write_session
from db.models import HealthCentre, Municipality, Programme, TaxonomyTerm
from db.reference_data import PROGRAMMES, SYNONYMS, TAXONOMY
from domain import reference as ref
from domain.instruments import CODES as INSTRUMENT_CODES
from domain.taxonomy import build_index, clean_synonyms, dump_synonyms, parse_synonyms
from services import audit
from services.errors import NotFound, ValidationError
from services.principal import Principal

Errors = dict[str, tuple[str, dict]]


# --- Views ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MunicipalityRow:
    id: int
    code: str
    name: str
    country: str
    region_name: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class CentreRow:
    id: int
    code: str
    name: str
    municipality_id: int
    municipality: str
    country: str
    identifier: str | None
    address: str
    latitude: float
    longitude: float
    active: bool


@dataclass(frozen=True)
class ProgrammeRow:
    id: int
    code: str
    name_sv: str
    name_da: str
    name_en: str
    timepoints: tuple[int, ...]
    instruments: tuple[str, ...]
    with_measures: bool
    cost_per_participant: float | None


@dataclass(frozen=True)
class TermRow:
    id: int
    taxonomy: str
    code: str
    name_sv: str
    name_da: str
    name_en: str
    synonyms: tuple[str, ...]


@dataclass(frozen=True)
class SeedReport:
    terms_added: int
    synonyms_added: int
    programmes_added: int

    def changed(self) -> bool:
        return bool(self.terms_added or self.synonyms_added or self.programmes_added)


# --- Checks --------------------------------------------------------------------------------------


def _text(value: object, name: str, limit: int, errors: Errors, *, required: bool = True) -> str:
    text = " ".join(str(value if value is not None else "").split())
    if required and not text:
        errors[name] = ("error.required", {})
    elif len(text) > limit:
        errors[name] = ("error.too_long", {"n": limit})
    return text


def _number(value: object) -> float | object:
    """A typed number ("55,6" or 55.6) as float; anything else unchanged (and refused later)."""
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", "."))
        except ValueError:
            return value
    return value


def _names(values: dict, errors: Errors) -> dict[str, str]:
    keys = ("name_sv", "name_da", "name_en")
    return {key: _text(values.get(key), key, 200, errors) for key in keys}


def _admin(principal: Principal | None, action: str) -> Principal:
    return audit.require_role(principal, "admin", action=action)


# --- Municipalities ------------------------------------------------------------------------------


def list_municipalities(principal: Principal) -> list[MunicipalityRow]:
    _admin(principal, "reference.list")
    with read_session() as s:
        rows = s.exec(select(Municipality).order_by(Municipality.country, Municipality.name)).all()
        return [
            MunicipalityRow(m.id, m.code, m.name, m.country, m.region_name, m.latitude, m.longitude)
            for m in rows
        ]


def add_municipality(
    principal: Principal,
    *,
    code: str,
    name: str,
    country: str,
    region_name: str,
    latitude: float | str,
    longitude: float | str,
) -> int:
    """A Swedish (kommunkod, 4 digits) or Danish (kommunekode, 3 digits) municipality."""
    _admin(principal, "reference.municipality.add")
    errors: Errors = {}
    country = str(country or "").strip().upper()
    if country not in ref.COUNTRIES:
        errors["country"] = ("error.invalid_choice", {})
    code = str(code or "").strip()
    if not code:
        errors["code"] = ("error.required", {})
    elif country in ref.COUNTRIES and not ref.MUNICIPALITY_CODE_RE[country].match(code):
        errors["code"] = ("reference.error.municipality_code", {})
    name = _text(name, "name", 120, errors)
    region_name = _text(region_name, "region_name", 120, errors)
    latitude, longitude = _number(latitude), _number(longitude)
    errors.update(ref.coordinate_error(latitude, longitude))
    with write_session() as s:
        if "code" not in errors and s.exec(select(Municipality.id).where(Municipality.code == code)).first():
            errors["code"] = ("reference.error.code_taken", {})
        if errors:
            raise ValidationError(errors)
        row = Municipality(
            code=code, name=name, country=country, region_name=region_name,
            latitude=float(latitude), longitude=float(longitude),
        )  # fmt: skip
        s.add(row)
        s.flush()
        audit.record(s, principal, "reference.municipality.add", detail=f"municipality={code} {name}")
        return row.id


def _municipality(s: Session, value: object) -> Municipality | None:
    """By id (int) or by code (text)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return s.get(Municipality, value)
    text = str(value or "").strip()
    if not text:
        return None
    return s.exec(select(Municipality).where(Municipality.code == text)).first()


# --- Health centres ------------------------------------------------------------------------------


def _centre_row(c: HealthCentre, m: Municipality) -> CentreRow:
    return CentreRow(
        c.id, c.code, c.name, c.municipality_id, m.name, m.country, c.identifier, c.address,
        c.latitude, c.longitude, c.active,
    )  # fmt: skip


def list_centres(principal: Principal) -> list[CentreRow]:
    _admin(principal, "reference.list")
    with read_session() as s:
        rows = s.exec(
            select(HealthCentre, Municipality)
            .join(Municipality, col(Municipality.id) == col(HealthCentre.municipality_id))
            .order_by(HealthCentre.name)
        ).all()
        return [_centre_row(c, m) for c, m in rows]


def _centre_details(
    s: Session,
    muni: Municipality | None,
    errors: Errors,
    *,
    name: object,
    identifier: object,
    address: object,
    latitude: object,
    longitude: object,
    centre_id: int | None = None,
) -> tuple[str, str | None, str, object, object]:
    """The checked name, identifier, address and coordinates of a centre in `muni` (new, or
    `centre_id`); problems go to `errors`. No coordinates: its municipality's."""
    name = _text(name, "name", 200, errors)
    address = _text(address, "address", 300, errors, required=False)
    identifier = ref.normalise_identifier(identifier)
    if muni is not None:
        bad = ref.identifier_error(muni.country, identifier)
        if bad:
            errors["identifier"] = (bad, {})
    if latitude in (None, "") and longitude in (None, ""):
        if muni is not None:  # placed at its municipality's coordinates
            latitude, longitude = muni.latitude, muni.longitude
    else:
        latitude, longitude = _number(latitude), _number(longitude)
    if muni is not None or latitude not in (None, "") or longitude not in (None, ""):
        errors.update(ref.coordinate_error(latitude, longitude))
    if identifier and "identifier" not in errors:
        taken = select(HealthCentre.id).where(HealthCentre.identifier == identifier)
        if centre_id is not None:
            taken = taken.where(HealthCentre.id != centre_id)
        if s.exec(taken).first():
            errors["identifier"] = ("reference.error.identifier_taken", {})
    return name, identifier, address, latitude, longitude


def add_centre(
    principal: Principal,
    *,
    code: str,
    name: str,
    municipality: int | str,
    identifier: str | None = None,
    address: str = "",
    latitude: float | str | None = None,
    longitude: float | str | None = None,
) -> int:
    """A health centre in a known municipality (id or code). `identifier` is the HSA-id of a
    Swedish centre or the SOR code of a Danish one (optional). Without coordinates the centre is
    placed at its municipality's."""
    _admin(principal, "reference.centre.add")
    errors: Errors = {}
    code = str(code or "").strip()
    if not code:
        errors["code"] = ("error.required", {})
    elif not ref.CENTRE_CODE_RE.match(code):
        errors["code"] = ("reference.error.centre_code", {})
    with write_session() as s:
        muni = _municipality(s, municipality)
        if muni is None:
            empty = municipality is None or str(municipality).strip() == ""
            errors["municipality"] = ("error.required" if empty else "error.invalid_choice", {})
        name, identifier, address, latitude, longitude = _centre_details(
            s, muni, errors, name=name, identifier=identifier, address=address,
            latitude=latitude, longitude=longitude,
        )  # fmt: skip
        if "code" not in errors and s.exec(select(HealthCentre.id).where(HealthCentre.code == code)).first():
            errors["code"] = ("reference.error.code_taken", {})
        if errors:
            raise ValidationError(errors)
        row = HealthCentre(
            code=code, name=name, municipality_id=muni.id, identifier=identifier, address=address,
            latitude=float(latitude), longitude=float(longitude), active=True,
        )  # fmt: skip
        s.add(row)
        s.flush()
        audit.record(
            s, principal, "reference.centre.add", care_unit=code,
            detail=f"centre={code} {name}" + (f" id={identifier}" if identifier else ""),
        )  # fmt: skip
        return row.id


def update_centre(
    principal: Principal,
    centre_id: int,
    *,
    name: str,
    identifier: str | None = None,
    address: str = "",
    latitude: float | str | None = None,
    longitude: float | str | None = None,
) -> tuple[str, ...]:
    """Correct a health centre's name, identifier, address or coordinates, checked as when it was
    added (without coordinates: its municipality's). Its code and municipality stay: the code names
    the centre in the audit log and the municipality places it in its region. Returns the fields that
    changed; nothing changed writes nothing."""
    _admin(principal, "reference.centre.edit")
    errors: Errors = {}
    with write_session() as s:
        row = None
        if isinstance(centre_id, int) and not isinstance(centre_id, bool):
            row = s.get(HealthCentre, centre_id)
        if row is None:
            raise ValidationError({"code": ("error.invalid_choice", {})})
        muni = s.get(Municipality, row.municipality_id)
        name, identifier, address, latitude, longitude = _centre_details(
            s, muni, errors, name=name, identifier=identifier, address=address,
            latitude=latitude, longitude=longitude, centre_id=row.id,
        )  # fmt: skip
        if errors:
            raise ValidationError(errors)
        new = {
            "name": name, "identifier": identifier, "address": address,
            "latitude": float(latitude), "longitude": float(longitude),
        }  # fmt: skip
        changed = tuple(field for field, value in new.items() if getattr(row, field) != value)
        if not changed:
            return ()
        for field in changed:
            setattr(row, field, new[field])
        s.add(row)
        audit.record(
            s, principal, "reference.centre.edit", care_unit=row.code,
            detail=f"centre={row.code} changed={','.join(changed)}",
        )  # fmt: skip
        return changed


# --- Programmes ----------------------------------------------------------------------------------


def list_programmes(principal: Principal) -> list[ProgrammeRow]:
    _admin(principal, "reference.list")
    with read_session() as s:
        return [
            ProgrammeRow(
                p.id, p.code, p.name_sv, p.name_da, p.name_en, tuple(p.timepoints or ()),
                tuple(p.instruments or ()), p.with_measures, p.cost_per_participant,
            )
            for p in s.exec(select(Programme).order_by(Programme.code)).all()
        ]


def add_programme(
    principal: Principal,
    *,
    code: str,
    name_sv: str,
    name_da: str,
    name_en: str,
    timepoints: Iterable[int] | str,
    instruments: Iterable[str],
    with_measures: bool = False,
    cost_per_participant: float | str | None = None,
) -> int:
    """A follow-up programme: its time points (months from enrolment, starting at 0) and the
    instruments repeated at each. Study arms are not set here."""
    _admin(principal, "reference.programme.add")
    errors: Errors = {}
    code = str(code or "").strip().lower()
    if not ref.CODE_RE.match(code):
        errors["code"] = ("reference.error.code_format", {})
    names = _names({"name_sv": name_sv, "name_da": name_da, "name_en": name_en}, errors)
    points = ref.parse_timepoints(timepoints) if isinstance(timepoints, str) else list(timepoints or ())
    if points is None or ref.timepoints_error(points):
        errors["timepoints"] = ("reference.error.timepoints", {})
    chosen = [str(i) for i in (instruments or ())]
    if not chosen or any(i not in INSTRUMENT_CODES for i in chosen) or len(set(chosen)) != len(chosen):
        errors["instruments"] = ("error.invalid_choice", {})
    cost = None
    if cost_per_participant not in (None, ""):
        cost = _number(cost_per_participant)
        if isinstance(cost, bool) or not isinstance(cost, int | float):
            errors["cost_per_participant"] = ("error.number", {})
        elif not 0 <= cost <= 10_000_000:
            errors["cost_per_participant"] = ("error.out_of_range", {"minimum": 0, "maximum": 10_000_000})
    if not isinstance(with_measures, bool):
        errors["with_measures"] = ("error.invalid_choice", {})
    with write_session() as s:
        if "code" not in errors and s.exec(select(Programme.id).where(Programme.code == code)).first():
            errors["code"] = ("reference.error.code_taken", {})
        if errors:
            raise ValidationError(errors)
        row = Programme(
            code=code, **names, timepoints=points, instruments=chosen, with_measures=with_measures,
            arms=[], cost_per_participant=float(cost) if cost is not None else None,
        )  # fmt: skip
        s.add(row)
        s.flush()
        audit.record(s, principal, "reference.programme.add", detail=f"programme={code}")
        return row.id


# --- Taxonomy terms ------------------------------------------------------------------------------


def _term_row(t: TaxonomyTerm) -> TermRow:
    synonyms = tuple(parse_synonyms(t.synonyms))
    return TermRow(t.id, t.taxonomy, t.code, t.name_sv, t.name_da, t.name_en, synonyms)


def list_terms(principal: Principal, taxonomy: str | None = None) -> list[TermRow]:
    _admin(principal, "reference.list")
    with read_session() as s:
        query = select(TaxonomyTerm).order_by(TaxonomyTerm.taxonomy, TaxonomyTerm.code)
        if taxonomy is not None:
            query = query.where(TaxonomyTerm.taxonomy == taxonomy)
        return [_term_row(t) for t in s.exec(query).all()]


def _synonyms(values: Iterable[str] | None, errors: Errors) -> list[str]:
    cleaned, problem = clean_synonyms(values or ())
    if problem:
        errors["synonyms"] = (problem, {})
    return cleaned


def add_term(
    principal: Principal,
    *,
    taxonomy: str,
    code: str,
    name_sv: str,
    name_da: str,
    name_en: str,
    synonyms: Iterable[str] | None = None,
) -> int:
    """A category, target group, accessibility feature or language, named in sv/da/en, with the
    other words people use for it (`synonyms`)."""
    _admin(principal, "reference.term.add")
    errors: Errors = {}
    if taxonomy not in ref.TAXONOMIES:
        errors["taxonomy"] = ("error.invalid_choice", {})
    code = str(code or "").strip().lower()
    if not ref.CODE_RE.match(code):
        errors["code"] = ("reference.error.code_format", {})
    names = _names({"name_sv": name_sv, "name_da": name_da, "name_en": name_en}, errors)
    cleaned = _synonyms(synonyms, errors)
    with write_session() as s:
        if not errors and s.exec(
            select(TaxonomyTerm.id).where(TaxonomyTerm.taxonomy == taxonomy, TaxonomyTerm.code == code)
        ).first():
            errors["code"] = ("reference.error.code_taken", {})
        if errors:
            raise ValidationError(errors)
        row = TaxonomyTerm(taxonomy=taxonomy, code=code, **names, synonyms=dump_synonyms(cleaned))
        s.add(row)
        s.flush()
        audit.record(s, principal, "reference.term.add", detail=f"term={taxonomy}/{code}")
        return row.id


def set_synonyms(principal: Principal, term_id: int, synonyms: Iterable[str]) -> TermRow:
    """Replace a term's synonyms (validated; the old and new counts are audited)."""
    _admin(principal, "reference.term.synonyms")
    errors: Errors = {}
    cleaned = _synonyms(synonyms, errors)
    with write_session() as s:
        valid = isinstance(term_id, int) and not isinstance(term_id, bool)
        term = s.get(TaxonomyTerm, term_id) if valid else None
        if term is None:
            raise NotFound()
        if errors:
            raise ValidationError(errors)
        before = len(parse_synonyms(term.synonyms))
        term.synonyms = dump_synonyms(cleaned)
        s.add(term)
        audit.record(
            s, principal, "reference.term.synonyms",
            detail=f"term={term.taxonomy}/{term.code} synonyms {before}->{len(cleaned)}",
        )  # fmt: skip
        s.flush()
        return _term_row(term)


def term_index(session: Session, taxonomy: str) -> dict[str, int]:
    """Map every normalised name (sv/da/en), code and synonym of the terms of one taxonomy
    ("category", "target_group", ...) to the term id.

    Keys are `domain.taxonomy.normalise_label` (casefolded, Å/Ä/Ö/Æ/Ø kept) and, as a fallback,
    `domain.taxonomy.fold_label` (without diacritics). Look labels up with
    `domain.taxonomy.lookup(index, label)`, which tries both in that order. Words shared by two
    terms are left out, so they match nothing rather than the wrong term."""
    rows = session.exec(select(TaxonomyTerm).where(TaxonomyTerm.taxonomy == taxonomy)).all()
    return build_index(
        (t.id, [t.code, t.name_sv, t.name_da, t.name_en, *parse_synonyms(t.synonyms)]) for t in rows
    )


# --- Starter vocabulary --------------------------------------------------------------------------


def seed_reference(principal: Principal) -> SeedReport:
    """Load the starter vocabulary (`db.reference_data`): missing terms and programmes are added,
    missing starter synonyms are added to existing terms (an admin's own synonyms and names are
    kept). Running it again changes nothing. One transaction, audited."""
    _admin(principal, "reference.seed")
    terms_added = synonyms_added = programmes_added = 0
    with write_session() as s:
        existing = {(t.taxonomy, t.code): t for t in s.exec(select(TaxonomyTerm)).all()}
        for taxonomy, terms in TAXONOMY.items():
            for code, sv, da, en in terms:
                starter = list(SYNONYMS.get((taxonomy, code), ()))
                term = existing.get((taxonomy, code))
                if term is None:
                    s.add(TaxonomyTerm(taxonomy=taxonomy, code=code, name_sv=sv, name_da=da, name_en=en,
                                       synonyms=dump_synonyms(starter)))  # fmt: skip
                    terms_added += 1
                    continue
                have = parse_synonyms(term.synonyms)
                merged, _ = clean_synonyms([*have, *starter])
                if len(merged) > len(have):
                    synonyms_added += len(merged) - len(have)
                    term.synonyms = dump_synonyms(merged)
                    s.add(term)
        codes = set(s.exec(select(Programme.code)).all())
        for programme in PROGRAMMES:
            if programme["code"] not in codes:
                s.add(Programme(**programme))
                programmes_added += 1
        report = SeedReport(terms_added, synonyms_added, programmes_added)
        audit.record(
            s, principal, "reference.seed",
            detail=f"terms+{terms_added} synonyms+{synonyms_added} programmes+{programmes_added}",
        )  # fmt: skip
    return report
