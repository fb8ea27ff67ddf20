"""Role management by administrators.

Only admins grant and revoke roles. The last administrator cannot give up
the admin role (someone must be able to manage the portal). A change takes
effect on the user's next request: roles are loaded with the user per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal.i18n import _l
from portal.models import User, UserRole, utcnow
from portal.models.vocab import ROLES
from portal.services import accounts, policy
from portal.services.errors import Conflict, PermissionDenied, ValidationFailed

PAGE_SIZE = 50


def require_admin(actor: User | None) -> None:
    if not policy.is_admin(actor):
        raise PermissionDenied(_l("Only administrators can manage users and roles."))


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationFailed(_l("Unknown role: %(r)s", r=role), field="role")


def grant_role(db: Session, admin: User, user: User, role: str, *,
               now: datetime | None = None) -> bool:
    """Give ``user`` the role; False if they already had it."""
    require_admin(admin)
    _check_role(role)
    if user.erased_at is not None:
        raise Conflict(_l("This account has been erased."))
    return accounts.add_role(db, user, role, granted_by=admin, now=now or utcnow())


def admin_count(db: Session) -> int:
    return db.execute(
        select(func.count()).select_from(UserRole)
        .join(User, UserRole.user_id == User.id)
        .where(UserRole.role == "admin", User.is_active.is_(True), User.erased_at.is_(None))
    ).scalar_one()


def revoke_role(db: Session, admin: User, user: User, role: str) -> bool:
    """Take the role away; False if the user did not have it.

    The last active administrator keeps the admin role.
    """
    require_admin(admin)
    _check_role(role)
    if role not in user.role_names:
        return False
    if role == "admin" and admin_count(db) <= 1:
        raise Conflict(_l("This is the last administrator. Make someone else an "
                          "administrator first."))
    return accounts.remove_role(db, user, role)


@dataclass
class UserPage:
    users: list[User]
    total: int
    page: int
    pages: int
    query: str
    role: str | None


def search_users(db: Session, admin: User, *, query: str = "", role: str | None = None,
                 page: int = 1, per_page: int = PAGE_SIZE) -> UserPage:
    """Users matching ``query`` (name or e-mail, case-insensitive), optionally with ``role``."""
    require_admin(admin)
    text = (query or "").strip()[:200]
    if role is not None and role not in ROLES:
        role = None
    stmt = select(User).where(User.erased_at.is_(None))
    if text:
        escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(or_(func.lower(User.email).like(pattern, escape="\\"),
                              func.lower(User.display_name).like(pattern, escape="\\")))
    if role:
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    total = db.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    users = list(db.execute(
        stmt.order_by(func.lower(User.display_name), User.id)
        .offset((page - 1) * per_page).limit(per_page)
    ).scalars())
    return UserPage(users=users, total=total, page=page, pages=pages, query=text, role=role)
