"""Recording collaboration events with their dimension snapshot.

``record_event`` is the only writer of ``collaboration_event``. It is called
by the services in the same transaction as the state change it documents,
and never commits. The snapshot is taken *now*, from the state of the linked
rows at event time, so that indicators read last year's facts as they were
(a partner that later changes sector keeps its old sector in old events).

Resolution rules (the first that yields a value wins):

* partner organisation: ``organisation`` → the collaboration's first partner
  (lowest id) → the opportunity's owner organisation → the application's
  applicant organisation.
* academic unit: ``unit`` → ``collaboration.unit`` → the opportunity's owner
  unit → the application's applicant unit → the student's profile unit.
  ``faculty``/``department`` are the codes of the unit's ancestors at those
  levels (or the unit itself); ``unit`` is the unit's own code.
* the student: ``subject`` if they have a student profile → the application's
  student applicant → the collaboration's only student participant.
* study level: ``collaboration.study_level`` → the student's profile level →
  the opportunity's level if it has exactly one.
* programme: ``collaboration.programme`` → the student's profile programme.
* form: ``collaboration.form`` → the opportunity's kind.
* course: ``course`` → the collaboration's only tagged course.

Persons are stored only as pseudonymous keys (``accounts.person_key``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from portal.models import (
    AcademicUnit,
    Application,
    Collaboration,
    CollaborationEvent,
    CollaborationParticipant,
    CollaborationPartner,
    Course,
    Opportunity,
    Organisation,
    StudentProfile,
    User,
    utcnow,
)
from portal.services.accounts import person_key
from portal.services.event_catalogue import CATALOGUE
from portal.services.nace import section_for


class UnknownEventType(ValueError):
    """A programming error: the type is not in the event catalogue."""


def aware(moment: datetime | None, name: str = "now") -> datetime:
    """``moment`` or the current time; naive datetimes are refused (UTC-aware only)."""
    if moment is None:
        return utcnow()
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC)")
    return moment


def touch(obj, now: datetime) -> None:
    """Set ``obj.updated_at = now`` so that it sticks.

    The models' ``onupdate=utcnow`` fires whenever ``updated_at`` is not in
    the UPDATE, and SQLAlchemy leaves it out when the new value equals the
    old one (two changes at the same ``now``): the wall clock would leak into
    rows written at fixed dates. Flagging it modified keeps it in the UPDATE.
    """
    obj.updated_at = now
    flag_modified(obj, "updated_at")


def record_event(
    db: Session,
    type: str,  # noqa: A002 - the column's name
    *,
    actor: User | None,
    subject: User | None = None,
    collaboration: Collaboration | None = None,
    opportunity: Opportunity | None = None,
    application: Application | None = None,
    organisation: Organisation | None = None,
    unit: AcademicUnit | None = None,
    course: Course | None = None,
    occurred_at: datetime | None = None,
    now: datetime | None = None,
    data: dict[str, Any] | None = None,
) -> CollaborationEvent:
    """Append one event with its snapshot; flushes, never commits."""
    if type not in CATALOGUE:
        raise UnknownEventType(f"unknown event type: {type!r}")
    now = aware(now)
    occurred_at = aware(occurred_at, "occurred_at") if occurred_at is not None else now

    if opportunity is None and application is not None:
        opportunity = application.opportunity
    if opportunity is None and collaboration is not None:
        opportunity = collaboration.opportunity
    if application is None and collaboration is not None:
        application = collaboration.application

    partner = organisation or _first_partner(db, collaboration)
    if partner is None and opportunity is not None:
        partner = opportunity.owner_org
    if partner is None and application is not None:
        partner = application.applicant_org

    student = _student(db, subject, application, collaboration)
    profile = db.get(StudentProfile, student.id) if student is not None else None

    the_unit = unit
    if the_unit is None and collaboration is not None:
        the_unit = collaboration.unit
    if the_unit is None and opportunity is not None:
        the_unit = opportunity.owner_unit
    if the_unit is None and application is not None:
        the_unit = application.applicant_unit
    if the_unit is None and profile is not None:
        the_unit = profile.unit
    if the_unit is None and course is not None:
        # An industry case used in a course belongs to the course's unit.
        the_unit = course.unit

    level = collaboration.study_level if collaboration is not None else None
    if level is None and profile is not None:
        level = profile.level
    if level is None and opportunity is not None and len(opportunity.levels) == 1:
        level = opportunity.levels[0].level
    programme = collaboration.programme if collaboration is not None else None
    if not programme and profile is not None and profile.programme:
        programme = profile.programme

    the_course = course or _only_course(collaboration)

    event = CollaborationEvent(
        type=type,
        occurred_at=occurred_at,
        recorded_at=now,
        actor_key=person_key(db, actor),
        subject_key=person_key(db, subject),
        collaboration_id=collaboration.id if collaboration is not None else None,
        opportunity_id=opportunity.id if opportunity is not None else None,
        application_id=application.id if application is not None else None,
        organisation_id=partner.id if partner is not None else None,
        unit_id=the_unit.id if the_unit is not None else None,
        course_id=the_course.id if the_course is not None else None,
        form=(collaboration.form if collaboration is not None
              else opportunity.kind if opportunity is not None else None),
        opportunity_kind=opportunity.kind if opportunity is not None else None,
        partner_sector=partner.sector if partner is not None else None,
        partner_public_enterprise=partner.public_enterprise if partner is not None else None,
        partner_size=partner.size_class if partner is not None else None,
        partner_country=partner.country if partner is not None else None,
        partner_nace=section_for(partner.nace_code) if partner is not None else None,
        faculty=_code_at(the_unit, "faculty"),
        department=_code_at(the_unit, "department"),
        unit=the_unit.code if the_unit is not None else None,
        course=the_course.code if the_course is not None else None,
        study_level=level,
        programme=(programme or None) and programme[:200],
        data=_jsonable(data or {}),
    )
    db.add(event)
    db.flush()
    return event


# ---------------------------------------------------------------- helpers
def _first_partner(db: Session, collaboration: Collaboration | None) -> Organisation | None:
    if collaboration is None:
        return None
    if collaboration.id is None:
        db.flush()
    row = db.execute(
        select(CollaborationPartner)
        .where(CollaborationPartner.collaboration_id == collaboration.id)
        .order_by(CollaborationPartner.organisation_id)
        .limit(1)
    ).scalar_one_or_none()
    return row.organisation if row is not None else None


def _student(db: Session, subject: User | None, application: Application | None,
             collaboration: Collaboration | None) -> User | None:
    if subject is not None and db.get(StudentProfile, subject.id) is not None:
        return subject
    if application is not None and application.applicant_kind == "student":
        return application.applicant_user
    if collaboration is not None and collaboration.id is not None:
        students = db.execute(
            select(CollaborationParticipant.user_id)
            .where(CollaborationParticipant.collaboration_id == collaboration.id,
                   CollaborationParticipant.role == "student")
        ).scalars().all()
        if len(students) == 1:
            return db.get(User, students[0])
    return None


def _only_course(collaboration: Collaboration | None) -> Course | None:
    if collaboration is None or collaboration.id is None:
        return None
    courses = collaboration.courses
    return courses[0].course if len(courses) == 1 else None


def _code_at(unit: AcademicUnit | None, level: str) -> str | None:
    if unit is None:
        return None
    node = unit.ancestor_at(level)
    return node.code if node is not None else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
