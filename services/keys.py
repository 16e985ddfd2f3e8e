"""The master key (LOTSA_SECRET_KEY) against the database: a startup check and key rotation.

The database keeps, per key generation, an HMAC of a constant under that key (`key_check`;
`domain.security.key_check_value`), never the key. `check_key` compares the running key with the
newest generation: a wrong key is told apart at start (app and manage.py) instead of failing on a
patient page. The first check on a database records the running key as generation 1, after making
sure it opens an existing identity, if there is one.

`rotate_key` re-encrypts every identity under a new key (bound to the patient's pseudonym),
recomputes every lookup hash, records the new generation and audits it, in one transaction: on any
failure nothing changes. Nothing is kept in clear, and the old key is not stored.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session, col, select

from db.engine import read_session, write_session
from db.models import KeyCheck, Patient
from domain.security import (
    IdentityKeyError,
    decrypt_identity,
    encrypt_identity,
    identity_hash,
    is_legacy_blob,
    key_check_value,
)
from services import audit
from settings import MissingSecretKey, get_settings, master_key


class KeyMismatch(RuntimeError):
    """LOTSA_SECRET_KEY is not the key the database's identities are encrypted with."""


MISMATCH_MESSAGE = (
    "LOTSA_SECRET_KEY does not match the key this database was encrypted with (key check "
    "generation {version}). Patient identities cannot be read with it. Set the key from your secret "
    "store and start again; if the key was rotated, use the new one."
)


@dataclass(frozen=True)
class RotateReport:
    version: int
    identities: int


def current_key_version(session: Session) -> int:
    """The newest key generation recorded (1 before any is recorded)."""
    return session.exec(select(func.max(KeyCheck.version))).one() or 1


def _sample_opens(session: Session, master: bytes) -> bool:
    sample = session.exec(
        select(Patient).where(col(Patient.identity_enc).is_not(None)).order_by(Patient.id).limit(1)
    ).first()
    if sample is None:
        return True
    try:
        decrypt_identity(sample.identity_enc, sample.pseudonym, master=master)
    except IdentityKeyError:
        return False
    return True


_checked: set[tuple[str, str]] = set()


def check_key(url: str | None = None, *, cached: bool = False) -> int:
    """The key generation the running key belongs to; raises MissingSecretKey (no or malformed
    key) or KeyMismatch (another key). On a database with no key check yet, records one.

    `cached`: skip databases this process has already checked with this key (the app checks on
    every rerun)."""
    master = master_key()
    value = key_check_value(master)
    url = url or get_settings().db_url
    if cached and (url, value) in _checked:
        return -1
    with read_session(url) as s:
        newest = s.exec(select(KeyCheck).order_by(col(KeyCheck.version).desc()).limit(1)).first()
        if newest is None:
            opens = _sample_opens(s, master)
    if newest is not None:
        if not hmac.compare_digest(newest.check_value, value):
            raise KeyMismatch(MISMATCH_MESSAGE.format(version=newest.version))
        _checked.add((url, value))
        return newest.version
    if not opens:
        raise KeyMismatch(MISMATCH_MESSAGE.format(version=1))
    with write_session(url) as s:
        if s.get(KeyCheck, 1) is None:
            s.add(KeyCheck(version=1, check_value=value))
    return check_key(url)


def key_problem(url: str | None = None) -> str | None:
    """For the app's start: None when the key is right, else the locale key of the message to show
    (`key.error.missing` or `key.error.mismatch`). A database that is not migrated yet is left to
    the migration's own error."""
    try:
        check_key(url, cached=True)
    except MissingSecretKey:
        return "key.error.missing"
    except KeyMismatch:
        return "key.error.mismatch"
    except (OperationalError, ProgrammingError):  # no key_check table: not migrated
        return None
    except (ValueError, TypeError):  # malformed base64
        return "key.error.missing"
    return None


def bind_legacy_identities(url: str | None = None) -> int:
    """Rewrite identities written before migration 0006 (fixed associated data) bound to their
    patient's pseudonym, under the running key, in one transaction; returns how many. After this no
    blob can be moved to another patient. `manage.py migrate` runs it once the key is checked."""
    master = master_key()
    check_key(url)
    count = 0
    with write_session(url) as s:
        rows = s.exec(select(Patient).where(col(Patient.identity_enc).is_not(None)).order_by(Patient.id))
        for patient in rows.all():
            if not is_legacy_blob(patient.identity_enc):
                continue
            identity = decrypt_identity(patient.identity_enc, patient.pseudonym, master=master)
            patient.identity_enc = encrypt_identity(identity, patient.pseudonym, master=master)
            s.add(patient)
            count += 1
        if count:
            audit.record(s, None, "key.bind_identities", username="cli", detail=f"identities={count}")
    return count


def rotate_key(new_master: bytes, url: str | None = None, *, operator: str = "cli") -> RotateReport:
    """Re-encrypt every identity and recompute every lookup hash under `new_master`, in one
    transaction, and record the new key generation (audited). The running key must pass
    `check_key` first."""
    if not isinstance(new_master, bytes) or len(new_master) != 32:
        raise ValueError("The new key must be 32 bytes, base64-encoded (python manage.py gen-key).")
    old_master = master_key()
    if hmac.compare_digest(old_master, new_master):
        raise ValueError("The new key is the key in use; generate another with python manage.py gen-key.")
    check_key(url)
    new_value = key_check_value(new_master)
    with write_session(url) as s:
        version = current_key_version(s) + 1
        if s.exec(select(KeyCheck.version).where(KeyCheck.check_value == new_value)).first() is not None:
            raise ValueError("This key was used before; generate a new one with python manage.py gen-key.")
        count = 0
        patients = s.exec(select(Patient).where(col(Patient.identity_enc).is_not(None)).order_by(Patient.id))
        for patient in patients.all():
            identity = decrypt_identity(patient.identity_enc, patient.pseudonym, master=old_master)
            patient.identity_enc = encrypt_identity(identity, patient.pseudonym, master=new_master)
            if patient.identity_hash is not None and identity.get("national_id"):
                patient.identity_hash = identity_hash(identity["national_id"], master=new_master)
            patient.key_version = version
            s.add(patient)
            count += 1
        s.add(KeyCheck(version=version, check_value=new_value))
        audit.record(
            s, None, "key.rotate", username=operator, detail=f"version={version} identities={count}"
        )
    _checked.clear()
    return RotateReport(version=version, identities=count)
