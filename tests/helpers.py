"""Small builders shared by tests (through the services, as the portal does)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.models import OutboxMail
from portal.services import accounts

PASSWORD = "correct-horse-42"


def make_user(db, email="someone@example.no", roles=("student",), name="Kari Nordmann",
              verified=True, locale="en", password=PASSWORD):
    user = accounts.create_user(db, email=email, display_name=name, password=password,
                                roles=list(roles), verified=verified, locale=locale)
    db.commit()
    return user


def count(db, model) -> int:
    db.rollback()  # a fresh snapshot: see what requests committed since
    return db.execute(select(func.count()).select_from(model)).scalar_one()


def last_mail_to(db, address) -> OutboxMail:
    db.rollback()
    return db.execute(
        select(OutboxMail).where(OutboxMail.to_addr == address).order_by(OutboxMail.id.desc())
    ).scalars().first()


def link_in(mail: OutboxMail, path_prefix: str) -> str:
    m = re.search(re.escape(path_prefix) + r"[^\s]+", mail.body_text)
    assert m, f"no {path_prefix} link in mail: {mail.body_text!r}"
    return m.group(0)


class World:
    """A small university and partner world, built through the services."""

    def __init__(self, db):
        from portal.services import academic, organisations

        self.db = db
        self.coordinator = make_user(db, email="coord@uni.no", roles=("coordinator",),
                                     name="Cora Coordinator", locale="en")
        self.partner = make_user(db, email="partner@firma.no", roles=(), name="Per Partner",
                                 locale="en")
        self.outsider = make_user(db, email="outsider@firma.no", roles=(), name="Otto Outsider",
                                  locale="en")
        self.staff = make_user(db, email="staff@uni.no", roles=(), name="Siri Staff", locale="en")
        self.leader = make_user(db, email="leader@uni.no", roles=(), name="Leif Leader",
                                locale="en")
        self.student = make_user(db, email="student@uni.no", roles=("student",),
                                 name="Stina Student", locale="en")
        self.student2 = make_user(db, email="student2@uni.no", roles=("student",),
                                  name="Sindre Student", locale="en")
        self.faculty = academic.create_unit(db, code="IE", name_nb="Fakultet for IE",
                                            name_en="Faculty of IE", level="faculty")
        self.department = academic.create_unit(db, code="IE-IDI", name_nb="Institutt for datateknologi",
                                               name_en="Department of Computer Science",
                                               level="department", parent=self.faculty)
        self.other_faculty = academic.create_unit(db, code="MH", name_nb="Fakultet for medisin",
                                                  name_en="Faculty of Medicine", level="faculty")
        academic.add_unit_member(db, self.department, self.staff)
        self.course = academic.create_course(db, code="TDT4100", name_nb="Objektorientert programmering",
                                             name_en="Object-oriented programming", ects=7.5,
                                             level="bachelor", unit=self.department)
        academic.add_course_leader(db, self.course, self.leader)
        self.org = organisations.register_organisation(
            db, self.partner, name="Fjordkraft Analyse AS", org_number="923609016",
            sector="private", size_class="medium", nace_code="62.010", municipality="Trondheim")
        organisations.verify(db, self.coordinator, self.org)
        from portal.models import StudentProfile

        for s in (self.student, self.student2):
            profile = db.get(StudentProfile, s.id)
            profile.unit_id = self.department.id
            profile.level = "master"
            profile.programme = "MTDT"
        db.commit()


def portal_cli(tmp_path, database_url, data_dir=None, *, timeout=120, **env_extra):
    """Run ``portal ARGS`` as a separate process from a directory of its own, on the test
    database, with no PORTAL_* settings but these (the operator's environment stays out)."""
    import os
    import subprocess
    import sys

    data_dir = data_dir or tmp_path / "cli-data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({"PORTAL_DATA_DIR": str(data_dir), "PORTAL_DATABASE_URL": database_url})
    env.update({f"PORTAL_{k.upper()}": str(v) for k, v in env_extra.items()})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(exist_ok=True)

    def run(*args, input=None):
        return subprocess.run([sys.executable, "-m", "portal", *args], cwd=elsewhere, env=env,
                              capture_output=True, text=True, input=input, timeout=timeout)

    run.data_dir = data_dir
    return run
