"""The academic unit tree, unit members, courses and course leaders."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.models import AcademicUnit, Course, UnitMembership
from portal.services import academic
from portal.services.errors import PermissionDenied, ValidationFailed
from tests.helpers import count, make_user


@pytest.fixture
def coordinator(db):
    return make_user(db, email="coord@ntnu.example.no", roles=("coordinator",), locale="en")


@pytest.fixture
def tree(db, coordinator):
    ie = academic.create_unit(db, code="ie", name_nb="Fakultet for informasjonsteknologi og "
                              "elektroteknikk", name_en="Faculty of Information Technology and "
                              "Electrical Engineering", level="faculty", actor=coordinator)
    idi = academic.create_unit(db, code="IE-IDI", name_nb="Institutt for datateknologi og "
                               "informatikk", name_en="Department of Computer Science",
                               level="department", parent=ie, actor=coordinator)
    ai = academic.create_unit(db, code="IE-IDI-AI", name_nb="KI-gruppen", name_en="AI group",
                              level="group", parent=idi, actor=coordinator)
    db.commit()
    return {"IE": ie, "IE-IDI": idi, "IE-IDI-AI": ai}


def test_tree_is_built_with_hierarchical_codes(db, tree):
    assert tree["IE"].code == "IE"  # normalised upper-case
    assert tree["IE-IDI-AI"].ancestor_at("faculty").code == "IE"
    assert tree["IE-IDI-AI"].ancestor_at("department").code == "IE-IDI"
    [root] = academic.unit_tree(db)
    assert [(d, u.code) for d, u in root.walk()] == [(0, "IE"), (1, "IE-IDI"), (2, "IE-IDI-AI")]
    choices = academic.unit_choices(db, "en")
    assert choices[1][1].endswith("IE-IDI · Department of Computer Science")
    assert academic.unit_by_code(db, " ie-idi ").id == tree["IE-IDI"].id
    assert [u.code for u in academic.list_units(db, level="group")] == ["IE-IDI-AI"]


@pytest.mark.parametrize(("level", "parent", "code", "field"), [
    ("faculty", "IE", "NV", "parent"),          # a faculty has no parent
    ("department", None, "NV-IBI", "parent"),    # a department needs a faculty
    ("department", "IE-IDI", "IE-IDI-X", "parent"),  # ... not a department
    ("group", "IE", "IE-X", "parent"),            # a group sits under a department
    ("department", "IE", "NV-IBI", "code"),      # code must extend the parent's
    ("department", "IE", "IE", "code"),
    ("group", "IE-IDI", "IE-IDI-A-B", "code"),
    ("faculty", None, "I E!", "code"),
    ("faculty", None, "", "code"),
    ("school", None, "SCH", "level"),
])
def test_tree_rules_are_enforced(db, tree, coordinator, level, parent, code, field):
    before = count(db, AcademicUnit)
    with pytest.raises(ValidationFailed) as exc:
        academic.create_unit(db, code=code, name_nb="X", name_en="X", level=level,
                             parent=tree.get(parent), actor=coordinator)
    assert field in exc.value.errors
    db.rollback()
    assert count(db, AcademicUnit) == before


def test_unit_codes_are_unique(db, tree, coordinator):
    with pytest.raises(ValidationFailed, match="already exists"):
        academic.create_unit(db, code="IE-IDI", name_nb="Dup", name_en="Dup",
                             level="department", parent=tree["IE"], actor=coordinator)


def test_only_coordinators_and_admins_change_units(db, tree):
    staff = make_user(db, email="staff@ntnu.example.no", roles=("staff",))
    with pytest.raises(PermissionDenied):
        academic.create_unit(db, code="NV", name_nb="NV", name_en="NV", level="faculty",
                             actor=staff)
    with pytest.raises(PermissionDenied):
        academic.add_unit_member(db, tree["IE-IDI"], staff, actor=staff)
    with pytest.raises(PermissionDenied):
        academic.create_course(db, code="TDT4100", name_nb="x", name_en="x", ects=7.5,
                               level="bachelor", unit=tree["IE-IDI"], actor=staff)
    admin = make_user(db, email="admin@ntnu.example.no", roles=("admin",))
    assert academic.create_unit(db, code="NV", name_nb="NV", name_en="NV", level="faculty",
                                actor=admin).id


def test_unit_members_get_the_staff_role(db, tree, coordinator):
    anna = make_user(db, email="anna@ntnu.example.no", roles=())
    academic.add_unit_member(db, tree["IE-IDI-AI"], anna, actor=coordinator)
    academic.add_unit_member(db, tree["IE-IDI-AI"], anna, role="head", actor=coordinator)
    db.commit()
    assert "staff" in anna.role_names
    [m] = academic.units_of(db, anna)
    assert m.unit.code == "IE-IDI-AI" and m.role == "head"
    assert count(db, UnitMembership) == 1
    assert [x.user.email for x in academic.unit_members(db, tree["IE-IDI-AI"])] == [
        "anna@ntnu.example.no"]
    with pytest.raises(ValidationFailed):
        academic.add_unit_member(db, tree["IE-IDI"], anna, role="boss", actor=coordinator)
    assert academic.remove_unit_member(db, tree["IE-IDI-AI"], anna, actor=coordinator)
    assert not academic.remove_unit_member(db, tree["IE-IDI-AI"], anna, actor=coordinator)


def test_courses_and_their_leaders(db, tree, coordinator):
    course = academic.create_course(db, code=" tdt 4100 ", name_nb="Objektorientert "
                                    "programmering", name_en="Object-Oriented Programming",
                                    ects="7,5", level="bachelor", unit=tree["IE-IDI"],
                                    actor=coordinator)
    db.commit()
    assert course.code == "TDT4100" and course.ects == Decimal("7.5")
    leader = make_user(db, email="leader@ntnu.example.no", roles=("staff",))
    academic.add_course_leader(db, course, leader, actor=coordinator)
    academic.add_course_leader(db, course, leader, actor=coordinator)  # idempotent
    db.commit()
    assert "course_leader" in leader.role_names
    assert [c.code for c in academic.courses_led_by(db, leader)] == ["TDT4100"]
    assert academic.is_course_leader(db, leader, course)
    assert [c.code for c in academic.courses_of_unit(db, tree["IE"],
                                                     include_descendants=True)] == ["TDT4100"]
    assert academic.courses_of_unit(db, tree["IE"]) == []
    with pytest.raises(ValidationFailed, match="already exists"):
        academic.create_course(db, code="TDT4100", name_nb="x", name_en="x", ects=7.5,
                               level="bachelor", unit=tree["IE-IDI"], actor=coordinator)
    assert academic.remove_course_leader(db, course, leader, actor=coordinator)
    assert not academic.is_course_leader(db, leader, course)


@pytest.mark.parametrize(("overrides", "field"), [
    ({"code": "T4100"}, "code"),
    ({"code": "TDTXY4100"}, "code"),
    ({"code": "TDT410"}, "code"),
    ({"code": "4100TDT"}, "code"),
    ({"ects": "abc"}, "ects"),
    ({"ects": 0}, "ects"),
    ({"ects": "7.3"}, "ects"),
    ({"ects": 500}, "ects"),
    ({"level": "kindergarten"}, "level"),
    ({"name_en": " "}, "name_en"),
    ({"unit": None}, "unit"),
])
def test_bad_course_input_is_refused(db, tree, coordinator, overrides, field):
    data = {"code": "TDT4100", "name_nb": "OOP", "name_en": "OOP", "ects": 7.5,
            "level": "bachelor", "unit": tree["IE-IDI"]}
    data.update(overrides)
    with pytest.raises(ValidationFailed) as exc:
        academic.create_course(db, actor=coordinator, **data)
    assert field in exc.value.errors
    db.rollback()
    assert count(db, Course) == 0
