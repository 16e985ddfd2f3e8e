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
from db.models import AuditEvent, HealthCentre, InstrumentResponse, Patient, Referral, Service, User
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


def test_migrate_says_what_it_did_on_a_new_and_on_a_current_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    first = run(url, "migrate")
    assert first.returncode == 0, first.stderr
    assert "New database created and migrated to" in first.stdout
    assert "already" not in first.stdout
    again = run(url, "migrate")
    assert again.returncode == 0, again.stderr
    assert "already at the latest migration" in again.stdout


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


def test_report_writes_what_the_user_may_see_and_refuses_the_rest(sqlite_url, tmp_path):
    """`report` as an operator runs it on the demo region: the manager's report is one offline HTML
    file with the centres' names; a bad period, a centre outside the user's scope, a partner and an
    unknown user are refused with a message and no file; every run is audited."""
    env = {"LOTSA_DEMO": "1"}
    assert run(sqlite_url, "demo", **env).returncode == 0
    out = tmp_path / "reports" / "manager.html"
    ok = run(sqlite_url, "report", "--user", "demo-manager", "--from", "2026-01-01", "--to", "2026-03-31",
             "--out", str(out), "--language", "en")  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    html = out.read_text(encoding="utf-8")
    assert "Vårdcentralen Limhamn" in html and "Vårdcentralen Rosengård" in html
    assert "Vårdcentralen Dalby" not in html  # not one of the manager's centres
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=[\"']?(https?:)?//", html)
    with read_session(sqlite_url) as s:
        dalby = s.exec(select(HealthCentre.id).where(HealthCentre.name == "Vårdcentralen Dalby")).one()
    refused = {
        "bad period": ("--user", "demo-manager", "--from", "2026-06-30", "--to", "2026-01-01"),
        "other centre": (
            "--user",
            "demo-manager",
            "--from",
            "2026-01-01",
            "--to",
            "2026-06-30",
            "--centre",
            str(dalby),
        ),
        "partner": ("--user", "demo-partner", "--from", "2026-01-01", "--to", "2026-06-30"),
        "unknown user": ("--user", "nobody", "--from", "2026-01-01", "--to", "2026-06-30"),
    }
    for case, args in refused.items():
        target = tmp_path / f"{case}.html"
        result = run(sqlite_url, "report", *args, "--out", str(target))
        assert result.returncode == 1, (case, result.stdout, result.stderr)
        assert result.stderr.strip(), case
        assert not target.exists(), case
    dispose_all()
    with read_session(sqlite_url) as s:
        views = s.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "dashboard.view")
        ).one()
        denied = s.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.outcome == "denied")
        ).one()
    assert views >= 1 and denied >= 2  # the other centre and the partner


def test_refresh_summaries_rebuilds_every_centre(sqlite_url):
    assert run(sqlite_url, "demo", LOTSA_DEMO="1").returncode == 0
    result = run(sqlite_url, "refresh-summaries")
    assert result.returncode == 0, result.stderr
    with read_session(sqlite_url) as s:
        centres = s.exec(select(func.count()).select_from(HealthCentre)).one()
    assert f"of {centres:,} centres" in result.stdout
