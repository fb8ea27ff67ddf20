"""Opportunities of the four kinds, their applications and EiT village wishes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .academic import AcademicUnit, Course
from .accounts import User
from .base import Base, one_of, utcnow
from .organisations import Organisation
from .vocab import (
    APPLICATION_STATUSES,
    CONTENT_LANGUAGES,
    OPPORTUNITY_KINDS,
    OPPORTUNITY_STATUSES,
    STUDY_LEVELS,
)

_ACTIVE = "status IN ('submitted', 'shortlisted', 'accepted')"


class Opportunity(Base):
    __tablename__ = "opportunity"
    __table_args__ = (
        one_of("kind", OPPORTUNITY_KINDS),
        one_of("status", OPPORTUNITY_STATUSES),
        one_of("language", CONTENT_LANGUAGES),
        CheckConstraint(
            "(owner_org_id IS NULL) <> (owner_unit_id IS NULL)", name="one_owner"
        ),
        CheckConstraint("places >= 1", name="places_positive"),
        # Capacity is enforced by the database itself, so concurrent
        # acceptances cannot overfill (services increment ``filled`` guarded).
        CheckConstraint("filled >= 0 AND filled <= places", name="filled_within_places"),
        CheckConstraint(
            "kind <> 'eit_village' OR (places BETWEEN 25 AND 36)", name="eit_capacity"
        ),
        Index("ix_opportunity_status_deadline", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    slug: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2), default="nb")
    domain: Mapped[str | None] = mapped_column(String(60))
    owner_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    owner_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("academic_unit.id", ondelete="RESTRICT"), index=True
    )
    contact_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    municipality: Mapped[str | None] = mapped_column(String(120))
    location: Mapped[str | None] = mapped_column(String(200))
    places: Mapped[int] = mapped_column(default=1)
    filled: Mapped[int] = mapped_column(default=0)
    deadline: Mapped[date | None]
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    published_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_reason: Mapped[str | None] = mapped_column(String(16))
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # thesis_task
    external_cosupervision: Mapped[bool] = mapped_column(default=False)
    confidentiality_terms: Mapped[str | None] = mapped_column(Text)
    # placement
    extent_weeks: Mapped[int | None]
    extent_hours: Mapped[int | None]
    supervised_on_site: Mapped[bool] = mapped_column(default=False)
    credit_bearing: Mapped[bool] = mapped_column(default=False)
    ects: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    paid: Mapped[bool] = mapped_column(default=False)
    # industry_case
    material: Mapped[str | None] = mapped_column(Text)
    course_usage: Mapped[str | None] = mapped_column(Text)
    # eit_village
    semester: Mapped[str | None] = mapped_column(String(5))  # e.g. 2026H, 2027V
    village_code: Mapped[str | None] = mapped_column(String(20))
    theme: Mapped[str | None] = mapped_column(String(300))
    village_leader_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    partner_sought: Mapped[bool] = mapped_column(default=False)
    partner_role: Mapped[str | None] = mapped_column(Text)

    owner_org: Mapped[Organisation | None] = relationship()
    owner_unit: Mapped[AcademicUnit | None] = relationship()
    contact_user: Mapped[User | None] = relationship(foreign_keys=[contact_user_id])
    village_leader: Mapped[User | None] = relationship(foreign_keys=[village_leader_id])
    levels: Mapped[list[OpportunityLevel]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    tags: Mapped[list[OpportunityTag]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    suitable_courses: Mapped[list[OpportunityCourse]] = relationship(
        cascade="all, delete-orphan"
    )

    @property
    def level_names(self) -> list[str]:
        return sorted(lv.level for lv in self.levels)

    @property
    def tag_names(self) -> list[str]:
        return sorted(t.tag for t in self.tags)

    @property
    def places_left(self) -> int:
        return max(self.places - self.filled, 0)


class OpportunityLevel(Base):
    __tablename__ = "opportunity_level"
    __table_args__ = (one_of("level", STUDY_LEVELS),)

    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[str] = mapped_column(String(16), primary_key=True)


class OpportunityTag(Base):
    __tablename__ = "opportunity_tag"

    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(80), primary_key=True, index=True)


class OpportunityCourse(Base):
    __tablename__ = "opportunity_course"

    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    tagged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    course: Mapped[Course] = relationship()


class Application(Base):
    """A student's application, or an academic unit's / organisation's offer."""

    __tablename__ = "application"
    __table_args__ = (
        one_of("status", APPLICATION_STATUSES),
        one_of("applicant_kind", ("student", "unit", "organisation")),
        CheckConstraint(
            "(CASE WHEN applicant_user_id IS NOT NULL AND applicant_kind = 'student' "
            "THEN 1 ELSE 0 END) + "
            "(CASE WHEN applicant_unit_id IS NOT NULL THEN 1 ELSE 0 END) + "
            "(CASE WHEN applicant_org_id IS NOT NULL THEN 1 ELSE 0 END) = 1",
            name="one_applicant",
        ),
        # One active application per applicant and opportunity, in the database.
        Index(
            "uq_application_active_user",
            "opportunity_id",
            "applicant_user_id",
            unique=True,
            sqlite_where=text(f"applicant_kind = 'student' AND {_ACTIVE}"),
            postgresql_where=text(f"applicant_kind = 'student' AND {_ACTIVE}"),
        ),
        Index(
            "uq_application_active_unit",
            "opportunity_id",
            "applicant_unit_id",
            unique=True,
            sqlite_where=text(f"applicant_unit_id IS NOT NULL AND {_ACTIVE}"),
            postgresql_where=text(f"applicant_unit_id IS NOT NULL AND {_ACTIVE}"),
        ),
        Index(
            "uq_application_active_org",
            "opportunity_id",
            "applicant_org_id",
            unique=True,
            sqlite_where=text(f"applicant_org_id IS NOT NULL AND {_ACTIVE}"),
            postgresql_where=text(f"applicant_org_id IS NOT NULL AND {_ACTIVE}"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), index=True
    )
    applicant_kind: Mapped[str] = mapped_column(String(16), default="student")
    # For unit and organisation offers this is the person who made the offer.
    applicant_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    applicant_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("academic_unit.id", ondelete="CASCADE")
    )
    applicant_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE")
    )
    motivation: Mapped[str] = mapped_column(Text, default="")
    cv_stored_name: Mapped[str | None] = mapped_column(String(80))
    cv_original_name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    decision_comment: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]

    opportunity: Mapped[Opportunity] = relationship()
    applicant_user: Mapped[User | None] = relationship(foreign_keys=[applicant_user_id])
    applicant_unit: Mapped[AcademicUnit | None] = relationship()
    applicant_org: Mapped[Organisation | None] = relationship()


class EitWish(Base):
    """A student's ranked wish for an EiT village in a semester (allocation comes later)."""

    __tablename__ = "eit_wish"
    __table_args__ = (
        UniqueConstraint("student_user_id", "semester", "rank"),
        UniqueConstraint("student_user_id", "semester", "opportunity_id"),
        CheckConstraint("rank BETWEEN 1 AND 5", name="rank_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    semester: Mapped[str] = mapped_column(String(5))
    rank: Mapped[int]
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunity.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    opportunity: Mapped[Opportunity] = relationship()
