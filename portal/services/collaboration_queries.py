"""Read-side views of collaborations: course pages, portfolios, partner relationships."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import (
    AcademicUnit,
    Collaboration,
    CollaborationCourse,
    CollaborationParticipant,
    CollaborationPartner,
    Course,
    Opportunity,
    OpportunityCourse,
    Organisation,
    User,
)
from portal.services import academic
from portal.services.errors import NotFound

led_courses = academic.courses_led_by


def course_by_code(db: Session, code: str) -> Course:
    course = academic.course_by_code(db, code)
    if course is None:
        from portal.i18n import _l

        raise NotFound(_l("No such course."))
    return course


@dataclass
class CoursePage:
    course: Course
    collaborations: list[Collaboration]
    cases: list[Opportunity]
    leaders: list[User]


def course_page(db: Session, course: Course) -> CoursePage:
    collabs = list(db.execute(
        select(Collaboration).join(CollaborationCourse,
                                   CollaborationCourse.collaboration_id == Collaboration.id)
        .where(CollaborationCourse.course_id == course.id)
        .order_by(Collaboration.start_date.desc().nulls_last(), Collaboration.id.desc())
    ).scalars())
    cases = list(db.execute(
        select(Opportunity).join(OpportunityCourse, OpportunityCourse.opportunity_id == Opportunity.id)
        .where(OpportunityCourse.course_id == course.id,
               Opportunity.status.in_(("published", "closed")))
        .order_by(Opportunity.id.desc())
    ).scalars())
    # Accounts hidden by retention are not shown to others.
    leaders = [cl.user for cl in course.leaders if cl.user.hidden_at is None]
    return CoursePage(course, collabs, cases, leaders)


@dataclass
class PortfolioEntry:
    collaboration: Collaboration
    roles: list[str]


def portfolio(db: Session, user: User) -> list[PortfolioEntry]:
    """Everything the person took part in, with their roles: for merit applications."""
    rows = db.execute(
        select(Collaboration, CollaborationParticipant.role)
        .join(CollaborationParticipant, CollaborationParticipant.collaboration_id == Collaboration.id)
        .where(CollaborationParticipant.user_id == user.id)
        .order_by(Collaboration.start_date.desc().nulls_last(), Collaboration.id.desc())
    ).all()
    entries: dict[int, PortfolioEntry] = {}
    for collab, role in rows:
        entries.setdefault(collab.id, PortfolioEntry(collab, [])).roles.append(role)
    return list(entries.values())


PORTFOLIO_COLUMNS = ("id", "title", "form", "local_label", "status", "roles", "partners",
                     "unit", "courses", "start_date", "end_date", "results")


def portfolio_csv(entries: list[PortfolioEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PORTFOLIO_COLUMNS)
    for e in entries:
        c = e.collaboration
        writer.writerow([
            c.id, _cell(c.title), c.form, _cell(c.local_label or ""), c.status, ";".join(e.roles),
            ";".join(_cell(o.name) for o in c.partner_organisations),
            c.unit.code if c.unit else "",
            ";".join(cc.course.code for cc in c.courses),
            c.start_date.isoformat() if c.start_date else "",
            c.end_date.isoformat() if c.end_date else "",
            ";".join(r.type for r in c.results),
        ])
    return out.getvalue()


def _cell(text: str) -> str:
    # A cell a spreadsheet would read as a formula is prefixed so it stays text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@dataclass
class Relationship:
    organisation: Organisation
    collaborations: list[Collaboration]
    units: list[AcademicUnit]
    courses: list[Course]
    contacts: list[User]
    years: list[tuple[int, int]]  # (year, collaborations started)


def organisation_relationship(db: Session, org: Organisation) -> Relationship:
    """The partner's whole history with the university."""
    collabs = list(db.execute(
        select(Collaboration).join(CollaborationPartner,
                                   CollaborationPartner.collaboration_id == Collaboration.id)
        .where(CollaborationPartner.organisation_id == org.id)
        .order_by(Collaboration.start_date.desc().nulls_last(), Collaboration.id.desc())
    ).scalars())
    units: dict[int, AcademicUnit] = {}
    courses: dict[int, Course] = {}
    contacts: dict[int, User] = {}
    years: dict[int, int] = {}
    for c in collabs:
        if c.unit is not None:
            units[c.unit.id] = c.unit
        for cc in c.courses:
            courses[cc.course.id] = cc.course
        for p in c.participants:
            # Accounts hidden by retention are not shown to others.
            if p.role in ("supervisor", "external_cosupervisor", "partner_contact",
                          "course_leader", "staff") and p.user.erased_at is None \
                    and p.user.hidden_at is None:
                contacts[p.user.id] = p.user
        if c.start_date is not None:
            years[c.start_date.year] = years.get(c.start_date.year, 0) + 1
    return Relationship(
        org, collabs, sorted(units.values(), key=lambda u: u.code),
        sorted(courses.values(), key=lambda c: c.code),
        sorted(contacts.values(), key=lambda u: u.display_name),
        sorted(years.items()),
    )


def partner_choices(db: Session) -> list[tuple[str, str]]:
    return [(str(o.id), o.name) for o in db.execute(
        select(Organisation).order_by(Organisation.name)).scalars()]


def unit_choices(db: Session) -> list[tuple[str, str]]:
    return [(str(u.id), f"{u.code} – {u.name_nb}") for u in db.execute(
        select(AcademicUnit).order_by(AcademicUnit.code)).scalars()]
