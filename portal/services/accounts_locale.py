from __future__ import annotations

from sqlalchemy.orm import Session

from portal.models import User
from portal.services.errors import ValidationFailed


def set_locale(db: Session, user: User, locale: str) -> None:
    if locale not in ("nb", "en"):
        raise ValidationFailed("Unknown language", field="locale")
    user.locale = locale
