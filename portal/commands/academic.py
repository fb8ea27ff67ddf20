"""``portal unit …`` and ``portal course …``: the academic structure, for administrators."""

from __future__ import annotations

import click

from portal.models.vocab import STUDY_LEVELS, UNIT_LEVELS


def _unit(db, code: str):
    from portal.services import academic
    from portal.services.errors import NotFound

    unit = academic.unit_by_code(db, code)
    if unit is None:
        raise NotFound(f"no unit with code {code}")
    return unit


def _user(db, email: str):
    from portal.services import accounts
    from portal.services.errors import NotFound

    user = accounts.find_by_email(db, email)
    if user is None:
        raise NotFound(f"no account with e-mail {email}")
    return user


def register(main: click.Group) -> None:
    from portal.cli import PortalGroup, session_scope
    from portal.services import academic

    @main.group(cls=PortalGroup)
    def unit() -> None:
        """Faculties, departments and groups, and who belongs to them."""

    @unit.command("create")
    @click.option("--code", required=True, help="E.g. IE, IE-IDI, IE-IDI-AI.")
    @click.option("--name-nb", required=True)
    @click.option("--name-en", required=True)
    @click.option("--level", type=click.Choice(UNIT_LEVELS), required=True)
    @click.option("--parent", "parent_code", default=None, help="Code of the unit above.")
    def unit_create(code, name_nb, name_en, level, parent_code):
        """Add a unit to the tree."""
        app, work = session_scope()
        with app.app_context(), work as db:
            parent = _unit(db, parent_code) if parent_code else None
            u = academic.create_unit(db, code=code, name_nb=name_nb, name_en=name_en, level=level,
                                     parent=parent)
            click.echo(f"created {u.level} {u.code}")

    @unit.command("add-member")
    @click.option("--code", required=True)
    @click.option("--email", required=True)
    @click.option("--head", is_flag=True, help="As head of the unit.")
    def unit_add_member(code, email, head):
        """Make a person staff of a unit."""
        app, work = session_scope()
        with app.app_context(), work as db:
            u, person = _unit(db, code), _user(db, email)
            academic.add_unit_member(db, u, person, role="head" if head else "member")
            click.echo(f"{person.email} is {'head' if head else 'member'} of {u.code}")

    @unit.command("list")
    def unit_list():
        """Print the unit tree."""
        app, work = session_scope()
        with app.app_context(), work as db:
            for u in academic.list_units(db):
                depth = {"faculty": 0, "department": 1, "group": 2}[u.level]
                click.echo(f"{'  ' * depth}{u.code}  {u.name_en}")

    @main.group(cls=PortalGroup)
    def course() -> None:
        """Courses and their leaders."""

    @course.command("create")
    @click.option("--code", required=True, help="E.g. TDT4100.")
    @click.option("--name-nb", required=True)
    @click.option("--name-en", required=True)
    @click.option("--ects", required=True, type=float)
    @click.option("--level", type=click.Choice(STUDY_LEVELS), required=True)
    @click.option("--unit", "unit_code", required=True, help="Code of the unit that owns it.")
    def course_create(code, name_nb, name_en, ects, level, unit_code):
        """Add a course."""
        app, work = session_scope()
        with app.app_context(), work as db:
            c = academic.create_course(db, code=code, name_nb=name_nb, name_en=name_en, ects=ects,
                                       level=level, unit=_unit(db, unit_code))
            click.echo(f"created course {c.code}")

    @course.command("add-leader")
    @click.option("--code", required=True)
    @click.option("--email", required=True)
    def course_add_leader(code, email):
        """Make a person leader of a course."""
        from portal.services.errors import NotFound

        app, work = session_scope()
        with app.app_context(), work as db:
            c = academic.course_by_code(db, code)
            if c is None:
                raise NotFound(f"no course with code {code}")
            person = _user(db, email)
            academic.add_course_leader(db, c, person)
            click.echo(f"{person.email} leads {c.code}")
