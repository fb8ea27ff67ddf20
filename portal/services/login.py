"""Registration, login with throttling, e-mail verification and password reset."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal.config import Settings
from portal.i18n import _l
from portal.models import LoginAttempt, User, utcnow
from portal.services import accounts, auth_sessions, passwords, tokens
from portal.services.errors import ServiceError, ValidationFailed

VERIFY = "verify-email"
RESET = "reset-password"

SELF_SERVICE_ROLES = {"student": ("student",), "partner": ()}


class Throttled(ServiceError):
    pass


def register(
    db: Session, *, email: str, display_name: str, password: str, account_type: str,
    locale: str, now: datetime | None = None,
) -> User:
    """Self-service sign-up. Partners get their role by registering or joining an organisation."""
    if account_type not in SELF_SERVICE_ROLES:
        raise ValidationFailed(_l("Choose what kind of account you need."), field="account_type")
    return accounts.create_user(
        db, email=email, display_name=display_name, password=password,
        roles=SELF_SERVICE_ROLES[account_type], locale=locale, now=now,
    )


def _recent_failures(db: Session, column, value: str, since: datetime) -> int:
    return db.execute(
        select(func.count()).select_from(LoginAttempt)
        .where(column == value, LoginAttempt.attempted_at >= since)
    ).scalar_one()


def authenticate(
    db: Session, *, email: str, password: str, remote_addr: str, settings: Settings,
    now: datetime | None = None,
) -> User:
    """Check credentials. Failures are recorded (the caller commits them) and throttled.

    The message for a wrong e-mail and a wrong password is the same, so the
    form does not reveal which addresses have accounts.
    """
    now = now or utcnow()
    since = now - timedelta(seconds=settings.login_lockout_seconds)
    key = (email or "").strip().lower()[:320]
    if (_recent_failures(db, LoginAttempt.email, key, since) >= settings.login_max_failures
            or _recent_failures(db, LoginAttempt.remote_addr, remote_addr or "", since)
            >= settings.login_max_failures * 4):
        raise Throttled(_l("Too many failed attempts. Wait %(m)d minutes and try again.",
                           m=max(settings.login_lockout_seconds // 60, 1)))
    user = accounts.find_by_email(db, email)
    ok = (user is not None and user.is_active and user.erased_at is None
          and passwords.verify_password(user.password_hash, password))
    if not ok:
        db.add(LoginAttempt(email=key, remote_addr=(remote_addr or "")[:64], attempted_at=now))
        raise ValidationFailed(_l("Wrong e-mail address or password."), field="password")
    db.execute(delete(LoginAttempt).where(LoginAttempt.email == key))
    return user


def verification_token(settings: Settings, user: User) -> str:
    return tokens.make(settings.secret_key, VERIFY, {"uid": user.id, "email": user.email})


def confirm_email(db: Session, settings: Settings, token: str,
                  now: datetime | None = None) -> User:
    data = tokens.read(settings.secret_key, VERIFY, token, settings.token_max_age_seconds)
    user = db.get(User, data.get("uid"))
    # A token for an address the account no longer has is void.
    if user is None or user.email != data.get("email") or user.erased_at is not None:
        raise ValidationFailed(_l("This link is not valid."), field="token")
    if user.email_verified_at is None:
        user.email_verified_at = now or utcnow()
    return user


def _hash_fingerprint(user: User) -> str:
    # Changing the password changes the hash, which voids every earlier reset link.
    return (user.password_hash or "none")[-16:]


def reset_token(settings: Settings, user: User) -> str:
    return tokens.make(settings.secret_key, RESET, {"uid": user.id, "fp": _hash_fingerprint(user)})


def user_for_reset_token(db: Session, settings: Settings, token: str) -> User:
    data = tokens.read(settings.secret_key, RESET, token, settings.reset_token_max_age_seconds)
    user = db.get(User, data.get("uid"))
    if user is None or user.erased_at is not None or data.get("fp") != _hash_fingerprint(user):
        raise ValidationFailed(_l("This link has already been used or is not valid."),
                               field="token")
    return user


def reset_password(db: Session, settings: Settings, token: str, new_password: str) -> User:
    user = user_for_reset_token(db, settings, token)
    passwords.check_policy(new_password, email=user.email)
    user.password_hash = passwords.hash_password(new_password)
    # Whoever knew the old password is logged out everywhere.
    auth_sessions.end_all_sessions(db, user.id)
    if user.email_verified_at is None:
        # Following the link proved control of the address.
        user.email_verified_at = utcnow()
    return user
