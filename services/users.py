"""User administration: create, disable, re-scope and reset, for admins; the first admin by CLI."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, func, or_
from sqlmodel import Session, col, select

from db.data_version import versioned_cache
from db.engine import read_session, write_session
from db.models import HealthCentre, Organization, User, UserCentre, UserOrganization, utcnow
from domain import validation as v
from domain.security import hash_password
from locales import LANGUAGES
from services import audit, sessions
from services.auth import MAX_PASSWORD_LENGTH, validate_password
from services.errors import NotFound, ValidationError
from services.principal import CENTRE_SCOPED, ROLES, Principal

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
EMAIL_RE = v.EMAIL_RE  # one e-mail rule everywhere (it goes into mailto: links)


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    display_name: str
    email: str | None
    role: str
    is_active: bool
    language: str
    centre_ids: tuple[int, ...]
    organization_ids: tuple[int, ...]
    locked: bool


@dataclass(frozen=True)
class ScopeOptions:
    centres: dict[int, str]
    organizations: dict[int, str]


def _check_scope(session: Session, role: str, centre_ids, organization_ids) -> dict[str, tuple[str, dict]]:
    errors: dict[str, tuple[str, dict]] = {}
    centre_ids, organization_ids = set(centre_ids or ()), set(organization_ids or ())
    if role in CENTRE_SCOPED and not centre_ids:
        errors["centre_ids"] = ("error.scope_centre_required", {})
    if role == "partner" and not organization_ids:
        errors["organization_ids"] = ("error.scope_org_required", {})
    if centre_ids:
        known = set(session.exec(select(HealthCentre.id).where(col(HealthCentre.id).in_(centre_ids))).all())
        if known != centre_ids:
            errors["centre_ids"] = ("error.invalid_choice", {})
    if organization_ids:
        known = set(
            session.exec(select(Organization.id).where(col(Organization.id).in_(organization_ids))).all()
        )
        if known != organization_ids:
            errors["organization_ids"] = ("error.invalid_choice", {})
    return errors


def _validate_new(
    session: Session,
    *,
    username: str,
    display_name: str,
    email: str | None,
    role: str,
    password: str | None,
    language: str,
) -> dict[str, tuple[str, dict]]:
    errors: dict[str, tuple[str, dict]] = {}
    if not USERNAME_RE.match(username):
        errors["username"] = ("error.username_format", {})
    elif session.exec(select(User.id).where(User.username == username)).first():
        errors["username"] = ("error.username_taken", {})
    if not display_name:
        errors["display_name"] = ("error.required", {})
    elif len(display_name) > 200:
        errors["display_name"] = ("error.too_long", {"n": 200})
    if email:
        if not EMAIL_RE.match(email) or len(email) > 200:
            errors["email"] = ("error.email_format", {})
        elif session.exec(select(User.id).where(User.email == email)).first():
            errors["email"] = ("error.email_taken", {})
    if role not in ROLES:
        errors["role"] = ("error.invalid_choice", {})
    if password is not None:
        errors.update(validate_password(password, username=username))
    if language not in LANGUAGES:
        errors["language"] = ("error.invalid_choice", {})
    return errors


def _create(
    session: Session,
    *,
    username: str,
    display_name: str,
    email: str | None,
    role: str,
    password: str | None,
    language: str,
    centre_ids=(),
    organization_ids=(),
    password_hash: str | None = None,
) -> User:
    """`password_hash`: computed before the write transaction (argon2 must not hold the write lock)."""
    if password and password_hash is None:
        password_hash = hash_password(password)
    user = User(
        username=username,
        display_name=display_name,
        email=email,
        role=role,
        language=language,
        password_hash=password_hash if password else None,
        password_changed_at=utcnow() if password else None,
    )
    session.add(user)
    session.flush()
    for cid in sorted(set(centre_ids or ())) if role in CENTRE_SCOPED else ():
        session.add(UserCentre(user_id=user.id, centre_id=cid))
    for oid in sorted(set(organization_ids or ())) if role == "partner" else ():
        session.add(UserOrganization(user_id=user.id, organization_id=oid))
    session.flush()
    return user


def _clean(value: str | None) -> str:
    return (value or "").strip()


def create_user(
    principal: Principal,
    *,
    username: str,
    display_name: str,
    role: str,
    password: str | None,
    email: str | None = None,
    language: str = "sv",
    centre_ids=(),
    organization_ids=(),
) -> int:
    """Create a user; `password` None means single sign-on only (matched by e-mail)."""
    audit.require_role(principal, "admin", action="user.create")
    username, display_name = _clean(username).lower(), _clean(display_name)
    email = _clean(email).lower() or None
    # hashed before the write transaction, so argon2 never holds up other people's writes
    hashed = hash_password(password) if password and len(password) <= MAX_PASSWORD_LENGTH else None
    with write_session() as session:
        errors = _validate_new(
            session,
            username=username,
            display_name=display_name,
            email=email,
            role=role,
            password=password,
            language=language,
        )
        if password is None and not email:
            errors.setdefault("email", ("error.sso_needs_email", {}))
        errors.update(_check_scope(session, role, centre_ids, organization_ids))
        if errors:
            raise ValidationError(errors)
        user = _create(
            session,
            username=username,
            display_name=display_name,
            email=email,
            role=role,
            password=password,
            language=language,
            centre_ids=centre_ids,
            organization_ids=organization_ids,
            password_hash=hashed,
        )
        audit.record(session, principal, "user.create", detail=f"user={username} role={role}")
        return user.id


def create_first_admin(*, username: str, display_name: str, password: str, email: str | None = None) -> int:
    """The CLI's create-admin: allowed only while no admin exists, so it cannot be used to escalate."""
    username, display_name = _clean(username).lower(), _clean(display_name) or _clean(username)
    email = _clean(email).lower() or None
    # hashed before the write transaction, so argon2 never holds up other people's writes
    hashed = hash_password(password) if password and len(password) <= MAX_PASSWORD_LENGTH else None
    with write_session() as session:
        if session.exec(select(User.id).where(User.role == "admin", col(User.is_active))).first():
            raise ValidationError({"username": ("error.admin_exists", {})})
        errors = _validate_new(
            session,
            username=username,
            display_name=display_name,
            email=email,
            role="admin",
            password=password,
            language="sv",
        )
        if errors:
            raise ValidationError(errors)
        user = _create(
            session,
            username=username,
            display_name=display_name,
            email=email,
            role="admin",
            password=password,
            language="sv",
            password_hash=hashed,
        )
        audit.record(session, None, "user.create_first_admin", username=username)
        return user.id


def _user_row(u: User, centres: dict[int, list[int]], orgs: dict[int, list[int]], now) -> UserRow:
    return UserRow(
        id=u.id,
        username=u.username,
        display_name=u.display_name,
        email=u.email,
        role=u.role,
        is_active=u.is_active,
        language=u.language,
        centre_ids=tuple(sorted(centres.get(u.id, []))),
        organization_ids=tuple(sorted(orgs.get(u.id, []))),
        locked=u.locked_until is not None and u.locked_until > now,
    )


def list_users(principal: Principal) -> list[UserRow]:
    audit.require_role(principal, "admin", action="user.list")
    now = utcnow()
    with read_session() as session:
        users = session.exec(select(User).order_by(User.username)).all()
        centres: dict[int, list[int]] = {}
        for uid, cid in session.exec(select(UserCentre.user_id, UserCentre.centre_id)).all():
            centres.setdefault(uid, []).append(cid)
        orgs: dict[int, list[int]] = {}
        for uid, oid in session.exec(
            select(UserOrganization.user_id, UserOrganization.organization_id)
        ).all():
            orgs.setdefault(uid, []).append(oid)
    return [_user_row(u, centres, orgs, now) for u in users]


@dataclass(frozen=True)
class UserPage:
    """One page of the user list: the accounts, how many match, how many there are in all, and the
    names of the centres and organisations these accounts are scoped to (only theirs)."""

    rows: list[UserRow]
    total: int
    all_users: int
    centres: dict[int, str]
    organizations: dict[int, str]


def _contains(column, needle: str, sqlite: bool):
    """Case-insensitive contains; SQLite's lower() folds only ASCII, so there also the capitalised
    and upper-case word (Åsa, ÅSA) is tried."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    variants = dict.fromkeys(
        (escaped.lower(), escaped.capitalize(), escaped.upper()) if sqlite else (escaped,)
    )
    return or_(*(col(column).ilike(f"%{v}%", escape="\\") for v in variants))


def _with_scopes(session: Session, users) -> tuple[list[UserRow], dict[int, str], dict[int, str]]:
    """The accounts as rows with their centres and organisations, and the names of those only."""
    now = utcnow()
    ids = [u.id for u in users]
    centres: dict[int, list[int]] = {}
    orgs: dict[int, list[int]] = {}
    centre_names: dict[int, str] = {}
    org_names: dict[int, str] = {}
    if ids:
        for uid, cid in session.exec(
            select(UserCentre.user_id, UserCentre.centre_id).where(col(UserCentre.user_id).in_(ids))
        ).all():
            centres.setdefault(uid, []).append(cid)
        for uid, oid in session.exec(
            select(UserOrganization.user_id, UserOrganization.organization_id).where(
                col(UserOrganization.user_id).in_(ids)
            )
        ).all():
            orgs.setdefault(uid, []).append(oid)
        wanted_centres = sorted({c for cs in centres.values() for c in cs})
        wanted_orgs = sorted({o for os_ in orgs.values() for o in os_})
        if wanted_centres:
            query = select(HealthCentre.id, HealthCentre.name).where(col(HealthCentre.id).in_(wanted_centres))
            centre_names = dict(session.exec(query).all())
        if wanted_orgs:
            query = select(Organization.id, Organization.name).where(col(Organization.id).in_(wanted_orgs))
            org_names = dict(session.exec(query).all())
    rows = [_user_row(u, centres, orgs, now) for u in users]
    return rows, centre_names, org_names


def search_users(
    principal: Principal,
    *,
    text: str = "",
    roles: tuple[str, ...] | list[str] = (),
    page: int = 0,
    page_size: int = 25,
) -> UserPage:
    """Accounts whose username, name or e-mail holds every word of `text`, with one of `roles` (any
    if none), by username: one page of them, read and counted in SQL (issue 14: the page no longer
    loads every account)."""
    audit.require_role(principal, "admin", action="user.list")
    page_size = min(max(int(page_size), 1), 200)
    page = max(int(page), 0)
    with read_session() as session:
        sqlite = session.get_bind().dialect.name == "sqlite"
        where = []
        for word in str(text or "").split()[:8]:
            where.append(
                or_(
                    _contains(User.username, word, sqlite),
                    _contains(User.display_name, word, sqlite),
                    _contains(User.email, word, sqlite),
                )
            )
        wanted = [r for r in ROLES if r in set(roles or ())]
        if wanted:
            where.append(col(User.role).in_(wanted))
        users = session.exec(
            select(User).where(*where).order_by(User.username).limit(page_size).offset(page * page_size)
        ).all()
        all_users = int(session.exec(select(func.count()).select_from(User)).one())
        if not where:
            total = all_users
        elif page == 0 and len(users) < page_size:
            total = len(users)
        else:
            total = int(session.exec(select(func.count()).select_from(User).where(*where)).one())
        rows, centre_names, org_names = _with_scopes(session, users)
    return UserPage(rows, total, all_users, centre_names, org_names)


def get_user(principal: Principal, user_id: int) -> UserRow:
    """One account as the list shows it (for the edit form)."""
    audit.require_role(principal, "admin", action="user.list")
    with read_session() as session:
        rows, _, _ = _with_scopes(session, [_get(session, int(user_id))])
    return rows[0]


def scope_options(principal: Principal) -> ScopeOptions:
    """Every centre and organisation by name (what an account may be scoped to), cached under the
    data version of their tables (thousands of each at national size). Shared: never mutated."""
    audit.require_role(principal, "admin", action="user.scope_options")
    return _scope_options()


@versioned_cache(("health_centre", "organization"), max_entries=8)
def _scope_options() -> ScopeOptions:
    with read_session() as session:
        centres = dict(
            session.exec(select(HealthCentre.id, HealthCentre.name).order_by(HealthCentre.name)).all()
        )
        orgs = dict(
            session.exec(select(Organization.id, Organization.name).order_by(Organization.name)).all()
        )
    return ScopeOptions(centres=centres, organizations=orgs)


def _get(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound()
    return user


def set_active(principal: Principal, user_id: int, active: bool) -> None:
    audit.require_role(principal, "admin", action="user.set_active")
    with write_session() as session:
        user = _get(session, user_id)
        if user.id == principal.user_id and not active:
            raise ValidationError({"is_active": ("error.cannot_disable_self", {})})
        user.is_active = active
        if active:
            user.failed_attempts = 0
            user.locked_until = None
        else:
            sessions.bump_epoch(session, user)  # every browser of the user is logged out
        session.add(user)
        audit.record(
            session, principal, "user.enable" if active else "user.disable", detail=f"user={user.username}"
        )


def update_user(
    principal: Principal,
    user_id: int,
    *,
    role: str,
    display_name: str,
    email: str | None,
    centre_ids=(),
    organization_ids=(),
) -> None:
    """Change a user's role, name, e-mail and scope in one transaction."""
    audit.require_role(principal, "admin", action="user.update")
    display_name, email = _clean(display_name), _clean(email).lower() or None
    with write_session() as session:
        user = _get(session, user_id)
        errors: dict[str, tuple[str, dict]] = {}
        if role not in ROLES:
            errors["role"] = ("error.invalid_choice", {})
        if user.id == principal.user_id and role != "admin":
            errors["role"] = ("error.cannot_demote_self", {})
        if not display_name:
            errors["display_name"] = ("error.required", {})
        elif len(display_name) > 200:
            errors["display_name"] = ("error.too_long", {"n": 200})
        if email and (not EMAIL_RE.match(email) or len(email) > 200):
            errors["email"] = ("error.email_format", {})
        elif email and session.exec(select(User.id).where(User.email == email, User.id != user_id)).first():
            errors["email"] = ("error.email_taken", {})
        errors.update(_check_scope(session, role, centre_ids, organization_ids))
        if errors:
            raise ValidationError(errors)
        before = _scope_summary(session, user)
        user.role, user.display_name, user.email = role, display_name, email
        session.add(user)
        session.exec(delete(UserCentre).where(col(UserCentre.user_id) == user_id))
        session.exec(delete(UserOrganization).where(col(UserOrganization.user_id) == user_id))
        for cid in sorted(set(centre_ids or ())) if role in CENTRE_SCOPED else ():
            session.add(UserCentre(user_id=user_id, centre_id=cid))
        for oid in sorted(set(organization_ids or ())) if role == "partner" else ():
            session.add(UserOrganization(user_id=user_id, organization_id=oid))
        session.flush()
        after = _scope_summary(session, user)
        audit.record(session, principal, "user.update", detail=f"user={user.username} {before} -> {after}")


def _scope_summary(session: Session, user: User) -> str:
    centres = sorted(session.exec(select(UserCentre.centre_id).where(UserCentre.user_id == user.id)).all())
    orgs = sorted(
        session.exec(
            select(UserOrganization.organization_id).where(UserOrganization.user_id == user.id)
        ).all()
    )
    return f"role={user.role} centres={centres} orgs={orgs}"


def reset_password(principal: Principal, user_id: int, new_password: str) -> None:
    audit.require_role(principal, "admin", action="user.reset_password")
    with read_session() as session:
        username = _get(session, user_id).username
    errors = validate_password(new_password, username=username)
    if errors:
        raise ValidationError(errors)
    hashed = hash_password(new_password)  # before the write transaction
    with write_session() as session:
        user = _get(session, user_id)
        user.password_hash = hashed
        user.password_changed_at = utcnow()
        user.failed_attempts = 0
        user.locked_until = None
        sessions.bump_epoch(session, user)  # every browser of the user is logged out
        session.add(user)
        audit.record(session, principal, "user.reset_password", detail=f"user={user.username}")


def count_users() -> int:
    with read_session() as session:
        return int(session.exec(select(func.count()).select_from(User)).one())
