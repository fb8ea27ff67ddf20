"""Collaborations: what a match (or a directly recorded activity) becomes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .academic import AcademicUnit, Course
from .accounts import User
from .base import Base, one_of, utcnow
from .opportunities import Application, Opportunity
from .organisations import Organisation
from .vocab import (
    COLLABORATION_FORMS,
    COLLABORATION_STATUSES,
    PARTICIPANT_ROLES,
    RESULT_TYPES,
    STUDY_LEVELS,
)


class Collaboration(Base):
    __tablename__ = "collaboration"
    __table_args__ = (
        one_of("form", COLLABORATION_FORMS),
        one_of("status", COLLABORATION_STATUSES),
        one_of("study_level", STUDY_LEVELS),
        CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
                        name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form: Mapped[str] = mapped_column(String(32), index=True)
    # The department's own word for it, kept as entered; ``form`` is canonical.
    local_label: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    opportunity_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunity.id", ondelete="SET NULL"), index=True
    )
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("application.id", ondelete="SET NULL"), unique=True
    )
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("academic_unit.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="agreed")
    study_level: Mapped[str | None] = mapped_column(String(16))
    programme: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    # Figures the indicators need for some forms.
    ects: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    fte: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    person_months: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    participants_count: Mapped[int | None]
    teams_count: Mapped[int | None]
    impact_story: Mapped[str | None] = mapped_column(Text)
    impact_story_public: Mapped[bool] = mapped_column(default=False)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]

    opportunity: Mapped[Opportunity | None] = relationship()
    application: Mapped[Application | None] = relationship()
    unit: Mapped[AcademicUnit | None] = relationship()
    partners: Mapped[list[CollaborationPartner]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    participants: Mapped[list[CollaborationParticipant]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    courses: Mapped[list[CollaborationCourse]] = relationship(cascade="all, delete-orphan")
    results: Mapped[list[CollaborationResult]] = relationship(
        cascade="all, delete-orphan", order_by="CollaborationResult.id"
    )

    @property
    def partner_organisations(self) -> list[Organisation]:
        return [p.organisation for p in self.partners]


class CollaborationPartner(Base):
    __tablename__ = "collaboration_partner"

    collaboration_id: Mapped[int] = mapped_column(
        ForeignKey("collaboration.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), primary_key=True, index=True
    )

    organisation: Mapped[Organisation] = relationship(lazy="joined")


class CollaborationParticipant(Base):
    __tablename__ = "collaboration_participant"
    __table_args__ = (
        one_of("role", PARTICIPANT_ROLES),
        UniqueConstraint("collaboration_id", "user_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    collaboration_id: Mapped[int] = mapped_column(
        ForeignKey("collaboration.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(32))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL")
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class CollaborationCourse(Base):
    __tablename__ = "collaboration_course"

    collaboration_id: Mapped[int] = mapped_column(
        ForeignKey("collaboration.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(
        ForeignKey("course.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    tagged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    tagged_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship(lazy="joined")


class CollaborationResult(Base):
    __tablename__ = "collaboration_result"
    __table_args__ = (one_of("type", RESULT_TYPES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collaboration_id: Mapped[int] = mapped_column(
        ForeignKey("collaboration.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300), default="")
    link: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    occurred_on: Mapped[date]
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
