"""Keeping the index in step with the database.

The database is the truth; the index is a projection of it. Every change to
an indexed entity appends a ``SearchChange`` row (seq, entity_type,
entity_id, op) in the same transaction. :func:`apply_changes` applies the
rows past the sequence number stored beside the index:

* it reads the *current* state of each changed entity, not the op: a
  published opportunity is (re)indexed, anything else is removed; so applying
  a row twice gives the same index (idempotent), and a crash between the
  Whoosh commit and the sequence file only means some rows are applied again;
* the sequence file is written (atomically) after the Whoosh commit;
* one process writes at a time: an ``flock`` on ``indexer.lock`` in the index
  directory covers the Whoosh commit *and* the sequence file together;
* a sequence number missing below the highest one seen may belong to a
  transaction that has not committed yet (PostgreSQL hands out numbers at
  insert time); it is kept as a pending gap and looked for again on later
  runs until it appears or ``gap_timeout`` passes (then it was rolled back).

Entity types: ``opportunity``; ``organisation`` and ``academic_unit`` changes
reindex the opportunities they own (their names and sector are in those
documents). Unknown types are skipped.

:func:`rebuild` builds a fresh index from the database beside the old one and
switches to it at once; :func:`verify` counts documents that differ from the
database (missing, extra or stale).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, selectinload

from portal.models import Opportunity, Organisation, SearchChange

from . import state
from .index import (
    IndexNeedsRebuild,
    bulk_load,
    document_from_opportunity,
    index_exists,
    new_index,
    open_index,
    switch_to,
    version_string,
)

PUBLISHED = "published"
GAP_TIMEOUT = 300.0  # seconds a missing sequence number is waited for
GAP_LOOKBACK = 1000  # after a rebuild, sequence numbers this far back are checked for gaps
MAX_GAPS = 10_000
LOAD_BATCH = 500


@dataclass
class ApplyReport:
    changes: int = 0  # change rows read
    upserted: int = 0  # documents written
    deleted: int = 0  # documents removed
    applied_seq: int | None = None
    rebuilt: bool = False  # the index was missing, so it was built from scratch
    pending_gaps: int = 0


# --------------------------------------------------------------- sessions
@contextlib.contextmanager
def _session(source) -> Iterator[Session]:
    """A session from an Engine, a sessionmaker (or any factory) or a Session."""
    if isinstance(source, Session):
        yield source
        return
    session = Session(source) if isinstance(source, Engine) else source()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def _load_opportunities(db: Session, ids: Iterable[int]) -> dict[int, Opportunity]:
    ids = list(ids)
    out: dict[int, Opportunity] = {}
    for i in range(0, len(ids), LOAD_BATCH):
        chunk = ids[i:i + LOAD_BATCH]
        rows = db.execute(
            select(Opportunity).where(Opportunity.id.in_(chunk)).options(
                selectinload(Opportunity.owner_org), selectinload(Opportunity.owner_unit),
                selectinload(Opportunity.tags), selectinload(Opportunity.levels))
        ).scalars()
        out.update((o.id, o) for o in rows)
    return out


def _owned_opportunities(db: Session, entity_type: str, ids: set[int]) -> set[int]:
    column = Opportunity.owner_org_id if entity_type == "organisation" else Opportunity.owner_unit_id
    return set(db.execute(select(Opportunity.id).where(column.in_(ids))).scalars())


def _max_seq(db: Session) -> int:
    return int(db.execute(select(func.coalesce(func.max(SearchChange.seq), 0))).scalar_one())


# --------------------------------------------------------------- applying the log
def apply_changes(source, index_dir: str | Path, *, batch: int = 1000,
                  max_batches: int | None = None, gap_timeout: float = GAP_TIMEOUT,
                  lock_timeout: float | None = 60.0,
                  clock: Callable[[], float] = time.time) -> ApplyReport:
    """Apply the search change log past the applied sequence number.

    ``source``: an Engine, a sessionmaker or a Session. Reads ``batch`` rows
    at a time until none are left (or ``max_batches``). If the index has never
    been built (or has an older schema), builds it (see :func:`rebuild`). Raises
    :class:`search_index.state.IndexBusy` if another process holds the writer
    lock longer than ``lock_timeout`` seconds.
    """
    index_dir = Path(index_dir)
    with state.writer_lock(index_dir, timeout=lock_timeout):
        applied = state.read_applied_seq(index_dir)
        if applied is None or not index_exists(index_dir) or not _schema_current(index_dir):
            n = _rebuild_locked(source, index_dir, progress=None, clock=clock)
            return ApplyReport(upserted=n, applied_seq=state.read_applied_seq(index_dir),
                               rebuilt=True, pending_gaps=len(state.read_gaps(index_dir)))
        report = ApplyReport(applied_seq=applied)
        gaps = state.read_gaps(index_dir)
        ix = open_index(index_dir)
        try:
            rounds = 0
            while max_batches is None or rounds < max_batches:
                rounds += 1
                with _session(source) as db:
                    q = select(SearchChange.seq, SearchChange.entity_type, SearchChange.entity_id)
                    cond = SearchChange.seq > applied
                    if gaps:
                        cond = cond | SearchChange.seq.in_(sorted(gaps))
                    rows = db.execute(q.where(cond).order_by(SearchChange.seq).limit(batch)).all()
                    if not rows:
                        break
                    upserts, deletes = _resolve(db, rows)
                    docs = [document_from_opportunity(o) for o in upserts]
                if docs or deletes:
                    writer = ix.writer(timeout=lock_timeout or 0.0)
                    try:
                        for doc in docs:
                            writer.update_document(**doc.fields())
                        for opp_id in deletes:
                            writer.delete_by_term("key", str(opp_id))
                    except BaseException:
                        writer.cancel()
                        raise
                    writer.commit()
                report.changes += len(rows)
                report.upserted += len(docs)
                report.deleted += len(deletes)
                # the new high-water mark, and the numbers skipped below it
                seen = {r.seq for r in rows}
                for seq in seen:
                    gaps.pop(seq, None)
                top = max(seen)
                if top > applied:
                    now = clock()
                    for seq in range(applied + 1, top):
                        if seq not in seen:
                            gaps.setdefault(seq, now)
                    applied = top
                gaps = _prune_gaps(gaps, clock(), gap_timeout)
                state.write_gaps(index_dir, gaps)
                state.write_applied_seq(index_dir, applied)
                report.applied_seq = applied
                if len(rows) < batch:
                    break
            # gaps that timed out while nothing new arrived
            pruned = _prune_gaps(gaps, clock(), gap_timeout)
            if pruned != gaps:
                state.write_gaps(index_dir, pruned)
                gaps = pruned
        finally:
            ix.close()
        report.pending_gaps = len(gaps)
        return report


def _schema_current(index_dir: Path) -> bool:
    try:
        open_index(index_dir).close()
    except IndexNeedsRebuild:
        return False
    return True


def _prune_gaps(gaps: dict[int, float], now: float, timeout: float) -> dict[int, float]:
    kept = {seq: t for seq, t in gaps.items() if now - t < timeout}
    if len(kept) > MAX_GAPS:
        kept = dict(sorted(kept.items())[-MAX_GAPS:])
    return kept


def _resolve(db: Session, rows) -> tuple[list[Opportunity], set[int]]:
    """Current state of the entities behind change rows: (to index, ids to remove)."""
    opp_ids: set[int] = set()
    owners: dict[str, set[int]] = {}
    for r in rows:
        if r.entity_type == "opportunity":
            opp_ids.add(int(r.entity_id))
        elif r.entity_type in ("organisation", "academic_unit"):
            owners.setdefault(r.entity_type, set()).add(int(r.entity_id))
    for entity_type, ids in owners.items():
        opp_ids |= _owned_opportunities(db, entity_type, ids)
    loaded = _load_opportunities(db, opp_ids)
    upserts = [o for o in loaded.values() if o.status == PUBLISHED]
    deletes = {i for i in opp_ids if i not in loaded or loaded[i].status != PUBLISHED}
    return upserts, deletes


# --------------------------------------------------------------- rebuild
def rebuild(source, index_dir: str | Path, *, progress: Callable[[int, int], None] | None = None,
            lock_timeout: float | None = 60.0, clock: Callable[[], float] = time.time) -> int:
    """Build the index anew from the database; returns the number of documents.

    ``progress(done, total)`` is called as documents are indexed. The new index
    is written beside the old one, which serves searches until the switch.
    """
    index_dir = Path(index_dir)
    with state.writer_lock(index_dir, timeout=lock_timeout):
        return _rebuild_locked(source, index_dir, progress=progress, clock=clock)


def _rebuild_locked(source, index_dir: Path, *, progress, clock) -> int:
    with _session(source) as db:
        top = _max_seq(db)
        # numbers not (yet) visible just below the top may be transactions in flight
        recent = set(db.execute(select(SearchChange.seq).where(
            SearchChange.seq > top - GAP_LOOKBACK)).scalars())
        now = clock()
        gaps = {seq: now for seq in range(max(top - GAP_LOOKBACK, 0) + 1, top + 1)
                if seq not in recent}
        ids = list(db.execute(select(Opportunity.id).where(Opportunity.status == PUBLISHED)
                              .order_by(Opportunity.id)).scalars())
        total = len(ids)

        def docs():
            for i in range(0, total, LOAD_BATCH):
                loaded = _load_opportunities(db, ids[i:i + LOAD_BATCH])
                for opp_id in ids[i:i + LOAD_BATCH]:
                    opp = loaded.get(opp_id)
                    if opp is not None and opp.status == PUBLISHED:
                        yield document_from_opportunity(opp)
                db.expunge_all()  # keep memory flat on big databases

        ix, name = new_index(index_dir)
        try:
            n = bulk_load(ix, docs(), progress=(lambda k: progress(k, total)) if progress else None)
        finally:
            ix.close()
    # switch first, then the sequence: a crash in between re-applies some changes, harmlessly
    switch_to(index_dir, name)
    state.write_gaps(index_dir, gaps)
    state.write_applied_seq(index_dir, top)
    if progress:
        progress(n, total)
    return n


# --------------------------------------------------------------- verify
@dataclass
class Drift:
    missing: list[int]  # published in the database, not in the index
    extra: list[int]  # in the index, not published in the database
    stale: list[int]  # in both, but the index holds an older state

    @property
    def count(self) -> int:
        return len(self.missing) + len(self.extra) + len(self.stale)


def drift(source, index_dir: str | Path) -> Drift:
    """How the index differs from the database (documents, by opportunity id)."""
    with _session(source) as db:
        rows = db.execute(
            select(Opportunity.id, Opportunity.updated_at, Opportunity.status,
                   Opportunity.owner_org_id, Organisation.updated_at)
            .outerjoin(Organisation, Organisation.id == Opportunity.owner_org_id)
            .where(Opportunity.status == PUBLISHED)
        ).all()
        expected = {r[0]: version_string(r[1], r[2], r[4] if r[3] is not None else None)
                    for r in rows}
    indexed: dict[int, str] = {}
    if index_exists(index_dir):
        ix = open_index(index_dir)
        try:
            with ix.searcher() as s:
                for f in s.all_stored_fields():
                    indexed[int(f["id"])] = f.get("version") or ""
        finally:
            ix.close()
    missing = sorted(set(expected) - set(indexed))
    extra = sorted(set(indexed) - set(expected))
    stale = sorted(i for i in set(expected) & set(indexed) if expected[i] != indexed[i])
    return Drift(missing, extra, stale)


def verify(source, index_dir: str | Path) -> int:
    """The number of opportunities whose indexed state differs from the database."""
    return drift(source, index_dir).count


def pending_changes(source, index_dir: str | Path) -> int:
    """Change rows past the applied sequence number (0 when up to date)."""
    applied = state.read_applied_seq(index_dir)
    with _session(source) as db:
        q = select(func.count()).select_from(SearchChange)
        if applied is not None:
            q = q.where(SearchChange.seq > applied)
        return int(db.execute(q).scalar_one())


def compact(index_dir: str | Path, *, lock_timeout: float | None = 60.0) -> bool:
    """Merge the index in use into one segment, so removed or replaced documents are
    gone from the files too (Whoosh only marks them deleted). False if there is no index.

    Account erasure calls this after applying its changes: a person's name must not
    linger in an old segment.
    """
    index_dir = Path(index_dir)
    with state.writer_lock(index_dir, timeout=lock_timeout):
        if not index_exists(index_dir):
            return False
        ix = open_index(index_dir)
        try:
            ix.optimize()
        finally:
            ix.close()
    return True


__all__ = ["ApplyReport", "Drift", "apply_changes", "compact", "drift", "pending_changes",
           "rebuild", "verify"]
