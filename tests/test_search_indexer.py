"""The indexer: applying the search change log, rebuild, verify, crash safety.

Opportunities and change rows are written straight through the models here
(the lifecycle services append the same rows in their own transactions).
Runs on SQLite and, when configured, PostgreSQL.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.models import Opportunity, OpportunityLevel, OpportunityTag, Organisation, SearchChange
from search_index import indexer, state
from search_index.query import close_engines, search

TODAY = date(2026, 3, 1)
_stamp = itertools.count(1)


def _now() -> datetime:
    # distinct, increasing update times (verify compares them)
    return datetime(2026, 2, 1, tzinfo=UTC) + timedelta(seconds=next(_stamp))


@pytest.fixture
def engine(app):
    return app.extensions["portal.engine"]


@pytest.fixture
def ix_dir(tmp_path):
    yield tmp_path / "search-index"
    close_engines()


@pytest.fixture
def org(db):
    o = Organisation(name="Havbris Energi AS", sector="private", size_class="small",
                     municipality="Trondheim")
    db.add(o)
    db.commit()
    return o


def make_opp(db, org, title, *, status="published", description="", kind="thesis_task",
             language="nb", deadline=date(2026, 12, 1), tags=("energi",), levels=("master",),
             change=True):
    now = _now()
    opp = Opportunity(kind=kind, status=status, title=title, description=description or title,
                      language=language, slug=f"s{next(_stamp)}", owner_org=org, places=1,
                      filled=0, deadline=deadline, created_at=now, updated_at=now,
                      published_at=now if status == "published" else None)
    opp.tags = [OpportunityTag(tag=t) for t in tags]
    opp.levels = [OpportunityLevel(level=lv) for lv in levels]
    db.add(opp)
    db.flush()
    if change:
        db.add(SearchChange(entity_type="opportunity", entity_id=opp.id, op="upsert", created_at=now))
    db.commit()
    return opp


def change(db, opp, **fields):
    for k, v in fields.items():
        setattr(opp, k, v)
    opp.updated_at = _now()
    db.add(SearchChange(entity_type="opportunity", entity_id=opp.id,
                        op="delete" if opp.status == "archived" else "upsert",
                        created_at=opp.updated_at))
    db.commit()


def titles(ix_dir, text="", **kw) -> list[str]:
    return sorted(h.title for h in search(ix_dir, text, today=TODAY, per_page=50, **kw).hits)


def test_apply_indexes_published_and_follows_changes(db, engine, org, ix_dir):
    a = make_opp(db, org, "Vannkraftverk i Nidelva")
    make_opp(db, org, "Utkast om havvind", status="draft")
    c = make_opp(db, org, "Solcelleanlegg på taket")

    report = indexer.apply_changes(engine, ix_dir)
    assert report.rebuilt  # nothing was built yet: a full build
    assert titles(ix_dir) == ["Solcelleanlegg på taket", "Vannkraftverk i Nidelva"]
    assert indexer.verify(engine, ix_dir) == 0

    change(db, a, title="Vannkraftverk i Orkla")
    change(db, c, status="closed")
    report = indexer.apply_changes(engine, ix_dir)
    assert (report.changes, report.upserted, report.deleted) == (2, 1, 1)
    assert report.applied_seq == state.read_applied_seq(ix_dir)
    assert titles(ix_dir) == ["Vannkraftverk i Orkla"]
    assert titles(ix_dir, "vannkraft") == ["Vannkraftverk i Orkla"]
    assert indexer.verify(engine, ix_dir) == 0
    assert indexer.pending_changes(engine, ix_dir) == 0

    # nothing new: nothing done
    report = indexer.apply_changes(engine, ix_dir)
    assert report.changes == 0


def test_reapplying_after_a_crash_gives_the_same_index(db, engine, org, ix_dir):
    indexer.rebuild(engine, ix_dir)
    first = make_opp(db, org, "Digital tvilling av kraftnett")
    make_opp(db, org, "Mobbing i barnehagen", description="Forebygging av mobbing")
    change(db, first, description="Ny beskrivelse av en digital tvilling")
    before_seq = state.read_applied_seq(ix_dir)
    indexer.apply_changes(engine, ix_dir)
    snapshot = _stored(ix_dir)

    # The process died after the Whoosh commit, before the sequence file was written:
    state.write_applied_seq(ix_dir, before_seq)
    report = indexer.apply_changes(engine, ix_dir)
    assert report.changes == 3
    assert _stored(ix_dir) == snapshot  # same documents, none twice
    assert indexer.verify(engine, ix_dir) == 0

    # ... and even from the very beginning of the log
    state.write_applied_seq(ix_dir, 0)
    indexer.apply_changes(engine, ix_dir)
    assert _stored(ix_dir) == snapshot


def _stored(ix_dir) -> list[tuple]:
    from search_index.index import open_index

    ix = open_index(ix_dir)
    try:
        with ix.searcher() as s:
            return sorted((f["id"], f["title"], f["version"]) for f in s.all_stored_fields())
    finally:
        ix.close()


def test_verify_counts_drift_and_rebuild_repairs_it(db, engine, org, ix_dir):
    a = make_opp(db, org, "Varmepumper i borettslag")
    b = make_opp(db, org, "Legemidler i sykehjem")
    indexer.rebuild(engine, ix_dir)
    assert indexer.verify(engine, ix_dir) == 0

    # changes that bypassed the log: one stale, one missing, one extra
    a.title, a.updated_at = "Varmepumper i skoler", _now()
    b.status, b.updated_at = "closed", _now()
    make_opp(db, org, "Robotarm i fabrikken", change=False)
    db.commit()
    d = indexer.drift(engine, ix_dir)
    assert (len(d.stale), len(d.extra), len(d.missing)) == (1, 1, 1)
    assert indexer.verify(engine, ix_dir) == 3

    seen = []
    n = indexer.rebuild(engine, ix_dir, progress=lambda done, total: seen.append((done, total)))
    assert n == 2 and seen[-1] == (2, 2)
    assert indexer.verify(engine, ix_dir) == 0
    assert titles(ix_dir) == ["Robotarm i fabrikken", "Varmepumper i skoler"]


def test_organisation_change_reindexes_its_opportunities(db, engine, org, ix_dir):
    make_opp(db, org, "Sensorer i havbruk")
    indexer.apply_changes(engine, ix_dir)
    org.name, org.updated_at = "Kystlys Havbruk AS", _now()
    db.add(SearchChange(entity_type="organisation", entity_id=org.id, op="upsert",
                        created_at=_now()))
    db.commit()
    assert indexer.verify(engine, ix_dir) == 1  # the owner's name is in the document
    indexer.apply_changes(engine, ix_dir)
    assert titles(ix_dir, "Kystlys") == ["Sensorer i havbruk"]
    assert indexer.verify(engine, ix_dir) == 0


def test_a_late_committed_change_below_the_applied_seq_is_not_lost(db, engine, org, ix_dir):
    """Sequence numbers are handed out at insert, commits may land in another order."""
    a = make_opp(db, org, "Kildekritikk i arkivet", change=False)
    b = make_opp(db, org, "Klarspråk i kommunen", status="draft", change=False)
    indexer.rebuild(engine, ix_dir)
    top = state.read_applied_seq(ix_dir)
    at = _now()
    db.add(SearchChange(seq=top + 1, entity_type="opportunity", entity_id=a.id, op="upsert",
                        created_at=at))
    # top + 2 is still in flight (not committed)
    db.add(SearchChange(seq=top + 3, entity_type="opportunity", entity_id=a.id, op="upsert",
                        created_at=at))
    db.commit()
    clock = [1000.0]
    report = indexer.apply_changes(engine, ix_dir, clock=lambda: clock[0])
    assert report.applied_seq == top + 3 and state.read_gaps(ix_dir) == {top + 2: 1000.0}

    # the slow transaction commits: it published b
    b.status, b.updated_at = "published", _now()
    db.add(SearchChange(seq=top + 2, entity_type="opportunity", entity_id=b.id, op="upsert",
                        created_at=at))
    db.commit()
    clock[0] += 5
    report = indexer.apply_changes(engine, ix_dir, clock=lambda: clock[0])
    assert report.changes == 1 and report.upserted == 1
    assert state.read_gaps(ix_dir) == {}
    assert titles(ix_dir) == ["Kildekritikk i arkivet", "Klarspråk i kommunen"]

    # a number that never appears (rolled back) is given up after the timeout
    db.add(SearchChange(seq=top + 5, entity_type="opportunity", entity_id=a.id, op="upsert",
                        created_at=at))
    db.commit()
    indexer.apply_changes(engine, ix_dir, clock=lambda: clock[0])
    assert set(state.read_gaps(ix_dir)) == {top + 4}
    clock[0] += indexer.GAP_TIMEOUT + 1
    report = indexer.apply_changes(engine, ix_dir, clock=lambda: clock[0])
    assert report.pending_gaps == 0 and state.read_gaps(ix_dir) == {}


def test_one_writer_at_a_time(db, engine, org, ix_dir):
    make_opp(db, org, "Trafikksikkerhet ved skoler")
    indexer.apply_changes(engine, ix_dir)
    with state.writer_lock(ix_dir), pytest.raises(state.IndexBusy):
        indexer.apply_changes(engine, ix_dir, lock_timeout=0)
    # released again
    assert indexer.apply_changes(engine, ix_dir, lock_timeout=0).changes == 0


def test_expired_and_unpublished_never_show(db, engine, org, ix_dir):
    make_opp(db, org, "Geoteknikk langs E6", deadline=date(2026, 2, 27))
    make_opp(db, org, "Geoteknikk i havner", deadline=date(2026, 3, 1))
    make_opp(db, org, "Geoteknikk uten frist", deadline=None)
    archived = make_opp(db, org, "Geoteknikk i tunneler")
    indexer.apply_changes(engine, ix_dir)
    change(db, archived, status="archived")
    indexer.apply_changes(engine, ix_dir)
    assert titles(ix_dir, "geoteknikk") == ["Geoteknikk i havner", "Geoteknikk uten frist"]
    # the day after the deadline it is gone, without any change to the index
    later = search(ix_dir, "geoteknikk", today=date(2026, 3, 2))
    assert [h.title for h in later.hits] == ["Geoteknikk uten frist"]


def test_search_without_an_index_is_empty(tmp_path):
    result = search(tmp_path / "nothing-here", "hydrogen")
    assert result.total == 0 and result.notice == "no_index"


def test_rebuild_keeps_serving_the_old_index_until_it_switches(db, engine, org, ix_dir):
    make_opp(db, org, "Hydrogen i ferjer")
    indexer.rebuild(engine, ix_dir)
    assert titles(ix_dir, "hydrogen") == ["Hydrogen i ferjer"]
    make_opp(db, org, "Hydrogen i lastebiler", change=False)
    seen_during = []
    indexer.rebuild(engine, ix_dir,
                    progress=lambda done, total: seen_during.append(titles(ix_dir, "hydrogen")))
    assert seen_during[0] == ["Hydrogen i ferjer"]  # the old index answered meanwhile
    assert titles(ix_dir, "hydrogen") == ["Hydrogen i ferjer", "Hydrogen i lastebiler"]
    # only one index is left on disk
    names = {p.name.split("_")[0] or p.name.split("_")[1] for p in ix_dir.iterdir()
             if p.name.startswith(("ix", "_ix"))}
    assert len(names) == 1
    db.rollback()
    assert db.execute(select(Opportunity.id)).scalars().all()
