"""Scheduled jobs: their run records and the leases that keep one runner at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, one_of, utcnow

JOB_OUTCOMES = ("running", "ok", "failed", "interrupted")


class JobRun(Base):
    """One run of one job, written when it starts and completed when it ends.

    A row left ``running`` by a killed process is marked ``interrupted`` by the
    next runner once the holder's lease has lapsed.
    """

    __tablename__ = "job_run"
    __table_args__ = (
        one_of("outcome", JOB_OUTCOMES),
        Index("ix_job_run_job_started", "job", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(48))
    trigger: Mapped[str] = mapped_column(String(16), default="schedule")  # schedule | manual
    runner: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class JobLease(Base):
    """A named lease in the database: whoever holds an unexpired row may act.

    ``scheduler`` decides which process runs the scheduler; ``job:NAME`` keeps
    a manual run from overlapping a scheduled one.
    """

    __tablename__ = "job_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class ResultReminder(Base):
    """A result reminder stage sent for a collaboration (1, 2: participants; 3: coordinator).

    The unique key makes the reminders job idempotent: a stage is sent once.
    """

    __tablename__ = "result_reminder"
    __table_args__ = (Index("ux_result_reminder_collab_stage", "collaboration_id", "stage",
                            unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collaboration_id: Mapped[int] = mapped_column(
        ForeignKey("collaboration.id", ondelete="CASCADE"))
    stage: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    recipients: Mapped[int] = mapped_column(default=0)
