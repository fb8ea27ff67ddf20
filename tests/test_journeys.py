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
