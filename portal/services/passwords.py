"""Password policy and hashing."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

from portal.i18n import _l
from portal.services.errors import ValidationFailed

MIN_LENGTH = 10
MAX_LENGTH = 200
# A few of the most common choices; length and variety do the rest.
_COMMON = {
    "password12", "passord123", "1234567890", "qwertyuiop", "password123",
    "passord1234", "samspill123", "0123456789", "abcdefghij", "iloveyou12",
}


def check_policy(password: str | None, *, email: str = "") -> None:
    if not password:
        raise ValidationFailed(_l("Enter a password."), field="password")
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(
            _l("Use at least %(n)d characters.", n=MIN_LENGTH), field="password")
    if len(password) > MAX_LENGTH:
        raise ValidationFailed(_l("Use at most %(n)d characters.", n=MAX_LENGTH),
                               field="password")
    lowered = password.lower()
    if lowered in _COMMON or len(set(password)) < 5:
        raise ValidationFailed(_l("That password is too easy to guess."), field="password")
    if email and lowered == email.lower().split("@")[0]:
        raise ValidationFailed(_l("Do not use your e-mail address as password."),
                               field="password")
    if password.isdigit() or password.isalpha():
        raise ValidationFailed(_l("Mix letters with digits or symbols."), field="password")


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash or not password:
        return False
    return check_password_hash(password_hash, password)
