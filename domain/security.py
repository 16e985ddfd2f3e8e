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
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from settings import master_key

# argon2-cffi's defaults (RFC 9106 low-memory profile: argon2id, t=3, m=64 MiB, p=4) exceed
# OWASP's minimum (m=19 MiB, t=2, p=1).
_hasher = PasswordHasher()
# Verified against when the user does not exist, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("lotsa-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_hasher() -> PasswordHasher:
    return _hasher


@lru_cache(maxsize=4)
def _subkey(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


def _keys() -> tuple[bytes, bytes]:
    master = master_key()
    return _subkey(master, b"lotsa identity encryption v1"), _subkey(master, b"lotsa lookup hash v1")


def normalise_national_id(value: str) -> str:
    """Digits only, so '19121212-1212', '191212121212' and '121212-1212' style inputs compare."""
    return "".join(ch for ch in value if ch.isdigit())


def identity_hash(national_id: str) -> str:
    """Keyed hash for finding a patient by personnummer/CPR without storing it in clear."""
    _, mac_key = _keys()
    return hmac.new(mac_key, normalise_national_id(national_id).encode(), hashlib.sha256).hexdigest()


def encrypt_identity(identity: dict[str, str | None]) -> bytes:
    enc_key, _ = _keys()
    nonce = os.urandom(12)
    return nonce + AESGCM(enc_key).encrypt(nonce, json.dumps(identity).encode(), b"patient")


def decrypt_identity(blob: bytes | None) -> dict[str, str | None]:
    if not blob:
        return {}
    enc_key, _ = _keys()
    return json.loads(AESGCM(enc_key).decrypt(blob[:12], blob[12:], b"patient"))


def client_key(client_id: str) -> str:
    """Keyed hash of a visitor's address for rate limits: countable, not reversible, not stored raw."""
    key = _subkey(master_key(), b"lotsa rate limit v1")
    return hmac.new(key, client_id.encode(), hashlib.sha256).hexdigest()
