"""Norwegian organisation numbers (organisasjonsnummer).

Nine digits, the last a MOD11 check digit over the first eight with weights
3, 2, 7, 6, 5, 4, 3, 2. People write them with spaces ("974 760 673"), with
a country prefix ("NO 974760673") or as a VAT number ("NO974760673MVA");
:func:`normalise` strips those decorations.
"""

from __future__ import annotations

import re

from portal.i18n import _l
from portal.services.errors import ValidationFailed

WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)

_DECORATION = re.compile(r"[\s.\-\u00a0]")


def normalise(raw: str | None) -> str:
    """Strip spaces, dots, dashes and the ``NO`` / ``MVA`` decorations (any case)."""
    value = _DECORATION.sub("", raw or "").upper()
    if value.startswith("NO"):
        value = value[2:]
    if value.endswith("MVA"):
        value = value[:-3]
    return value


def check_digit(first_eight: str) -> int | None:
    """The MOD11 check digit for eight digits, or None when no digit fits (remainder 1)."""
    if len(first_eight) != 8 or not first_eight.isdigit():
        raise ValueError("eight digits expected")
    total = sum(int(d) * w for d, w in zip(first_eight, WEIGHTS, strict=True))
    check = 11 - (total % 11)
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def is_valid(raw: str | None) -> bool:
    value = normalise(raw)
    if len(value) != 9 or not value.isdigit() or not value.isascii():
        return False
    return check_digit(value[:8]) == int(value[8])


def validate(raw: str | None, *, field: str = "org_number") -> str:
    """The normalised number, or ValidationFailed with a message for the person typing it."""
    value = normalise(raw)
    if not value:
        raise ValidationFailed(_l("Enter the organisation number."), field=field)
    if len(value) != 9 or not value.isdigit() or not value.isascii():
        raise ValidationFailed(
            _l("An organisation number has nine digits, for example 974 760 673."), field=field
        )
    if check_digit(value[:8]) != int(value[8]):
        raise ValidationFailed(
            _l("This is not a valid organisation number: the check digit does not match. "
               "Please check for typing errors."),
            field=field,
        )
    return value


def format_number(value: str | None) -> str:
    """``974760673`` → ``974 760 673`` for display."""
    if not value or len(value) != 9:
        return value or ""
    return f"{value[:3]} {value[3:6]} {value[6:]}"
