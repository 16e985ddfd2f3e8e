"""The configuration and its documentation agree: .streamlit/config.toml, environment variables,
the manage.py commands, the make targets and the roles & pages table in README.md."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest

from components.navigation import ALL_ROLES, LOGIN_PAGE, PAGES
from locales import translate
from manage import COMMANDS, build_parser
from settings import ENV_VARS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CONFIG_TOML = ROOT / ".streamlit" / "config.toml"
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "data", "artifacts", "__pycache__"}


def _readme_section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, flags=re.M | re.S)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def _table_rows(section: str) -> list[list[str]]:
    """The cells of the first Markdown table in `section`, header first, separator left out."""
    rows = []
    for line in section.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if all(set(cell) <= set("-: ") for cell in cells):
            continue
        rows.append(cells)
    return rows


# .streamlit/config.toml -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def streamlit_config() -> dict:
    return tomllib.loads(CONFIG_TOML.read_text(encoding="utf-8"))


def test_streamlit_config_keeps_usage_stats_off_and_error_details_hidden(streamlit_config):
    assert streamlit_config["browser"]["gatherUsageStats"] is False
    assert streamlit_config["client"]["showErrorDetails"] == "none"
    assert streamlit_config["client"]["toolbarMode"] == "viewer"
    assert streamlit_config["server"]["headless"] is True


def test_streamlit_config_has_only_options_streamlit_knows(streamlit_config):
    from streamlit import config

    known = config._config_options_template  # the option registry; a typo here is silently ignored
    for section, options in streamlit_config.items():
        for name, value in options.items():
            key = f"{section}.{name}"
            assert key in known, f"{key} is not a Streamlit config option"
            assert isinstance(value, known[key].type), f"{key} should be {known[key].type.__name__}"
    for key, allowed in {
        "client.showErrorDetails": {"full", "stacktrace", "type", "none"},
        "client.toolbarMode": {"auto", "developer", "viewer", "minimal"},
    }.items():
        section, name = key.split(".")
        assert streamlit_config[section][name] in allowed
        assert all(f'"{value}"' in known[key].description for value in allowed), f"{key}: values changed"


# Environment variables --------------------------------------------------------------------------


def test_every_env_var_is_documented_in_the_readme():
    undocumented = [name for name in ENV_VARS if f"`{name}`" not in README]
    assert not undocumented, f"README.md does not document {undocumented}"


def _project_files():
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d == ".ci" or (d not in SKIP_DIRS and not d.startswith("."))]
        for filename in filenames:
            path = Path(dirpath) / filename
            if path.suffix == ".py" or filename == "Makefile" or path.parent.name == ".ci":
                yield path


def test_every_lotsa_variable_the_code_reads_is_in_env_vars():
    here = Path(__file__).resolve()
    used: dict[str, Path] = {}
    for path in _project_files():
        if path.resolve() == here:
            continue
        for name in re.findall(r"\bLOTSA_[A-Z0-9_]+\b", path.read_text(encoding="utf-8", errors="replace")):
            used.setdefault(name, path.relative_to(ROOT))
    unknown = {name: str(path) for name, path in used.items() if name not in ENV_VARS}
    assert not unknown, f"add these to settings.ENV_VARS and README.md: {unknown}"


# manage.py --------------------------------------------------------------------------------------


def _subcommands() -> list[str]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return list(sub.choices)


def test_manage_py_commands_match_its_command_list():
    assert sorted(_subcommands()) == sorted(COMMANDS)


def test_every_manage_py_command_is_in_the_readme_command_table():
    table = _table_rows(_readme_section("Command line"))
    documented = {row[0].strip("`") for row in table[1:]}
    assert not set(_subcommands()) - documented, f"missing from README: {set(_subcommands()) - documented}"


# Roles and pages --------------------------------------------------------------------------------


def test_every_page_is_in_the_readme_roles_and_pages_table_with_the_right_roles():
    """Rows start with the page's English title ("Home: …"); the ✓ columns of all rows for one
    title are the roles that see a page with that title (visitors have no column)."""
    header, *rows = _table_rows(_readme_section("Roles and pages"))
    columns = [h.lower() for h in header]
    assert set(ALL_ROLES) <= set(columns), f"the table needs one column per role: {header}"

    def ticked(title: str) -> set[str] | None:
        matching = [row for row in rows if re.match(rf"{re.escape(title)}(?!\w)", row[0], flags=re.I)]
        if not matching:
            return None
        return {columns[i] for row in matching for i, cell in enumerate(row) if i and cell == "✓"}

    expected: dict[str, set[str]] = {}
    for page in PAGES:
        expected.setdefault(translate(f"page.{page.key}", "en"), set()).update(
            role for role in page.roles if role in ALL_ROLES
        )
    problems = {}
    for title, roles in expected.items():
        found = ticked(title)
        if found is None:
            problems[title] = "no row"
        elif found != roles:
            problems[title] = f"ticked for {sorted(found)}, PAGES says {sorted(roles)}"
    assert translate(f"page.{LOGIN_PAGE.key}", "en") == "Log in"
    assert any(re.match(r"log ?in\b", row[0], flags=re.I) for row in rows), "no Login row"
    assert not problems, f"README roles & pages table vs components/navigation.py PAGES: {problems}"


# make targets -----------------------------------------------------------------------------------


def test_every_make_target_the_readme_mentions_exists():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", makefile, flags=re.M))
    mentioned = set(re.findall(r"\bmake ([a-z][\w-]*)", README))
    assert {"run", "test"} <= mentioned
    assert not mentioned - targets, f"README mentions make targets that do not exist: {mentioned - targets}"


def test_ci_script_is_executable_and_strict():
    script = ROOT / ".ci" / "run"
    assert os.access(script, os.X_OK)
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash") or text.startswith("#!/bin/bash")
    assert "set -euo pipefail" in text
    assert "make test" in text and "make lint" in text
