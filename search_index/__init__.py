"""Full-text search of opportunities (Whoosh, distribution ``whoosh3``).

Every Whoosh import stays inside this package. The public API:

* :mod:`search_index.query`: ``search(index_dir, text, *, filters, sort, page,
  per_page, extra_synonyms, today, now, facets) -> SearchResult`` (hits with
  escaped, highlighted snippets, facet counts, ``did_you_mean``);
  ``get_engine(index_dir)`` / ``close_engines()`` for the cached engines.
* :mod:`search_index.indexer`: ``apply_changes(source, index_dir)`` (the
  search change log), ``rebuild(source, index_dir, progress=...)``,
  ``verify(source, index_dir) -> int`` and ``drift(...)``, where ``source`` is
  an SQLAlchemy Engine, sessionmaker or Session.
* :mod:`search_index.index`: ``index_documents(index_dir, docs)`` /
  ``index_devset(...)`` (no database: devset-format dicts or
  ``SearchDocument``), ``document_from_opportunity(opp)``,
  ``document_from_dict(d)``, ``read_jsonl(path)``.
* :mod:`search_index.thesaurus`: the nb↔en subject thesaurus
  (``data/thesaurus_nb_en.tsv``), study-level words (``data/study_levels.tsv``)
  and the collaboration-form glossary (``portal/data/collaboration_forms.json``).
* :mod:`search_index.analysis`: bokmål and English analysis (stemming).
* :mod:`search_index.state`: the applied sequence number, pending gaps and the
  writer lock beside the index.
* :mod:`search_index.evaluation`: recall@k / nDCG@k for judged query sets.

This module imports nothing itself, so ``search_index.state`` stays light.
"""
