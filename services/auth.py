"""Logging in and staying logged in: local argon2id accounts, OpenID Connect mapping by e-mail,
lockout after repeated failures, and the principal reloaded on every interaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select

from db.engine import read_session, write_session
from db.models import HealthCentre, Organization, User, UserCentre, UserOrganization, utcnow
from domain.security import hash_password, password_hasher, verify_password
from services import audit
from services.errors import LoginFailed, NotFound, ValidationError
from services.principal import Principal
from settings import get_settings

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


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


def authenticate(username: str, password: str) -> Principal:
    """Check a local login. Unknown user, wrong password, disabled or locked: one LoginFailed."""
    settings = get_settings()
    username = (username or "").strip().lower()
    if not username or not password or len(password) > MAX_PASSWORD_LENGTH:
        verify_password(None, "x")
        raise LoginFailed()
    now = utcnow()
    with write_session() as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            verify_password(None, password)
            audit.record(session, None, "login", "failed", username=username, detail="unknown user")
            failed = True
        elif user.locked_until is not None and user.locked_until > now:
            verify_password(None, password)
            audit.record(session, None, "login", "locked", username=username)
            failed = True
        elif not verify_password(user.password_hash, password) or not user.is_active:
            user.failed_attempts += 1
            detail = "inactive" if user.is_active is False else "wrong password"
            if user.failed_attempts >= settings.lockout_attempts:
                user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
                user.failed_attempts = 0
                audit.record(
                    session,
                    None,
                    "login.lockout",
                    "locked",
                    username=username,
                    detail=f"locked for {settings.lockout_minutes} min",
                )
            audit.record(session, None, "login", "failed", username=username, detail=detail)
            session.add(user)
            failed = True
        else:
            failed = False
            if password_hasher().check_needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            user.failed_attempts = 0
            user.locked_until = None
            user.last_login_at = now
            session.add(user)
            principal = principal_for(session, user)
            audit.record(session, principal, "login", "ok")
    if failed:
        raise LoginFailed()
    return principal


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


def validate_password(password: str, *, username: str = "") -> dict[str, tuple[str, dict]]:
    if len(password) < MIN_PASSWORD_LENGTH:
        return {"password": ("error.password_short", {"n": MIN_PASSWORD_LENGTH})}
    if len(password) > MAX_PASSWORD_LENGTH:
        return {"password": ("error.too_long", {"n": MAX_PASSWORD_LENGTH})}
    if username and username.lower() in password.lower():
        return {"password": ("error.password_contains_username", {})}
    return {}


def change_password(principal: Principal, *, current: str, new: str, repeat: str) -> None:
    errors = validate_password(new, username=principal.username)
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
    with write_session() as session:
        user = session.get(User, principal.user_id)
        user.password_hash = hash_password(new)
        user.password_changed_at = utcnow()
        session.add(user)
        audit.record(session, principal, "account.password_change")


def set_language(principal: Principal, language: str) -> None:
    from locales import LANGUAGES

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
