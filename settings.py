"""Lotsa's configuration, read from environment variables (documented in README.md).

Nothing here imports Streamlit or SQLAlchemy, so every layer may use it.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DATA_DIR = ROOT / "data"

# Every environment variable Lotsa reads, with its meaning; tests check the README lists them all.
ENV_VARS: dict[str, str] = {
    "LOTSA_DB_URL": "Database URL; default sqlite:///data/lotsa.db",
    "LOTSA_SECRET_KEY": "Base64 32-byte master key for identity encryption and lookup hashes",
    "LOTSA_NEW_SECRET_KEY": "Only for manage.py rotate-key: the new key every identity is re-encrypted under",
    "LOTSA_DEMO": "1 to run in demo mode (demo accounts, demo data, labelled on the login page)",
    "LOTSA_ENV": "production (default) or development",
    "LOTSA_IDLE_MINUTES": "Idle timeout in minutes (default 30)",
    "LOTSA_ABSOLUTE_HOURS": "Absolute session lifetime in hours (default 12)",
    "LOTSA_LOCKOUT_ATTEMPTS": "Failed logins before lockout (default 5)",
    "LOTSA_LOCKOUT_MINUTES": "Lockout duration in minutes (default 15)",
    "LOTSA_PASSWORD_HASH": "argon2id parameters for passwords: owasp (default; m=46 MiB, t=1, p=1, OWASP's "
    "first configuration) or rfc9106 (m=64 MiB, t=3, p=4; about 4x the CPU per login)",
    "LOTSA_STALE_DAYS": "Days after which an activity not verified counts as stale (default 90)",
    "LOTSA_SUGGESTIONS_PER_HOUR": "Public suggestions accepted per sender and hour (default 5)",
    "LOTSA_TRUSTED_PROXIES": "Reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For "
    "is believed; empty (default) keys rate limits on the connection's own address",
    "LOTSA_SOURCE_ATTEMPTS": "Failed logins from one client address within LOTSA_LOCKOUT_MINUTES before "
    "further logins from it are refused (default 20)",
    "LOTSA_GEOCODER_URL": "Optional Nominatim-compatible geocoder URL; empty (default) means off",
    "LOTSA_MAP_TILE_URL": "Optional raster tile URL template ({z}/{x}/{y}) drawn under the maps; empty "
    "(default) uses the bundled offline base map",
    "LOTSA_HSDS_SCHEMA_DIR": "Folder of the HSDS 3.0 standard (default ../shared/standards/hsds-3.0, "
    "else the vendored standards/hsds-3.0)",
    "LOTSA_UCLA3_THRESHOLD": "UCLA-3 total counted as lonely, 3-9 (default 6, a research convention)",
    "LOTSA_UNANSWERED_DAYS": "Days before an unanswered referral is flagged to the connector (default 14)",
    "LOTSA_SAFETY_ROUTINE": "The local routine shown with a PHQ-9 self-harm flag (default: a generic text)",
    "LOTSA_RETENTION_YEARS": "Years after the last activity before a patient may be anonymised (default 10)",
    "LOTSA_DISCLOSURE_K": "Counts of 1 to k-1 people are shown as <k on dashboards (default 5, at least 3)",
    "LOTSA_DISCLOSURE_MIN_N": "People needed before a mean or percentage is shown (default 8)",
    "LOTSA_HBA1C_RISK": "HbA1c (mmol/mol) from which a patient is in the risk zone, for the outcome contract "
    "tracker (default 42)",
    "LOTSA_EQ5D_VALUE_SET": "Optional JSON file with a verified, additive EQ-5D-5L value set and its source "
    "(format: config/eq5d_value_set.example.json); without it no index or QALY is shown",
    "LOTSA_RELIABILITY_FILE": "Optional JSON file with SD1 and r per instrument and their source, "
    "for reliable change (format: config/reliability.example.json); demo mode falls back to that example",
    "LOTSA_TEST_PG_URL": "Tests only: Postgres server URL for the Postgres suite",
    "LOTSA_REQUIRE_PG": "Tests only: 1 makes a missing Postgres a failure instead of a skip",
    "LOTSA_REQUIRE_BROWSER": "Tests only: 1 makes a missing Chromium a failure instead of a skip",
    "LOTSA_CHROMIUM": "Tests only: path to Chromium (default /usr/bin/chromium)",
}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def _choice(name: str, allowed: tuple[str, ...]) -> str:
    """One of `allowed` (the first is the default); anything else stops with a plain message."""
    raw = os.environ.get(name, "").strip().lower() or allowed[0]
    if raw not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)} (got {raw!r})")
    return raw


def default_db_url() -> str:
    return f"sqlite:///{DATA_DIR / 'lotsa.db'}"


@dataclass(frozen=True)
class Settings:
    db_url: str
    demo: bool
    development: bool
    idle_minutes: float
    absolute_hours: float
    lockout_attempts: int
    lockout_minutes: int
    stale_days: int = 90
    suggestions_per_hour: int = 5
    trusted_proxies: str = ""
    source_attempts: int = 20
    geocoder_url: str = ""
    map_tile_url: str = ""
    ucla3_threshold: int = 6
    unanswered_days: int = 14
    safety_routine: str = ""
    retention_years: int = 10
    disclosure_k: int = 5
    disclosure_min_n: int = 8
    hba1c_risk: float = 42.0
    eq5d_value_set: str = ""
    reliability_file: str = ""
    password_hash: str = "owasp"


def get_settings() -> Settings:
    """Read the settings afresh, so tests and the CLI can change the environment between calls."""
    return Settings(
        db_url=os.environ.get("LOTSA_DB_URL") or default_db_url(),
        demo=os.environ.get("LOTSA_DEMO", "") in {"1", "true", "yes"},
        development=os.environ.get("LOTSA_ENV", "production") == "development",
        # fractions allowed (tests use seconds-long limits); never zero or negative
        idle_minutes=max(0.05, _float("LOTSA_IDLE_MINUTES", 30)),
        absolute_hours=max(0.001, _float("LOTSA_ABSOLUTE_HOURS", 12)),
        lockout_attempts=_int("LOTSA_LOCKOUT_ATTEMPTS", 5),
        lockout_minutes=_int("LOTSA_LOCKOUT_MINUTES", 15),
        stale_days=_int("LOTSA_STALE_DAYS", 90),
        suggestions_per_hour=_int("LOTSA_SUGGESTIONS_PER_HOUR", 5),
        trusted_proxies=os.environ.get("LOTSA_TRUSTED_PROXIES", "").strip(),
        source_attempts=max(1, _int("LOTSA_SOURCE_ATTEMPTS", 20)),
        geocoder_url=os.environ.get("LOTSA_GEOCODER_URL", "").strip(),
        map_tile_url=os.environ.get("LOTSA_MAP_TILE_URL", "").strip(),
        ucla3_threshold=min(9, max(3, _int("LOTSA_UCLA3_THRESHOLD", 6))),
        unanswered_days=max(1, _int("LOTSA_UNANSWERED_DAYS", 14)),
        safety_routine=os.environ.get("LOTSA_SAFETY_ROUTINE", "").strip(),
        retention_years=max(1, _int("LOTSA_RETENTION_YEARS", 10)),
        # never below 3 (Statistics Denmark's floor) whatever is configured
        disclosure_k=max(3, _int("LOTSA_DISCLOSURE_K", 5)),
        disclosure_min_n=max(3, _int("LOTSA_DISCLOSURE_MIN_N", 8)),
        hba1c_risk=_float("LOTSA_HBA1C_RISK", 42.0),
        eq5d_value_set=os.environ.get("LOTSA_EQ5D_VALUE_SET", "").strip(),
        reliability_file=os.environ.get("LOTSA_RELIABILITY_FILE", "").strip(),
        password_hash=_choice("LOTSA_PASSWORD_HASH", ("owasp", "rfc9106")),
    )


class MissingSecretKey(RuntimeError):
    pass


def master_key() -> bytes:
    """The 32-byte master key from LOTSA_SECRET_KEY.

    In demo mode only, a key is generated once into data/secret.key (mode 0600) so that
    `make run` works on a fresh clone; a real install must set the variable.
    """
    raw = os.environ.get("LOTSA_SECRET_KEY", "").strip()
    if raw:
        key = base64.b64decode(raw)
        if len(key) != 32:
            raise MissingSecretKey("LOTSA_SECRET_KEY must be 32 bytes, base64-encoded")
        return key
    if not get_settings().demo:
        raise MissingSecretKey("LOTSA_SECRET_KEY is not set. Generate one with: python manage.py gen-key")
    path = DATA_DIR / "secret.key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(base64.b64encode(secrets.token_bytes(32)).decode())
    return base64.b64decode(path.read_text().strip())


# Demo accounts exist only in demo mode (LOTSA_DEMO=1); the login page lists them.
DEMO_PASSWORD = "lotsa-demo-2026"
DEMO_ACCOUNTS: tuple[tuple[str, str], ...] = (
    ("demo-connector", "connector"),
    ("demo-manager", "manager"),
    ("demo-partner", "partner"),
    ("demo-admin", "admin"),
    ("demo-volunteer", "volunteer"),
    ("demo-region", "manager"),
    ("demo-municipality", "partner"),
)
