"""Plumbing tables: the search change log and the e-mail outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, one_of, utcnow

SeqId = BigInteger().with_variant(Integer, "sqlite")


class SearchChange(Base):
    """Appended in the same transaction as any change to an indexed entity."""

    __tablename__ = "search_change"
    __table_args__ = (one_of("op", ("upsert", "delete")),)

    seq: Mapped[int] = mapped_column(SeqId, primary_key=True, autoincrement=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int]
    op: Mapped[str] = mapped_column(String(8), default="upsert")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMail(Base):
    __tablename__ = "outbox_mail"
    __table_args__ = (
        one_of("status", ("pending", "sending", "sent", "failed")),
        Index("ix_outbox_mail_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    to_addr: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(2), default="nb")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # When a deliverer claimed it; a claim older than the stale limit belongs to
    # a process that died mid-send and is taken over by the next run.
    claimed_at: Mapped[datetime | None]
    # Extra headers (e.g. List-Unsubscribe) as name → value.
    headers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
