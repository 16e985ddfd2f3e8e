"""manage.py as an operator runs it: a subprocess with LOTSA_DB_URL, answers piped on stdin."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys

from sqlalchemy import func
from sqlmodel import select

import manage
from db.engine import dispose_all, read_session
from db.models import HealthCentre, InstrumentResponse, Patient, Referral, Service, User
from services.auth import authenticate
from settings import ROOT
from tests.conftest import TEST_KEY

PASSWORD = "a long enough passphrase"


def run(url: str, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "LOTSA_DEMO"}
    environ.update(LOTSA_DB_URL=url, LOTSA_SECRET_KEY=TEST_KEY, **env)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environ,
        timeout=120,
    )


def test_help_lists_every_command():
    result = run("sqlite://", "--help")
    assert result.returncode == 0
    for command in manage.COMMANDS:
        assert re.search(rf"^\s+{command}\b", result.stdout, re.M), command
        assert command in manage.__doc__
    parser_commands = set(manage.build_parser().get_default("_handlers"))
    assert parser_commands == set(manage.COMMANDS)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in manage.COMMANDS:
        assert f"`{command}`" in readme, f"README does not document {command}"


def test_migrate_then_create_admin_from_stdin_once(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("LOTSA_DB_URL", url)
    assert run(url, "migrate").returncode == 0

    mismatch = run(url, "create-admin", "--username", "anna", stdin=f"{PASSWORD}\nsomething else\n")
    assert mismatch.returncode == 1 and "match" in mismatch.stderr

    short = run(url, "create-admin", "--username", "anna", stdin="short\nshort\n")
    assert short.returncode == 1 and "at least 12 characters" in short.stderr

    created = run(
        url, "create-admin", "--username", "Anna", "--name", "Anna Admin", "--email", "anna@region.se",
        stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert PASSWORD not in created.stdout + created.stderr
    principal = authenticate("anna", PASSWORD)
    assert principal.role == "admin" and principal.display_name == "Anna Admin"

    again = run(url, "create-admin", "--username", "bertil", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert again.returncode != 0 and "admin" in again.stderr.lower()
    with read_session() as s:
        assert s.exec(select(User.username)).all() == ["anna"]

    no_input = run(url, "create-admin", "--username", "bertil")
    assert no_input.returncode != 0 and "Nothing was created" in no_input.stderr


def test_gen_key_prints_a_fresh_32_byte_key():
    keys = {run("sqlite://", "gen-key").stdout.strip() for _ in range(2)}
    assert len(keys) == 2
    assert all(len(base64.b64decode(key, validate=True)) == 32 for key in keys)


def test_synthetic_clinic_fills_an_empty_database_once(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    monkeypatch.setenv("LOTSA_DB_URL", url)
    result = run(url, "synthetic", "--size", "clinic")
    assert result.returncode == 0, result.stderr
    assert "rows" in result.stdout
    with read_session() as s:

        def count(model) -> int:
            return s.exec(select(func.count()).select_from(model)).one()

        assert count(HealthCentre) == 1
        assert 350 <= count(Service) <= 450
        assert 800 <= count(Patient) <= 1_500
        assert 5_000 <= count(InstrumentResponse) <= 7_500
        assert count(Referral) > 200
    dispose_all()
    again = run(url, "synthetic", "--size", "clinic")
    assert again.returncode == 1 and "empty" in again.stderr


def test_demo_needs_demo_mode(sqlite_url):
    refused = run(sqlite_url, "demo")
    assert refused.returncode == 1 and "LOTSA_DEMO=1" in refused.stderr
    seeded = run(sqlite_url, "demo", LOTSA_DEMO="1")
    assert seeded.returncode == 0 and "Seeded" in seeded.stdout
    again = run(sqlite_url, "demo", LOTSA_DEMO="1")
    assert again.returncode == 0 and "not seeded" in again.stdout


def test_backup_and_restore_ask_before_replacing(sqlite_url, tmp_path):
    backup_file = tmp_path / "lotsa.backup"
    assert run(sqlite_url, "backup", str(backup_file)).returncode == 0
    assert backup_file.stat().st_size > 0

    declined = run(sqlite_url, "restore", str(backup_file), stdin="no\n")
    assert declined.returncode == 1 and "cancelled" in declined.stdout
    confirmed = run(sqlite_url, "restore", str(backup_file), stdin="yes\n")
    assert confirmed.returncode == 0 and "Restored" in confirmed.stdout

    garbage = tmp_path / "garbage.backup"
    garbage.write_bytes(b"\x00not a backup" * 100)
    refused = run(sqlite_url, "restore", str(garbage), "--yes")
    assert refused.returncode == 1 and "nothing was changed" in refused.stderr
