"""The master key against the database: identities bound to their patient (per-record associated
data), old blobs still read, a stored key check that turns a wrong key into a plain message (app and
manage.py), and rotate-key re-encrypting everything in one transaction."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import func
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.engine import dispose_all, read_session, write_session
from db.models import AuditEvent, KeyCheck, Patient
from domain.security import (
    IdentityKeyError,
    _keys,
    decrypt_identity,
    encrypt_identity,
    identity_hash,
    is_legacy_blob,
)
from locales import translate
from services import keys, patients
from services.errors import IdentityUnreadable
from settings import ROOT
from tests.conftest import TEST_KEY
from tests.factories import make_world

NEW_KEY = base64.b64encode(b"n" * 32).decode()
WRONG_KEY = base64.b64encode(b"w" * 32).decode()
ALL = select(Patient).order_by(Patient.id)


def _register(world, national_id: str, name: str):
    return patients.register_patient(
        world.principals["connector"], centre_id=world.centre_a, national_id=national_id, country="SE",
        name=name, phone="0701234567",
    )  # fmt: skip


def _legacy_blob(identity: dict) -> bytes:
    """An identity as written before migration 0006: fixed associated data b"patient"."""
    enc_key, _ = _keys()
    nonce = os.urandom(12)
    return nonce + AESGCM(enc_key).encrypt(nonce, json.dumps(identity).encode(), b"patient")


# --- per-record associated data --------------------------------------------------------------------


def test_identity_blob_is_bound_to_its_patient():
    blob = encrypt_identity({"name": "Tolvan"}, "PSEUDO-A")
    assert decrypt_identity(blob, "PSEUDO-A") == {"name": "Tolvan"}
    with pytest.raises(IdentityKeyError):
        decrypt_identity(blob, "PSEUDO-B")
    with pytest.raises(IdentityKeyError):
        decrypt_identity(blob, "PSEUDO-A", master=b"w" * 32)
    with pytest.raises(ValueError):
        encrypt_identity({"name": "x"}, "")


def _swapped_identity(world):
    """Tolvan (a) and Kalle (b), with a's identity blob copied onto b's row (a swapped blob)."""
    a = _register(world, "19121212-1212", "Tolvan Tolvansson")
    b = _register(world, "19460101-0038", "Kalle Karlsson")
    with write_session() as s:
        pa, pb = s.get(Patient, a.id), s.get(Patient, b.id)
        pb.identity_enc = pa.identity_enc
        s.add(pb)
    return a, b


def test_a_blob_swapped_onto_another_patient_does_not_open(db_url):
    world = make_world()
    a, b = _swapped_identity(world)
    with pytest.raises(IdentityUnreadable) as unreadable:
        patients.get_profile(world.principals["connector"], b.id)
    assert unreadable.value.params == {"pseudonym": b.pseudonym}
    assert patients.get_profile(world.principals["connector"], a.id).name == "Tolvan Tolvansson"
    with read_session() as s:
        [event] = s.exec(select(AuditEvent).where(AuditEvent.outcome == "error")).all()
    assert (event.action, event.detail) == ("patient.read", "unreadable")
    assert event.patient_pseudonym == b.pseudonym


def test_the_patient_page_explains_an_unreadable_identity_instead_of_crashing(sqlite_url):
    """A tampered or swapped identity blob showed a raw error on the patient page; now a plain
    message in the user's language names the pseudonym to give the administrator."""
    from tests.test_pages import logged_in

    world = make_world()
    _, b = _swapped_identity(world)
    at = logged_in(world, "connector")
    at.switch_page("app_pages/patient.py")
    at.query_params["patient"] = str(b.id)
    at.run()
    assert not at.exception, at.exception
    message = translate("error.identity_unreadable", "sv", pseudonym=b.pseudonym)
    assert [e.value for e in at.error] == [message]
    assert "Tolvan" not in " ".join(str(m.value) for m in at.markdown)


def test_blobs_from_before_0006_still_open_and_are_rewritten_bound_on_update(db_url):
    world = make_world()
    view = _register(world, "19121212-1212", "Tolvan Tolvansson")
    identity = {"national_id": "191212121212", "name": "Tolvan Tolvansson", "phone": "0701234567"}
    with write_session() as s:
        row = s.get(Patient, view.id)
        row.identity_enc = _legacy_blob(identity)
        s.add(row)
    connector = world.principals["connector"]
    assert patients.get_profile(connector, view.id).name == "Tolvan Tolvansson"
    patients.update_profile(connector, view.id, what_matters="Promenader")  # identity itself unchanged
    with read_session() as s:
        row = s.get(Patient, view.id)
    assert not is_legacy_blob(row.identity_enc)
    assert decrypt_identity(row.identity_enc, row.pseudonym) == identity


# --- key check ---------------------------------------------------------------------------------------


def test_first_check_records_the_key_and_a_wrong_key_is_told_apart(db_url, monkeypatch):
    world = make_world()
    _register(world, "19121212-1212", "Tolvan Tolvansson")
    assert keys.check_key() == 1
    with read_session() as s:
        (check,) = s.exec(select(KeyCheck)).all()
    assert TEST_KEY not in check.check_value and len(check.check_value) == 64
    assert keys.check_key() == 1  # the same key again: fine, nothing more recorded
    monkeypatch.setenv("LOTSA_SECRET_KEY", WRONG_KEY)
    with pytest.raises(keys.KeyMismatch, match="does not match"):
        keys.check_key()
    assert keys.key_problem() == "key.error.mismatch"
    monkeypatch.setenv("LOTSA_SECRET_KEY", "")
    assert keys.key_problem() == "key.error.missing"
    monkeypatch.setenv("LOTSA_SECRET_KEY", "bm90IDMyIGJ5dGVz")
    assert keys.key_problem() == "key.error.missing"


def test_first_check_refuses_a_key_that_does_not_open_existing_identities(db_url, monkeypatch):
    world = make_world()
    _register(world, "19121212-1212", "Tolvan Tolvansson")  # written with TEST_KEY, no check recorded
    monkeypatch.setenv("LOTSA_SECRET_KEY", WRONG_KEY)
    with pytest.raises(keys.KeyMismatch):
        keys.check_key()
    with read_session() as s:
        assert s.exec(select(func.count()).select_from(KeyCheck)).one() == 0


def test_app_with_a_wrong_key_shows_a_plain_message_not_a_crash(sqlite_url, monkeypatch):
    world = make_world()
    _register(world, "19121212-1212", "Tolvan Tolvansson")
    keys.check_key()
    monkeypatch.setenv("LOTSA_SECRET_KEY", WRONG_KEY)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    text = " ".join(e.value for e in at.error)
    assert translate("key.error.title", "sv") in text and translate("key.error.mismatch", "sv") in text
    monkeypatch.setenv("LOTSA_SECRET_KEY", TEST_KEY)
    keys._checked.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception and not at.error


# --- rotation ------------------------------------------------------------------------------------------


def test_rotate_key_re_encrypts_every_identity_and_lookup_hash_in_one_go(db_url, monkeypatch):
    world = make_world()
    a = _register(world, "19121212-1212", "Tolvan Tolvansson")
    b = _register(world, "19460101-0038", "Kalle Karlsson")
    keys.check_key()
    with read_session() as s:
        before = {p.id: (bytes(p.identity_enc), p.identity_hash) for p in s.exec(select(Patient)).all()}
    report = keys.rotate_key(base64.b64decode(NEW_KEY))
    assert (report.version, report.identities) == (2, 2)
    with read_session() as s:
        rows = {p.id: p for p in s.exec(select(Patient)).all()}
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "key.rotate")).one()
    assert event.detail == "version=2 identities=2"
    for pid, row in rows.items():
        assert bytes(row.identity_enc) != before[pid][0] and row.identity_hash != before[pid][1]
        assert row.key_version == 2
        assert b"Tolvan" not in row.identity_enc and b"191212121212" not in row.identity_enc
    # the old key no longer fits; the new one opens and finds everything
    with pytest.raises(keys.KeyMismatch):
        keys.check_key()
    monkeypatch.setenv("LOTSA_SECRET_KEY", NEW_KEY)
    assert keys.check_key() == 2
    connector = world.principals["connector"]
    assert rows[a.id].identity_hash == identity_hash("191212121212")
    assert patients.find_patient(connector, national_id="19121212-1212", country="SE").id == a.id
    assert patients.get_profile(connector, b.id).name == "Kalle Karlsson"
    # a new patient is written under the new generation
    c = _register(world, "19500505-0041", "Nya Nyström")
    with read_session() as s:
        assert s.get(Patient, c.id).key_version == 2


def test_rotate_key_changes_nothing_when_one_identity_does_not_open(db_url):
    world = make_world()
    a = _register(world, "19121212-1212", "Tolvan Tolvansson")
    b = _register(world, "19460101-0038", "Kalle Karlsson")
    keys.check_key()
    with write_session() as s:  # b now carries a's blob: it does not open for b
        s.get(Patient, b.id).identity_enc = s.get(Patient, a.id).identity_enc
    with read_session() as s:
        before = {p.id: (bytes(p.identity_enc), p.identity_hash, p.key_version) for p in s.exec(ALL)}
    with pytest.raises(IdentityKeyError):
        keys.rotate_key(base64.b64decode(NEW_KEY))
    with read_session() as s:
        after = {p.id: (bytes(p.identity_enc), p.identity_hash, p.key_version) for p in s.exec(ALL)}
        assert s.exec(select(func.count()).select_from(KeyCheck)).one() == 1
    assert after == before
    with pytest.raises(ValueError):
        keys.rotate_key(base64.b64decode(TEST_KEY))  # the key in use
    with pytest.raises(ValueError):
        keys.rotate_key(b"short")


# --- manage.py ---------------------------------------------------------------------------------------


def _manage(url: str, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("LOTSA_DEMO", "LOTSA_NEW_SECRET_KEY")}
    environ.update(LOTSA_DB_URL=url, LOTSA_SECRET_KEY=TEST_KEY)
    environ.update(env)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], input=stdin, capture_output=True, text=True,
        cwd=ROOT, env=environ, timeout=120,
    )  # fmt: skip


def test_cli_checks_the_key_and_rotates_it(db_url):
    world = make_world()
    view = _register(world, "19121212-1212", "Tolvan Tolvansson")
    dispose_all()
    ok = _manage(db_url, "check-key")
    assert ok.returncode == 0 and "key generation 1" in ok.stdout
    wrong = _manage(db_url, "centre", "list", "--as", "t-admin", LOTSA_SECRET_KEY=WRONG_KEY)
    assert wrong.returncode == 2 and "does not match" in wrong.stderr and "Traceback" not in wrong.stderr
    assert _manage(db_url, "check-key", LOTSA_SECRET_KEY=WRONG_KEY).returncode == 2
    missing = _manage(db_url, "rotate-key", "--yes")
    assert missing.returncode == 1 and "LOTSA_NEW_SECRET_KEY" in missing.stderr
    cancelled = _manage(db_url, "rotate-key", stdin="no\n", LOTSA_NEW_SECRET_KEY=NEW_KEY)
    assert cancelled.returncode == 1 and "Nothing changed" in cancelled.stderr
    done = _manage(db_url, "rotate-key", stdin="yes\n", LOTSA_NEW_SECRET_KEY=NEW_KEY)
    assert done.returncode == 0, done.stderr
    assert "Re-encrypted 1 identities" in done.stdout
    assert _manage(db_url, "check-key").returncode == 2  # the old key is refused now
    assert _manage(db_url, "check-key", LOTSA_SECRET_KEY=NEW_KEY).returncode == 0
    with read_session() as s:
        row = s.get(Patient, view.id)
    assert row.key_version == 2
    assert decrypt_identity(row.identity_enc, row.pseudonym, master=b"n" * 32)["name"] == "Tolvan Tolvansson"


def test_migrate_binds_identities_from_before_0006_to_their_patients(db_url):
    world = make_world()
    a = _register(world, "19121212-1212", "Tolvan Tolvansson")
    b = _register(world, "19460101-0038", "Kalle Karlsson")
    identity = {"national_id": "191212121212", "name": "Tolvan Tolvansson", "phone": "0701234567"}
    with write_session() as s:
        s.get(Patient, a.id).identity_enc = _legacy_blob(identity)
    with read_session() as s:
        untouched = bytes(s.get(Patient, b.id).identity_enc)
    dispose_all()
    done = _manage(db_url, "migrate")
    assert done.returncode == 0, done.stderr
    assert "Bound 1 identities" in done.stdout
    with read_session() as s:
        row_a, row_b = s.get(Patient, a.id), s.get(Patient, b.id)
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "key.bind_identities")).one()
    assert not is_legacy_blob(row_a.identity_enc) and bytes(row_b.identity_enc) == untouched
    assert decrypt_identity(row_a.identity_enc, row_a.pseudonym) == identity
    assert event.detail == "identities=1"
    again = _manage(db_url, "migrate")
    assert again.returncode == 0 and "Bound" not in again.stdout
