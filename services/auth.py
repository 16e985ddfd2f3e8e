"""Logging in and staying logged in: local argon2id accounts, OpenID Connect mapping by e-mail,
lockout after repeated failures, throttling per client address, a password policy, and the
principal reloaded on every interaction. Password hashing and checking (argon2, ~50-100 ms of CPU)
never run inside a write transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from db.engine import read_session, write_session
from db.models import (
    HealthCentre,
    LoginFailure,
    Organization,
    User,
    UserCentre,
    UserOrganization,
    utcnow,
)
from domain.password_policy import MAX_LENGTH, MIN_LENGTH, password_problem
from domain.security import client_key, hash_password, password_hasher, verify_password
from services import audit
from services.errors import LoginFailed, NotFound, ValidationError
from services.principal import ROLES, Principal
from settings import get_settings

MIN_PASSWORD_LENGTH = MIN_LENGTH
MAX_PASSWORD_LENGTH = MAX_LENGTH


def principal_for(session: Session, user: User) -> Principal:
    centre_rows = session.exec(
        select(HealthCentre.id, HealthCentre.code)
        .join(UserCentre, col(UserCentre.centre_id) == col(HealthCentre.id))
        .where(UserCentre.user_id == user.id)
        .order_by(HealthCentre.code)
    ).all()
    org_ids = session.exec(
        select(UserOrganization.organization_id).where(UserOrganization.user_id == user.id)
    ).all()
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        language=user.language,
        centre_ids=frozenset(cid for cid, _ in centre_rows),
        organization_ids=frozenset(org_ids),
        care_unit=",".join(code for _, code in centre_rows)[:32] or None,
    )


def _source_throttled(source_key: str, now, settings) -> bool:
    with read_session() as session:
        recent = session.scalar(
            select(func.count(LoginFailure.id)).where(
                LoginFailure.source_key == source_key,
                LoginFailure.at >= now - timedelta(minutes=settings.lockout_minutes),
            )
        )
    return (recent or 0) >= settings.source_attempts


def _note_source_failure(session: Session, source_key: str | None, now) -> None:
    if source_key is None:
        return
    session.exec(delete(LoginFailure).where(col(LoginFailure.at) < now - timedelta(days=1)))
    session.add(LoginFailure(source_key=source_key, at=now))


def authenticate(username: str, password: str, *, source: str | None = None) -> Principal:
    """Check a local login. Unknown user, wrong password, disabled, locked or throttled: one LoginFailed.

    The argon2 check runs before any write transaction (on SQLite, outside the process-wide write
    lock), so failed logins cannot hold up other people's writes; the write afterwards is short.
    `source` is the client's address (components.client): after LOTSA_SOURCE_ATTEMPTS failures from
    one source within LOTSA_LOCKOUT_MINUTES, its logins are refused without checking a password,
    whichever account they name. Only a keyed hash of the source is stored."""
    settings = get_settings()
    username = (username or "").strip().lower()
    now = utcnow()
    source_key = client_key(source) if source else None
    if source_key is not None and _source_throttled(source_key, now, settings):
        audit.record_now(None, "login", "throttled", username=username)
        raise LoginFailed()
    if not username or not password or len(password) > MAX_PASSWORD_LENGTH or len(username) > 200:
        verify_password(None, "x")
        with write_session() as session:
            _note_source_failure(session, source_key, now)
            audit.record(session, None, "login", "failed", username=username, detail="malformed")
        raise LoginFailed()
    with read_session() as session:
        user = session.exec(select(User).where(User.username == username)).first()
    # argon2 outside any transaction
    if user is None:
        verify_password(None, password)
        reason = "unknown user"
    elif user.locked_until is not None and user.locked_until > now:
        verify_password(None, password)
        reason = "locked"
    elif not verify_password(user.password_hash, password):
        reason = "wrong password"
    elif not user.is_active:
        reason = "inactive"
    else:
        reason = None
    new_hash = None
    if reason is None and password_hasher().check_needs_rehash(user.password_hash):
        new_hash = hash_password(password)
    with write_session() as session:
        if reason is None:
            row = session.exec(select(User).where(User.id == user.id).with_for_update()).first()
            if row is None or not row.is_active or row.password_hash != user.password_hash:
                reason = "changed during login"  # disabled or password changed meanwhile
            else:
                row.password_hash = new_hash or row.password_hash
                row.failed_attempts = 0
                row.locked_until = None
                row.last_login_at = now
                session.add(row)
                principal = principal_for(session, row)
                audit.record(session, principal, "login", "ok")
                return principal
        _note_source_failure(session, source_key, now)
        if reason == "locked":
            audit.record(session, None, "login", "locked", username=username)
        elif reason in ("wrong password", "inactive"):
            row = session.exec(select(User).where(User.id == user.id).with_for_update()).first()
            row.failed_attempts += 1
            if row.failed_attempts >= settings.lockout_attempts:
                row.locked_until = now + timedelta(minutes=settings.lockout_minutes)
                row.failed_attempts = 0
                audit.record(
                    session,
                    None,
                    "login.lockout",
                    "locked",
                    username=username,
                    detail=f"locked for {settings.lockout_minutes} min",
                )
            session.add(row)
            audit.record(session, None, "login", "failed", username=username, detail=reason)
        else:
            audit.record(session, None, "login", "failed", username=username, detail=reason)
    raise LoginFailed()


def principal_for_email(email: str | None) -> Principal | None:
    """Map an OpenID Connect identity to an active Lotsa user; unknown identities get nothing."""
    if not email:
        return None
    with write_session() as session:
        user = session.exec(select(User).where(User.email == email.strip().lower())).first()
        if user is None or not user.is_active:
            audit.record(session, None, "login.oidc", "failed", username=email[:80])
            return None
        user.last_login_at = utcnow()
        session.add(user)
        principal = principal_for(session, user)
        audit.record(session, principal, "login.oidc", "ok")
        return principal


def load_principal(user_id: int) -> Principal | None:
    """Reload the user on every interaction: a disabled user loses access at once."""
    with read_session() as session:
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            return None
        return principal_for(session, user)


def validate_password(
    password: str, *, username: str = "", names: tuple[str, ...] = ()
) -> dict[str, tuple[str, dict]]:
    """The password policy (domain.password_policy): {"password": (key, params)} or {}."""
    problem = password_problem(password or "", username=username, names=names)
    return {"password": problem} if problem else {}


def change_password(
    principal: Principal, *, current: str, new: str, repeat: str, keep_session_id: int | None = None
) -> None:
    """Change one's own password; every other browser session of the user ends
    (`keep_session_id`, the browser that made the change, stays logged in)."""
    from services.sessions import bump_epoch
    errors = validate_password(new, username=principal.username, names=(principal.display_name,))
    if new != repeat:
        errors["repeat"] = ("error.password_mismatch", {})
    with read_session() as session:
        user = session.get(User, principal.user_id)
        if user is None or not verify_password(user.password_hash, current):
            errors["current"] = ("error.password_wrong", {})
    if errors:
        if "current" in errors:
            audit.record_now(principal, "account.password_change", "failed", detail="wrong current password")
        raise ValidationError(errors)
    new_hash = hash_password(new)  # outside the write transaction
    with write_session() as session:
        user = session.get(User, principal.user_id)
        user.password_hash = new_hash
        user.password_changed_at = utcnow()
        bump_epoch(session, user, keep_session_id=keep_session_id)
        session.add(user)
        audit.record(session, principal, "account.password_change")


def _require_principal(principal: Principal | None, action: str) -> None:
    """Account functions act on the principal's own account: without one they refuse (audited)."""
    audit.require_role(principal, *ROLES, action=action)


def set_language(principal: Principal, language: str) -> None:
    from locales import LANGUAGES

    _require_principal(principal, "account.language")
    if language not in LANGUAGES:
        raise ValidationError({"language": ("error.invalid_choice", {})})
    with write_session() as session:
        user = session.get(User, principal.user_id)
        if user is not None:
            user.language = language
            session.add(user)


@dataclass(frozen=True)
class AccountDetails:
    username: str
    display_name: str
    role: str
    email: str | None
    scope: tuple[str, ...]
    has_password: bool


def account_details(principal: Principal) -> AccountDetails:
    """What the account page shows about the logged-in user: name, role, scope by name."""
    _require_principal(principal, "account.read")
    with read_session() as session:
        user = session.get(User, principal.user_id)
        if user is None:
            raise NotFound()
        centres = session.exec(
            select(HealthCentre.name).where(col(HealthCentre.id).in_(principal.centre_ids))
        ).all()
        orgs = session.exec(
            select(Organization.name).where(col(Organization.id).in_(principal.organization_ids))
        ).all()
        return AccountDetails(
            username=user.username,
            display_name=user.display_name,
            role=user.role,
            email=user.email,
            scope=tuple(sorted(centres)) + tuple(sorted(orgs)),
            has_password=user.password_hash is not None,
        )
