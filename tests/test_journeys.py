"""The issue's journeys, through the web pages as a new user would walk them."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from portal.models import Collaboration, CollaborationEvent, Opportunity
from tests.helpers import PASSWORD, World


def _events_since(db, last_id):
    db.rollback()
    return db.execute(select(CollaborationEvent).where(CollaborationEvent.id > last_id)
                      .order_by(CollaborationEvent.id)).scalars().all()


def _last_event_id(db):
    db.rollback()
    return db.execute(select(CollaborationEvent.id).order_by(CollaborationEvent.id.desc())
                      ).scalars().first() or 0


def _as(web, email):
    web.logout()
    web.login(email, PASSWORD)


def test_master_thesis_journey(web, db):
    world = World(db)
    start = _last_event_id(db)
    _as(web, "partner@firma.no")
    r = web.submit("/opportunities/new/thesis_task", {
        "owner": f"org:{world.org.id}", "title": "Maskinlæring for nettap",
        "description": "Masteroppgave om prediksjon av nettap.", "language": "nb",
        "levels": ["master"], "places": "1",
        "deadline": (date.today() + timedelta(days=30)).isoformat()})
    assert r.status_code == 302
    opp = db.execute(select(Opportunity)).scalar_one()
    web.submit(f"/opportunities/{opp.id}", {}, post_url=f"/opportunities/{opp.id}/publish")

    _as(web, "student@uni.no")
    listing = web.get("/opportunities?kind=thesis_task").get_data(as_text=True)
    assert "Maskinlæring for nettap" in listing
    r = web.submit(f"/opportunities/{opp.id}/apply", {"motivation": "Jeg skriver master i IDI."},
                   content_type="multipart/form-data")
    assert r.status_code == 302

    _as(web, "partner@firma.no")
    app_id = db.execute(select(Opportunity)).scalar_one().id and \
        db.execute(select(CollaborationEvent.application_id)
                   .where(CollaborationEvent.type == "application_submitted")).scalar_one()
    r = web.submit(f"/opportunities/{opp.id}/applicants", {"comment": "Velkommen"},
                   post_url=f"/applications/{app_id}/accept")
    assert r.status_code == 302
    collab = db.execute(select(Collaboration)).scalar_one()
    assert r.headers["Location"].endswith(f"/collaborations/{collab.id}")

    _as(web, "leader@uni.no")
    # The course leader is no participant: leading a course of the same faculty is enough.
    r = web.submit(f"/collaborations/{collab.id}", {"t-course": str(world.course.id),
                                                     "t-semester": "2026h"},
                   post_url=f"/collaborations/{collab.id}/courses")
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]

    _as(web, "student@uni.no")
    r = web.submit(f"/collaborations/{collab.id}", {
        "r-type": "thesis_delivered", "r-title": "Maskinlæring for nettap i distribusjonsnett",
        "r-link": "https://ntnuopen.ntnu.no/handle/11250/123456",
        "r-occurred_on": date.today().isoformat()}, post_url=f"/collaborations/{collab.id}/results")
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]

    _as(web, "partner@firma.no")
    r = web.submit(f"/collaborations/{collab.id}", {}, post_url=f"/collaborations/{collab.id}/complete")
    assert r.status_code == 302
    db.rollback()
    assert db.get(Collaboration, collab.id).status == "completed"

    events = _events_since(db, start)
    types = [e.type for e in events]
    for expected in ("opportunity_created", "opportunity_published", "application_submitted",
                     "application_accepted", "collaboration_agreed", "course_tagged",
                     "result_recorded", "collaboration_completed"):
        assert expected in types, (expected, types)
    # One event per step, never two for the same step.
    assert types.count("result_recorded") == 1 and types.count("collaboration_completed") == 1
    done = next(e for e in events if e.type == "collaboration_completed")
    assert done.partner_sector == "private" and done.partner_size == "medium"
    assert done.partner_nace == "J" and done.partner_country == "NO"
    assert done.faculty == "IE" and done.department == "IE-IDI"
    assert done.form == "thesis_task" and done.study_level == "master"
    delivered = next(e for e in events if e.type == "result_recorded")
    assert delivered.data["result_type"] == "thesis_delivered"
    # Persons only as pseudonymous keys.
    for e in events:
        for value in (e.actor_key, e.subject_key):
            assert value is None or "@" not in value
        assert "Stina" not in str(e.data) and "student@uni.no" not in str(e.data)


def test_completed_collaboration_refuses_edits_without_trace(web, db):
    world = World(db)
    from portal.services import collaborations

    collab = collaborations.record_direct(
        db, world.staff, title="Gjesteforelesning om nettdrift", partners=[world.org],
        start_date=date.today() - timedelta(days=3), form="guest_lecture", unit=world.department,
        participants_count=80)
    db.commit()
    assert collab.status == "completed"
    before = _last_event_id(db)
    _as(web, "staff@uni.no")
    r = web.submit(f"/collaborations/{collab.id}", {"p-email": "student@uni.no", "p-role": "staff"},
                   post_url=f"/collaborations/{collab.id}/participants")
    assert r.status_code in (400, 409)
    assert _last_event_id(db) == before


def test_record_direct_maps_local_label_and_course_page_lists_it(web, db):
    world = World(db)
    _as(web, "staff@uni.no")
    r = web.submit("/collaborations/new", {
        "form": "", "local_label": "Bedriftsbesøk", "title": "Besøk hos Fjordkraft",
        "partners": [str(world.org.id)], "unit": str(world.department.id), "courses": "tdt4100",
        "start_date": (date.today() - timedelta(days=10)).isoformat(), "participants_count": "45"})
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    collab = db.execute(select(Collaboration)).scalar_one()
    assert collab.form == "company_visit" and collab.local_label == "Bedriftsbesøk"
    page = web.get("/courses/TDT4100").get_data(as_text=True)
    assert "Besøk hos Fjordkraft" in page
    csv_text = web.get("/portfolio?format=csv").get_data(as_text=True)
    assert "Besøk hos Fjordkraft" in csv_text and "company_visit" in csv_text
    # A student may not record.
    _as(web, "student@uni.no")
    assert web.get("/collaborations/new").status_code == 403


def test_course_leader_cannot_tag_to_someone_elses_course(db):
    import pytest

    from portal.services import academic, collaborations
    from portal.services.errors import PermissionDenied

    world = World(db)
    other = academic.create_course(db, code="TMA4100", name_nb="Matematikk 1", name_en="Calculus 1",
                                   ects=7.5, level="bachelor", unit=world.department)
    collab = collaborations.record_direct(
        db, world.staff, title="Workshop", partners=[world.org], form="workshop",
        start_date=date.today() - timedelta(days=1), unit=world.department)
    db.commit()
    before = _last_event_id(db)
    with pytest.raises(PermissionDenied):
        collaborations.tag_course(db, world.leader, other, collaboration=collab)
    db.rollback()
    assert _last_event_id(db) == before


def test_industry_case_used_in_a_course(web, db):
    world = World(db)
    start = _last_event_id(db)
    _as(web, "partner@firma.no")
    r = web.submit("/opportunities/new/industry_case", {
        "owner": f"org:{world.org.id}", "title": "Case: prisprognoser for strøm",
        "description": "Reelle data om strømpriser.", "language": "nb", "places": "10",
        "material": "Datasett og presentasjon", "course_usage": "Prosjektarbeid i grupper",
        "suitable_courses": "TDT4100"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    opp = db.execute(select(Opportunity)).scalar_one()
    web.submit(f"/opportunities/{opp.id}", {}, post_url=f"/opportunities/{opp.id}/publish")

    _as(web, "leader@uni.no")
    r = web.submit(f"/opportunities/{opp.id}", {"u-course": str(world.course.id), "u-semester": "2026h",
                                                 "u-teams_count": "12", "u-students_reached": "60"},
                   post_url=f"/opportunities/{opp.id}/courses")
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    assert "Case: prisprognoser for strøm" in web.get("/courses/TDT4100").get_data(as_text=True)
    tagged = [e for e in _events_since(db, start) if e.type == "course_tagged"]
    assert len(tagged) == 1
    assert tagged[0].course == "TDT4100" and tagged[0].form == "industry_case"
    assert tagged[0].data["teams_count"] == 12 and tagged[0].data["students_reached"] == 60
    assert tagged[0].partner_sector == "private"
    assert tagged[0].faculty == "IE" and tagged[0].department == "IE-IDI"  # the course's unit
    # Tagging to the same course twice is refused and writes nothing.
    r = web.submit(f"/opportunities/{opp.id}", {"u-course": str(world.course.id)},
                   post_url=f"/opportunities/{opp.id}/courses")
    assert r.status_code == 400
    assert len([e for e in _events_since(db, start) if e.type == "course_tagged"]) == 1
    # A partner leads no course: no form, and a forged post is refused.
    _as(web, "partner@firma.no")
    r = web.submit(f"/opportunities/{opp.id}", {"u-course": str(world.course.id)},
                   post_url=f"/opportunities/{opp.id}/courses")
    assert r.status_code == 400


def test_eit_village_joined_by_a_partner(web, db):
    world = World(db)
    start = _last_event_id(db)
    _as(web, "staff@uni.no")
    r = web.submit("/opportunities/new/eit_village", {
        "owner": f"unit:{world.department.id}", "title": "Landsby: Energi i nord",
        "description": "Tverrfaglig landsby om energi.", "language": "nb", "places": "30",
        "semester": "2027V", "village_code": "TDT4852-3", "theme": "Energi i nord",
        "partner_sought": "y", "partner_role": "Gi landsbyen en reell utfordring",
        "deadline": (date.today() + timedelta(days=40)).isoformat()})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    opp = db.execute(select(Opportunity)).scalar_one()
    web.submit(f"/opportunities/{opp.id}", {}, post_url=f"/opportunities/{opp.id}/publish")

    _as(web, "partner@firma.no")
    assert "Offer to be the partner" in web.get(f"/opportunities/{opp.id}", follow_redirects=True
                                                ).get_data(as_text=True)
    r = web.submit(f"/opportunities/{opp.id}/offer", {"on_behalf": f"org:{world.org.id}",
                                                      "motivation": "Vi stiller med data og mentorer."})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    r = web.submit(f"/opportunities/{opp.id}/offer", {"on_behalf": f"org:{world.org.id}",
                                                      "motivation": "Igjen."})
    assert r.status_code == 400 and "already offered" in r.get_data(as_text=True)

    _as(web, "staff@uni.no")
    offer_id = db.execute(select(CollaborationEvent.application_id)
                          .where(CollaborationEvent.type == "application_submitted")).scalar_one()
    r = web.submit(f"/opportunities/{opp.id}/applicants", {},
                   post_url=f"/applications/{offer_id}/accept")
    assert r.status_code == 302
    types = [e.type for e in _events_since(db, start)]
    assert "application_accepted" in types
    assert "partner_joined_village" in types or "collaboration_agreed" in types
    collab = db.execute(select(Collaboration)).scalar_one()
    assert [p.organisation_id for p in collab.partners] == [world.org.id]
    assert collab.form == "eit_village"
    db.rollback()
    assert db.get(Opportunity, opp.id).filled == 0  # a partner takes no student place


def test_capacity_holds_under_parallel_http_requests(app, db):
    """Several owners press "accept" at the same instant on a placement with two places."""
    import threading

    from portal.services import applications, opportunities
    from tests.conftest import Browserless
    from tests.helpers import make_user

    world = World(db)
    from portal.services import organisations

    deciders = [world.partner] + [make_user(db, email=f"colleague{i}@firma.no", roles=(),
                                            name=f"Kollega {i}", locale="en") for i in range(3)]
    for person in deciders[1:]:
        organisations.add_member(db, world.org, person)
    students = [make_user(db, email=f"s{i}@uni.no", roles=("student",), name=f"Student {i}")
                for i in range(4)]
    opp = opportunities.create_draft(
        db, world.partner, kind="placement", owner_org=world.org, title="Praksis", places=2,
        description="To plasser.", levels=["master"], period_start=date.today() + timedelta(days=50),
        period_end=date.today() + timedelta(days=90), extent_weeks=6,
        deadline=date.today() + timedelta(days=20))
    opportunities.publish(db, world.partner, opp)
    apps = [applications.apply_as_student(db, s, opp, "Motivasjon") for s in students]
    db.commit()

    clients = []
    for person in deciders:
        browser = Browserless(app.test_client())
        browser.login(person.email, PASSWORD)
        page = browser.get(f"/opportunities/{opp.id}/applicants").get_data(as_text=True)
        from tests.conftest import csrf_token_from

        clients.append((browser, csrf_token_from(page)))
    app_ids = [a.id for a in apps]  # read here: threads must not touch the test's session
    db.rollback()
    barrier = threading.Barrier(len(clients))
    codes = []

    def press(i):
        browser, token = clients[i]
        barrier.wait()
        r = browser.client.post(f"/applications/{app_ids[i]}/accept", data={"csrf_token": token},
                                follow_redirects=True)
        codes.append((r.status_code, "Accepted: the collaboration is recorded." in r.get_data(as_text=True)))

    threads = [threading.Thread(target=press, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(codes) == [(200, False), (200, False), (200, True), (200, True)]
    db.rollback()
    assert db.get(Opportunity, opp.id).filled == 2
    accepted = db.execute(select(CollaborationEvent).where(
        CollaborationEvent.type == "application_accepted")).scalars().all()
    assert len(accepted) == 2
    assert count_collabs(db) == 2


def count_collabs(db):
    from tests.helpers import count

    return count(db, Collaboration)
