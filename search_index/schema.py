"""The Whoosh schema of the opportunity index.

Text is analysed per language: a bokmål document fills ``head_nb``/``body_nb``
(bokmål stemming), an English one ``head_en``/``body_en``; queries run against
both. ``head`` is the title, tags and theme (weighted up at query time),
``body`` the description and the other free texts. Names of organisations and
places are indexed without stemming (``names``, ``place``).

Facet and filter values are plain ID/KEYWORD terms; ``sort_id`` and
``sort_deadline`` are per-document columns (sorting, deadline windows) rather
than NUMERIC fields, which would index a dozen range terms per value that no
query uses. ``version`` records the state of the database row the document
was built from, so ``verify`` can find stale documents.
"""

from __future__ import annotations

from collections import defaultdict

from whoosh import columns, fields

from .analysis import LanguageAnalyzer, index_terms

SCHEMA_VERSION = 2

TEXT_FIELDS = {
    "nb": ("head_nb", "body_nb"),
    "en": ("head_en", "body_en"),
}
NAME_FIELDS = ("names", "place")
# Facets: the field holding the value, and whether a document may have several.
FACET_FIELDS = {
    "kind": ("kind", False),
    "level": ("levels", True),
    "discipline": ("domain", False),
    "sector": ("sector", False),
    "language": ("language", False),
    "location": ("municipality", False),
    "tag": ("tags", True),
}
NO_DEADLINE = 0  # stored for opportunities without a deadline (never expire)


class AnalysedText(fields.TEXT):
    """TEXT whose indexing runs our analysis directly (no Token objects).

    Indexing is most of a rebuild's time; this path yields the same terms and
    positions as the field's analyzer (``LanguageAnalyzer``), about twice as fast.
    """

    def __init__(self, lang: str | None):
        super().__init__(analyzer=LanguageAnalyzer(lang or "nb", stemming=lang is not None),
                         phrase=True)
        self.lang = lang

    def index(self, value, **kwargs):
        if not isinstance(value, str):
            yield from super().index(value, **kwargs)
            return
        poses: dict[str, list[int]] = defaultdict(list)
        for i, term in enumerate(index_terms(value, self.lang)):
            poses[term].append(i)
        fb = self.format.field_boost
        encode = self.format.encode
        for term, poslist in poses.items():
            yield term.encode("utf-8"), len(poslist), len(poslist) * fb, encode(poslist)


def make_schema() -> fields.Schema:
    return fields.Schema(
        key=fields.ID(unique=True, stored=True),
        id=fields.STORED(),
        sort_id=fields.COLUMN(columns.NumericColumn("Q", default=0)),
        external_id=fields.STORED(),
        # facets and filters
        kind=fields.ID(stored=True),
        status=fields.ID(stored=True),
        language=fields.ID(stored=True),
        sector=fields.ID(stored=True),
        domain=fields.ID(stored=True),
        municipality=fields.ID(stored=True),
        levels=fields.KEYWORD(stored=True, commas=True, lowercase=True),
        tags=fields.KEYWORD(stored=True, commas=True, lowercase=True),
        deadline=fields.STORED(),
        sort_deadline=fields.COLUMN(columns.NumericColumn("I", default=NO_DEADLINE)),
        # shown in results
        title=fields.STORED(),
        description=fields.STORED(),
        organisation=fields.STORED(),
        version=fields.STORED(),
        # searched
        head_nb=AnalysedText("nb"),
        body_nb=AnalysedText("nb"),
        head_en=AnalysedText("en"),
        body_en=AnalysedText("en"),
        names=AnalysedText(None),
        place=AnalysedText(None),
    )
