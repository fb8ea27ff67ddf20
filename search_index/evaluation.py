"""Relevance metrics for a set of judged queries (the search devset format).

Each query: ``qid``, ``text``, ``category``, ``relevant_ids`` (external ids).
A ranking is the list of external ids a search returned, best first.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence


def recall_at(ranking: Sequence[int], relevant: Iterable[int], k: int = 10) -> float:
    rel = set(relevant)
    if not rel:
        return 0.0
    return len(rel & set(ranking[:k])) / len(rel)


def ndcg_at(ranking: Sequence[int], relevant: Iterable[int], k: int = 10) -> float:
    rel = set(relevant)
    if not rel:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(ranking[:k]) if d in rel)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(rel), k)))
    return dcg / ideal


def evaluate(queries: Iterable[Mapping], rank: Callable[[str], Sequence[int]],
             k: int = 10) -> dict:
    """Run every query through ``rank`` (text → external ids, best first).

    Returns ``{"per_query": {qid: (recall, ndcg)}, "per_category": {category:
    {"recall": r, "ndcg": n, "queries": q}}, "overall": {"recall": r, "ndcg": n}}``.
    """
    per_query = {}
    by_cat: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for q in queries:
        ranking = list(rank(q["text"]))
        r, n = recall_at(ranking, q["relevant_ids"], k), ndcg_at(ranking, q["relevant_ids"], k)
        per_query[q["qid"]] = (r, n)
        by_cat[q["category"]].append((r, n))
    per_category = {
        cat: {"recall": sum(r for r, _ in v) / len(v), "ndcg": sum(n for _, n in v) / len(v),
              "queries": len(v)}
        for cat, v in by_cat.items()
    }
    allv = [x for v in by_cat.values() for x in v]
    overall = {"recall": sum(r for r, _ in allv) / max(len(allv), 1),
               "ndcg": sum(n for _, n in allv) / max(len(allv), 1)}
    return {"per_query": per_query, "per_category": per_category, "overall": overall}


def format_report(report: dict, title: str = "") -> str:
    lines = [title] if title else []
    lines.append(f"{'category':<16}{'recall@10':>10}{'nDCG@10':>10}{'queries':>9}")
    for cat, v in sorted(report["per_category"].items()):
        lines.append(f"{cat:<16}{v['recall']:>10.3f}{v['ndcg']:>10.3f}{v['queries']:>9}")
    o = report["overall"]
    lines.append(f"{'overall':<16}{o['recall']:>10.3f}{o['ndcg']:>10.3f}")
    return "\n".join(lines)
