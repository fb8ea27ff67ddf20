"""The ``saved_search_alerts`` job: e-mail each saved search's new matches.

For every saved search whose owner is active, not hidden and not erased, and
which is not unsubscribed, once it is due (daily or weekly): search the index
the way the search page does, keep the matches that are *new* (published
inside this run's window, see below), at most MAX_ITEMS of them and at most
MAX_PER_ORG per organisation, and enqueue one e-mail in the owner's language
with a one-click unsubscribe link.

Windows. A run at ``now`` looks at opportunities published in
``(lower, now - SETTLE]`` and stores ``last_alerted_at = now``; the next run's
``lower`` is that stored time minus the same SETTLE (never before the search
was saved). Consecutive windows therefore meet exactly: each publication falls
in exactly one window, so nothing is sent twice and nothing is skipped. The
upper edge lags ``now`` by SETTLE because ``published_at`` is taken when the
publishing request starts, and its transaction (and the index update after
it) lands a moment later: an item stamped just before ``now`` might not be
searchable yet, and a window ending at ``now`` would then pass it by for good.
SETTLE is far longer than any such transaction; the change log is applied and
checked up to date before searching, so whatever had committed is found.

``last_alerted_at`` advances also when nothing was new: it is "checked up to",
which keeps the digest at the same hour each day (and spares an index search
every hour), while the windows above still meet without gaps.

Each saved search is one transaction: the e-mail goes into the outbox and
``last_alerted_at`` is set in the same commit, guarded by the value read
before, so a crash sends nothing twice and loses nothing, and a second run (or
a second process) at the same time finds nothing due.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from portal.config import Settings
from portal.models import Opportunity, SavedSearch, SearchChange, User
from portal.services import messages, saved_searches, terminology
from portal.services.errors import ValidationFailed
from portal.services.events import aware
from portal.services.opportunity_listing import publicly_visible

log = logging.getLogger(__name__)

PERIODS = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
# Due when at least period - TOLERANCE has passed since the last run. The job
# runs hourly: half an hour absorbs the scheduler's jitter (a run a few seconds
# early must not wait a whole hour more, drifting the digest later every day)
# without letting the run an hour early count (which would drift it earlier).
TOLERANCE = timedelta(minutes=30)
SETTLE = timedelta(minutes=5)
MAX_ITEMS = 10
MAX_PER_ORG = 2
SCAN_PAGE = 100
# The furthest down a search's ranking new items are looked for. A search with
# more matches than this is in effect "everything"; its mail still links to the
# full search on the site.
MAX_SCAN = 5000
INDEX_LOCK_TIMEOUT = 30.0
MAX_ERROR = 300


class Malformed(Exception):
    """This saved search cannot be run as stored; the reason goes in last_error."""


@dataclass
class _Candidate:
    id: int
    owner: tuple[str, int | None]  # ("org", id) / ("unit", id): the per-organisation cap


def run(factory: sessionmaker[Session], settings: Settings, now: datetime) -> dict[str, int]:
    now = aware(now)
    counts = {"checked": 0, "sent": 0, "items": 0, "malformed": 0, "skipped": 0}
    with factory() as db:
        rows = db.execute(
            select(SavedSearch.id, SavedSearch.frequency, SavedSearch.last_alerted_at)
            .join(User, User.id == SavedSearch.user_id)
            .where(*_eligible()).order_by(SavedSearch.id)
        ).all()
        db.rollback()
    due = []
    for row in rows:
        counts["checked"] += 1
        if is_due(row.frequency, row.last_alerted_at, now):
            due.append(row.id)
        else:
            counts["skipped"] += 1
    if not due:
        return counts
    index_dir = _fresh_index(factory, settings)
    if index_dir is None:
        # The index could not be brought up to date (another process holds it):
        # searching it now could pass new items by. Nothing advances; next run.
        counts["skipped"] += len(due)
        return counts
    with factory() as db:
        synonyms = terminology.extra_synonyms(db)
        db.rollback()
    for saved_id in due:
        try:
            sent = _alert_one(factory, settings, saved_id, now, index_dir, synonyms)
        except Malformed as exc:
            _record_error(factory, saved_id, str(exc))
            counts["malformed"] += 1
            continue
        except Exception as exc:  # one broken search must not stop the others
            log.exception("saved search %s: alert failed", saved_id)
            _record_error(factory, saved_id, f"{exc.__class__.__name__}: {exc}")
            counts["malformed"] += 1
            continue
        if sent is None:
            counts["skipped"] += 1
        elif sent:
            counts["sent"] += 1
            counts["items"] += sent
    return counts


def _eligible():
    return (User.is_active.is_(True), User.erased_at.is_(None), User.hidden_at.is_(None),
            SavedSearch.unsubscribed_at.is_(None))


def is_due(frequency: str, last_alerted_at: datetime | None, now: datetime) -> bool:
    if last_alerted_at is None:
        return True
    period = PERIODS.get(frequency, PERIODS["daily"])
    return now - last_alerted_at >= period - TOLERANCE


def _fresh_index(factory: sessionmaker[Session], settings: Settings):
    """Apply the search change log; the index directory if it is now up to date, else None."""
    from search_index import indexer, state

    index_dir = state.index_dir(settings.data_dir)
    with factory() as db:
        top = db.execute(select(func.coalesce(func.max(SearchChange.seq), 0))).scalar_one()
        db.rollback()
    try:
        report = indexer.apply_changes(factory, index_dir, lock_timeout=INDEX_LOCK_TIMEOUT)
    except state.IndexBusy:
        log.info("search index busy; saved-search alerts wait for the next run")
        return None
    if (report.applied_seq or 0) < top:
        return None
    return index_dir


def _engine_query(saved: SavedSearch) -> tuple[str, dict]:
    """The text and engine filters of a saved search, as the search page would pass them."""
    if not isinstance(saved.query, str) or len(saved.query) > saved_searches.MAX_QUERY:
        raise Malformed("query is not text of at most 500 characters")
    try:
        filters = saved_searches.check_filters(saved.filters)
    except ValidationFailed as exc:
        raise Malformed(str(exc.message)) from None
    if not saved.query.strip() and not filters:
        raise Malformed("no search text and no filters: it would match everything")
    engine = dict(filters)
    if "within" in engine:
        engine["deadline_within"] = engine.pop("within")[0]
    return saved.query, engine


def _alert_one(factory, settings: Settings, saved_id: int, now: datetime, index_dir,
               synonyms) -> int | None:
    """Items mailed (0: checked, nothing new), or None when the search was not handled."""
    with factory() as db:
        saved = db.get(SavedSearch, saved_id)
        if saved is None:
            return None  # deleted since the list was read
        user = db.get(User, saved.user_id)
        if not (user.is_active and user.erased_at is None and user.hidden_at is None
                and saved.unsubscribed_at is None):
            return None
        text, filters = _engine_query(saved)
        before = saved.last_alerted_at
        lower = saved.created_at if before is None else max(saved.created_at, before - SETTLE)
        upper = now - SETTLE
        candidates = _new_since(db, lower, upper, now) if upper > lower else {}
        db.rollback()
    items, more = _matching(index_dir, text, filters, candidates, now, synonyms) \
        if candidates else ([], False)
    with factory() as db:
        guard = SavedSearch.last_alerted_at.is_(None) if before is None \
            else SavedSearch.last_alerted_at == before
        claimed = db.execute(
            update(SavedSearch)
            .where(SavedSearch.id == saved_id, SavedSearch.unsubscribed_at.is_(None), guard)
            .values(last_alerted_at=now, last_error=None)
        ).rowcount
        if not claimed:  # another run got there first, or the owner unsubscribed meanwhile
            db.rollback()
            return None
        if items:
            saved = db.get(SavedSearch, saved_id)
            user = db.get(User, saved.user_id)
            _send(db, settings, saved, user, items, more, now, first=before is None)
        db.commit()
    return len(items)


def _new_since(db: Session, lower: datetime, upper: datetime,
               now: datetime) -> dict[int, _Candidate]:
    """Published, unexpired opportunities published in (lower, upper]."""
    rows = db.execute(
        select(Opportunity.id, Opportunity.owner_org_id, Opportunity.owner_unit_id)
        .where(publicly_visible(now), Opportunity.published_at > lower,
               Opportunity.published_at <= upper)
    ).all()
    return {r.id: _Candidate(r.id, ("org", r.owner_org_id) if r.owner_org_id is not None
                             else ("unit", r.owner_unit_id)) for r in rows}


def _matching(index_dir, text: str, filters: dict, candidates: dict[int, _Candidate],
              now: datetime, synonyms) -> tuple[list, bool]:
    """The candidates the search finds, in its order, capped; and whether more matched."""
    from search_index.query import search

    sort = "relevance" if text.strip() else "deadline"
    items: list = []
    per_org: Counter = Counter()
    extra = seen = 0
    page = 1
    while True:
        result = search(index_dir, text, filters=filters, sort=sort, page=page,
                        per_page=SCAN_PAGE, extra_synonyms=synonyms, now=now, facets=False)
        if result.notice == "no_index":
            raise RuntimeError("the search index is missing")
        if result.notice == "some_words":
            # Nothing has all the words; the page then lists near misses, which
            # is no news worth an e-mail.
            return [], False
        for hit in result.hits:
            cand = candidates.get(hit.id)
            if cand is None:
                continue
            seen += 1
            if len(items) < MAX_ITEMS and per_org[cand.owner] < MAX_PER_ORG:
                per_org[cand.owner] += 1
                items.append(hit)
            else:
                extra += 1
        if (len(items) >= MAX_ITEMS and extra) or seen >= len(candidates) \
                or page >= result.pages or page * SCAN_PAGE >= MAX_SCAN:
            return items, extra > 0
        page += 1


def search_path(saved: SavedSearch) -> str:
    pairs = [("q", saved.query)] if saved.query else []
    for name, values in (saved.filters or {}).items():
        pairs += [(name, v) for v in values]
    return "/search?" + urlencode(pairs)


def unsubscribe_path(token: str) -> str:
    return f"/saved-searches/unsubscribe/{token}"


def _send(db: Session, settings: Settings, saved: SavedSearch, user: User, hits: list,
          more: bool, now: datetime, *, first: bool) -> None:
    # The label table is plain data (lazy strings, rendered in the owner's language).
    from portal.web.labels import KIND_LABELS

    unsubscribe_url = messages.absolute_url(
        unsubscribe_path(saved_searches.unsubscribe_token(settings.secret_key, saved)), db)
    items = [{
        "title": h.title, "organisation": h.organisation,
        "kind": KIND_LABELS.get(h.kind, h.kind),
        "deadline": h.deadline if isinstance(h.deadline, date) else None,
        "link": messages.absolute_url(f"/opportunities/{h.id}", db),
    } for h in hits]
    messages.send(
        db, to=user.email, locale=user.locale, template="saved_search_alert", now=now,
        headers={"List-Unsubscribe": f"<{unsubscribe_url}>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        name=user.display_name, search=saved.name, frequency=saved.frequency, items=items,
        more=more, first=first, search_url=messages.absolute_url(search_path(saved), db),
        unsubscribe_url=unsubscribe_url,
    )


def _record_error(factory, saved_id: int, reason: str) -> None:
    """Note why a saved search could not run; it is retried (and cleared) on later runs."""
    with factory() as db:
        db.execute(update(SavedSearch).where(SavedSearch.id == saved_id)
                   .values(last_error=" ".join(reason.split())[:MAX_ERROR] or "error"))
        db.commit()


__all__ = ["run", "is_due", "search_path", "unsubscribe_path"]

