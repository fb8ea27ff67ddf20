"""The academic unit tree (faculty → department → group), its members and courses.

Unit codes are short and hierarchical: a faculty ``IE``, its department
``IE-IDI``, a group there ``IE-IDI-AI``. A child's code starts with its
parent's code and a dash, so the code alone tells where a unit sits.

Changes are for coordinators and admins. Each changing function takes the
acting user as ``actor``; ``actor=None`` means a trusted caller with no person
behind it (the CLI, the demo seed) and skips the check. The web always passes
the logged-in user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from portal.i18n import _l
from portal.models import (
    AcademicUnit,
    Course,
    CourseLeader,
    SearchChange,
    UnitMembership,
    User,
    utcnow,
)
from portal.models.vocab import STUDY_LEVELS, UNIT_LEVELS
from portal.services import accounts, policy
from portal.services.errors import NotFound, PermissionDenied, ValidationFailed

PARENT_LEVEL = {"faculty": None, "department": "faculty", "group": "department"}

_CODE_PART = re.compile(r"^[A-Z0-9][A-Z0-9_]{0,11}$")
_COURSE_CODE = re.compile(r"^[A-Z]{2,4}\d{4}$")


def require_manager(actor: User | None) -> None:
    """``actor=None`` is a trusted system caller; a person must be coordinator or admin."""
    if actor is not None and not policy.is_coordinator(actor):
        raise PermissionDenied(_l("Only coordinators and administrators can change "
                                  "units and courses."))


# ----------------------------------------------------------------- units


def normalise_unit_code(raw: str | None) -> str:
    return re.sub(r"\s", "", raw or "").upper()


def get_unit(db: Session, unit_id: int) -> AcademicUnit:
    unit = db.get(AcademicUnit, unit_id)
    if unit is None:
        raise NotFound(_l("No such unit."))
    return unit


def unit_by_code(db: Session, code: str) -> AcademicUnit | None:
    return db.execute(
        select(AcademicUnit).where(AcademicUnit.code == normalise_unit_code(code))
    ).scalar_one_or_none()


def create_unit(
    db: Session,
    *,
    code: str,
    name_nb: str,
    name_en: str,
    level: str,
    parent: AcademicUnit | None = None,
    description: str | None = None,
    actor: User | None = None,
    now: datetime | None = None,
) -> AcademicUnit:
    """Add a unit to the tree: a faculty has no parent, a department sits under a
    faculty, a group under a department; the code extends the parent's code."""
    require_manager(actor)
    errors: dict[str, list] = {}
    clean = normalise_unit_code(code)
    if level not in UNIT_LEVELS:
        errors.setdefault("level", []).append(_l("Choose faculty, department or group."))
    else:
        wanted = PARENT_LEVEL[level]
        if wanted is None and parent is not None:
            errors.setdefault("parent", []).append(_l("A faculty has no parent unit."))
        elif wanted == "faculty" and (parent is None or parent.level != "faculty"):
            errors.setdefault("parent", []).append(_l("A department belongs to a faculty."))
        elif wanted == "department" and (parent is None or parent.level != "department"):
            errors.setdefault("parent", []).append(_l("A group belongs to a department."))
    parts = clean.split("-") if clean else []
    if not parts or not all(_CODE_PART.match(p) for p in parts):
        errors.setdefault("code", []).append(
            _l("Use a short code of letters and digits, such as IE or IE-IDI."))
    elif level in UNIT_LEVELS and not errors.get("parent"):
        expected_depth = UNIT_LEVELS.index(level) + 1
        if len(parts) != expected_depth or (
                parent is not None and not clean.startswith(parent.code + "-")):
            example = f"{parent.code}-XYZ" if parent is not None else "IE"
            errors.setdefault("code", []).append(
                _l("The code must extend the parent unit's code, for example %(ex)s.",
                   ex=example))
    for name, value in (("name_nb", name_nb), ("name_en", name_en)):
        text = (value or "").strip()
        if not text:
            errors.setdefault(name, []).append(_l("Enter the name."))
        elif len(text) > 300:
            errors.setdefault(name, []).append(_l("The name is too long."))
    if errors:
        raise ValidationFailed(errors)
    if unit_by_code(db, clean) is not None:
        raise ValidationFailed({"code": [_l("A unit with the code %(c)s already exists.",
                                            c=clean)]})
    unit = AcademicUnit(code=clean, name_nb=name_nb.strip(), name_en=name_en.strip(),
                        level=level, parent_id=parent.id if parent is not None else None,
                        description=(description or "").strip() or None,
                        created_at=now or utcnow())
    db.add(unit)
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        raise ValidationFailed({"code": [_l("A unit with the code %(c)s already exists.",
                                            c=clean)]}) from None
    if parent is not None:
        unit.parent = parent
    db.add(SearchChange(entity_type="academic_unit", entity_id=unit.id, op="upsert",
                        created_at=unit.created_at))
    db.flush()
    return unit


def list_units(db: Session, *, level: str | None = None) -> list[AcademicUnit]:
    query = select(AcademicUnit).order_by(AcademicUnit.code)
    if level is not None:
        query = query.where(AcademicUnit.level == level)
    return list(db.execute(query).scalars())


@dataclass
class UnitNode:
    unit: AcademicUnit
    children: list[UnitNode] = field(default_factory=list)

    def walk(self, depth: int = 0):
        """(depth, unit) pairs, depth first: for indented lists and select options."""
        yield depth, self.unit
        for child in self.children:
            yield from child.walk(depth + 1)


def unit_tree(db: Session) -> list[UnitNode]:
    """The whole tree, faculties first, each level ordered by code."""
    units = list_units(db)
    nodes = {u.id: UnitNode(u) for u in units}
    roots: list[UnitNode] = []
    for u in units:
        node = nodes[u.id]
        if u.parent_id is None or u.parent_id not in nodes:
            roots.append(node)
        else:
            nodes[u.parent_id].children.append(node)
    return roots


def unit_choices(db: Session, locale: str) -> list[tuple[int, str]]:
    """(id, indented label) for every unit, in tree order, for select fields."""
    out = []
    for root in unit_tree(db):
        for depth, unit in root.walk():
            out.append((unit.id, "\u2003" * depth + f"{unit.code} · {unit.name(locale)}"))
    return out


def add_unit_member(db: Session, unit: AcademicUnit, user: User, *, role: str = "member",
                    actor: User | None = None, now: datetime | None = None) -> UnitMembership:
    """Make ``user`` a member (or head) of ``unit`` and give them the staff role."""
    require_manager(actor)
    if role not in ("member", "head"):
        raise ValidationFailed(_l("Choose member or head."), field="role")
    now = now or utcnow()
    row = db.execute(
        select(UnitMembership).where(UnitMembership.unit_id == unit.id,
                                     UnitMembership.user_id == user.id)
    ).scalar_one_or_none()
    if row is None:
        row = UnitMembership(unit_id=unit.id, user_id=user.id, role=role, created_at=now)
        db.add(row)
    else:
        row.role = role
    accounts.add_role(db, user, "staff", granted_by=actor, now=now)
    db.flush()
    return row


def remove_unit_member(db: Session, unit: AcademicUnit, user: User, *,
                       actor: User | None = None) -> bool:
    """Remove a membership. The staff role stays (the user may belong elsewhere)."""
    require_manager(actor)
    row = db.execute(
        select(UnitMembership).where(UnitMembership.unit_id == unit.id,
                                     UnitMembership.user_id == user.id)
    ).scalar_one_or_none()
    if row is None:
        return False
    db.delete(row)
    db.flush()
    return True


def units_of(db: Session, user: User) -> list[UnitMembership]:
    return list(db.execute(
        select(UnitMembership)
        .join(AcademicUnit, UnitMembership.unit_id == AcademicUnit.id)
        .where(UnitMembership.user_id == user.id)
        .order_by(AcademicUnit.code)
        .options(selectinload(UnitMembership.unit))
    ).scalars())


def unit_members(db: Session, unit: AcademicUnit) -> list[UnitMembership]:
    return list(db.execute(
        select(UnitMembership).join(User, UnitMembership.user_id == User.id)
        .where(UnitMembership.unit_id == unit.id, User.erased_at.is_(None),
               User.hidden_at.is_(None))
        .order_by(UnitMembership.role, User.display_name)
        .options(selectinload(UnitMembership.user))
    ).scalars())


# ----------------------------------------------------------------- courses


# Unit and course codes follow the same spelling rule (no spaces, upper case).
normalise_course_code = normalise_unit_code


def get_course(db: Session, course_id: int) -> Course:
    course = db.get(Course, course_id)
    if course is None:
        raise NotFound(_l("No such course."))
    return course


def course_by_code(db: Session, code: str) -> Course | None:
    return db.execute(
        select(Course).where(Course.code == normalise_course_code(code))
    ).scalar_one_or_none()


def create_course(
    db: Session,
    *,
    code: str,
    name_nb: str,
    name_en: str,
    ects,
    level: str,
    unit: AcademicUnit,
    actor: User | None = None,
    now: datetime | None = None,
) -> Course:
    """Add a course: a code like TDT4100 (2–4 letters and 4 digits), names, ECTS, level."""
    require_manager(actor)
    errors: dict[str, list] = {}
    clean = normalise_course_code(code)
    if not _COURSE_CODE.match(clean):
        errors.setdefault("code", []).append(
            _l("A course code has two to four letters and four digits, such as TDT4100."))
    for name, value in (("name_nb", name_nb), ("name_en", name_en)):
        text = (value or "").strip()
        if not text:
            errors.setdefault(name, []).append(_l("Enter the name."))
        elif len(text) > 300:
            errors.setdefault(name, []).append(_l("The name is too long."))
    credits = None
    try:
        credits = Decimal(str(ects).replace(",", ".").strip())
    except (InvalidOperation, ValueError):
        errors.setdefault("ects", []).append(_l("Enter the credits as a number, such as 7.5."))
    else:
        if not credits.is_finite() or credits <= 0 or credits > 120 or (credits * 2) % 1 != 0:
            errors.setdefault("ects", []).append(
                _l("Credits must be between 0.5 and 120, in steps of 0.5."))
    if level not in STUDY_LEVELS:
        errors.setdefault("level", []).append(_l("Choose a study level."))
    if unit is None:
        errors.setdefault("unit", []).append(_l("Choose the unit that owns the course."))
    if errors:
        raise ValidationFailed(errors)
    if course_by_code(db, clean) is not None:
        raise ValidationFailed({"code": [_l("The course %(c)s already exists.", c=clean)]})
    course = Course(code=clean, name_nb=name_nb.strip(), name_en=name_en.strip(),
                    ects=credits, level=level, unit_id=unit.id, created_at=now or utcnow())
    db.add(course)
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        raise ValidationFailed({"code": [_l("The course %(c)s already exists.",
                                            c=clean)]}) from None
    db.add(SearchChange(entity_type="course", entity_id=course.id, op="upsert",
                        created_at=course.created_at))
    db.flush()
    return course


def add_course_leader(db: Session, course: Course, user: User, *, actor: User | None = None,
                      now: datetime | None = None) -> CourseLeader:
    """Make ``user`` a leader of ``course`` (idempotent) with the course_leader role."""
    require_manager(actor)
    row = db.get(CourseLeader, (course.id, user.id))
    if row is None:
        row = CourseLeader(course_id=course.id, user_id=user.id)
        db.add(row)
    accounts.add_role(db, user, "course_leader", granted_by=actor, now=now)
    db.flush()
    return row


def remove_course_leader(db: Session, course: Course, user: User, *,
                         actor: User | None = None) -> bool:
    require_manager(actor)
    row = db.get(CourseLeader, (course.id, user.id))
    if row is None:
        return False
    db.delete(row)
    db.flush()
    return True


def is_course_leader(db: Session, user: User | None, course: Course) -> bool:
    if user is None or getattr(user, "id", None) is None:
        return False
    return db.get(CourseLeader, (course.id, user.id)) is not None


def courses_led_by(db: Session, user: User) -> list[Course]:
    return list(db.execute(
        select(Course).join(CourseLeader, CourseLeader.course_id == Course.id)
        .where(CourseLeader.user_id == user.id)
        .order_by(Course.code)
        .options(selectinload(Course.unit))
    ).scalars())


def courses_of_unit(db: Session, unit: AcademicUnit, *, include_descendants: bool = False
                    ) -> list[Course]:
    ids = [unit.id]
    if include_descendants:
        prefix = unit.code + "-"
        ids += list(db.execute(
            select(AcademicUnit.id).where(func.substr(AcademicUnit.code, 1, len(prefix))
                                          == prefix)
        ).scalars())
    return list(db.execute(
        select(Course).where(Course.unit_id.in_(ids)).order_by(Course.code)
    ).scalars())
