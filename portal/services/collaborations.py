"""Collaborations: directly recorded activities, participants, course tags,
start/complete/cancel, results and impact stories.

Every successful action records exactly one event (with its snapshot) in the
caller's transaction; a refused action raises before writing anything.
Completed and cancelled collaborations refuse changes with ``Conflict``;
results and impact stories may still be documented after completion (a
recruitment or a publication often comes later), not after cancellation.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.i18n import _l
from portal.models import (
    AcademicUnit,
    Collaboration,
    CollaborationCourse,
    CollaborationParticipant,
    CollaborationPartner,
    CollaborationResult,
    Course,
    Opportunity,
    OpportunityCourse,
    Organisation,
    User,
)
from portal.models.vocab import (
    DELIVERABLE_TYPES,
    PARTICIPANT_ROLES,
    RECORDED_FORMS,
    RESULT_TYPES,
    STUDY_LEVELS,
)
from portal.services import forms_glossary, policy
from portal.services.applications import participant_keys
from portal.services.errors import Conflict, NotFound, ValidationFailed
from portal.services.events import aware, record_event, touch
from portal.services.opportunities import OSLO, local_date, semester_valid

# One-off activities: recorded after the day they happened, they are complete.
ONE_OFF_FORMS = ("guest_lecture", "company_visit", "workshop", "career_event")
# Forms that carry FTE / person-months (A2-5), and those that must.
EFFORT_FORMS = ("shared_position", "staff_mobility", "research_collaboration")
EFFORT_REQUIRED_FORMS = ("shared_position", "staff_mobility")
STAFF_ROLES = ("supervisor", "course_leader", "staff")
MAX_TEXT = 10000


def _err(errors: dict, field: str, message) -> None:
    errors.setdefault(field, []).append(message)


def _require_changeable(collab: Collaboration) -> None:
    if collab.status == "completed":
        raise Conflict(_l("This collaboration is completed and can no longer be changed."))
    if collab.status == "cancelled":
        raise Conflict(_l("This collaboration is cancelled and can no longer be changed."))


def _require_documentable(collab: Collaboration) -> None:
    if collab.status == "cancelled":
        raise Conflict(_l("This collaboration is cancelled and can no longer be changed."))


def _decimal(value, field: str, lo: Decimal, hi: Decimal, errors: dict, message):
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        _err(errors, field, message)
        return None
    if not number.is_finite() or not (lo < number <= hi):
        _err(errors, field, message)
        return None
    return number


def _count(value, field: str, errors: dict):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        _err(errors, field, _l("Enter a whole number (0 or more)."))
        return None
    return value


def _figures(collab: Collaboration) -> dict:
    return {"participants_count": collab.participants_count,
            "teams_count": collab.teams_count, "fte": collab.fte,
            "person_months": collab.person_months, "ects": collab.ects}


def _partner_ids(collab: Collaboration) -> list[int]:
    return sorted(p.organisation_id for p in collab.partners)


# ------------------------------------------------------------ recording
def record_direct(
    db: Session,
    actor: User,
    *,
    title: str,
    partners: list[Organisation],
    start_date: date,
    form: str | None = None,
    local_label: str | None = None,
    description: str = "",
    unit: AcademicUnit | None = None,
    courses: list[Course] | tuple = (),
    end_date: date | None = None,
    participants_count: int | None = None,
    teams_count: int | None = None,
    fte=None,
    person_months=None,
    ects=None,
    study_level: str | None = None,
    programme: str | None = None,
    participants: list[tuple[User, str]] | tuple = (),
    status: str | None = None,
    now: datetime | None = None,
) -> Collaboration:
    """Document a collaboration of a "recorded" form (guest lecture, visit, …).

    ``form`` is canonical; without it, ``local_label`` (the department's own
    word) is mapped through the terminology bridge. Staff of ``unit`` (or a
    unit above it), leaders of one of ``courses`` and coordinators may record.
    The actor takes part as course leader (if they lead a tagged course) or
    staff. ``status`` defaults to completed for a one-off activity that has
    already happened, ongoing once started, agreed before.
    """
    now = aware(now)
    policy.require_active(actor)
    errors: dict = {}
    label = (local_label or "").strip() or None
    if form is None:
        form = forms_glossary.canonical_form_for_label(label)
        if form is None:
            _err(errors, "form", _l("We do not know that kind of collaboration; choose a "
                                    "form from the list."))
    if form is not None and form not in RECORDED_FORMS:
        _err(errors, "form", _l("Thesis tasks, placements, industry cases and EiT villages "
                                "are posted and matched as opportunities."))
    if label is not None and len(label) > 120:
        _err(errors, "local_label", _l("At most %(n)s characters.", n=120))
    title = (title or "").strip()
    if not title:
        _err(errors, "title", _l("Enter a title."))
    elif len(title) > 300:
        _err(errors, "title", _l("At most %(n)s characters.", n=300))
    if len(description or "") > MAX_TEXT:
        _err(errors, "description", _l("At most %(n)s characters.", n=MAX_TEXT))
    orgs = list(dict.fromkeys(partners or ()))
    if not orgs:
        _err(errors, "partners", _l("Choose at least one partner organisation."))
    courses = list(dict.fromkeys(courses or ()))
    if unit is None and courses:
        unit = courses[0].unit
    if unit is None:
        _err(errors, "unit", _l("Choose the academic unit."))
    if not isinstance(start_date, date) or isinstance(start_date, datetime):
        _err(errors, "start_date", _l("Enter the date."))
    elif end_date is not None and end_date < start_date:
        _err(errors, "end_date", _l("The end cannot be before the start."))
    participants_count = _count(participants_count, "participants_count", errors)
    teams_count = _count(teams_count, "teams_count", errors)
    fte = _decimal(fte, "fte", Decimal(0), Decimal(1), errors,
                   _l("Enter the share of a full-time position, such as 0.2."))
    person_months = _decimal(person_months, "person_months", Decimal(0), Decimal(120), errors,
                             _l("Enter person-months, such as 6."))
    ects = _decimal(ects, "ects", Decimal(0), Decimal(60), errors,
                    _l("Credits must be between 0.5 and 60."))
    if form in EFFORT_REQUIRED_FORMS and fte is None and person_months is None:
        _err(errors, "fte", _l("Enter the FTE share or the person-months."))
    if form is not None and form not in EFFORT_FORMS and (fte is not None
                                                          or person_months is not None):
        _err(errors, "fte", _l("FTE and person-months are for shared positions, "
                               "secondments and research collaborations."))
    if study_level is not None and study_level not in STUDY_LEVELS:
        _err(errors, "study_level", _l("Unknown study level."))
    if status is not None and status not in ("agreed", "ongoing", "completed"):
        _err(errors, "status", _l("Unknown status."))
    for _user, role in participants:
        if role not in PARTICIPANT_ROLES:
            _err(errors, "participants", _l("Unknown role: %(r)s", r=role))
    if errors:
        raise ValidationFailed(errors)

    led = [c for c in courses if policy.leads_course(db, actor, c)]
    policy.require(
        policy.is_coordinator(actor) or policy.is_unit_member(db, actor, unit) or bool(led),
        _l("Only staff of the unit, leaders of the course or coordinators can record this."))

    today = local_date(now)
    if status is None:
        last_day = end_date or start_date
        if form in ONE_OFF_FORMS and last_day < today:
            status = "completed"
        elif start_date <= today:
            status = "ongoing"
        else:
            status = "agreed"
    collab = Collaboration(
        form=form, local_label=label, title=title, description=(description or "").strip(),
        unit=unit, status=status, study_level=study_level,
        programme=(programme or "").strip()[:200] or None, start_date=start_date,
        end_date=end_date if end_date is not None else (
            start_date if status == "completed" else None),
        ects=ects, fte=fte, person_months=person_months,
        participants_count=participants_count, teams_count=teams_count,
        created_by_id=actor.id, created_at=now, updated_at=now,
        started_at=now if status in ("ongoing", "completed") else None,
        completed_at=now if status == "completed" else None)
    for org in orgs:
        collab.partners.append(CollaborationPartner(organisation_id=org.id, organisation=org))
    for course in courses:
        collab.courses.append(CollaborationCourse(course_id=course.id, course=course,
                                                  tagged_by_id=actor.id, tagged_at=now))
    seen = set()
    own_role = "course_leader" if led else "staff"
    for user, role in [(actor, own_role), *participants]:
        if (user.id, role) in seen:
            continue
        seen.add((user.id, role))
        collab.participants.append(CollaborationParticipant(user_id=user.id, user=user,
                                                            role=role, added_at=now))
    db.add(collab)
    db.flush()
    record_event(db, "collaboration_recorded", actor=actor, collaboration=collab,
                 course=courses[0] if courses else None, now=now, data={
                     "via": "recorded", "form": form, "local_label": label, "status": status,
                     "partner_org_ids": _partner_ids(collab), "partners_count": len(orgs),
                     "participant_keys": participant_keys(db, collab),
                     "course_codes": [c.code for c in courses],
                     "start_date": collab.start_date, "end_date": collab.end_date,
                     **_figures(collab)})
    return collab


# ----------------------------------------------------------- participants
def add_participant(db: Session, actor: User, collab: Collaboration, user: User, role: str,
                    *, organisation: Organisation | None = None,
                    now: datetime | None = None) -> CollaborationParticipant:
    """Add a person in a role (a second supervisor, an external co-supervisor, …)."""
    now = aware(now)
    policy.require_edit_collaboration(db, actor, collab)
    _require_changeable(collab)
    if role not in PARTICIPANT_ROLES:
        raise ValidationFailed({"role": [_l("Unknown role: %(r)s", r=role)]})
    if user is None or not policy.is_active(user):
        raise ValidationFailed({"user": [_l("Choose an active user.")]})
    if role == "student" and not user.has_role("student"):
        raise ValidationFailed({"user": [_l("Only students can take part as students.")]})
    if role in STAFF_ROLES and not user.has_role("staff", "course_leader", "coordinator"):
        raise ValidationFailed({"user": [_l("This role is for academic staff.")]})
    if organisation is not None and organisation.id not in _partner_ids(collab):
        raise ValidationFailed({"organisation": [
            _l("The organisation is not a partner in this collaboration.")]})
    if any(p.user_id == user.id and p.role == role for p in collab.participants):
        raise Conflict(_l("This person already takes part in that role."))
    participant = CollaborationParticipant(user_id=user.id, user=user, role=role,
                                           added_at=now,
                                           organisation_id=organisation.id
                                           if organisation is not None else None)
    collab.participants.append(participant)
    touch(collab, now)
    db.flush()
    record_event(db, "participant_added", actor=actor, subject=user, collaboration=collab,
                 organisation=organisation, now=now,
                 data={"role": role, "staff_role": role != "student",
                       "participants": len(collab.participants)})
    return participant


def remove_participant(db: Session, actor: User, collab: Collaboration, user: User, role: str,
                       *, now: datetime | None = None) -> None:
    now = aware(now)
    policy.require_edit_collaboration(db, actor, collab)
    _require_changeable(collab)
    participant = next((p for p in collab.participants
                        if p.user_id == user.id and p.role == role), None)
    if participant is None:
        raise NotFound(_l("This person does not take part in that role."))
    collab.participants.remove(participant)
    touch(collab, now)
    db.flush()
    record_event(db, "participant_removed", actor=actor, subject=user, collaboration=collab,
                 now=now, data={"role": role, "staff_role": role != "student",
                                "participants": len(collab.participants)})


def change_supervisor(db: Session, actor: User, collab: Collaboration, old: User,
                      new: User, *, now: datetime | None = None) -> None:
    """Replace one supervisor by another (two events: removed, added)."""
    add_participant(db, actor, collab, new, "supervisor", now=now)
    remove_participant(db, actor, collab, old, "supervisor", now=now)


# ---------------------------------------------------------------- courses
def _one_target(collaboration, opportunity) -> None:
    if (collaboration is None) == (opportunity is None):
        raise ValueError("give exactly one of collaboration= or opportunity=")


def tag_course(db: Session, actor: User, course: Course, *,
               collaboration: Collaboration | None = None,
               opportunity: Opportunity | None = None, semester: str | None = None,
               teams_count: int | None = None, students_reached: int | None = None,
               now: datetime | None = None) -> None:
    """A course leader tags a collaboration, or an industry case, to their course.

    ``semester`` names the course instance ("2026V"); ``teams_count`` and
    ``students_reached`` are the figures A2-3 counts.
    """
    now = aware(now)
    _one_target(collaboration, opportunity)
    policy.require_tag_course(db, actor, course)
    errors: dict = {}
    if semester is not None and not semester_valid(semester):
        _err(errors, "semester", _l("Write the semester like 2026H or 2027V."))
    teams_count = _count(teams_count, "teams_count", errors)
    students_reached = _count(students_reached, "students_reached", errors)
    if errors:
        raise ValidationFailed(errors)
    if collaboration is not None:
        _require_changeable(collaboration)
        if any(cc.course_id == course.id for cc in collaboration.courses):
            raise Conflict(_l("Already tagged to this course."))
        collaboration.courses.append(CollaborationCourse(course_id=course.id, course=course,
                                                         tagged_by_id=actor.id, tagged_at=now))
        touch(collaboration, now)
        target = "collaboration"
    else:
        if opportunity.kind != "industry_case":
            raise ValidationFailed({"opportunity": [
                _l("Only industry cases are tagged to courses as opportunities.")]})
        if opportunity.status == "draft":
            raise Conflict(_l("A draft cannot be tagged to a course."))
        row = db.get(OpportunityCourse, (opportunity.id, course.id))
        if row is not None and row.tagged_by_id is not None:
            raise Conflict(_l("Already tagged to this course."))
        if row is None:
            row = OpportunityCourse(opportunity_id=opportunity.id, course_id=course.id,
                                    course=course)
            opportunity.suitable_courses.append(row)
        row.tagged_by_id = actor.id
        target = "opportunity"
    db.flush()
    record_event(db, "course_tagged", actor=actor, collaboration=collaboration,
                 opportunity=opportunity, course=course, now=now, data={
                     "target": target, "semester": semester, "teams_count": teams_count,
                     "students_reached": students_reached, "ects": course.ects})


def untag_course(db: Session, actor: User, course: Course, *,
                 collaboration: Collaboration | None = None,
                 opportunity: Opportunity | None = None, semester: str | None = None,
                 now: datetime | None = None) -> None:
    now = aware(now)
    _one_target(collaboration, opportunity)
    policy.require_tag_course(db, actor, course)
    if collaboration is not None:
        _require_changeable(collaboration)
        row = next((cc for cc in collaboration.courses if cc.course_id == course.id), None)
        if row is None:
            raise NotFound(_l("Not tagged to this course."))
        collaboration.courses.remove(row)
        touch(collaboration, now)
        target = "collaboration"
    else:
        row = db.get(OpportunityCourse, (opportunity.id, course.id))
        if row is None or row.tagged_by_id is None:
            raise NotFound(_l("Not tagged to this course."))
        opportunity.suitable_courses.remove(row)
        target = "opportunity"
    db.flush()
    record_event(db, "course_untagged", actor=actor, collaboration=collaboration,
                 opportunity=opportunity, course=course, now=now,
                 data={"target": target, "semester": semester})


# ------------------------------------------------------------ transitions
def start(db: Session, actor: User, collab: Collaboration, *, start_date: date | None = None,
          now: datetime | None = None) -> None:
    """Agreed → ongoing (the student started, the project kicked off)."""
    now = aware(now)
    policy.require_edit_collaboration(db, actor, collab)
    _require_changeable(collab)
    if collab.status != "agreed":
        raise Conflict(_l("Only an agreed collaboration can be started."))
    day = start_date or local_date(now)
    if collab.end_date is not None and collab.end_date < day:
        raise ValidationFailed({"start_date": [_l("The start cannot be after the end.")]})
    collab.status = "ongoing"
    collab.start_date = day
    collab.started_at = now
    touch(collab, now)
    db.flush()
    record_event(db, "collaboration_started", actor=actor, collaboration=collab, now=now,
                 data={"form": collab.form, "start_date": day,
                       "students": _students(collab), "ects": collab.ects})


def _students(collab: Collaboration) -> int:
    return sum(1 for p in collab.participants if p.role == "student")


def complete(db: Session, actor: User, collab: Collaboration, *, end_date: date | None = None,
             participants_count: int | None = None, teams_count: int | None = None,
             now: datetime | None = None) -> None:
    """Agreed/ongoing → completed, with the figures at completion."""
    now = aware(now)
    policy.require_edit_collaboration(db, actor, collab)
    _require_changeable(collab)
    errors: dict = {}
    participants_count = _count(participants_count, "participants_count", errors)
    teams_count = _count(teams_count, "teams_count", errors)
    day = end_date or local_date(now)
    if collab.start_date is not None and day < collab.start_date:
        _err(errors, "end_date", _l("The end cannot be before the start."))
    if errors:
        raise ValidationFailed(errors)
    if participants_count is not None:
        collab.participants_count = participants_count
    elif collab.participants_count is None and _students(collab):
        collab.participants_count = _students(collab)
    if teams_count is not None:
        collab.teams_count = teams_count
    collab.status = "completed"
    collab.end_date = day
    collab.completed_at = now
    collab.started_at = collab.started_at or now
    touch(collab, now)
    db.flush()
    results = collab.results
    duration = (day - collab.start_date).days if collab.start_date else None
    record_event(db, "collaboration_completed", actor=actor, collaboration=collab, now=now,
                 data={"form": collab.form, "results_count": len(results),
                       "result_types": sorted({r.type for r in results}),
                       "has_impact_story": bool(collab.impact_story),
                       "students": _students(collab),
                       "partners_count": len(collab.partners),
                       "partner_org_ids": _partner_ids(collab),
                       "start_date": collab.start_date, "end_date": day,
                       "duration_days": duration, **_figures(collab)})


def cancel(db: Session, actor: User, collab: Collaboration, reason: str, *,
           now: datetime | None = None) -> None:
    now = aware(now)
    policy.require_edit_collaboration(db, actor, collab)
    _require_changeable(collab)
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed({"reason": [_l("Give a reason for cancelling.")]})
    if len(text) > 2000:
        raise ValidationFailed({"reason": [_l("At most %(n)s characters.", n=2000)]})
    old = collab.status
    collab.status = "cancelled"
    collab.cancel_reason = text
    collab.cancelled_at = now
    touch(collab, now)
    db.flush()
    record_event(db, "collaboration_cancelled", actor=actor, collaboration=collab, now=now,
                 data={"form": collab.form, "from_status": old})


# ------------------------------------------------------------ documenting
def _valid_link(link: str) -> bool:
    parts = urlsplit(link)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in link


def record_result(db: Session, actor: User, collab: Collaboration, *, type: str,  # noqa: A002
                  title: str = "", link: str | None = None, description: str | None = None,
                  occurred_on: date | None = None,
                  now: datetime | None = None) -> CollaborationResult:
    """Document a deliverable or an outcome (RESULT_TYPES).

    A delivered thesis (``thesis_delivered``, thesis tasks only) needs its
    title and a link to the archived thesis.
    """
    now = aware(now)
    policy.require_document_collaboration(db, actor, collab)
    _require_documentable(collab)
    errors: dict = {}
    title = (title or "").strip()
    link = (link or "").strip() or None
    today = local_date(now)
    day = occurred_on or today
    if type not in RESULT_TYPES:
        _err(errors, "type", _l("Unknown kind of result."))
    if type == "thesis_delivered":
        if collab.form != "thesis_task":
            _err(errors, "type", _l("Only thesis collaborations deliver a thesis."))
        if not title:
            _err(errors, "title", _l("Enter the thesis title."))
        if link is None:
            _err(errors, "link", _l("Enter the link to the archived thesis."))
    if len(title) > 300:
        _err(errors, "title", _l("At most %(n)s characters.", n=300))
    if link is not None and (len(link) > 500 or not _valid_link(link)):
        _err(errors, "link", _l("Enter a web address starting with https://."))
    if description is not None and len(description) > MAX_TEXT:
        _err(errors, "description", _l("At most %(n)s characters.", n=MAX_TEXT))
    if day > today:
        _err(errors, "occurred_on", _l("The date cannot be in the future."))
    if errors:
        raise ValidationFailed(errors)
    after = collab.status == "completed"
    result = CollaborationResult(type=type, title=title, link=link,
                                 description=(description or "").strip() or None,
                                 occurred_on=day, recorded_by_id=actor.id, recorded_at=now)
    collab.results.append(result)
    touch(collab, now)
    db.flush()
    occurred_at = now if day >= today else datetime.combine(
        day, time(12, 0), tzinfo=OSLO).astimezone(UTC)
    record_event(db, "result_recorded", actor=actor, collaboration=collab, now=now,
                 occurred_at=occurred_at, data={
                     "result_type": type,
                     "result_category": "deliverable" if type in DELIVERABLE_TYPES
                     else "outcome",
                     "occurred_on": day, "has_link": link is not None,
                     "after_completion": after, "result_id": result.id})
    return result


def record_impact_story(db: Session, actor: User, collab: Collaboration, text: str,
                        public: bool = False, *, now: datetime | None = None) -> None:
    """Write (or rewrite) the impact story; ``public`` is the consent to publish it."""
    now = aware(now)
    policy.require_document_collaboration(db, actor, collab)
    _require_documentable(collab)
    story = (text or "").strip()
    if not story:
        raise ValidationFailed({"impact_story": [_l("Write the story.")]})
    if len(story) > MAX_TEXT:
        raise ValidationFailed({"impact_story": [_l("At most %(n)s characters.",
                                                    n=MAX_TEXT)]})
    replaced = collab.impact_story is not None
    collab.impact_story = story
    collab.impact_story_public = bool(public)
    touch(collab, now)
    db.flush()
    record_event(db, "impact_story_recorded", actor=actor, collaboration=collab, now=now,
                 data={"public": bool(public), "length": len(story), "replaced": replaced,
                       "after_completion": collab.status == "completed"})


# ----------------------------------------------------------------- queries
def get_collaboration(db: Session, actor: User | None, collab_id: int) -> Collaboration:
    collab = db.get(Collaboration, collab_id)
    if collab is None or not policy.can_view_collaboration(db, actor, collab):
        raise NotFound(_l("No such collaboration."))
    return collab


def collaborations_of(db: Session, user: User) -> list[Collaboration]:
    """Collaborations the user takes part in, newest first."""
    return list(db.execute(
        select(Collaboration).join(CollaborationParticipant,
                                   CollaborationParticipant.collaboration_id == Collaboration.id)
        .where(CollaborationParticipant.user_id == user.id)
        .distinct().order_by(Collaboration.id.desc())
    ).scalars())
