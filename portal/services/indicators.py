"""The A2 "Samspill" indicator engine (INDICATORS.md): one computation for the
CLI exports, the JSON/CSV/XLSX files and the coordinator dashboard.

Everything is computed **only from ``collaboration_event``** and the dimension
snapshot each event carries, as SQL aggregation in the database (SQLite and
PostgreSQL alike): Python only merges the aggregated rows, derives shares and
takes the median from an aggregated histogram.

General rules
-------------

* **Period**: ``date_from``..``date_to`` inclusive, as calendar days in
  Norwegian time (Europe/Oslo); an event belongs to the period when its
  ``occurred_at`` falls inside.
* **Reproducibility**: a result reads only events with ``id <= last_event_id``.
  Without ``as_of`` that is the newest event; ``as_of=N`` recomputes exactly
  what an earlier run that saw event N computed, whatever was recorded since
  (snapshots are never updated, so a partner's later change of sector does not
  move old numbers). An ``as_of`` beyond the newest event is an error.
* **Breakdowns** (``by``): the dimension values are those of the *counted*
  event's snapshot (named per indicator below). Distinct counts are distinct
  per row, so a partner active for two faculties is counted in both rows and
  once in the total: rows of distinct counts need not add up.
  ``year`` is the calendar year, ``academic_year`` runs 1 Aug–31 Jul
  ("2024/25"), ``semester`` is V (1 Jan–31 Jul) or H (1 Aug–31 Dec),
  ("2026V", "2025H"), all of the counted event's ``occurred_at`` in Oslo time.
* **Unit filter**: a unit code keeps the events whose faculty, department or
  unit snapshot equals it. Relationship look-backs (a partner's first
  collaboration ever, recurrence, staff contacts) are institution-wide.
* **Forms** are the canonical collaboration forms (GLOSSARY.md): a local label
  is mapped to its canonical form when the collaboration is recorded, and the
  snapshot stores the canonical form.
* **Shape**: each indicator has several *measures*; every row carries the
  breakdown dimensions, ``"measure"`` and ``"value"``. With no breakdown, an
  indicator has one row per measure holding the total.

How it runs
-----------

One statement per indicator: its count and sum measures are aggregates over a
single pass over the period's events, each FILTERed by its measure's condition
(a median is one more query, a histogram). The look-backs about a partner (its
first start, recurring partners, partners with two staff contacts) are sets
aggregated once in the statement (CTEs) and looked up per event, not asked per
event by a correlated subquery, which would visit a busy partner's whole history
for each of its events; the look-backs about one collaboration (a result, an
impact story, an untagging) stay correlated, each answered by an index. Every
look-back reads only events with ``id <= last_event_id``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    distinct,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.functions import FunctionElement

from portal.i18n import _l
from portal.models import AcademicUnit, CollaborationEvent
from portal.models.vocab import OPPORTUNITY_KINDS
from portal.services.errors import ValidationFailed

OSLO = ZoneInfo("Europe/Oslo")
E = CollaborationEvent

BREAKDOWNS = ("partner_sector", "partner_size", "nace", "partner_country", "faculty",
              "department", "unit", "course", "programme", "level", "form", "year",
              "academic_year", "semester")
TIME_BREAKDOWNS = ("year", "academic_year", "semester")
_COLUMNS = {"partner_sector": "partner_sector", "partner_size": "partner_size",
            "nace": "partner_nace", "partner_country": "partner_country",
            "faculty": "faculty", "department": "department", "unit": "unit",
            "course": "course", "programme": "programme", "level": "study_level",
            "form": "form"}

ACTIVITY_FORMS = ("guest_lecture", "company_visit", "workshop", "career_event", "mentoring",
                  "advisory_role")
MOBILITY_FORMS = ("shared_position", "staff_mobility")
OUTCOME_RESULTS = ("student_recruited", "follow_up_project", "publication", "tto_disclosure")
# Events by which a collaboration (or a partner's part in one) comes into being.
START_TYPES = ("collaboration_agreed", "collaboration_recorded", "partner_added",
               "partner_joined_village")
# Of those, the ones that follow an application to a portal posting.
PORTAL_START_TYPES = ("collaboration_agreed", "partner_added", "partner_joined_village")
COLLABORATION_TYPES = ("collaboration_agreed", "collaboration_recorded",
                       "collaboration_started", "participant_added", "participant_removed",
                       "partner_added", "partner_joined_village", "course_tagged",
                       "course_untagged", "result_recorded", "impact_story_recorded",
                       "collaboration_completed", "collaboration_cancelled")
STAFF_ROLES = ("supervisor", "course_leader", "staff")
MAX_KEYS_PER_ROLE = 6  # participant_keys entries read per staff role
RELATIONSHIP_YEARS = 3

DETAIL_COLUMNS = ("indicator", "measure", "event_id", "event_type", "occurred_on",
                  "collaboration_id", "opportunity_id", "organisation_id", "form",
                  "partner_sector", "partner_size", "nace", "partner_country", "faculty",
                  "department", "unit", "course", "programme", "level")


# ------------------------------------------------------------------ the request
@dataclass
class Request:
    date_from: date
    date_to: date
    by: tuple[str, ...]
    unit: str | None
    last_event_id: int
    start: datetime  # UTC, inclusive
    end: datetime    # UTC, exclusive
    generated_at: datetime
    dialect: str = "sqlite"  # the database's, for the few look-backs written per dialect
    window_start: datetime = field(init=False)  # rolling three years ending at ``end``
    # Look-back sets (CTEs) built once per request, so that one statement that needs a
    # set twice refers to one CTE rather than carrying two copies of it.
    ctes: dict[str, Any] = field(init=False, default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        to = self.date_to
        try:
            back = to.replace(year=to.year - RELATIONSHIP_YEARS)
        except ValueError:  # 29 February
            back = to.replace(year=to.year - RELATIONSHIP_YEARS, day=28)
        self.window_start = _oslo_midnight(back + timedelta(days=1))


def _oslo_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=OSLO).astimezone(UTC)


def _parse_date(value, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed({name: [f"not a date (use YYYY-MM-DD): {value!r}"]}) from None


def parse_by(by: str | Sequence[str] | None) -> tuple[str, ...]:
    if by is None:
        return ()
    items = [b.strip() for b in (by.split(",") if isinstance(by, str) else by)]
    items = [b for b in items if b]
    for b in items:
        if b not in BREAKDOWNS:
            raise ValidationFailed({"by": [f"unknown breakdown {b!r} (one of: "
                                           f"{', '.join(BREAKDOWNS)})"]})
    if len(set(items)) != len(items):
        raise ValidationFailed({"by": ["a breakdown is given twice"]})
    return tuple(items)


def last_event_id(db: Session) -> int:
    return db.execute(select(func.max(E.id))).scalar_one() or 0


def make_request(db: Session, *, date_from, date_to, by=None, unit: str | None = None,
                 as_of: int | None = None, now: datetime | None = None) -> Request:
    """Validate the input; every problem is one clear ValidationFailed line."""
    start_day = _parse_date(date_from, "from")
    end_day = _parse_date(date_to, "to")
    if end_day < start_day:
        raise ValidationFailed({"to": [f"the period ends ({end_day}) before it starts "
                                       f"({start_day})"]})
    if start_day.year < 1900 or end_day.year > 9000:
        raise ValidationFailed({"from": ["the period is out of range"]})
    keys = parse_by(by)
    code = (unit or "").strip() or None
    if code is not None and not _unit_known(db, code):
        raise ValidationFailed({"unit": [_l("Unknown unit code: %(code)s", code=code)]})
    newest = last_event_id(db)
    if as_of is not None:
        try:
            as_of = int(as_of)
        except (TypeError, ValueError):
            raise ValidationFailed({"as_of": [f"not an event id: {as_of!r}"]}) from None
        if as_of < 0:
            raise ValidationFailed({"as_of": ["an event id is not negative"]})
        if as_of > newest:
            raise ValidationFailed({"as_of": [f"event {as_of} is beyond the last event "
                                              f"({newest})"]})
        seen = as_of
    else:
        seen = newest
    return Request(start_day, end_day, keys, code, seen, _oslo_midnight(start_day),
                   _oslo_midnight(end_day + timedelta(days=1)),
                   (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0),
                   db.get_bind().dialect.name)


def _unit_known(db: Session, code: str) -> bool:
    if db.execute(select(AcademicUnit.id).where(AcademicUnit.code == code)).first():
        return True
    return db.execute(select(E.id).where(or_(E.faculty == code, E.department == code,
                                             E.unit == code)).limit(1)).first() is not None


# ------------------------------------------------------------ SQL building blocks
def _time_case(ev, req: Request, key: str):
    """A CASE on ``occurred_at`` naming the year / academic year / semester (Oslo time)."""
    bounds: list[tuple[datetime, str]] = []  # (exclusive upper bound, label)
    for y in range(req.date_from.year - 1, req.date_to.year + 2):
        if key == "year":
            bounds.append((_oslo_midnight(date(y + 1, 1, 1)), str(y)))
        elif key == "academic_year":
            bounds.append((_oslo_midnight(date(y + 1, 8, 1)), f"{y}/{(y + 1) % 100:02d}"))
        else:
            bounds.append((_oslo_midnight(date(y, 8, 1)), f"{y}V"))
            bounds.append((_oslo_midnight(date(y + 1, 1, 1)), f"{y}H"))
    return case(*[(ev.occurred_at < upper, literal(label)) for upper, label in bounds],
                else_=literal(None))


def _dims(ev, req: Request) -> list:
    out = []
    for key in req.by:
        expr = _time_case(ev, req, key) if key in TIME_BREAKDOWNS else getattr(ev, _COLUMNS[key])
        out.append(expr.label(f"d_{key}"))
    return out


def _in_scope(ev, req: Request):
    """Seen (id ≤ last) and inside the period, and in the unit if one is given."""
    cond = [ev.id <= req.last_event_id, ev.occurred_at >= req.start, ev.occurred_at < req.end]
    if req.unit is not None:
        cond.append(or_(ev.faculty == req.unit, ev.department == req.unit, ev.unit == req.unit))
    return and_(*cond)


def _seen(ev, req: Request):
    return ev.id <= req.last_event_id


def _s(ev, key):
    return ev.data[key].as_string()


def _i(ev, key):
    return ev.data[key].as_integer()


def _f(ev, key):
    return ev.data[key].as_float()


# --------------------------------------------------------------------- measures
@dataclass(frozen=True)
class Measure:
    name: str
    where: Callable[[Any, Request], Any]          # (event alias, request) → condition
    # The aggregate over the matching events (count or sum, left NULL-able: the engine
    # adds the measure's condition as a FILTER and turns an empty sum into 0), or for a
    # median the per-event value.
    value: Callable[[Any, Request], Any]
    kind: str = "agg"                             # agg | median
    detail: bool = True


@dataclass(frozen=True)
class Share:
    name: str
    numerator: str
    denominator: str


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    unit: str
    definition: str
    measures: tuple[Measure, ...]
    shares: tuple[Share, ...] = ()
    # A plain condition that every measure's condition implies: the events the one
    # pass reads (each measure still filters its own). Without it the pass reads the
    # events meeting any measure's condition, look-ups and all.
    scope: Callable[[Any, Request], Any] | None = None


def _count_collabs(ev, req):
    return func.count(distinct(ev.collaboration_id))


def _count_orgs(ev, req):
    return func.count(distinct(ev.organisation_id))


def _count_opps(ev, req):
    return func.count(distinct(ev.opportunity_id))


def _count_events(ev, req):
    return func.count(ev.id)


def _sum(expr_fn):
    return lambda ev, req: func.sum(expr_fn(ev))


class _unindexed(FunctionElement):
    """The column as it is, but on SQLite written ``+col`` so that the planner does not
    drive a query from an index on it. ``organisation_id IN (<set of partners>)`` is
    otherwise read through the organisation index: every event of those partners ever,
    instead of the period's events."""

    inherit_cache = True

    def __init__(self, col):
        super().__init__(col)
        self.type = col.type


@compiles(_unindexed)
def _compile_unindexed(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(_unindexed, "sqlite")
def _compile_unindexed_sqlite(element, compiler, **kw):
    return "+" + compiler.process(element.clauses, **kw)


def _cte(req: Request, name: str, build: Callable[[], Any]):
    if name not in req.ctes:
        req.ctes[name] = build().cte(name)
    return req.ctes[name]


# A2-1 ------------------------------------------------------------------------
def _thesis(ev, req):
    return and_(ev.type == "result_recorded", _s(ev, "result_type") == "thesis_delivered",
                ev.form == "thesis_task", ev.organisation_id.is_not(None))


# A2-2 ------------------------------------------------------------------------
def _placement_started(ev, req):
    return and_(ev.type == "collaboration_started", ev.form == "placement")


def _placement_credit(ev, req):
    return and_(_placement_started(ev, req), _f(ev, "ects") > 0)


# A2-3 ------------------------------------------------------------------------
def _case_tagged(ev, req):
    """An industry case tagged to a course (instance), with a partner, not untagged since."""
    def untagged(same_target):
        later = aliased(E)
        return exists().where(later.type == "course_untagged", later.id > ev.id,
                              _seen(later, req), later.course_id == ev.course_id,
                              func.coalesce(_s(later, "semester"), "")
                              == func.coalesce(_s(ev, "semester"), ""),
                              *same_target(later))

    # The target is the collaboration, or the opportunity when the tag has none. One
    # look-up per kind of target, each an equality an index answers, rather than one
    # look-up whose OR of both matches no index.
    by_collab = untagged(lambda later: (later.collaboration_id == ev.collaboration_id,))
    by_opp = untagged(lambda later: (later.collaboration_id.is_(None),
                                     later.opportunity_id == ev.opportunity_id))
    untagged_since = or_(and_(ev.collaboration_id.is_not(None), by_collab),
                         and_(ev.collaboration_id.is_(None), by_opp))
    return and_(ev.type == "course_tagged", ev.form == "industry_case",
                ev.organisation_id.is_not(None), ~untagged_since)


def _course_instance(ev, req):
    key = func.coalesce(cast(ev.course_id, String(40)), "").concat("|").concat(
        func.coalesce(_s(ev, "semester"), ""))
    return func.count(distinct(key))


def _village(ev, req):
    return ev.type == "partner_joined_village"


# A2-4, A2-5 -------------------------------------------------------------------
def _activity(ev, req):
    return and_(ev.type == "collaboration_recorded", ev.form.in_(ACTIVITY_FORMS))


def _mobility(ev, req):
    return and_(ev.type == "collaboration_recorded", ev.form.in_(MOBILITY_FORMS))


# A2-6 -------------------------------------------------------------------------
def _partner_active(ev, req):
    return and_(ev.type.in_(COLLABORATION_TYPES), ev.organisation_id.is_not(None))


def _first_starts(req):
    """Per partner, the id of its first start event ever (seen): the earliest
    ``occurred_at``, the lowest id among events at that moment.

    Aggregated once per request (a GROUP BY over the start events, then the events at
    each partner's first moment) instead of asking, for every start event in the
    period, whether the partner had an earlier one: that look-back visits all of a
    busy partner's earlier events for each of its events."""
    def build():
        s = aliased(E)
        first_at = (select(s.organisation_id.label("org"), func.min(s.occurred_at).label("at"))
                    .where(s.type.in_(START_TYPES), _seen(s, req), s.organisation_id.is_not(None))
                    .group_by(s.organisation_id).subquery("first_at"))
        t = aliased(E)
        return (select(func.min(t.id).label("id"))
                .join_from(t, first_at, and_(t.organisation_id == first_at.c.org,
                                             t.occurred_at == first_at.c.at))
                .where(t.type.in_(START_TYPES), _seen(t, req))
                .group_by(t.organisation_id))
    return _cte(req, "first_start", build)


def _first_start(ev, req):
    """A start event that is the partner's first collaboration ever (seen events)."""
    first = _first_starts(req)
    return and_(ev.type.in_(START_TYPES), ev.organisation_id.is_not(None),
                ev.id.in_(select(first.c.id)))


def _door_opened(ev, req):
    return and_(_first_start(ev, req), ev.type.in_(PORTAL_START_TYPES))


def _recurring_orgs(req):
    def build():
        r = aliased(E)
        return (select(r.organisation_id.label("org"))
                .where(r.type.in_(START_TYPES), _seen(r, req), r.organisation_id.is_not(None),
                       r.occurred_at >= req.window_start, r.occurred_at < req.end)
                .group_by(r.organisation_id)
                .having(func.count(distinct(r.collaboration_id)) >= 2))
    return _cte(req, "recurring_org", build)


def _recurring(ev, req):
    return and_(_partner_active(ev, req),
                _unindexed(ev.organisation_id).in_(select(_recurring_orgs(req).c.org)))


# A2-7 -------------------------------------------------------------------------
def _has_result(ev, req):
    res = aliased(E)
    return exists().where(res.type == "result_recorded", _seen(res, req),
                          res.collaboration_id == ev.collaboration_id)


def _has_story(ev, req):
    st = aliased(E)
    return exists().where(st.type == "impact_story_recorded", _seen(st, req),
                          st.collaboration_id == ev.collaboration_id)


def _portal_completed_with_result(ev, req):
    return and_(ev.type == "collaboration_completed", ev.form.in_(OPPORTUNITY_KINDS),
                _has_result(ev, req))


def _consumes_place(ev, req):
    return and_(ev.type == "application_accepted",
                ev.data["consumes_place"].as_boolean() == true())


# A2-8 -------------------------------------------------------------------------
def _completed(ev, req):
    return or_(ev.type == "collaboration_completed",
               and_(ev.type == "collaboration_recorded", _s(ev, "status") == "completed"))


# A2-9 -------------------------------------------------------------------------
def _participant_keys(req):
    """(organisation_id, person key) from the first MAX_KEYS_PER_ROLE entries of each
    staff role's list in ``participant_keys``, in one pass over the events.

    The same pairs as reading ``participant_keys.<role>[i]`` for every role and i (a
    list that is not a list, or not under an object, gives none), but each event's JSON
    is read once instead of once per (role, i); the JSON functions that list an
    array's entries differ per database."""
    c = aliased(E)
    where = (c.type.in_(("collaboration_agreed", "collaboration_recorded")), _seen(c, req),
             c.organisation_id.is_not(None), c.occurred_at >= req.window_start,
             c.occurred_at < req.end)
    if req.dialect == "postgresql":
        keys = c.data["participant_keys"]
        roles = (func.json_each(case((func.json_typeof(keys) == "object", keys)))
                 .table_valued("key", "value").lateral("role"))
        items = (func.json_array_elements_text(
                    case((func.json_typeof(roles.c.value) == "array", roles.c.value)))
                 .table_valued("value", with_ordinality="n").render_derived().lateral("item"))
        return (select(c.organisation_id.label("org"), items.c.value.label("k"))
                .select_from(c).join(roles, true()).join(items, true())
                .where(*where, roles.c.key.in_(STAFF_ROLES), items.c.n <= MAX_KEYS_PER_ROLE,
                       items.c.value.is_not(None)))
    # SQLite: json_each in FROM sees the tables before it.
    roles = func.json_each(c.data, "$.participant_keys").table_valued(
        "key", "value", "type").alias("role")
    items = func.json_each(roles.c.value).table_valued("key", "value").alias("item")
    return (select(c.organisation_id.label("org"), cast(items.c.value, String).label("k"))
            .select_from(c).join(roles, true()).join(items, true())
            .where(*where, roles.c.key.in_(STAFF_ROLES), roles.c.type == "array",
                   items.c.key < MAX_KEYS_PER_ROLE, items.c.value.is_not(None)))


def _staff_contacts(req):
    """Partners with ≥2 distinct staff contacts (person keys) in their collaborations
    in the rolling three years."""
    def build():
        p = aliased(E)
        added = select(p.organisation_id.label("org"), p.subject_key.label("k")).where(
            p.type == "participant_added", _s(p, "role").in_(STAFF_ROLES), _seen(p, req),
            p.organisation_id.is_not(None), p.subject_key.is_not(None),
            p.occurred_at >= req.window_start, p.occurred_at < req.end)
        # Distinct pairs first: a hashed DISTINCT and a plain count, where
        # count(DISTINCT k) per partner would sort all the pairs.
        contacts = union_all(_participant_keys(req), added).subquery("contact")
        pairs = select(contacts.c.org, contacts.c.k).distinct().subquery("pair")
        return select(pairs.c.org).group_by(pairs.c.org).having(func.count() >= 2)
    return _cte(req, "broad_org", build)


def _broad(ev, req):
    return and_(_partner_active(ev, req),
                _unindexed(ev.organisation_id).in_(select(_staff_contacts(req).c.org)))


# A2-10 ------------------------------------------------------------------------
def _outcome(ev, req):
    return and_(ev.type == "result_recorded", _s(ev, "result_type").in_(OUTCOME_RESULTS))


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "A2-1", "Theses with an external partner", "count",
        "Distinct thesis collaborations (form thesis_task) with a partner organisation whose "
        "'thesis_delivered' result is dated in the period (result_recorded.occurred_at = the day "
        "it was delivered). Dimensions from the result event (level = the thesis's study "
        "level). With loaded denominators: theses_per_100_students and "
        "share_of_unit_theses (portal.services.denominators).",
        (Measure("theses", _thesis, _count_collabs),)),
    Indicator(
        "A2-2", "Students in practice placements", "headcount; ECTS",
        "Placement collaborations started in the period (collaboration_started of form "
        "placement: the student started). placements = distinct collaborations; students = "
        "sum of students at start; credit_bearing_students = students in placements with ECTS; "
        "ects = sum of students × ECTS of credit-bearing placements.",
        (Measure("placements", _placement_started, _count_collabs),
         Measure("students", _placement_started, _sum(lambda ev: _i(ev, "students")),
                 detail=False),
         Measure("credit_bearing_students", _placement_credit,
                 _sum(lambda ev: _i(ev, "students")), detail=False),
         Measure("ects", _placement_credit,
                 _sum(lambda ev: _i(ev, "students") * _f(ev, "ects")), detail=False)),
        scope=_placement_started),
    Indicator(
        "A2-3", "Course-integrated partner projects", "course instances, teams, students",
        "Industry cases with a partner tagged to a course in the period (course_tagged of form "
        "industry_case, not untagged by a later event): course_instances = distinct "
        "(course, semester); teams and students_reached = sums of the figures given when "
        "tagging. eit_villages = distinct EiT villages an external partner joined in the "
        "period (partner_joined_village).",
        (Measure("course_instances", _case_tagged, _course_instance),
         Measure("teams", _case_tagged, _sum(lambda ev: _i(ev, "teams_count")), detail=False),
         Measure("students_reached", _case_tagged,
                 _sum(lambda ev: _i(ev, "students_reached")), detail=False),
         Measure("eit_villages", _village, _count_collabs)),
        scope=lambda ev, req: ev.type.in_(("course_tagged", "partner_joined_village"))),
    Indicator(
        "A2-4", "Recorded activities by form", "count; participants",
        "Directly recorded activities documented in the period (collaboration_recorded of "
        "form guest_lecture, company_visit, workshop, career_event, mentoring or "
        "advisory_role; local labels count under their canonical form): activities = "
        "distinct collaborations, participants = sum of participants_count.",
        (Measure("activities", _activity, _count_collabs),
         Measure("participants", _activity, _sum(lambda ev: _i(ev, "participants_count")),
                 detail=False))),
    Indicator(
        "A2-5", "Mobility and shared positions", "headcount, FTE, person-months",
        "Shared (II/adjunct) positions and staff secondments recorded in the period "
        "(collaboration_recorded of form shared_position or staff_mobility): headcount = "
        "distinct collaborations (one person each), fte and person_months = sums.",
        (Measure("headcount", _mobility, _count_collabs),
         Measure("fte", _mobility, _sum(lambda ev: _f(ev, "fte")), detail=False),
         Measure("person_months", _mobility, _sum(lambda ev: _f(ev, "person_months")),
                 detail=False))),
    Indicator(
        "A2-6", "Partners: active, new, recurring", "count; shares",
        "active = distinct partner organisations (organisation_id of the snapshot) with a "
        "collaboration event in the period. new = partners whose first collaboration ever "
        "(earliest seen collaboration_agreed/collaboration_recorded/partner_added/"
        "partner_joined_village for the organisation) falls in the period; door_opened = new "
        "partners whose first collaboration came from an application to a portal posting "
        "(agreed, partner_added or partner_joined_village); recurring = active partners with "
        "≥2 distinct collaborations started in the rolling three years ending at the period's "
        "end. Shares are of active. Only the snapshot's (first) partner of a collaboration is "
        "counted, and partners joining later through their own events.",
        (Measure("active", _partner_active, _count_orgs),
         Measure("new", _first_start, _count_orgs),
         Measure("door_opened", _door_opened, _count_orgs),
         Measure("recurring", _recurring, _count_orgs)),
        (Share("share_new", "new", "active"), Share("share_recurring", "recurring", "active")),
        scope=_partner_active),
    Indicator(
        "A2-7", "Matching funnel", "counts, rates, days",
        "published = distinct opportunities published in the period; applications = "
        "applications submitted; matches = applications accepted; completed_with_result = "
        "collaborations of an opportunity form completed in the period with at least one "
        "recorded result (seen events); places_offered = sum of places at publication; "
        "places_filled = accepted applications that took a place; median_days_to_match = "
        "median of days from publication to acceptance over the matches (computed from a "
        "per-day histogram aggregated in SQL). Rates: match_rate = matches/applications, "
        "fill_rate = places_filled/places_offered.",
        (Measure("published", lambda ev, req: ev.type == "opportunity_published", _count_opps),
         Measure("applications", lambda ev, req: ev.type == "application_submitted",
                 _count_events),
         Measure("matches", lambda ev, req: ev.type == "application_accepted", _count_events),
         Measure("completed_with_result", _portal_completed_with_result, _count_collabs),
         Measure("places_offered", lambda ev, req: ev.type == "opportunity_published",
                 _sum(lambda ev: _i(ev, "places")), detail=False),
         Measure("places_filled", _consumes_place, _count_events),
         Measure("median_days_to_match", lambda ev, req: ev.type == "application_accepted",
                 lambda ev, req: _i(ev, "days_to_match"), kind="median", detail=False)),
        (Share("match_rate", "matches", "applications"),
         Share("fill_rate", "places_filled", "places_offered")),
        scope=lambda ev, req: ev.type.in_(("opportunity_published", "application_submitted",
                                           "application_accepted", "collaboration_completed"))),
    Indicator(
        "A2-8", "Documentation rate", "share",
        "Collaborations completed in the period (collaboration_completed, or a recorded "
        "activity with status completed): completed; with_result = of those, with at least one "
        "result_recorded; with_impact_story = with an impact story (any seen event, also "
        "after the period). Shares of completed.",
        (Measure("completed", _completed, _count_collabs),
         Measure("with_result", lambda ev, req: and_(_completed(ev, req), _has_result(ev, req)),
                 _count_collabs),
         Measure("with_impact_story",
                 lambda ev, req: and_(_completed(ev, req), _has_story(ev, req)),
                 _count_collabs)),
        (Share("share_with_result", "with_result", "completed"),
         Share("share_with_impact_story", "with_impact_story", "completed")),
        scope=_completed),
    Indicator(
        "A2-9", "Relationship breadth", "share",
        "Of the partners active in the period (A2-6), those with ≥2 distinct staff contacts "
        "in the rolling three years ending at the period's end. Staff contacts are "
        "pseudonymous person keys: supervisor, course_leader and staff keys in "
        "participant_keys of collaboration_agreed/collaboration_recorded, and subject_key of "
        "participant_added in one of those roles.",
        (Measure("partners", _partner_active, _count_orgs),
         Measure("with_two_staff_contacts", _broad, _count_orgs)),
        (Share("share_with_two_staff_contacts", "with_two_staff_contacts", "partners"),),
        scope=_partner_active),
    Indicator(
        "A2-10", "Outcomes", "count",
        "Distinct collaborations with an outcome dated in the period (result_recorded of type "
        "student_recruited, follow_up_project, publication or tto_disclosure), one measure per "
        "result type.",
        tuple(Measure(t, lambda ev, req, t=t: and_(_outcome(ev, req),
                                                   _s(ev, "result_type") == t),
                      _count_collabs) for t in OUTCOME_RESULTS),
        scope=_outcome),
)
BY_ID = {i.id: i for i in INDICATORS}


# ------------------------------------------------------------------ computing
def _number(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    f = float(v)
    return int(f) if f.is_integer() else round(f, 4)


def _median(hist: list[tuple[int, int]]) -> float | int | None:
    hist = sorted((v, n) for v, n in hist if v is not None)
    total = sum(n for _, n in hist)
    if not total:
        return None
    want = [(total - 1) // 2, total // 2]
    out, seen = [], 0
    for v, n in hist:
        while want and want[0] < seen + n:
            out.append(v)
            want.pop(0)
        seen += n
    return _number(sum(out) / 2)


def _median_rows(db: Session, m: Measure, req: Request) -> dict[tuple, Any]:
    dims = _dims(E, req)
    val = m.value(E, req).label("v")
    stmt = (select(*dims, val, func.count().label("n"))
            .where(_in_scope(E, req), m.where(E, req))
            .group_by(*dims, val))
    hist: dict[tuple, list] = defaultdict(list)
    for row in db.execute(stmt):
        hist[tuple(row[:len(dims)])].append((row.v, row.n))
    return {k: _median(h) for k, h in hist.items()}


def _agg_rows(db: Session, ind: Indicator, req: Request) -> dict[str, dict[tuple, Any]]:
    """All of an indicator's count and sum measures from one pass over the period's events,
    each measure's aggregate filtered by its own condition, instead of one query (and one
    pass) per measure. A group that no event of a measure falls in gets 0 for it, as it
    did when the measure's own query had no row for the group; a group that no event of
    any measure falls in is left out, as it was then."""
    measures = [m for m in ind.measures if m.kind == "agg"]
    if not measures:
        return {}
    dims = _dims(E, req)
    conds: dict[Callable, Any] = {}
    for m in measures:
        if m.where not in conds:
            conds[m.where] = m.where(E, req)
    shared = len(conds) == 1  # one condition: a plain WHERE, no FILTER
    cols = []
    for i, m in enumerate(measures):
        agg = m.value(E, req)
        if not shared:
            agg = agg.filter(conds[m.where])
        cols.append(func.coalesce(agg, 0).label(f"v{i}"))
    any_measure = or_(*conds.values())
    if shared or ind.scope is None:
        scope = any_measure
    elif ind.scope in conds:  # a measure's own condition: the groups are the same
        scope = any_measure = conds[ind.scope]
    else:
        scope = ind.scope(E, req)
    stmt = select(*dims, *cols).where(_in_scope(E, req), scope)
    if dims:
        stmt = stmt.group_by(*dims)
        if scope is not any_measure:
            stmt = stmt.having(func.count().filter(any_measure) > 0)
    out: dict[str, dict[tuple, Any]] = {m.name: {} for m in measures}
    n = len(dims)
    for row in db.execute(stmt):
        key = tuple(row[:n])
        for m, v in zip(measures, row[n:], strict=True):
            out[m.name][key] = _number(v)
    return out


def _sort_key(key: tuple) -> tuple:
    return tuple((v is None, str(v) if v is not None else "") for v in key)


@contextmanager
def _without_jit(db: Session, req: Request):
    """PostgreSQL compiles a statement to machine code (JIT) when its estimated cost is
    high, and the estimates of these statements are high (A2-9's JSON set-returning
    functions alone are guessed at thousands of rows per event): the compiling then takes
    longer than the aggregation (up to ~1 s a statement on a million events). Turned off
    for the engine's statements only, in this transaction, and put back after; after an
    error the rollback puts it back."""
    if req.dialect != "postgresql":
        yield
        return
    before = db.execute(select(func.current_setting("jit"),
                               func.set_config("jit", "off", true()))).first()[0]
    yield
    db.execute(select(func.set_config("jit", before, true())))


def compute_indicator(db: Session, ind: Indicator, req: Request) -> list[dict]:
    with _without_jit(db, req):
        values = _agg_rows(db, ind, req)
        for m in ind.measures:
            if m.kind == "median":
                values[m.name] = _median_rows(db, m, req)
    keys = set().union(*[v.keys() for v in values.values()]) if values else set()
    if not req.by:
        keys = {()}
    rows = []
    for key in sorted(keys, key=_sort_key):
        got = {}
        for m in ind.measures:
            default = None if m.kind == "median" else 0
            got[m.name] = values[m.name].get(key, default)
        for s in ind.shares:
            d = got.get(s.denominator) or 0
            got[s.name] = round(got[s.numerator] / d, 4) if d else None
        dims = dict(zip(req.by, key, strict=True))
        for name, value in got.items():
            rows.append({**dims, "measure": name, "value": value})
    return rows


def compute(db: Session, *, date_from, date_to, by=None, unit: str | None = None,
            as_of: int | None = None, now: datetime | None = None,
            indicators: Sequence[str] | None = None) -> dict:
    """The A2 set for a period, in INDICATORS.md's JSON shape."""
    req = make_request(db, date_from=date_from, date_to=date_to, by=by, unit=unit,
                       as_of=as_of, now=now)
    return compute_request(db, req, indicators)


def compute_request(db: Session, req: Request, indicators: Sequence[str] | None = None) -> dict:
    from portal.services.denominators import add_normalised

    chosen = [BY_ID[i] for i in indicators] if indicators else list(INDICATORS)
    result = {"meta": meta(req),
              "indicators": [{"id": ind.id, "name": ind.name, "unit": ind.unit,
                              "rows": compute_indicator(db, ind, req)} for ind in chosen]}
    # Normalised rows (per 100 students, per academic FTE) only where denominators
    # are loaded for the period's academic year (portal.services.denominators).
    return add_normalised(db, req, result)


def meta(req: Request) -> dict:
    return {"last_event_id": req.last_event_id,
            "generated_at": req.generated_at.isoformat().replace("+00:00", "Z"),
            "period": {"from": req.date_from.isoformat(), "to": req.date_to.isoformat()},
            "by": list(req.by),
            "filters": {"unit": req.unit} if req.unit else {}}


def detail_rows(db: Session, req: Request, indicators: Sequence[str] | None = None) -> list[dict]:
    """One row per counted event (a collaboration, opportunity or partner), pseudonymised:
    ids and snapshot dimensions only, never a name or a person key. ``indicators``
    limits the rows to those ids (the dashboard's drill-down)."""
    out = []
    with _without_jit(db, req):
        for ind in ([BY_ID[i] for i in indicators] if indicators else INDICATORS):
            for m in ind.measures:
                if not m.detail:
                    continue
                stmt = (select(E.id, E.type, E.occurred_at, E.collaboration_id, E.opportunity_id,
                               E.organisation_id, E.form, E.partner_sector, E.partner_size,
                               E.partner_nace, E.partner_country, E.faculty, E.department,
                               E.unit, E.course, E.programme, E.study_level)
                        .where(_in_scope(E, req), m.where(E, req)).order_by(E.id))
                for r in db.execute(stmt):
                    out.append(dict(zip(DETAIL_COLUMNS, (
                        ind.id, m.name, r.id, r.type,
                        r.occurred_at.astimezone(OSLO).date().isoformat(),
                        r.collaboration_id, r.opportunity_id, r.organisation_id, r.form,
                        r.partner_sector, r.partner_size, r.partner_nace, r.partner_country,
                        r.faculty, r.department, r.unit, r.course, r.programme,
                        r.study_level), strict=True)))
    return out


def definitions() -> list[dict]:
    return [{"id": i.id, "name": i.name, "unit": i.unit, "definition": i.definition,
             "measures": [m.name for m in i.measures] + [s.name for s in i.shares]}
            for i in INDICATORS]
