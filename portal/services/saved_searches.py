"""Saving a search to be alerted about new matches (delivery: the alerts job,
``portal.services.saved_search_alerts``), and turning those alerts off and on:
by the owner on the saved-searches page, or by anyone holding the signed
unsubscribe link from an alert (no login: the token is the credential)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.i18n import _l
from portal.models import SavedSearch, User, utcnow
from portal.models.vocab import CONTENT_LANGUAGES, OPPORTUNITY_KINDS, SECTORS, STUDY_LEVELS
from portal.services import policy, tokens
from portal.services.errors import Conflict, NotFound, ValidationFailed

FILTER_NAMES = ("kind", "level", "discipline", "sector", "language", "location", "within")
MAX_PER_USER = 50
MAX_QUERY = 500
MAX_VALUES = 20
MAX_VALUE_CHARS = 100
# Filters with a closed vocabulary; the others (discipline, location) are free text.
KNOWN_VALUES = {
    "kind": OPPORTUNITY_KINDS,
    "level": STUDY_LEVELS,
    "sector": SECTORS,
    "language": CONTENT_LANGUAGES,
    "within": ("7", "30", "90"),
}
UNSUBSCRIBE = "unsubscribe"  # token purpose


class LinkExpired(ValidationFailed):
    """A correctly signed unsubscribe link past its age."""


class LinkInvalid(ValidationFailed):
    """An unsubscribe link that was not signed by us (altered, cut short)."""


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


def check_filters(filters) -> dict[str, list[str]]:
    """The stored filters if the alerts job (and the search page) can use them as they are.

    Raises ValidationFailed naming the first problem: not a mapping, an unknown
    filter name, values that are not text, or a value outside a closed vocabulary.
    """
    if not isinstance(filters, dict):
        raise ValidationFailed(_l("The filters are not in the expected form."))
    out: dict[str, list[str]] = {}
    for name, values in filters.items():
        if name not in FILTER_NAMES:
            raise ValidationFailed(_l("Unknown filter: %(name)s", name=str(name)[:40]))
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values) \
                or len(values) > MAX_VALUES or any(len(v) > MAX_VALUE_CHARS for v in values):
            raise ValidationFailed(_l("The values of the filter %(name)s are not in the expected form.",
                                      name=name))
        values = [v for v in values if v.strip()]
        allowed = KNOWN_VALUES.get(name)
        bad = [v for v in values if allowed is not None and v not in allowed]
        if bad:
            raise ValidationFailed(_l("Unknown value for the filter %(name)s: %(value)s",
                                      name=name, value=bad[0][:40]))
        if name == "within" and len(values) > 1:
            raise ValidationFailed(_l("Choose one deadline window."))
        if values:
            out[name] = values
    return out


def save(db: Session, user: User, *, query: str, filters: dict, frequency: str = "daily",
         name: str | None = None, now: datetime | None = None) -> SavedSearch:
    policy.require_active(user)
    if frequency not in ("daily", "weekly"):
        raise ValidationFailed({"frequency": [_l("Choose daily or weekly.")]})
    query = " ".join((query or "").split())[:MAX_QUERY]
    # Refused here rather than stored: the alerts job would only report it as malformed.
    filters = check_filters(clean_filters(filters))
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


def _own(db: Session, user: User, saved_id: int) -> SavedSearch:
    row = db.get(SavedSearch, saved_id)
    if row is None or row.user_id != user.id:
        raise NotFound(_l("No such saved search."))
    return row


def set_alerts(db: Session, user: User, saved_id: int, enabled: bool,
               now: datetime | None = None) -> SavedSearch:
    """The owner turns e-mail alerts for one saved search off or on again."""
    policy.require_active(user)
    row = _own(db, user, saved_id)
    if enabled:
        row.unsubscribed_at = None
    elif row.unsubscribed_at is None:
        row.unsubscribed_at = now or utcnow()
    db.flush()
    return row


# ----------------------------------------------------------------- the link in each alert
def unsubscribe_token(secret_key: str, saved: SavedSearch) -> str:
    return tokens.make(secret_key, UNSUBSCRIBE, {"s": saved.id, "u": saved.user_id})


def _from_token(db: Session, settings, token: str) -> SavedSearch:
    max_age = int(settings.unsubscribe_token_max_age_days) * 86400
    try:
        data = tokens.read(settings.secret_key, UNSUBSCRIBE, token, max_age)
    except ValidationFailed:
        try:  # a good signature that is only too old is "expired", not "invalid"
            tokens.read(settings.secret_key, UNSUBSCRIBE, token, 10 ** 12)
        except ValidationFailed:
            raise LinkInvalid(_l("This unsubscribe link is not valid. Check that you copied all of "
                                 "it, or log in and turn off alerts on your saved searches page."),
                              field="token") from None
        raise LinkExpired(_l("This unsubscribe link has expired. Log in and turn off alerts on "
                             "your saved searches page instead."), field="token") from None
    saved_id, user_id = data.get("s"), data.get("u")
    if not isinstance(saved_id, int) or not isinstance(user_id, int):
        raise LinkInvalid(_l("This unsubscribe link is not valid."), field="token")
    row = db.get(SavedSearch, saved_id)
    # The owner check also guards against an id reused after a deletion.
    if row is None or row.user_id != user_id:
        raise NotFound(_l("This saved search no longer exists, so there is nothing to unsubscribe "
                          "from."))
    return row


def unsubscribe_by_token(db: Session, settings, token: str,
                         now: datetime | None = None) -> SavedSearch:
    """Stop the alerts for the search the link names; a second use changes nothing."""
    row = _from_token(db, settings, token)
    if row.unsubscribed_at is None:
        row.unsubscribed_at = now or utcnow()
        db.flush()
    return row


def resubscribe_by_token(db: Session, settings, token: str) -> SavedSearch:
    """Undo an unsubscribe from the confirmation page.

    ``last_alerted_at`` is kept, so the next alert picks up where the last one
    stopped: nothing published while alerts were off is skipped.
    """
    row = _from_token(db, settings, token)
    row.unsubscribed_at = None
    db.flush()
    return row
