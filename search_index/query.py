"""Searching the opportunity index.

:func:`search` is the one entry point (the web page and the CLI use it)::

    result = search(index_dir, "praksisplass helse", filters={"kind": "placement"},
                    sort="relevance", page=1, per_page=10, today=date.today())

How a query is understood (no Whoosh query syntax is exposed: user text is
only ever split into words, so ``title:foo``, unbalanced quotes or brackets,
SQL or HTML are just words):

1. The text is split into words; a quoted span is kept together as a phrase.
2. Runs of words that are a thesaurus term or a collaboration-form word are
   expanded to every term of that concept, in both languages
   (:mod:`search_index.thesaurus`, plus the caller's ``extra_synonyms``).
3. Every word and expansion is searched in the bokmål fields (bokmål stems) and
   the English fields (English stems), title and tags weighted above the body,
   and in organisation and place names.
4. Compounds: a bokmål word also matches indexed words that begin or end with
   it ("vannkraft" → "vannkraftverk", "sensor" → "trykksensor"), found in the
   index's own vocabulary (see :mod:`search_index.analysis` for why).
5. A word the index does not know at all is replaced by the nearest indexed
   words (edit distance 1–2, same first letter), each scored as a real term,
   and ``did_you_mean`` proposes the corrected text.

Each word (or term) and its expansions form one unit: a disjunction-max
clause, so a document scores by its best matching alternative. Documents must
match every unit; if none does, those matching some units are listed (notice
"some_words"). Results are filtered (published, deadline not passed, the
caller's filters), counted per facet and paged; equal scores are ordered by
id, so pages are stable.

How it runs fast enough in pure Python: Whoosh stores the index (terms,
postings, stored fields), and long posting lists are read from a flat side
file instead of Whoosh's pickled blocks (:mod:`search_index.codec`);
matching is done with set operations on posting lists cached per segment
(segments are immutable, so the caches survive index updates); once the
rarest word of a query has found its documents, the other words are only
looked up for those (:meth:`_Snapshot.restrict`); and BM25 is computed only
for the (term, document) pairs of the documents being ranked. A very broad
query (more than EXACT_LIMIT results) ranks a shortlist: documents matching
in title or tags, then the soonest deadlines (see :func:`_candidates`).
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import heapq
import html
import math
import re
import threading
from array import array
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate, chain, islice
from pathlib import Path
from zoneinfo import ZoneInfo

from whoosh import query as wq

from . import thesaurus as th
from .analysis import (
    EN_STOPWORDS,
    MAX_TOKEN_CHARS,
    NB_STOPWORDS,
    normalise,
    stem_en,
    stem_nb,
    words,
)
from .codec import SidePostings
from .index import IndexNeedsRebuild, current_name, index_exists, open_index
from .matching import DisMax
from .schema import FACET_FIELDS, NO_DEADLINE

OSLO = ZoneInfo("Europe/Oslo")

MAX_QUERY_CHARS = 500
MAX_QUERY_WORDS = 24
MAX_PER_PAGE = 100
DEADLINE_WINDOWS = (7, 30, 90)
SORTS = ("relevance", "deadline")

# Weights. Field boosts multiply alternative weights.
HEAD_BOOST = 2.0
BODY_BOOST = 1.0
NAMES_BOOST = 1.5
PLACE_BOOST = 1.0
W_ORIGINAL = 1.0
W_SYNONYM = 0.8
W_FORM_WORD = 0.6
W_FORM_KIND = 0.4
W_LEVEL = 0.4
W_COMPOUND = 0.6
W_FUZZY = 0.8
TIEBREAK = 0.1

MIN_COMPOUND_STEM = 4  # shortest stem that is looked for inside compounds
MIN_COMPOUND_REST = 3  # the rest of a compound must be at least this long
MAX_COMPOUNDS = 12  # per word and field, the most frequent ones
MAX_FUZZY = 3  # corrections per unknown word

FILTER_ALIASES = {
    "kind": "kind", "type": "kind",
    "level": "level", "levels": "level",
    "sector": "sector",
    "language": "language", "lang": "language",
    "location": "location", "municipality": "location",
    "discipline": "discipline", "domain": "discipline",
    "tag": "tag", "tags": "tag",
}


# --------------------------------------------------------------- results
@dataclass
class Hit:
    id: int
    external_id: int | None
    title: str
    kind: str
    score: float
    snippet: str  # HTML: escaped text with <mark> around matches
    title_html: str  # HTML, likewise
    language: str = ""
    organisation: str = ""
    sector: str = ""
    municipality: str = ""
    deadline: date | None = None
    levels: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    page: int
    per_page: int
    sort: str
    query: str  # the query as understood (normalised); "" for a listing
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    did_you_mean: str | None = None
    # "stopwords_only": only common words, everything listed; "some_words": no
    # document has all the words, these have some; "truncated": the query was
    # cut to its first words; "no_index": the index is not built
    notice: str | None = None
    expansions: dict[str, list[str]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)

    def as_dict(self) -> dict:
        """The JSON form the CLI prints (``portal search query --json``)."""
        return {
            "total": self.total,
            "results": [{"id": h.id, "external_id": h.external_id, "title": h.title,
                         "kind": h.kind, "score": round(h.score, 4)} for h in self.hits],
        }

    def as_full_dict(self) -> dict:
        d = asdict(self)
        for h in d["hits"]:
            h["deadline"] = h["deadline"].isoformat() if h["deadline"] else None
        return d


# --------------------------------------------------------------- per-segment data
class _SegmentData:
    """What we keep in memory for one immutable index segment (at an offset).

    Everything here is in global document numbers (offset added) and does not
    change while the segment exists; deletions are applied per snapshot.
    """

    TERM_BUDGET_PER_DOC = 40  # cached term postings, in document numbers per document

    def __init__(self, reader, offset: int):
        self.offset = offset
        self.count = reader.doc_count_all()
        self.side = SidePostings.open(reader)
        ids = reader.column_reader("sort_id")
        deadlines = reader.column_reader("sort_deadline")
        # Per-document data lives in arrays, not lists: a list of 100,000 ints
        # is 100,000 objects that every full garbage collection walks.
        self.sort_ids = array("q", (int(ids[i]) for i in range(self.count)))
        self.deadlines = array("i", (int(deadlines[i]) for i in range(self.count)))
        self.values: dict[str, dict[str, frozenset[int]]] = {}
        for name, (fieldname, _multi) in FACET_FIELDS.items():
            self.values[name] = {b.decode("utf-8"): self._read(reader, fieldname, b)
                                 for b in reader.lexicon(fieldname)}
        self.published = self._read(reader, "status", b"published")
        self._reversed: dict = {}
        self._terms: OrderedDict = OrderedDict()
        self._terms_size = 0
        self._budget = self.TERM_BUDGET_PER_DOC * self.count + 50_000
        self._visible: dict[int, frozenset[int]] = {}
        self._lengths: dict[str, list[int] | None] = {}
        self._codes: dict[str, list] = {}
        self._deadline_cache: dict = {}
        self._sort_key: list[int] | None = None
        self._order: list[int] | None = None

    def _read(self, reader, fieldname: str, text) -> frozenset[int]:
        return frozenset(self._postings(reader, fieldname, text)[0])

    def _postings(self, reader, fieldname: str, text) -> tuple[array, array]:
        if self.count <= SMALL_SEGMENT and isinstance(text, str) and \
                text not in self.term_set(reader, fieldname):
            # most terms are not in the small segments of recent updates, and
            # Whoosh's lookup of a missing term costs as much as reading a short list
            return array("I"), array("f")
        if self.side is not None:
            found = self.side.postings(fieldname, text.encode("utf-8") if isinstance(text, str)
                                       else text, self.offset)
            if found is not None:
                return found
        try:
            m = _raw_postings(reader, fieldname, text)
        except Exception:  # TermNotFound: the field or term is not in this segment
            return array("I"), array("f")
        return _posting_data(m, self.offset)

    def _remember(self, key, value, size: int):
        self._terms[key] = value
        self._terms_size += size + 1
        while self._terms_size > self._budget and len(self._terms) > 1:
            old_key, old = self._terms.popitem(last=False)
            self._terms_size -= (len(old[0]) if isinstance(old, tuple) else len(old)) + 1

    def postings(self, reader, fieldname: str, text: str) -> tuple[array, array]:
        """(document numbers, term weights) of a term in this segment, cached LRU."""
        key = ("p", fieldname, text)
        value = self._terms.get(key)
        if value is not None:
            self._terms.move_to_end(key)
            return value
        value = self._postings(reader, fieldname, text)
        self._remember(key, value, len(value[0]))
        return value

    def term_docs(self, reader, fieldname: str, text: str) -> frozenset[int]:
        """Documents of a term in this segment (deleted ones included), cached LRU."""
        key = ("d", fieldname, text)
        docs = self._terms.get(key)
        if docs is not None:
            self._terms.move_to_end(key)
            return docs
        docs = frozenset(self.postings(reader, fieldname, text)[0])
        self._remember(key, docs, len(docs))
        return docs

    def cached_docs(self, key, make) -> frozenset[int]:
        docs = self._terms.get(key)
        if docs is None:
            docs = make()
            self._remember(key, docs, len(docs))
        return docs

    def lengths(self, reader, fieldname: str) -> Sequence[int] | None:
        """Per document, the number of terms in a text field (BM25 length norm)."""
        if fieldname not in self._lengths:
            self._lengths[fieldname] = _field_lengths(reader, fieldname, self.count)
        return self._lengths[fieldname]

    def facet_codes(self, facet: str, vocab: dict[str, int]) -> Sequence:
        """Per document of the segment: the facet value's code in ``vocab`` (shared
        by all segments of an engine), -1 for none, or a tuple of codes."""
        codes = self._codes.get(facet)
        if codes is None:
            values = self.values[facet]
            if FACET_FIELDS[facet][1]:
                per: list[list[int]] = [[] for _ in range(self.count)]
                for v, docs in values.items():
                    c = vocab.setdefault(v, len(vocab))
                    for d in docs:
                        per[d - self.offset].append(c)
                codes = [tuple(x) for x in per]
            else:
                codes = array("i", [-1]) * self.count
                for v, docs in values.items():
                    c = vocab.setdefault(v, len(vocab))
                    for d in docs:
                        codes[d - self.offset] = c
            self._codes[facet] = codes
        return codes

    def packed_codes(self, facets: tuple[str, ...], vocab: dict) -> Sequence[int]:
        """Per document of the segment: code + 1 of each one-value facet (0: none),
        PACK_BITS bits each, the first facet lowest."""
        key = ("packed", facets)
        packed = self._codes.get(key)
        if packed is None:
            packed = [0] * self.count
            for i, facet in enumerate(facets):
                codes = self.facet_codes(facet, vocab.setdefault(facet, {}))
                shift = PACK_BITS * i
                packed = [p | ((c + 1) << shift) for p, c in zip(packed, codes, strict=True)]
            if PACK_BITS * len(facets) <= 64:
                packed = array("Q", packed)
            self._codes[key] = packed
        return packed

    def deadline_docs(self, lo: int, hi: int) -> frozenset[int]:
        """Documents with a deadline in [lo, hi] (ordinals)."""
        key = ("deadline", lo, hi)
        docs = self._deadline_cache.get(key)
        if docs is None:
            off = self.offset
            docs = frozenset(off + i for i, d in enumerate(self.deadlines)
                             if d > NO_DEADLINE and lo <= d <= hi)
            if len(self._deadline_cache) > 32:
                self._deadline_cache.clear()
            self._deadline_cache[key] = docs
        return docs

    def visible_base(self, today: int) -> frozenset[int]:
        """Published documents whose deadline has not passed (deletions not applied)."""
        v = self._visible.get(today)
        if v is None:
            dl, off = self.deadlines, self.offset
            expired = {off + i for i, d in enumerate(dl) if NO_DEADLINE < d < today}
            v = self.published - expired if expired else self.published
            if len(self._visible) > 4:
                self._visible.clear()
            self._visible[today] = v
        return v

    def sort_key(self) -> array:
        """Per document: deadline then id in one integer (no deadline sorts last)."""
        if self._sort_key is None:
            self._sort_key = array("Q", (((d if d != NO_DEADLINE else 9_999_999) << 40) | i
                                         for d, i in zip(self.deadlines, self.sort_ids,
                                                         strict=True)))
        return self._sort_key

    def order(self) -> array:
        """All documents of the segment (global numbers) by deadline, then id."""
        if self._order is None:
            key = self.sort_key()
            self._order = array("I", (self.offset + i for i in sorted(range(self.count),
                                                                      key=key.__getitem__)))
        return self._order

    def term_set(self, reader, fieldname: str) -> frozenset[str]:
        key = ("set", fieldname)
        terms = self._reversed.get(key)
        if terms is None:
            terms = self._reversed[key] = frozenset(self.sorted_terms(reader, fieldname))
        return terms

    def sorted_terms(self, reader, fieldname: str) -> list[str]:
        """The segment's terms of ``fieldname``, sorted (the lexicon is sorted already)."""
        key = ("lexicon", fieldname)
        terms = self._reversed.get(key)
        if terms is None:
            try:
                terms = [b.decode("utf-8") for b in reader.lexicon(fieldname)]
            except Exception:  # the field is not in this segment
                terms = []
            self._reversed[key] = terms
        return terms

    def reversed_terms(self, reader, fieldname: str) -> list[str]:
        """The segment's terms of ``fieldname``, reversed and sorted (suffix lookup)."""
        rev = self._reversed.get(fieldname)
        if rev is None:
            rev = sorted(b.decode("utf-8")[::-1] for b in reader.lexicon(fieldname))
            self._reversed[fieldname] = rev
        return rev


PACK_BITS = 20  # per facet in a packed code: room for a million values of a facet
PACK_MASK = (1 << PACK_BITS) - 1
PACK_COMBINATIONS = 1024  # most value combinations of the facets counted in one pass
COMPLEMENT_MIN = 5000  # results from which facets may be counted on the complement
SMALL_SEGMENT = 2000  # documents; the whole vocabulary of smaller segments is kept in memory


def _raw_postings(leaf, fieldname: str, text):
    """A segment's matcher for a term, deleted documents included (they are
    removed per snapshot). Whoosh's ``postings`` wraps it in a filter that
    decodes the first block at once, the slow way."""
    terms = getattr(leaf, "_terms", None)
    if terms is not None and hasattr(terms, "matcher") and fieldname in leaf.schema:
        field = leaf.schema[fieldname]
        return terms.matcher(fieldname, field.to_bytes(text) if isinstance(text, str) else text,
                             field.format, scorer=None)
    return leaf.postings(fieldname, text)


def _posting_data(m, offset: int = 0) -> tuple[array, array]:
    """All (document numbers, weights) of a posting list, a block at a time.

    Whoosh's per-posting iteration costs about a microsecond a posting; its
    W3 codec decodes a whole block of ids and weights at once, which we take
    whole. Falls back to the public matcher interface for anything else.
    """
    while type(m).__name__ == "FilterMatcher" and hasattr(m, "child"):
        m = m.child  # (deleted documents are removed per snapshot instead)
    if all(hasattr(m, a) for a in ("_read_ids", "_read_weights", "_next_block", "_ids", "_i")):
        try:
            ids, weights = array("I"), array("f")
            while m.is_active():
                ids.extend(_block_ids(m, offset)[m._i:])
                m._read_weights()
                weights.extend(m._weights[m._i:])
                m._next_block()
            return ids, weights
        except Exception:  # noqa: S110 - an internal changed: take the public way
            pass
    ids, weights = array("I"), array("f")
    while m.is_active():
        ids.append(m.id() + offset)
        weights.append(m.weight())
        m.next()
    return ids, weights


def _block_ids(m, offset: int = 0):
    """The document numbers (plus ``offset``) of a W3 matcher's current block.

    Whoosh's own delta decoding is a Python generator (a third of the cost of
    reading a cold posting list); ``accumulate`` does the same in C, and
    starting it at ``offset`` saves another pass to make the numbers global.
    """
    if m._data is None:
        m._read_data()
    ids = m._data[0]
    if m._byteids:
        return array("I", (d + offset for d in ids)) if offset else ids
    out = array("I", accumulate(ids, initial=offset))
    del out[0]
    return out


def _phrase_docs(leaf, fieldname: str, words: list[str], targets: list[int],
                 side: SidePostings | None = None) -> list[int] | None:
    """Of ``targets`` (sorted segment-local numbers having every word), those where
    the words occur at consecutive positions, as Whoosh's ``Phrase`` (slop 1) matches.

    Whoosh's phrase matcher intersects the whole posting lists posting by
    posting; here only the positions of the targets are decoded (from the side
    file, or from the blocks holding a target). None: the codec's internals
    are not the expected ones (the caller asks Whoosh).
    """
    try:
        decode = leaf.schema[fieldname].format.decode_positions
        found = None
        for word in words:
            wanted = targets if found is None else sorted(found)
            values = side.values_of(fieldname, word.encode("utf-8"), wanted) \
                if side is not None else None
            if values is None:
                values = _block_values(leaf, fieldname, word, wanted)
            positions = {d: decode(v) for d, v in values.items()}
            if found is None:
                found = {d: set(ps) for d, ps in positions.items()}
            else:
                found = {d: nxt for d, ends in found.items() if d in positions
                         for nxt in [ends.intersection(p - 1 for p in positions[d])] if nxt}
                found = {d: {p + 1 for p in ends} for d, ends in found.items()}
            if not found:
                return []
        return sorted(found)
    except Exception:  # an internal changed: the public (slower) way
        return None


def _block_values(leaf, fieldname: str, word: str, wanted: list[int]) -> dict[int, bytes]:
    """The encoded values of a term for the ``wanted`` (sorted, segment-local)
    documents that have it, decoding only the W3 blocks that hold one."""
    m = _raw_postings(leaf, fieldname, word)
    while type(m).__name__ == "FilterMatcher" and hasattr(m, "child"):
        m = m.child
    out: dict[int, bytes] = {}
    k, n = 0, len(wanted)
    while k < n and m.is_active():
        if m._maxid < wanted[k]:
            m._next_block()  # header only: the block's data is not read
            continue
        ids = _block_ids(m)
        m._read_values()
        values = m._values
        while k < n and wanted[k] <= m._maxid:
            t = wanted[k]
            j = bisect.bisect_left(ids, t)
            if j < len(ids) and ids[j] == t:
                out[t] = values[j]
            k += 1
        m._next_block()
    return out


def _field_lengths(reader, fieldname: str, count: int) -> array | None:
    """Field lengths of every document of a segment (None: the field has none)."""
    try:
        field = reader.schema[fieldname]
    except KeyError:
        return None
    if not field.scorable:
        return None
    try:  # the W3 codec keeps them as one byte a document: read the column whole
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN
        from whoosh.util.numeric import byte_to_length

        col = reader._perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
        if col is None:
            return array("I", [0]) * count
        table = [byte_to_length(b) for b in range(256)]
        return array("I", map(table.__getitem__, col.load()))
    except Exception:
        return array("I", (reader.doc_field_length(d, fieldname, 0) or 0 for d in range(count)))


class _Snapshot:
    """One generation of the index: a searcher and the data derived from it."""

    def __init__(self, ix, searcher, segcache: dict):
        self.ix = ix
        self.vocab: dict[str, dict[str, int]] = segcache.setdefault("__vocab__", {})
        self.searcher = searcher
        self.reader = searcher.reader()
        self.generation = self.reader.generation()
        self.leaves = []
        for leaf, offset in self.reader.leaf_readers():
            if leaf.doc_count_all() == 0:
                continue  # an index with no segments yet has an empty reader without columns
            seg = leaf.segment()
            key = (seg.segment_id() if seg is not None else id(leaf), offset)
            data = segcache.get(key)
            if data is None:
                data = _SegmentData(leaf, offset)
                segcache[key] = data
            self.leaves.append((leaf, offset, data))
        used = {id(d) for _, _, d in self.leaves} | {id(self.vocab)}
        for k in [k for k, d in segcache.items() if id(d) not in used]:
            del segcache[k]  # merged or deleted segments
        self.leaf_offsets = {id(leaf): (offset, data.count) for leaf, offset, data in self.leaves}
        self.count = sum(data.count for _, _, data in self.leaves)
        self.sort_ids = array("q")
        self.deadlines = array("i")
        deleted: set[int] = set()
        for leaf, offset, data in self.leaves:
            self.sort_ids.extend(data.sort_ids)
            self.deadlines.extend(data.deadlines)
            if leaf.has_deletions():
                deleted.update(d + offset for d in leaf.deleted_docs_set)
        self.deleted = frozenset(deleted)
        self._cache: dict = {}
        self._qcache: dict = {}
        self._splits: dict[int, tuple[frozenset[int], list[frozenset[int]]]] = {}

    def cached(self, key, make):
        value = self._cache.get(key)
        if value is None:
            value = make()
            if len(self._cache) > 512:
                self._cache.clear()
            self._cache[key] = value
        return value

    def _merge(self, sets: list[frozenset[int]]) -> frozenset[int]:
        sets = [s for s in sets if s]
        if not sets:
            return frozenset()
        if len(sets) == 1:
            return sets[0]
        # starting from the largest set copies its table whole (about half the
        # time of adding everything to an empty set)
        sets.sort(key=len, reverse=True)
        return frozenset(sets[0]).union(*sets[1:])

    def visible(self, today: date) -> frozenset[int]:
        """Published, not deleted, deadline not passed on ``today``."""
        t = today.toordinal()

        def make():
            v = self._merge([data.visible_base(t) for _, _, data in self.leaves])
            return v - self.deleted if self.deleted else v

        return self.cached(("visible", t), make)

    def value_sets(self, facet: str, value: str) -> list[frozenset[int]]:
        return [data.values[facet].get(value, frozenset()) for _, _, data in self.leaves]

    def facet_codes(self, facet: str) -> tuple[list[str], Sequence]:
        """(value names by code, per document a code / tuple of codes) for a facet."""
        def make():
            vocab = self.vocab.setdefault(facet, {})
            codes: list | array = [] if FACET_FIELDS[facet][1] else array("i")
            for _, _, data in self.leaves:
                codes += data.facet_codes(facet, vocab)
            names = [""] * len(vocab)
            for v, c in vocab.items():
                names[c] = v
            return names, codes
        return self.cached(("codes", facet), make)

    def packed_codes(self, facets: tuple[str, ...]) -> Sequence[int]:
        """Per document, the codes of several one-value facets in one integer
        (see :meth:`_SegmentData.packed_codes`)."""
        def make():
            for f in facets:
                self.facet_codes(f)  # every value of the snapshot has its code
            parts = [data.packed_codes(facets, self.vocab) for _, _, data in self.leaves]
            out: list | array = array("Q") if all(isinstance(p, array) for p in parts) else []
            for p in parts:
                out += p
            return out
        return self.cached(("packed", facets), make)

    def values(self, facet: str) -> set[str]:
        return {v for _, _, data in self.leaves for v in data.values[facet]}

    def term_docs(self, fieldname: str, text: str) -> frozenset[int]:
        return self._merge([data.term_docs(leaf, fieldname, text) for leaf, _, data in self.leaves])

    def term_docs_in(self, fieldname: str, text: str, docs: frozenset[int]) -> frozenset[int]:
        """``term_docs(fieldname, text) & docs``, without merging the segments' sets
        (for a common term, the merge costs more than the intersections)."""
        parts = self._split(docs)
        if parts is None:
            return self._merge([docs & data.term_docs(leaf, fieldname, text)
                                for leaf, _, data in self.leaves])
        return self._merge([part & data.term_docs(leaf, fieldname, text)
                            for part, (leaf, _, data) in zip(parts, self.leaves, strict=True)
                            if part])

    SPLIT_MAX = 5000  # documents; larger sets are intersected with each segment whole

    def _split(self, docs: frozenset[int]) -> list[frozenset[int]] | None:
        """A smallish set of documents cut by segment (remembered for the few sets
        a search intersects with many terms), or None for a large one."""
        if len(docs) > self.SPLIT_MAX or len(self.leaves) == 1:
            return None
        entry = self._splits.get(id(docs))
        if entry is not None and entry[0] is docs:
            return entry[1]
        ordered = sorted(docs)
        parts = []
        for _, offset, data in self.leaves:
            lo = bisect.bisect_left(ordered, offset)
            hi = bisect.bisect_left(ordered, offset + data.count, lo)
            parts.append(frozenset(ordered[lo:hi]))
        if len(self._splits) >= 16:
            self._splits.clear()
        self._splits[id(docs)] = (docs, parts)  # the set is kept, so its id stays unique
        return parts

    def restrict(self, q, docs: frozenset[int]) -> frozenset[int]:
        """``query_docs(q) & docs``, computed from ``docs`` where that is cheaper.

        Once one word of a query has narrowed the results down, the other words
        need only be looked up for those documents: building the full set of a
        broad word (a collaboration form, in both languages, with its
        synonyms: tens of thousands of documents) would cost far more.
        """
        if not docs:
            return frozenset()
        if isinstance(q, wq.Term):
            return self.term_docs_in(q.fieldname, q.text, docs)
        if isinstance(q, wq.CompoundQuery):
            cached = self._qcache.get(("qdocs", repr(q)))
            if cached is not None:
                return cached & docs
        if isinstance(q, wq.And):
            for sub in q.subqueries:
                docs = self.restrict(sub, docs)
                if not docs:
                    break
            return docs
        if isinstance(q, (wq.Or, wq.DisjunctionMax)):
            found: list[frozenset[int]] = []
            rest = docs
            for sub in q.subqueries:
                hit = self.restrict(sub, rest)
                if hit:
                    found.append(hit)
                    rest = rest - hit
                    if not rest:
                        break
            return self._merge(found)
        if isinstance(q, wq.Phrase) and q.words and \
                min(self.doc_frequency(q.fieldname, w) for w in q.words) <= PHRASE_EXACT_MAX:
            # few documents have every word, so query_docs checks the phrase
            # exactly: checking it in just those of ``docs`` gives the same
            for w in q.words:
                docs = self.term_docs_in(q.fieldname, w, docs)
                if not docs:
                    return docs
            return self.phrase_docs(q, docs)
        return self.query_docs(q) & docs

    def phrase_docs(self, q, targets: frozenset[int]) -> frozenset[int]:
        """Of ``targets`` (documents having every word of phrase ``q``), those with
        the words in order."""
        return self._merge([self._phrase_in_segment(q, sub, offset, targets)
                            for sub, offset in self.searcher.leaf_searchers()])

    def _phrase_in_segment(self, q, sub, offset: int, targets: frozenset[int]) -> frozenset[int]:
        """Those of ``targets`` in the segment at ``offset`` (``sub``: its searcher)
        that have phrase ``q``."""
        leaf, _, data = next(x for x in self.leaves if x[1] == offset)
        local = sorted(d - offset for d in targets if offset <= d < offset + data.count)
        if not local:
            return frozenset()
        found = _phrase_docs(leaf, q.fieldname, q.words, local, data.side)
        if found is None:  # the codec's internals changed: Whoosh's own phrase matching
            found = set(sub.docs_for_query(q)).intersection(local)
        return frozenset(d + offset for d in found)

    def estimate(self, q) -> int:
        """An upper bound of the documents ``q`` matches, from document frequencies."""
        if isinstance(q, wq.Term):
            return self.doc_frequency(q.fieldname, q.text)
        if isinstance(q, wq.Phrase):
            return min((self.doc_frequency(q.fieldname, w) for w in q.words), default=0)
        if isinstance(q, wq.And):
            return min((self.estimate(sub) for sub in q.subqueries), default=0)
        if isinstance(q, wq.CompoundQuery):
            return sum(self.estimate(sub) for sub in q.subqueries)
        return self.count

    def postings(self, fieldname: str, text: str) -> tuple[array, array]:
        parts = [data.postings(leaf, fieldname, text) for leaf, _, data in self.leaves]
        parts = [p for p in parts if len(p[0])]
        if len(parts) == 1:
            return parts[0]
        ids, weights = array("I"), array("f")
        for i, w in parts:  # leaves are in document-number order
            ids.extend(i)
            weights.extend(w)
        return ids, weights

    def lengths(self, fieldname: str) -> Sequence[int] | None:
        def make():
            parts = [data.lengths(leaf, fieldname) for leaf, _, data in self.leaves]
            if any(p is None for p in parts):
                return None
            out = array("I")
            for p in parts:
                out.extend(p)
            return out
        return self.cached(("lengths", fieldname), make)

    def avg_length(self, fieldname: str) -> float:
        return self.cached(("avglen", fieldname), lambda: max(
            (self.reader.field_length(fieldname) or 0) / max(self.count, 1), 1.0))

    def idf(self, fieldname: str, text: str) -> float:
        # as Whoosh's BM25F: log(N / (df + 1)) + 1
        return math.log(max(self.count, 1) / (self.doc_frequency(fieldname, text) + 1)) + 1

    def doc_frequency(self, fieldname: str, text: str) -> int:
        """As the reader's, without looking up terms the small segments do not have."""
        n = 0
        for leaf, _, data in self.leaves:
            if data.count <= SMALL_SEGMENT and text not in data.term_set(leaf, fieldname):
                continue
            n += leaf.doc_frequency(fieldname, text)
        return n

    def query_docs(self, q) -> frozenset[int]:
        """Documents matching a query of Terms, Phrases, Or/DisMax/And (deletions included)."""
        if isinstance(q, wq.Term):
            return self.term_docs(q.fieldname, q.text)
        if isinstance(q, wq.CompoundQuery):
            key = ("qdocs", repr(q))
            docs = self._qcache.get(key)
            if docs is None:
                docs = self._query_docs(q)
                if len(self._qcache) > 64:
                    self._qcache.pop(next(iter(self._qcache)))
                self._qcache[key] = docs
            return docs
        return self._query_docs(q)

    def _query_docs(self, q) -> frozenset[int]:
        if isinstance(q, (wq.Or, wq.DisjunctionMax)):
            return self._merge([self.query_docs(s) for s in q.subqueries])
        if isinstance(q, wq.And):
            sets = sorted((self.query_docs(s) for s in q.subqueries), key=len)
            out = sets[0] if sets else frozenset()
            for s in sets[1:]:
                out = out & s
            return out
        if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            return frozenset()
        if isinstance(q, wq.Phrase):
            # Exact phrase matching reads positions of every document with all
            # the words; past PHRASE_EXACT_MAX such documents, all the words
            # anywhere in the field will do (ranking still favours the phrase).
            sets = sorted((self.term_docs(q.fieldname, w) for w in q.words), key=len)
            if not sets or not sets[0]:
                return frozenset()
            both = sets[0]
            for s in sets[1:]:
                both = both & s
            if len(both) > PHRASE_EXACT_MAX:
                return both
        # phrases and anything else: Whoosh, per segment (cached with the segment)
        key = ("q", repr(q))
        out = []
        for sub, offset in self.searcher.leaf_searchers():
            data = next(x[2] for x in self.leaves if x[1] == offset)

            def make(sub=sub, offset=offset):
                if isinstance(q, wq.Phrase):
                    return self._phrase_in_segment(q, sub, offset, both)
                return frozenset(d + offset for d in sub.docs_for_query(q))

            out.append(data.cached_docs(key, make))
        return self._merge(out)

    def lexicon(self, fieldname: str) -> list[str]:
        """Every term of ``fieldname`` in any segment, sorted (for fuzzy lookups)."""
        def make():
            parts = [data.sorted_terms(leaf, fieldname) for leaf, _, data in self.leaves]
            parts = [p for p in parts if p]
            return parts[0] if len(parts) == 1 else sorted(set().union(*parts))
        return self.cached(("lexicon", fieldname), make)

    def sort_key(self) -> array:
        def make():
            out = array("Q")
            for _, _, d in self.leaves:
                out += d.sort_key()
            return out
        return self.cached("sort_key", make)

    def deadline_orders(self) -> list[array]:
        return [data.order() for _, _, data in self.leaves]


# --------------------------------------------------------------- the engine
class SearchEngine:
    """Searches one index directory; keeps a searcher and caches between queries.

    Thread-safe: one search runs at a time per engine (Whoosh readers share
    file handles), which keeps the per-segment caches consistent as well.
    """

    def __init__(self, index_dir: str | Path, thesaurus: th.Thesaurus | None = None):
        self.index_dir = Path(index_dir)
        self.thesaurus = thesaurus or th.load()
        self._ix = None
        self._name: str | None = None
        self._snap: _Snapshot | None = None
        self._segcache: dict = {}
        self._lock = threading.RLock()

    def close(self) -> None:
        with self._lock:
            if self._snap is not None:
                self._snap.searcher.close()
            if self._ix is not None:
                self._ix.close()
            self._snap = None
            self._ix = None
            self._segcache.clear()

    def _snapshot(self) -> _Snapshot:
        name = current_name(self.index_dir)
        if self._ix is not None and name != self._name:
            self.close()  # rebuilt: another index is in use now
        if self._ix is None:
            self._ix = open_index(self.index_dir)
            self._name = name
        snap = self._snap
        if snap is not None:
            if self._ix.latest_generation() == snap.generation:
                return snap
            # Not Searcher.refresh(): in whoosh3 3.54 it reuses the readers of
            # superseded segments (deletions then come back). A new searcher
            # reopens the segments; what we derive from them is cached per segment.
            snap.searcher.close()
            self._snap = None
        searcher = self._ix.searcher()
        self._snap = _Snapshot(self._ix, searcher, self._segcache)
        return self._snap

    # ------------------------------------------------------------ search
    def search(self, text: str | None = "", *, filters: Mapping | None = None,
               sort: str = "relevance", page: int = 1, per_page: int = 10,
               extra_synonyms=None, today: date | None = None,
               now: datetime | None = None, facets=True) -> SearchResult:
        """See :func:`search`."""
        page = max(_int(page, 1), 1)
        per_page = min(max(_int(per_page, 10), 1), MAX_PER_PAGE)
        sort = sort if sort in SORTS else "relevance"
        today = _today(today, now)
        with self._lock, gc_paused():
            try:
                snap = self._snapshot()
            except IndexNeedsRebuild:
                return SearchResult(0, [], page, per_page, sort, "", notice="no_index")
            thesaurus = self.thesaurus.layered(extra_synonyms) if extra_synonyms else self.thesaurus
            plan = _Planner(snap, thesaurus).plan(text or "")
            return self._run(snap, plan, filters or {}, sort, page, per_page, today, facets)

    def _run(self, snap: _Snapshot, plan: _Plan, filters: Mapping, sort: str, page: int,
             per_page: int, today: date, with_facets) -> SearchResult:
        visible = snap.visible(today)
        active = _clean_filters(snap, filters, today)
        # documents matching the text (set algebra over cached posting sets)
        notice = plan.notice
        if plan.query is None:
            matched = visible
            sort = "deadline"
        else:
            # Every word (or term) of the query must match; only when no document
            # has them all do documents with some of them count (notice "some_words").
            matched = frozenset()
            if len(plan.unit_queries) > 1:
                units = sorted(plan.unit_queries, key=snap.estimate)
                matched = visible & snap.query_docs(units[0])
                for u in units[1:]:
                    if not matched:
                        break
                    matched = snap.restrict(u, matched)
                if not matched:
                    notice = notice or "some_words"
            if not matched:
                matched = visible & snap.query_docs(plan.query)
        # filters: one set per facet (values of one facet are alternatives)
        filter_sets = {name: _union(snap, name, values) for name, values in active.items()
                       if name != "deadline"}
        if "deadline" in active:
            filter_sets["deadline"] = _deadline_set(snap, visible, active["deadline"], today)
        results = matched
        for s in sorted(filter_sets.values(), key=len):
            results = results & s
        total = len(results)
        start = (page - 1) * per_page
        end = start + per_page
        # the page
        if sort == "deadline":
            scored = [(d, 0.0) for d in _deadline_page(snap, results, start, end)]
        else:
            scored = _relevance_page(snap, plan, results, start, end)
        hits = [_hit(snap, d, score, plan) for d, score in scored]
        names = _facet_names(with_facets)
        facet_counts = {}
        if names and plan.query is None:  # a listing: the same counts until the index changes
            key = ("listing-facets", today.toordinal(), names,
                   tuple(sorted((k, tuple(v) if isinstance(v, list) else repr(v))
                                for k, v in active.items())))
            cached = snap.cached(key, lambda: _facets(snap, matched, filter_sets, visible,
                                                      today, names))
            facet_counts = {k: dict(v) for k, v in cached.items()}
        elif names:
            facet_counts = _facets(snap, matched, filter_sets, visible, today, names)
        did_you_mean = plan.did_you_mean(snap) if plan.corrections else None
        return SearchResult(total=total, hits=hits, page=page, per_page=per_page, sort=sort,
                            query=plan.normalised, facets=facet_counts,
                            did_you_mean=did_you_mean, notice=notice,
                            expansions=plan.expansions)


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _today(today: date | None, now: datetime | None) -> date:
    if isinstance(today, datetime):
        today = today.date()
    if today is not None:
        return today
    now = now or datetime.now(OSLO)
    if now.tzinfo is None:
        return now.date()
    return now.astimezone(OSLO).date()


def _as_list(value) -> list:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return [v for v in value if v is not None and v != ""]
    return [value]


def _clean_filters(snap: _Snapshot, filters: Mapping, today: date) -> dict:
    """Known filters with their values; unknown names and empty values are ignored."""
    active: dict = {}
    for raw_name, raw_value in filters.items():
        if raw_name in ("deadline_within", "within", "within_days", "deadline_before",
                        "deadline_after", "deadline"):
            window = active.setdefault("deadline", {})
            if raw_name in ("deadline_within", "within", "within_days", "deadline"):
                days = _int(raw_value, -1) if not isinstance(raw_value, bool) else -1
                if days >= 0:
                    window["before"] = today + timedelta(days=min(days, 36500))
            else:
                try:
                    d = raw_value if isinstance(raw_value, date) else date.fromisoformat(str(raw_value))
                except ValueError:
                    d = None
                if d is not None:
                    window["before" if raw_name == "deadline_before" else "after"] = d
            if not window:
                del active["deadline"]
            continue
        name = FILTER_ALIASES.get(str(raw_name))
        if name is None:
            continue
        values = [str(v) for v in _as_list(raw_value)]
        if not values:
            continue
        _, multi = FACET_FIELDS[name]
        if multi:
            values = [v.strip().lower() for v in values]
        elif name == "location":
            known = {k.casefold(): k for k in snap.values("location")}
            values = [known.get(v.strip().casefold(), v) for v in values]
        active.setdefault(name, []).extend(values)
    return active


def _union(snap: _Snapshot, facet: str, values: Iterable[str]) -> frozenset[int]:
    return snap._merge([s for v in dict.fromkeys(values) for s in snap.value_sets(facet, v)])


def _deadline_set(snap: _Snapshot, visible: frozenset[int], window: dict,
                  today: date) -> frozenset[int]:
    """Visible documents whose deadline is in the window (cached per segment)."""
    lo = window.get("after", today).toordinal()
    hi = window.get("before", date.max).toordinal()

    def make():
        docs = snap._merge([data.deadline_docs(lo, hi) for _, _, data in snap.leaves])
        return docs & visible

    return snap.cached(("deadline", today.toordinal(), lo, hi), make)


def _deadline_page(snap: _Snapshot, results: frozenset[int], start: int, end: int) -> list[int]:
    if not results or start >= len(results):
        return []
    key = snap.sort_key()
    if len(results) * 8 > snap.count:
        merged = heapq.merge(*snap.deadline_orders(), key=key.__getitem__)
        return list(islice(filter(results.__contains__, merged), start, end))
    return heapq.nsmallest(end, results, key=key.__getitem__)[start:]


# Up to this many documents are scored exactly; beyond it (a very broad query)
# the ones with the query's words in title or tags, or matching all its words,
# are scored, and of those at most this many, soonest deadline first.
EXACT_LIMIT = 1000
PHRASE_EXACT_MAX = 1000


def _relevance_page(snap: _Snapshot, plan: _Plan, results: frozenset[int], start: int,
                    end: int) -> list[tuple[int, float]]:
    if not results or start >= len(results):
        return []
    candidates = results
    if len(results) > EXACT_LIMIT and end <= EXACT_LIMIT // 2:
        candidates = _candidates(snap, plan, results, end)
    scores = _score(snap, plan.score_query, candidates)
    ids = snap.sort_ids
    best = heapq.nsmallest(end, scores.items(), key=lambda kv: (-round(kv[1], 9), ids[kv[0]]))
    if len(best) < end:  # matched, but by nothing that scores (cannot really happen): append
        rest = sorted(candidates - scores.keys(), key=ids.__getitem__)[:end - len(best)]
        best += [(d, 0.0) for d in rest]
    return best[start:end]


K1, B = 1.2, 0.75


def _score(snap: _Snapshot, q, docs: frozenset[int]) -> dict[int, float]:
    """BM25 scores of ``docs`` for a query of Terms, And, Or and DisMax.

    Only the (term, document) pairs that match are touched: each term's
    documents are intersected with ``docs`` first (a set operation), so the
    work follows the candidates, not the length of the posting lists.
    """
    if isinstance(q, wq.Term):
        hit = snap.term_docs_in(q.fieldname, q.text, docs)
        if not hit:
            return {}
        ids, weights = snap.postings(q.fieldname, q.text)
        lengths = snap.lengths(q.fieldname)
        idf = snap.idf(q.fieldname, q.text)
        c1 = idf * q.boost * (K1 + 1)
        if lengths is None:  # not a text field: no length normalisation
            return {d: c1 * weights[bisect.bisect_left(ids, d)]
                    / (weights[bisect.bisect_left(ids, d)] + K1) for d in hit}
        c2, c3 = K1 * (1 - B), K1 * B / snap.avg_length(q.fieldname)
        out = {}
        for d in hit:
            tf = weights[bisect.bisect_left(ids, d)]
            out[d] = c1 * tf / (tf + c2 + c3 * lengths[d])
        return out
    if isinstance(q, wq.And):
        parts = sorted((_score(snap, sub, docs) for sub in q.subqueries), key=len)
        if not parts or not parts[0]:
            return {}
        keys = set(parts[0])
        for p in parts[1:]:
            keys &= p.keys()
        return {d: q.boost * sum(p[d] for p in parts) for d in keys}
    if isinstance(q, DisMax):
        parts = [p for p in (_score(snap, sub, docs) for sub in q.subqueries) if p]
        best: dict[int, float] = {}
        total: dict[int, float] = {}
        for p in parts:
            for d, v in p.items():
                if v > best.get(d, 0.0):
                    best[d] = v
                total[d] = total.get(d, 0.0) + v
        t = q.tiebreak
        return {d: q.boost * (m + t * (total[d] - m)) for d, m in best.items()}
    if isinstance(q, wq.Or):
        out: dict[int, float] = {}
        for p in (_score(snap, sub, docs) for sub in q.subqueries):
            for d, v in p.items():
                out[d] = out.get(d, 0.0) + v
        return {d: q.boost * v for d, v in out.items()} if q.boost != 1 else out
    return {}


def _candidates(snap: _Snapshot, plan: _Plan, results: frozenset[int], end: int) -> frozenset[int]:
    """At most EXACT_LIMIT documents most likely to rank first, for a very broad query.

    Documents matching every word (unit) come first, then those of the rarest
    words (the highest weights), a word's title/tag matches before its body
    matches, and among equals the soonest deadlines.
    """
    key = snap.sort_key()

    def take(docs, n):
        if len(docs) <= n:
            return docs
        if len(docs) * 8 > snap.count:
            # a large share of all documents: the first n of them in the deadline
            # order are found after a few n steps, a heap would look at all
            merged = heapq.merge(*snap.deadline_orders(), key=key.__getitem__)
            return frozenset(islice(filter(docs.__contains__, merged), n))
        return frozenset(heapq.nsmallest(n, docs, key=key.__getitem__))

    units = sorted(((snap.restrict(u, results), u) for u in plan.unit_queries),
                   key=lambda x: len(x[0]))
    cand: set[int] = set()
    if len(units) > 1:
        every = units[0][0]
        for docs, _ in units[1:]:
            every = every & docs
        cand |= take(every, EXACT_LIMIT)
    for docs, unit in units:
        room = EXACT_LIMIT - len(cand)
        if room <= 0:
            break
        extra = docs - cand
        if len(extra) > room:
            in_heads = snap._merge([snap.term_docs_in(q.fieldname, q.text, extra)
                                    for q in _leaves(unit)
                                    if isinstance(q, wq.Term) and q.fieldname.startswith("head_")])
            first = take(in_heads, room)
            cand |= first
            extra = take(extra - first, EXACT_LIMIT - len(cand))
        cand |= extra
    return frozenset(cand) if len(cand) >= min(end, len(results)) else results


DEFAULT_FACETS = ("kind", "level", "discipline", "sector", "language", "location", "deadline")
ALL_FACETS = (*FACET_FIELDS, "deadline")


def _facet_names(facets) -> tuple[str, ...]:
    if facets is True:
        return DEFAULT_FACETS
    if not facets:
        return ()
    if facets == "all":
        return ALL_FACETS
    return tuple(f for f in facets if f in ALL_FACETS)


def _facets(snap: _Snapshot, matched: frozenset[int], filter_sets: dict, visible: frozenset[int],
            today: date, names=DEFAULT_FACETS) -> dict[str, dict[str, int]]:
    """Counts per facet value among the results, ignoring the facet's own filter.

    (So the kinds other than the chosen one still show how many they would give.)
    Counted from per-document value codes: one C-level pass over the results.
    """
    out: dict[str, dict[str, int]] = {}
    bases: dict[str | None, frozenset[int]] = {}

    def base_of(name):
        key = name if name in filter_sets else None
        base = bases.get(key)
        if base is None:
            base = matched
            for other, fs in sorted(filter_sets.items(), key=lambda kv: len(kv[1])):
                if other != name:
                    base = base & fs
            bases[key] = base
        return base

    # The one-value facets counted on the same documents share one pass over
    # them (a pass costs as much as the whole rest for a broad query).
    # Groups are kept to about PACK_COMBINATIONS value combinations, as each
    # combination found is then split up in Python.
    groups: list[list[str]] = []
    size = PACK_COMBINATIONS + 1
    for n in names:
        if n in FACET_FIELDS and not FACET_FIELDS[n][1] and n not in filter_sets:
            k = len(snap.facet_codes(n)[0]) + 1
            if size * k > PACK_COMBINATIONS:
                groups.append([])
                size = 1
            groups[-1].append(n)
            size *= k
    others: dict[int, frozenset[int]] = {}

    def count(kind, base, make) -> Counter:
        # Most of the visible documents (a broad query): the visible documents'
        # counts (the same for every query) less those of the few others.
        if len(base) > COMPLEMENT_MIN and len(base) * 2 > len(visible):
            full = snap.cached(("facet-visible", today.toordinal(), kind), lambda: make(visible))
            rest = others.get(id(base))
            if rest is None:
                rest = others[id(base)] = visible - base
            return full - make(rest)
        return make(base)

    counters: dict[str, Counter] = {}
    for group in (tuple(g) for g in groups if len(g) > 1):
        packed = snap.packed_codes(group)
        combined = count(group, base_of(None), lambda docs, get=packed.__getitem__: Counter(map(get, docs)))
        for name in group:
            counters[name] = Counter()
        for code, n in combined.items():
            for i, name in enumerate(group):
                c = (code >> (PACK_BITS * i)) & PACK_MASK
                if c:
                    counters[name][c - 1] += n
    for name in names:
        base = base_of(name)
        if name == "deadline":
            out[name] = {str(w): len(base & _deadline_set(
                snap, visible, {"before": today + timedelta(days=w)}, today))
                for w in DEADLINE_WINDOWS}
            continue
        values, codes = snap.facet_codes(name)
        if name in counters:
            counter = counters[name]
        elif FACET_FIELDS[name][1]:  # several values a document
            counter = count(name, base, lambda docs, get=codes.__getitem__: Counter(
                chain.from_iterable(map(get, docs))))
        else:
            counter = count(name, base, lambda docs, get=codes.__getitem__: Counter(map(get, docs)))
        counter.pop(-1, None)
        limit = 30 if name == "tag" else None
        out[name] = dict(sorted(((values[c], n) for c, n in counter.items()),
                                key=lambda kv: (-kv[1], kv[0]))[:limit])
    return out


# --------------------------------------------------------------- snippets
SNIPPET_CHARS = 240


def _hit(snap: _Snapshot, docnum: int, score: float, plan: _Plan) -> Hit:
    f = snap.searcher.stored_fields(docnum)
    lang = f.get("language") or "nb"
    marks = plan.marks(lang)
    title = f.get("title") or ""
    deadline = f.get("deadline")
    return Hit(
        id=int(f["id"]),
        external_id=f.get("external_id"),
        title=title,
        kind=f.get("kind") or "",
        score=score,
        snippet=highlight(f.get("description") or "", lang, marks, SNIPPET_CHARS),
        title_html=highlight(title, lang, marks, None),
        language=lang,
        organisation=f.get("organisation") or "",
        sector=f.get("sector") or "",
        municipality=f.get("municipality") or "",
        deadline=date.fromisoformat(deadline) if deadline else None,
        levels=[x for x in (f.get("levels") or "").split(",") if x],
        tags=[x for x in (f.get("tags") or "").split(",") if x],
    )


def highlight(text: str, lang: str, marks: tuple[set[str], set[str]], max_chars: int | None) -> str:
    """``text`` as HTML: everything escaped, matching words in ``<mark>``.

    ``marks`` is (stems in ``lang``, plain lower-case words). With
    ``max_chars``, the passage of that length with the most matches is chosen.
    """
    text = normalise(text)
    if not text:
        return ""
    stems, plain = marks
    stem = stem_nb if lang == "nb" else stem_en
    toks = words(text)
    hits = [(s, e) for w, s, e in toks if w in plain or stem(w) in stems] if (stems or plain) else []
    lo, hi = 0, len(text)
    if max_chars is not None and len(text) > max_chars:
        if hits:
            # the window with the most matches, starting at a match
            starts = [s for s, _ in hits]
            best, best_n = starts[0], 0
            for i, s in enumerate(starts):
                n = bisect.bisect_right(starts, s + max_chars - 20) - i
                if n > best_n:
                    best, best_n = s, n
            lo = max(0, best - 40)
            dot, newline = text.rfind(". ", 0, best), text.rfind("\n", 0, best)
            sentence = max(dot + 2 if dot >= 0 else 0, newline + 1 if newline >= 0 else 0)
            if best - sentence < 80:
                lo = sentence
            elif lo > 0:
                space = text.find(" ", lo)
                lo = space + 1 if 0 <= space < best else lo
        hi = min(len(text), lo + max_chars)
        if hi < len(text):
            space = text.rfind(" ", lo, hi)
            if space > lo:
                hi = space
    out = []
    if lo > 0:
        out.append("… ")
    pos = lo
    for s, e in hits:
        if s < lo or e > hi:
            continue
        out.append(html.escape(text[pos:s]))
        out.append("<mark>" + html.escape(text[s:e]) + "</mark>")
        pos = e
    out.append(html.escape(text[pos:hi]))
    if hi < len(text):
        out.append(" …")
    return "".join(out)


# --------------------------------------------------------------- understanding the query
_QUOTE_RE = re.compile(r'["“”«»]')


@dataclass
class _Alt:
    """One way of matching a unit: a term (one or more words) in a language."""

    words: tuple[str, ...]
    lang: str | None  # None: both languages and the name fields; "raw": name fields only
    weight: float
    compounds: bool = False  # look for the (single) word inside compounds too
    stemmed: bool = False  # words are index terms already (corrections)


@dataclass
class _Unit:
    source: str  # the words as typed
    alts: list[_Alt]
    form: str | None = None  # collaboration form named by the unit (→ kind)
    levels: set[str] = field(default_factory=set)  # study levels named by the unit
    phrase: bool = False


@dataclass
class _Correction:
    start: int
    end: int
    original: str
    field: str
    term: str


@dataclass
class _Plan:
    query: object | None
    key: tuple
    normalised: str
    original: str
    terms: dict[str, set[str]]
    plain: set[str]
    corrections: list[_Correction]
    notice: str | None
    expansions: dict[str, list[str]]
    unit_queries: list = field(default_factory=list)
    score_query: object | None = None  # plan.query with phrases as conjunctions (cheaper)

    def marks(self, lang: str) -> tuple[set[str], set[str]]:
        return self.terms.get(lang, set()), self.plain

    def did_you_mean(self, snap: _Snapshot) -> str | None:
        text = self.original
        out, pos = [], 0
        for c in sorted(self.corrections, key=lambda c: c.start):
            surface = _surface(snap, c.field, c.term) or c.term
            if c.original[:1].isupper():
                surface = surface[:1].upper() + surface[1:]
            out.append(text[pos:c.start])
            out.append(surface)
            pos = c.end
        out.append(text[pos:])
        suggestion = re.sub(r"\s+", " ", "".join(out)).strip()
        return suggestion if suggestion and suggestion != text.strip() else None


def _surface(snap: _Snapshot, fieldname: str, term: str) -> str | None:
    """A word as written in the documents, for an indexed term (a stem)."""
    try:
        docnums = list(islice(snap.reader.postings(fieldname, term).all_ids(), 5))
    except Exception:  # the term vanished (deleted segment): no suggestion
        return None
    lang = "en" if fieldname.endswith("_en") else "nb"
    stem = stem_nb if lang == "nb" else stem_en
    found = set()
    for docnum in docnums:
        f = snap.searcher.stored_fields(docnum)
        if fieldname == "names":
            source = f.get("organisation") or ""
        elif fieldname == "place":
            source = f.get("municipality") or ""
        else:
            source = "\n".join([f.get("title") or "", (f.get("tags") or "").replace(",", " "),
                                f.get("description") or ""])
        for w, _, _ in words(normalise(source)):
            if w == term or (fieldname not in ("names", "place") and stem(w) == term):
                found.add(w)
    # the shortest form is usually the base form ("ergoterapeut", not "ergoterapeutene")
    return min(found, key=lambda w: (len(w), w)) if found else None


class _Planner:
    def __init__(self, snap: _Snapshot, thesaurus: th.Thesaurus):
        self.snap = snap
        self.reader = snap.reader
        self.thesaurus = thesaurus
        self._df: dict[tuple[str, str], int] = {}

    def df(self, fieldname: str, term: str) -> int:
        key = (fieldname, term)
        n = self._df.get(key)
        if n is None:
            n = self.snap.doc_frequency(fieldname, term)
            self._df[key] = n
        return n

    # -------------------------------------------------------- parsing
    def plan(self, text: str) -> _Plan:
        notice = None
        text = normalise(text)
        if len(text) > MAX_QUERY_CHARS:
            text = text[:MAX_QUERY_CHARS]
            notice = "truncated"
        # quoted spans are phrases; an unbalanced quote is ignored
        quotes = [m.start() for m in _QUOTE_RE.finditer(text)]
        if len(quotes) % 2:
            quotes = quotes[:-1]
        spans = list(zip(quotes[::2], quotes[1::2], strict=True))
        toks = words(text)
        if len(toks) > MAX_QUERY_WORDS:
            toks = toks[:MAX_QUERY_WORDS]
            notice = "truncated"
        units: list[_Unit] = []
        corrections: list[_Correction] = []
        expansions: dict[str, list[str]] = {}
        i = 0
        while i < len(toks):
            span = next(((a, b) for a, b in spans if a < toks[i][1] < b), None)
            if span is not None:
                j = i
                while j < len(toks) and toks[j][1] < span[1]:
                    j += 1
                unit = self._phrase_unit(toks[i:j])
                if unit is not None:
                    units.append(unit)
                i = j
                continue
            n, unit = self._thesaurus_unit(toks, i)
            if unit is not None:
                units.append(unit)
                expansions[unit.source] = sorted({" ".join(a.words) for a in unit.alts} - {unit.source})
                i += n
                continue
            unit = self._word_unit(toks[i], corrections, expansions)
            if unit is not None:
                units.append(unit)
            i += 1
        normalised = " ".join(w for w, _, _ in toks)
        clauses, terms, plain = [], {"nb": set(), "en": set()}, set()
        for unit in units:
            clause = self._clause(unit, terms, plain)
            if clause is not None:
                clauses.append(clause)
        if not clauses:
            if toks and not units:
                notice = "stopwords_only"
            if toks and units:
                # words the index does not have and no correction either: nothing matches
                q = wq.NullQuery
                return _Plan(q, ("null",), normalised, text, terms, plain, corrections, notice,
                             expansions)
            return _Plan(None, (), normalised, text, terms, plain, [], notice, expansions)
        q = clauses[0] if len(clauses) == 1 else wq.Or(clauses)
        return _Plan(q, (repr(q),), normalised, text, terms, plain, corrections, notice, expansions,
                     unit_queries=clauses, score_query=_scoring_form(q))

    def _phrase_unit(self, toks) -> _Unit | None:
        ws = tuple(w for w, _, _ in toks)
        if not ws:
            return None
        if len(ws) == 1:
            return self._word_unit(toks[0], [], {})
        return _Unit(" ".join(ws), [_Alt(ws, None, W_ORIGINAL)], phrase=True)

    def _thesaurus_unit(self, toks, i) -> tuple[int, _Unit | None]:
        forms = [th.TokenForms.of(w) for w, _, _ in toks[i:i + th.MAX_TERM_WORDS]]
        n, concepts = self.thesaurus.match(forms, 0)
        if not n:
            return 0, None
        ws = tuple(w for w, _, _ in toks[i:i + n])
        if all(w in NB_STOPWORDS and w in EN_STOPWORDS for w in ws):
            return 0, None
        return n, self._concept_unit(" ".join(ws), ws, concepts, W_ORIGINAL)

    def _concept_unit(self, source: str, ws: tuple[str, ...], concepts, weight: float) -> _Unit:
        alts = [_Alt(ws, None, weight, compounds=len(ws) == 1)]
        form = None
        levels = {c.level for c in concepts if c.level}  # a level word favours that level
        seen = {(ws, None)}
        for c in concepts:
            if c.level:
                continue  # level words are no synonyms of each other
            w = W_FORM_WORD if c.form else W_SYNONYM
            if c.form and c.form_kind == "opportunity":
                form = c.form
            for t in c.terms:
                tw = tuple(th.term_words(t.text))
                if not tw or (tw, t.lang) in seen:
                    continue
                seen.add((tw, t.lang))
                if levels and self._levels_of(t.text) - levels:
                    continue  # "bacheloroppgave" does not expand to "masteroppgave"
                alts.append(_Alt(tw, t.lang, weight * w,
                                 compounds=len(tw) == 1 and t.lang != "en" and not c.form))
        return _Unit(source, _without_redundant_phrases(alts), form=form, levels=levels)

    def _levels_of(self, text: str) -> set[str]:
        return {c.level for c in self.thesaurus.lookup(text) if c.level}

    def _word_unit(self, tok, corrections: list, expansions: dict) -> _Unit | None:
        w, s, e = tok
        if (w in NB_STOPWORDS or w in EN_STOPWORDS) and not self._known(w):
            return None  # a stop word in one language, unknown in the other
        if len(w) > MAX_TOKEN_CHARS:
            return None
        unit = _Unit(w, [_Alt((w,), None, W_ORIGINAL, compounds=True)])
        if self._known(w):
            return unit
        # unknown to the index: the nearest indexed words instead
        fixes = self._corrections(w)
        if not fixes:
            return unit
        alts = []
        best = fixes[0]
        corrections.append(_Correction(s, e, w, best[1], best[2]))
        for dist, fieldname, term in fixes:
            weight = W_FUZZY * (1.0 - 0.15 * (dist - 1))
            lang = "en" if fieldname.endswith("_en") else ("nb" if fieldname.endswith("_nb") else None)
            alts.append(_Alt((term,), lang or "raw", weight, stemmed=True))
            concepts = self.thesaurus.match_stem(term) if lang else []
            if concepts:
                cu = self._concept_unit(term, (term,), concepts, weight)
                alts.extend(cu.alts[1:])
                unit.form = unit.form or cu.form
                unit.levels |= cu.levels
        expansions[w] = sorted({t for _, _, t in fixes})
        unit.alts = alts
        return unit

    def _known(self, w: str) -> bool:
        nb, en = stem_nb(w), stem_en(w)
        if w not in NB_STOPWORDS and (self.df("body_nb", nb) or self.df("head_nb", nb)):
            return True
        if w not in EN_STOPWORDS and (self.df("body_en", en) or self.df("head_en", en)):
            return True
        if self.df("names", w) or self.df("place", w):
            return True
        return bool(w not in NB_STOPWORDS and len(nb) >= MIN_COMPOUND_STEM
                    and self._compounds("body_nb", nb))

    def _corrections(self, w: str) -> list[tuple[int, str, str]]:
        """(distance, field, term) of indexed terms near ``w``, best first.

        Damerau-Levenshtein distance 1 (words up to 6 letters) or 2, same first
        letter, in the body vocabularies (bokmål and English stems) and in
        organisation and place names.
        """
        if len(w) < 4 or w.isdigit():
            return []
        maxdist = 1 if len(w) <= 6 else 2
        found: dict[tuple[str, str], int] = {}
        probes = [("body_nb", stem_nb(w)), ("body_en", stem_en(w)), ("names", w), ("place", w)]
        for fieldname, text in probes:
            for cand in _terms_within(self.snap, fieldname, text, maxdist):
                d = _distance(text, cand, maxdist)
                if d <= maxdist:
                    found[(fieldname, cand)] = min(d, found.get((fieldname, cand), d))
        if not found:
            return []
        ranked = sorted(found.items(), key=lambda kv: (kv[1], -self.df(kv[0][0], kv[0][1]),
                                                       kv[0][1]))
        best = ranked[0][1]
        return [(d, f, t) for (f, t), d in ranked if d == best][:MAX_FUZZY]

    # -------------------------------------------------------- compounds
    def _compounds(self, fieldname: str, stem: str) -> list[str]:
        """Indexed terms of which ``stem`` is the first or last part."""
        key = ("compounds", fieldname, stem)
        cached = self.snap._cache.get(key)
        if cached is not None:
            return cached
        out: set[str] = set()
        if len(stem) >= MIN_COMPOUND_STEM:
            minlen = len(stem) + MIN_COMPOUND_REST
            for b in self.reader.expand_prefix(fieldname, stem):
                t = b.decode("utf-8")
                if len(t) >= minlen:
                    out.add(t)
            rstem = stem[::-1]
            for leaf, _, data in self.snap.leaves:
                rev = data.reversed_terms(leaf, fieldname)
                i = bisect.bisect_left(rev, rstem)
                while i < len(rev) and rev[i].startswith(rstem):
                    if len(rev[i]) >= minlen:
                        out.add(rev[i][::-1])
                    i += 1
        ranked = sorted(out, key=lambda t: (-self.df(fieldname, t), t))[:MAX_COMPOUNDS]
        self.snap._cache[key] = ranked
        return ranked

    # -------------------------------------------------------- to Whoosh
    def _clause(self, unit: _Unit, terms: dict[str, set[str]], plain: set[str]):
        """One unit: the best of its alternatives, plus a small bonus for the
        collaboration form (kind) and study level it names."""
        subs = []
        for alt in unit.alts:
            subs.extend(self._alt_queries(alt, terms, plain))
        # the same term reached by several alternatives counts once, at its best weight
        best: dict = {}
        for q in subs:
            key = (type(q).__name__, q.fieldname, tuple(q.words) if isinstance(q, wq.Phrase) else q.text)
            if key not in best or best[key].boost < q.boost:
                best[key] = q
        subs = list(best.values())
        clause = None
        if len(subs) == 1:
            clause = subs[0]
        elif subs:
            clause = DisMax(subs, tiebreak=TIEBREAK)
        bonus = []
        if unit.form:
            bonus.append(wq.Term("kind", unit.form, boost=W_FORM_KIND))
        bonus.extend(wq.Term("levels", lv, boost=W_LEVEL) for lv in sorted(unit.levels))
        if not bonus:
            return clause
        return wq.Or(([clause] if clause is not None else []) + bonus)

    def _alt_queries(self, alt: _Alt, terms: dict[str, set[str]], plain: set[str]) -> list:
        out = []
        if alt.lang == "raw":  # a corrected name
            for fieldname, boost in (("names", NAMES_BOOST), ("place", PLACE_BOOST)):
                out.extend(self._term_or_phrase(fieldname, alt.words, alt.weight * boost))
            plain.update(alt.words)
            return out
        for lang, stem, stops in (("nb", stem_nb, NB_STOPWORDS), ("en", stem_en, EN_STOPWORDS)):
            if alt.lang not in (None, lang):
                continue
            stems = alt.words if alt.stemmed else tuple(stem(w) for w in alt.words if w not in stops)
            if not stems:
                continue
            head, body = f"head_{lang}", f"body_{lang}"
            found = self._term_or_phrase(head, stems, alt.weight * HEAD_BOOST)
            found += self._term_or_phrase(body, stems, alt.weight * BODY_BOOST)
            out.extend(found)
            if found and (len(stems) == 1 or alt.weight >= W_ORIGINAL):
                terms[lang].update(stems)  # (words of expanded phrases are not highlighted alone)
            if lang == "nb" and alt.compounds and len(stems) == 1:
                for fieldname, boost in ((head, HEAD_BOOST), (body, BODY_BOOST)):
                    # compounds are looked up in the body's vocabulary (titles and
                    # tags mostly repeat it), then searched in both fields
                    for t in self._compounds(body, stems[0]):
                        out.append(wq.Term(fieldname, t, boost=alt.weight * boost * W_COMPOUND))
                        terms[lang].add(t)
        if alt.lang is None:
            for fieldname, boost in (("names", NAMES_BOOST), ("place", PLACE_BOOST)):
                out.extend(self._term_or_phrase(fieldname, alt.words, alt.weight * boost))
            plain.update(w for w in alt.words if self.df("names", w) or self.df("place", w))
        return out

    def _term_or_phrase(self, fieldname: str, ws: tuple[str, ...], boost: float) -> list:
        if any(not self.df(fieldname, w) for w in ws):
            return []
        if len(ws) == 1:
            return [wq.Term(fieldname, ws[0], boost=boost)]
        return [wq.Phrase(fieldname, list(ws), boost=boost)]


def _scoring_form(q):
    """The query for ranking documents already known to match: a phrase becomes
    the conjunction of its words (Whoosh's phrase matcher reads positions of
    every document having the words; within matches the difference is small)."""
    if isinstance(q, wq.Phrase):
        return wq.And([wq.Term(q.fieldname, w) for w in q.words], boost=q.boost)
    if isinstance(q, DisMax):
        return DisMax([_scoring_form(s) for s in q.subqueries], boost=q.boost, tiebreak=q.tiebreak)
    if isinstance(q, wq.CompoundQuery):
        return q.__class__([_scoring_form(s) for s in q.subqueries], boost=q.boost)
    return q


def _leaves(q):
    if isinstance(q, wq.CompoundQuery):
        for sub in q.subqueries:
            yield from _leaves(sub)
    else:
        yield q


def _without_redundant_phrases(alts: list[_Alt]) -> list[_Alt]:
    """Drop expanded phrases that contain a one-word alternative of the same unit.

    ("veiledet praksis" adds nothing where "praksis" is an alternative: every
    document it matches is matched anyway; phrases are the costly queries.)
    """
    singles = {(a.words[0], a.lang) for a in alts if len(a.words) == 1}
    out = []
    for a in alts:
        if len(a.words) > 1 and a.weight < W_ORIGINAL and any(
                (w, a.lang) in singles or (w, None) in singles for w in a.words):
            continue
        out.append(a)
    return out


def _terms_within(snap: _Snapshot, fieldname: str, text: str, maxdist: int) -> list[str]:
    """Indexed terms of a field within ``maxdist`` edits of ``text`` (same first letter)."""
    return terms_within(snap.lexicon(fieldname), text, maxdist)


def terms_within(terms: list[str], text: str, maxdist: int) -> list[str]:
    """The terms of a sorted list within ``maxdist`` edits (optimal string alignment:
    a transposition is one edit) of ``text``, with the same first letter.

    Walks the list as a trie: the edit-distance row of a prefix is computed
    once for all the terms sharing it, and when no row entry is within
    ``maxdist`` the whole prefix is skipped with one bisect. (Whoosh's
    Levenshtein automaton took up to 120 ms to build for a long word at
    distance 2; this walk visits a few hundred prefixes.)
    """
    if not text or not terms:
        return []
    first = text[0]
    lo = bisect.bisect_left(terms, first)
    hi = bisect.bisect_left(terms, first + "\U0010ffff", lo)
    n = len(text)
    limit = maxdist + 1
    # rows[k]: distances between text[:j] and the current term's first k letters
    rows: list[list[int]] = [list(range(n + 1))]
    current = ""  # the prefix the rows are for (rows[k] for current[:k])
    out: list[str] = []
    i = lo
    while i < hi:
        term = terms[i]
        c = 0
        m = min(len(term), len(current), len(rows) - 1)
        while c < m and term[c] == current[c]:
            c += 1
        del rows[c + 1:]
        dead = 0
        for k in range(c, len(term)):
            ch = term[k]
            prev = rows[k]
            row = [k + 1] + [limit] * n
            best = k + 1
            for j in range(1, n + 1):
                v = prev[j - 1] if text[j - 1] == ch else prev[j - 1] + 1
                if prev[j] + 1 < v:
                    v = prev[j] + 1
                if row[j - 1] + 1 < v:
                    v = row[j - 1] + 1
                if k and j > 1 and text[j - 1] == term[k - 1] and text[j - 2] == ch \
                        and rows[k - 1][j - 2] + 1 < v:
                    v = rows[k - 1][j - 2] + 1
                row[j] = v
                if v < best:
                    best = v
            rows.append(row)
            # A row's minimum never falls by more than a transposition can
            # take back from the row before it: past both, the prefix is dead.
            if best > maxdist and min(prev) >= maxdist:
                dead = k + 1
                break
        if dead:
            current = term[:dead]
            i = bisect.bisect_left(terms, current + "\U0010ffff", i, hi)
            continue
        current = term
        if rows[len(term)][n] <= maxdist:
            out.append(term)
        i += 1
    return out


def _distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, capped at limit+1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        row_min = i
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            row_min = min(row_min, v)
        if row_min > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


# --------------------------------------------------------------- garbage collection
_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


@contextlib.contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector while a search runs.

    A search builds large short-lived sets of document numbers (freed by
    reference counting when it ends; it makes no reference cycles). A
    collection that happens meanwhile walks every one of them, and those it
    finds alive it keeps walking in older generations: at 100,000 documents
    that cost up to 25 ms a query. Nested and concurrent pauses are counted;
    the collector runs again when the last one ends.
    """
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


# --------------------------------------------------------------- module API
_engines: dict[str, SearchEngine] = {}
_engines_lock = threading.Lock()


def get_engine(index_dir: str | Path) -> SearchEngine:
    """The (cached) engine of ``index_dir``; it follows index updates by itself."""
    key = str(Path(index_dir).resolve())
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = SearchEngine(key)
            _engines[key] = engine
        return engine


def close_engines() -> None:
    with _engines_lock:
        for engine in _engines.values():
            engine.close()
        _engines.clear()


def search(index_dir: str | Path, text: str | None = "", *, filters: Mapping | None = None,
           sort: str = "relevance", page: int = 1, per_page: int = 10, extra_synonyms=None,
           today: date | None = None, now: datetime | None = None,
           facets=True) -> SearchResult:
    """Search published, unexpired opportunities.

    ``filters``: ``kind``, ``level``, ``sector``, ``language``, ``location``
    (alias ``municipality``), ``discipline`` (alias ``domain``), ``tag`` — each
    a value or a list of values (alternatives) — and ``deadline_within``
    (days), ``deadline_before``/``deadline_after`` (dates). Unknown names and
    values are ignored. ``sort``: "relevance" or "deadline" (an empty query
    always lists by deadline). ``facets``: True for kind, level, discipline,
    sector, language, location and deadline window counts; "all" adds tags; or
    a list of names; False for none. ``extra_synonyms``: see
    :meth:`search_index.thesaurus.Thesaurus.layered`. ``today`` (or ``now``)
    decides which deadlines have passed (default: today in Oslo).

    Never raises for odd text; a missing index gives an empty result with
    ``notice="no_index"``.
    """
    if not index_exists(index_dir):
        page_ = max(_int(page, 1), 1)
        per_page_ = min(max(_int(per_page, 10), 1), MAX_PER_PAGE)
        return SearchResult(0, [], page_, per_page_, sort if sort in SORTS else "relevance", "",
                            notice="no_index")
    return get_engine(index_dir).search(text, filters=filters, sort=sort, page=page,
                                        per_page=per_page, extra_synonyms=extra_synonyms,
                                        today=today, now=now, facets=facets)
