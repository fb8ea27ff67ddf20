"""Partner organisations and their members."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base, one_of, utcnow
from .vocab import SECTORS, SIZE_CLASSES


class Organisation(Base):
    __tablename__ = "organisation"
    __table_args__ = (
        one_of("sector", SECTORS),
        one_of("size_class", SIZE_CLASSES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    # Norwegian organisasjonsnummer (9 digits, MOD11); None for foreign partners.
    org_number: Mapped[str | None] = mapped_column(String(9), unique=True)
    sector: Mapped[str] = mapped_column(String(32))
    public_enterprise: Mapped[bool] = mapped_column(default=False)
    # Unknown for organisations created by a bulk import until someone fills it in.
    size_class: Mapped[str | None] = mapped_column(String(16))
    nace_code: Mapped[str | None] = mapped_column(String(8))
    municipality: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2), default="NO")
    website: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    verified: Mapped[bool] = mapped_column(default=False)
    verified_at: Mapped[datetime | None]
    verified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    rejected_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    memberships: Mapped[list[OrganisationMembership]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )

    @property
    def nace_section(self) -> str | None:
        from portal.services.nace import section_for

        return section_for(self.nace_code)


class OrganisationMembership(Base):
    __tablename__ = "organisation_membership"
    __table_args__ = (
        UniqueConstraint("organisation_id", "user_id"),
        one_of("role", ("admin", "member")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16), default="member")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship()


class OrganisationInvitation(Base):
    __tablename__ = "organisation_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship()
