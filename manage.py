"""Lotsa's command line: `python manage.py <command>`. Every command uses LOTSA_DB_URL.

Commands:
  migrate                          apply the Alembic migrations (the same on SQLite and Postgres)
  create-admin [--username U --name N --email E]
                                   create the first admin; the password is typed twice at a prompt
  demo                             migrate, then seed the demo region if the database is empty
                                   (demo mode only: LOTSA_DEMO=1)
  synthetic --size SIZE            migrate, then fill an empty database with benchmark data
                                   (clinic, region or national)
  backup PATH                      online backup (SQLite backup API; Postgres pg_dump)
  restore PATH [--yes]             restore a backup after typing "yes" (or with --yes)
  gen-key                          print a new LOTSA_SECRET_KEY
  hsds-export PATH [--format json|tabular] [--include-unpublished]
                                   export the activity directory as HSDS 3.0: a JSON array of
                                   service records, or the CSV data package (a folder or a .zip)
  hsds-import PATH                 migrate, then import HSDS 3.0 services from a JSON file or a CSV
                                   data package (folder or .zip); all or nothing
  report --user U --from D --to D --out PATH [--centre ID] [--programme CODE] [--language L]
                                   write the centre outcomes report as one self-contained HTML file,
                                   as user U sees it (their centres, suppression applied, audited)
  refresh-summaries [--centre ID ...]
                                   rebuild the monthly outcome summaries the dashboards read
  seed-reference --as ADMIN        load the starter vocabulary (categories, target groups with
                                   synonyms in sv/da/en, the standard programmes); idempotent
  municipality add|list --as ADMIN add a municipality (--code --name --country --region --lat
                                   --lon) or list them
  centre add|list --as ADMIN       add a health centre (--code --name --municipality CODE
                                   [--identifier HSA-id/SOR] [--address] [--lat --lon]) or list them
  programme add|list --as ADMIN    add a follow-up programme (--code --name-sv --name-da --name-en
                                   --timepoints 0,3,6 --instruments ucla3,swemwbs) or list them
  term add|list|synonyms --as ADMIN
                                   add a taxonomy term with synonyms, list terms, or replace a
                                   term's synonyms (--taxonomy --code --synonyms "a, b")
  user add --as ADMIN --username U --name N --role R [--centre CODE ...] [--organization ID ...]
                                   create a user; the password is typed twice at a prompt
  check-key                        check LOTSA_SECRET_KEY against the database's key check
  rotate-key [--new-key-env VAR] [--yes]
                                   re-encrypt every identity and lookup hash under the new key in
                                   $LOTSA_NEW_SECRET_KEY (one transaction, audited)
"""

from __future__ import annotations

import argparse
import base64
import getpass
import json
import secrets
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

COMMANDS = (
    "migrate",
    "create-admin",
    "demo",
    "synthetic",
    "backup",
    "restore",
    "gen-key",
    "hsds-export",
    "hsds-import",
    "report",
    "refresh-summaries",
    "seed-reference",
    "municipality",
    "centre",
    "programme",
    "term",
    "user",
    "check-key",
    "rotate-key",
)


def _db_url() -> str:
    from settings import get_settings

    return get_settings().db_url


def _print_err(message: str) -> None:
    print(message, file=sys.stderr)


def _ask(prompt: str, *, secret: bool = False) -> str:
    """Read one answer: from the terminal when there is one, else one line of stdin (scripts, tests).

    getpass reads /dev/tty even when stdin is a pipe, so piped input needs its own path.
    """
    if sys.stdin.isatty():
        return getpass.getpass(prompt) if secret else input(prompt)
    sys.stderr.write(prompt + "\n")
    line = sys.stdin.readline()
    if not line:
        raise EOFError(prompt.strip().rstrip(":"))
    return line.rstrip("\r\n")


def cmd_migrate(args: argparse.Namespace) -> int:
    from db.migrate import current_revision, upgrade
    from services.keys import KeyMismatch, bind_legacy_identities, check_key
    from settings import MissingSecretKey

    before = current_revision(_db_url())
    upgrade(_db_url())
    after = current_revision(_db_url())
    if before == after:
        print(f"Database was already at the latest migration ({after}); nothing to do.")
    elif before is None:
        print(f"New database created and migrated to {after}.")
    else:
        print(f"Database migrated from {before} to {after}.")
    try:
        version = check_key(_db_url())
    except MissingSecretKey as missing:
        _print_err(f"Note: {missing} The key check is recorded at the first start with the key.")
        return 0
    except KeyMismatch as wrong:
        _print_err(str(wrong))
        return 2
    print(f"LOTSA_SECRET_KEY matches this database (key generation {version}).")
    bound = bind_legacy_identities(_db_url())
    if bound:
        print(f"Bound {bound} identities written before this version to their patients.")
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    from locales import translate
    from services.errors import ValidationError
    from services.users import create_first_admin

    try:
        username = args.username or _ask("Username: ")
        password = _ask("Password: ", secret=True)
        repeat = _ask("Password again: ", secret=True)
    except (EOFError, KeyboardInterrupt) as stop:
        _print_err(f"Cancelled: no input for {stop or 'the prompt'}. Nothing was created.")
        return 1
    if password != repeat:
        _print_err(f"password: {translate('error.password_mismatch', 'en')}")
        return 1
    try:
        user_id = create_first_admin(
            username=username, display_name=args.name or "", password=password, email=args.email
        )
    except ValidationError as invalid:
        for field, (key, params) in invalid.fields.items():
            text = translate(key, "en", **params)
            if text == key:  # no English text for this key yet: say it in words rather than as a key
                text = key.rsplit(".", 1)[-1].replace("_", " ").capitalize() + "."
            _print_err(f"{field}: {text}")
        return 1
    print(f"Created admin {username.strip().lower()} (id {user_id}).")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from db.demo import seed_demo
    from db.migrate import upgrade
    from settings import get_settings

    if not get_settings().demo:
        _print_err(
            "The demo region includes accounts with a published password, so it is seeded only in demo "
            "mode: run LOTSA_DEMO=1 python manage.py demo, on a database used for demonstrations only."
        )
        return 1
    url = _db_url()
    upgrade(url)
    started = time.perf_counter()
    if seed_demo(url):
        print(f"Seeded the demo region in {time.perf_counter() - started:.1f} s.")
    else:
        print("The database already has data; the demo region was not seeded.")
    return 0


def cmd_synthetic(args: argparse.Namespace) -> int:
    from db.migrate import upgrade
    from db.synthetic import SyntheticDataError, describe, generate

    url = _db_url()
    upgrade(url)
    print(f"Generating {describe(args.size)}")
    started = time.perf_counter()

    def progress(phase: str, done: int, total: int) -> None:
        elapsed = time.perf_counter() - started
        sys.stdout.write(f"\r  {phase:<10} {done:>10,} / {total:<10,} {elapsed:6.0f} s")
        sys.stdout.flush()

    try:
        rows = generate(args.size, url, progress)
    except SyntheticDataError as refused:
        print()
        _print_err(str(refused))
        return 1
    elapsed = time.perf_counter() - started
    total = sum(rows.values())
    print(f"\nWrote {total:,} rows in {elapsed:.0f} s ({total / max(elapsed, 1e-9):,.0f} rows/s):")
    for table in ("health_centre", "service", "patient", "instrument_response", "referral", "follow_up"):
        print(f"  {table:<20} {rows.get(table, 0):>12,}")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from db.backup import BackupError, backup

    try:
        written = backup(args.path, _db_url())
    except BackupError as failed:
        _print_err(str(failed))
        return 1
    print(f"Backup written to {written} ({written.stat().st_size:,} bytes).")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from db.backup import BackupError, restore
    from db.migrate import upgrade

    url = _db_url()
    if not args.yes:
        print(f"This replaces ALL data in {_redact(url)} with the backup {args.path}.")
        try:
            answer = _ask('Type "yes" to continue: ')
        except (EOFError, KeyboardInterrupt):
            answer = ""
        if answer.strip().lower() != "yes":
            print("Restore cancelled; nothing was changed.")
            return 1
    try:
        result = restore(args.path, url)
    except BackupError as failed:
        _print_err(str(failed))
        return 1
    if result.needs_migrate:
        upgrade(url)
        print(f"Restored (revision {result.revision}) and migrated to {result.head}.")
    else:
        print(f"Restored (revision {result.revision}).")
    return 0


def cmd_gen_key(args: argparse.Namespace) -> int:
    print(base64.b64encode(secrets.token_bytes(32)).decode())
    return 0


def cmd_hsds_export(args: argparse.Namespace) -> int:
    from services.hsds import SchemaMissing, export_json, export_tabular

    path = Path(args.path)
    tabular = args.format == "tabular" or (args.format is None and (path.suffix == ".zip" or path.is_dir()))
    try:
        if tabular:
            rows = export_tabular(path, include_unpublished=args.include_unpublished, url=_db_url())
            print(f"Wrote the HSDS 3.0 data package to {path}: {rows.get('services.csv', 0)} services.")
            for name, count in rows.items():
                if count:
                    print(f"  {name:<30} {count:>8,}")
            return 0
        records = export_json(include_unpublished=args.include_unpublished, url=_db_url())
    except SchemaMissing as missing:
        _print_err(str(missing))
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"Wrote {len(records)} HSDS 3.0 service records to {path}.")
    return 0


def cmd_hsds_import(args: argparse.Namespace) -> int:
    from db.migrate import upgrade
    from services.hsds import SchemaMissing, import_json, import_tabular, read_json_records

    path = Path(args.path)
    if not path.exists():
        _print_err(f"{path} does not exist.")
        return 1
    tabular = path.is_dir() or zipfile.is_zipfile(path)
    url = _db_url()
    try:
        if tabular:
            upgrade(url)
            report = import_tabular(path, url=url)
        else:
            records = read_json_records(path)
            upgrade(url)
            report = import_json(records, url=url)
    except ValueError as unreadable:
        _print_err(str(unreadable))
        return 1
    except SchemaMissing as missing:
        _print_err(str(missing))
        return 1
    for warning in report.warnings:
        _print_err(f"warning: {warning}")
    if not report.ok:
        _print_err(f"Nothing was imported: {len(report.errors)} problem(s) in {path}:")
        for error in report.errors:
            _print_err(f"  {error}")
        return 1
    print(f"Imported {path} ({'data package' if tabular else 'JSON'}):")
    for line in report.lines():
        print(f"  {line}")
    for line in report.dropped_lines():
        print(f"  {line}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from datetime import date

    from sqlmodel import select

    from db.engine import read_session
    from db.models import User
    from services.auth import load_principal
    from services.errors import ServiceError
    from services.report import centre_report_html

    with read_session() as s:
        user = s.exec(select(User).where(User.username == args.user)).first()
    principal = load_principal(user.id) if user and user.is_active else None
    if principal is None:
        _print_err(f"No active user {args.user!r}.")
        return 1
    try:
        start, end = date.fromisoformat(args.date_from), date.fromisoformat(args.date_to)
    except ValueError as bad:
        _print_err(f"Dates must be YYYY-MM-DD: {bad}")
        return 1
    language = args.language or principal.language
    try:
        html = centre_report_html(
            principal,
            tuple(args.centre) if args.centre else None,
            start,
            end,
            args.programme,
            language=language,
        )
    except ServiceError as error:
        from locales import translate

        fields = getattr(error, "fields", {}) or {}
        details = "; ".join(
            f"{name}: {translate(key, language, **params)}" for name, (key, params) in fields.items()
        )
        _print_err(translate(error.key, language, **error.params) + (f" ({details})" if details else ""))
        return 1
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    print(f"Wrote the outcomes report for {args.user} ({start} to {end}) to {out}: {len(html) // 1024} KB.")
    return 0


def cmd_refresh_summaries(args: argparse.Namespace) -> int:
    from services.summaries import refresh_summaries

    started = time.perf_counter()
    centres = refresh_summaries(tuple(args.centre) if args.centre else None)
    print(
        f"Rebuilt the outcome summaries of {centres:,} centres in {time.perf_counter() - started:.1f} s."
    )
    return 0


# --- Reference data and users (a real install) -------------------------------------------------


def _print_invalid(error) -> None:
    from locales import translate

    fields = getattr(error, "fields", {}) or {}
    if not fields:
        _print_err(translate(error.key, "en", **error.params))
    for field, (key, params) in fields.items():
        text = translate(key, "en", **params)
        if text == key:  # no English text for this key yet: say it in words rather than as a key
            text = key.rsplit(".", 1)[-1].replace("_", " ").capitalize() + "."
        _print_err(f"{field}: {text}")


def _admin_principal(username: str | None):
    """The active admin `username` (--as), whose name the audit log records; None if there is none."""
    from sqlmodel import select

    from db.engine import read_session
    from db.models import User
    from services.auth import load_principal

    if not username:
        _print_err("Give the admin who does this with --as USERNAME (see create-admin).")
        return None
    with read_session() as s:
        user = s.exec(select(User).where(User.username == username.strip().lower())).first()
    principal = load_principal(user.id) if user is not None and user.is_active else None
    if principal is None or principal.role != "admin":
        _print_err(f"No active admin {username!r}.")
        return None
    return principal


def _run_service(call: Callable[[], object]) -> tuple[int, object]:
    from services.errors import ServiceError

    try:
        return 0, call()
    except ServiceError as error:
        _print_invalid(error)
        _print_err("Nothing was changed.")
        return 1, None


def cmd_seed_reference(args: argparse.Namespace) -> int:
    from services.reference import seed_reference

    principal = _admin_principal(args.as_user)
    if principal is None:
        return 1
    code, report = _run_service(lambda: seed_reference(principal))
    if code:
        return code
    print(
        f"Starter vocabulary: {report.terms_added} terms, {report.synonyms_added} synonyms and "
        f"{report.programmes_added} programmes added" + ("." if report.changed() else " (already loaded).")
    )
    return 0


def cmd_municipality(args: argparse.Namespace) -> int:
    from services import reference

    principal = _admin_principal(args.as_user)
    if principal is None:
        return 1
    if args.action == "list":
        for m in reference.list_municipalities(principal):
            print(f"{m.code}\t{m.country}\t{m.name}\t{m.region_name}\t{m.latitude},{m.longitude}")
        return 0
    code, new_id = _run_service(
        lambda: reference.add_municipality(
            principal, code=args.code, name=args.name, country=args.country or "",
            region_name=args.region, latitude=args.lat, longitude=args.lon,
        )
    )  # fmt: skip
    if not code:
        print(f"Added municipality {args.code} {args.name} (id {new_id}).")
    return code


def cmd_centre(args: argparse.Namespace) -> int:
    from services import reference

    principal = _admin_principal(args.as_user)
    if principal is None:
        return 1
    if args.action == "list":
        for c in reference.list_centres(principal):
            state = "" if c.active else "\tinactive"
            print(f"{c.id}\t{c.code}\t{c.name}\t{c.municipality}\t{c.identifier or '-'}{state}")
        return 0
    code, new_id = _run_service(
        lambda: reference.add_centre(
            principal, code=args.code, name=args.name, municipality=args.municipality or "",
            identifier=args.identifier, address=args.address or "", latitude=args.lat, longitude=args.lon,
        )
    )  # fmt: skip
    if not code:
        print(f"Added health centre {args.code} {args.name} (id {new_id}).")
    return code


def cmd_programme(args: argparse.Namespace) -> int:
    from services import reference

    principal = _admin_principal(args.as_user)
    if principal is None:
        return 1
    if args.action == "list":
        for p in reference.list_programmes(principal):
            months = ",".join(str(t) for t in p.timepoints)
            print(f"{p.code}\t{p.name_en}\tmonths {months}\t{','.join(p.instruments)}")
        return 0
    instruments = [i.strip() for i in (args.instruments or "").split(",") if i.strip()]
    code, new_id = _run_service(
        lambda: reference.add_programme(
            principal, code=args.code, name_sv=args.name_sv, name_da=args.name_da, name_en=args.name_en,
            timepoints=args.timepoints or "", instruments=instruments, with_measures=args.with_measures,
            cost_per_participant=args.cost,
        )
    )  # fmt: skip
    if not code:
        print(f"Added programme {args.code} (id {new_id}).")
    return code


def cmd_term(args: argparse.Namespace) -> int:
    from domain.taxonomy import split_synonyms
    from services import reference

    principal = _admin_principal(args.as_user)
    if principal is None:
        return 1
    if args.action == "list":
        for t in reference.list_terms(principal, args.taxonomy):
            print(f"{t.taxonomy}\t{t.code}\t{t.name_sv} / {t.name_da} / {t.name_en}\t{', '.join(t.synonyms)}")
        return 0
    synonyms = split_synonyms(args.synonyms or "")
    if args.action == "synonyms":
        wanted = (args.code or "").strip().lower()
        term = next(
            (t for t in reference.list_terms(principal, args.taxonomy) if t.code == wanted),
            None,
        )
        if term is None:
            _print_err(f"No {args.taxonomy} term {args.code!r}. Nothing was changed.")
            return 1
        code, row = _run_service(lambda: reference.set_synonyms(principal, term.id, synonyms))
        if not code:
            print(f"{row.taxonomy}/{row.code}: {len(row.synonyms)} synonyms.")
        return code
    code, new_id = _run_service(
        lambda: reference.add_term(
            principal, taxonomy=args.taxonomy or "", code=args.code, name_sv=args.name_sv,
            name_da=args.name_da, name_en=args.name_en, synonyms=synonyms,
        )
    )  # fmt: skip
    if not code:
        print(f"Added {args.taxonomy} term {args.code} (id {new_id}).")
    return code


def cmd_user(args: argparse.Namespace) -> int:
    from sqlmodel import col, select

    from db.engine import read_session
    from db.models import HealthCentre
    from services.users import create_user

    principal = _admin_principal(args.as_user)
    if principal is None:
        return 1
    codes = list(args.centre or ())
    with read_session() as s:
        query = select(HealthCentre.code, HealthCentre.id).where(col(HealthCentre.code).in_(codes))
        found = dict(s.exec(query).all())
    unknown = [c for c in codes if c not in found]
    if unknown:
        _print_err(f"centre: no health centre with code {', '.join(unknown)}. Nothing was created.")
        return 1
    password = None
    if not args.sso:
        try:
            password = _ask("Password: ", secret=True)
            repeat = _ask("Password again: ", secret=True)
        except (EOFError, KeyboardInterrupt) as stop:
            _print_err(f"Cancelled: no input for {stop or 'the prompt'}. Nothing was created.")
            return 1
        if password != repeat:
            from locales import translate

            _print_err(f"password: {translate('error.password_mismatch', 'en')}")
            return 1
    code, user_id = _run_service(
        lambda: create_user(
            principal, username=args.username or "", display_name=args.name or args.username or "",
            role=args.role, password=password, email=args.email, language=args.language,
            centre_ids=[found[c] for c in codes], organization_ids=list(args.organization or ()),
        )
    )  # fmt: skip
    if not code:
        print(f"Created {args.role} {(args.username or '').strip().lower()} (id {user_id}).")
    return code


def cmd_check_key(args: argparse.Namespace) -> int:
    from services.keys import KeyMismatch, check_key

    try:
        version = check_key(_db_url())
    except KeyMismatch as wrong:
        _print_err(str(wrong))
        return 2
    print(f"LOTSA_SECRET_KEY matches this database (key generation {version}).")
    return 0


def cmd_rotate_key(args: argparse.Namespace) -> int:
    import binascii
    import os

    from services.keys import KeyMismatch, rotate_key

    raw = os.environ.get(args.new_key_env, "").strip()
    if not raw:
        _print_err(f"Put the new key in ${args.new_key_env} (manage.py gen-key makes one). Nothing changed.")
        return 1
    try:
        new_key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        new_key = b""
    if len(new_key) != 32:
        _print_err(f"${args.new_key_env} must be 32 bytes, base64-encoded. Nothing changed.")
        return 1
    if not args.yes:
        try:
            answer = _ask("Re-encrypt every identity under the new key (keep it safe first)? Type yes: ")
        except (EOFError, KeyboardInterrupt):
            answer = ""
        if answer.strip().lower() != "yes":
            _print_err("Cancelled. Nothing changed.")
            return 1
    try:
        report = rotate_key(new_key, _db_url())
    except KeyMismatch as wrong:
        _print_err(str(wrong))
        return 2
    except ValueError as bad:
        _print_err(f"{bad} Nothing changed.")
        return 1
    print(
        f"Re-encrypted {report.identities} identities and their lookup hashes under key generation "
        f"{report.version}. Now set LOTSA_SECRET_KEY to the new key everywhere and restart."
    )
    return 0


# Commands that work without a key check: they make or check the key, or copy the database as is.
_NO_KEY_CHECK = ("gen-key", "migrate", "check-key", "rotate-key", "backup", "restore", "demo", "synthetic")


def _key_check_failed(command: str) -> bool:
    """Before any other command: a wrong LOTSA_SECRET_KEY is reported plainly, not as a traceback."""
    if command in _NO_KEY_CHECK:
        return False
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from services.keys import KeyMismatch, check_key

    try:
        check_key(_db_url())
    except KeyMismatch as wrong:
        _print_err(str(wrong))
        return True
    except (OperationalError, ProgrammingError):  # not migrated yet: the command says so itself
        return False
    return False


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


ROLE_CHOICES = ("admin", "manager", "connector", "partner", "volunteer")


def _add_reference_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    def as_admin(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--as", dest="as_user", metavar="ADMIN", help="the admin doing this (audited)")
        return p

    as_admin(add("seed-reference", cmd_seed_reference, "load the starter vocabulary and programmes"))
    muni = as_admin(add("municipality", cmd_municipality, "add or list municipalities"))
    muni.add_argument("action", choices=("add", "list"))
    muni.add_argument("--code", help="kommunkod (SE, 4 digits) or kommunekode (DK, 3 digits)")
    muni.add_argument("--name")
    muni.add_argument("--country", choices=("SE", "DK"))
    muni.add_argument("--region", help="region name, e.g. Skåne or Region Hovedstaden")
    muni.add_argument("--lat", help="latitude of the centre of the municipality")
    muni.add_argument("--lon", help="longitude")
    centre = as_admin(add("centre", cmd_centre, "add or list health centres"))
    centre.add_argument("action", choices=("add", "list"))
    centre.add_argument("--code", help="short unique code, e.g. VC-LIMHAMN")
    centre.add_argument("--name")
    centre.add_argument("--municipality", metavar="CODE", help="the municipality's code")
    centre.add_argument("--identifier", help="HSA-id (Sweden) or SOR code (Denmark), optional")
    centre.add_argument("--address")
    centre.add_argument("--lat", help="default: the municipality's")
    centre.add_argument("--lon", help="default: the municipality's")
    prog = as_admin(add("programme", cmd_programme, "add or list follow-up programmes"))
    prog.add_argument("action", choices=("add", "list"))
    prog.add_argument("--code")
    for lang in ("sv", "da", "en"):
        prog.add_argument(f"--name-{lang}", dest=f"name_{lang}")
    prog.add_argument("--timepoints", help="months from enrolment, e.g. 0,3,6")
    prog.add_argument("--instruments", help="comma-separated, e.g. ucla3,swemwbs")
    prog.add_argument("--with-measures", action="store_true", help="also blood pressure, HbA1c, waist")
    prog.add_argument("--cost", help="cost per participant")
    term = as_admin(add("term", cmd_term, "add or list taxonomy terms, or set a term's synonyms"))
    term.add_argument("action", choices=("add", "list", "synonyms"))
    term.add_argument("--taxonomy", choices=("category", "target_group", "accessibility", "language"))
    term.add_argument("--code")
    for lang in ("sv", "da", "en"):
        term.add_argument(f"--name-{lang}", dest=f"name_{lang}")
    term.add_argument("--synonyms", help='other words for the term, comma-separated: "Äldre, Ældre"')
    user = as_admin(add("user", cmd_user, "create a user (password typed twice at a prompt)"))
    user.add_argument("action", choices=("add",))
    user.add_argument("--username")
    user.add_argument("--name", help="display name")
    user.add_argument("--role", required=True, choices=ROLE_CHOICES)
    user.add_argument("--centre", action="append", metavar="CODE", help="a health centre's code (repeatable)")
    user.add_argument("--organization", type=int, action="append", metavar="ID", help="an organisation id")
    user.add_argument("--email")
    user.add_argument("--language", default="sv", choices=("sv", "da", "en"))
    user.add_argument("--sso", action="store_true", help="no password: single sign-on by e-mail only")
    add("check-key", cmd_check_key, "check LOTSA_SECRET_KEY against the database's key check")
    rotate = add("rotate-key", cmd_rotate_key, "re-encrypt every identity under a new key (one transaction)")
    rotate.add_argument(
        "--new-key-env", default="LOTSA_NEW_SECRET_KEY", metavar="VAR",
        help="environment variable holding the new key (default LOTSA_NEW_SECRET_KEY)",
    )  # fmt: skip
    rotate.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="manage.py",
        description="Lotsa command line. Every command uses LOTSA_DB_URL (default: sqlite:///data/lotsa.db).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="command", required=True)
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {}

    def add(name: str, handler: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        handlers[name] = handler
        return sub.add_parser(name, help=help_, description=help_)

    add("migrate", cmd_migrate, "apply the Alembic migrations")
    admin = add("create-admin", cmd_create_admin, "create the first admin (password typed twice at a prompt)")
    admin.add_argument("--username", help="login name (asked for when left out)")
    admin.add_argument("--name", help="display name (default: the username)")
    admin.add_argument("--email", help="e-mail, for single sign-on mapping")
    add("demo", cmd_demo, "migrate, then seed the demo region on an empty database")
    synthetic = add("synthetic", cmd_synthetic, "migrate, then fill an empty database with benchmark data")
    synthetic.add_argument("--size", required=True, choices=("clinic", "region", "national"))
    add("backup", cmd_backup, "online backup to PATH (SQLite backup API; Postgres pg_dump)").add_argument(
        "path", metavar="PATH"
    )
    restore = add("restore", cmd_restore, 'restore the backup at PATH after typing "yes"')
    restore.add_argument("path", metavar="PATH")
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add("gen-key", cmd_gen_key, "print a new base64 32-byte LOTSA_SECRET_KEY")
    export = add(
        "hsds-export", cmd_hsds_export, "export the activity directory as HSDS 3.0 (JSON or CSV package)"
    )
    export.add_argument("path", metavar="PATH", help="a .json file, or a folder or .zip for --format tabular")
    export.add_argument(
        "--format", choices=("json", "tabular"), help="default: tabular for a .zip or a folder, else json"
    )
    export.add_argument(
        "--include-unpublished",
        action="store_true",
        help="also inactive activities and those awaiting approval",
    )
    add(
        "hsds-import",
        cmd_hsds_import,
        "import HSDS 3.0 services from a JSON file or a CSV package (folder or .zip)",
    ).add_argument("path", metavar="PATH")
    report = add("report", cmd_report, "write a centre outcomes report as one self-contained HTML file")
    report.add_argument("--user", required=True, help="the report is what this user may see (and is audited)")
    report.add_argument("--from", dest="date_from", required=True, metavar="YYYY-MM-DD")
    report.add_argument("--to", dest="date_to", required=True, metavar="YYYY-MM-DD")
    report.add_argument("--out", required=True, metavar="PATH", help="the .html file to write")
    report.add_argument("--centre", type=int, action="append", help="a centre id (default: all the user's)")
    report.add_argument("--programme", help="a programme code (default: all)")
    report.add_argument("--language", choices=("sv", "da", "en"), help="default: the user's language")
    add(
        "refresh-summaries",
        cmd_refresh_summaries,
        "rebuild the monthly outcome summaries the dashboards read",
    ).add_argument("--centre", type=int, action="append", help="a centre id (default: all centres)")
    _add_reference_commands(add)
    parser.set_defaults(_handlers=handlers)
    return parser


def main(argv: list[str] | None = None) -> int:
    from settings import MissingSecretKey

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if _key_check_failed(args.command):
            return 2
        return args._handlers[args.command](args)
    except MissingSecretKey as missing:
        _print_err(str(missing))
        return 2


if __name__ == "__main__":
    sys.exit(main())
