"""The academic unit tree, courses and student profiles."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base, one_of, utcnow
from .vocab import STUDY_LEVELS, UNIT_LEVELS


class AcademicUnit(Base):
    """Faculty → department → group; ``code`` is short and stable (``IE``, ``IE-IDI``)."""

    __tablename__ = "academic_unit"
    __table_args__ = (one_of("level", UNIT_LEVELS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_nb: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("academic_unit.id", ondelete="RESTRICT"), index=True
    )
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[AcademicUnit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[AcademicUnit]] = relationship(back_populates="parent")

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_nb

    def ancestors(self) -> list[AcademicUnit]:
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    def ancestor_at(self, level: str) -> AcademicUnit | None:
        for node in [self, *self.ancestors()]:
            if node.level == level:
                return node
        return None


class UnitMembership(Base):
    __tablename__ = "unit_membership"
    __table_args__ = (
        UniqueConstraint("unit_id", "user_id"),
        one_of("role", ("member", "head")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("academic_unit.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16), default="member")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[AcademicUnit] = relationship()
    user: Mapped[User] = relationship()


class Course(Base):
    __tablename__ = "course"
    __table_args__ = (one_of("level", STUDY_LEVELS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_nb: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    ects: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    level: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("academic_unit.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[AcademicUnit] = relationship()
    leaders: Mapped[list[CourseLeader]] = relationship(
        back_populates="course", cascade="all, delete-orphan"
    )

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_nb


class CourseLeader(Base):
    __tablename__ = "course_leader"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    course: Mapped[Course] = relationship(back_populates="leaders")
    user: Mapped[User] = relationship()


class StudentProfile(Base):
    __tablename__ = "student_profile"
    __table_args__ = (one_of("level", STUDY_LEVELS),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    programme: Mapped[str] = mapped_column(String(200), default="")
    level: Mapped[str] = mapped_column(String(16), default="master")
    # The faculty or department the programme belongs to.
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("academic_unit.id", ondelete="SET NULL")
    )
    skills: Mapped[str] = mapped_column(Text, default="")
    interests: Mapped[str] = mapped_column(Text, default="")
    visible_to_partners: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()
    unit: Mapped[AcademicUnit | None] = relationship()
