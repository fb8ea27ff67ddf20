"""Search benchmark: the Whoosh engine against SQLite FTS5 (bm25) on one corpus.

    python bench/search.py                       # 10,000 and 100,000 documents
    python bench/search.py --sizes 10000         # just one size
    python bench/search.py --corpus FILE.jsonl   # import a corpus (devset format)

For each size it prints: full rebuild time and documents/s, incremental
indexing latency (one document replaced and committed, as the change-log
indexer does), p50/p95 latency of top-10 queries with all facets, and the same
figures for SQLite FTS5 (bm25, facets by GROUP BY) on the same documents.
Then recall@10 and nDCG@10 on the search devset for both.

The corpus the benchmark holds in memory (100,000 dicts at the larger size) is
frozen out of Python's cyclic garbage collector while it is measured: a portal
process does not hold it, and walking it made every full collection take about
0.2 s, charged to whichever query happened to trigger one.

The generated corpus is deterministic (seeded): realistic bokmål and English
opportunities of the four kinds, built from the subject thesaurus, GLOSSARY
words, organisation names, places and sentence templates in both languages.
"""

from __future__ import annotations

import argparse
import gc
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from search_index import thesaurus as th  # noqa: E402
from search_index.evaluation import evaluate, format_report  # noqa: E402
from search_index.index import document_from_dict, index_documents, open_index, read_jsonl  # noqa: E402
from search_index.query import SearchEngine  # noqa: E402

DEVSET = ROOT / "tests" / "data" / "search-devset"
TODAY = date(2026, 1, 15)

# ------------------------------------------------------------------ corpus
PLACES = ["Trondheim", "Oslo", "Bergen", "Stavanger", "Tromsø", "Bodø", "Ålesund", "Gjøvik",
          "Molde", "Narvik", "Hamar", "Lillehammer", "Kristiansand", "Drammen", "Fredrikstad",
          "Sandnes", "Harstad", "Alta", "Steinkjer", "Levanger", "Namsos", "Mo i Rana", "Førde",
          "Voss", "Elverum", "Kongsberg", "Porsgrunn", "Skien", "Arendal", "Haugesund", "Bærum",
          "Asker", "Lillestrøm", "Sarpsborg", "Halden", "Melhus", "Malvik", "Orkland", "Røros",
          "Oppdal", "Hammerfest", "Kristiansund", "Tønsberg", "Sandefjord", "Larvik"]
NAME_PARTS = ["Fjord", "Nord", "Vest", "Havbris", "Lerkendal", "Moholt", "Tjeldberg", "Skarvik",
              "Brattli", "Havørn", "Lyngvær", "Engvik", "Ravnås", "Storli", "Kvamme", "Heimdal",
              "Granli", "Solberg", "Nyhavn", "Rognli", "Fosslia", "Vikan", "Dalheim", "Lunde",
              "Midtnorsk", "Trønder", "Fjellheim", "Breivik", "Elvebakken", "Strand", "Hoven",
              "Sjøbakken", "Furuheim", "Ekra", "Bakkehaug", "Ilsvika", "Sørli", "Holmen"]
ORG_KINDS = [("{p} Energi AS", "private"), ("{p} Teknologi AS", "private"),
             ("{p} Helseteknologi AS", "private"), ("{p} Consult AS", "private"),
             ("{p} Bygg AS", "private"), ("{p} Data AS", "private"), ("{p} Media AS", "private"),
             ("{place} kommune", "public_municipal"), ("{reg} fylkeskommune", "public_county"),
             ("Sykehuset {p} HF", "health_trust"), ("Nasjonalt senter for {topic}", "public_state"),
             ("Kulturforeningen {p}", "non_profit"), ("{p}stiftelsen", "non_profit"),
             ("Høgskolen i {place}", "higher_education")]
REGIONS = ["Trøndelag", "Vestland", "Nordland", "Innlandet", "Rogaland", "Viken", "Agder",
           "Troms", "Møre og Romsdal", "Vestfold", "Telemark", "Finnmark"]
DOMAINS = {"engineering": "engineering|ict|energy|ocean|architecture|science",
           "health": "health", "teaching": "education", "humanities": "humanities|arts",
           "social": "social|economics|law|methods"}
LEVELS = ["bachelor", "master", "master", "bachelor", "phd", "professional", "continuing",
          "project"]

NB_TITLES = {
    "thesis_task": ["Masteroppgave: {T}", "Bacheloroppgave: {T}", "Oppgaveforslag: {T}",
                    "{T} – masteroppgave hos {O}", "Hvordan kan {t} forbedre {t2}?",
                    "Ph.d.-prosjekt: {T} og {t2}"],
    "placement": ["Praksisplass innen {t} hos {O}", "Praksisplasser høsten 2026: {t}",
                  "Utplassering i {P} – {t}", "Veiledet praksis: {T} i praksis"],
    "industry_case": ["Caseoppgave for emner i {t}", "Bedriftscase: {T}", "{T} – case fra {O}",
                      "Industricase: {T} og {t2}"],
    "eit_village": ["EiT-landsby: {T}", "Landsby om {t} i vårsemesteret 2027",
                    "Eksperter i team – {T} i praksis"],
}
EN_TITLES = {
    "thesis_task": ["Master's thesis: {T}", "Bachelor's thesis: {T}", "Thesis proposal: {T}",
                    "{T} – master's thesis with {O}", "How can {t} improve {t2}?",
                    "PhD project: {T} and {t2}"],
    "placement": ["Internship in {t} at {O}", "Internships in autumn 2026: {t}",
                  "Work placement in {P} – {t}", "Supervised practice: {T} in practice"],
    "industry_case": ["Case for courses in {t}", "Business case: {T}", "{T} – a case from {O}",
                      "Industry case: {T} and {t2}"],
    "eit_village": ["EiT village: {T}", "Village on {t} in spring 2027",
                    "Experts in Teamwork – {T} in practice"],
}
NB_SENTENCES = [
    "{O} ønsker å samarbeide med en student om {t}.", "Oppgaven handler om {t} og {t2}.",
    "Vi ønsker å bygge mer kompetanse på {t} i organisasjonen.",
    "Kjennskap til {t} er en fordel, men ikke et krav.",
    "Studenten skal se nærmere på hvordan {t} kan brukes til {t2}.",
    "Prosjektet gjennomføres i {P}, med vekt på {t}.", "Vi har kontor i {P} og omegn.",
    "Søknadsfristen er {D}.", "Du får tett oppfølging av en veileder hos oss.",
    "Aktuelle metoder er intervjuer, spørreundersøkelser og dokumentanalyse.",
    "Studentene skal foreslå tiltak og presentere løsningene for ledelsen.",
    "Vi har data fra flere år som ingen har analysert ennå.",
    "Oppgaven passer for studenter med interesse for {t}.",
    "Praksisen er veiledet og kan gi 15 studiepoeng.", "Arbeidet kan gjøres alene eller i par.",
    "Samarbeidet er en del av universitetets satsing på {t}.",
    "Tidligere studenter har gitt svært gode tilbakemeldinger.",
    "Vi legger vekt på god dialog mellom studenter, veiledere og partner.",
    "Resultatene skal presenteres for oss ved slutten av semesteret.",
    "Vi ønsker oss en nysgjerrig student som liker å jobbe selvstendig.",
    "Utgangspunktet er et reelt behov i virksomheten vår knyttet til {t2}.",
]
EN_SENTENCES = [
    "{O} would like to collaborate with a student on {t}.", "The project is about {t} and {t2}.",
    "We want to build more expertise in {t} in our organisation.",
    "Experience with {t} is an advantage, but not a requirement.",
    "The student will look at how {t} can be used for {t2}.",
    "The project takes place in {P}, with a focus on {t}.", "We have offices in {P}.",
    "The application deadline is {D}.", "You will be closely supervised by one of our staff.",
    "Relevant methods include interviews, surveys and document analysis.",
    "The students will propose measures and present their solutions to management.",
    "We have several years of data that nobody has analysed yet.",
    "The task suits students interested in {t}.", "The placement is supervised and can give 15 credits.",
    "The work can be done alone or in pairs.",
    "The collaboration is part of the university's strategic focus on {t}.",
    "Former students have given very good feedback.",
    "We value good dialogue between students, supervisors and partner.",
    "The results will be presented to us at the end of the semester.",
    "We are looking for a curious student who likes to work independently.",
    "The starting point is a real need in our organisation related to {t2}.",
]


def _topics():
    """(nb term, en term, field) from the shipped thesaurus: the subjects of the corpus."""
    out = []
    for c in th.read_tsv(th.THESAURUS_FILE):
        nb = [t.text for t in c.terms if t.lang == "nb"]
        en = [t.text for t in c.terms if t.lang == "en"]
        if nb and en:
            out.append((nb[0], en[0], c.field or "engineering"))
    return out


def generate(n: int, seed: int = 2026) -> list[dict]:
    """``n`` opportunities in the devset format, the same for the same seed."""
    rnd = random.Random(seed)
    topics = _topics()
    by_domain = {d: [t for t in topics if t[2] in f.split("|")] for d, f in DOMAINS.items()}
    orgs = []
    for i in range(max(n // 25, 40)):
        pattern, sector = ORG_KINDS[i % len(ORG_KINDS)]
        name = pattern.format(p=rnd.choice(NAME_PARTS), place=rnd.choice(PLACES),
                              reg=rnd.choice(REGIONS), topic=rnd.choice(topics)[0])
        orgs.append((f"{name}" if i < len(ORG_KINDS) * 3 else f"{name} {i}", sector,
                     rnd.choice(PLACES)))
    kinds = ["thesis_task"] * 40 + ["placement"] * 31 + ["industry_case"] * 20 + ["eit_village"] * 9
    docs = []
    for i in range(1, n + 1):
        lang = "nb" if rnd.random() < 0.62 else "en"
        kind = rnd.choice(kinds)
        domain = rnd.choice(list(DOMAINS))
        pool = by_domain[domain] or topics
        (t_nb, t_en, _), (u_nb, u_en, _) = rnd.choice(pool), rnd.choice(pool)
        org, sector, home = rnd.choice(orgs)
        place = home if rnd.random() < 0.7 else rnd.choice(PLACES)
        deadline = TODAY + timedelta(days=rnd.randint(-60, 700))
        t, u = (t_nb, u_nb) if lang == "nb" else (t_en, u_en)
        slots = {"t": t.lower(), "t2": u.lower(),
                 "T": t[:1].upper() + t[1:], "O": org, "P": place,
                 "D": deadline.strftime("%d.%m.%Y")}
        title = rnd.choice((NB_TITLES if lang == "nb" else EN_TITLES)[kind]).format(**slots)
        sentences = NB_SENTENCES if lang == "nb" else EN_SENTENCES
        desc = " ".join(s.format(**slots) for s in rnd.sample(sentences, rnd.randint(9, 13)))
        tag_pool = [x[0] if lang == "nb" else x[1] for x in pool]
        docs.append({
            "id": i, "kind": kind, "language": lang, "title": title, "description": desc,
            "tags": sorted({x.lower() for x in rnd.sample(tag_pool, min(len(tag_pool), rnd.randint(2, 5)))}),
            "level": rnd.choice(LEVELS), "organisation": org, "sector": sector,
            "municipality": place, "deadline": deadline.isoformat(), "domain": domain,
        })
    return docs


def query_mix(docs: list[dict], n: int = 200, seed: int = 7) -> list[str]:
    """Realistic queries: subjects in either language, inflections, typos, names,
    collaboration-form words, several words."""
    rnd = random.Random(seed)
    topics = _topics()
    forms = ["internship", "masteroppgave", "praksisplass", "master thesis", "bedriftscase",
             "EiT", "bacheloroppgave", "industry case", "placement"]
    out = []
    for i in range(n):
        nb, en, _ = rnd.choice(topics)
        r = i % 8
        if r == 0:
            out.append(nb)
        elif r == 1:
            out.append(en)
        elif r == 2:
            out.append(nb + ("er" if not nb.endswith("e") else "r"))
        elif r == 3:
            w = max(nb.split(), key=len)
            if len(w) > 5:
                k = rnd.randrange(1, len(w) - 1)
                w = w[:k] + w[k + 1:]
            out.append(w)
        elif r == 4:
            out.append(f"{rnd.choice(forms)} {rnd.choice(docs)['organisation'].split()[0]}")
        elif r == 5:
            out.append(f"{nb} {rnd.choice(PLACES)}")
        elif r == 6:
            out.append(f"{rnd.choice(forms)} {en}")
        else:
            out.append(" ".join(rnd.choice(topics)[0] for _ in range(2)))
    return out


# ------------------------------------------------------------------ helpers
def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


# ------------------------------------------------------------------ Whoosh
def bench_whoosh(docs, queries, workdir: Path, incremental: int = 100) -> dict:
    ix_dir = workdir / "whoosh"
    shutil.rmtree(ix_dir, ignore_errors=True)
    gc.collect()
    t = time.perf_counter()
    n = index_documents(ix_dir, docs)
    build = time.perf_counter() - t

    rnd = random.Random(1)
    engine = SearchEngine(ix_dir)
    engine.search("", today=TODAY)  # open, load per-segment data
    inc, visible = [], []
    ix = open_index(ix_dir)
    for _ in range(incremental):
        d = dict(rnd.choice(docs))
        d["title"] = d["title"] + " (oppdatert)"
        t = time.perf_counter()
        w = ix.writer(timeout=10.0)
        w.update_document(**document_from_dict(d).fields())
        w.commit()
        inc.append(time.perf_counter() - t)
        t = time.perf_counter()
        engine.search("oppdatert", today=TODAY, per_page=1)  # the change is searchable
        visible.append(time.perf_counter() - t)
    ix.close()
    # queries (warm-up first: caches per segment, the stemmer's cache)
    for q in queries[:20]:
        engine.search(q, today=TODAY)
    lat = []
    for q in queries:
        t = time.perf_counter()
        engine.search(q, today=TODAY, per_page=10)
        lat.append(time.perf_counter() - t)
    empty = []
    for _ in range(20):
        t = time.perf_counter()
        engine.search("", today=TODAY, per_page=10)
        empty.append(time.perf_counter() - t)
    engine.close()
    return {"docs": n, "build_s": build, "docs_per_s": n / build,
            "inc_p50": pct(inc, 50), "inc_p95": pct(inc, 95),
            "refresh_p50": pct(visible, 50), "refresh_p95": pct(visible, 95),
            "q_p50": pct(lat, 50), "q_p95": pct(lat, 95), "q_max": max(lat),
            "empty_p50": pct(empty, 50)}


# ------------------------------------------------------------------ SQLite FTS5
FACETS = ("kind", "level", "sector", "language", "municipality", "domain")


def fts_query(text: str) -> str | None:
    words = [w for w in re.findall(r"[^\W_]+", text.casefold()) if len(w) > 1]
    return " OR ".join(f'"{w}"' for w in words) if words else None


def fts_load(db: sqlite3.Connection, docs) -> None:
    db.executescript("""
        CREATE TABLE opp (id INTEGER PRIMARY KEY, kind TEXT, level TEXT, sector TEXT,
                          language TEXT, municipality TEXT, domain TEXT, deadline TEXT);
        CREATE VIRTUAL TABLE opp_fts USING fts5(title, description, tags, organisation,
            tokenize = 'unicode61 remove_diacritics 0');
    """)
    with db:
        db.executemany("INSERT INTO opp VALUES (?,?,?,?,?,?,?,?)",
                       [(d["id"], d["kind"], d.get("level"), d.get("sector"), d["language"],
                         d.get("municipality"), d.get("domain"), d.get("deadline")) for d in docs])
        db.executemany("INSERT INTO opp_fts(rowid, title, description, tags, organisation) "
                       "VALUES (?,?,?,?,?)",
                       [(d["id"], d["title"], d["description"], " ".join(d.get("tags") or ()),
                         d.get("organisation")) for d in docs])


def fts_search(db: sqlite3.Connection, text: str, today: date, facets: bool = True) -> list[int]:
    q = fts_query(text)
    if q is None:
        return []
    day = today.isoformat()
    ids = [r[0] for r in db.execute(
        "SELECT opp.id FROM opp_fts JOIN opp ON opp.id = opp_fts.rowid "
        "WHERE opp_fts MATCH ? AND opp.deadline >= ? "
        "ORDER BY bm25(opp_fts, 2.0, 1.0, 1.5, 1.5), opp.id LIMIT 10", (q, day))]
    if facets:
        db.execute("CREATE TEMP TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY)")
        db.execute("DELETE FROM hits")
        db.execute("INSERT INTO hits SELECT opp.id FROM opp_fts JOIN opp ON opp.id = opp_fts.rowid "
                   "WHERE opp_fts MATCH ? AND opp.deadline >= ?", (q, day))
        for f in FACETS:
            db.execute(f"SELECT opp.{f}, count(*) FROM hits JOIN opp USING (id) GROUP BY 1").fetchall()
    return ids


def bench_fts(docs, queries, workdir: Path, incremental: int = 100) -> dict:
    path = workdir / "fts.db"
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    t = time.perf_counter()
    fts_load(db, docs)
    build = time.perf_counter() - t
    rnd = random.Random(1)
    inc = []
    for _ in range(incremental):
        d = rnd.choice(docs)
        t = time.perf_counter()
        with db:
            db.execute("DELETE FROM opp_fts WHERE rowid = ?", (d["id"],))
            db.execute("INSERT INTO opp_fts(rowid, title, description, tags, organisation) "
                       "VALUES (?,?,?,?,?)", (d["id"], d["title"] + " (oppdatert)", d["description"],
                                              " ".join(d.get("tags") or ()), d.get("organisation")))
        inc.append(time.perf_counter() - t)
    for q in queries[:20]:
        fts_search(db, q, TODAY)
    lat = []
    for q in queries:
        t = time.perf_counter()
        fts_search(db, q, TODAY)
        lat.append(time.perf_counter() - t)
    db.close()
    return {"docs": len(docs), "build_s": build, "docs_per_s": len(docs) / build,
            "inc_p50": pct(inc, 50), "inc_p95": pct(inc, 95),
            "q_p50": pct(lat, 50), "q_p95": pct(lat, 95), "q_max": max(lat)}


# ------------------------------------------------------------------ relevance
def relevance(workdir: Path) -> tuple[dict, dict]:
    docs = read_jsonl(DEVSET / "corpus.jsonl")
    queries = read_jsonl(DEVSET / "queries.jsonl")
    ix_dir = workdir / "devset"
    shutil.rmtree(ix_dir, ignore_errors=True)
    index_documents(ix_dir, docs)
    engine = SearchEngine(ix_dir)
    today = date(2026, 1, 1)
    ours = evaluate(queries, lambda text: [h.external_id for h in
                                           engine.search(text, today=today, per_page=10).hits])
    engine.close()
    db = sqlite3.connect(":memory:")
    fts_load(db, docs)
    fts = evaluate(queries, lambda text: fts_search(db, text, today, facets=False))
    return ours, fts


# ------------------------------------------------------------------ main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated corpus sizes")
    ap.add_argument("--corpus", help="a JSONL corpus to use instead of the generated one")
    ap.add_argument("--queries", type=int, default=200, help="queries per size")
    ap.add_argument("--no-fts", action="store_true", help="skip the SQLite FTS5 reference")
    ap.add_argument("--no-relevance", action="store_true", help="skip the devset relevance run")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    workdir = Path(tempfile.mkdtemp(prefix="samspill-bench-"))
    try:
        source = read_jsonl(args.corpus) if args.corpus else None
        for size in sizes:
            docs = (source[:size] if source else generate(size))
            queries = query_mix(docs, args.queries)
            gc.collect()
            gc.freeze()
            print(f"\n== {len(docs):,} documents ({'imported' if source else 'generated'}), "
                  f"{len(queries)} queries with facets", flush=True)
            w = bench_whoosh(docs, queries, workdir)
            print(f"whoosh  rebuild {w['build_s']:.1f} s = {w['docs_per_s']:,.0f} docs/s | "
                  f"incremental update+commit p50 {ms(w['inc_p50'])} p95 {ms(w['inc_p95'])} "
                  f"(then searchable: p50 {ms(w['refresh_p50'])} p95 {ms(w['refresh_p95'])}) | "
                  f"query p50 {ms(w['q_p50'])} p95 {ms(w['q_p95'])} max {ms(w['q_max'])} | "
                  f"empty-query listing p50 {ms(w['empty_p50'])}", flush=True)
            if not args.no_fts:
                f = bench_fts(docs, queries, workdir)
                print(f"fts5    rebuild {f['build_s']:.1f} s = {f['docs_per_s']:,.0f} docs/s | "
                      f"incremental update+commit p50 {ms(f['inc_p50'])} p95 {ms(f['inc_p95'])} | "
                      f"query p50 {ms(f['q_p50'])} p95 {ms(f['q_p95'])} max {ms(f['q_max'])}",
                      flush=True)
            del docs
            gc.unfreeze()
            gc.collect()
        if not args.no_relevance:
            ours, fts = relevance(workdir)
            print()
            print(format_report(ours, "devset relevance: search_index (Whoosh)"))
            print()
            print(format_report(fts, "devset relevance: SQLite FTS5 bm25 (words OR-ed)"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
