"""Relevance on the search development set (tests/data/search-devset).

The corpus (3,000 opportunities) is indexed once for the module; each of the
24 judged queries is run and recall@10 / nDCG@10 are averaged per category
(exact, inflection, cross_language, compound, typo, multiword). The analysis is
general (stemming, thesaurus, decompounding, fuzzy fallback): nothing here or
in search_index knows the devset's words.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from search_index.evaluation import evaluate, format_report
from search_index.index import index_devset, read_jsonl
from search_index.query import SearchEngine

DEVSET = Path(__file__).parent / "data" / "search-devset"
TODAY = date(2026, 1, 1)  # every devset deadline is later
TARGET = 0.9


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    ix_dir = tmp_path_factory.mktemp("devset-index")
    index_devset(ix_dir, read_jsonl(DEVSET / "corpus.jsonl"))
    engine = SearchEngine(ix_dir)
    queries = read_jsonl(DEVSET / "queries.jsonl")
    result = evaluate(queries, lambda text: [
        h.external_id for h in engine.search(text, today=TODAY, per_page=10).hits])
    engine.close()
    print("\n" + format_report(result, "search devset, recall@10 and nDCG@10 per category"))
    return result


def test_devset_is_complete():
    assert len(read_jsonl(DEVSET / "corpus.jsonl")) == 3000
    queries = read_jsonl(DEVSET / "queries.jsonl")
    assert len(queries) == 24
    assert {q["category"] for q in queries} == {"exact", "inflection", "cross_language",
                                                "compound", "typo", "multiword"}


@pytest.mark.parametrize("category", ["exact", "inflection", "cross_language", "compound",
                                      "typo", "multiword"])
def test_recall_at_10_per_category(report, category):
    got = report["per_category"][category]
    assert got["recall"] >= TARGET, (
        f"{category}: recall@10 {got['recall']:.3f} < {TARGET} "
        f"(per query: { {q: r for q, (r, _) in report['per_query'].items()} })")


def test_ranking_quality_overall(report):
    assert report["overall"]["ndcg"] >= 0.85
