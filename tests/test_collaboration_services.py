from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from portal.models.vocab import RECORDED_FORMS
from portal.paths import DATA_DIR
from portal.services import applications as apps
from portal.services import collaborations as collabs
from portal.services import forms_glossary
from portal.services import opportunities as opps
from portal.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.matching_builders import T0, at, event_count, events_of, last_event, thesis


@pytest.fixture
def matched(db, w):
    """An agreed thesis collaboration: student + partner contact."""
    opp = thesis(db, w)
    a = apps.apply_as_student(db, w.student, opp, "Hei", now=at(1))
    collab = apps.accept(db, w.partner, a, now=at(2), notify=False)
    db.commit()
    return collab


class OneEvent:
    """Asserts that the block wrote exactly one event (of ``type_``)."""

    expected = 1

    def __init__(self, db, type_=None):
        self.db, self.type = db, type_

    def __enter__(self):
        self.before = event_count(self.db)
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            return False
        written = event_count(self.db) - self.before
        assert written == self.expected, f"expected {self.expected} events, got {written}"
        if self.expected:
            self.event = last_event(self.db)
            if self.type:
                assert self.event.type == self.type
        return False


class NoEvent(OneEvent):
    """Wraps a refused action (``pytest.raises`` inside): no event may be written."""

    expected = 0


# ------------------------------------------------------------ glossary
def test_glossary_data_file_covers_every_form():
    raw = json.loads((DATA_DIR / "collaboration_forms.json").read_text(encoding="utf-8"))
    forms = {row["form"]: row["kind"] for row in raw["forms"]}
    assert set(forms) == {"thesis_task", "placement", "industry_case", "eit_village",
                          *RECORDED_FORMS}
    assert {f for f, k in forms.items() if k == "recorded"} == set(RECORDED_FORMS)


@pytest.mark.parametrize("label, form", [
    ("Gjesteforelesning", "guest_lecture"),
    ("  professor   II ", "shared_position"),
    ("HOSPITERING", "staff_mobility"),
    ("Bedriftsbesøk", "company_visit"),
    ("hackathon", "workshop"),
    ("Master's thesis", "thesis_task"),
    ("praksisplass", "placement"),
    ("guest_lecture", "guest_lecture"),
    ("career fair", "career_event"),
    ("studieprogramråd", "advisory_role"),
    ("SFI", "research_collaboration"),
    ("studentbedrift", "student_innovation"),
    ("jobbskygging", "mentoring"),
    ("landsby", "eit_village"),
    ("noe helt annet", None),
    ("", None),
    (None, None),
])
def test_local_labels_map_to_canonical_forms(label, form):
    assert forms_glossary.canonical_form_for_label(label) == form


# -------------------------------------------------------- record_direct
def test_record_a_guest_lecture_by_its_local_label(db, w):
    with OneEvent(db, "collaboration_recorded") as one:
        c = collabs.record_direct(db, w.courseleader, local_label="Gjesteforelesning",
                                  title="Gjesteforelesning om skytjenester", partners=[w.org],
                                  courses=[w.course], start_date=date(2025, 9, 3),
                                  participants_count=85, now=at(10))
        db.commit()
    assert c.form == "guest_lecture" and c.local_label == "Gjesteforelesning"
    assert c.status == "completed" and c.end_date == date(2025, 9, 3)
    assert c.unit_id == w.idi.id
    assert [(p.role, p.user_id) for p in c.participants] == [("course_leader",
                                                              w.courseleader.id)]
    ev = one.event
    assert ev.form == "guest_lecture" and ev.course == "TDT4290" and ev.course_id == w.course.id
    assert ev.partner_sector == "private" and ev.department == "IE-IDI"
    assert ev.data["via"] == "recorded" and ev.data["status"] == "completed"
    assert ev.data["participants_count"] == 85 and ev.data["local_label"] == "Gjesteforelesning"
    assert ev.data["partner_org_ids"] == [w.org.id] and ev.data["course_codes"] == ["TDT4290"]
    # Completed: no more changes.
    with NoEvent(db), pytest.raises(Conflict):
        collabs.cancel(db, w.courseleader, c, "Feil", now=at(11))


def test_record_a_shared_position_needs_its_effort(db, w):
    kwargs = dict(form="shared_position", title="Professor II i havbruksteknologi",
                  partners=[w.org], unit=w.idi, start_date=date(2025, 8, 1),
                  end_date=date(2028, 7, 31), now=at(0))
    with NoEvent(db), pytest.raises(ValidationFailed) as exc:
        collabs.record_direct(db, w.staff, **kwargs)
    assert "fte" in exc.value.errors
    with OneEvent(db, "collaboration_recorded") as one:
        c = collabs.record_direct(db, w.staff, fte="0,2", **kwargs)
    assert c.status == "ongoing" and str(c.fte) == "0.2"
    assert one.event.data["fte"] == 0.2 and one.event.data["end_date"] == "2028-07-31"


@pytest.mark.parametrize("kwargs, field", [
    ({"local_label": "noe helt annet"}, "form"),
    ({"form": "thesis_task"}, "form"),
    ({"form": "guest_lecture", "partners": []}, "partners"),
    ({"form": "guest_lecture", "title": " "}, "title"),
    ({"form": "guest_lecture", "participants_count": -1}, "participants_count"),
    ({"form": "guest_lecture", "fte": 0.5}, "fte"),
    ({"form": "workshop", "end_date": date(2025, 1, 1)}, "end_date"),
])
def test_record_direct_validation(db, w, kwargs, field):
    base = dict(title="Noe", partners=[w.org], unit=w.idi, start_date=date(2025, 9, 1),
                now=at(1))
    with NoEvent(db), pytest.raises(ValidationFailed) as exc:
        collabs.record_direct(db, w.staff, **{**base, **kwargs})
    assert field in exc.value.errors


def test_only_unit_staff_course_leaders_or_coordinators_record(db, w):
    base = dict(form="company_visit", title="Besøk", partners=[w.org2],
                start_date=date(2025, 9, 1), now=at(1))
    for outsider, extra in ((w.staff2, {"unit": w.idi}), (w.student, {"unit": w.idi}),
                            (w.partner, {"unit": w.idi}),
                            (w.staff, {"courses": [w.course2]})):
        with NoEvent(db), pytest.raises(PermissionDenied):
            collabs.record_direct(db, outsider, **base, **extra)
    c = collabs.record_direct(db, w.coordinator, unit=w.ibm, **base)
    assert c.unit_id == w.ibm.id


# ------------------------------------------------------ participants
def test_staff_add_and_change_supervisors(db, w, matched):
    c = matched
    # The partner contact adds a supervisor from the university.
    with OneEvent(db, "participant_added") as one:
        collabs.add_participant(db, w.partner, c, w.staff, "supervisor", now=at(3))
    assert one.event.data == {"role": "supervisor", "staff_role": True, "participants": 3}
    assert one.event.subject_key is not None
    with NoEvent(db), pytest.raises(Conflict):
        collabs.add_participant(db, w.partner, c, w.staff, "supervisor", now=at(3))
    with NoEvent(db), pytest.raises(ValidationFailed):
        collabs.add_participant(db, w.partner, c, w.student2, "supervisor", now=at(3))
    with NoEvent(db), pytest.raises(ValidationFailed):
        collabs.add_participant(db, w.partner, c, w.staff2, "partner_contact",
                                organisation=w.org2, now=at(3))
    # The student takes part but cannot change who else does.
    with NoEvent(db), pytest.raises(PermissionDenied):
        collabs.add_participant(db, w.student, c, w.student2, "student", now=at(3))
    with NoEvent(db), pytest.raises(PermissionDenied):
        collabs.add_participant(db, w.staff2, c, w.staff2, "supervisor", now=at(3))
    before = event_count(db)
    collabs.change_supervisor(db, w.staff, c, w.staff, w.staff2, now=at(4))
    assert [e.type for e in events_of(db)[before:]] == ["participant_added",
                                                       "participant_removed"]
    assert {(p.role, p.user_id) for p in c.participants if p.role == "supervisor"} == {
        ("supervisor", w.staff2.id)}
    with NoEvent(db), pytest.raises(NotFound):
        collabs.remove_participant(db, w.partner, c, w.staff, "supervisor", now=at(5))


# ------------------------------------------------------------- courses
def test_only_course_leaders_tag_to_their_course(db, w, matched):
    c = matched
    for outsider in (w.staff, w.partner, w.student):
        with NoEvent(db), pytest.raises(PermissionDenied):
            collabs.tag_course(db, outsider, w.course, collaboration=c, now=at(3))
    with NoEvent(db), pytest.raises(PermissionDenied):
        collabs.tag_course(db, w.courseleader, w.course2, collaboration=c, now=at(3))
    with OneEvent(db, "course_tagged") as one:
        collabs.tag_course(db, w.courseleader, w.course, collaboration=c, semester="2025H",
                           now=at(3))
    assert one.event.course == "TDT4290" and one.event.course_id == w.course.id
    assert one.event.data["target"] == "collaboration" and one.event.data["ects"] == 15
    with NoEvent(db), pytest.raises(Conflict):
        collabs.tag_course(db, w.courseleader, w.course, collaboration=c, now=at(3))
    with OneEvent(db, "course_untagged"):
        collabs.untag_course(db, w.courseleader, w.course, collaboration=c, now=at(4))
    with NoEvent(db), pytest.raises(NotFound):
        collabs.untag_course(db, w.courseleader, w.course, collaboration=c, now=at(4))


def test_industry_cases_are_tagged_as_opportunities(db, w):
    case = opps.create_draft(db, w.partner, kind="industry_case", owner_org=w.org,
                             title="Case: optimalisering av fôring", description="Reelle data",
                             material="Datasett og video", suitable_courses=[w.course],
                             now=T0)
    with NoEvent(db), pytest.raises(Conflict):
        collabs.tag_course(db, w.courseleader, w.course, opportunity=case, now=at(1))
    opps.publish(db, w.partner, case, now=T0)
    with OneEvent(db, "course_tagged") as one:
        collabs.tag_course(db, w.courseleader, w.course, opportunity=case, semester="2026V",
                           teams_count=6, students_reached=31, now=at(1))
    assert one.event.opportunity_kind == "industry_case" and one.event.collaboration_id is None
    assert one.event.data == {"target": "opportunity", "semester": "2026V", "teams_count": 6,
                              "students_reached": 31, "ects": 15}
    with NoEvent(db), pytest.raises(Conflict):
        collabs.tag_course(db, w.courseleader, w.course, opportunity=case, now=at(1))
    other = thesis(db, w)
    with NoEvent(db), pytest.raises(ValidationFailed):
        collabs.tag_course(db, w.courseleader, w.course, opportunity=other, now=at(1))


# ----------------------------------------------------------- lifecycle
def test_lifecycle_each_transition_one_event(db, w, matched):
    c = matched
    with NoEvent(db), pytest.raises(PermissionDenied):
        collabs.start(db, w.partner2, c, now=at(3))
    with OneEvent(db, "collaboration_started") as one:
        collabs.start(db, w.partner, c, start_date=date(2026, 1, 15), now=at(3))
    assert c.status == "ongoing" and one.event.data["students"] == 1
    with NoEvent(db), pytest.raises(Conflict):
        collabs.start(db, w.partner, c, now=at(3))
    with NoEvent(db), pytest.raises(ValidationFailed):
        collabs.record_result(db, w.student, c, type="thesis_delivered", title="Tittel",
                              now=at(300))
    with NoEvent(db), pytest.raises(ValidationFailed):
        collabs.record_result(db, w.student, c, type="patent", now=at(300))
    with NoEvent(db), pytest.raises(ValidationFailed):
        collabs.record_result(db, w.student, c, type="report", occurred_on=date(2027, 1, 1),
                              now=at(300))
    with NoEvent(db), pytest.raises(PermissionDenied):
        collabs.record_result(db, w.student2, c, type="report", now=at(300))
    with OneEvent(db, "result_recorded") as one:
        collabs.record_result(db, w.student, c, type="thesis_delivered",
                              title="Maskinlæring i havbruk",
                              link="https://ntnuopen.ntnu.no/ntnu-xmlui/handle/11250/1",
                              occurred_on=date(2026, 6, 10), now=at(300))
    ev = one.event
    assert ev.data["result_type"] == "thesis_delivered" and ev.data["has_link"] is True
    assert ev.data["result_category"] == "deliverable" and ev.data["after_completion"] is False
    assert ev.occurred_at == datetime(2026, 6, 10, 10, 0, tzinfo=UTC)  # noon in Oslo
    assert ev.recorded_at == at(300) and ev.study_level == "master"
    with OneEvent(db, "impact_story_recorded") as one:
        collabs.record_impact_story(db, w.partner, c, "Modellen er i drift.", public=True,
                                    now=at(301))
    assert one.event.data["public"] is True and "drift" not in repr(one.event.data)
    with NoEvent(db), pytest.raises(ValidationFailed):
        collabs.complete(db, w.partner, c, end_date=date(2025, 1, 1), now=at(302))
    with OneEvent(db, "collaboration_completed") as one:
        collabs.complete(db, w.partner, c, end_date=date(2026, 6, 15), now=at(302))
    assert one.event.data["results_count"] == 1
    assert one.event.data["result_types"] == ["thesis_delivered"]
    assert one.event.data["has_impact_story"] is True and one.event.data["students"] == 1
    assert one.event.data["duration_days"] == 151
    # Completed: read-only …
    for action in (
        lambda: collabs.complete(db, w.partner, c, now=at(303)),
        lambda: collabs.cancel(db, w.partner, c, "Likevel", now=at(303)),
        lambda: collabs.start(db, w.partner, c, now=at(303)),
        lambda: collabs.add_participant(db, w.partner, c, w.staff, "supervisor", now=at(303)),
        lambda: collabs.remove_participant(db, w.partner, c, w.student, "student",
                                           now=at(303)),
        lambda: collabs.tag_course(db, w.courseleader, w.course, collaboration=c,
                                   now=at(303)),
    ):
        with NoEvent(db), pytest.raises(Conflict, match="completed"):
            action()
    # … but outcomes that come later can still be documented.
    with OneEvent(db, "result_recorded") as one:
        collabs.record_result(db, w.partner, c, type="student_recruited", now=at(330))
    assert one.event.data["after_completion"] is True
    assert one.event.data["result_category"] == "outcome"


def test_cancel(db, w, matched):
    c = matched
    with NoEvent(db), pytest.raises(ValidationFailed):
        collabs.cancel(db, w.partner, c, " ", now=at(3))
    with NoEvent(db), pytest.raises(PermissionDenied):
        collabs.cancel(db, w.student, c, "Orker ikke", now=at(3))
    with OneEvent(db, "collaboration_cancelled") as one:
        collabs.cancel(db, w.partner, c, "Studenten byttet oppgave", now=at(3))
    assert one.event.data == {"form": "thesis_task", "from_status": "agreed"}
    assert c.cancel_reason == "Studenten byttet oppgave"
    with NoEvent(db), pytest.raises(Conflict, match="cancelled"):
        collabs.record_result(db, w.partner, c, type="report", now=at(4))
    with NoEvent(db), pytest.raises(Conflict, match="cancelled"):
        collabs.record_impact_story(db, w.partner, c, "Noe", now=at(4))


def test_visibility(db, w, matched):
    c = matched
    for viewer in (w.student, w.partner, w.coordinator):
        assert collabs.get_collaboration(db, viewer, c.id) is c
    for outsider in (w.student2, w.partner2, w.staff2):
        with pytest.raises(NotFound):
            collabs.get_collaboration(db, outsider, c.id)
    assert [x.id for x in collabs.collaborations_of(db, w.student)] == [c.id]
