from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.models import (
    Application,
    Collaboration,
    EitWish,
    Opportunity,
    OutboxMail,
    PersonKey,
)
from portal.services import applications as apps
from portal.services import opportunities as opps
from portal.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.matching_builders import (
    PDF,
    at,
    event_count,
    events_of,
    last_event,
    thesis,
    user,
    village,
)


def key_of(db, u) -> str:
    return db.execute(select(PersonKey.key).where(PersonKey.user_id == u.id)).scalar_one()


def test_student_applies_once(db, w):
    opp = thesis(db, w)
    before = event_count(db)
    a = apps.apply_as_student(db, w.student, opp, "Jeg vil gjerne!", now=at(1))
    db.commit()
    assert a.status == "submitted" and a.applicant_kind == "student"
    assert event_count(db) == before + 1
    ev = last_event(db)
    assert ev.type == "application_submitted" and ev.application_id == a.id
    assert ev.subject_key == key_of(db, w.student) == ev.actor_key
    assert ev.study_level == "master" and ev.programme == "MTDT"
    assert ev.partner_sector == "private" and ev.unit == "IE-IDI" and ev.faculty == "IE"
    assert ev.data == {"applicant_kind": "student", "has_cv": False}
    with pytest.raises(Conflict, match="already applied"):
        apps.apply_as_student(db, w.student, opp, "Igjen", now=at(2))
    apps.withdraw(db, w.student, a, now=at(3))
    assert last_event(db).data == {"applicant_kind": "student", "from_status": "submitted"}
    again = apps.apply_as_student(db, w.student, opp, "Likevel", now=at(4))
    db.commit()
    assert again.id != a.id


def test_the_unique_index_backs_up_the_duplicate_check(db, w, monkeypatch):
    opp = thesis(db, w)
    apps.apply_as_student(db, w.student, opp, "Første", now=at(1))
    db.commit()
    before = event_count(db)
    monkeypatch.setattr(apps, "_active_exists", lambda *a, **k: False)
    with pytest.raises(Conflict, match="already applied"):
        apps.apply_as_student(db, w.student, opp, "Andre", now=at(2))
    db.commit()  # the session is still usable and nothing was added
    assert event_count(db) == before
    assert db.execute(select(func.count()).select_from(Application)).scalar_one() == 1


def test_no_applying_to_drafts_closed_or_past_deadline(db, w):
    draft = thesis(db, w, publish=False, title="Kladd")
    with pytest.raises(Conflict, match="not open"):
        apps.apply_as_student(db, w.student, draft, "Hei", now=at(1))
    opp = thesis(db, w)
    with pytest.raises(Conflict, match="The deadline has passed."):
        apps.apply_as_student(db, w.student, opp, "Hei", now=at(40))
    with pytest.raises(ValidationFailed) as exc:
        apps.apply_as_student(db, w.student, opp, "   ", now=at(1))
    assert "motivation" in exc.value.errors
    with pytest.raises(PermissionDenied):
        apps.apply_as_student(db, w.partner, opp, "Hei", now=at(1))
    opps.close(db, w.partner, opp, now=at(2))
    with pytest.raises(Conflict, match="not open"):
        apps.apply_as_student(db, w.student, opp, "Hei", now=at(3))
    assert event_count(db, "application_submitted") == 0


def test_cv_is_stored_and_only_applicant_and_owners_see_it(db, w, data_dir):
    opp = thesis(db, w)
    a = apps.apply_as_student(db, w.student, opp, "Med CV", (PDF, "C:\\docs\\Min CV.pdf",
                                                            "application/pdf"),
                              data_dir=data_dir, max_upload_bytes=1000, now=at(1))
    db.commit()
    assert a.cv_original_name == "Min CV.pdf" and a.cv_stored_name.endswith(".pdf")
    assert last_event(db).data["has_cv"] is True
    path = apps.cv_path(db, w.student, a, data_dir=data_dir)
    assert path.read_bytes() == PDF and path.parent == data_dir / "uploads" / "cv"
    assert apps.cv_path(db, w.partner, a, data_dir=data_dir) == path
    for outsider in (w.student2, w.partner2, w.coordinator):
        with pytest.raises(PermissionDenied):
            apps.cv_path(db, outsider, a, data_dir=data_dir)


@pytest.mark.parametrize("content, ctype, message", [
    (b"GIF89a not a pdf", "application/pdf", "must be a PDF"),
    (PDF, "image/png", "must be a PDF"),
    (PDF + b"x" * 2000, "application/pdf", "too large"),
    (b"", "application/pdf", "empty"),
])
def test_bad_cv_is_refused_and_nothing_is_written(db, w, data_dir, content, ctype, message):
    opp = thesis(db, w)
    before = event_count(db)
    with pytest.raises(ValidationFailed, match=message) as exc:
        apps.apply_as_student(db, w.student, opp, "Hei", (content, "cv.pdf", ctype),
                              data_dir=data_dir, max_upload_bytes=1000, now=at(1))
    assert "cv" in exc.value.errors
    db.commit()
    assert event_count(db) == before
    assert db.execute(select(func.count()).select_from(Application)).scalar_one() == 0
    assert not (data_dir / "uploads" / "cv").exists() or not any(
        (data_dir / "uploads" / "cv").iterdir())


def test_only_owners_decide_and_refusals_write_no_event(db, w):
    opp = thesis(db, w)
    a = apps.apply_as_student(db, w.student, opp, "Hei", now=at(1))
    db.commit()
    before = event_count(db)
    for actor in (w.student, w.student2, w.partner2, w.staff):
        for decide in (apps.shortlist, apps.accept, apps.reject):
            with pytest.raises(PermissionDenied):
                decide(db, actor, a, now=at(2))
    with pytest.raises(PermissionDenied):
        apps.withdraw(db, w.partner, a, now=at(2))
    with pytest.raises(PermissionDenied):
        apps.withdraw(db, w.student2, a, now=at(2))
    db.commit()
    assert event_count(db) == before and a.status == "submitted"
    with pytest.raises(NotFound):
        apps.get_application(db, w.student2, a.id)
    assert apps.get_application(db, w.partner, a.id) is a


def test_accept_creates_the_collaboration_and_tells_the_student(db, w):
    opp = thesis(db, w, places=2)
    a = apps.apply_as_student(db, w.student, opp, "Hei", now=at(1))
    apps.shortlist(db, w.partner, a, now=at(2))
    assert last_event(db).type == "application_shortlisted"
    with pytest.raises(Conflict):
        apps.shortlist(db, w.partner, a, now=at(2))
    before = event_count(db)
    collab = apps.accept(db, w.partner, a, "Velkommen!", now=at(5))
    db.commit()
    assert a.status == "accepted" and a.decided_by_id == w.partner.id and a.decided_at == at(5)
    assert opp.filled == 1 and opp.status == "published"
    assert collab.form == "thesis_task" and collab.status == "agreed"
    assert collab.application_id == a.id and collab.opportunity_id == opp.id
    assert [p.organisation_id for p in collab.partners] == [w.org.id]
    assert collab.unit_id == w.idi.id and collab.study_level == "master"
    assert collab.programme == "MTDT"
    roles = sorted((p.role, p.user_id) for p in collab.participants)
    assert roles == sorted([("partner_contact", w.partner.id), ("student", w.student.id)])
    new = events_of(db)[before:]
    assert [e.type for e in new] == ["application_accepted", "collaboration_agreed"]
    accepted, agreed = new
    assert accepted.data["days_to_match"] == 5 and accepted.data["days_from_application"] == 4
    assert accepted.data["consumes_place"] is True and accepted.data["filled"] == 1
    assert agreed.collaboration_id == collab.id and agreed.data["via"] == "portal_match"
    assert agreed.data["partner_org_ids"] == [w.org.id]
    assert agreed.data["participant_keys"]["student"] == [key_of(db, w.student)]
    assert agreed.partner_size == "small" and agreed.faculty == "IE"
    assert agreed.study_level == "master" and agreed.form == "thesis_task"
    mail = db.execute(select(OutboxMail).where(OutboxMail.to_addr == w.student.email)
                      ).scalar_one()
    assert opp.title in mail.subject and "Velkommen!" in mail.body_text
    # Nothing personal in the events.
    for e in new:
        text = repr({c.name: getattr(e, c.name) for c in e.__table__.columns})
        assert w.student.email not in text and w.student.display_name not in text
    with pytest.raises(Conflict):
        apps.accept(db, w.partner, a, now=at(6))
    with pytest.raises(Conflict):
        apps.withdraw(db, w.student, a, now=at(6))


def test_reject_keeps_the_comment_out_of_the_log(db, w):
    opp = thesis(db, w)
    a = apps.apply_as_student(db, w.student, opp, "Hei", now=at(1))
    apps.reject(db, w.partner, a, "Vi valgte en annen kandidat.", now=at(3))
    db.commit()
    assert a.status == "rejected" and a.decision_comment == "Vi valgte en annen kandidat."
    ev = last_event(db)
    assert ev.type == "application_rejected"
    assert ev.data == {"applicant_kind": "student", "from_status": "submitted"}
    mail = db.execute(select(OutboxMail).where(OutboxMail.to_addr == w.student.email)
                      ).scalar_one()
    assert "Vi valgte en annen kandidat." in mail.body_text
    with pytest.raises(Conflict):
        apps.reject(db, w.partner, a, now=at(4))


def test_full_capacity_closes_and_refuses_more(db, w):
    opp = thesis(db, w, places=1)
    a1 = apps.apply_as_student(db, w.student, opp, "En", now=at(1))
    a2 = apps.apply_as_student(db, w.student2, opp, "To", now=at(1))
    db.commit()
    apps.accept(db, w.partner, a1, now=at(2), notify=False)
    db.commit()
    assert opp.status == "closed" and opp.closed_reason == "filled" and opp.filled == 1
    assert last_event(db).type == "opportunity_closed"
    before = event_count(db)
    with pytest.raises(Conflict, match="All places are filled."):
        apps.accept(db, w.partner, a2, now=at(3))
    db.commit()
    assert event_count(db) == before
    db.refresh(a2)
    assert a2.status == "submitted"
    assert db.execute(select(func.count()).select_from(Collaboration)).scalar_one() == 1
    with pytest.raises(Conflict):
        apps.apply_as_student(db, w.student3, opp, "Tre", now=at(3))
    # The owner can still say no to the rest.
    apps.reject(db, w.partner, a2, now=at(4), notify=False)


def test_decisions_after_the_deadline_are_allowed(db, w):
    opp = thesis(db, w, places=2)
    a = apps.apply_as_student(db, w.student, opp, "Hei", now=at(1))
    opps.close_expired(db, at(40))
    assert opp.status == "closed"
    apps.accept(db, w.partner, a, now=at(41), notify=False)
    db.commit()
    assert opp.filled == 1 and opp.closed_reason == "expired"


def test_supervision_offer_and_student_share_one_collaboration(db, w):
    opp = thesis(db, w, places=2)
    with pytest.raises(PermissionDenied):
        apps.offer_as_unit(db, w.staff2, w.idi, opp, "Vi veileder", now=at(1))
    offer = apps.offer_as_unit(db, w.staff, w.idi_ai, opp, "AI-gruppa veileder gjerne",
                               now=at(1))
    with pytest.raises(Conflict):
        apps.offer_as_unit(db, w.staff, w.idi_ai, opp, "Igjen", now=at(1))
    assert last_event(db).data == {"applicant_kind": "unit", "has_cv": False}
    a = apps.apply_as_student(db, w.student, opp, "Hei", now=at(2))
    collab = apps.accept(db, w.partner, offer, now=at(3), notify=False)
    assert opp.filled == 0  # supervision offers take no student place
    assert collab.unit_id == w.idi_ai.id
    assert {(p.role, p.user_id) for p in collab.participants} == {
        ("supervisor", w.staff.id), ("partner_contact", w.partner.id)}
    assert last_event(db).type == "collaboration_agreed"
    assert last_event(db).data["applicant_kind"] == "unit"
    before = event_count(db)
    joined = apps.accept(db, w.partner, a, now=at(4), notify=False)
    db.commit()
    assert joined.id == collab.id and opp.filled == 1
    assert collab.study_level == "master"
    new = events_of(db)[before:]
    assert [e.type for e in new] == ["application_accepted", "participant_added"]
    assert new[1].data["role"] == "student" and new[1].unit == "IE-IDI-AI"
    assert new[1].department == "IE-IDI" and new[1].faculty == "IE"
    # The offering unit's staff see the application, not other students'.
    assert apps.get_application(db, w.staff, offer.id) is offer
    with pytest.raises(NotFound):
        apps.get_application(db, w.staff, a.id)


def test_eit_village_partner_and_students(db, w):
    v = village(db, w, places=25)
    with pytest.raises(PermissionDenied):
        apps.offer_as_organisation(db, w.newbie, w.unverified, v, "Vi vil", now=at(1))
    with pytest.raises(PermissionDenied):
        apps.offer_as_organisation(db, w.partner2, w.org, v, "Vi vil", now=at(1))
    offer = apps.offer_as_organisation(db, w.partner2, w.org2, v, "Kommunen stiller",
                                       now=at(1))
    s1 = apps.apply_as_student(db, w.student, v, "Landsby!", now=at(1))
    s2 = apps.apply_as_student(db, w.student3, v, "Landsby!", now=at(1))
    c1 = apps.accept(db, w.staff, s1, now=at(2), notify=False)
    assert last_event(db).type == "collaboration_agreed"
    before = event_count(db)
    c2 = apps.accept(db, w.staff, offer, now=at(3), notify=False)
    assert [e.type for e in events_of(db)[before:]] == ["application_accepted",
                                                       "partner_joined_village"]
    ev = last_event(db)
    assert ev.partner_sector == "public_municipal" and ev.organisation_id == w.org2.id
    assert ev.data["village_code"] == "TPK4851" and ev.data["semester"] == "2026V"
    c3 = apps.accept(db, w.staff, s2, now=at(4), notify=False)
    db.commit()
    assert c1.id == c2.id == c3.id and c1.application_id is None
    assert [p.organisation_id for p in c1.partners] == [w.org2.id]
    assert sorted(p.role for p in c1.participants) == [
        "partner_contact", "student", "student", "supervisor"]
    assert last_event(db).type == "participant_added"
    assert v.filled == 2
    # Villages do not take offers from organisations that are not looking.
    thesis_opp = thesis(db, w)
    with pytest.raises(Conflict):
        apps.offer_as_organisation(db, w.partner2, w.org2, thesis_opp, "Hei", now=at(1))


def test_eit_wishes(db, w):
    other = [village(db, w, owner=w.ibm, actor=w.staff2, village_code=f"TBA48{i}",
                     title=f"Landsby {i}") for i in range(3)]
    own = village(db, w, village_code="TDT4851", title="Egen landsby")
    autumn = village(db, w, village_code="TDT4852", semester="2026H", title="Høst")
    ids = [own.id, other[0].id]
    with pytest.raises(ValidationFailed, match="another faculty"):
        apps.record_eit_wishes(db, w.student, "2026V", ids, now=at(1))
    with pytest.raises(ValidationFailed):
        apps.record_eit_wishes(db, w.student, "2026V", [*ids, autumn.id], now=at(1))
    with pytest.raises(ValidationFailed):
        apps.record_eit_wishes(db, w.student, "2026V", [own.id, own.id], now=at(1))
    with pytest.raises(ValidationFailed):
        apps.record_eit_wishes(db, w.student, "2026V", [1, 2, 3, 4, 5, 6], now=at(1))
    with pytest.raises(ValidationFailed, match="deadline"):
        apps.record_eit_wishes(db, w.student, "2026V", [o.id for o in other], now=at(60))
    assert event_count(db, "eit_wishes_recorded") == 0
    apps.record_eit_wishes(db, w.student, "2026V", [other[1].id, own.id, other[0].id],
                           now=at(1))
    apps.record_eit_wishes(db, w.student, "2026V", [own.id, other[2].id, other[0].id],
                           now=at(2))
    db.commit()
    wishes = apps.eit_wishes(db, w.student, "2026V")
    assert [(x.rank, x.opportunity_id) for x in wishes] == [
        (1, own.id), (2, other[2].id), (3, other[0].id)]
    assert db.execute(select(func.count()).select_from(EitWish)).scalar_one() == 3
    ev = last_event(db)
    assert ev.type == "eit_wishes_recorded" and ev.faculty == "IE"
    assert ev.data == {"semester": "2026V", "wishes": 3, "other_faculty": 2,
                       "village_codes": ["TDT4851", "TBA482", "TBA480"]}
    with pytest.raises(PermissionDenied):
        apps.record_eit_wishes(db, w.partner, "2026V", [own.id], now=at(1))


def _accept_in_thread(factory, application_id, partner_id, outcomes, barrier):
    from portal.models import User

    session = factory()
    try:
        barrier.wait()
        application = session.get(Application, application_id)
        partner = session.get(User, partner_id)
        apps.accept(session, partner, application, now=at(5), notify=False)
        session.commit()
        outcomes.append("ok")
    except Conflict:
        session.rollback()
        outcomes.append("full")
    except Exception as exc:  # pragma: no cover - reported by the assertion
        session.rollback()
        outcomes.append(repr(exc))
    finally:
        session.close()


def test_capacity_holds_under_concurrent_acceptance(app, db, w):
    opp = thesis(db, w, places=2)
    students = [w.student, w.student2, w.student3] + [
        user(db, f"extra{i}@example.no", ["student"]) for i in range(3)]
    ids = [apps.apply_as_student(db, s, opp, "Velg meg", now=at(1)).id for s in students]
    db.commit()
    factory = app.extensions["portal.sessionmaker"]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(ids))
    threads = [threading.Thread(target=_accept_in_thread,
                                args=(factory, i, w.partner.id, outcomes, barrier))
               for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["full"] * 4 + ["ok"] * 2, outcomes
    db.rollback()
    db.expire_all()
    fresh = db.get(Opportunity, opp.id)
    assert fresh.filled == 2 and fresh.status == "closed" and fresh.closed_reason == "filled"
    assert db.execute(select(func.count()).select_from(Application)
                      .where(Application.status == "accepted")).scalar_one() == 2
    assert db.execute(select(func.count()).select_from(Collaboration)).scalar_one() == 2
    assert event_count(db, "application_accepted") == 2
    assert event_count(db, "opportunity_closed") == 1


def test_accepting_on_an_archived_opportunity_is_refused(db, w):
    opp = thesis(db, w, deadline=date(2025, 9, 20))
    a = apps.apply_as_student(db, w.student, opp, "Hei", now=at(1))
    opps.close(db, w.partner, opp, now=at(2))
    opps.archive(db, w.partner, opp, now=at(3))
    with pytest.raises(Conflict):
        apps.accept(db, w.partner, a, now=at(4))


def test_concurrent_partner_acceptances_share_one_village(app, db, w):
    v = village(db, w)
    offers = [apps.offer_as_organisation(db, p, o, v, "Vi vil", now=at(1)).id
              for p, o in ((w.partner, w.org), (w.partner2, w.org2))]
    db.commit()
    factory = app.extensions["portal.sessionmaker"]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(offers))
    threads = [threading.Thread(target=_accept_in_thread,
                                args=(factory, i, w.staff.id, outcomes, barrier))
               for i in offers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert outcomes == ["ok", "ok"]
    db.rollback()
    rows = db.execute(select(Collaboration).where(Collaboration.opportunity_id == v.id)
                      ).scalars().all()
    assert len(rows) == 1
    assert sorted(p.organisation_id for p in rows[0].partners) == sorted([w.org.id, w.org2.id])
    assert event_count(db, "collaboration_agreed") == 1
    assert event_count(db, "partner_joined_village") == 2
