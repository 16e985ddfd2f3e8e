"""Online backup and verified restore of the Lotsa database.

SQLite: the online backup API (never a file copy, which can tear a WAL database); a restore is
first made into a temporary file and checked (integrity, Alembic revision) before it replaces
anything. Postgres: `pg_dump --format=custom` and `pg_restore --clean --if-exists --no-owner` in
one transaction, after `pg_restore --list` has accepted the file.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from db.engine import dispose_all, is_sqlite, normalise_url
from db.migrate import alembic_config
from settings import get_settings


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message says why, for the operator."""


@dataclass(frozen=True)
class RestoreResult:
    revision: str | None
    head: str

    @property
    def needs_migrate(self) -> bool:
        return self.revision != self.head


def _sqlite_path(url: str) -> Path:
    database = make_url(normalise_url(url)).database
    if not database or database == ":memory:":
        raise BackupError("Backup and restore need a SQLite database file, not an in-memory database.")
    return Path(database)


def _pg_command(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version_key)
    if candidates:
        return candidates[-1]
    raise BackupError(
        f"{name} was not found on PATH or in /usr/lib/postgresql/*/bin; install the Postgres client."
    )


def _version_key(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


def _pg_target(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and an environment that carries it."""
    parsed = make_url(normalise_url(url))
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    dsn = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return dsn, env


def _run(args: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {' / '.join(detail[-3:]) or f'exit code {result.returncode}'}")
    return result


def _head() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _check_revision(revision: str | None, source: Path) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    if revision is None:
        raise BackupError(f"{source} has no Alembic revision: it is not a Lotsa database backup.")
    try:
        script.get_revision(revision)
    except Exception as exc:
        raise BackupError(
            f"{source} is at revision {revision}, which this version of Lotsa does not know "
            "(a backup from a newer release?)."
        ) from exc


def backup(path: str | os.PathLike, url: str | None = None) -> Path:
    """Write an online backup of the database at `url` (default LOTSA_DB_URL) to `path`.

    The file appears complete or not at all: it is written beside `path` and then renamed.
    """
    url = url or get_settings().db_url
    target = Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(fd)
    try:
        if is_sqlite(url):
            _backup_sqlite(_sqlite_path(url), Path(partial))
        else:
            dsn, env = _pg_target(url)
            _run(
                [_pg_command("pg_dump"), "--format=custom", f"--file={partial}", f"--dbname={dsn}"],
                env,
                "pg_dump",
            )
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return target


def _backup_sqlite(source: Path, target: Path) -> None:
    if not source.exists():
        raise BackupError(f"There is no database file at {source}.")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        # A single self-contained file: no -wal or -shm beside it.
        dst.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"Could not back up {source}: {exc}") from exc
    finally:
        dst.close()
        src.close()


def restore(path: str | os.PathLike, url: str | None = None) -> RestoreResult:
    """Replace the database at `url` (default LOTSA_DB_URL) with the backup at `path`.

    Refuses a missing, empty or unreadable file and leaves the target as it was. Returns the
    backup's Alembic revision; run `migrate` afterwards when it is older than this release's.
    """
    url = url or get_settings().db_url
    source = Path(path).resolve()
    if not source.is_file() or source.stat().st_size == 0:
        raise BackupError(f"Backup file {source} does not exist or is empty; nothing was changed.")
    if is_sqlite(url):
        revision = _restore_sqlite(source, _sqlite_path(url))
    else:
        revision = _restore_postgres(source, url)
    return RestoreResult(revision=revision, head=_head())


def _restore_sqlite(source: Path, target: Path) -> str | None:
    with tempfile.TemporaryDirectory(prefix="lotsa-restore-") as scratch:
        staged = Path(scratch) / "staged.db"
        try:
            src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            stage = sqlite3.connect(staged)
            try:
                src.backup(stage)
            finally:
                src.close()
            integrity = stage.execute("PRAGMA integrity_check").fetchall()
            if integrity != [("ok",)]:
                raise BackupError(
                    f"{source} failed the integrity check: {integrity[:3]}; nothing was changed."
                )
            has_version = stage.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
            row = stage.execute("SELECT version_num FROM alembic_version").fetchone() if has_version else None
            revision = row[0] if row else None
            _check_revision(revision, source)
            dispose_all()
            target.parent.mkdir(parents=True, exist_ok=True)
            dst = sqlite3.connect(target, timeout=30)
            try:
                stage.backup(dst)
            finally:
                dst.close()
                stage.close()
        except sqlite3.DatabaseError as exc:
            raise BackupError(
                f"{source} is not a readable SQLite backup ({exc}); nothing was changed."
            ) from exc
    return revision


def _restore_postgres(source: Path, url: str) -> str | None:
    dsn, env = _pg_target(url)
    pg_restore = _pg_command("pg_restore")
    _run([pg_restore, "--list", str(source)], env, f"Reading {source} as a pg_dump archive")
    revision = _archived_revision(pg_restore, source, env)
    _check_revision(revision, source)
    dispose_all()
    # One transaction: a failure half-way leaves the target as it was. --clean drops each object
    # before recreating it; dropping audit_event is allowed (its trigger stops UPDATE, DELETE and
    # TRUNCATE, not DROP TABLE).
    _run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={dsn}",
            str(source),
        ],
        env,
        "pg_restore",
    )
    return revision


def _archived_revision(pg_restore: str, source: Path, env: dict[str, str]) -> str | None:
    """The Alembic revision stored in a pg_dump archive, read without touching any database."""
    script = _run(
        [pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(source)], env, "pg_restore"
    ).stdout
    lines = script.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line:
            value = lines[i + 1].strip() if i + 1 < len(lines) else ""
            return value if value and value != "\\." else None
    return None
