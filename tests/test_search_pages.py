"""The search page, saved searches, terminology, import and the index kept in step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta

from sqlalchemy import select

from portal.models import Opportunity, Organisation, SavedSearch
from portal.services import opportunities
from tests.helpers import PASSWORD, World, count

XSS = '<script>alert(1)</script><img src=x onerror=alert(2)>'


def _publish(db, world, title, description="Beskrivelse.", **kw):
    opp = opportunities.create_draft(db, world.partner, kind="thesis_task", owner_org=world.org,
                                     title=title, description=description, language="nb",
                                     levels=["master"], deadline=date.today() + timedelta(days=30),
                                     **kw)
    opportunities.publish(db, world.partner, opp)
    db.commit()
    return opp


def test_a_change_shows_in_search_right_after_the_request(web, db):
    world = World(db)
    web.login("partner@firma.no", PASSWORD)
    r = web.submit("/opportunities/new/thesis_task", {
        "owner": f"org:{world.org.id}", "title": "Vannkraftverk og fiskevandring",
        "description": "Masteroppgave om vannkraftverk.", "language": "nb", "levels": ["master"]})
    opp = db.execute(select(Opportunity)).scalar_one()
    assert "Vannkraftverk og fiskevandring" not in web.get("/search?q=vannkraft").get_data(as_text=True)
    web.submit(f"/opportunities/{opp.id}", {}, post_url=f"/opportunities/{opp.id}/publish")
    page = web.get("/search?q=vannkraft").get_data(as_text=True)
    assert r.status_code == 302 and "fiskevandring" in page
    # Closing takes it out of search again.
    web.submit(f"/opportunities/{opp.id}", {}, post_url=f"/opportunities/{opp.id}/close")
    assert "fiskevandring" not in web.get("/search?q=vannkraft").get_data(as_text=True)


def test_search_page_facets_highlight_and_bad_input(web, db, app):
    world = World(db)
    _publish(db, world, f"Maskinlæring {XSS}", description=f"Dyp læring for energi. {XSS}")
    _publish(db, world, "Hydrogenlagring i salthuler", tags=["energi"])
    from portal.search_sync import apply_pending

    apply_pending(app)
    page = web.get("/search?q=maskinlæring").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page  # shown as text, not run
    assert "<mark>" in page
    assert 'name="kind"' in page and "(2)" in web.get("/search").get_data(as_text=True)
    filtered = web.get("/search?q=&level=master&kind=thesis_task").get_data(as_text=True)
    assert "Hydrogenlagring" in filtered
    for bad in ('"unbalanced', "(((", "title:foo", "x" * 10000, "\x00\x07\x1b", "'; DROP TABLE x;--",
                "<b>bold</b>", "og i på", "AND OR NOT"):
        r = web.get("/search", query_string={"q": bad})
        assert r.status_code == 200, bad
    assert web.get("/search?page=abc&sort=evil&within=-3").status_code == 200


def test_saved_search_needs_login_and_is_private(web, db):
    World(db)
    assert web.client.post("/search/save", data={"q": "x"}).status_code in (302, 400)
    web.login("student@uni.no", PASSWORD)
    r = web.submit("/search?q=energi", {"q": "energi", "kind": "thesis_task", "frequency": "weekly"},
                   post_url="/search/save")
    assert r.status_code == 302
    saved = db.execute(select(SavedSearch)).scalar_one()
    assert saved.query == "energi" and saved.filters == {"kind": ["thesis_task"]}
    assert saved.frequency == "weekly"
    r = web.submit("/search?q=energi", {"q": "energi", "kind": "thesis_task"}, post_url="/search/save",
                   follow_redirects=True)
    assert "already saved" in r.get_data(as_text=True)
    assert count(db, SavedSearch) == 1
    web.logout()
    web.login("student2@uni.no", PASSWORD)
    r = web.submit("/search/saved", {}, post_url=f"/search/saved/{saved.id}/delete")
    assert r.status_code == 404
    assert count(db, SavedSearch) == 1


def test_coordinator_words_take_effect_at_once(web, db, app):
    world = World(db)
    _publish(db, world, "Sommerjobb med droneinspeksjon")
    from portal.search_sync import apply_pending

    apply_pending(app)
    assert "droneinspeksjon" not in web.get("/search?q=flyvefisk").get_data(as_text=True)
    web.login("student@uni.no", PASSWORD)
    assert web.get("/coordinator/terminology").status_code == 403
    web.logout()
    web.login("coord@uni.no", PASSWORD)
    r = web.submit("/coordinator/terminology", {"term": "flyvefisk", "synonym": "droneinspeksjon"})
    assert r.status_code == 302
    assert "droneinspeksjon" in web.get("/search?q=flyvefisk").get_data(as_text=True)
    r = web.submit("/coordinator/terminology", {"term": "droneinspeksjon", "synonym": "flyvefisk"})
    assert r.status_code == 400  # the same pair the other way round


def _cli(env, *args):
    return subprocess.run([sys.executable, "-m", "portal", *args], env=env, capture_output=True,
                          text=True, timeout=300)


def test_import_cli_names_bad_line_and_imports_nothing(tmp_path, database_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({"PORTAL_DATA_DIR": str(tmp_path / "d"), "PORTAL_DATABASE_URL": database_url})
    assert _cli(env, "user", "create", "--email", "admin@x.no", "--role", "admin",
                "--password", "admin-pass-123").returncode == 0
    devset = os.path.join(os.path.dirname(__file__), "data", "search-devset", "corpus.jsonl")
    with open(devset, encoding="utf-8") as fh:
        lines = [next(fh) for _ in range(20)]
    bad = tmp_path / "bad.jsonl"
    broken = json.loads(lines[5])
    broken["deadline"] = "31.12.2030"
    bad.write_text("".join(lines[:5]) + json.dumps(broken) + "\n", encoding="utf-8")
    r = _cli(env, "import", "opportunities", str(bad))
    assert r.returncode == 1 and "line 6" in r.stderr and "deadline" in r.stderr
    good = tmp_path / "good.jsonl"
    good.write_text("".join(lines), encoding="utf-8")
    r = _cli(env, "import", "opportunities", str(good))
    assert r.returncode == 0, r.stderr
    assert "imported 20 opportunities" in r.stdout
    r = _cli(env, "search", "verify")
    assert r.returncode == 0 and "drift: 0" in r.stdout
    r = _cli(env, "search", "query", "internship", "--json", "--limit", "5")
    out = json.loads(r.stdout)
    assert set(out) == {"total", "results"}
    assert all({"id", "external_id", "title", "kind", "score"} <= set(h) for h in out["results"])
    r = _cli(env, "import", "opportunities", str(good))
    assert r.returncode == 1 and "already imported" in r.stderr
    r = _cli(env, "search", "rebuild")
    assert r.returncode == 0 and "indexed 20" in r.stdout
    assert _cli(env, "search", "verify").returncode == 0


def test_import_creates_unknown_organisations_unverified(db, app):
    from portal.services import importer
    from tests.helpers import make_user

    admin = make_user(db, email="admin@x.no", roles=("admin",))
    line = json.dumps({"id": 7, "kind": "placement", "language": "en", "title": "Internship",
                       "description": "Summer internship.", "tags": ["energy"], "level": "master",
                       "organisation": "Ukjent Energi AS", "sector": "private",
                       "municipality": "Bodø", "deadline": "2031-01-01", "domain": "engineering"})
    report = importer.import_opportunities(db, admin, [line])
    db.commit()
    org = db.execute(select(Organisation)).scalar_one()
    assert report.imported == 1 and org.verified is False and org.name == "Ukjent Energi AS"
    opp = db.execute(select(Opportunity)).scalar_one()
    assert opp.status == "published" and opp.external_id == 7


def test_renaming_the_owner_reaches_the_index(db, app):
    from portal.search_sync import apply_pending, index_dir
    from portal.services import organisations
    from search_index import indexer
    from search_index.query import search

    world = World(db)
    _publish(db, world, "Sensorfusjon for ferjer")
    apply_pending(app)
    organisations.update_organisation(db, world.coordinator, world.org, name="Ferjedata AS")
    db.commit()
    source = app.extensions["portal.sessionmaker"]
    assert indexer.verify(source, index_dir(app)) == 1  # stale until the log is applied
    apply_pending(app)
    assert indexer.verify(source, index_dir(app)) == 0
    hits = search(index_dir(app), "sensorfusjon").hits
    assert hits and hits[0].organisation == "Ferjedata AS"
