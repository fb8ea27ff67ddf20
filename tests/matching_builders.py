"""A small world for the matching and collaboration service tests.

Built through the services (accounts, academic, organisations) at fixed
dates; accounts have no password (hashing is slow and not under test here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from portal.models import CollaborationEvent, StudentProfile
from portal.services import academic, accounts, opportunities, organisations

T0 = datetime(2025, 9, 1, 10, 0, tzinfo=UTC)
DEADLINE = date(2025, 10, 1)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def _orgnr(n: int) -> str:
    """A valid organisation number built from ``n``."""
    from portal.services.orgnr import check_digit

    k = n
    while True:
        first = f"9{k:07d}"[:8]
        digit = check_digit(first)
        if digit is not None:
            return first + str(digit)
        k += 1


@dataclass
class World:
    ie: object
    idi: object
    idi_ai: object
    iv: object
    ibm: object
    course: object
    course2: object
    org: object
    org2: object
    unverified: object
    partner: object
    partner2: object
    newbie: object
    staff: object
    staff2: object
    courseleader: object
    coordinator: object
    student: object
    student2: object
    student3: object


def user(db, email, roles, name="Test Person", locale="nb"):
    return accounts.create_user(db, email=email, display_name=name, password=None,
                                roles=list(roles), verified=True, locale=locale, now=T0)


def make_world(db) -> World:
    ie = academic.create_unit(db, code="IE", name_nb="Fakultet for IT", name_en="Faculty of IT",
                              level="faculty", now=T0)
    idi = academic.create_unit(db, code="IE-IDI", name_nb="Institutt for datateknologi",
                               name_en="Department of Computer Science", level="department",
                               parent=ie, now=T0)
    idi_ai = academic.create_unit(db, code="IE-IDI-AI", name_nb="Kunstig intelligens",
                                  name_en="Artificial Intelligence", level="group",
                                  parent=idi, now=T0)
    iv = academic.create_unit(db, code="IV", name_nb="Fakultet for ingeniørvitenskap",
                              name_en="Faculty of Engineering", level="faculty", now=T0)
    ibm = academic.create_unit(db, code="IV-IBM", name_nb="Institutt for bygg- og miljøteknikk",
                               name_en="Department of Civil and Environmental Engineering",
                               level="department", parent=iv, now=T0)
    course = academic.create_course(db, code="TDT4290", name_nb="Kundestyrt prosjekt",
                                    name_en="Customer Driven Project", ects="15",
                                    level="master", unit=idi, now=T0)
    course2 = academic.create_course(db, code="TBA4100", name_nb="Bygg 1",
                                     name_en="Building 1", ects="7.5", level="bachelor",
                                     unit=ibm, now=T0)
    coordinator = user(db, "coord@example.no", ["coordinator"], "Cora Koordinator")
    partner = user(db, "partner@example.no", [], "Per Partner", locale="en")
    partner2 = user(db, "partner2@example.no", [], "Paula Partner")
    newbie = user(db, "newbie@example.no", [], "Nils Ny")
    org = organisations.register_organisation(
        db, partner, name="Nidelva Teknologi AS", org_number=_orgnr(1000),
        sector="private", size_class="small", nace_code="62.010", municipality="Trondheim",
        now=T0)
    org2 = organisations.register_organisation(
        db, partner2, name="Trondheim kommune", org_number=_orgnr(2000),
        sector="public_municipal", size_class="large", nace_code="84.110",
        municipality="Trondheim", now=T0)
    unverified = organisations.register_organisation(
        db, newbie, name="Ubekreftet AS", org_number=_orgnr(3000), sector="private",
        size_class="micro", now=T0)
    for o in (org, org2):
        organisations.verify(db, coordinator, o, now=T0)
    staff = user(db, "staff@example.no", ["staff"], "Siri Stab")
    academic.add_unit_member(db, idi, staff, now=T0)
    staff2 = user(db, "staff2@example.no", ["staff"], "Bjørn Bygg")
    academic.add_unit_member(db, ibm, staff2, now=T0)
    courseleader = user(db, "leader@example.no", ["staff"], "Lea Leder")
    academic.add_course_leader(db, course, courseleader, now=T0)
    student = user(db, "student@example.no", ["student"], "Stina Student")
    student2 = user(db, "student2@example.no", ["student"], "Sondre Student")
    student3 = user(db, "student3@example.no", ["student"], "Sara Student")
    for s, unit, level in ((student, idi, "master"), (student2, idi, "master"),
                           (student3, ibm, "bachelor")):
        profile = db.get(StudentProfile, s.id)
        profile.unit_id = unit.id
        profile.level = level
        profile.programme = "MTDT" if unit is idi else "BIBYGG"
        profile.updated_at = T0
    db.flush()
    db.commit()
    return World(ie, idi, idi_ai, iv, ibm, course, course2, org, org2, unverified, partner,
                 partner2, newbie, staff, staff2, courseleader, coordinator, student, student2,
                 student3)


def thesis(db, w: World, *, publish=True, now=T0, **fields):
    fields.setdefault("title", "Masteroppgave: maskinlæring i havbruk")
    fields.setdefault("description", "Vi ønsker en student som vil jobbe med data fra merder.")
    fields.setdefault("levels", ["master"])
    fields.setdefault("deadline", DEADLINE)
    opp = opportunities.create_draft(db, w.partner, kind="thesis_task", owner_org=w.org,
                                     now=now, **fields)
    if publish:
        opportunities.publish(db, w.partner, opp, now=now)
    db.commit()
    return opp


def village(db, w: World, *, owner=None, actor=None, now=T0, **fields):
    fields.setdefault("title", "EiT-landsby: Smarte byer")
    fields.setdefault("description", "Tverrfaglig landsby om smarte byer.")
    fields.setdefault("semester", "2026V")
    fields.setdefault("village_code", "TPK4851")
    fields.setdefault("theme", "Smarte byer")
    fields.setdefault("deadline", DEADLINE)
    fields.setdefault("partner_sought", True)
    opp = opportunities.create_draft(db, actor or w.staff, kind="eit_village",
                                     owner_unit=owner or w.idi, now=now, **fields)
    opportunities.publish(db, actor or w.staff, opp, now=now)
    db.commit()
    return opp


def event_count(db, type_=None) -> int:
    stmt = select(func.count()).select_from(CollaborationEvent)
    if type_ is not None:
        stmt = stmt.where(CollaborationEvent.type == type_)
    return db.execute(stmt).scalar_one()


def events_of(db, type_=None) -> list[CollaborationEvent]:
    stmt = select(CollaborationEvent).order_by(CollaborationEvent.id)
    if type_ is not None:
        stmt = stmt.where(CollaborationEvent.type == type_)
    return list(db.execute(stmt).scalars())


def last_event(db) -> CollaborationEvent:
    return db.execute(select(CollaborationEvent).order_by(CollaborationEvent.id.desc())
                      .limit(1)).scalar_one()
