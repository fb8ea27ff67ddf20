"""The coordinator dashboard over the A2 indicator engine (``indicators``).

* **Who sees what**: coordinators and admins see the whole institution and any
  unit; a staff member sees the units they belong to and the units below them,
  and must choose one of those; anyone else (or staff without a unit) is refused.
* **One computation**: the dashboard's numbers are one ``compute_request``;
  its export links carry that result's ``last_event_id`` as ``as_of``, so a
  download holds the same numbers as the page.
* **Trend**: the headline measures over the three academic years ending with
  the one the period ends in, from one engine call broken down by
  ``academic_year``.
* **Drill-down**: the engine's pseudonymised ``detail_rows`` behind one number;
  a collaboration's title only where the viewer may see the collaboration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.i18n import _l
from portal.models import AcademicUnit, Collaboration, User
from portal.services import indicator_exports, policy
from portal.services import indicators as engine
from portal.services.errors import PermissionDenied, ValidationFailed

# (indicator, measure) shown as trends over the last three academic years
HEADLINES = (("A2-1", "theses"), ("A2-6", "active"), ("A2-7", "matches"))
TREND_YEARS = 3
# Measures whose number counts rows of the detailed export (so can be drilled into).
DRILLABLE = frozenset((ind.id, m.name) for ind in engine.INDICATORS for m in ind.measures
                      if m.detail and m.kind == "agg")


def academic_year_of(day: date) -> int:
    """The first calendar year of the academic year (1 Aug–31 Jul) holding ``day``."""
    return day.year if day.month >= 8 else day.year - 1


def current_academic_year(today: date) -> tuple[date, date]:
    y = academic_year_of(today)
    return date(y, 8, 1), date(y + 1, 7, 31)


def academic_year_label(first_year: int) -> str:
    return f"{first_year}/{(first_year + 1) % 100:02d}"


# ------------------------------------------------------------------ access
def sees_institution(user: User | None) -> bool:
    return policy.is_coordinator(user)


def visible_units(db: Session, user: User | None) -> list[AcademicUnit]:
    """The units whose indicators ``user`` may see, by code; refuses anyone with none."""
    units = list(db.execute(select(AcademicUnit).order_by(AcademicUnit.code)).scalars())
    if sees_institution(user):
        return units
    if not policy.has_role(user, "staff"):
        raise PermissionDenied(_l("Only coordinators, administrators and staff can see the "
                                  "indicators."))
    own = set(policy.unit_ids_for(db, user))
    mine = [u for u in units if any(a.id in own for a in (u, *u.ancestors()))]
    if not mine:
        raise PermissionDenied(_l("You are not a member of any academic unit, so there are "
                                  "no indicators for you to see."))
    return mine


def require_dashboard(db: Session, user: User | None) -> list[AcademicUnit]:
    return visible_units(db, user)


def resolve_unit(db: Session, user: User | None, code: str | None) -> str | None:
    """The unit filter the user may use: ``None`` (the whole institution) only for
    coordinators; a unit not theirs → PermissionDenied; an unknown code → ValidationFailed."""
    code = (code or "").strip() or None
    units = visible_units(db, user)
    if sees_institution(user):
        return code  # the engine rejects unknown codes
    codes = {u.code for u in units}
    if code is None:
        raise ValidationFailed({"unit": [_l("Choose one of your units.")]})
    if code in codes:
        return code
    known = db.execute(select(AcademicUnit.id).where(AcademicUnit.code == code)).first()
    if known:
        raise PermissionDenied(_l("You can only see the indicators of your own units."))
    raise ValidationFailed({"unit": [_l("There is no unit with that code.")]})


# --------------------------------------------------------------- dashboard
@dataclass
class Dashboard:
    request: engine.Request
    result: dict          # the engine's JSON shape (the export's content)
    trend_years: list[str]
    trend: list[dict]     # {"indicator", "measure", "values": [per year]}


def dashboard(db: Session, user: User | None, *, date_from, date_to, unit=None, by=None,
              now: datetime | None = None) -> Dashboard:
    code = resolve_unit(db, user, unit)
    req = engine.make_request(db, date_from=date_from, date_to=date_to, by=by or None,
                              unit=code, now=now)
    result = engine.compute_request(db, req)
    years, trend = _trend(db, req, now)
    return Dashboard(req, result, years, trend)


def _trend(db: Session, req: engine.Request, now) -> tuple[list[str], list[dict]]:
    last = academic_year_of(req.date_to)
    first = last - TREND_YEARS + 1
    treq = engine.make_request(db, date_from=date(first, 8, 1), date_to=date(last + 1, 7, 31),
                               by="academic_year", unit=req.unit, as_of=req.last_event_id,
                               now=now)
    result = engine.compute_request(db, treq, sorted({i for i, _ in HEADLINES}))
    years = [academic_year_label(y) for y in range(first, last + 1)]
    series = []
    for ind_id, measure in HEADLINES:
        ind = next(i for i in result["indicators"] if i["id"] == ind_id)
        got = {r["academic_year"]: r["value"] for r in ind["rows"] if r["measure"] == measure}
        series.append({"indicator": ind_id, "name": ind["name"], "measure": measure,
                       "values": [got.get(y, 0) or 0 for y in years]})
    return years, series


# ------------------------------------------------------------------ export
def export(db: Session, user: User | None, *, date_from, date_to, unit=None, by=None,
           as_of=None, fmt="csv", detailed=False, now=None) -> tuple[dict, bytes]:
    code = resolve_unit(db, user, unit)
    return indicator_exports.export(db, date_from=date_from, date_to=date_to, by=by or None,
                                    unit=code, as_of=as_of, fmt=fmt, detailed=detailed, now=now)


# -------------------------------------------------------------- drill-down
@dataclass
class DrillRow:
    collaboration_id: int | None
    opportunity_id: int | None
    organisation_id: int | None
    occurred_on: str
    form: str | None
    dims: dict
    title: str | None  # only when the viewer may see the collaboration


@dataclass
class Drilldown:
    request: engine.Request
    indicator: dict
    measure: str
    dims: dict
    rows: list[DrillRow]


def _time_value(key: str, occurred_on: str) -> str:
    day = date.fromisoformat(occurred_on)
    if key == "year":
        return str(day.year)
    if key == "academic_year":
        return academic_year_label(academic_year_of(day))
    return f"{day.year}{'H' if day.month >= 8 else 'V'}"


def _dim_of(row: dict, key: str):
    if key in engine.TIME_BREAKDOWNS:
        return _time_value(key, row["occurred_on"])
    return row.get(key)


def drilldown(db: Session, user: User | None, *, date_from, date_to, unit=None,
              indicator: str, measure: str, dims: dict[str, str | None] | None = None,
              as_of=None) -> Drilldown:
    """What one number counts: the rows of the detailed export behind it."""
    code = resolve_unit(db, user, unit)
    dims = dict(dims or {})
    req = engine.make_request(db, date_from=date_from, date_to=date_to, by=tuple(dims),
                              unit=code, as_of=as_of)
    if (indicator, measure) not in DRILLABLE:
        raise ValidationFailed({"measure": [_l("That number has no list behind it.")]})
    seen: set[tuple] = set()
    picked = []
    for r in engine.detail_rows(db, req, [indicator]):
        if r["measure"] != measure:
            continue
        if any((_dim_of(r, k) or None) != (v or None) for k, v in dims.items()):
            continue
        key = (r["collaboration_id"], r["opportunity_id"], r["organisation_id"])
        if key in seen:
            continue
        seen.add(key)
        picked.append(r)
    ids = {r["collaboration_id"] for r in picked if r["collaboration_id"] is not None}
    titles: dict[int, str] = {}
    if ids:
        for c in db.execute(select(Collaboration).where(Collaboration.id.in_(ids))).scalars():
            if policy.can_view_collaboration(db, user, c):
                titles[c.id] = c.title
    rows = [DrillRow(r["collaboration_id"], r["opportunity_id"], r["organisation_id"],
                     r["occurred_on"], r["form"],
                     {k: r.get(k) for k in engine.DETAIL_COLUMNS[9:]},
                     titles.get(r["collaboration_id"])) for r in picked]
    ind = engine.BY_ID[indicator]
    return Drilldown(req, {"id": ind.id, "name": ind.name, "unit": ind.unit}, measure, dims,
                     rows)
