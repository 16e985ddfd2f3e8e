"""HSDS 3.0 export and import: the demo directory validates against the standard's compiled
service schema, survives export -> import into an empty database -> export unchanged (JSON and the
CSV data package, on SQLite and Postgres), bad input is reported by record and path and writes
nothing, re-import is idempotent, and manage.py's hsds-export / hsds-import work."""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import zipfile
from datetime import date
from pathlib import Path

import pytest
from jsonschema.validators import Draft202012Validator, validator_for
from sqlalchemy import func
from sqlmodel import select

import manage
from db.demo import seed_demo
from db.engine import dispose_all, read_session
from db.models import (
    Address,
    Attribute,
    AuditEvent,
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
)
from domain import hsds
from services import hsds as hsds_io
from services.errors import AccessDenied
from services.principal import Principal
from tests.conftest import TEST_KEY, _fresh_sqlite

TODAY = date(2026, 5, 17)
DIRECTORY = (
    Municipality,
    TaxonomyTerm,
    Organization,
    Location,
    Address,
    Service,
    ServiceAtLocation,
    Contact,
    Phone,
    Schedule,
    Attribute,
    CostOption,
    ServiceArea,
    ServiceCapacity,
    AuditEvent,
)


def _counts(url: str) -> dict[str, int]:
    with read_session(url) as s:
        return {m.__tablename__: s.exec(select(func.count()).select_from(m)).one() for m in DIRECTORY}


def _by_id(records: list[dict]) -> list[dict]:
    return sorted(records, key=lambda r: r["id"])


def _ext(record: dict, code: str) -> str | None:
    for a in record.get("attributes", ()):
        term = a.get("taxonomy_term", {})
        if term.get("taxonomy") == hsds.EXTENSION_TAXONOMY and term.get("code") == code:
            return a.get("value")
    return None


@pytest.fixture
def schemas() -> Path:
    """The schemas Lotsa uses at run time: the official ones, else the vendored copy."""
    root = hsds.schema_dir()
    assert (root / hsds.SERVICE_SCHEMA).is_file() and (root / hsds.DATAPACKAGE).is_file(), root
    return root


@pytest.fixture
def official() -> Path:
    """The official HSDS 3.0 standard (../shared/standards/hsds-3.0, or LOTSA_HSDS_SCHEMA_DIR)."""
    raw = os.environ.get(hsds.SCHEMA_DIR_ENV, "").strip()
    root = Path(raw) if raw else hsds.OFFICIAL_SCHEMA_DIR
    if not (root / hsds.SERVICE_SCHEMA).is_file():
        pytest.skip(
            f"The official HSDS 3.0 schemas are absent at {root}: conformance checked against the "
            f"vendored copy only (set {hsds.SCHEMA_DIR_ENV} to the standard's folder)"
        )
    return root


def test_the_vendored_schemas_are_the_official_ones(official):
    for name in (hsds.SERVICE_SCHEMA, hsds.DATAPACKAGE, "LICENSE"):
        assert (hsds.VENDORED_SCHEMA_DIR / name).read_bytes() == (official / name).read_bytes(), name


@pytest.fixture(scope="module")
def demo_url(sqlite_template, tmp_path_factory) -> str:
    """The demo region, seeded once for the module; tests only read it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LOTSA_SECRET_KEY", TEST_KEY)
        mp.delenv("LOTSA_DEMO", raising=False)
        url = _fresh_sqlite(sqlite_template, tmp_path_factory.mktemp("hsds_demo"))
        assert seed_demo(url, today=TODAY)
    dispose_all()
    return url


@pytest.fixture(scope="module")
def public_records(demo_url) -> list[dict]:
    return hsds_io.export_json(url=demo_url)


@pytest.fixture(scope="module")
def all_records(demo_url) -> list[dict]:
    return hsds_io.export_json(url=demo_url, include_unpublished=True)


# --- Conformance ------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["official", "vendored"])
def test_export_of_the_demo_directory_validates_against_the_compiled_service_schema(
    where, request, demo_url, public_records, all_records
):
    root = request.getfixturevalue("official") if where == "official" else hsds.VENDORED_SCHEMA_DIR
    schema = json.loads((root / hsds.SERVICE_SCHEMA).read_text(encoding="utf-8"))
    cls = validator_for(schema, default=Draft202012Validator)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    problems = [
        f"{r['id']} {e.json_path}: {e.message[:120]}" for r in all_records for e in validator.iter_errors(r)
    ]
    assert problems == [], problems[:10]
    assert hsds.validate_records(all_records) == []

    with read_session(demo_url) as s:
        total = s.exec(select(func.count()).select_from(Service)).one()
        public = s.exec(
            select(func.count())
            .select_from(Service)
            .where(Service.status == "active", Service.approval_status == "approved")
        ).one()
    assert len(all_records) == total and len(public_records) == public < total
    assert {_ext(r, "approval_status") for r in public_records} == {"approved"}
    assert {r["status"] for r in public_records} == {"active"}
    assert "pending" in {_ext(r, "approval_status") for r in all_records}

    # Nothing outside the standard at the top level; every id is a distinct service.
    assert all(set(r) <= set(schema["properties"]) for r in all_records)
    assert len({r["id"] for r in all_records}) == len(all_records)
    # The whole activity is there: organization, places with addresses, contact with phone, ...
    assert all(r["organization"]["id"] == r["organization_id"] for r in all_records)
    assert all(r["contacts"][0]["phones"] for r in all_records)
    physical = [
        sal["location"]
        for r in all_records
        for sal in r.get("service_at_locations", ())
        if sal["location"]["location_type"] == "physical"
    ]
    assert physical and all(loc["addresses"] for loc in physical)
    assert any(r.get("cost_options") for r in all_records)
    assert all(r.get("schedules") and r.get("service_areas") and r.get("languages") for r in all_records)
    schedule = all_records[0]["schedules"][0]
    assert isinstance(schedule["timezone"], int) and len(schedule["opens_at"] or "00:00") in (5, 8)
    terms = {a["taxonomy_term"]["taxonomy"] for r in all_records for a in r["attributes"]}
    assert {
        "category",
        "target_group",
        "language",
        hsds.EXTENSION_TAXONOMY,
        hsds.MUNICIPALITY_TAXONOMY,
    } <= terms


def test_the_csv_package_converts_back_to_the_same_records(schemas, all_records):
    package = hsds.datapackage()
    tables = hsds.to_tabular(all_records, package)
    assert list(tables) == [r["name"] for r in package["resources"]]
    for resource in package["resources"]:
        names = [f["name"] for f in resource["schema"]["fields"]]
        assert all(list(row) == names for row in tables[resource["name"]])
    texts = hsds.tables_to_csv(tables, package)
    assert set(texts) == {r["path"] for r in package["resources"]}
    back, errors = hsds.csv_to_tables(texts, package)
    assert errors == []
    assert hsds.from_tabular(back) == all_records


# --- Round trips ------------------------------------------------------------------------------------


def test_json_round_trip_into_an_empty_database(schemas, all_records, db_url):
    report = hsds_io.import_json(all_records, url=db_url)
    assert report.ok, [str(e) for e in report.errors[:10]]
    assert report.created["service"] == len(all_records)
    assert report.created["municipality"] == 3
    assert report.updated == {} and report.deleted == {}
    again = hsds_io.export_json(url=db_url, include_unpublished=True)
    assert _by_id(again) == _by_id(all_records)
    with read_session(db_url) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "directory.hsds_import")).one()
        assert event.outcome == "ok" and event.username == "manage.py"


def _package_tables(path: Path) -> dict[str, str]:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            return {n: archive.read(n).decode("utf-8") for n in archive.namelist()}
    return {p.name: p.read_bytes().decode("utf-8") for p in path.iterdir()}


def _rows_by_id(text: str) -> list[dict]:
    return sorted(csv.DictReader(io.StringIO(text)), key=lambda r: r["id"])


def test_tabular_round_trip_into_an_empty_database(schemas, demo_url, db_url, tmp_path):
    counts = hsds_io.export_tabular(tmp_path / "first.zip", url=demo_url, include_unpublished=True)
    assert counts["services.csv"] > 250 and counts["attributes.csv"] > counts["services.csv"]
    report = hsds_io.import_tabular(tmp_path / "first.zip", url=db_url)
    assert report.ok, [str(e) for e in report.errors[:10]]
    hsds_io.export_tabular(tmp_path / "second", url=db_url, include_unpublished=True)

    first, second = _package_tables(tmp_path / "first.zip"), _package_tables(tmp_path / "second")
    assert (
        set(first)
        == set(second)
        == {"datapackage.json"} | {r["path"] for r in hsds.datapackage()["resources"]}
    )
    assert json.loads(first["datapackage.json"]) == hsds.datapackage()
    for name in first:
        if name.endswith(".csv"):
            assert first[name].splitlines()[0] == second[name].splitlines()[0], name
            assert _rows_by_id(first[name]) == _rows_by_id(second[name]), name
    assert first == second  # rows are written sorted by id, so the files are byte for byte the same


def test_official_example_from_another_producer_imports(official, sqlite_url):
    example = json.loads((official / "examples/service_full.json").read_text(encoding="utf-8"))
    report = hsds_io.import_json([example], url=sqlite_url)
    assert report.ok, [str(e) for e in report.errors]
    assert report.warnings == []
    [record] = hsds_io.export_json(url=sqlite_url, include_unpublished=True)
    assert hsds.validate_records([record]) == []
    assert record["id"] == example["id"] and record["organization"]["name"] == example["organization"]["name"]
    assert {x["code"] for x in record["languages"]} == {"ur"}
    [schedule] = record["schedules"]
    assert schedule["opens_at"] == "10:00:00" and schedule["timezone"] == 3  # HH:MM:SS, as the package needs
    assert _ext(schedule, "timezone") == "Etc/GMT-3"
    assert _ext(record, "attending_type") == "in_person" and _ext(record, "is_free") == "false"


# --- Bad input --------------------------------------------------------------------------------------


def test_invalid_records_are_reported_by_index_and_path_and_nothing_is_written(
    schemas, all_records, sqlite_url
):
    assert hsds_io.import_json(all_records[:5], url=sqlite_url).ok
    before = _counts(sqlite_url)

    records = copy.deepcopy(all_records[:12])
    records[0]["name"] = "Renamed, but never saved"
    records[3]["schedules"][0]["freq"] = "FORTNIGHTLY"
    records[7] = copy.deepcopy(records[7]["organization"])  # an organization, not a service
    located = next(i for i, r in enumerate(records) if i != 7 and r.get("service_at_locations"))
    records[located]["service_at_locations"][0]["location"]["latitude"] = "north"
    report = hsds_io.import_json(records, url=sqlite_url)
    assert not report.ok
    found = {(e.index, e.path) for e in report.errors}
    assert (3, "$.schedules[0].freq") in found
    assert (7, "$") in found
    assert (located, "$.service_at_locations[0].location.latitude") in found
    [not_service] = [e for e in report.errors if e.index == 7]
    assert "not an HSDS service" in not_service.message and "organization" in not_service.message
    assert str(not_service).startswith("record 7 (service ")
    assert report.created == {} and _counts(sqlite_url) == before

    # Valid HSDS, but not what Lotsa can keep: reported the same way, still nothing written.
    records = copy.deepcopy(all_records[:12])
    records[0]["name"] = "Renamed, but never saved"
    records[2]["name"] = "x" * 301
    records[5]["assured_date"] = "2026-02-30"
    del records[9]["organization"]
    records[9]["organization_id"] = "7d1c9e0e-5b1a-4f0e-8f55-3c1f7f0f1a2b"
    report = hsds_io.import_json(records, url=sqlite_url)
    found = {(e.index, e.path): e.message for e in report.errors}
    assert "2026-02-30" in found[(5, "$.assured_date")]
    assert "at most 300" in found[(2, "$.name")]
    assert "neither in the import nor in Lotsa" in found[(9, "$.organization_id")]
    assert _counts(sqlite_url) == before
    with read_session(sqlite_url) as s:
        assert (
            s.exec(select(Service.name).where(Service.hsds_id == records[0]["id"])).one()
            != records[0]["name"]
        )

    assert not hsds_io.import_json({"id": "not a list"}, url=sqlite_url).ok
    assert _counts(sqlite_url) == before


def test_import_needs_an_admin_or_the_command_line(schemas, all_records, sqlite_url):
    manager = Principal(user_id=1, username="m", display_name="M", role="manager")
    with pytest.raises(AccessDenied):
        hsds_io.import_json(all_records[:1], actor=manager, url=sqlite_url)
    admin = Principal(user_id=1, username="root", display_name="Root", role="admin")
    assert hsds_io.import_json(all_records[:1], actor=admin, url=sqlite_url).ok


def test_missing_schemas_are_named_with_their_path(all_records, sqlite_url, tmp_path, monkeypatch, capsys):
    absent = tmp_path / "no-hsds-here"
    monkeypatch.setenv(hsds.SCHEMA_DIR_ENV, str(absent))
    with pytest.raises(hsds.SchemaMissing, match=r"absent at .*no-hsds-here"):
        hsds_io.import_json(all_records[:1], url=sqlite_url)
    path = tmp_path / "one.json"
    path.write_text(json.dumps(all_records[:1]), encoding="utf-8")
    assert manage.main(["hsds-import", str(path)]) == 1
    assert "no-hsds-here" in capsys.readouterr().err
    assert _counts(sqlite_url)["service"] == 0


# --- Re-import --------------------------------------------------------------------------------------


def test_reimport_is_idempotent_and_a_record_is_the_whole_truth_about_its_activity(
    schemas, all_records, sqlite_url
):
    records = copy.deepcopy(all_records[:60])
    assert hsds_io.import_json(records, url=sqlite_url).ok
    before = _counts(sqlite_url)
    again = hsds_io.import_json(records, url=sqlite_url)
    assert again.ok and again.created == {} and again.updated == {} and again.deleted == {}
    after = _counts(sqlite_url)
    assert after.pop("audit_event") == before.pop("audit_event") + 1
    assert after == before
    assert _by_id(hsds_io.export_json(url=sqlite_url, include_unpublished=True)) == _by_id(records)

    changed = next(r for r in records if len(r["schedules"]) > 1 or r.get("cost_options"))
    changed["name"] = "Ny promenadgrupp"
    dropped = changed["schedules"].pop() if len(changed["schedules"]) > 1 else None
    costs = changed.pop("cost_options", [])
    report = hsds_io.import_json(records, url=sqlite_url)
    assert report.ok and report.created == {}
    assert report.updated == {"service": 1}
    assert report.deleted == {
        k: v for k, v in {"schedule": 1 if dropped else 0, "cost_option": len(costs)}.items() if v
    }
    [exported] = [
        r for r in hsds_io.export_json(url=sqlite_url, include_unpublished=True) if r["id"] == changed["id"]
    ]
    assert exported == changed


# --- Command line -----------------------------------------------------------------------------------


def test_cli_exports_and_imports_json_and_the_data_package(
    schemas, demo_url, public_records, sqlite_url, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("LOTSA_DB_URL", demo_url)
    assert manage.main(["hsds-export", str(tmp_path / "out" / "directory.json")]) == 0
    assert f"Wrote {len(public_records)} HSDS 3.0 service records" in capsys.readouterr().out
    written = json.loads((tmp_path / "out" / "directory.json").read_text(encoding="utf-8"))
    assert written == public_records
    assert manage.main(["hsds-export", str(tmp_path / "package.zip")]) == 0  # .zip: the CSV package
    assert manage.main(["hsds-export", str(tmp_path / "package"), "--format", "tabular"]) == 0
    out = capsys.readouterr().out
    assert "services.csv" in out and zipfile.is_zipfile(tmp_path / "package.zip")
    assert (tmp_path / "package" / "services.csv").is_file()

    monkeypatch.setenv("LOTSA_DB_URL", sqlite_url)
    assert manage.main(["hsds-import", str(tmp_path / "out" / "directory.json")]) == 0
    out = capsys.readouterr().out
    assert "Imported" in out and f"{len(public_records)} created" in out
    assert manage.main(["hsds-import", str(tmp_path / "package.zip")]) == 0
    out = capsys.readouterr().out
    assert "data package" in out and f"{len(public_records)} service record(s): no changes" in out
    assert _counts(sqlite_url)["service"] == len(public_records)

    bad = copy.deepcopy(public_records[:3])
    del bad[1]["status"]
    (tmp_path / "bad.json").write_text(json.dumps(bad), encoding="utf-8")
    before = _counts(sqlite_url)
    assert manage.main(["hsds-import", str(tmp_path / "bad.json")]) == 1
    err = capsys.readouterr().err
    assert "Nothing was imported" in err and "record 1" in err and "'status' is a required property" in err
    (tmp_path / "broken.json").write_text("[{", encoding="utf-8")
    assert manage.main(["hsds-import", str(tmp_path / "broken.json")]) == 1
    assert "is not valid JSON" in capsys.readouterr().err
    assert manage.main(["hsds-import", str(tmp_path / "missing.json")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert _counts(sqlite_url) == before
