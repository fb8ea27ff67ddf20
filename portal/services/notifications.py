"""In-portal notifications: what each role needs to hear about, with unread counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal.i18n import _l
from portal.models import Notification, User, utcnow

# kind → message; params fill the %(name)s placeholders when the reader reads it.
KINDS: dict[str, Any] = {
    "application_received": _l("New application for “%(title)s”."),
    "application_shortlisted": _l("You are shortlisted for “%(title)s”."),
    "application_accepted": _l("Your application for “%(title)s” was accepted."),
    "application_rejected": _l("Your application for “%(title)s” was not accepted."),
    "application_withdrawn": _l("An application for “%(title)s” was withdrawn."),
    "offer_received": _l("New offer for “%(title)s”."),
    "organisation_verified": _l("%(name)s is verified: you can now publish opportunities."),
    "organisation_rejected": _l("%(name)s could not be verified."),
    "result_reminder": _l("Please record the results of “%(title)s”."),
    "result_reminder_coordinator": _l("No results have been recorded for “%(title)s”, "
                                      "which ended on %(end_date)s."),
    "collaboration_completed": _l("“%(title)s” is completed. Thank you!"),
    "course_tagged": _l("“%(title)s” was tagged to the course %(course)s."),
}


def notify(db: Session, user: User | int, kind: str, *, params: dict[str, Any] | None = None,
           link: str | None = None, now: datetime | None = None) -> Notification:
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind: {kind}")
    user_id = user if isinstance(user, int) else user.id
    note = Notification(user_id=user_id, kind=kind, params=dict(params or {}), link=link,
                        created_at=now or utcnow())
    db.add(note)
    return note


def message(note: Notification) -> str:
    template = KINDS.get(note.kind)
    if template is None:
        return note.kind
    try:
        return str(template) % note.params
    except (KeyError, TypeError, ValueError):
        return str(template)


def unread_count(db: Session, user: User) -> int:
    return db.execute(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ).scalar_one()


def recent(db: Session, user: User, limit: int = 50) -> list[Notification]:
    return list(db.execute(
        select(Notification).where(Notification.user_id == user.id)
        .order_by(Notification.id.desc()).limit(limit)
    ).scalars())


def mark_all_read(db: Session, user: User, now: datetime | None = None) -> int:
    return db.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now or utcnow())
    ).rowcount
