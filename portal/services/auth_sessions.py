"""Server-side login sessions.

The cookie carries a random token; the database keeps only its hash. Logging
out deletes the row, so a copied or replayed cookie no longer logs anyone in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.models import AuthSession, User, utcnow

SHORT_SESSION = timedelta(hours=12)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    db: Session, user: User, *, remember: bool, days: int, now: datetime | None = None
) -> str:
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    lifetime = timedelta(days=days) if remember else SHORT_SESSION
    db.add(AuthSession(token_hash=_hash(token), user_id=user.id, created_at=now,
                       expires_at=now + lifetime, remember=remember))
    user.last_login_at = now
    # Retention starts over: the account is visible again and any deletion warning void.
    user.hidden_at = None
    user.deletion_warned_at = None
    return token


def user_for_token(db: Session, token: str, now: datetime | None = None) -> User | None:
    if not token:
        return None
    now = now or utcnow()
    row = db.execute(
        select(AuthSession).where(AuthSession.token_hash == _hash(token))
    ).scalar_one_or_none()
    if row is None or row.expires_at <= now:
        return None
    user = row.user
    if not user.is_active or user.erased_at is not None:
        return None
    return user


def end_session(db: Session, token: str) -> None:
    db.execute(delete(AuthSession).where(AuthSession.token_hash == _hash(token)))


def end_all_sessions(db: Session, user_id: int) -> None:
    """After a password reset or role change that must take effect everywhere."""
    db.execute(delete(AuthSession).where(AuthSession.user_id == user_id))
