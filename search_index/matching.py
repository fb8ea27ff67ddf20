"""A disjunction-max query whose scores are right.

Whoosh's own ``DisjunctionMax`` matcher takes the larger of its two children's
scores even when they stand on *different* documents, ignores the tie-break,
and drops the tie-break when it rebuilds itself; its scores are not usable.
This one scores a document by its best matching alternative plus
``tiebreak`` × the others that match the same document::

    score = max + tiebreak * (sum - max)

Its ``max_quality`` is the tight bound of that formula (not the sum of its
children's), so Whoosh's top-k collector can still prune: once the k-th best
score is above what a clause could add, the clause stops driving iteration.
It gives up block-quality skipping (an optimisation, not needed for correct
results).

(The search engine ranks with its own BM25 over cached postings, see
``search_index.query._score``, which scores this node type the same way; the
matcher here keeps the query usable with a plain Whoosh searcher.)
"""

from __future__ import annotations

from whoosh import query as wq
from whoosh.matching import NullMatcher, UnionMatcher


class DisMax(wq.DisjunctionMax):
    def __init__(self, subqueries, boost: float = 1.0, tiebreak: float = 0.0):
        super().__init__(subqueries, boost=boost, tiebreak=tiebreak)

    def __repr__(self) -> str:
        return f"DisMax({self.subqueries!r}, tiebreak={self.tiebreak})"

    def apply(self, fn):
        return self.__class__([fn(q) for q in self.subqueries], boost=self.boost,
                              tiebreak=self.tiebreak)

    def normalize(self):
        subs = [q.normalize() for q in self.subqueries]
        subs = [q for q in subs if q is not wq.NullQuery]
        if not subs:
            return wq.NullQuery
        if len(subs) == 1:
            return subs[0].with_boost(subs[0].boost * self.boost)
        return self.__class__(subs, boost=self.boost, tiebreak=self.tiebreak)

    def _matcher(self, subs, searcher, context):
        r = searcher.reader()
        return self._tree_matcher(subs, DisMaxMatcher, searcher, context,
                                  lambda q: q.estimate_size(r), tiebreak=self.tiebreak)


def _qpair(m, block: bool) -> tuple[float, float]:
    """Bounds (best, sum) of a matcher's scores (in its current block)."""
    if isinstance(m, DisMaxMatcher):
        return m.quality_pair(block)
    if not m.is_active():
        return 0.0, 0.0
    q = m.block_quality() if block else m.max_quality()
    return q, q


def _pair(m) -> tuple[float, float]:
    """(best score, sum of scores) of a matcher on its current document."""
    if isinstance(m, DisMaxMatcher):
        return m.pair()
    s = m.score()
    return s, s


class DisMaxMatcher(UnionMatcher):
    """The union of two matchers, scored as disjunction-max with tie-break."""

    def __init__(self, a, b, tiebreak: float = 0.0):
        super().__init__(a, b)
        self.tiebreak = tiebreak

    def copy(self):
        return self.__class__(self.a.copy(), self.b.copy(), tiebreak=self.tiebreak)

    def supports_block_quality(self) -> bool:
        return False

    def quality_pair(self, block: bool = False) -> tuple[float, float]:
        ma, sa = _qpair(self.a, block)
        mb, sb = _qpair(self.b, block)
        return max(ma, mb), sa + sb

    def max_quality(self):
        best, total = self.quality_pair()
        return best + self.tiebreak * (total - best)

    def block_quality(self):
        best, total = self.quality_pair(block=True)
        return best + self.tiebreak * (total - best)

    def replace(self, minquality=0):
        a, b = self.a, self.b
        a_active, b_active = a.is_active(), b.is_active()
        if not (a_active or b_active):
            return NullMatcher()
        if minquality and self.max_quality() < minquality:
            return NullMatcher()
        if not a_active:
            return b.replace(0)
        if not b_active:
            return a.replace(0)
        na, nb = a.replace(0), b.replace(0)
        if not na.is_active():
            return nb
        if not nb.is_active():
            return na
        if na is not a or nb is not b:
            return self.__class__(na, nb, tiebreak=self.tiebreak)
        self._id = None
        return self

    def pair(self) -> tuple[float, float]:
        a, b = self.a, self.b
        if not a.is_active():
            return _pair(b)
        if not b.is_active():
            return _pair(a)
        ia, ib = a.id(), b.id()
        if ia < ib:
            return _pair(a)
        if ib < ia:
            return _pair(b)
        ma, sa = _pair(a)
        mb, sb = _pair(b)
        return max(ma, mb), sa + sb

    def score(self):
        best, total = self.pair()
        return best + self.tiebreak * (total - best)

