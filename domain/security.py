"""Password hashing (argon2id) and identity protection (AES-GCM encryption, HMAC lookup hash).

One master key (LOTSA_SECRET_KEY) yields two sub-keys by HKDF, so the lookup hash and the
ciphertext never share a key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from settings import get_settings, master_key

# argon2id parameter sets (LOTSA_PASSWORD_HASH). "owasp", the default, is the first of the OWASP
# Password Storage Cheat Sheet's equivalent argon2id configurations (m=46 MiB, t=1, p=1): about 0.03 s
# of one core per login. "rfc9106" is argon2-cffi's default, RFC 9106's low-memory profile (m=64 MiB,
# t=3, p=4): about 0.13 s of CPU per login, so a burst of 20 logins on a 2-core server waited up to
# 7 s (bench/RESULTS.md). A login under other parameters than the configured ones rewrites its hash.
HASH_PROFILES = {
    "owasp": {"time_cost": 1, "memory_cost": 47104, "parallelism": 1},
    "rfc9106": {"time_cost": 3, "memory_cost": 65536, "parallelism": 4},
}


@lru_cache(maxsize=4)
def _hasher_for(profile: str) -> tuple[PasswordHasher, str]:
    """The hasher of a profile and a hash to verify against when the user does not exist, so both
    paths cost the same time."""
    hasher = PasswordHasher(**HASH_PROFILES[profile])
    return hasher, hasher.hash("lotsa-no-such-user")


def password_hasher() -> PasswordHasher:
    return _hasher_for(get_settings().password_hash)[0]


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher, dummy = _hasher_for(get_settings().password_hash)
    try:
        return hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=8)
def _subkey(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


def _keys(master: bytes | None = None) -> tuple[bytes, bytes]:
    master = master_key() if master is None else master
    return _subkey(master, b"lotsa identity encryption v1"), _subkey(master, b"lotsa lookup hash v1")


def normalise_national_id(value: str) -> str:
    """Digits only, so '19121212-1212', '191212121212' and '121212-1212' style inputs compare."""
    return "".join(ch for ch in value if ch.isdigit())


def identity_hash(national_id: str, *, master: bytes | None = None) -> str:
    """Keyed hash for finding a patient by personnummer/CPR without storing it in clear."""
    _, mac_key = _keys(master)
    return hmac.new(mac_key, normalise_national_id(national_id).encode(), hashlib.sha256).hexdigest()


# Identity blobs. Format 2 (now): b"L2" + 12-byte nonce + AES-GCM ciphertext, with the patient's
# pseudonym in the associated data, so a blob copied onto another patient does not decrypt.
# Format 1 (before migration 0006): nonce + ciphertext with the fixed associated data b"patient";
# still read, and rewritten in format 2 by any identity update and by `manage.py rotate-key`.
_V2 = b"L2"
_LEGACY_AAD = b"patient"


class IdentityKeyError(ValueError):
    """The blob does not decrypt under this key for this patient: a wrong key, or a blob that
    belongs to another patient."""


def _aad(pseudonym: str) -> bytes:
    if not pseudonym:
        raise ValueError("an identity is bound to its patient's pseudonym")
    return b"lotsa patient v2:" + pseudonym.encode()


def encrypt_identity(
    identity: dict[str, str | None], pseudonym: str, *, master: bytes | None = None
) -> bytes:
    """Encrypt a patient's identity (national id, name, phone) bound to `pseudonym`."""
    enc_key, _ = _keys(master)
    nonce = os.urandom(12)
    return _V2 + nonce + AESGCM(enc_key).encrypt(nonce, json.dumps(identity).encode(), _aad(pseudonym))


def is_legacy_blob(blob: bytes | None) -> bool:
    """A format-1 blob (fixed associated data), to be rewritten in format 2."""
    return bool(blob) and not blob.startswith(_V2)


def decrypt_identity(
    blob: bytes | None, pseudonym: str, *, master: bytes | None = None
) -> dict[str, str | None]:
    """The identity of the patient `pseudonym`; IdentityKeyError when it does not decrypt."""
    if not blob:
        return {}
    enc_key, _ = _keys(master)
    aead = AESGCM(enc_key)
    if blob.startswith(_V2):
        try:
            return json.loads(aead.decrypt(blob[2:14], blob[14:], _aad(pseudonym)))
        except InvalidTag:
            pass  # a format-1 blob whose random nonce happens to start with b"L2" is tried below
    try:
        return json.loads(aead.decrypt(blob[:12], blob[12:], _LEGACY_AAD))
    except InvalidTag:
        raise IdentityKeyError("identity does not decrypt with this key for this patient") from None


KEY_CHECK_CONSTANT = b"lotsa key check: this value proves which LOTSA_SECRET_KEY is in use"


def key_check_value(master: bytes | None = None) -> str:
    """An HMAC of a constant under a sub-key of the master key: stored in the key_check table, it
    tells a wrong key apart without storing the key or anything that helps to guess it."""
    key = _subkey(master_key() if master is None else master, b"lotsa key check v1")
    return hmac.new(key, KEY_CHECK_CONSTANT, hashlib.sha256).hexdigest()


def client_key(client_id: str) -> str:
    """Keyed hash of a visitor's address for rate limits: countable, not reversible, not stored raw."""
    key = _subkey(master_key(), b"lotsa rate limit v1")
    return hmac.new(key, client_id.encode(), hashlib.sha256).hexdigest()
