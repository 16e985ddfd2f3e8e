"""Every UI string exists in Swedish, Danish and English; no key is defined twice; every key the
code asks for exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from components.navigation import LOGIN_PAGE, PAGES
from locales import LANGUAGES, catalogue, translate

ROOT = Path(__file__).resolve().parents[1]


def test_every_language_has_the_same_keys():
    keys = {lang: set(catalogue(lang)) for lang in LANGUAGES}
    for lang in LANGUAGES:
        missing = keys["sv"] - keys[lang]
        extra = keys[lang] - keys["sv"]
        assert not missing, f"{lang} lacks {sorted(missing)}"
        assert not extra, f"{lang} has keys Swedish lacks: {sorted(extra)}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_key_is_defined_in_two_files(lang):
    seen: dict[str, str] = {}
    for path in sorted((ROOT / "locales" / lang).glob("*.json")):
        for key in json.loads(path.read_text(encoding="utf-8")):
            assert key not in seen, f"{key} in both {seen[key]} and {path.name}"
            seen[key] = path.name


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_match_swedish(lang):
    for key, text in catalogue("sv").items():
        assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", catalogue(lang)[key])), key


def test_every_literal_key_used_in_code_exists():
    pattern = re.compile(r"""\bt\(\s*["']([a-z0-9_]+\.[a-z0-9_.]+)["']""")
    used = set()
    for folder in ("app_pages", "components", "app.py"):
        paths = [ROOT / folder] if folder.endswith(".py") else (ROOT / folder).rglob("*.py")
        for path in paths:
            used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    for spec in (*PAGES, LOGIN_PAGE):
        used.add(f"page.{spec.key}")
    missing = sorted(k for k in used if k not in catalogue("sv"))
    assert not missing, missing


def test_error_keys_raised_by_services_exist():
    pattern = re.compile(r"""["'](error\.[a-z0-9_]+)["']""")
    used = set()
    for path in (ROOT / "services").rglob("*.py"):
        used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    used -= {"error.national_id_"}
    missing = sorted(k for k in used if k not in catalogue("sv"))
    assert not missing, missing


def test_translate_falls_back_and_formats():
    assert translate("home.hello", "en", name="Ann") == "Hello Ann!"
    assert translate("home.hello", "xx", name="Ann") == translate("home.hello", "sv", name="Ann")
    assert translate("no.such.key", "da") == "no.such.key"
