"""The directory index: verified organisations, academic units and courses.

A small Whoosh index of its own (``<data dir>/search-directory``), one
document per verified organisation, academic unit and course, for the pages
that search them (``/partners``, ``/groups``). It is small (thousands of
documents at most), so it is not updated entity by entity: whenever the search
change log holds ``organisation``, ``academic_unit`` or ``course`` rows past
the directory's own applied sequence number, the whole directory is rebuilt
from the database (one Whoosh commit that replaces every segment, so readers
see the old or the new directory whole).

Beside the Whoosh files (in ``ix/``) the directory keeps, like the
opportunity index (:mod:`search_index.state`): ``applied_seq``,
``pending_gaps.json`` (sequence numbers not yet visible below it: transactions
still in flight on PostgreSQL) and ``indexer.lock`` (one writer at a time).

Fields: names analysed in bokmål and English (stemmed), the same names as
plain lower-cased words (for prefixes and fuzzy matching), and a simple field
for codes ("TDT4100", "IE-IDI" and its parts), plus a lower-weighted body
(description, sector, place, NACE, level). A query word the directory does not
know is matched fuzzily against names and codes, with real (BM25) scores.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import writing
from whoosh.fields import ID, STORED, TEXT, Schema

from . import state
from .analysis import (
    EN_STOPWORDS,
    NB_STOPWORDS,
    en_analyzer,
    nb_analyzer,
    normalise,
    simple_analyzer,
    stem_en,
    stem_nb,
    words,
)
from .indexer import _session

ENTITY_TYPES = ("organisation", "academic_unit", "course")
ENTITIES = ("organisation", "unit", "course")  # the ``entity`` of a hit
SCHEMA_VERSION = "1"
SCHEMA_VERSION_FILE = "schema_version"
IX_SUBDIR = "ix"
GAP_TIMEOUT = 300.0
GAP_LOOKBACK = 1000
MAX_GAPS = 10_000
MAX_QUERY_WORDS = 12
MAX_QUERY_CHARS = 500


def directory_dir(data_dir: str | Path) -> Path:
    """Where the directory lives: beside the opportunity index."""
    return state.index_dir(Path(data_dir)).parent / "search-directory"


def make_schema() -> Schema:
    return Schema(
        key=ID(unique=True, stored=True),
        entity=ID(stored=True),
        eid=STORED(),
        title=STORED(),
        subtitle=STORED(),
        version=STORED(),
        sector=ID(stored=True),
        code_exact=ID(),
        codes=TEXT(analyzer=simple_analyzer(), field_boost=4.0),
        names=TEXT(analyzer=simple_analyzer(), field_boost=2.0),
        name_nb=TEXT(analyzer=nb_analyzer(), field_boost=3.0),
        name_en=TEXT(analyzer=en_analyzer(), field_boost=3.0),
        body_nb=TEXT(analyzer=nb_analyzer()),
        body_en=TEXT(analyzer=en_analyzer()),
    )


# --------------------------------------------------------------- documents
def _code_text(*codes: str | None) -> str:
    """Codes as words: "IE-IDI" gives "IE IDI IEIDI" so both forms are found."""
    out = []
    for code in codes:
        if code:
            out += [code, code.replace("-", " "), "".join(ch for ch in code if ch.isalnum())]
    return " ".join(out)


def _version(doc: dict) -> str:
    blob = json.dumps({k: v for k, v in doc.items() if k != "version"}, sort_keys=True,
                      default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def _finish(doc: dict) -> dict:
    doc = {k: v for k, v in doc.items() if v not in (None, "")}
    doc["version"] = _version(doc)
    return doc


def organisation_document(org) -> dict:
    place = ", ".join(x for x in (org.municipality, org.country) if x)
    body = " \n ".join(x for x in (org.description, org.sector, org.municipality, org.country,
                                   org.nace_code) if x)
    return _finish({
        "key": f"organisation:{org.id}", "entity": "organisation", "eid": int(org.id),
        "title": org.name, "subtitle": place, "sector": org.sector,
        "code_exact": (org.org_number or None),
        "codes": _code_text(org.org_number, org.nace_code),
        "names": org.name, "name_nb": org.name, "name_en": org.name,
        "body_nb": body, "body_en": body,
    })


def unit_document(unit, parent_code: str | None) -> dict:
    body = " \n ".join(x for x in (unit.description, unit.level) if x)
    return _finish({
        "key": f"unit:{unit.id}", "entity": "unit", "eid": int(unit.id),
        "title": unit.name_nb, "subtitle": unit.code,
        "code_exact": unit.code.casefold(),
        "codes": _code_text(unit.code, parent_code),
        "names": f"{unit.name_nb} \n {unit.name_en}",
        "name_nb": unit.name_nb, "name_en": unit.name_en,
        "body_nb": body, "body_en": body,
    })


def course_document(course, unit_code: str | None) -> dict:
    return _finish({
        "key": f"course:{course.id}", "entity": "course", "eid": int(course.id),
        "title": course.name_nb, "subtitle": course.code,
        "code_exact": course.code.casefold(),
        "codes": _code_text(course.code, unit_code),
        "names": f"{course.name_nb} \n {course.name_en}",
        "name_nb": course.name_nb, "name_en": course.name_en,
        "body_nb": course.level, "body_en": course.level,
    })


def documents_from_db(db: Session) -> list[dict]:
    """Every directory document, from the current state of the database."""
    from portal.models import AcademicUnit, Course, Organisation

    docs = [organisation_document(o) for o in db.execute(
        select(Organisation).where(Organisation.verified.is_(True))).scalars()]
    units = list(db.execute(select(AcademicUnit)).scalars())
    codes = {u.id: u.code for u in units}
    docs += [unit_document(u, codes.get(u.parent_id)) for u in units]
    docs += [course_document(c, codes.get(c.unit_id)) for c in db.execute(
        select(Course).options(selectinload(Course.unit))).scalars()]
    return docs


# --------------------------------------------------------------- the Whoosh index
def _ix_path(directory: Path) -> Path:
    return Path(directory) / IX_SUBDIR


def _exists(directory: Path) -> bool:
    path = _ix_path(directory)
    try:
        current = (Path(directory) / SCHEMA_VERSION_FILE).read_text().strip() == SCHEMA_VERSION
    except FileNotFoundError:
        return False
    return current and path.is_dir() and whoosh_index.exists_in(str(path))


def _write_all(directory: Path, docs: list[dict]) -> None:
    """Replace every document in one commit (creating the index if needed)."""
    path = _ix_path(directory)
    if not _exists(directory):
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True, exist_ok=True)
        ix = whoosh_index.create_in(str(path), make_schema())
        state.atomic_write(Path(directory) / SCHEMA_VERSION_FILE, SCHEMA_VERSION + "\n")
    else:
        ix = whoosh_index.open_dir(str(path))
    try:
        writer = ix.writer(timeout=10.0)
        try:
            for doc in docs:
                writer.add_document(**doc)
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=writing.CLEAR)
    finally:
        ix.close()


# --------------------------------------------------------------- keeping it current
@dataclass
class DirectoryReport:
    rebuilt: bool = False
    documents: int = 0
    applied_seq: int | None = None
    pending_gaps: int = 0


def rebuild_directory(source, directory: str | Path, *, lock_timeout: float | None = 60.0,
                      clock: Callable[[], float] = time.time) -> int:
    """Build the directory anew from the database; returns the number of documents."""
    directory = Path(directory)
    with state.writer_lock(directory, timeout=lock_timeout):
        return _rebuild_locked(source, directory, clock)


def _rebuild_locked(source, directory: Path, clock) -> int:
    from portal.models import SearchChange

    with _session(source) as db:
        top = int(db.execute(select(func.coalesce(func.max(SearchChange.seq), 0))).scalar_one())
        recent = set(db.execute(select(SearchChange.seq).where(
            SearchChange.seq > top - GAP_LOOKBACK)).scalars())
        docs = documents_from_db(db)
    now = clock()
    gaps = {seq: now for seq in range(max(top - GAP_LOOKBACK, 0) + 1, top + 1)
            if seq not in recent}
    _write_all(directory, docs)
    state.write_gaps(directory, gaps)
    state.write_applied_seq(directory, top)
    return len(docs)


def apply_directory_changes(source, directory: str | Path, *, lock_timeout: float | None = 60.0,
                            gap_timeout: float = GAP_TIMEOUT,
                            clock: Callable[[], float] = time.time) -> DirectoryReport:
    """Rebuild the directory if the change log has directory rows it has not seen.

    Raises :class:`search_index.state.IndexBusy` if another process holds the
    directory's writer lock longer than ``lock_timeout`` seconds.
    """
    from portal.models import SearchChange

    directory = Path(directory)
    with state.writer_lock(directory, timeout=lock_timeout):
        applied = state.read_applied_seq(directory)
        if applied is None or not _exists(directory):
            n = _rebuild_locked(source, directory, clock)
            return DirectoryReport(True, n, state.read_applied_seq(directory),
                                   len(state.read_gaps(directory)))
        gaps = state.read_gaps(directory)
        with _session(source) as db:
            top = int(db.execute(select(func.coalesce(func.max(SearchChange.seq), 0)))
                      .scalar_one())
            cond = SearchChange.seq > applied
            if gaps:
                cond = cond | SearchChange.seq.in_(sorted(gaps))
            wanted = db.execute(select(func.count()).select_from(SearchChange).where(
                cond, SearchChange.entity_type.in_(ENTITY_TYPES))).scalar_one()
            if wanted:
                n = _rebuild_locked(db, directory, clock)  # same session: one transaction
                return DirectoryReport(True, n, state.read_applied_seq(directory),
                                       len(state.read_gaps(directory)))
            # nothing for us: move the mark on, keeping numbers not yet visible as gaps
            now = clock()
            if gaps:
                seen = set(db.execute(select(SearchChange.seq).where(
                    SearchChange.seq.in_(sorted(gaps)))).scalars())
                gaps = {s: t for s, t in gaps.items() if s not in seen}
            if top > applied:
                visible = db.execute(select(func.count()).select_from(SearchChange).where(
                    SearchChange.seq > applied, SearchChange.seq <= top)).scalar_one()
                if visible < top - applied:
                    seen = set(db.execute(select(SearchChange.seq).where(
                        SearchChange.seq > applied, SearchChange.seq <= top)).scalars())
                    for seq in range(applied + 1, top):
                        if seq not in seen:
                            gaps.setdefault(seq, now)
        gaps = {s: t for s, t in gaps.items() if now - t < gap_timeout}
        if len(gaps) > MAX_GAPS:
            gaps = dict(sorted(gaps.items())[-MAX_GAPS:])
        state.write_gaps(directory, gaps)
        if top > applied:
            state.write_applied_seq(directory, top)
        return DirectoryReport(False, 0, max(top, applied), len(gaps))


def directory_drift(source, directory: str | Path) -> int:
    """How many directory documents differ from the database (missing, extra, stale)."""
    with _session(source) as db:
        expected = {d["key"]: d["version"] for d in documents_from_db(db)}
    indexed: dict[str, str] = {}
    if _exists(Path(directory)):
        ix = whoosh_index.open_dir(str(_ix_path(Path(directory))))
        try:
            with ix.searcher() as s:
                for f in s.all_stored_fields():
                    indexed[f["key"]] = f.get("version", "")
        finally:
            ix.close()
    keys = set(expected) | set(indexed)
    return sum(1 for k in keys if expected.get(k) != indexed.get(k))


# --------------------------------------------------------------- searching
@dataclass
class DirectoryHit:
    entity: str  # "organisation", "unit" or "course"
    id: int
    title: str
    subtitle: str
    score: float


def _word_query(reader, w: str) -> tuple[wq.Query, bool]:
    """(the query for one word, whether the directory knows it)."""
    parts: list[wq.Query] = [wq.Term("codes", w, boost=2.0), wq.Term("names", w)]
    if w not in NB_STOPWORDS:
        s = stem_nb(w)
        parts += [wq.Term("name_nb", s), wq.Term("body_nb", s, boost=0.5)]
    if w not in EN_STOPWORDS:
        s = stem_en(w)
        parts += [wq.Term("name_en", s), wq.Term("body_en", s, boost=0.5)]
    known = any(reader.__contains__((p.fieldname, p.text)) for p in parts)
    if len(w) >= 3:  # compound heads and unfinished words: "helse" finds "helseteknologi"
        parts.append(wq.Prefix("names", w, boost=0.5))
        parts.append(wq.Prefix("codes", w, boost=0.5))
    if not known and len(w) >= 4:
        dist = 1 if len(w) < 7 else 2
        parts.append(wq.FuzzyTerm("names", w, maxdist=dist, prefixlength=1, boost=0.8))
        parts.append(wq.FuzzyTerm("codes", w, maxdist=1, prefixlength=2, boost=0.8))
    return wq.Or(parts), known


def _query_words(text: str) -> list[str]:
    ws = [w for w, _, _ in words(normalise(str(text or ""))[:MAX_QUERY_CHARS])]
    # words stop-listed in both languages carry nothing (unless they are codes)
    ws = [w for w in ws if not (w in NB_STOPWORDS and w in EN_STOPWORDS)]
    out: list[str] = []
    for w in ws:
        if w not in out:
            out.append(w)
    return out[:MAX_QUERY_WORDS]


def search_directory(directory: str | Path, text: str | None, *, entity: str | None = None,
                     sector: str | None = None, limit: int = 20) -> list[DirectoryHit]:
    """Hits for ``text``, best first; ``entity`` limits them to one kind, ``sector``
    (organisations) to one sector. Never raises on odd input: no words, or no
    directory yet, give an empty list."""
    try:
        limit = max(1, min(int(limit), 500))
    except (TypeError, ValueError):
        limit = 20
    if entity is not None and entity not in ENTITIES:
        return []
    directory = Path(directory)
    ws = _query_words(text or "")
    if not ws or not _exists(directory):
        return []
    try:
        ix = whoosh_index.open_dir(str(_ix_path(directory)))
    except Exception:  # being created right now: treat as empty
        return []
    try:
        with ix.searcher() as s:
            reader = s.reader()
            word_queries = [_word_query(reader, w)[0] for w in ws]
            exact = normalise(str(text or "")).strip().casefold()
            filters = []
            if entity:
                filters.append(wq.Term("entity", entity))
            if sector:
                filters.append(wq.Term("sector", str(sector)[:64]))
            flt = wq.And(filters) if filters else None
            hits = []
            for combined in (wq.And(word_queries), wq.Or(word_queries)):
                if exact and len(exact) <= 40:
                    combined = wq.Or([combined, wq.Term("code_exact", exact, boost=10.0)])
                hits = list(s.search(combined, limit=limit, filter=flt))
                if hits:
                    break
            return [DirectoryHit(h["entity"], int(h["eid"]), h.get("title", ""),
                                 h.get("subtitle", ""), float(h.score)) for h in hits]
    finally:
        ix.close()


__all__ = ["DirectoryHit", "DirectoryReport", "apply_directory_changes", "directory_dir",
           "directory_drift", "rebuild_directory", "search_directory"]
