"""The directory of partners, academic groups and courses: index and pages."""

from __future__ import annotations

from portal.search_sync import apply_pending, directory_dir
from portal.services import academic, organisations
from search_index.directory import directory_drift, rebuild_directory, search_directory
from tests.helpers import PASSWORD, World, make_user


def _world(db, app):
    world = World(db)
    hidden = organisations.register_organisation(
        db, world.outsider, name="Skjult Havbruk AS", org_number=None, sector="private",
        size_class="small", country="SE")
    academic.create_unit(db, code="IE-IDI-AI", name_nb="Kunstig intelligens",
                         name_en="Artificial intelligence", level="group",
                         parent=world.department)
    db.commit()
    apply_pending(app)
    return world, hidden


def _source(app):
    return app.extensions["portal.sessionmaker"]


def test_search_finds_partners_units_and_courses(db, app):
    world, hidden = _world(db, app)
    d = directory_dir(app)
    assert directory_drift(_source(app), d) == 0
    hits = search_directory(d, "Fjordkarft", entity="organisation")  # misspelt
    assert [(h.entity, h.id) for h in hits] == [("organisation", world.org.id)]
    assert search_directory(d, "fjordkraft analyse", sector="private")[0].id == world.org.id
    assert search_directory(d, "fjordkraft", sector="public_state") == []
    # unverified organisations are not in the directory
    assert not [h for h in search_directory(d, "Skjult Havbruk") if h.entity == "organisation"]
    # units by code and by their bokmål or English name (inflected)
    assert search_directory(d, "IE-IDI", entity="unit")[0].id == world.department.id
    assert search_directory(d, "ie-idi-ai")[0].subtitle == "IE-IDI-AI"
    assert search_directory(d, "datateknologien", entity="unit")[0].id == world.department.id
    assert search_directory(d, "computer sciences", entity="unit")[0].id == world.department.id
    assert search_directory(d, "intelligence")[0].subtitle == "IE-IDI-AI"
    # courses by code, any case, and by name
    top = search_directory(d, "tdt4100")[0]
    assert (top.entity, top.id) == ("course", world.course.id)
    assert search_directory(d, "objektorientert", entity="course")[0].id == world.course.id
    assert search_directory(d, "programming", entity="course")[0].id == world.course.id


def test_bad_input_never_errors(db, app):
    _world(db, app)
    d = directory_dir(app)
    for bad in ("", "   ", "og i på", "the of and", '"unbalanced', "(((", "name:foo", "x" * 10000,
                "\x00\x07\x1b", "'; DROP TABLE x;--", "<script>alert(1)</script>", "*?~^",
                "a" * 70, "IE-", "-"):
        assert isinstance(search_directory(d, bad), list)
    assert search_directory(d, "x", entity="nonsense") == []
    assert search_directory(d, "x", limit="many") == []
    assert search_directory(d.parent / "nowhere", "fjordkraft") == []


def test_changes_show_after_the_request_and_drift_is_zero(web, db, app):
    world, hidden = _world(db, app)
    source, d = _source(app), directory_dir(app)
    web.login("coord@uni.no", PASSWORD)
    r = web.submit(f"/organisations/{world.org.id}/edit", {
        "name": "Nordlys Datafangst AS", "org_number": "923609016", "sector": "private",
        "size_class": "medium", "nace_code": "62.010", "municipality": "Trondheim",
        "country": "NO"})
    assert r.status_code == 302, r.get_data(as_text=True)[:400]
    page = web.get("/partners?q=nordlys").get_data(as_text=True)
    assert "Nordlys Datafangst AS" in page
    assert "Nordlys" not in web.get("/partners?q=fjordkraft").get_data(as_text=True)
    assert directory_drift(source, d) == 0
    # verifying an organisation puts it in the directory
    organisations.verify(db, world.coordinator, db.merge(hidden))
    db.commit()
    assert directory_drift(source, d) == 1
    apply_pending(app)
    assert directory_drift(source, d) == 0
    assert search_directory(d, "havbruk", entity="organisation")[0].id == hidden.id
    # a rebuild from nothing gives the same directory
    assert rebuild_directory(source, d) == 7  # 2 organisations, 4 units, 1 course
    assert directory_drift(source, d) == 0


def test_pages_render_for_anonymous_users(client, db, app):
    world, hidden = _world(db, app)
    web = client
    page = web.get("/partners").get_data(as_text=True)
    assert "Fjordkraft Analyse AS" in page and "Skjult Havbruk" not in page
    assert f"/organisations/{world.org.id}" in page and 'href="/partners"' in page
    assert "Fjordkraft" in web.get("/partners?q=fjordkarft&sector=private").get_data(as_text=True)
    assert "Fjordkraft" not in web.get("/partners?sector=public_state").get_data(as_text=True)
    groups = web.get("/groups").get_data(as_text=True)
    assert "IE-IDI" in groups and "/courses/TDT4100" in groups
    found = web.get("/groups?q=datateknologi").get_data(as_text=True)
    assert "Department of Computer Science" in found and "/courses/TDT4100" in found
    assert "Faculty of Medicine" not in found
    assert "/courses/TDT4100" in web.get("/groups?q=TDT4100").get_data(as_text=True)
    for bad in ('"(((', "x" * 10000, "\x00\x1b", "<script>alert(1)</script>"):
        for path in ("/partners", "/groups"):
            r = web.get(path, query_string={"q": bad, "sector": bad})
            assert r.status_code == 200
            assert "<script>alert(1)" not in r.get_data(as_text=True)


def test_logged_in_nav_links_to_the_directory(web, db, app):
    _world(db, app)
    make_user(db, email="someone@example.no")
    db.commit()
    web.login("someone@example.no", PASSWORD)
    page = web.get("/partners").get_data(as_text=True)
    assert 'href="/partners"' in page and 'href="/groups"' in page
