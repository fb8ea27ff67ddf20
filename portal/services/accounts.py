"""User accounts: creation, e-mail normalisation, roles and person keys.

Authorisation rules (who may grant what) live in ``portal.services.policy``.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.i18n import _l
from portal.models import PersonKey, StudentProfile, User, UserRole, utcnow
from portal.models.vocab import ROLES
from portal.services import passwords
from portal.services.errors import Conflict, NotFound, ValidationFailed


def normalise_email(raw: str | None, *, check_deliverability: bool = False) -> str:
    """email-validator's normalised form, lower-cased so uniqueness ignores case."""
    if not raw or not raw.strip():
        raise ValidationFailed(_l("Enter an e-mail address."), field="email")
    try:
        info = validate_email(raw.strip(), check_deliverability=check_deliverability)
    except EmailNotValidError:
        raise ValidationFailed(_l("Enter a valid e-mail address."), field="email") from None
    return info.normalized.lower()


def find_by_email(db: Session, email: str) -> User | None:
    try:
        normal = normalise_email(email)
    except ValidationFailed:
        return None
    return db.execute(select(User).where(User.email == normal)).scalar_one_or_none()


def get_user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None or user.erased_at is not None:
        raise NotFound(_l("No such user."))
    return user


def create_user(
    db: Session,
    *,
    email: str,
    display_name: str,
    password: str | None,
    roles: tuple[str, ...] | list[str] = (),
    locale: str = "nb",
    verified: bool = False,
    now: datetime | None = None,
    check_password: bool = True,
) -> User:
    """Create an account. ``password=None`` makes one that cannot log in by password."""
    now = now or utcnow()
    errors: dict[str, list] = {}
    normal = None
    try:
        normal = normalise_email(email)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    name = (display_name or "").strip()
    if not name:
        errors.setdefault("display_name", []).append(_l("Enter your name."))
    elif len(name) > 200:
        errors.setdefault("display_name", []).append(_l("The name is too long."))
    if password is not None and check_password:
        try:
            passwords.check_policy(password, email=normal or "")
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if locale not in ("nb", "en"):
        errors.setdefault("locale", []).append(_l("Choose Norwegian or English."))
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        errors.setdefault("roles", []).append(_l("Unknown role: %(r)s", r=", ".join(unknown)))
    if errors:
        raise ValidationFailed(errors)
    if db.execute(select(func.count()).select_from(User).where(User.email == normal)).scalar():
        raise ValidationFailed(
            {"email": [_l("An account with this e-mail address already exists.")]})
    user = User(
        email=normal,
        display_name=name,
        password_hash=passwords.hash_password(password) if password else None,
        locale=locale,
        email_verified_at=now if verified else None,
        created_at=now,
    )
    db.add(user)
    db.flush()
    for role in dict.fromkeys(roles):
        db.add(UserRole(user_id=user.id, role=role, granted_at=now))
    if "student" in roles:
        db.add(StudentProfile(user_id=user.id, updated_at=now))
    db.flush()
    db.refresh(user)
    return user


def add_role(db: Session, user: User, role: str, *, granted_by: User | None = None,
             now: datetime | None = None) -> bool:
    """Grant ``role``; returns False if the user already had it. No policy check here."""
    if role not in ROLES:
        raise ValidationFailed(_l("Unknown role: %(r)s", r=role), field="role")
    if role in user.role_names:
        return False
    user.roles.append(UserRole(user_id=user.id, role=role, granted_at=now or utcnow(),
                               granted_by_id=granted_by.id if granted_by else None))
    if role == "student" and db.get(StudentProfile, user.id) is None:
        db.add(StudentProfile(user_id=user.id))
    db.flush()
    return True


def remove_role(db: Session, user: User, role: str) -> bool:
    for r in list(user.roles):
        if r.role == role:
            user.roles.remove(r)
            db.flush()
            return True
    return False


def person_key(db: Session, user: User | None) -> str | None:
    """The pseudonymous key events use for ``user``; created on first use."""
    if user is None:
        return None
    row = db.execute(select(PersonKey).where(PersonKey.user_id == user.id)).scalar_one_or_none()
    if row is None:
        row = PersonKey(key=secrets.token_hex(16), user_id=user.id)
        db.add(row)
        db.flush()
    return row.key


def ensure_unique_email(db: Session, email: str) -> str:
    normal = normalise_email(email)
    if db.execute(select(User.id).where(User.email == normal)).first():
        raise Conflict(_l("An account with this e-mail address already exists."))
    return normal
