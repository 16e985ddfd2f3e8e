"""The reasons an HSDS import is refused, in the user's language: every RecordError carries a
translation key (exchange.error.*) and its parameters, `error_text` renders it in sv/da/en, and
the exchange page shows the Swedish text for a refused upload, never the English one. The command
line keeps its English text (RecordError.message, str(error)).

Real files come from ../shared/interop-data (see its SOURCES.md); broken ones are copies of the
official HSDS 3.0 service example made in tmp_path."""

from __future__ import annotations

import copy
import json
import re
import zipfile
from pathlib import Path

import pytest
import streamlit as st

from domain import hsds
from locales import LANGUAGES, catalogue, translate
from services import hsds as hsds_io
from tests.test_directory import app, build_world, texts
from tests.test_hsds_interop import _interop, _official_example
from tests.test_translation_scan import ENGLISH

PLACEHOLDER = re.compile(r"{(\w+)}")


def _texts_of(key: str, lang: str) -> list[str]:
    cat = catalogue(lang)
    if key in cat:
        return [cat[key]]
    return [cat[f"{key}.{form}"] for form in ("one", "other") if f"{key}.{form}" in cat]


def _check(errors, *, exact_sv: dict[str, str] | None = None) -> None:
    """Every error has a key present in sv, da and en with the same placeholders, the params fill
    them, and the Swedish and Danish texts are not the English one."""
    assert errors
    for e in errors:
        assert e.key and e.key.startswith("exchange.error."), e
        forms = {lang: _texts_of(e.key, lang) for lang in LANGUAGES}
        assert all(forms.values()), (e.key, forms)
        names = {
            lang: {n for text in texts_ for n in PLACEHOLDER.findall(text)} for lang, texts_ in forms.items()
        }
        assert names["sv"] == names["da"] == names["en"], (e.key, names)
        assert names["sv"] <= set(e.params), (e.key, e.params)
        english = hsds_io.error_text(e, "en")
        for lang in ("sv", "da"):
            shown = hsds_io.error_text(e, lang)
            assert shown != english and e.message not in shown, (lang, shown)
            for template in forms[lang]:
                assert not ENGLISH.search(template), (e.key, lang, template)
    if exact_sv:
        shown = {hsds_io.error_text(e, "sv") for e in errors}
        for expected in exact_sv.values():
            assert expected in shown, (expected, shown)


def test_every_exchange_error_key_is_in_every_language_with_the_same_placeholders():
    keys = {k for k in catalogue("sv") if k.startswith("exchange.error.")}
    assert len(keys) > 20
    for key in keys:
        for lang in LANGUAGES:
            assert key in catalogue(lang), (key, lang)
            assert set(PLACEHOLDER.findall(catalogue(lang)[key])) == set(
                PLACEHOLDER.findall(catalogue("sv")[key])
            )
        for lang in ("sv", "da"):
            assert not ENGLISH.search(catalogue(lang)[key]), (key, lang)


@pytest.mark.parametrize(
    "name",
    [
        "hsds11_sample_datapackage",
        "hsds2_spec_all_resources",
        "hsds1_ohana_in_openreferral.zip",
        "oruk1_bristol_services.json",
    ],
)
def test_older_versions_are_refused_in_swedish_and_danish(name, sqlite_url):
    path = _interop(name)
    if path.suffix == ".json":
        report = hsds_io.import_json(hsds_io.read_json_records(path), url=sqlite_url)
    else:
        report = hsds_io.import_tabular(path, url=sqlite_url)
    assert report.unsupported_version
    assert all(e.key.startswith("exchange.error.version") for e in report.errors)
    _check(report.errors)
    sv = hsds_io.error_text(report.errors[0], "sv")
    assert "Lotsa importerar bara HSDS 3.x" in sv, sv
    assert "Lotsa importerer kun HSDS 3.x" in hsds_io.error_text(report.errors[0], "da")
    assert hsds.VERSION_REFUSED in report.errors[0].message  # the command line keeps its English text


def _broken_example(tmp_path: Path) -> tuple[Path, list[dict]]:
    record = json.loads(_official_example("service_full.json").read_text(encoding="utf-8"))
    records = []
    missing = copy.deepcopy(record)
    del missing["name"]
    records.append(missing)
    wrong_type = copy.deepcopy(record)
    wrong_type["id"] = "ffffffff-0000-4000-8000-000000000001"
    wrong_type["minimum_age"] = "eighteen"
    records.append(wrong_type)
    bad_enum = copy.deepcopy(record)
    bad_enum["id"] = "ffffffff-0000-4000-8000-000000000002"
    bad_enum["status"] = "open *now*"
    records.append(bad_enum)
    bad_email = copy.deepcopy(record)
    bad_email["id"] = "ffffffff-0000-4000-8000-000000000003"
    bad_email["email"] = "not an address"
    records.append(bad_email)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    return path, records


def test_schema_violations_of_a_real_example_are_translated(tmp_path, sqlite_url):
    path, _ = _broken_example(tmp_path)
    report = hsds_io.import_json(hsds_io.read_json_records(path), url=sqlite_url)
    keys = {e.key for e in report.errors}
    assert {
        "exchange.error.schema.required",
        "exchange.error.schema.type_number",
        "exchange.error.schema.enum",
        "exchange.error.schema.format_email",
    } <= keys, keys
    _check(
        report.errors,
        exact_sv={
            "required": "Fältet ”name” saknas men krävs.",
            "type": 'Värdet "eighteen" har fel typ: det ska vara ett tal.',
            "format": 'Värdet "not an address" är ingen giltig e-postadress.',
        },
    )
    enum = next(e for e in report.errors if e.key == "exchange.error.schema.enum")
    assert enum.params["value"] == '"open *now*"'
    assert "inactive" in enum.params["allowed"]
    danish = hsds_io.error_text(enum, "da")
    assert danish.startswith('Værdien "open *now*" er ikke tilladt'), danish
    # The English text for the command line is jsonschema's own, as before.
    assert (
        enum.message == "'open *now*' is not one of ['active', 'inactive', 'defunct', 'temporarily closed']"
    )


def test_an_unknown_schema_rule_gets_the_generic_translated_text():
    validator = hsds.service_validator()
    schema = {"type": "object", "properties": {"x": {"multipleOf": 3}}}
    strict = type(validator)(schema)
    errors = hsds.validate_records([{"id": "a", "name": "n", "status": "active", "x": 4}], strict)
    assert [e.key for e in errors] == ["exchange.error.schema.other"]
    assert (
        hsds_io.error_text(errors[0], "sv")
        == "Värdet 4 följer inte schemat för HSDS 3.0 (regel: multipleOf)."
    )


def test_long_values_from_the_file_are_shortened():
    validator = hsds.service_validator()
    record = {"id": "ffffffff-0000-4000-8000-000000000009", "name": "n", "status": "x" * 5000}
    (error,) = hsds.validate_records([record], validator)
    assert error.key == "exchange.error.schema.enum"
    assert len(error.params["value"]) <= hsds.MAX_VALUE
    assert len(hsds_io.error_text(error, "sv")) <= hsds.MAX_MESSAGE + 200


def test_an_over_long_name_is_refused_in_swedish(tmp_path, sqlite_url):
    record = json.loads(_official_example("service_full.json").read_text(encoding="utf-8"))
    record["name"] = "Å" * 400
    report = hsds_io.import_json([record], url=sqlite_url)
    (error,) = [e for e in report.errors if e.key == "exchange.error.too_long"]
    _check([error])
    assert hsds_io.error_text(error, "sv") == "Texten är 400 tecken lång; Lotsa sparar högst 300 tecken."
    assert hsds_io.error_text(error, "da") == "Teksten er 400 tegn lang; Lotsa gemmer højst 300 tegn."
    assert error.message == "is 400 characters long; Lotsa keeps at most 300"


def test_an_organization_list_is_not_a_service_list(sqlite_url):
    path = _official_example("organization_list.json")
    report = hsds_io.import_json(hsds_io.read_json_records(path), url=sqlite_url)
    _check(report.errors)
    assert hsds_io.error_text(report.errors[0], "sv").startswith("Posten är ingen HSDS-tjänst")


def test_not_an_array_and_no_records(sqlite_url):
    report = hsds_io.import_json({"a": 1}, url=sqlite_url)  # type: ignore[arg-type]
    _check(report.errors, exact_sv={"x": "Filen ska vara en JSON-lista med HSDS-tjänster."})
    report = hsds_io.import_json([], url=sqlite_url)
    _check(report.errors)


def test_a_non_utf8_json_file_is_named_in_swedish(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('[{"name": "Kör för seniorer"}]'.encode("latin-1"))
    with pytest.raises(ValueError) as raised:
        hsds_io.read_json_records(path)
    assert raised.value.key == "exchange.error.not_utf8"
    assert hsds_io.error_text(raised.value, "sv") == "Filen är inte UTF-8-text."
    assert str(raised.value) == f"{path} is not UTF-8 text"


def test_a_json_syntax_error_is_named_in_swedish(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[{"name": }]', encoding="utf-8")
    with pytest.raises(ValueError) as raised:
        hsds_io.read_json_records(path)
    assert hsds_io.error_text(raised.value, "sv") == "Filen är inte giltig JSON (rad 1, kolumn 11)."


def test_zips_that_are_not_hsds(tmp_path, sqlite_url):
    readme = tmp_path / "readme.zip"
    with zipfile.ZipFile(readme, "w") as z:
        z.writestr("readme.txt", "hello")
    report = hsds_io.import_tabular(readme, url=sqlite_url)
    _check(report.errors)
    assert report.errors[0].key == "exchange.error.no_services_csv"

    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"not a zip at all")
    report = hsds_io.import_tabular(fake, url=sqlite_url)
    _check(report.errors, exact_sv={"x": "Filen är varken en mapp eller en zip-fil."})

    latin = tmp_path / "latin.zip"
    with zipfile.ZipFile(latin, "w") as z:
        z.writestr("services.csv", "id,name,status\r\nx,Kör för seniorer,active\r\n".encode("latin-1"))
    report = hsds_io.import_tabular(latin, url=sqlite_url)
    _check(report.errors, exact_sv={"x": "Filen är inte UTF-8-text."})

    columns = tmp_path / "columns.zip"
    with zipfile.ZipFile(columns, "w") as z:
        z.writestr("services.csv", "id,name,status,colour,size\r\nx,n,active,red,1\r\n")
    report = hsds_io.import_tabular(columns, url=sqlite_url)
    _check(report.errors, exact_sv={"x": "Okända kolumner: 'colour', 'size'."})


def _package_with(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """A copy of the official 3.0 CSV example with `old` replaced by `new` in services.csv."""
    folder = tmp_path / name
    folder.mkdir()
    for f in _official_example("csv").iterdir():
        if f.is_file():
            (folder / f.name).write_bytes(f.read_bytes())
    text = (folder / "services.csv").read_text(encoding="utf-8-sig")
    assert old in text
    (folder / "services.csv").write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def test_csv_values_and_references_of_a_real_package(tmp_path, sqlite_url):
    number = _package_with(tmp_path, "number", ",12,100,", ",twelve,100,")
    report = hsds_io.import_tabular(number, url=sqlite_url)
    _check(report.errors, exact_sv={"x": 'Värdet "twelve" är inget tal.'})
    organization = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
    missing = "00000000-0000-4000-8000-0000000000aa"  # a well-formed id that is nowhere
    reference = _package_with(tmp_path, "reference", f",{organization},", f",{missing},")
    report = hsds_io.import_tabular(reference, url=sqlite_url)
    _check(
        report.errors,
        exact_sv={"x": f"Organisationen {missing} finns varken i importen eller i Lotsa."},
    )


def test_the_command_line_text_is_unchanged():
    error = hsds.RecordError(3, "$.status", "'x' is not one of ['active']", "abc")
    assert str(error) == "record 3 (service abc) at $.status: 'x' is not one of ['active']"
    assert hsds_io.error_text(error, "sv") == "'x' is not one of ['active']"  # no key: the message


# --- The page -----------------------------------------------------------------------------------------


class _Upload:
    def __init__(self, name: str, data: bytes) -> None:
        self.name, self._data = name, data

    def getvalue(self) -> bytes:
        return self._data


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_page_shows_a_refused_upload_in_swedish(world_exchange, tmp_path, monkeypatch):
    path, _ = _broken_example(tmp_path)
    version = _interop("oruk1_bristol_services.json")
    for upload, whole in ((path, False), (version, True)):
        monkeypatch.setattr(st, "file_uploader", lambda *a, _u=upload, **k: _Upload(_u.name, _u.read_bytes()))
        at = app(world_exchange, "admin")
        at.switch_page("app_pages/directory_exchange.py")
        at.run()
        assert not at.exception, at.exception
        next(b for b in at.button if b.label == translate("exchange.import", "sv")).click().run()
        assert not at.exception, at.exception
        shown = texts(at)
        report = hsds_io.import_json(hsds_io.read_json_records(upload))
        assert not report.ok
        if whole:
            sv = hsds_io.error_text(report.errors[0], "sv")
            assert "Lotsa importerar bara HSDS 3.x" in shown, shown
            assert hsds.VERSION_REFUSED not in shown, shown
            assert sv[:40] in shown.replace("\\", "")
        else:
            cells = [str(v) for v in at.dataframe[0].value.iloc[:, 2]]
            assert "Fältet ”name” saknas men krävs." in cells, cells
            assert not any("is a required property" in c or "is not of type" in c for c in cells), cells
            assert all(c == hsds_io.error_text(e, "sv") for c, e in zip(cells, report.errors, strict=True))


@pytest.fixture
def world_exchange(db_url):
    return build_world()
