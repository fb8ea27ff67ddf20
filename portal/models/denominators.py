"""Denominators for normalising the A2 indicators (INDICATORS.md, Normalisation).

One row per academic unit code and academic year, as published by DBH:
``year`` is the academic year's **starting calendar year** (2024 means the
academic year 2024/25, 1 Aug 2024 – 31 Jul 2025). Loaded from CSV by
``portal indicators denominators load``; re-loading a (unit, year) replaces it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Denominator(Base):
    __tablename__ = "denominator"
    __table_args__ = (UniqueConstraint("unit_code", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(40))
    year: Mapped[int]  # academic year's starting calendar year: 2024 = 2024/25
    students: Mapped[int]
    theses: Mapped[int]
    academic_fte: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)
