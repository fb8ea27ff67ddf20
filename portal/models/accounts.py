"""Users, roles, login sessions and the pseudonymous person keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, one_of, utcnow
from .vocab import LOCALES, ROLES


class User(Base):
    __tablename__ = "user_account"
    __table_args__ = (one_of("locale", LOCALES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised (email-validator's normalised form, lower-cased) so
    # uniqueness holds regardless of case.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    # None: the account cannot log in by password (e.g. bulk demo students).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(2), default="nb")
    email_verified_at: Mapped[datetime | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    hidden_at: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]
    # Retention: when the "your account will be deleted" warning went out.
    deletion_warned_at: Mapped[datetime | None]

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin",
        foreign_keys="UserRole.user_id",
    )

    # Flask-Login protocol. The id Flask-Login keeps in the cookie is the
    # server-side session token (set when the user is loaded), never the user id.
    auth_token = None
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str | None:
        return self.auth_token

    @property
    def role_names(self) -> set[str]:
        return {r.role for r in self.roles}

    def has_role(self, *names: str) -> bool:
        return bool(self.role_names.intersection(names))


class UserRole(Base):
    __tablename__ = "user_role"
    __table_args__ = (one_of("role", ROLES),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    user: Mapped[User] = relationship(back_populates="roles", foreign_keys=[user_id])


class AuthSession(Base):
    """A server-side login session: logging out deletes it, so a replayed cookie is dead."""

    __tablename__ = "auth_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    remember: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """Failed logins, for throttling across processes (kept in the database, not memory)."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_email_at", "email", "attempted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)


class PersonKey(Base):
    """The only link from a pseudonymous key in the event log to a user.

    Erasure deletes this row; the events keep the key, which then points nowhere.
    """

    __tablename__ = "person_key"
    __table_args__ = (UniqueConstraint("user_id"),)

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))


class AppMeta(Base):
    """Small key/value facts about this installation (e.g. the demo seed applied)."""

    __tablename__ = "app_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
