"""The append-only collaboration event log and its dimension snapshot.

Indicators read only this table. A row is never updated or deleted: the ORM
refuses it here and database triggers (see the initial migration) refuse it
for anything that bypasses the ORM.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

EventId = BigInteger().with_variant(Integer, "sqlite")


class AppendOnlyError(RuntimeError):
    pass


class CollaborationEvent(Base):
    __tablename__ = "collaboration_event"
    __table_args__ = (
        Index("ix_collaboration_event_type_occurred", "type", "occurred_at"),
        Index("ix_collaboration_event_occurred", "occurred_at"),
        # The indicators' look-backs: an organisation's or a collaboration's other events.
        Index("ix_collaboration_event_org_type_occurred", "organisation_id", "type", "occurred_at"),
        Index("ix_collaboration_event_collab_type", "collaboration_id", "type"),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(48))
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Persons appear only as pseudonymous keys (see PersonKey).
    actor_key: Mapped[str | None] = mapped_column(String(32))
    subject_key: Mapped[str | None] = mapped_column(String(32), index=True)
    # Links are plain ids, not foreign keys: the log outlives what it describes.
    collaboration_id: Mapped[int | None] = mapped_column(index=True)
    opportunity_id: Mapped[int | None] = mapped_column(index=True)
    application_id: Mapped[int | None]
    organisation_id: Mapped[int | None] = mapped_column(index=True)
    unit_id: Mapped[int | None]
    course_id: Mapped[int | None]
    # Dimension snapshot, as it was when the event happened.
    form: Mapped[str | None] = mapped_column(String(32))
    opportunity_kind: Mapped[str | None] = mapped_column(String(16))
    partner_sector: Mapped[str | None] = mapped_column(String(32))
    partner_public_enterprise: Mapped[bool | None]
    partner_size: Mapped[str | None] = mapped_column(String(16))
    partner_country: Mapped[str | None] = mapped_column(String(2))
    partner_nace: Mapped[str | None] = mapped_column(String(2))
    faculty: Mapped[str | None] = mapped_column(String(40))
    department: Mapped[str | None] = mapped_column(String(40))
    unit: Mapped[str | None] = mapped_column(String(40))
    course: Mapped[str | None] = mapped_column(String(20))
    study_level: Mapped[str | None] = mapped_column(String(16))
    programme: Mapped[str | None] = mapped_column(String(200))
    # Non-personal figures (ECTS, FTE, participant counts, result type, …).
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


@event.listens_for(CollaborationEvent, "before_update")
def _refuse_update(mapper, connection, target) -> None:
    raise AppendOnlyError("collaboration_event is append-only: rows are never updated")


@event.listens_for(CollaborationEvent, "before_delete")
def _refuse_delete(mapper, connection, target) -> None:
    raise AppendOnlyError("collaboration_event is append-only: rows are never deleted")
