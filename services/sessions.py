"""Server-checked browser sessions: one row per logged-in browser, found again from a cookie.

The cookie carries a random id and its HMAC signature (`<id>.<sig>`); the database keeps only the
id's SHA-256 (`token_hash`), so a copy of the database does not yield a usable cookie. The key is
derived from LOTSA_SECRET_KEY by HKDF (one secret; every replica shares it). Every run checks the
row: not revoked, idle and absolute limits (LOTSA_IDLE_MINUTES, LOTSA_ABSOLUTE_HOURS) and the
user's credential epoch (bumped on password reset, password change and disable), so a reset or a
disable ends every other session at the next interaction.

How the cookie reaches the browser: the page cannot set an HttpOnly cookie from a script run, so
`begin` returns a one-time handoff token (valid HANDOFF_SECONDS); the page posts it to the
server's /_lotsa/session route (serve.py), which calls `claim` and answers with Set-Cookie
(HttpOnly, SameSite=Strict, Secure on https). The random id itself never leaves the server
except in that header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete
from sqlmodel import Session, col, select, update

from db.engine import read_session, write_session
from db.models import BrowserSession, User, utcnow
from services import audit
from services.auth import principal_for
from services.principal import Principal
from settings import get_settings, master_key

COOKIE_NAME = "lotsa_session"
HANDOFF_SECONDS = 120
_TOKEN_BYTES = 32
_MAX_COOKIE = 200
# The idle clock moves at most this often (one write per TOUCH_EVERY instead of one per click); the idle
# limit is minutes, so a lock comes at most this much earlier than the last click implies.
TOUCH_EVERY = timedelta(seconds=20)


@lru_cache(maxsize=2)
def _derive(master: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"lotsa session cookie v1").derive(
        master
    )


def _sign(token: str) -> str:
    return hmac.new(_derive(master_key()), token.encode(), hashlib.sha256).hexdigest()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cookie_value(token: str) -> str:
    return f"{token}.{_sign(token)}"


def token_from_cookie(value: str | None) -> str | None:
    """The random id of a well-formed cookie with a valid signature, else None."""
    if not value or len(value) > _MAX_COOKIE or value.count(".") != 1:
        return None
    token, signature = value.split(".")
    if not token or not hmac.compare_digest(signature, _sign(token)):
        return None
    return token


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


@dataclass(frozen=True)
class Started:
    session_id: int
    handoff: str


@dataclass(frozen=True)
class Checked:
    """The outcome of checking a session: a principal, or the reason it ended (a locale key)."""

    session_id: int | None
    principal: Principal | None
    reason: str | None = None
    sso: bool = False
    handoff_pending: bool = False
    idle_deadline: datetime | None = None


def begin(
    user_id: int,
    *,
    sso: bool = False,
    started_at: datetime | None = None,
    last_seen_at: datetime | None = None,
) -> Started:
    """Open a session for a user who has just logged in; returns the one-time handoff token.

    `started_at`/`last_seen_at` default to now (other values: adopting an in-tab login, see
    components/session.py)."""
    handoff = secrets.token_urlsafe(_TOKEN_BYTES)
    now = utcnow()
    with write_session() as session:
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            raise ValueError("no active user")
        _drop_dead_rows(session, user_id, now)
        row = BrowserSession(
            user_id=user_id,
            handoff_hash=_hash(handoff),
            handoff_expires_at=now + timedelta(seconds=HANDOFF_SECONDS),
            credential_epoch=user.credential_epoch,
            sso=sso,
            created_at=started_at or now,
            last_seen_at=last_seen_at or now,
        )
        session.add(row)
        session.flush()
        return Started(session_id=row.id, handoff=handoff)


def _drop_dead_rows(session: Session, user_id: int, now: datetime) -> None:
    """Keep the table small: a login deletes the user's rows that ended or expired over a day ago
    (their ends are in the audit log)."""
    _, absolute = _limits()
    cutoff = now - timedelta(days=1)
    session.exec(
        delete(BrowserSession).where(
            col(BrowserSession.user_id) == user_id,
            (col(BrowserSession.revoked_at) < cutoff) | (col(BrowserSession.created_at) < cutoff - absolute),
        )
    )


def claim(handoff: str | None) -> str | None:
    """Trade a handoff token for the cookie value, once and within HANDOFF_SECONDS; None if refused."""
    if not handoff or len(handoff) > _MAX_COOKIE:
        return None
    now = utcnow()
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    with write_session() as session:
        row = session.exec(
            select(BrowserSession).where(BrowserSession.handoff_hash == _hash(handoff))
        ).first()
        if row is None:
            return None
        fresh = row.handoff_expires_at is not None and _aware(row.handoff_expires_at) >= now
        row.handoff_hash, row.handoff_expires_at = None, None  # one use, even when refused
        if not fresh or row.revoked_at is not None:
            session.add(row)
            return None
        row.token_hash = _hash(token)
        session.add(row)
    return cookie_value(token)


def _limits() -> tuple[timedelta, timedelta]:
    settings = get_settings()
    return timedelta(minutes=settings.idle_minutes), timedelta(hours=settings.absolute_hours)


def _ended_reason(row: BrowserSession, user: User | None, now: datetime) -> str | None:
    """Why this session may no longer be used (a translation key), or None while it is valid."""
    idle, absolute = _limits()
    reason = None
    if row.revoked_at is not None:
        reason = "login.session_ended"
    elif user is None or not user.is_active:
        reason = "login.account_disabled"
    elif user.credential_epoch != row.credential_epoch:
        reason = "login.credentials_changed"
    elif now - _aware(row.last_seen_at) > idle:
        reason = "login.idle_timeout"
    elif now - _aware(row.created_at) > absolute:
        reason = "login.absolute_timeout"
    return reason


def _valid(session: Session, row: BrowserSession, user: User, *, pending: bool = False) -> Checked:
    idle, absolute = _limits()
    return Checked(
        row.id,
        principal_for(session, user),
        None,
        sso=row.sso,
        handoff_pending=pending,
        idle_deadline=min(_aware(row.last_seen_at) + idle, _aware(row.created_at) + absolute),
    )


def _check(session: Session, row: BrowserSession, *, touch: bool) -> Checked:
    now = utcnow()
    user = session.get(User, row.user_id)
    reason = _ended_reason(row, user, now)
    if reason is not None:
        if row.revoked_at is None:
            row.revoked_at, row.revoked_reason = now, reason.removeprefix("login.")
            row.handoff_hash = row.handoff_expires_at = None
            session.add(row)
            audit.record(
                session,
                principal_for(session, user) if user is not None else None,
                "logout",
                reason.removeprefix("login.")[:16],  # the audit outcome column holds 16
                username=user.username if user is not None else None,
                detail=f"session={row.id} {reason.removeprefix('login.')}",
            )
        return Checked(row.id, None, reason, sso=row.sso)
    if touch:
        row.last_seen_at = now
        session.add(row)
    pending = row.token_hash is None and row.handoff_hash is not None
    if pending and row.handoff_expires_at is not None and _aware(row.handoff_expires_at) < now:
        pending = False
    return _valid(session, row, user, pending=pending)


def check(session_id: int, *, touch: bool = True) -> Checked:
    """Check this browser's session on an interaction (`touch` moves the idle clock).

    Every run of every page calls this, so the common case is one read: a valid session whose idle
    clock moved less than TOUCH_EVERY ago, or one already ended, needs no write."""
    now = utcnow()
    with read_session() as session:
        row = session.get(BrowserSession, session_id)
        if row is None:
            return Checked(None, None, "login.session_ended")
        user = session.get(User, row.user_id)
        reason = _ended_reason(row, user, now)
        fresh = now - _aware(row.last_seen_at) < TOUCH_EVERY
        if reason is None and (fresh or not touch) and row.handoff_hash is None:
            return _valid(session, row, user)
        if reason is not None and row.revoked_at is not None:
            return Checked(row.id, None, reason, sso=row.sso)
    with write_session() as session:
        row = session.get(BrowserSession, session_id)
        if row is None:
            return Checked(None, None, "login.session_ended")
        return _check(session, row, touch=touch)


def resume(cookie: str | None) -> Checked:
    """The session a browser's cookie names (a reload or a new tab), checked; or no principal."""
    token = token_from_cookie(cookie)
    if token is None:
        return Checked(None, None, "login.session_ended" if cookie else None)
    with write_session() as session:
        row = session.exec(select(BrowserSession).where(BrowserSession.token_hash == _hash(token))).first()
        if row is None:
            return Checked(None, None, "login.session_ended")
        return _check(session, row, touch=True)


def idle_deadline(session_id: int) -> datetime | None:
    """When this session goes idle, without moving the clock (for the on-screen countdown)."""
    idle, absolute = _limits()
    with read_session() as session:
        row = session.get(BrowserSession, session_id)
        if row is None or row.revoked_at is not None:
            return None
        return min(_aware(row.last_seen_at) + idle, _aware(row.created_at) + absolute)


def revoke(session_id: int | None, reason: str = "logout") -> None:
    """End a session (logout, timeout seen by the page); the cookie no longer finds it."""
    if session_id is None:
        return
    with write_session() as session:
        session.exec(
            update(BrowserSession)
            .where(col(BrowserSession.id) == session_id, col(BrowserSession.revoked_at).is_(None))
            .values(
                revoked_at=utcnow(), revoked_reason=reason[:32], handoff_hash=None, handoff_expires_at=None
            )
        )


def revoke_cookie(cookie: str | None, reason: str = "logout") -> None:
    """End the session a cookie names (the logout route), if the cookie is genuine."""
    token = token_from_cookie(cookie)
    if token is None:
        return
    with write_session() as session:
        session.exec(
            update(BrowserSession)
            .where(col(BrowserSession.token_hash) == _hash(token), col(BrowserSession.revoked_at).is_(None))
            .values(revoked_at=utcnow(), revoked_reason=reason[:32])
        )


def bump_epoch(session: Session, user: User, *, keep_session_id: int | None = None) -> None:
    """Inside the caller's transaction: end every session of `user` (password reset, change,
    disable), except `keep_session_id` (the browser that changed its own password)."""
    user.credential_epoch = (user.credential_epoch or 0) + 1
    session.add(user)
    if keep_session_id is not None:
        session.exec(
            update(BrowserSession)
            .where(
                col(BrowserSession.id) == keep_session_id,
                col(BrowserSession.user_id) == user.id,
                col(BrowserSession.revoked_at).is_(None),
            )
            .values(credential_epoch=user.credential_epoch)
        )


def active_count(user_id: int) -> int:
    """Sessions of a user that are not revoked (they may still have expired by time)."""
    with read_session() as session:
        return len(
            session.exec(
                select(BrowserSession.id).where(
                    BrowserSession.user_id == user_id, col(BrowserSession.revoked_at).is_(None)
                )
            ).all()
        )


def purge(older_than_days: int = 30) -> int:
    """Delete rows revoked or created more than `older_than_days` ago; returns how many."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    with write_session() as session:
        rows = session.exec(
            select(BrowserSession).where(
                (col(BrowserSession.created_at) < cutoff)
                | (col(BrowserSession.revoked_at).is_not(None) & (col(BrowserSession.revoked_at) < cutoff))
            )
        ).all()
        for row in rows:
            session.delete(row)
        return len(rows)
