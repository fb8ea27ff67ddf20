from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from portal.models import CollaborationEvent, Opportunity
from tests.helpers import PASSWORD, World, count


def _thesis_form(world, **overrides):
    data = {
        "owner": f"org:{world.org.id}",
        "title": "Digital tvilling for kraftnettet",
        "description": "Vi ønsker en masteroppgave om digitale tvillinger.",
        "language": "nb",
        "levels": ["master"],
        "tags": "energi, maskinlæring",
        "places": "1",
        "deadline": (date.today() + timedelta(days=60)).isoformat(),
        "external_cosupervision": "y",
    }
    data.update(overrides)
    return data


def test_partner_posts_previews_and_publishes_a_thesis_task(web, db):
    world = World(db)
    web.login("partner@firma.no", PASSWORD)
    r = web.submit("/opportunities/new/thesis_task", _thesis_form(world))
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    opp = db.execute(select(Opportunity)).scalar_one()
    assert opp.status == "draft" and opp.level_names == ["master"]
    assert opp.tag_names == ["energi", "maskinlæring"]
    # A draft is not public.
    anon = web.client.application.test_client()
    assert anon.get(f"/opportunities/{opp.id}-{opp.slug}").status_code == 404
    assert web.get("/opportunities").get_data(as_text=True).count(opp.title) == 0
    # The owner previews it and publishes.
    page = web.get(f"/opportunities/{opp.id}-{opp.slug}")
    assert page.status_code == 200 and "This is a draft" in page.get_data(as_text=True)
    r = web.submit(f"/opportunities/{opp.id}-{opp.slug}", {}, post_url=f"/opportunities/{opp.id}/publish")
    assert r.status_code == 302
    db.rollback()
    assert db.get(Opportunity, opp.id).status == "published"
    assert anon.get(f"/opportunities/{opp.id}").status_code == 301
    assert anon.get(f"/opportunities/{opp.id}-{opp.slug}").status_code == 200
    listing = anon.get("/opportunities?kind=thesis_task&level=master").get_data(as_text=True)
    assert opp.title in listing
    types = db.execute(select(CollaborationEvent.type).order_by(CollaborationEvent.id)).scalars().all()
    assert types[-2:] == ["opportunity_created", "opportunity_published"]


def test_bad_posting_input_is_field_errors_and_writes_nothing(web, db):
    world = World(db)
    web.login("partner@firma.no", PASSWORD)
    before = count(db, CollaborationEvent)
    r = web.submit("/opportunities/new/thesis_task", _thesis_form(world, title="", deadline="not-a-date"))
    assert r.status_code == 400
    # A unit the partner does not belong to is not a choice.
    r = web.submit("/opportunities/new/thesis_task", _thesis_form(world, owner=f"unit:{world.department.id}"))
    assert r.status_code == 400
    web.logout()
    web.login("staff@uni.no", PASSWORD)
    r = web.submit("/opportunities/new/eit_village",
                   _thesis_form(world, owner=f"unit:{world.department.id}", places="50"))
    assert r.status_code == 400 and "25 and 36" in r.get_data(as_text=True)
    assert count(db, Opportunity) == 0
    assert count(db, CollaborationEvent) == before


def test_outsider_and_student_cannot_post_or_manage(web, db, app):
    world = World(db)
    web.login("partner@firma.no", PASSWORD)
    web.submit("/opportunities/new/thesis_task", _thesis_form(world))
    opp = db.execute(select(Opportunity)).scalar_one()
    web.logout()
    web.login("student@uni.no", PASSWORD)
    r = web.get("/opportunities/new/thesis_task", follow_redirects=False)
    assert r.status_code == 302  # nothing to post for: sent to "our opportunities"
    # Someone else's draft is not found, and its actions are refused.
    assert web.get(f"/opportunities/{opp.id}").status_code == 404
    r = web.submit("/opportunities", {}, post_url=f"/opportunities/{opp.id}/publish")
    assert r.status_code == 404
    db.rollback()
    assert db.get(Opportunity, opp.id).status == "draft"


def test_unit_staff_posts_an_eit_village(web, db):
    world = World(db)
    web.login("staff@uni.no", PASSWORD)
    r = web.submit("/opportunities/new/eit_village", {
        "owner": f"unit:{world.department.id}", "title": "Landsby: Smarte byer",
        "description": "Tverrfaglig landsby.", "language": "nb", "places": "30",
        "semester": "2027v", "village_code": "TDT4850-1", "theme": "Smarte byer",
        "partner_sought": "y", "partner_role": "Gi en utfordring"})
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    opp = db.execute(select(Opportunity)).scalar_one()
    assert opp.semester == "2027V" and opp.places == 30 and opp.partner_sought
