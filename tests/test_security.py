"""Security properties: password hashing, lockout, identical failure messages, audit of every
patient read and write, centre scoping in the service layer, and no identity in clear on disk."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from db.engine import get_engine, read_session, write_session
from db.models import AuditEvent, Patient, User, utcnow
from domain.security import decrypt_identity, hash_password, identity_hash, password_hasher, verify_password
from services.auth import authenticate
from services.errors import AccessDenied, LoginFailed
from services.patients import count_patients, find_patient, get_patient, register_patient
from tests.factories import PASSWORD, make_world

TOLVAN = "19121212-1212"


def events(action: str | None = None) -> list[AuditEvent]:
    with read_session() as s:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return list(s.exec(query).all())


# OWASP Password Storage Cheat Sheet: argon2id configurations of equal defence (memory KiB, passes).
OWASP_ARGON2ID = ((47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5))


@pytest.mark.parametrize("profile", ["", "owasp", "rfc9106"])
def test_password_hash_is_argon2id_at_least_one_of_owasps_configurations(monkeypatch, profile):
    monkeypatch.setenv("LOTSA_PASSWORD_HASH", profile)
    encoded = hash_password("a long enough password")
    assert encoded.startswith("$argon2id$")
    params = dict(p.split("=") for p in re.search(r"\$m=[^$]+", encoded).group(0)[1:].split(","))
    m, t = int(params["m"]), int(params["t"])
    assert any(m >= floor_m and t >= floor_t for floor_m, floor_t in OWASP_ARGON2ID), params
    assert (m, t, int(params["p"])) == ((65536, 3, 4) if profile == "rfc9106" else (47104, 1, 1))
    assert password_hasher().type.name == "ID"
    assert verify_password(encoded, "a long enough password")
    assert not verify_password(encoded, "another password")
    assert not verify_password(None, "anything")


def test_unknown_user_and_wrong_password_fail_identically(db_url):
    make_world()
    with pytest.raises(LoginFailed) as unknown:
        authenticate("nobody-here", PASSWORD)
    with pytest.raises(LoginFailed) as wrong:
        authenticate("t-connector", "not the password")
    assert unknown.value.key == wrong.value.key == "login.failed"
    assert str(unknown.value) == str(wrong.value)


def test_lockout_after_five_failures_for_fifteen_minutes(db_url):
    make_world()
    for _ in range(5):
        with pytest.raises(LoginFailed):
            authenticate("t-connector", "wrong password")
    # Even the right password is refused while locked, with the same message.
    with pytest.raises(LoginFailed) as locked:
        authenticate("t-connector", PASSWORD)
    assert locked.value.key == "login.failed"
    with read_session() as s:
        user = s.exec(select(User).where(User.username == "t-connector")).one()
    remaining = user.locked_until - utcnow()
    assert timedelta(minutes=14) < remaining <= timedelta(minutes=15)
    assert [e.outcome for e in events("login.lockout")] == ["locked"]
    # After the lock expires, the right password works again.
    with write_session() as s:
        user = s.get(User, user.id)
        user.locked_until = utcnow() - timedelta(seconds=1)
        s.add(user)
    assert authenticate("t-connector", PASSWORD).username == "t-connector"


def test_disabled_user_cannot_log_in(db_url):
    make_world()
    with write_session() as s:
        user = s.exec(select(User).where(User.username == "t-partner")).one()
        user.is_active = False
        s.add(user)
    with pytest.raises(LoginFailed):
        authenticate("t-partner", PASSWORD)


def test_every_patient_read_and_write_is_audited(db_url):
    world = make_world()
    connector = world.principals["connector"]
    created = register_patient(
        connector,
        centre_id=world.centre_a,
        national_id=TOLVAN,
        country="SE",
        name="Tolvan Tolvansson",
        phone="070-123 45 67",
    )
    get_patient(connector, created.id)
    find_patient(connector, national_id=TOLVAN, country="SE")
    audited = [
        (e.action, e.outcome, e.patient_pseudonym, e.username, e.role)
        for e in events()
        if e.action.startswith("patient.")
    ]
    assert audited == [
        ("patient.create", "ok", created.pseudonym, "t-connector", "connector"),
        ("patient.read", "ok", created.pseudonym, "t-connector", "connector"),
        ("patient.search", "ok", created.pseudonym, "t-connector", "connector"),
    ]
    assert all(e.care_unit == "VC-A" for e in events() if e.action.startswith("patient."))


def test_connector_of_other_centre_is_denied_and_audited(db_url):
    world = make_world()
    created = register_patient(
        world.principals["connector"],
        centre_id=world.centre_a,
        national_id=TOLVAN,
        country="SE",
        name="Tolvan Tolvansson",
    )
    intruder = world.principals["connector_b"]
    with pytest.raises(AccessDenied):
        get_patient(intruder, created.id)
    with pytest.raises(AccessDenied):
        find_patient(intruder, national_id=TOLVAN, country="SE")
    with pytest.raises(AccessDenied):
        register_patient(
            intruder, centre_id=world.centre_a, national_id="19800101-0005", country="SE", name="X"
        )
    denied = [(e.action, e.username, e.patient_pseudonym) for e in events() if e.outcome == "denied"]
    assert ("patient.read", "t-connector-b", created.pseudonym) in denied
    assert ("patient.search", "t-connector-b", created.pseudonym) in denied
    assert ("patient.create", "t-connector-b", None) in denied


@pytest.mark.parametrize("role", ["admin", "manager", "partner"])
def test_non_connectors_cannot_read_patients(db_url, role):
    world = make_world()
    created = register_patient(
        world.principals["connector"],
        centre_id=world.centre_a,
        national_id=TOLVAN,
        country="SE",
        name="Tolvan Tolvansson",
    )
    with pytest.raises(AccessDenied):
        get_patient(world.principals[role], created.id)
    assert any(e.outcome == "denied" and e.role == role for e in events("patient.read"))


def test_counts_are_scoped_to_the_principals_centres(db_url):
    world = make_world()
    register_patient(
        world.principals["connector"],
        centre_id=world.centre_a,
        national_id=TOLVAN,
        country="SE",
        name="Tolvan Tolvansson",
    )
    assert count_patients(world.principals["connector"]) == {world.centre_a: 1}
    assert count_patients(world.principals["connector_b"]) == {}
    with pytest.raises(AccessDenied):
        count_patients(world.principals["partner"])


def test_audit_log_is_append_only_in_the_database(db_url):
    make_world()
    with pytest.raises(LoginFailed):
        authenticate("t-admin", "wrong password")
    for statement in ("UPDATE audit_event SET outcome = 'ok'", "DELETE FROM audit_event"):
        with pytest.raises(Exception, match="append-only"), get_engine().begin() as conn:
            conn.execute(text(statement))
    assert len(events()) >= 1


def test_identity_is_encrypted_and_looked_up_by_keyed_hash(db_url):
    world = make_world()
    created = register_patient(
        world.principals["connector"],
        centre_id=world.centre_a,
        national_id=TOLVAN,
        country="SE",
        name="Tolvan Tolvansson",
        phone="0701234567",
    )
    with read_session() as s:
        row = s.get(Patient, created.id)
    assert row.identity_hash == identity_hash("191212121212") != "191212121212"
    assert b"Tolvan" not in row.identity_enc and b"191212121212" not in row.identity_enc
    assert decrypt_identity(row.identity_enc, row.pseudonym)["name"] == "Tolvan Tolvansson"


def test_no_patient_identity_in_clear_in_the_sqlite_file(sqlite_url):
    world = make_world()
    canary_name = "Kanarie Fågelsdotter-Zyxwv"
    canary_phone = "0739998877"
    register_patient(
        world.principals["connector"],
        centre_id=world.centre_a,
        national_id=TOLVAN,
        country="SE",
        name=canary_name,
        phone=canary_phone,
    )
    get_engine().dispose()  # checkpoint WAL contents into the main file on close
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    files = [path, path.with_name(path.name + "-wal")]
    blob = b"".join(f.read_bytes() for f in files if f.exists())
    for secret in ("Kanarie", "Zyxwv", canary_phone, "191212121212", "19121212-1212", "121212-1212"):
        assert secret.encode() not in blob, secret
        assert secret.encode("utf-16-le") not in blob, secret
