"""The demo seed: a believable university and its partners over three academic years.

``seed_demo`` writes everything **through the services** (accounts, academic,
organisations, opportunities, applications, collaborations) at fixed historic
dates (academic years 2023/24, 2024/25 and 2025/26, with "today" in the
demo world at ``DEMO_NOW``), in one transaction, so the event log, the
search change log and every dimension snapshot are exactly what real use
would have produced. The same seed and scale give the same data.

What runs happens on a timeline in date order (so event ids increase with
time), and consists of

* a **showcase** that involves the demo logins and exercises every event
  type in the catalogue (so even the small scale has each of them), and
* **bulk** activity drawn from a seeded random generator: thesis tasks,
  placements, industry cases, EiT villages, directly recorded activities,
  with applications, decisions, collaborations, results and outcomes.

Bulk students have no password (they cannot log in), which keeps seeding
fast; the six demo logins share the password ``DEMO_PASSWORD``.

One step bypasses a service on purpose: ``_Demo.verify`` marks organisations
verified like ``organisations.verify`` but without its e-mail to the
organisation's admins (that needs an application context and would mail
invented addresses); it records the same ``organisation_verified`` event
through ``organisations.record_organisation_event``. Decisions are made with
``notify=False`` for the same reason. No e-mail is queued by the seed.

``settings`` is accepted for the callers' convenience and not needed: the
seed writes no files (no CVs, no mail).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import math
import random
import time as _time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from portal.models import (
    AcademicUnit,
    Application,
    AppMeta,
    Collaboration,
    CollaborationEvent,
    CollaborationResult,
    Course,
    Opportunity,
    Organisation,
    User,
    utcnow,
)
from portal.services import academic, accounts, organisations, profiles
from portal.services import applications as apps
from portal.services import collaborations as collabs
from portal.services import opportunities as opps
from portal.services.errors import Conflict, ServiceError
from portal.services.events import touch
from portal.services.orgnr import check_digit

from . import demo_data as D

MARKER = "demo_seed"
DEMO_PASSWORD = "samspill-demo-2026"  # noqa: S105 - published demo logins
DEMO_DOMAIN = "demo.samspill.no"
DEMO_START = datetime(2023, 5, 2, 8, 0, tzinfo=UTC)
DEMO_NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACADEMIC_YEARS = (2023, 2024, 2025)
DEMO_LOGINS = ("student", "partner", "staff", "courseleader", "coordinator", "admin")


@dataclass(frozen=True)
class Scale:
    departments_per_faculty: int | None  # None: all
    groups_per_department: int
    topic_courses: int  # per department, besides project/thesis/PhD courses
    staff_per_department: int
    students_per_year: int
    companies: int
    public_bodies: int
    theses: int  # per academic year
    placements: int
    cases: int
    villages: int  # per spring semester
    village_students: tuple[int, int]
    recorded: int
    applicants: tuple[int, int]


SCALES = {
    "small": Scale(2, 1, 3, 2, 45, 10, 8, 6, 3, 2, 3, (3, 6), 8, (1, 3)),
    "medium": Scale(None, 2, 7, 3, 220, 60, 100, 40, 20, 10, 6, (12, 24), 35, (1, 5)),
    "large": Scale(None, 3, 7, 6, 800, 130, 100, 130, 60, 30, 10, (22, 34), 110, (2, 7)),
}


@dataclass
class DemoResult:
    created: bool
    seed: int
    scale: str
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    existing: str | None = None  # the marker found, for a no-op

    def summary(self) -> str:
        if not self.created:
            return (f"demo data already present ({self.existing}); nothing written")
        parts = ", ".join(f"{v} {k}" for k, v in self.counts.items())
        return (f"demo data seeded (seed {self.seed}, {self.scale}) in {self.seconds:.1f}s: "
                f"{parts}; log in as <role>@{DEMO_DOMAIN} with password {DEMO_PASSWORD}")


def seed_demo(factory: sessionmaker[Session], *, settings=None, seed: int = 1,
              scale: str = "medium") -> DemoResult:
    """Seed the demo world once; a second run writes nothing and says so.

    Refuses (ServiceError) on a database that has users but no demo marker:
    demo data is never mixed into real data. Everything is one transaction.
    """
    if scale not in SCALES:
        raise ServiceError(f"unknown scale {scale!r}: choose {', '.join(SCALES)}")
    started = _time.monotonic()
    db = factory()
    try:
        marker = db.get(AppMeta, MARKER)
        if marker is not None:
            db.rollback()
            return DemoResult(False, seed, scale, counts(db), existing=marker.value)
        if db.execute(select(func.count()).select_from(User)).scalar_one():
            raise ServiceError("the database already has users but no demo data; "
                               "seed the demo only into an empty database")
        # Claim the marker first: a second seeder running at the same moment
        # waits on it and then finds the demo there.
        db.add(AppMeta(key=MARKER, value=json.dumps({"seed": seed, "scale": scale,
                                                     "now": DEMO_NOW.isoformat()})))
        try:
            db.flush()
        except IntegrityError:
            db.rollback()
            marker = db.get(AppMeta, MARKER)
            return DemoResult(False, seed, scale, counts(db),
                              existing=marker.value if marker else None)
        _Demo(db, random.Random(seed), SCALES[scale]).build()
        # The demo's people are dated in the past; without a recent login the
        # retention job would hide (and later erase) the whole demo at once.
        db.execute(update(User).values(last_login_at=utcnow()))
        db.commit()
        return DemoResult(True, seed, scale, counts(db), _time.monotonic() - started)
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()


def counts(db: Session) -> dict[str, int]:
    tables = (("users", User), ("organisations", Organisation), ("units", AcademicUnit),
              ("courses", Course), ("opportunities", Opportunity),
              ("applications", Application), ("collaborations", Collaboration),
              ("results", CollaborationResult), ("events", CollaborationEvent))
    return {name: db.execute(select(func.count()).select_from(model)).scalar_one()
            for name, model in tables}


# ---------------------------------------------------------------- helpers
class _Timeline:
    """Steps run in date order; a step may schedule later ones. Nothing after DEMO_NOW."""

    def __init__(self) -> None:
        self._heap: list = []
        self._seq = itertools.count()

    def at(self, when: datetime, fn: Callable, *args) -> None:
        if when <= DEMO_NOW:
            heapq.heappush(self._heap, (when, next(self._seq), fn, args))

    def run(self) -> None:
        while self._heap:
            when, _seq, fn, args = heapq.heappop(self._heap)
            fn(when, *args)


def _ascii(text: str) -> str:
    text = text.translate(str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "Ae",
                                         "Ø": "O", "Å": "A", "ü": "u", "ö": "o"}))
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _day(d: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=UTC)


@dataclass
class _Dept:
    unit: AcademicUnit
    faculty: AcademicUnit
    prefix: str
    master_programme: str
    bachelor_programme: str
    topics: list[tuple[str, str]]
    groups: list[AcademicUnit] = field(default_factory=list)
    courses: list[Course] = field(default_factory=list)
    thesis_course: dict[str, Course] = field(default_factory=dict)  # level → course
    staff: list[User] = field(default_factory=list)


@dataclass
class _Student:
    user: User
    dept: _Dept
    level: str


@dataclass
class _Org:
    org: Organisation
    members: list[User]


# ---------------------------------------------------------------- the builder
class _Demo:
    def __init__(self, db: Session, rng: random.Random, scale: Scale) -> None:
        self.db, self.rng, self.s = db, rng, scale
        self.tl = _Timeline()
        self.depts: list[_Dept] = []
        self.dept_by_code: dict[str, _Dept] = {}
        self.students: dict[str, list[_Student]] = {}
        self.student_info: dict[int, _Student] = {}
        self.orgs: list[_Org] = []  # verified, in verification order
        self.org_info: dict[int, _Org] = {}
        self.busy: set[tuple[int, str, int]] = set()  # (academic year, kind, student id)
        self.scheduled: set[int] = set()  # collaborations whose follow-up is planned
        self.village_codes: set[str] = set()
        self.org_numbers: set[str] = set()
        self.email_seq = itertools.count(1)
        self.u: dict[str, User] = {}  # the demo logins

    # ------------------------------------------------------------ plumbing
    def r(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def moment(self, d: date) -> datetime:
        return _day(d, self.r(8, 15), self.r(0, 59))

    def email(self, first: str, last: str, domain: str) -> str:
        local = _ascii(f"{first}.{last}").lower().replace(" ", "")
        return f"{local}.{next(self.email_seq)}@{domain}"

    def person(self, domain: str, roles: list[str], now: datetime,
               locale: str | None = None) -> User:
        first, last = self.rng.choice(D.FIRST_NAMES), self.rng.choice(D.LAST_NAMES)
        return accounts.create_user(
            self.db, email=self.email(first, last, domain), display_name=f"{first} {last}",
            password=None, roles=roles, locale=locale or ("en" if self.chance(0.15) else "nb"),
            verified=True, now=now)

    def org_number(self) -> str:
        while True:
            first = str(self.rng.choice((8, 9))) + f"{self.r(0, 9_999_999):07d}"
            digit = check_digit(first)
            if digit is not None and first + str(digit) not in self.org_numbers:
                number = first + str(digit)
                self.org_numbers.add(number)
                return number

    # ------------------------------------------------------------ the build
    def build(self) -> None:
        self.logins()
        self.catalogue()
        self.schedule_organisations()
        for year in ACADEMIC_YEARS:
            self.tl.at(_day(date(year, 8, 1), 7), self.cohort, year)
        self.schedule_showcase()
        for year in ACADEMIC_YEARS:
            self.schedule_year(year)
        self.schedule_jobs()
        self.tl.run()
        self.db.flush()

    def logins(self) -> None:
        now = DEMO_START
        names = {"student": "Stine Demo Student", "partner": "Per Demo Partner",
                 "staff": "Sigrid Demo Staff", "courseleader": "Lars Demo Emneansvarlig",
                 "coordinator": "Kari Demo Koordinator", "admin": "Ada Demo Admin"}
        roles = {"student": ["student"], "partner": [], "staff": ["staff"],
                 "courseleader": ["staff", "course_leader"], "coordinator": ["coordinator"],
                 "admin": ["admin", "coordinator"]}
        for key in DEMO_LOGINS:
            self.u[key] = accounts.create_user(
                self.db, email=f"{key}@{DEMO_DOMAIN}", display_name=names[key],
                password=DEMO_PASSWORD, roles=roles[key], locale="en" if key == "admin" else "nb",
                verified=True, now=now)

    def catalogue(self) -> None:
        """Units, courses, staff and course leaders (through the academic service)."""
        now = DEMO_START
        for fcode, fnb, fen, departments in D.FACULTIES:
            faculty = academic.create_unit(self.db, code=fcode, name_nb=fnb, name_en=fen,
                                           level="faculty", now=now)
            chosen = departments[: self.s.departments_per_faculty or len(departments)]
            if fcode == "IE" and not any(d[0] == "IDI" for d in chosen):
                chosen = [departments[0], *chosen[1:]]
            for code, nb, en, mprog, bprog, prefix, groups, topics in chosen:
                unit = academic.create_unit(self.db, code=f"{fcode}-{code}", name_nb=nb,
                                            name_en=en, level="department", parent=faculty,
                                            now=now)
                dept = _Dept(unit, faculty, prefix, mprog, bprog,
                             [tuple(t.split("|")) for t in topics])
                for gcode, gnb, gen in groups[: self.s.groups_per_department]:
                    dept.groups.append(academic.create_unit(
                        self.db, code=f"{unit.code}-{gcode}", name_nb=gnb, name_en=gen,
                        level="group", parent=unit, now=now))
                self.courses_for(dept, now)
                self.depts.append(dept)
                self.dept_by_code[unit.code] = dept
        # Staff: members of departments (and groups); each course gets a leader.
        for dept in self.depts:
            for i in range(self.s.staff_per_department):
                user = self.person(f"staff.{DEMO_DOMAIN}", ["staff"], now)
                academic.add_unit_member(self.db, dept.unit, user,
                                         role="head" if i == 0 else "member", now=now)
                if dept.groups and i > 0:
                    academic.add_unit_member(self.db, dept.groups[i % len(dept.groups)], user,
                                             now=now)
                dept.staff.append(user)
            for i, course in enumerate(dept.courses):
                academic.add_course_leader(self.db, course, dept.staff[i % len(dept.staff)],
                                           now=now)
        idi = self.dept_by_code["IE-IDI"]
        academic.add_unit_member(self.db, idi.unit, self.u["staff"], now=now)
        academic.add_unit_member(self.db, idi.groups[0], self.u["staff"], now=now)
        academic.add_unit_member(self.db, idi.unit, self.u["courseleader"], now=now)
        idi.staff.append(self.u["staff"])
        for code in (D.CUSTOMER_PROJECT[0], "TDT4900", "TDT4501"):
            course = academic.course_by_code(self.db, code)
            academic.add_course_leader(self.db, course, self.u["courseleader"], now=now)
        self.customer_project = academic.course_by_code(self.db, D.CUSTOMER_PROJECT[0])

    def courses_for(self, dept: _Dept, now: datetime) -> None:
        p = dept.prefix
        field_nb = dept.unit.name_nb.replace("Institutt for ", "").replace("NTNU ", "")
        field_en = dept.unit.name_en.replace("Department of ", "").replace("NTNU ", "")
        specs = []
        for i, (nb, en) in enumerate(dept.topics[: self.s.topic_courses]):
            if i < 2:
                specs.append((f"{p}{1000 + 100 * (i + 1)}", nb, en, "7.5", "bachelor"))
            else:
                specs.append((f"{p}{4000 + 100 * (i - 1)}", nb, en, "7.5", "master"))
        specs += [
            (f"{p}3900", f"{field_nb[:1].upper()}{field_nb[1:]}, bacheloroppgave",
             f"{field_en}, Bachelor's Thesis", "20", "bachelor"),
            (f"{p}4501", f"{field_nb[:1].upper()}{field_nb[1:]}, fordypningsprosjekt",
             f"{field_en}, Specialisation Project", "15", "project"),
            (f"{p}4900", f"{field_nb[:1].upper()}{field_nb[1:]}, masteroppgave",
             f"{field_en}, Master's Thesis", "30", "master"),
            (f"{p}8100", f"Forskningsmetoder i {field_nb}", f"Research Methods in {field_en}",
             "7.5", "phd"),
        ]
        if len(self.depts) % 3 == 0:
            nb, en = dept.topics[0]
            specs.append((f"{p}6001", f"Videreutdanning: {nb}", f"Continuing Education: {en}",
                          "7.5", "continuing"))
        if p == "TDT":
            specs.append((*D.CUSTOMER_PROJECT, "15", "master"))
        for code, nb, en, ects, level in specs:
            course = academic.create_course(self.db, code=code, name_nb=nb, name_en=en,
                                            ects=ects, level=level, unit=dept.unit, now=now)
            dept.courses.append(course)
            if code.endswith(("3900", "4501", "4900")):
                dept.thesis_course[level] = course

    # ------------------------------------------------------------ people
    def cohort(self, when: datetime, year: int) -> None:
        n = self.s.students_per_year
        heavy = [d for d in self.depts if d.faculty.code in ("IE", "IV", "NV")]
        for _ in range(n):
            dept = self.rng.choice(heavy if self.chance(0.6) else self.depts)
            level = self.rng.choices(
                ("master", "bachelor", "professional", "phd", "continuing"),
                (55, 30, 6, 5, 4))[0]
            if level == "professional" and dept.faculty.code not in ("MH", "SU", "AD"):
                level = "master"
            # (a minute apart: equal timestamps would let onupdate=utcnow in)
            user = self.person(f"stud.{DEMO_DOMAIN}", ["student"], when - timedelta(minutes=1))
            self.profile(user, dept, level, when)
        if year == ACADEMIC_YEARS[0]:
            self.profile(self.u["student"], self.dept_by_code["IE-IDI"], "master", when)

    def profile(self, user: User, dept: _Dept, level: str, when: datetime) -> None:
        programme = {"master": dept.master_programme, "bachelor": dept.bachelor_programme,
                     "professional": dept.master_programme, "phd": f"PHD-{dept.prefix}",
                     "continuing": "EVU"}[level]
        profiles.update_student_profile(
            self.db, user, programme=programme, level=level, unit_id=dept.unit.id,
            skills=", ".join(self.rng.sample(D.TAGS, 3)),
            interests=", ".join(self.rng.sample(D.TAGS, 2)),
            visible_to_partners=self.chance(0.4) or user is self.u["student"], now=when)
        info = _Student(user, dept, level)
        self.students.setdefault(level, []).append(info)
        self.student_info[user.id] = info

    def pick_students(self, levels: list[str], k: int, year: int, kind: str = "thesis_task",
                      exclude: set[int] = frozenset(), dept: _Dept | None = None
                      ) -> list[_Student]:
        pool = [s for lv in levels for s in self.students.get(lv, ())
                if s.user.id not in exclude and (year, kind, s.user.id) not in self.busy
                and s.user is not self.u["student"] and (dept is None or s.dept is dept)]
        return self.rng.sample(pool, min(k, len(pool)))

    # ------------------------------------------------------------ organisations
    def schedule_organisations(self) -> None:
        specs = self.organisation_specs()
        first = date(2023, 5, 3)
        for i, spec in enumerate(specs[:-2]):
            if i < len(specs) * 0.7:
                day = first + timedelta(days=self.r(0, 85))
            else:
                day = date(2023, 9, 1) + timedelta(days=self.r(0, 890))
            self.tl.at(self.moment(day), self.register_org, spec)
        # Two registered just before "today" wait in the coordinators' queue.
        for i, spec in enumerate(specs[-2:]):
            self.tl.at(self.moment(date(2026, 2, 26 + i)), self.register_org, spec, None,
                       False)
        demo = ("Nidelva Teknologi AS", "NO", "private", "small", "62.010", "Trondheim",
                False, "https://nidelva-teknologi.example")
        self.tl.at(_day(first, 8), self.register_org, demo, self.u["partner"])

    def organisation_specs(self) -> list[tuple]:
        specs = []
        names = set()
        while len(specs) < self.s.companies:
            prefix = self.rng.choice(D.COMPANY_PREFIXES)
            line, nace = self.rng.choice(D.COMPANY_LINES)
            name = f"{prefix} {line} {self.rng.choice(D.COMPANY_FORMS)}"
            if name in names or name.startswith("Nidelva Teknologi"):
                continue
            names.add(name)
            size = self.rng.choices(D.SIZE_WEIGHTS[0], D.SIZE_WEIGHTS[1])[0]
            public = line in ("Kraft",) and self.chance(0.5)
            specs.append((name, "NO", "private", size, nace,
                          self.rng.choice(D.MUNICIPALITIES), public, None))
        # Round robin over the public sectors, so a small demo has each of them.
        by_sector: dict[str, list] = {}
        for body in D.PUBLIC_BODIES:
            by_sector.setdefault(body[1], []).append(body)
        mixed = [b for group in itertools.zip_longest(*by_sector.values()) for b in group if b]
        for name, sector, size, nace, town, public in mixed[: self.s.public_bodies]:
            specs.append((name, "NO", sector, size, nace, town, public, None))
        for name, size, nace, town in D.NON_PROFITS:
            specs.append((name, "NO", "non_profit", size, nace, town, False, None))
        for name, size, nace, town in D.HIGHER_EDUCATION_NO:
            specs.append((name, "NO", "higher_education", size, nace, town, False, None))
        for name, country, sector, size, nace, town in D.FOREIGN:
            specs.append((name, country, sector, size, nace, town, False, None))
        self.rng.shuffle(specs)
        return specs

    def register_org(self, when: datetime, spec: tuple, founder: User | None = None,
                     verify: bool = True) -> None:
        name, country, sector, size, nace, town, public, website = spec
        founder = founder or self.person(f"partner.{DEMO_DOMAIN}", [], when)
        org = organisations.register_organisation(
            self.db, founder, name=name, org_number=self.org_number() if country == "NO" else None,
            sector=sector, size_class=size, nace_code=nace, municipality=town, country=country,
            website=website, public_enterprise=public,
            description=f"{name} samarbeider med universitetet om studenter og forskning.",
            now=when)
        members = [founder]
        for _ in range(self.r(0, 2) if founder is not self.u["partner"] else 1):
            colleague = self.person(f"partner.{DEMO_DOMAIN}", [], when)
            organisations.add_member(self.db, org, colleague, now=when)
            members.append(colleague)
        if verify:  # within a week
            self.tl.at(when + timedelta(days=self.r(1, 7), hours=self.r(0, 5)), self.verify,
                       org, members)

    def verify(self, when: datetime, org: Organisation, members: list[User]) -> None:
        """Like organisations.verify, without its e-mail (see the module docstring)."""
        coordinator = self.u["coordinator"]
        org.verified = True
        org.verified_at = when
        org.verified_by_id = coordinator.id
        touch(org, when)
        self.db.flush()
        organisations.record_organisation_event(self.db, "organisation_verified",
                                                actor=coordinator, organisation=org, now=when)
        entry = _Org(org, members)
        self.orgs.append(entry)
        self.org_info[org.id] = entry

    def pick_org(self, *, norwegian_only: bool = False, sectors: tuple | None = None) -> _Org:
        pool = [o for o in self.orgs
                if (not norwegian_only or o.org.country == "NO")
                and (sectors is None or o.org.sector in sectors)]
        return self.rng.choice(pool or self.orgs)

    # ------------------------------------------------------------ jobs
    def schedule_jobs(self) -> None:
        day = date(2023, 8, 7)  # a Monday
        while _day(day, 2) <= DEMO_NOW:
            self.tl.at(_day(day, 2), self.deadline_job)
            day += timedelta(days=7)
        for year in ACADEMIC_YEARS[:-1]:
            self.tl.at(_day(date(year + 1, 8, 20), 3), self.archive_year, year)

    def deadline_job(self, when: datetime) -> None:
        opps.close_expired(self.db, when)

    def archive_year(self, when: datetime, year: int) -> None:
        start, end = _day(date(year, 8, 1), 0), _day(date(year + 1, 8, 1), 0)
        rows = self.db.execute(
            select(Opportunity).where(Opportunity.status == "closed",
                                      Opportunity.published_at >= start,
                                      Opportunity.published_at < end)
            .order_by(Opportunity.id)).scalars().all()
        for opp in rows:
            opps.archive(self.db, self.u["coordinator"], opp, now=when)

    # ------------------------------------------------------------ opportunities
    def dept_for(self, org: Organisation) -> _Dept:
        """A department that fits the partner's line of business."""
        codes = D.NACE_DEPARTMENTS.get((org.nace_code or "")[:2], ())
        fitting = [self.dept_by_code[c] for c in codes if c in self.dept_by_code]
        return self.rng.choice(fitting or self.depts)

    def topic(self, dept: _Dept) -> tuple[str, str]:
        return self.rng.choice(dept.topics)

    def title(self, templates: list[str], dept: _Dept) -> tuple[str, str]:
        """A title and its language (templates naming the English topic are English)."""
        nb, en = self.topic(dept)
        template = self.rng.choice(templates)
        text = template.format(topic=nb, topic_l=nb.lower(), topic_en=en)
        return text, "en" if "{topic_en}" in template else "nb"

    def tags(self) -> list[str]:
        return self.rng.sample(D.TAGS, self.r(1, 4))

    def post(self, when: datetime, actor: User, kind: str, owner: dict, fields: dict,
             publish_after: timedelta | None = timedelta(days=1)) -> Opportunity:
        opp = opps.create_draft(self.db, actor, kind=kind, now=when, **owner, **fields)
        if publish_after is not None:
            self.tl.at(when + publish_after, self.publish, opp, actor)
        return opp

    def publish(self, when: datetime, opp: Opportunity, actor: User) -> None:
        opps.publish(self.db, actor, opp, now=when)

    def apply(self, when: datetime, opp: Opportunity, student: _Student) -> None:
        if opp.status != "published" or opps.deadline_passed(opp, when):
            return
        with contextlib.suppress(Conflict):
            apps.apply_as_student(self.db, student.user, opp, self.motivation(opp), now=when)

    def motivation(self, opp: Opportunity) -> str:
        return self.rng.choice([
            "Jeg er svært interessert i temaet og har relevante emner fra studiet.",
            "Dette passer godt med fordypningen min, og jeg ønsker erfaring fra arbeidslivet.",
            "I would love to work on this; my courses and summer job are directly relevant.",
            "Jeg har jobbet med lignende problemstillinger i et prosjektemne.",
        ])

    def applications(self, opp: Opportunity, kind: str = "student") -> list[Application]:
        return list(self.db.execute(
            select(Application).where(Application.opportunity_id == opp.id,
                                      Application.applicant_kind == kind,
                                      Application.status.in_(("submitted", "shortlisted")))
            .order_by(Application.id)).scalars())

    def decide(self, when: datetime, opp: Opportunity, year: int, actor: User,
               on_match: Callable | None = None, accept_share: float = 0.9) -> None:
        """Accept offers, then students up to the places; reject the rest."""
        if opp.status not in ("published", "closed") or opp.closed_reason == "manual":
            return
        matched = []
        for offer in self.applications(opp, "unit"):
            collab = apps.accept(self.db, actor, offer, now=when, notify=False)
            matched.append(collab)
        candidates = self.applications(opp)
        self.rng.shuffle(candidates)
        for a in candidates[: max(1, len(candidates) // 2)]:
            if a.status == "submitted" and self.chance(0.5):
                apps.shortlist(self.db, actor, a, now=when)
        take = opp.places - opp.filled if self.chance(accept_share) else 0
        for a in candidates:
            t = when
            if take > 0 and (year, opp.kind, a.applicant_user_id) not in self.busy:
                collab = apps.accept(self.db, actor, a, now=t, notify=False)
                self.busy.add((year, opp.kind, a.applicant_user_id))
                matched.append(collab)
                take -= 1
            else:
                apps.reject(self.db, actor, a, self.rng.choice(
                    [None, "Takk for søknaden; vi gikk videre med en annen kandidat.",
                     "Thank you; the position has been filled."]), now=t, notify=False)
        for offer in self.applications(opp, "organisation"):
            matched.append(apps.accept(self.db, actor, offer, now=when, notify=False))
        if on_match is not None:
            for collab in dict.fromkeys(matched):
                on_match(collab)

    # ------------------------------------------------------------ one academic year
    def schedule_year(self, y: int) -> None:
        s = self.s
        for _ in range(s.theses):
            spring = y == ACADEMIC_YEARS[-1] and self.chance(0.2)
            start = date(y + 1, 1, 10) if spring else date(y, 8, 25)
            self.tl.at(self.moment(start + timedelta(days=self.r(0, 60))), self.thesis, y,
                       spring)
        for _ in range(s.placements):
            self.tl.at(self.moment(date(y + 1, 1, 8) + timedelta(days=self.r(0, 45))),
                       self.placement, y)
        for _ in range(s.cases):
            self.tl.at(self.moment(date(y, 8, 3) + timedelta(days=self.r(0, 12))), self.case, y)
        for _ in range(s.villages):
            self.tl.at(self.moment(date(y, 9, 10) + timedelta(days=self.r(0, 10))),
                       self.village, y)
        for _ in range(s.recorded):
            day = date(y, 8, 10) + timedelta(days=self.r(0, 350))
            self.tl.at(self.moment(day), self.recorded, y)

    # thesis tasks ------------------------------------------------------------
    def thesis(self, when: datetime, y: int, spring: bool) -> None:
        unit_owned = self.chance(0.2)
        if unit_owned:
            dept = self.rng.choice(self.depts)
            owner = {"owner_unit": self.rng.choice(dept.groups or [dept.unit])}
            actor = self.rng.choice(dept.staff)
        else:
            entry = self.pick_org()
            dept = self.dept_for(entry.org)
            owner, actor = {"owner_org": entry.org}, self.rng.choice(entry.members)
        level = "bachelor" if self.chance(0.25) else "master"
        levels = [level] + (["project"] if level == "master" and self.chance(0.1) else [])
        places = self.rng.choices((1, 2, 3), (80, 15, 5))[0]
        deadline = (when + timedelta(days=self.r(25, 45))).date()
        title, language = self.title(D.THESIS_TITLES, dept)
        fields = {
            "title": title, "levels": levels, "places": places, "language": language,
            "description": D.DESCRIPTIONS["thesis_task", language],
            "deadline": deadline, "tags": self.tags(),
            "external_cosupervision": "owner_org" in owner and self.chance(0.5),
            "municipality": self.rng.choice(D.MUNICIPALITIES),
        }
        if "owner_org" in owner and self.chance(0.2):
            fields["confidentiality_terms"] = ("Resultatene kan være taushetsbelagte; "
                                               "offentliggjøring kan utsettes inntil to år.")
        if unit_owned and self.chance(0.5):
            fields["partner_sought"] = True
            fields["partner_role"] = "Vi søker en partner som kan bidra med data og en case."
        opp = self.post(when, actor, "thesis_task", owner, fields)
        published = when + timedelta(days=1)
        if self.chance(0.1):
            self.tl.at(published + timedelta(days=7), self.more_places, opp, actor)
        elif self.chance(0.05):
            self.tl.at(published + timedelta(days=10), self.withdraw_posting, opp, actor)
        for student in self.pick_students([level], self.r(*self.s.applicants), y,
                                          dept=dept if self.chance(0.5) else None):
            t = published + timedelta(hours=self.r(2, 24 * (deadline - published.date()).days))
            self.tl.at(t, self.apply, opp, student)
            if self.chance(0.08):
                self.tl.at(t + timedelta(days=self.r(1, 5)), self.withdraw, opp, student.user)
        if "owner_org" in owner and self.chance(0.3):
            self.tl.at(published + timedelta(days=self.r(2, 14)), self.unit_offer, opp, dept)
        if fields.get("partner_sought") and self.chance(0.6):
            self.tl.at(published + timedelta(days=self.r(2, 20)), self.org_offer, opp)
        decide_at = self.moment(deadline + timedelta(days=self.r(3, 12)))
        self.tl.at(decide_at, self.decide, opp, y, actor,
                   lambda c: self.thesis_follow_up(c, y, level, decide_at), 0.85)

    def withdraw_posting(self, when: datetime, opp: Opportunity, actor: User) -> None:
        """The owner closes a posting early (found someone elsewhere) and says no."""
        if opp.status != "published":
            return
        opps.close(self.db, actor, opp, "manual", now=when)
        for a in self.applications(opp):
            apps.reject(self.db, actor, a, "Stillingen er dessverre trukket.",
                        now=when, notify=False)

    def more_places(self, when: datetime, opp: Opportunity, actor: User) -> None:
        if opp.status == "published":
            opps.update(self.db, actor, opp, places=opp.places + 1, now=when)

    def withdraw(self, when: datetime, opp: Opportunity, student: User) -> None:
        a = self.db.execute(select(Application).where(
            Application.opportunity_id == opp.id, Application.applicant_user_id == student.id,
            Application.applicant_kind == "student",
            Application.status.in_(("submitted", "shortlisted")))).scalar_one_or_none()
        if a is not None:
            apps.withdraw(self.db, student, a, now=when)

    def unit_offer(self, when: datetime, opp: Opportunity, dept: _Dept) -> None:
        if opp.status != "published" or opps.deadline_passed(opp, when):
            return
        unit = self.rng.choice(dept.groups or [dept.unit])
        staff = self.rng.choice(dept.staff)
        with contextlib.suppress(Conflict):
            apps.offer_as_unit(self.db, staff, unit, opp,
                               "Gruppen vår veileder gjerne denne oppgaven.", now=when)

    def org_offer(self, when: datetime, opp: Opportunity, entry: _Org | None = None) -> None:
        if opp.status != "published" or opps.deadline_passed(opp, when):
            return
        entry = entry or self.pick_org()
        with contextlib.suppress(Conflict):
            apps.offer_as_organisation(self.db, entry.members[0], entry.org, opp,
                                       "Vi bidrar gjerne med problemstilling, data og "
                                       "en kontaktperson.", now=when)

    def editor(self, collab: Collaboration) -> User:
        for role in ("supervisor", "partner_contact", "course_leader", "staff"):
            for p in collab.participants:
                if p.role == role:
                    return p.user
        return self.u["coordinator"]

    def student_of(self, collab: Collaboration) -> User | None:
        return next((p.user for p in collab.participants if p.role == "student"), None)

    def thesis_follow_up(self, collab: Collaboration, y: int, level: str,
                         decided: datetime) -> None:
        if collab.id in self.scheduled:
            return
        self.scheduled.add(collab.id)
        rng = self.rng
        start = date(y + 1, 1, rng.randint(8, 20))
        if decided.date() >= start:  # spring postings start in the autumn
            start = date(y + 1, 8, 20)
        self.tl.at(decided + timedelta(days=rng.randint(2, 9)), self.ensure_supervisor, collab)
        self.tl.at(self.moment(start), self.start, collab)
        if rng.random() < 0.6:
            self.tl.at(self.moment(start + timedelta(days=rng.randint(7, 21))),
                       self.tag_thesis_course, collab, level, rng.random() < 0.05)
        if rng.random() < 0.05:
            self.tl.at(self.moment(start + timedelta(days=rng.randint(20, 60))), self.cancel,
                       collab)
            return
        if rng.random() < 0.06:
            self.tl.at(self.moment(start + timedelta(days=rng.randint(20, 50))),
                       self.swap_supervisor, collab)
        if start.month >= 6:
            delivered = date(start.year, 12, rng.randint(10, 18))
        elif level == "master":
            delivered = date(start.year, 6, rng.randint(1, 14))
        else:
            delivered = date(start.year, 5, rng.randint(15, 30))
        self.tl.at(self.moment(delivered + timedelta(days=rng.randint(0, 3))),
                   self.deliver_thesis, collab, delivered)
        done = delivered + timedelta(days=rng.randint(5, 15))
        if rng.random() < 0.3:
            self.tl.at(self.moment(done - timedelta(days=1)), self.impact_story, collab)
        self.tl.at(self.moment(done), self.complete, collab, None)
        self.schedule_outcomes(collab, done)

    def schedule_outcomes(self, collab: Collaboration, done: date) -> None:
        rng = self.rng
        for kind, p, lo, hi in (("student_recruited", 0.25, 20, 90),
                                ("follow_up_project", 0.10, 30, 150),
                                ("publication", 0.08, 60, 240),
                                ("tto_disclosure", 0.03, 30, 200),
                                ("continued_partnership", 0.10, 30, 180)):
            if rng.random() < p:
                day = done + timedelta(days=rng.randint(lo, hi))
                self.tl.at(self.moment(day), self.outcome, collab, kind, day)

    def ensure_supervisor(self, when: datetime, collab: Collaboration) -> None:
        if collab.status not in ("agreed", "ongoing"):
            return
        if any(p.role == "supervisor" for p in collab.participants):
            return
        student = self.student_of(collab)
        info = self.student_info.get(student.id) if student else None
        dept = info.dept if info else self.rng.choice(self.depts)
        supervisor = self.rng.choice(dept.staff)
        collabs.add_participant(self.db, self.editor(collab), collab, supervisor, "supervisor",
                                now=when)

    def swap_supervisor(self, when: datetime, collab: Collaboration) -> None:
        if collab.status not in ("agreed", "ongoing"):
            return
        old = next((p.user for p in collab.participants if p.role == "supervisor"), None)
        student = self.student_of(collab)
        info = self.student_info.get(student.id) if student else None
        if old is None or info is None:
            return
        others = [s for s in info.dept.staff if s.id != old.id and not any(
            p.user_id == s.id and p.role == "supervisor" for p in collab.participants)]
        if others:
            collabs.change_supervisor(self.db, old, collab, old, self.rng.choice(others),
                                      now=when)

    def tag_thesis_course(self, when: datetime, collab: Collaboration, level: str,
                          mistake: bool) -> None:
        if collab.status not in ("agreed", "ongoing"):
            return
        student = self.student_of(collab)
        info = self.student_info.get(student.id) if student else None
        if info is None:
            return
        course = info.dept.thesis_course.get(info.level) or info.dept.thesis_course.get(level)
        if course is None or any(c.course_id == course.id for c in collab.courses):
            return
        leader = _leader(course)
        collabs.tag_course(self.db, leader, course, collaboration=collab,
                           semester=_semester(when.date()), now=when)
        if mistake:
            collabs.untag_course(self.db, leader, course, collaboration=collab, now=when)

    def start(self, when: datetime, collab: Collaboration) -> None:
        if collab.status == "agreed":
            collabs.start(self.db, self.editor(collab), collab, start_date=when.date(),
                          now=when)

    def cancel(self, when: datetime, collab: Collaboration) -> None:
        if collab.status in ("agreed", "ongoing"):
            collabs.cancel(self.db, self.editor(collab), collab, self.rng.choice(
                ["Studenten byttet tema.", "Virksomheten måtte prioritere annerledes.",
                 "The student left the programme."]), now=when)

    def deliver_thesis(self, when: datetime, collab: Collaboration, day: date) -> None:
        if collab.status not in ("agreed", "ongoing"):
            return
        student = self.student_of(collab) or self.editor(collab)
        handle = 11250 * 1000 + collab.id
        collabs.record_result(self.db, student, collab, type="thesis_delivered",
                              title=collab.title,
                              link=f"https://ntnuopen.ntnu.no/ntnu-xmlui/handle/11250/{handle}",
                              occurred_on=day, now=when)
        if self.chance(0.3):
            collabs.record_result(self.db, student, collab, type="presentation",
                                  title="Presentasjon for virksomheten", occurred_on=day,
                                  now=when)

    def impact_story(self, when: datetime, collab: Collaboration) -> None:
        if collab.status == "cancelled":
            return
        contact = next((p.user for p in collab.participants if p.role == "partner_contact"),
                       self.editor(collab))
        collabs.record_impact_story(self.db, contact, collab, self.rng.choice([
            "Resultatene tas nå i bruk i den daglige driften hos oss.",
            "Samarbeidet ga oss ny innsikt og en modell vi videreutvikler.",
            "The work changed how we plan maintenance across our sites.",
            "Studentene fant en løsning vi ikke hadde tenkt på selv.",
        ]), public=self.chance(0.5), now=when)

    def complete(self, when: datetime, collab: Collaboration, teams: int | None) -> None:
        if collab.status in ("agreed", "ongoing"):
            collabs.complete(self.db, self.editor(collab), collab, end_date=when.date(),
                             teams_count=teams, now=when)

    def outcome(self, when: datetime, collab: Collaboration, kind: str, day: date) -> None:
        if collab.status == "cancelled":
            return
        titles = {"student_recruited": "Studenten ble ansatt",
                  "follow_up_project": "Oppfølgingsprosjekt",
                  "publication": "Artikkel i fagfellevurdert tidsskrift",
                  "tto_disclosure": "Idé meldt til NTNU Technology Transfer",
                  "continued_partnership": "Samarbeidet videreføres"}
        collabs.record_result(self.db, self.editor(collab), collab, type=kind,
                              title=titles[kind], occurred_on=day, now=when)

    # placements ------------------------------------------------------------
    def placement(self, when: datetime, y: int) -> None:
        entry = self.pick_org(norwegian_only=True)
        dept = self.dept_for(entry.org)
        actor = self.rng.choice(entry.members)
        credit = self.chance(0.4)
        deadline = (when + timedelta(days=self.r(30, 50))).date()
        title, language = self.title(D.PLACEMENT_TITLES, dept)
        fields = {
            "title": title, "language": language,
            "description": D.DESCRIPTIONS["placement", language],
            "levels": self.rng.sample(["bachelor", "master", "professional"], self.r(1, 2)),
            "places": self.r(1, 3), "deadline": deadline, "tags": self.tags(),
            "period_start": date(y + 1, 6, 16), "period_end": date(y + 1, 8, 15),
            "extent_weeks": self.r(6, 10), "supervised_on_site": self.chance(0.85),
            "credit_bearing": credit, "ects": self.rng.choice(("7.5", "15")) if credit else None,
            "paid": self.chance(0.7), "municipality": entry.org.municipality,
        }
        opp = self.post(when, actor, "placement", {"owner_org": entry.org}, fields)
        published = when + timedelta(days=1)
        for student in self.pick_students(opp.level_names, self.r(*self.s.applicants), y,
                                          "placement"):
            t = published + timedelta(hours=self.r(2, 24 * (deadline - published.date()).days))
            self.tl.at(t, self.apply, opp, student)
        decide_at = self.moment(deadline + timedelta(days=self.r(4, 12)))
        self.tl.at(decide_at, self.decide, opp, y, actor,
                   lambda c: self.placement_follow_up(c, y), 0.9)

    def placement_follow_up(self, collab: Collaboration, y: int) -> None:
        rng = self.rng
        self.tl.at(_day(date(y + 1, 6, 16), 8), self.start, collab)
        if rng.random() < 0.04:
            self.tl.at(self.moment(date(y + 1, 7, 1)), self.cancel, collab)
            return
        end = date(y + 1, 8, 15)
        if rng.random() < 0.5:
            self.tl.at(self.moment(end - timedelta(days=2)), self.report, collab, "report")
        if rng.random() < 0.2:
            self.tl.at(self.moment(end - timedelta(days=1)), self.impact_story, collab)
        self.tl.at(_day(end, 15), self.complete, collab, None)
        if rng.random() < 0.2:
            day = end + timedelta(days=rng.randint(10, 60))
            self.tl.at(self.moment(day), self.outcome, collab, "student_recruited", day)

    def report(self, when: datetime, collab: Collaboration, kind: str) -> None:
        if collab.status in ("agreed", "ongoing"):
            author = self.student_of(collab) or self.editor(collab)
            titles = {"report": "Sluttrapport", "presentation": "Sluttpresentasjon",
                      "case_material": "Casemateriale for videre bruk",
                      "prototype": "Prototyp"}
            collabs.record_result(self.db, author, collab, type=kind, title=titles[kind],
                                  occurred_on=when.date(), now=when)

    # industry cases ------------------------------------------------------------
    def case(self, when: datetime, y: int) -> None:
        entry = self.pick_org()
        dept = self.dept_for(entry.org)
        actor = self.rng.choice(entry.members)
        candidates = [c for c in dept.courses if c.level in ("bachelor", "master")
                      and not c.code.endswith(("3900", "4900"))]
        courses = self.rng.sample(candidates, min(len(candidates), self.r(1, 2)))
        deadline = date(y, 9, 1)
        title, language = self.title(D.CASE_TITLES, dept)
        fields = {
            "title": title, "language": language,
            "description": D.DESCRIPTIONS["industry_case", language],
            "levels": ["bachelor", "master"], "places": self.r(2, 5), "deadline": deadline,
            "tags": self.tags(), "material": "Datasett, prosessbeskrivelse og en video.",
            "course_usage": "Egnet som semesterprosjekt for team på 4–6 studenter.",
            "suitable_courses": courses, "period_start": date(y, 9, 8),
            "period_end": date(y, 12, 6),
        }
        opp = self.post(when, actor, "industry_case", {"owner_org": entry.org}, fields)
        published = when + timedelta(days=1)
        for student in self.pick_students(["bachelor", "master"], opp.places + self.r(0, 2),
                                          y, "industry_case", dept=dept):
            t = published + timedelta(hours=self.r(2, 24 * (deadline - published.date()).days))
            self.tl.at(t, self.apply, opp, student)
        self.tl.at(self.moment(date(y, 9, 4)), self.decide, opp, y, actor,
                   lambda c: self.case_follow_up(c, y), 1.0)
        if courses:
            self.tl.at(self.moment(date(y, 9, 6)), self.tag_case, opp, courses[0], y)

    def tag_case(self, when: datetime, opp: Opportunity, course: Course, y: int) -> None:
        if not course.leaders or opp.status == "draft":
            return
        teams = opp.filled or self.r(1, 4)
        collabs.tag_course(self.db, _leader(course), course, opportunity=opp,
                           semester=f"{y}H", teams_count=teams,
                           students_reached=teams * self.r(4, 6), now=when)

    def case_follow_up(self, collab: Collaboration, y: int) -> None:
        self.tl.at(_day(date(y, 9, 8), 9), self.start, collab)
        day = date(y, 11, self.r(20, 30))
        self.tl.at(self.moment(day), self.report, collab,
                   self.rng.choice(("case_material", "presentation", "report")))
        if self.chance(0.25):
            self.tl.at(self.moment(date(y, 12, 4)), self.impact_story, collab)
        self.tl.at(_day(date(y, 12, 6), 14), self.complete, collab, 1)
        if self.chance(0.05):
            day = date(y + 1, 3, self.r(1, 28))
            self.tl.at(self.moment(day), self.outcome, collab, "student_recruited", day)

    # EiT villages ------------------------------------------------------------
    def village(self, when: datetime, y: int, dept: _Dept | None = None,
                leader: User | None = None) -> Opportunity:
        dept = dept or self.rng.choice(self.depts)
        leader = leader or self.rng.choice(dept.staff)
        code = f"{dept.prefix}48{self.r(10, 99)}"
        while code in self.village_codes:
            code = f"{dept.prefix}48{self.r(10, 99)}"
        self.village_codes.add(code)
        nb, en = self.rng.choice(D.VILLAGE_THEMES)
        semester = f"{y + 1}V"
        deadline = date(y, 11, 15)
        fields = {
            "title": f"EiT-landsby {code}: {nb}", "theme": nb, "village_code": code,
            "semester": semester, "village_leader": leader, "places": self.r(25, 36),
            "description": f"Eksperter i team, {semester}: tverrfaglige team arbeider med "
                           f"«{nb}» ({en}) sammen med en ekstern partner.",
            "levels": ["master", "professional"], "deadline": deadline,
            "partner_sought": self.chance(0.8) or leader is self.u["staff"],
            "partner_role": "Partneren gir teamene en reell problemstilling og møter dem "
                            "tre ganger i semesteret.",
            "tags": ["eit", *self.tags()[:2]],
        }
        opp = self.post(when, leader, "eit_village", {"owner_unit": dept.unit}, fields)
        if leader is self.u["staff"]:
            return opp
        published = when + timedelta(days=1)
        if opp.partner_sought:
            for _ in range(self.r(1, 2)):
                self.tl.at(published + timedelta(days=self.r(5, 40)), self.org_offer, opp)
        for student in self.pick_students(["master", "professional"],
                                          self.r(*self.s.village_students), y, "eit_village"):
            t = published + timedelta(hours=self.r(2, 24 * 45))
            self.tl.at(t, self.apply, opp, student)
            if self.chance(0.4):
                self.tl.at(t + timedelta(hours=1), self.wishes, student.user, semester, opp)
        self.tl.at(self.moment(date(y, 12, 1)), self.decide, opp, y, leader,
                   lambda c: self.village_follow_up(c, y), 1.0)
        return opp

    def wishes(self, when: datetime, student: User, semester: str,
               first: Opportunity | None = None) -> None:
        info = self.student_info[student.id]
        villages = self.db.execute(
            select(Opportunity).where(Opportunity.kind == "eit_village",
                                      Opportunity.semester == semester,
                                      Opportunity.status == "published")
            .order_by(Opportunity.id)).scalars().all()
        villages = [v for v in villages if not opps.deadline_passed(v, when)]
        other = [v for v in villages if v.owner_unit.ancestor_at("faculty").id
                 != info.dept.faculty.id and v is not first]
        own = [v for v in villages if v not in other and v is not first]
        if len(other) < 2:
            return
        chosen = ([first] if first is not None else []) + self.rng.sample(
            other, min(len(other), self.r(2, 3)))
        if own and self.chance(0.5):
            chosen.append(self.rng.choice(own))
        apps.record_eit_wishes(self.db, student, semester, [v.id for v in chosen[:5]],
                               now=when)

    def village_follow_up(self, collab: Collaboration, y: int) -> None:
        if collab.id in self.scheduled:
            return
        self.scheduled.add(collab.id)
        self.tl.at(_day(date(y + 1, 1, 8), 9), self.start, collab)
        self.tl.at(self.moment(date(y + 1, 4, 22)), self.report, collab, "presentation")
        if self.chance(0.5):
            self.tl.at(self.moment(date(y + 1, 4, 24)), self.report, collab, "report")
        if self.chance(0.2):
            self.tl.at(self.moment(date(y + 1, 4, 25)), self.report, collab, "prototype")
        if self.chance(0.3):
            self.tl.at(self.moment(date(y + 1, 4, 26)), self.impact_story, collab)
        self.tl.at(_day(date(y + 1, 4, 28), 15), self.complete_village, collab)

    def complete_village(self, when: datetime, collab: Collaboration) -> None:
        students = sum(1 for p in collab.participants if p.role == "student")
        self.complete(when, collab, max(1, math.ceil(students / 5)))

    # recorded activities ------------------------------------------------------------
    def recorded(self, when: datetime, y: int) -> None:
        form, labels, (lo, hi) = self.rng.choices(D.RECORDED,
                                                  (30, 14, 14, 10, 6, 6, 6, 4, 6, 4))[0]
        partner = self.pick_org().org
        dept = self.dept_for(partner)
        day = when.date() - timedelta(days=self.r(2, 10))
        kwargs: dict = {"partners": [partner], "start_date": day}
        if self.chance(0.15):
            kwargs["partners"] = list(dict.fromkeys([*kwargs["partners"],
                                                     self.pick_org().org]))
        label = self.rng.choice(labels)
        if self.chance(0.6):
            kwargs["local_label"] = label
        else:
            kwargs.update(form=form, local_label=label if self.chance(0.5) else None)
        taught = [c for c in dept.courses if c.leaders]
        if form in ("guest_lecture", "company_visit", "workshop") and taught and \
                self.chance(0.6):
            course = self.rng.choice(taught)
            actor = _leader(course)
            kwargs["courses"] = [course]
        else:
            actor = self.rng.choice(dept.staff)
            kwargs["unit"] = self.rng.choice([dept.unit, *dept.groups])
        org_name = kwargs["partners"][0].name
        titles = {
            "guest_lecture": f"Gjesteforelesning fra {org_name}",
            "company_visit": f"Bedriftsbesøk hos {org_name}",
            "workshop": f"Workshop med {org_name}",
            "career_event": f"Karrieredag med {org_name}",
            "mentoring": f"Mentorordning med {org_name}",
            "advisory_role": f"{org_name} i programrådet",
            "shared_position": f"Professor II fra {org_name}",
            "staff_mobility": f"Hospitering hos {org_name}",
            "research_collaboration": f"Forskningssamarbeid med {org_name}",
            "student_innovation": f"Studentbedrift med støtte fra {org_name}",
        }
        kwargs["title"] = titles[form]
        end = None
        if form in ("guest_lecture", "company_visit", "workshop", "career_event"):
            kwargs["participants_count"] = self.r(lo, hi)
        elif form == "shared_position":
            kwargs["fte"] = self.rng.choice(("0.2", "0.2", "0.1", "0.4"))
            end = day + timedelta(days=365 * 3)
        elif form == "staff_mobility":
            kwargs["person_months"] = self.r(2, 10)
            end = day + timedelta(days=30 * kwargs["person_months"])
        elif form == "research_collaboration":
            kwargs["person_months"] = self.r(6, 48)
            kwargs["participants_count"] = self.r(lo, hi)
            end = day + timedelta(days=self.r(200, 700))
        else:
            kwargs["participants_count"] = self.r(lo, hi)
            end = day + timedelta(days=self.r(90, 300))
        if end is not None:
            kwargs["end_date"] = end
        collab = collabs.record_direct(self.db, actor, now=when, **kwargs)
        if end is not None and collab.status != "completed":
            if form == "research_collaboration":
                self.schedule_outcomes(collab, end)
            self.tl.at(self.moment(end), self.complete, collab, None)

    # ------------------------------------------------------------ the showcase
    def schedule_showcase(self) -> None:
        """The demo logins' own story, touching every event type (fixed dates)."""
        at = self.tl.at
        at(_day(date(2024, 1, 15), 9), self.show_placement)
        at(_day(date(2024, 9, 10), 9), self.show_theses)
        at(_day(date(2025, 8, 10), 9), self.show_case)
        at(_day(date(2025, 9, 18), 9), self.show_villages)
        at(_day(date(2025, 10, 16), 9), self.show_recorded)
        at(_day(date(2026, 2, 2), 9), self.show_open)
        at(_day(date(2026, 2, 20), 9), self.open_postings)

    def _nidelva(self) -> _Org:
        return next(o for o in self.orgs if o.org.name == "Nidelva Teknologi AS")

    def _idi_students(self, n: int, year: int) -> list[_Student]:
        idi = self.dept_by_code["IE-IDI"]
        chosen = self.pick_students(["master"], n, year, dept=idi)
        if len(chosen) < n:
            chosen += self.pick_students(["master"], n - len(chosen), year,
                                         exclude={s.user.id for s in chosen})
        return chosen

    def show_placement(self, when: datetime) -> None:
        partner, student = self.u["partner"], self.u["student"]
        org = self._nidelva().org
        opp = self.post(when, partner, "placement", {"owner_org": org}, {
            "title": "Sommerpraksis: dataplattform for havbruk",
            "description": "Ti uker i utviklingsteamet vårt med egen veileder.",
            "levels": ["master", "bachelor"], "places": 1, "deadline": date(2024, 3, 1),
            "period_start": date(2024, 6, 17), "period_end": date(2024, 8, 16),
            "extent_weeks": 9, "supervised_on_site": True, "credit_bearing": True,
            "ects": "7.5", "paid": True, "tags": ["havbruk", "data", "python"],
            "municipality": "Trondheim", "location": "Brattøra, Trondheim"})
        other = self._idi_students(1, 2023)[0]
        at = self.tl.at
        at(_day(date(2024, 2, 1), 12), lambda t: apps.apply_as_student(
            self.db, student, opp, "Jeg vil gjerne jobbe med data fra havbruk i sommer.",
            now=t))
        at(_day(date(2024, 2, 3), 12), self.apply, opp, other)

        def shortlist(t):
            mine = next(a for a in self.applications(opp) if a.applicant_user_id == student.id)
            apps.shortlist(self.db, partner, mine, now=t)
        at(_day(date(2024, 3, 4), 9), shortlist)

        def decide(t):
            mine, theirs = sorted(self.applications(opp), key=lambda a: a.applicant_user_id
                                  != student.id)
            collab = apps.accept(self.db, partner, mine, "Velkommen til oss i sommer!",
                                 now=t, notify=False)
            apps.reject(self.db, partner, theirs, "Takk! Vi valgte en annen kandidat.",
                        now=t, notify=False)
            self.busy.add((2023, "placement", student.id))
            at(_day(date(2024, 6, 17), 8), self.start, collab)
            at(_day(date(2024, 8, 14), 14), lambda t2: collabs.record_result(
                self.db, student, collab, type="report", title="Praksisrapport: "
                "datapipeline for merdsensorer", occurred_on=t2.date(), now=t2))
            at(_day(date(2024, 8, 16), 15), self.complete, collab, None)
        at(_day(date(2024, 3, 6), 9), decide)
        at(_day(date(2024, 8, 19), 9), lambda t: opps.archive(self.db, partner, opp, now=t))

    def show_theses(self, when: datetime) -> None:
        partner, student, staff = self.u["partner"], self.u["student"], self.u["staff"]
        nidelva = self._nidelva()
        idi = self.dept_by_code["IE-IDI"]
        ai = idi.groups[0]
        at = self.tl.at
        t1 = self.post(when, partner, "thesis_task", {"owner_org": nidelva.org}, {
            "title": "Maskinlæring for prediksjon av fôrbehov i havbruk",
            "description": "Vi har fem års sensordata fra merdene og ønsker en modell som "
                           "forutsier fôrbehov. Masteroppgave med mulighet for sommerjobb.",
            "levels": ["master"], "places": 1, "deadline": date(2024, 10, 15),
            "tags": ["maskinlæring", "havbruk", "data"], "external_cosupervision": True})
        t2 = self.post(when, staff, "thesis_task", {"owner_unit": ai}, {
            "title": "Forklarbar KI for beslutningsstøtte",
            "description": "Gruppetema i kunstig intelligens; vi søker en partner med en "
                           "reell beslutningsprosess og data.",
            "levels": ["master"], "places": 1, "deadline": date(2024, 10, 20),
            "partner_sought": True, "partner_role": "Bidra med data og en kontaktperson.",
            "tags": ["ai", "innovasjon"]})
        t3 = self.post(when, partner, "thesis_task",
                       {"owner_org": nidelva.org}, {
                           "title": "Digital tvilling av en fôrflåte",
                           "description": "Bygg en digital tvilling av fôrflåten vår.",
                           "levels": ["master"], "places": 1, "deadline": date(2024, 10, 25),
                           "tags": ["simulering", "havbruk"]})
        s2, s3, s4 = self._idi_students(3, 2024)
        at(_day(date(2024, 9, 14), 10), lambda t: opps.update(
            self.db, partner, t3, description="Bygg en digital tvilling av fôrflåten vår, "
            "med sanntidsdata fra sensorene.", now=t))
        at(_day(date(2024, 9, 20), 10), lambda t: apps.offer_as_unit(
            self.db, staff, ai, t1, "AI-gruppa veileder gjerne denne oppgaven.", now=t))
        at(_day(date(2024, 9, 25), 10), lambda t: apps.accept(
            self.db, partner, self.applications(t1, "unit")[0], now=t, notify=False))
        at(_day(date(2024, 10, 1), 10), lambda t: apps.apply_as_student(
            self.db, student, t1, "Dette passer perfekt med fordypningen min i maskinlæring.",
            now=t))
        at(_day(date(2024, 10, 2), 10), self.apply, t1, s4)
        at(_day(date(2024, 10, 5), 10), self.withdraw, t1, s4.user)
        at(_day(date(2024, 10, 3), 11), self.apply, t2, s2)
        at(_day(date(2024, 10, 4), 11), self.apply, t3, s3)
        at(_day(date(2024, 10, 10), 11), self.org_offer, t2, nidelva)

        def accept_t1(t):
            collab = apps.accept(self.db, partner, self.applications(t1)[0],
                                 "Velkommen! Vi gleder oss.", now=t, notify=False)
            self.busy.add((2024, "thesis_task", student.id))
            at(_day(date(2025, 1, 15), 9), lambda t2: collabs.start(
                self.db, staff, collab, start_date=t2.date(), now=t2))
            at(_day(date(2025, 1, 20), 9), self.show_tags, collab)
            at(_day(date(2025, 6, 10), 13), lambda t2: collabs.record_result(
                self.db, student, collab, type="thesis_delivered", title=t1.title,
                link="https://ntnuopen.ntnu.no/ntnu-xmlui/handle/11250/3190001",
                occurred_on=t2.date(), now=t2))
            at(_day(date(2025, 6, 20), 13), lambda t2: collabs.record_impact_story(
                self.db, partner, collab, "Modellen fra masteroppgaven er nå i drift på tre "
                "lokaliteter og har redusert fôrsvinnet merkbart.", public=True, now=t2))
            at(_day(date(2025, 6, 25), 13), lambda t2: collabs.complete(
                self.db, staff, collab, end_date=t2.date(), now=t2))
            at(_day(date(2025, 8, 15), 13), lambda t2: collabs.record_result(
                self.db, partner, collab, type="student_recruited",
                title="Studenten ble ansatt som dataingeniør", occurred_on=t2.date(), now=t2))
        at(_day(date(2024, 10, 20), 14), accept_t1)

        def accept_t2(t):
            collab = apps.accept(self.db, staff, self.applications(t2)[0], now=t,
                                 notify=False)
            self.busy.add((2024, "thesis_task", s2.user.id))
            at(t + timedelta(days=1), lambda t2_: apps.accept(
                self.db, staff, self.applications(t2, "organisation")[0], now=t2_,
                notify=False))
            other = next(u for u in idi.staff if u is not staff)
            at(_day(date(2025, 1, 10), 9), self.start, collab)
            at(_day(date(2025, 2, 1), 9), lambda t2: collabs.change_supervisor(
                self.db, staff, collab, staff, other, now=t2))
            at(_day(date(2025, 6, 12), 13), self.deliver_thesis, collab, date(2025, 6, 12))
            at(_day(date(2025, 6, 24), 13), self.complete, collab, None)
        at(_day(date(2024, 10, 25), 14), accept_t2)

        def accept_t3(t):
            collab = apps.accept(self.db, partner, self.applications(t3)[0], now=t,
                                 notify=False)
            self.busy.add((2024, "thesis_task", s3.user.id))
            at(_day(date(2025, 2, 15), 9), lambda t2: collabs.cancel(
                self.db, partner, collab, "Studenten valgte et annet tema.", now=t2))
        at(_day(date(2024, 11, 1), 14), accept_t3)

    def show_tags(self, when: datetime, collab: Collaboration) -> None:
        leader = self.u["courseleader"]
        wrong = self.customer_project
        thesis_course = academic.course_by_code(self.db, "TDT4900")
        collabs.tag_course(self.db, leader, wrong, collaboration=collab, semester="2025V",
                           now=when)
        collabs.untag_course(self.db, leader, wrong, collaboration=collab, semester="2025V",
                             now=when)
        collabs.tag_course(self.db, leader, thesis_course, collaboration=collab,
                           semester="2025V", now=when)

    def show_case(self, when: datetime) -> None:
        partner, leader = self.u["partner"], self.u["courseleader"]
        org = self._nidelva().org
        case = self.post(when, partner, "industry_case", {"owner_org": org}, {
            "title": "Kundestyrt prosjekt: app for røkting av merder",
            "description": "Studentteam lager en mobilapp for røkterne våre, med ekte "
                           "brukere og en produkteier hos oss.",
            "levels": ["master"], "places": 2, "deadline": date(2025, 9, 1),
            "material": "Brukerhistorier, API-dokumentasjon og testmiljø.",
            "course_usage": "Kundestyrt prosjekt, team på 5–7.",
            "suitable_courses": [self.customer_project], "period_start": date(2025, 9, 8),
            "period_end": date(2025, 11, 20), "tags": ["app", "havbruk", "design"]})
        for i, s in enumerate(self._idi_students(3, 2025)):
            self.tl.at(_day(date(2025, 8, 20 + i), 12), self.apply, case, s)

        def decide(t):
            chosen = self.applications(case)
            for a in chosen[:2]:
                collab = apps.accept(self.db, partner, a, now=t, notify=False)
                self.tl.at(_day(date(2025, 9, 8), 9), self.start, collab)
                self.tl.at(_day(date(2025, 11, 18), 12), self.report, collab,
                           "case_material")
                self.tl.at(_day(date(2025, 11, 20), 14), self.complete, collab, 1)
            for a in chosen[2:]:
                apps.reject(self.db, partner, a, now=t, notify=False)
        self.tl.at(_day(date(2025, 9, 3), 9), decide)
        self.tl.at(_day(date(2025, 9, 5), 9), lambda t: collabs.tag_course(
            self.db, leader, self.customer_project, opportunity=case, semester="2025H",
            teams_count=2, students_reached=12, now=t))

    def show_villages(self, when: datetime) -> None:
        staff, student = self.u["staff"], self.u["student"]
        idi = self.dept_by_code["IE-IDI"]
        own = self.village(when, 2025, idi, staff)
        others = [d for d in self.depts if d.faculty.code != "IE"]
        for dept in (others[0], others[-1]):
            self.village(when, 2025, dept, dept.staff[0])
        nidelva = self._nidelva()
        self.tl.at(_day(date(2025, 10, 1), 10), self.org_offer, own, nidelva)
        self.tl.at(_day(date(2025, 11, 1), 10), lambda t: apps.apply_as_student(
            self.db, student, own, "Jeg vil gjerne jobbe tverrfaglig med smarte byer.",
            now=t))
        self.tl.at(_day(date(2025, 11, 1), 11), self.wishes, student, own.semester, own)

        def decide(t):
            apps.accept(self.db, staff, self.applications(own, "organisation")[0], now=t,
                        notify=False)
            collab = apps.accept(self.db, staff, self.applications(own)[0], now=t,
                                 notify=False)
            self.tl.at(_day(date(2026, 1, 8), 9), self.start, collab)
        self.tl.at(_day(date(2025, 12, 1), 10), decide)

    def show_recorded(self, when: datetime) -> None:
        leader, staff = self.u["courseleader"], self.u["staff"]
        org = self._nidelva().org
        collabs.record_direct(self.db, leader, local_label="Gjesteforelesning",
                              title="Gjesteforelesning: smidig utvikling i havbruk",
                              partners=[org], courses=[self.customer_project],
                              start_date=date(2025, 10, 14), participants_count=96, now=when)
        collabs.record_direct(self.db, staff, local_label="professor II",
                              title="Professor II fra Nidelva Teknologi",
                              partners=[org], unit=self.dept_by_code["IE-IDI"].groups[0],
                              start_date=date(2024, 8, 1), end_date=date(2027, 7, 31),
                              fte="0.2", now=when)

    def open_postings(self, when: datetime) -> None:
        """Postings open for the coming years, so lists and search have something to show.

        Their deadlines are fixed dates in 2027–2029 (never relative to today),
        so the same seed still gives the same data on any day.
        """
        for i in range(max(self.s.theses // 2, 6)):
            kind = ("thesis_task", "placement", "industry_case")[i % 3]
            entry = self.pick_org(norwegian_only=kind == "placement")
            dept = self.dept_for(entry.org)
            actor = self.rng.choice(entry.members)
            templates = {"thesis_task": D.THESIS_TITLES, "placement": D.PLACEMENT_TITLES,
                         "industry_case": D.CASE_TITLES}[kind]
            title, language = self.title(templates, dept)
            year = 2027 + i % 3
            fields = {
                "title": title, "language": language,
                "description": D.DESCRIPTIONS[kind, language],
                "levels": ["master"] if kind == "thesis_task" else ["bachelor", "master"],
                "places": self.r(1, 3), "tags": self.tags(),
                "deadline": date(year, self.r(1, 12), self.r(1, 28)),
                "municipality": self.rng.choice(D.MUNICIPALITIES),
            }
            if kind == "placement":
                fields.update(period_start=date(year, 6, 16), period_end=date(year, 8, 15),
                              extent_weeks=8, supervised_on_site=True, paid=self.chance(0.6))
            self.post(when, actor, kind, {"owner_org": entry.org}, fields)

    def show_open(self, when: datetime) -> None:
        partner = self.u["partner"]
        org = self._nidelva().org
        self.post(when, partner, "thesis_task", {"owner_org": org}, {
            "title": "Datakvalitet i sanntidsstrømmer fra merder",
            "description": "Masteroppgave høsten 2027: hvordan oppdage feil i sensordata "
                           "før de når modellene.",
            "levels": ["master", "project"], "places": 2, "deadline": date(2027, 4, 15),
            "tags": ["data", "havbruk", "maskinlæring"], "external_cosupervision": True})
        self.post(when, partner, "placement", {"owner_org": org}, {
            "title": "Sommerpraksis 2027: utvikler i havbruksteamet",
            "description": "Åtte uker sommeren 2027 med egen veileder.",
            "levels": ["bachelor", "master"], "places": 2, "deadline": date(2027, 3, 31),
            "period_start": date(2027, 6, 15), "period_end": date(2027, 8, 13),
            "extent_weeks": 8, "supervised_on_site": True, "paid": True,
            "tags": ["python", "havbruk"]})
        self.post(when, partner, "thesis_task", {"owner_org": org}, {
            "title": "Utkast: energioptimalisering på fôrflåter",
            "description": "Ikke publisert ennå.", "levels": ["master"]},
            publish_after=None)


def _leader(course: Course) -> User:
    return min(course.leaders, key=lambda row: row.user_id).user


def _semester(d: date) -> str:
    return f"{d.year}{'V' if d.month <= 7 else 'H'}"
