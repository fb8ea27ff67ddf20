"""Signed, expiring tokens for links sent by e-mail."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portal.i18n import _l
from portal.services.errors import ValidationFailed


def make(secret: str, purpose: str, payload: dict[str, Any]) -> str:
    return URLSafeTimedSerializer(secret, salt=f"samspill.{purpose}").dumps(payload)


def read(secret: str, purpose: str, token: str, max_age: int) -> dict[str, Any]:
    serializer = URLSafeTimedSerializer(secret, salt=f"samspill.{purpose}")
    try:
        data = serializer.loads(token, max_age=max_age)
    except SignatureExpired:
        raise ValidationFailed(_l("This link has expired. Ask for a new one."),
                               field="token") from None
    except BadSignature:
        raise ValidationFailed(_l("This link is not valid. Check that you copied all of it."),
                               field="token") from None
    if not isinstance(data, dict):
        raise ValidationFailed(_l("This link is not valid."), field="token")
    return data
