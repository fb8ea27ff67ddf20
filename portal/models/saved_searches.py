"""Saved searches: the query and filters a user wants to hear about (alerts: jobs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, one_of, utcnow


class SavedSearch(Base):
    __tablename__ = "saved_search"
    __table_args__ = (one_of("frequency", ("daily", "weekly")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(String(200))
    query: Mapped[str] = mapped_column(String(500), default="")
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    frequency: Mapped[str] = mapped_column(String(8), default="daily")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_alerted_at: Mapped[datetime | None]
    # Set by the unsubscribe link: the search stays saved, the alerts stop.
    unsubscribed_at: Mapped[datetime | None]
    # Why the alerts job could not run this search (kept for the owner and admins).
    last_error: Mapped[str | None] = mapped_column(Text)
