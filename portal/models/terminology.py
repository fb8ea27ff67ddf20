"""Words coordinators add to the terminology bridge and the subject thesaurus.

Kept in the database and layered over the shipped data files at query time,
so an addition takes effect at once without rebuilding the index.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class TermSynonym(Base):
    __tablename__ = "term_synonym"
    __table_args__ = (UniqueConstraint("term", "synonym"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Both stored lower-case; the pair is used in both directions.
    term: Mapped[str] = mapped_column(String(120))
    synonym: Mapped[str] = mapped_column(String(120))
    added_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
