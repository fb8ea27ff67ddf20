"""NACE Rev. 2 codes → sections (the letter the indicators break down by)."""

from __future__ import annotations

import re

# Division ranges per section (NACE Rev. 2 / SN2007).
_SECTIONS = [
    ("A", 1, 3), ("B", 5, 9), ("C", 10, 33), ("D", 35, 35), ("E", 36, 39),
    ("F", 41, 43), ("G", 45, 47), ("H", 49, 53), ("I", 55, 56), ("J", 58, 63),
    ("K", 64, 66), ("L", 68, 68), ("M", 69, 75), ("N", 77, 82), ("O", 84, 84),
    ("P", 85, 85), ("Q", 86, 88), ("R", 90, 93), ("S", 94, 96), ("T", 97, 98),
    ("U", 99, 99),
]

_CODE = re.compile(r"^\d{2}(\.\d{1,3})?$")


def is_valid_code(code: str) -> bool:
    return bool(_CODE.match(code or "")) and section_for(code) is not None


def section_for(code: str | None) -> str | None:
    if not code:
        return None
    m = re.match(r"^(\d{2})", code.strip())
    if not m:
        return None
    division = int(m.group(1))
    for letter, lo, hi in _SECTIONS:
        if lo <= division <= hi:
            return letter
    return None
