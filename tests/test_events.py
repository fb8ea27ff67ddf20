from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from portal.models import AppendOnlyError, CollaborationEvent, Organisation
from portal.services import applications as apps
from portal.services import collaborations as collabs
from portal.services import event_catalogue
from portal.services.accounts import person_key
from portal.services.events import UnknownEventType, record_event
from tests.matching_builders import T0, at, event_count, thesis

REQUIRED = {
    "opportunity_created", "opportunity_published", "opportunity_closed",
    "opportunity_archived", "application_submitted", "application_shortlisted",
    "application_accepted", "application_rejected", "application_withdrawn",
    "partner_joined_village", "collaboration_agreed", "collaboration_recorded",
    "collaboration_started", "participant_added", "participant_removed", "course_tagged",
    "course_untagged", "result_recorded", "impact_story_recorded", "collaboration_completed",
    "collaboration_cancelled", "organisation_registered", "organisation_verified",
    "eit_wishes_recorded",
}


def test_catalogue_is_documented_and_complete():
    assert set(event_catalogue.EVENT_TYPES) >= REQUIRED
    for name, spec in event_catalogue.CATALOGUE.items():
        assert spec.name == name and len(spec.description) > 20
        assert len(name) <= 48  # the column's width
        assert spec.group in {"organisation", "opportunity", "application", "collaboration",
                              "eit"}
    covered = {i for spec in event_catalogue.CATALOGUE.values() for i in spec.indicators}
    assert covered == {f"A2-{n}" for n in range(1, 11)}


def test_unknown_type_is_refused_and_nothing_written(db, w):
    before = event_count(db)
    with pytest.raises(UnknownEventType):
        record_event(db, "opportunity_liked", actor=w.partner)
    assert event_count(db) == before


def test_snapshot_from_an_opportunity(db, w):
    opp = thesis(db, w)
    ev = record_event(db, "opportunity_updated", actor=w.partner, opportunity=opp,
                      now=at(1), data={"places": Decimal("2"), "when": date(2025, 9, 2),
                                       "ects": Decimal("7.5")})
    db.commit()
    assert ev.organisation_id == w.org.id and ev.opportunity_id == opp.id
    assert (ev.partner_sector, ev.partner_size, ev.partner_country, ev.partner_nace,
            ev.partner_public_enterprise) == ("private", "small", "NO", "J", False)
    assert ev.form == ev.opportunity_kind == "thesis_task"
    assert ev.study_level == "master"  # the opportunity's only level
    assert ev.faculty is None and ev.unit is None  # an organisation's posting, no student
    assert ev.occurred_at == ev.recorded_at == at(1)
    assert ev.actor_key == person_key(db, w.partner) and len(ev.actor_key) == 32
    assert ev.data == {"places": 2, "when": "2025-09-02", "ects": 7.5}


def test_snapshot_of_units_students_and_courses(db, w):
    ev = record_event(db, "participant_added", actor=w.staff, subject=w.student,
                      unit=w.idi_ai, course=w.course, now=at(1),
                      occurred_at=datetime(2025, 8, 30, tzinfo=UTC))
    assert (ev.faculty, ev.department, ev.unit) == ("IE", "IE-IDI", "IE-IDI-AI")
    assert ev.course == "TDT4290" and ev.course_id == w.course.id
    assert ev.study_level == "master" and ev.programme == "MTDT"
    assert ev.subject_key == person_key(db, w.student) != ev.actor_key
    assert ev.occurred_at == datetime(2025, 8, 30, tzinfo=UTC) and ev.recorded_at == at(1)
    # Without an explicit unit the student's programme unit is used.
    ev2 = record_event(db, "eit_wishes_recorded", actor=w.student3, subject=w.student3,
                       now=at(1))
    assert (ev2.faculty, ev2.department, ev2.unit, ev2.study_level) == (
        "IV", "IV-IBM", "IV-IBM", "bachelor")


def test_snapshot_is_frozen_at_event_time(db, w):
    opp = thesis(db, w, places=2)
    a = apps.apply_as_student(db, w.student, opp, "Hei", now=at(1))
    c = apps.accept(db, w.partner, a, now=at(2), notify=False)
    db.commit()
    old = db.get(CollaborationEvent, event_count(db))
    assert old.type == "collaboration_agreed" and old.partner_sector == "private"
    org = db.get(Organisation, w.org.id)
    org.sector, org.size_class, org.country, org.nace_code = "non_profit", "micro", "SE", "94.99"
    db.commit()
    collabs.start(db, w.partner, c, now=at(3))
    db.commit()
    db.expire_all()
    old = db.get(CollaborationEvent, old.id)
    assert (old.partner_sector, old.partner_size, old.partner_country, old.partner_nace) == (
        "private", "small", "NO", "J")
    new = db.get(CollaborationEvent, event_count(db))
    assert (new.partner_sector, new.partner_size, new.partner_country, new.partner_nace) == (
        "non_profit", "micro", "SE", "S")


def test_events_hold_no_personal_data(db, w):
    opp = thesis(db, w)
    a = apps.apply_as_student(db, w.student, opp, "Min motivasjon er hemmelig", now=at(1))
    c = apps.accept(db, w.partner, a, "Gratulerer Stina", now=at(2), notify=False)
    collabs.record_impact_story(db, w.student, c, "Stina fikk jobb", now=at(3))
    db.commit()
    rows = db.execute(text("SELECT * FROM collaboration_event")).mappings().all()
    dump = repr([dict(r) for r in rows])
    for secret in (w.student.email, w.student.display_name, "Stina", w.partner.email,
                   w.partner.display_name, "hemmelig"):
        assert secret not in dump


def test_naive_datetimes_are_refused(db, w):
    with pytest.raises(ValueError):
        record_event(db, "opportunity_created", actor=None, now=datetime(2025, 1, 1))
    with pytest.raises(ValueError):
        record_event(db, "opportunity_created", actor=None, now=T0,
                     occurred_at=datetime(2025, 1, 1))


def test_orm_refuses_update_and_delete(db, w):
    ev = record_event(db, "organisation_verified", actor=w.coordinator, organisation=w.org,
                      now=at(1))
    db.commit()
    ev.type = "organisation_registered"
    with pytest.raises(AppendOnlyError):
        db.flush()
    db.rollback()
    db.delete(db.get(CollaborationEvent, ev.id))
    with pytest.raises(AppendOnlyError):
        db.flush()
    db.rollback()
    assert db.get(CollaborationEvent, ev.id).type == "organisation_verified"


@pytest.mark.parametrize("sql", [
    "UPDATE collaboration_event SET type = 'opportunity_created'",
    "UPDATE collaboration_event SET data = NULL WHERE id = 1",
    "DELETE FROM collaboration_event",
    "DELETE FROM collaboration_event WHERE id = 1",
])
def test_database_refuses_update_and_delete(db, w, sql):
    before = event_count(db)
    assert before > 0  # registration and verification were recorded
    db.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        db.execute(text(sql))
    db.rollback()
    assert event_count(db) == before


def test_event_ids_increase_in_recording_order(db, w):
    ids = [record_event(db, "opportunity_created", actor=None, now=at(i)).id
           for i in (3, 1, 2)]
    assert ids == sorted(ids)
