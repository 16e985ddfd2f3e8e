"""Done when (issue 11): a fresh real install (not demo) is set up through README steps alone and a
connector screens a patient.

The test reads the command block between `<!-- real-install:begin -->` and `<!-- real-install:end -->`
in README.md and runs each command as written with the real CLI (a subprocess of manage.py, demo
mode off, an empty database, the key from `gen-key`), answering the password prompts. Every line of
the block must be understood here, so README and test cannot drift apart. Then the connector the
README created logs in and screens a patient of the README's centre through the services.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import uuid
from datetime import date

import pytest
from sqlalchemy import text
from sqlmodel import select

from db.engine import dispose_all, read_session, unpooled_engine
from db.models import AuditEvent, HealthCentre, InstrumentResponse, KeyCheck, Programme, TaxonomyTerm, User
from services import patients, screening
from services.auth import authenticate
from settings import ROOT
from tests.conftest import _pg_reachable, _with_database, pg_server_url

PASSWORDS = {"anna": "Öresund real install: tulip harbour 2026", "lisa": "Limhamn lots: seven quiet herons"}


def readme_steps() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pattern = r"<!-- real-install:begin -->\s*```sh\n(.*?)```\s*<!-- real-install:end -->"
    block = re.search(pattern, readme, re.S)
    assert block, "README.md has no real-install block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.pg)])
def empty_db(request, tmp_path):
    """An empty database (not migrated, no template): what a new region starts from."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'lotsa.db'}"
        return
    reason = _pg_reachable()
    if reason:
        if os.environ.get("LOTSA_REQUIRE_PG") == "1":
            pytest.fail(f"LOTSA_REQUIRE_PG=1 but Postgres is unreachable: {reason}")
        pytest.skip(f"no Postgres: {reason}")
    name = f"lotsa_real_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = unpooled_engine(pg_server_url()).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield _with_database(pg_server_url(), name)
    dispose_all()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], input=stdin, capture_output=True, text=True,
        cwd=ROOT, env=env, timeout=180,
    )  # fmt: skip


def follow_readme(db_url: str) -> dict[str, str]:
    """Run the README's block; returns the environment it set up."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTSA_")}
    ran: list[str] = []
    for line in readme_steps():
        command = line.split("  #")[0].strip()
        if command.startswith("python3.11 -m venv"):
            continue  # the test runs inside the project's virtualenv already
        if command.startswith("export LOTSA_SECRET_KEY="):
            assert "manage.py gen-key" in command
            result = _run(["gen-key"], env)
            assert result.returncode == 0, result.stderr
            env["LOTSA_SECRET_KEY"] = result.stdout.strip()
            ran.append("gen-key")
            continue
        if command.startswith("export LOTSA_DB_URL="):
            env["LOTSA_DB_URL"] = db_url  # this test's own empty database
            continue
        if command == ".venv/bin/streamlit run serve.py":
            continue  # the connector's screening below goes through the same services the pages call
        parts = shlex.split(command)
        assert parts[:2] == [".venv/bin/python", "manage.py"], f"the test does not know this step: {line}"
        args = parts[2:]
        stdin = ""
        if args[0] in ("create-admin", "user"):
            username = args[args.index("--username") + 1]
            stdin = f"{PASSWORDS[username]}\n{PASSWORDS[username]}\n"
        result = _run(args, env, stdin)
        assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr
        ran.append(args[0])
    assert ran == ["gen-key", "migrate", "create-admin", "seed-reference", "municipality", "centre", "user"]
    assert "LOTSA_DEMO" not in env
    return env


def test_a_fresh_real_install_from_the_readme_lets_a_connector_screen_a_patient(empty_db, monkeypatch):
    env = follow_readme(empty_db)
    monkeypatch.setenv("LOTSA_DB_URL", empty_db)
    monkeypatch.setenv("LOTSA_SECRET_KEY", env["LOTSA_SECRET_KEY"])
    dispose_all()
    with read_session() as s:
        centre = s.exec(select(HealthCentre).where(HealthCentre.code == "VC-LIMHAMN")).one()
        assert centre.identifier == "SE2321000016-15CQ"
        assert s.exec(select(User.username).order_by(User.username)).all() == ["anna", "lisa"]  # no demo
        assert s.exec(select(TaxonomyTerm).where(TaxonomyTerm.code == "seniors")).one().synonyms != "[]"
        assert len(s.exec(select(Programme)).all()) >= 3
        assert len(s.exec(select(KeyCheck)).all()) == 1
        actions = set(s.exec(select(AuditEvent.action)).all())
    assert {"user.create_first_admin", "reference.seed", "reference.centre.add", "user.create"} <= actions

    lisa = authenticate("lisa", PASSWORDS["lisa"])
    assert lisa.role == "connector" and lisa.centre_ids == frozenset({centre.id})
    view = patients.register_patient(
        lisa, centre_id=centre.id, national_id="19121212-1212", country="SE", name="Tolvan Tolvansson",
        phone="0701234567", consents={"referral": True, "share_contact": True, "evaluation": True},
    )  # fmt: skip
    answers = {"companionship": 3, "left_out": 2, "isolated": 3}
    saved = screening.record_response(
        lisa, patient_id=view.id, instrument="ucla3", answers=answers, administered_on=date.today()
    )
    assert saved.total == 8
    with read_session() as s:
        query = select(InstrumentResponse).where(InstrumentResponse.patient_id == view.id)
        stored = s.exec(query).one()
        mine = select(AuditEvent.action).where(AuditEvent.patient_pseudonym == view.pseudonym)
        actions = s.exec(mine).all()
    assert stored.centre_id == centre.id and stored.created_by == lisa.user_id
    assert "patient.create" in actions and "screening.record" in actions
    assert [r.id for r in screening.list_responses(lisa, view.id)] == [stored.id]
    # the patient is found again by personnummer, so the identity and its lookup hash work
    assert patients.find_patient(lisa, national_id="191212121212", country="SE").id == view.id
    dispose_all()
