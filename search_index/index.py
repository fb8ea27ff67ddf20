"""Opening the index, and turning opportunities into index documents.

A document is built either from an ``Opportunity`` row (with its organisation
or academic unit, tags and levels) or from a plain dict in the format of the
search development set (``tests/data/search-devset/corpus.jsonl``), through
the same :class:`SearchDocument`, so both index identically.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import islice
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import IndexWriter

from .codec import SideIndex
from .schema import NO_DEADLINE, SCHEMA_VERSION, make_schema

SCHEMA_VERSION_FILE = "schema_version"


class IndexNeedsRebuild(RuntimeError):
    """The index on disk is missing, or was written with another schema version."""


# --------------------------------------------------------------- documents
@dataclass
class SearchDocument:
    id: int
    kind: str
    title: str
    description: str = ""
    language: str = "nb"
    status: str = "published"
    external_id: int | None = None
    extra_text: str = ""
    tags: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    organisation: str = ""
    names: str = ""  # searchable owner names (default: organisation)
    sector: str = ""
    domain: str = ""
    municipality: str = ""
    location: str = ""
    deadline: date | None = None
    version: str = ""

    def fields(self) -> dict:
        """The Whoosh fields of this document."""
        lang = self.language if self.language in ("nb", "en") else "nb"
        tags = [t.strip().lower() for t in self.tags if t and t.strip()]
        levels = [lv.strip().lower() for lv in self.levels if lv and lv.strip()]
        doc = {
            "key": str(self.id),
            "id": int(self.id),
            "external_id": self.external_id,
            "kind": self.kind,
            "status": self.status,
            "language": lang,
            "title": self.title,
            "description": self.description,
            "organisation": self.organisation,
            "version": self.version,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "sort_id": int(self.id),
            "sort_deadline": self.deadline.toordinal() if self.deadline else NO_DEADLINE,
            f"head_{lang}": " \n ".join([self.title, *tags]),
            f"body_{lang}": " \n ".join(x for x in (self.description, self.extra_text) if x),
        }
        for name, value in (("sector", self.sector), ("domain", self.domain),
                            ("municipality", self.municipality)):
            if value:
                doc[name] = value
        if tags:
            doc["tags"] = ",".join(t.replace(",", " ") for t in tags)
        if levels:
            doc["levels"] = ",".join(levels)
        if self.names or self.organisation:
            doc["names"] = self.names or self.organisation
        place = " ".join(x for x in (self.municipality, self.location) if x)
        if place:
            doc["place"] = place
        return doc


def _as_date(value) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def document_from_dict(d: Mapping) -> SearchDocument:
    """A document from a dict in the devset format (``id`` is the external id).

    Accepted keys: id, kind, language, title, description, tags, level or
    levels, organisation, sector, municipality, location, deadline (ISO date),
    domain, status (default published), and optionally db_id (the portal's own
    id; defaults to ``id``) and version.
    """
    levels = d.get("levels") or ([d["level"]] if d.get("level") else [])
    if isinstance(levels, str):
        levels = [levels]
    version = d.get("version")
    if version is None:
        raw = json.dumps(d, sort_keys=True, default=str, ensure_ascii=False).encode()
        version = "sha1:" + hashlib.sha1(raw, usedforsecurity=False).hexdigest()[:16]
    ext = d.get("external_id", d.get("id"))
    return SearchDocument(
        id=int(d.get("db_id") or d["id"]),
        external_id=int(ext) if ext is not None else None,
        kind=d.get("kind") or "thesis_task",
        status=d.get("status") or "published",
        language=d.get("language") or "nb",
        title=d.get("title") or "",
        description=d.get("description") or "",
        tags=list(d.get("tags") or []),
        levels=list(levels),
        organisation=d.get("organisation") or "",
        sector=d.get("sector") or "",
        domain=d.get("domain") or "",
        municipality=d.get("municipality") or "",
        location=d.get("location") or "",
        deadline=_as_date(d.get("deadline")),
        version=str(version),
    )


def version_string(updated_at, status: str, owner_updated_at=None) -> str:
    """What the index remembers of a row: its update time, status and its owner's
    update time (the owner's name and sector are copied into the document, so a
    renamed organisation makes the document stale too)."""
    parts = [_iso(updated_at), status or ""]
    if owner_updated_at is not None:
        parts.append(_iso(owner_updated_at))
    return "|".join(parts)


def opportunity_version(opp) -> str:
    org = opp.owner_org if opp.owner_org_id is not None else None
    return version_string(opp.updated_at, opp.status,
                          getattr(org, "updated_at", None) if org is not None else None)


def _iso(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat()


def document_from_opportunity(opp) -> SearchDocument:
    """A document from an ``Opportunity`` row (organisation/unit, tags, levels loaded)."""
    org = opp.owner_org if opp.owner_org_id is not None else None
    unit = opp.owner_unit if opp.owner_unit_id is not None else None
    lang = opp.language if opp.language in ("nb", "en") else "nb"
    if org is not None:
        owner_name, names = org.name, org.name
    elif unit is not None:
        nb, en = getattr(unit, "name_nb", "") or "", getattr(unit, "name_en", "") or ""
        owner_name = (en if lang == "en" else nb) or nb or en
        names = " ".join(x for x in (nb, en) if x)
    else:
        owner_name = names = ""
    extra = [opp.theme, opp.material, opp.course_usage, opp.partner_role, opp.domain,
             opp.semester]
    return SearchDocument(
        id=opp.id,
        external_id=opp.external_id,
        kind=opp.kind,
        status=opp.status,
        language=lang,
        title=opp.title or "",
        description=opp.description or "",
        extra_text="\n".join(x for x in extra if x),
        tags=[t.tag for t in opp.tags],
        levels=[lv.level for lv in opp.levels],
        organisation=owner_name,
        names=names,
        sector=(org.sector if org is not None else ""),
        domain=opp.domain or "",
        municipality=opp.municipality or (getattr(org, "municipality", None) or ""),
        location=opp.location or "",
        deadline=opp.deadline,
        version=opportunity_version(opp),
    )


# --------------------------------------------------------------- the index on disk
# The directory can hold several Whoosh indexes (named ix1, ix2, …); the file
# ``current`` names the one in use. A rebuild writes a new one beside the old
# and switches ``current`` atomically, so searches never see a half-built index.
CURRENT_FILE = "current"
_NAME_RE = re.compile(r"^ix(\d+)$")


def current_name(index_dir: str | Path) -> str | None:
    try:
        name = (Path(index_dir) / CURRENT_FILE).read_text().strip()
    except FileNotFoundError:
        return None
    return name if _NAME_RE.match(name) else None


def index_exists(index_dir: str | Path) -> bool:
    name = current_name(index_dir)
    return name is not None and whoosh_index.exists_in(str(index_dir), indexname=name)


def new_index(index_dir: str | Path):
    """A new, empty index beside the current one (not yet in use): (index, name)."""
    path = Path(index_dir)
    path.mkdir(parents=True, exist_ok=True)
    taken = [int(m.group(1)) for f in path.iterdir()
             if (m := re.match(r"^_?ix(\d+)_", f.name))]
    cur = current_name(path)
    if cur:
        taken.append(int(cur[2:]))
    name = f"ix{max(taken, default=0) + 1}"
    ix = FileStorage(str(path)).create_index(make_schema(), indexname=name, indexclass=SideIndex)
    return ix, name


def switch_to(index_dir: str | Path, name: str) -> None:
    """Make ``name`` the index in use, and delete the files of the others."""
    from .state import atomic_write

    path = Path(index_dir)
    atomic_write(path / SCHEMA_VERSION_FILE, f"{SCHEMA_VERSION}\n")
    atomic_write(path / CURRENT_FILE, name + "\n")
    remove_other_indexes(path, keep=name)


def remove_other_indexes(index_dir: str | Path, keep: str | None) -> None:
    for f in Path(index_dir).iterdir():
        m = re.match(r"^_?(ix\d+)_", f.name)
        if m and m.group(1) != keep and f.is_file():
            with contextlib.suppress(FileNotFoundError):
                f.unlink()


def create_index(index_dir: str | Path):
    """A new, empty index in ``index_dir``, in use at once (an old one there is dropped)."""
    ix, name = new_index(index_dir)
    switch_to(index_dir, name)
    return ix


def open_index(index_dir: str | Path, *, create: bool = False):
    """The index in use in ``index_dir``; with ``create``, a new one if there is none.

    Raises :class:`IndexNeedsRebuild` if it is missing (and not ``create``) or
    was written by another schema version.
    """
    path = Path(index_dir)
    if not index_exists(path):
        if create:
            return create_index(path)
        raise IndexNeedsRebuild(f"no search index in {path}")
    try:
        version = int((path / SCHEMA_VERSION_FILE).read_text().strip())
    except (FileNotFoundError, ValueError):
        version = None
    if version != SCHEMA_VERSION:
        raise IndexNeedsRebuild(f"search index in {path} has schema {version}, "
                                f"expected {SCHEMA_VERSION}: rebuild it")
    return FileStorage(str(path)).open_index(current_name(path), indexclass=SideIndex)


CHUNK_DOCS = 25_000  # documents per segment when bulk loading
BULK_LIMITMB = 1024


def bulk_load(ix, docs: Iterable[SearchDocument], *, chunk: int = CHUNK_DOCS,
              progress: Callable[[int], None] | None = None) -> int:
    """Add many documents to a new index, one segment per ``chunk`` documents.

    Each chunk is committed without merging: a segment small enough to sort
    its postings in memory is much faster to write than one big segment
    (Whoosh spills to disk past ``limitmb``), and searching a handful of
    segments costs little. (Whoosh's multi-process writer does not help on
    this machine's two cores: see bench/search.py.)
    """
    total = 0
    it = iter(docs)
    while True:
        batch = list(islice(it, chunk))
        if not batch:
            break
        writer = ix.writer(limitmb=BULK_LIMITMB)
        try:
            n = write_documents(writer, batch, progress=(lambda k, base=total: progress(base + k))
                                if progress else None)
        except BaseException:
            writer.cancel()
            raise
        writer.commit(merge=False)
        total += n
    return total


def write_documents(writer: IndexWriter, docs: Iterable[SearchDocument], *,
                    update: bool = False,
                    progress: Callable[[int], None] | None = None) -> int:
    """Add (or with ``update``, replace by id) documents; returns how many."""
    n = 0
    add = writer.update_document if update else writer.add_document
    for doc in docs:
        add(**doc.fields())
        n += 1
        if progress is not None and n % 1000 == 0:
            progress(n)
    if progress is not None and n % 1000:
        progress(n)
    return n


def index_documents(index_dir: str | Path, docs: Iterable[SearchDocument | Mapping], *,
                    clear: bool = True, chunk: int = CHUNK_DOCS,
                    progress: Callable[[int], None] | None = None) -> int:
    """Index documents (or devset-format dicts) straight into ``index_dir``.

    A pure indexing function with no database, for tests and benchmarks. With
    ``clear`` (default) a new index is built and then put in use; otherwise
    documents replace those with the same id in the current index.
    """
    items = (d if isinstance(d, SearchDocument) else document_from_dict(d) for d in docs)
    if clear or not index_exists(index_dir):
        ix, name = new_index(index_dir)
        try:
            n = bulk_load(ix, items, chunk=chunk, progress=progress)
        finally:
            ix.close()
        switch_to(index_dir, name)
        return n
    ix = open_index(index_dir)
    try:
        writer = ix.writer(timeout=30.0)
        try:
            n = write_documents(writer, items, update=True, progress=progress)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
    finally:
        ix.close()
    return n


def index_devset(index_dir: str | Path, dicts: Iterable[Mapping], **kw) -> int:
    """Index devset-format dicts (``corpus.jsonl`` lines) into a new index."""
    return index_documents(index_dir, dicts, **kw)


def read_jsonl(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
