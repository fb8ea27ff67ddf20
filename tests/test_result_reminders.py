"""The result_reminders job: stages, timing, idempotence, recipients and their languages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.models import Notification, OutboxMail, ResultReminder
from portal.services import academic, accounts, notifications, result_reminders
from portal.services import collaborations as collabs
from tests.matching_builders import T0, user

END = date(2025, 12, 15)
# 00:30 in Oslo on the day after the end date: the first moment a reminder is due.
DAY1 = datetime(2025, 12, 15, 23, 30, tzinfo=UTC)
ZERO = {"first": 0, "second": 0, "coordinator": 0, "skipped": 0}


def _run(app, now):
    return result_reminders.run(app.extensions["portal.sessionmaker"],
                                app.config["PORTAL_SETTINGS"], now)


def _collab(db, w, title="Mentorordning for masterstudenter", end=END, participants=None,
            unit=None):
    c = collabs.record_direct(
        db, w.staff, form="mentoring", title=title, partners=[w.org], unit=unit or w.idi,
        start_date=date(2025, 9, 1), end_date=end, now=T0,
        participants=participants if participants is not None
        else [(w.student, "student"), (w.partner, "partner_contact")])
    db.commit()
    return c


def _mails(db, to=None):
    db.rollback()
    q = select(OutboxMail).order_by(OutboxMail.id)
    if to is not None:
        q = q.where(OutboxMail.to_addr == to)
    return list(db.execute(q).scalars())


def _count(db, model):
    db.rollback()
    return db.execute(select(func.count()).select_from(model)).scalar_one()


def _stages(db, collab):
    db.rollback()
    return db.execute(select(ResultReminder.stage, ResultReminder.recipients)
                      .where(ResultReminder.collaboration_id == collab.id)
                      .order_by(ResultReminder.stage)).all()


def test_three_stages_at_the_right_times(app, db, w):
    c = _collab(db, w)
    before = len(_mails(db))
    # The end date is an Oslo date: 23:00 in Oslo on the end day is not yet past it.
    assert _run(app, datetime(2025, 12, 15, 22, 0, tzinfo=UTC)) == ZERO
    assert _run(app, DAY1) == {**ZERO, "first": 1}
    assert _stages(db, c) == [(1, 3)]  # the recording staff member, the student, the partner
    assert len(_mails(db)) == before + 3
    # Idempotent: the same moment again, and any day before the interval is up, sends nothing.
    assert _run(app, DAY1) == ZERO
    assert _run(app, DAY1 + timedelta(days=13, hours=20)) == ZERO
    assert len(_mails(db)) == before + 3
    # Whole days: a run earlier in the day than the first one still counts the 14th day.
    day15 = DAY1 + timedelta(days=14, hours=-0.4)
    assert _run(app, day15) == {**ZERO, "second": 1}
    assert _run(app, day15) == ZERO
    assert _stages(db, c) == [(1, 3), (2, 3)]
    second = _mails(db, "student@example.no")[-1]
    assert "mangler fortsatt" in second.subject  # the student reads Norwegian
    assert _run(app, day15 + timedelta(days=13)) == ZERO
    assert _run(app, day15 + timedelta(days=14)) == {**ZERO, "coordinator": 1}
    assert _run(app, day15 + timedelta(days=14)) == ZERO
    # Nothing after the coordinator's notice, however long it stays undocumented.
    assert _run(app, day15 + timedelta(days=300)) == ZERO
    assert [s for s, _n in _stages(db, c)] == [1, 2, 3]
    assert len(_mails(db, "student@example.no")) == 2
    assert len(_mails(db, "coord@example.no")) == 1


def test_mails_and_notifications_for_participants_in_their_language(app, db, w):
    c = _collab(db, w)
    # The partner already has one (their organisation was verified).
    unread = {p.id: notifications.unread_count(db, p) for p in (w.student, w.partner, w.staff)}
    _run(app, DAY1)
    student_mail = _mails(db, "student@example.no")[-1]  # locale nb
    partner_mail = _mails(db, "partner@example.no")[-1]  # locale en
    assert student_mail.locale == "nb" and partner_mail.locale == "en"
    assert student_mail.body_text.startswith("Hei, Stina Student!")
    assert "15. desember 2025" in student_mail.body_text
    assert partner_mail.body_text.startswith("Hello Per Partner,")
    assert "December 15, 2025" in partner_mail.body_text
    assert partner_mail.subject == 'Please record the results of "Mentorordning for masterstudenter"'
    for m in (student_mail, partner_mail):
        assert f"http://localhost/collaborations/{c.id}#results-heading" in m.body_text
    db.rollback()
    for person in (w.student, w.partner, w.staff):
        notes = [n for n in notifications.recent(db, person) if n.kind == "result_reminder"]
        assert [n.link for n in notes] == [f"/collaborations/{c.id}#results-heading"]
        assert notifications.unread_count(db, person) == unread[person.id] + 1
        assert notifications.message(notes[0]) == (
            "Please record the results of “Mentorordning for masterstudenter”.")
    _run(app, DAY1 + timedelta(days=14))
    db.rollback()
    assert notifications.unread_count(db, w.student) == 2
    notifications.mark_all_read(db, w.student, now=DAY1 + timedelta(days=15))
    db.commit()
    assert notifications.unread_count(db, w.student) == 0
    assert notifications.unread_count(db, w.partner) == unread[w.partner.id] + 2


def test_someone_in_two_roles_gets_one_reminder_and_inactive_people_none(app, db, w):
    accounts.add_role(db, w.student3, "staff", now=T0)
    db.commit()
    c = _collab(db, w, participants=[(w.student, "student"), (w.student2, "student"),
                                     (w.student3, "student"), (w.student3, "staff")])
    w.student2.is_active = False  # deactivated by an admin
    db.commit()
    assert _run(app, DAY1)["first"] == 1
    assert _stages(db, c) == [(1, 3)]  # staff, student, student3 once
    assert len(_mails(db, "student3@example.no")) == 1
    assert _mails(db, "student2@example.no") == []


def test_a_recorded_result_stops_the_reminders(app, db, w):
    c = _collab(db, w)
    _run(app, DAY1)
    collabs.record_result(db, w.student, c, type="report", title="Sluttrapport",
                          now=DAY1 + timedelta(days=2))
    db.commit()
    sent = len(_mails(db))
    for days in (14, 28, 42):
        assert _run(app, DAY1 + timedelta(days=days)) == ZERO
    assert len(_mails(db)) == sent
    assert _stages(db, c) == [(1, 3)]


def test_completion_or_cancellation_stops_them_and_such_collaborations_are_never_reminded(
        app, db, w):
    stopped = _collab(db, w, title="Stoppes")
    completed = _collab(db, w, title="Fullført før slutt", end=date(2025, 11, 1))
    cancelled = _collab(db, w, title="Avlyst")
    collabs.complete(db, w.staff, completed, end_date=date(2025, 11, 1), now=T0 + timedelta(60))
    collabs.cancel(db, w.staff, cancelled, "Partneren trakk seg", now=T0 + timedelta(60))
    db.commit()
    assert _run(app, DAY1) == {**ZERO, "first": 1}
    assert [s for s, _ in _stages(db, stopped)] == [1]
    collabs.complete(db, w.staff, stopped, now=DAY1 + timedelta(days=1))
    db.commit()
    for days in (14, 28, 42):
        assert _run(app, DAY1 + timedelta(days=days)) == ZERO
    for c in (completed, cancelled):
        assert _stages(db, c) == []
    assert [s for s, _ in _stages(db, stopped)] == [1]


def test_no_end_date_or_a_future_end_is_not_reminded(app, db, w):
    c = _collab(db, w, end=None)
    later = _collab(db, w, title="Senere", end=date(2026, 6, 30))
    assert _run(app, DAY1 + timedelta(days=100)) == ZERO
    assert _stages(db, c) == [] and _stages(db, later) == []


def test_the_coordinator_stage_goes_to_the_units_coordinators(app, db, w):
    # Member of the faculty above the collaboration's department: responsible.
    near = user(db, "koordinator.ie@example.no", ["coordinator"], "Ida Koordinator",
                locale="en")
    academic.add_unit_member(db, w.ie, near, now=T0)
    # A coordinator elsewhere, and a staff member of the unit who is no coordinator.
    far = user(db, "koordinator.iv@example.no", ["coordinator"], "Ivar Koordinator")
    academic.add_unit_member(db, w.iv, far, now=T0)
    db.commit()
    c = _collab(db, w, unit=w.idi_ai)
    _run(app, DAY1)
    _run(app, DAY1 + timedelta(days=14))
    assert _run(app, DAY1 + timedelta(days=28)) == {**ZERO, "coordinator": 1}
    assert _stages(db, c)[-1] == (3, 1)
    assert _mails(db, "coord@example.no") == [] and _mails(db, "koordinator.iv@example.no") == []
    (notice,) = _mails(db, "koordinator.ie@example.no")
    assert notice.locale == "en"
    assert notice.subject == 'No results recorded for "Mentorordning for masterstudenter"'
    assert "(Artificial Intelligence)" in notice.body_text
    assert "December 15, 2025" in notice.body_text
    assert f"http://localhost/collaborations/{c.id}#results-heading" in notice.body_text
    assert "reminded twice, 14 days apart" in notice.body_text
    db.rollback()
    (note,) = notifications.recent(db, near)
    assert note.kind == "result_reminder_coordinator"
    assert notifications.message(note) == ("No results have been recorded for “Mentorordning "
                                           "for masterstudenter”, which ended on 2025-12-15.")
    assert notifications.unread_count(db, near) == 1
    assert notifications.recent(db, w.coordinator) == []
    # Participants are not told again at the coordinator stage.
    assert notifications.unread_count(db, w.student) == 2


def test_without_unit_coordinators_every_active_coordinator_is_told(app, db, w):
    other = user(db, "koordinator2@example.no", ["coordinator"], "Kai Koordinator")
    gone = user(db, "koordinator3@example.no", ["coordinator"], "Gro Gammel")
    gone.is_active = False
    db.commit()
    _collab(db, w)
    for days in (0, 14, 28):
        _run(app, DAY1 + timedelta(days=days))
    assert len(_mails(db, "coord@example.no")) == 1
    (nb_notice,) = _mails(db, "koordinator2@example.no")
    assert nb_notice.locale == "nb" and "15. desember 2025" in nb_notice.body_text
    assert _mails(db, "koordinator3@example.no") == []
    db.rollback()
    assert notifications.unread_count(db, other) == 1


def test_nobody_to_remind_is_skipped_and_the_sequence_moves_on(app, db, w):
    c = _collab(db, w, participants=[])
    w.staff.is_active = False
    db.commit()
    assert _run(app, DAY1) == {**ZERO, "skipped": 1}
    assert _run(app, DAY1) == ZERO
    assert _run(app, DAY1 + timedelta(days=14)) == {**ZERO, "skipped": 1}
    assert _run(app, DAY1 + timedelta(days=28)) == {**ZERO, "coordinator": 1}
    assert _stages(db, c) == [(1, 0), (2, 0), (3, 1)]
    (notice,) = _mails(db, "coord@example.no")
    assert "ingen kunne få påminnelse" in notice.body_text  # the coordinator reads Norwegian


def test_a_failure_loses_nothing_and_doubles_nothing(app, db, w, monkeypatch):
    good = _collab(db, w, title="God")
    bad = _collab(db, w, title="Feiler")
    real = notifications.notify

    def flaky(db_, person, kind, *, params=None, **kw):
        # Fails after the first mail of "bad" was queued: its whole stage must roll back.
        if params and params.get("title") == "Feiler":
            raise RuntimeError("disk full")
        return real(db_, person, kind, params=params, **kw)

    monkeypatch.setattr(notifications, "notify", flaky)
    before = _count(db, OutboxMail)
    with pytest.raises(result_reminders.ReminderFailures, match=str(bad.id)):
        _run(app, DAY1)
    assert [s for s, _ in _stages(db, good)] == [1]
    assert _stages(db, bad) == []
    assert _count(db, OutboxMail) == before + 3
    monkeypatch.setattr(notifications, "notify", real)
    assert _run(app, DAY1) == {**ZERO, "first": 1}
    assert [s for s, _ in _stages(db, bad)] == [1]
    assert _count(db, OutboxMail) == before + 6


def test_a_stage_already_recorded_by_another_runner_is_not_sent_again(app, db, w, monkeypatch):
    c = _collab(db, w)
    # Another runner committed stage 1 after this one decided it was due.
    db.add(ResultReminder(collaboration_id=c.id, stage=1, sent_at=DAY1, recipients=3))
    db.commit()
    monkeypatch.setattr(result_reminders, "due_stage", lambda *a: 1)
    before, notes = _count(db, OutboxMail), _count(db, Notification)
    assert _run(app, DAY1) == ZERO
    assert _count(db, OutboxMail) == before and _count(db, Notification) == notes
