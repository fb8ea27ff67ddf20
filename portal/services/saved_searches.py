"""Saving a search to be alerted about new matches (delivery: the alerts job)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.i18n import _l
from portal.models import SavedSearch, User, utcnow
from portal.services import policy
from portal.services.errors import Conflict, NotFound, ValidationFailed

FILTER_NAMES = ("kind", "level", "discipline", "sector", "language", "location", "within")
MAX_PER_USER = 50


def clean_filters(raw: dict) -> dict[str, list[str]]:
    """Only known filter names, as lists of short strings."""
    out: dict[str, list[str]] = {}
    for name in FILTER_NAMES:
        values = raw.get(name) or []
        if isinstance(values, str):
            values = [values]
        values = [str(v)[:100] for v in values if str(v).strip()][:20]
        if values:
            out[name] = values
    return out


def save(db: Session, user: User, *, query: str, filters: dict, frequency: str = "daily",
         name: str | None = None, now: datetime | None = None) -> SavedSearch:
    policy.require_active(user)
    if frequency not in ("daily", "weekly"):
        raise ValidationFailed({"frequency": [_l("Choose daily or weekly.")]})
    query = " ".join((query or "").split())[:500]
    filters = clean_filters(filters)
    if not query and not filters:
        raise ValidationFailed({"query": [_l("Search for something or choose a filter first.")]})
    count = db.execute(select(func.count()).select_from(SavedSearch)
                       .where(SavedSearch.user_id == user.id)).scalar_one()
    if count >= MAX_PER_USER:
        raise Conflict(_l("You have saved as many searches as you can; delete one first."))
    duplicate = db.execute(select(SavedSearch).where(SavedSearch.user_id == user.id,
                                                     SavedSearch.query == query)).scalars().all()
    if any(s.filters == filters for s in duplicate):
        raise Conflict(_l("You have already saved this search."))
    label = (name or "").strip()[:200] or query or ", ".join(v for vs in filters.values() for v in vs)
    row = SavedSearch(user_id=user.id, name=label[:200], query=query, filters=filters,
                      frequency=frequency, created_at=now or utcnow())
    db.add(row)
    db.flush()
    return row


def saved_by(db: Session, user: User) -> list[SavedSearch]:
    return list(db.execute(select(SavedSearch).where(SavedSearch.user_id == user.id)
                           .order_by(SavedSearch.id.desc())).scalars())


def delete(db: Session, user: User, saved_id: int) -> None:
    row = db.get(SavedSearch, saved_id)
    if row is None or row.user_id != user.id:
        raise NotFound(_l("No such saved search."))
    db.delete(row)
