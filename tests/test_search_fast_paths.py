"""The paths that make search fast at 100,000 documents must give exactly what
the plain paths give: the side file of long posting lists
(search_index/codec.py), the fuzzy term walk, restricting a query to the
documents already found, and pausing the garbage collector during a search."""

from __future__ import annotations

import random
from datetime import date

import pytest
from whoosh.index import FileIndex

from search_index import codec
from search_index.index import index_documents, open_index
from search_index.query import SearchEngine, _distance, terms_within

TODAY = date(2026, 3, 1)
WORDS = ["helse", "vannkraft", "geoteknikk", "logistikk", "sensor", "havbruk", "drone",
         "samfunn", "bærekraft", "energi", "digital", "tvilling", "skred", "kyst"]


def corpus(n: int = 700) -> list[dict]:
    rnd = random.Random(11)
    docs = []
    for i in range(1, n + 1):
        body = " ".join(rnd.choice(WORDS) for _ in range(12))
        # every third document has the phrase, every third the words the other way round
        if i % 3 == 0:
            body += " tverrfaglig samarbeid"
        elif i % 3 == 1:
            body += " samarbeid er tverrfaglig"
        docs.append({"id": i, "title": f"Oppgave {i} om {rnd.choice(WORDS)}",
                     "description": body, "kind": "thesis_task", "language": "nb",
                     "level": "master", "organisation": f"Bedrift {i % 7}",
                     "deadline": "2026-12-01", "tags": [rnd.choice(WORDS)]})
    return docs


QUERIES = ["helse", "vannkraft sensor", "tverrfaglig samarbeid", '"tverrfaglig samarbeid"',
           "geoteknik", "havbruket", "energi digital tvilling", "bedrift", "logistkk", ""]


def results(engine: SearchEngine) -> list:
    out = []
    for q in QUERIES:
        r = engine.search(q, today=TODAY, per_page=20)
        out.append((q, r.total, [(h.id, round(h.score, 5)) for h in r.hits], r.facets,
                    r.did_you_mean))
    return out


def whoosh_postings(leaf, fieldname: str, btext: bytes):
    m = leaf.postings(fieldname, btext)
    ids, weights, values = [], [], []
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        values.append(m.value())
        m.next()
    return ids, weights, values


@pytest.fixture(scope="module")
def ix_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("side")
    index_documents(path, corpus(), chunk=300)  # three segments
    ix = open_index(path)
    with ix.writer() as w:  # and a small one, without long lists
        w.delete_by_term("key", "700")
        w.add_document(key="701", id=701, sort_id=701, kind="thesis_task", status="published",
                       language="nb", title="Oppgave 701", head_nb="Oppgave 701 om helse",
                       body_nb="helse", sort_deadline=date(2026, 12, 1).toordinal())
    ix.close()
    return path


def test_side_file_holds_the_long_posting_lists_as_whoosh_does(ix_dir):
    ix = open_index(ix_dir)
    with ix.searcher() as searcher:
        leaves = searcher.reader().leaf_readers()
        assert len(leaves) == 4
        checked = short = 0
        for leaf, _offset in leaves:
            side = codec.SidePostings.open(leaf)
            if leaf.doc_count_all() < codec.SIDE_MIN_POSTINGS:
                assert side is None  # no long lists: nothing is kept open
                continue
            assert side is not None
            for fieldname in ("body_nb", "head_nb", "names", "kind", "status"):
                for btext in leaf.lexicon(fieldname):
                    if leaf.doc_frequency(fieldname, btext) < codec.SIDE_MIN_POSTINGS:
                        assert side.postings(fieldname, btext) is None
                        short += 1
                        continue
                    ids, weights, values = whoosh_postings(leaf, fieldname, btext)
                    got_ids, got_weights = side.postings(fieldname, btext, offset=5)
                    assert list(got_ids) == [d + 5 for d in ids]
                    assert list(got_weights) == pytest.approx(weights)
                    some = ids[::7] + [10**6]  # and a document without the term
                    assert side.values_of(fieldname, btext, some) == \
                        {d: v or b"" for d, v in zip(ids, values, strict=True) if d in some}
                    checked += 1
        assert checked >= 30 and short >= 30
    ix.close()


def test_segments_written_by_merges_and_updates_have_side_files(ix_dir, tmp_path):
    import shutil

    path = tmp_path / "copy"
    shutil.copytree(ix_dir, path)
    before = results(SearchEngine(path))
    ix = open_index(path)
    with ix.writer() as w:  # an update: a small new segment
        w.update_document(key="5", id=5, sort_id=5, kind="thesis_task", status="published",
                          language="nb", title="Oppgave 5", head_nb="Oppgave 5 om helse",
                          body_nb="helse og vannkraft", sort_deadline=date(2026, 12, 1).toordinal())
    ix.optimize()  # everything merged into one segment
    with ix.searcher() as searcher:
        leaves = searcher.reader().leaf_readers()
        assert len(leaves) == 1
        leaf = leaves[0][0]
        side = codec.SidePostings.open(leaf)
        long_lists = [t for t in leaf.lexicon("body_nb")
                      if leaf.doc_frequency("body_nb", t) >= codec.SIDE_MIN_POSTINGS]
        assert side is not None and len(long_lists) >= 10
        assert all(("body_nb", t) in side for t in long_lists)
    ix.close()
    after = results(SearchEngine(path))
    assert [r[0] for r in after] == [r[0] for r in before]
    assert after[0][1] == before[0][1]  # "helse": document 5 still has it


def test_an_index_without_side_files_searches_the_same(tmp_path, monkeypatch):
    index_documents(tmp_path / "side", corpus(), chunk=300)
    with_side = results(SearchEngine(tmp_path / "side"))
    monkeypatch.setattr(codec.SideIndex, "writer", FileIndex.writer)  # plain W3 segments
    plain = tmp_path / "plain"
    index_documents(plain, corpus(), chunk=300)
    ix = open_index(plain)
    with ix.searcher() as searcher:
        assert all(codec.SidePostings.open(leaf) is None
                   for leaf, _ in searcher.reader().leaf_readers())
    ix.close()
    assert results(SearchEngine(plain)) == with_side


def test_phrases_read_from_the_side_file_keep_word_order(ix_dir):
    r = SearchEngine(ix_dir).search('"tverrfaglig samarbeid"', today=TODAY, per_page=100)
    assert r.total == 700 // 3
    assert all(h.id % 3 == 0 for h in r.hits)


def test_a_damaged_side_file_is_ignored():
    class Storage:
        def file_exists(self, name):
            return True

        def open_file(self, name):
            import io

            class F(io.BytesIO):
                pass
            return F(b"not a side file at all")

    class Segment:
        COMPOUND_EXT = ".seg"

        def make_filename(self, ext):
            return "x" + ext

    class Reader:
        _storage = Storage()

        def segment(self):
            return Segment()

    assert codec.SidePostings.open(Reader()) is None


def test_terms_within_matches_a_brute_force_scan():
    rnd = random.Random(4)
    letters = "abdeklmnorstvæøå"
    vocab = sorted({"".join(rnd.choice(letters) for _ in range(rnd.randint(2, 11)))
                    for _ in range(3000)} | {"analyse", "analysere", "termodynamikk"})
    probes = rnd.sample(vocab, 120)
    for w in list(probes):
        k = rnd.randrange(1, len(w))
        probes.append(w[:k] + rnd.choice(letters) + w[k:])  # an insertion
        if len(w) > 2:
            k = rnd.randrange(1, len(w) - 1)
            probes.append(w[:k] + w[k + 1] + w[k] + w[k + 2:])  # a transposition
    for w in probes:
        for maxdist in (1, 2):
            expected = [t for t in vocab if t[0] == w[0] and _distance(w, t, maxdist) <= maxdist]
            assert terms_within(vocab, w, maxdist) == expected, (w, maxdist)
    assert terms_within(vocab, "analsye", 1) == ["analyse"]
    assert "termodynamikk" in terms_within(vocab, "termoynamikk", 2)
    assert terms_within([], "x", 1) == [] and terms_within(vocab, "", 1) == []


def test_restricting_a_query_to_documents_equals_intersecting_its_documents(ix_dir):
    from search_index.query import _Planner

    engine = SearchEngine(ix_dir)
    snap = engine._snapshot()
    rnd = random.Random(8)
    everything = frozenset(range(snap.count))
    subsets = [frozenset(rnd.sample(range(snap.count), k)) for k in (1, 40, 400)]
    subsets += [everything, frozenset()]
    checked = 0
    for text in QUERIES + ["helse vannkraft sensor", '"samarbeid er tverrfaglig" kyst']:
        plan = _Planner(snap, engine.thesaurus).plan(text)
        for q in [*plan.unit_queries, plan.query]:
            if q is None:
                continue
            for docs in subsets:
                assert snap.restrict(q, docs) == snap.query_docs(q) & docs, (text, len(docs))
                checked += 1
    assert checked > 50
    for docs in subsets:
        assert snap.term_docs_in("body_nb", "hels", docs) == snap.term_docs("body_nb", "hels") & docs


def test_the_garbage_collector_is_paused_only_while_searching(ix_dir, monkeypatch):
    import gc

    from search_index import query

    engine = SearchEngine(ix_dir)
    seen = []
    real_run = engine._run

    def run(*args, **kwargs):
        seen.append(gc.isenabled())
        return real_run(*args, **kwargs)

    monkeypatch.setattr(engine, "_run", run)
    assert gc.isenabled()
    engine.search("helse", today=TODAY)
    assert seen == [False] and gc.isenabled()

    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "_run", fail)
    with pytest.raises(RuntimeError):
        engine.search("helse", today=TODAY)
    assert gc.isenabled()

    gc.disable()  # a process that runs without the collector keeps it off
    try:
        with query.gc_paused(), query.gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
