"""Denominators (students, theses, academic FTE per unit and academic year) and
the normalised A2 measures built on them (INDICATORS.md, Normalisation).

Rules
-----

* **Year** is the academic year's starting calendar year: ``2024`` = 2024/25
  (1 Aug 2024 – 31 Jul 2025).
* **CSV** (``load_csv``): header ``unit,year,students,theses,academic_fte``;
  ``unit`` a code of ``academic_unit``, ``year`` 2000–2100, ``students`` and
  ``theses`` non-negative whole numbers, ``academic_fte`` a non-negative
  decimal. Every line is checked first; any error raises ``ValidationFailed``
  naming the line (``line 3: students: not a whole number``) and nothing is
  written. Re-loading a (unit, year) replaces its figures.
* **When normalised rows appear**: only when the period lies inside one
  academic year *and* a denominator exists for the rows' unit and that year.
  The unit is the unit filter, or, without one, the whole institution: the sum
  over *all* faculties (only if every faculty has a row for the year; a partial
  sum would understate the base). With a breakdown ``by=faculty`` or
  ``by=department`` alone, each row is normalised by its own unit's row.
  Other breakdowns get no normalised rows. Without denominators the engine's
  output is unchanged.
* **Measures** (``NORMALISED``): ``<count>_per_100_students`` = count × 100 /
  students, ``<count>_per_academic_fte`` = count / academic FTE,
  ``share_of_unit_theses`` = theses / the unit's theses; rounded to 4
  decimals; ``None`` when the denominator is 0.
* **Comparison** (``compare_departments``): per department, the measure for
  the academic year; its faculty's average = the unweighted mean of that
  measure over the faculty's departments that have a value; quintile across
  all departments with a value: ``1 + floor(5 × r / n)`` where ``r`` is the
  number of departments with a strictly lower value and ``n`` the number with
  a value (5 = top fifth, 1 = bottom; ties share a quintile), as KEF does.
* Denominators are not event-sourced: ``--as-of`` reproduces the counts; the
  result's ``meta.denominators`` records the academic year and when the
  figures used were last loaded.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import AcademicUnit, Denominator
from portal.models.base import utcnow
from portal.services.errors import ValidationFailed

HEADER = ("unit", "year", "students", "theses", "academic_fte")
MAX_ERRORS = 10


@dataclass(frozen=True)
class Normalised:
    name: str
    source: str      # the indicator's count measure
    base: str        # students | theses | academic_fte
    factor: int = 1  # 100 for "per 100 students"


NORMALISED: dict[str, tuple[Normalised, ...]] = {
    "A2-1": (Normalised("theses_per_100_students", "theses", "students", 100),
             Normalised("share_of_unit_theses", "theses", "theses")),
    "A2-2": (Normalised("placements_per_100_students", "placements", "students", 100),
             Normalised("students_per_100_students", "students", "students", 100)),
    "A2-3": (Normalised("students_reached_per_100_students", "students_reached", "students",
                        100),),
    "A2-4": (Normalised("activities_per_academic_fte", "activities", "academic_fte"),),
    "A2-5": (Normalised("headcount_per_academic_fte", "headcount", "academic_fte"),),
    "A2-6": (Normalised("active_per_academic_fte", "active", "academic_fte"),),
}
MEASURES = {n.name: (ind_id, n) for ind_id, ns in NORMALISED.items() for n in ns}


# ------------------------------------------------------------------- loading
def _whole(value: str) -> int:
    if not value.isdigit():
        raise ValueError("not a whole number")
    return int(value)


def _decimal(value: str) -> Decimal:
    try:
        d = Decimal(value)
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not d.is_finite():
        raise ValueError("not a number")
    if d < 0:
        raise ValueError("must not be negative")
    if d >= Decimal("100000000") or d != d.quantize(Decimal("0.01")):
        raise ValueError("at most 8 digits and 2 decimals")
    return d


def parse_csv(db: Session, text: str) -> list[dict]:
    """Validate the whole file; a ValidationFailed lists the bad lines."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != HEADER:
        raise ValidationFailed({"": [f"line 1: the header must be {','.join(HEADER)}"]})
    known = set(db.execute(select(AcademicUnit.code)).scalars())
    errors: list[str] = []
    rows: dict[tuple[str, int], tuple[int, dict]] = {}
    for fields in reader:
        line = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue
        if len(fields) != len(HEADER):
            errors.append(f"line {line}: expected {len(HEADER)} fields, got {len(fields)}")
            continue
        unit, year, students, theses, fte = (f.strip() for f in fields)
        row: dict = {"unit_code": unit}
        if unit not in known:
            errors.append(f"line {line}: unit: unknown unit code {unit!r}")
        for name, raw, parse in (("year", year, _whole), ("students", students, _whole),
                                 ("theses", theses, _whole), ("academic_fte", fte, _decimal)):
            try:
                row[name] = parse(raw)
            except ValueError as exc:
                errors.append(f"line {line}: {name}: {exc}")
        if "year" in row and not 2000 <= row["year"] <= 2100:
            errors.append(f"line {line}: year: must be between 2000 and 2100")
        key = (unit, row.get("year"))
        if key in rows:
            errors.append(f"line {line}: {unit} {row.get('year')} already given on line "
                          f"{rows[key][0]}")
        rows[key] = (line, row)
    if errors:
        more = len(errors) - MAX_ERRORS
        shown = errors[:MAX_ERRORS] + ([f"and {more} more"] if more > 0 else [])
        raise ValidationFailed({"": shown})
    if not rows:
        raise ValidationFailed({"": ["the file has no data lines"]})
    return [r for _, r in rows.values()]


def load_csv(db: Session, text: str, *, now=None) -> int:
    """Load (or replace) denominators from CSV text; returns the number of lines
    loaded. Nothing is written when any line is wrong."""
    rows = parse_csv(db, text)
    now = now or utcnow()
    for r in rows:
        d = db.execute(select(Denominator).where(Denominator.unit_code == r["unit_code"],
                                                 Denominator.year == r["year"])
                       ).scalar_one_or_none()
        if d is None:
            d = Denominator(unit_code=r["unit_code"], year=r["year"])
            db.add(d)
        d.students, d.theses, d.academic_fte, d.loaded_at = (
            r["students"], r["theses"], r["academic_fte"], now)
    db.flush()
    return len(rows)


def list_denominators(db: Session) -> list[Denominator]:
    return list(db.execute(select(Denominator).order_by(Denominator.year,
                                                        Denominator.unit_code)).scalars())


# ------------------------------------------------------------- normalising
def academic_year_of(date_from: date, date_to: date) -> int | None:
    """The academic year (starting calendar year) containing the whole period."""
    y = date_from.year if date_from.month >= 8 else date_from.year - 1
    return y if date_to <= date(y + 1, 7, 31) else None


def _bases(db: Session, year: int) -> tuple[dict[str, dict], object]:
    rows = db.execute(select(Denominator).where(Denominator.year == year)).scalars().all()
    bases = {d.unit_code: {"students": d.students, "theses": d.theses,
                           "academic_fte": d.academic_fte, "loaded_at": d.loaded_at}
             for d in rows}
    return bases, max((d.loaded_at for d in rows), default=None)


def _institution(db: Session, bases: dict[str, dict]) -> dict | None:
    faculties = db.execute(select(AcademicUnit.code).where(AcademicUnit.level == "faculty")
                           ).scalars().all()
    if not faculties or any(f not in bases for f in faculties):
        return None
    return {k: sum((bases[f][k] for f in faculties), start=Decimal(0) if k == "academic_fte"
                   else 0) for k in ("students", "theses", "academic_fte")}


def _ratio(count, base, factor: int):
    if count is None or base is None or not base:
        return None
    v = round(float(Decimal(str(count)) * factor / Decimal(str(base))), 4)
    return int(v) if v.is_integer() else v


def add_normalised(db: Session, req, result: dict) -> dict:
    """Append the normalised rows to an engine ``result`` (in place) when
    denominators apply (see the module's rules); returns ``result``."""
    year = academic_year_of(req.date_from, req.date_to)
    if year is None:
        return result
    if req.by and (len(req.by) != 1 or req.by[0] not in ("faculty", "department")):
        return result
    bases, loaded_at = _bases(db, year)
    if not bases:
        return result
    scope = None
    if not req.by:
        scope = bases.get(req.unit) if req.unit else _institution(db, bases)
        if scope is None:
            return result
    used = False
    for ind in result["indicators"]:
        specs = NORMALISED.get(ind["id"])
        if not specs:
            continue
        extra = []
        for row in ind["rows"]:
            for spec in specs:
                if row["measure"] != spec.source:
                    continue
                base = scope if scope is not None else bases.get(row.get(req.by[0]))
                if base is None:
                    continue
                dims = {k: row[k] for k in req.by}
                extra.append({**dims, "measure": spec.name,
                              "value": _ratio(row["value"], base[spec.base], spec.factor)})
        if extra:
            used = True
            ind["rows"].extend(extra)
    if used:
        result["meta"]["denominators"] = {
            "academic_year": f"{year}/{(year + 1) % 100:02d}",
            "loaded_at": loaded_at.isoformat().replace("+00:00", "Z") if loaded_at else None}
    return result


# -------------------------------------------------------------- comparison
def compare_departments(db: Session, measure: str, year: int, *,
                        as_of: int | None = None) -> list[dict]:
    """Each department's value of a normalised ``measure`` (e.g.
    ``theses_per_100_students``) for the academic year starting in ``year``,
    against its faculty's average across its departments, and its quintile
    across all departments (see the module's rules). Returns, sorted by
    faculty and department: ``{"department", "faculty", "value",
    "faculty_average", "quintile"}``; departments without a denominator have
    ``value`` None and no quintile."""
    from portal.services import indicators as engine

    if measure not in MEASURES:
        raise ValidationFailed({"measure": [f"unknown normalised measure {measure!r} (one of: "
                                            f"{', '.join(MEASURES)})"]})
    ind_id, _spec = MEASURES[measure]
    result = engine.compute(db, date_from=date(year, 8, 1), date_to=date(year + 1, 7, 31),
                            by="department", as_of=as_of, indicators=[ind_id])
    got = {r["department"]: r["value"] for r in result["indicators"][0]["rows"]
           if r["measure"] == measure}
    bases, _ = _bases(db, year)
    units = db.execute(select(AcademicUnit)).scalars().all()
    by_id = {u.id: u for u in units}
    out = []
    for u in units:
        if u.level != "department":
            continue
        parent = by_id.get(u.parent_id)
        faculty = parent.code if parent is not None and parent.level == "faculty" else None
        value = got.get(u.code)
        if value is None and u.code in bases:  # no events: a count of 0
            value = 0
        out.append({"department": u.code, "faculty": faculty, "value": value})
    for row in out:
        peers = [r["value"] for r in out if r["faculty"] == row["faculty"]
                 and r["value"] is not None]
        row["faculty_average"] = round(sum(peers) / len(peers), 4) if peers else None
    valued = [r["value"] for r in out if r["value"] is not None]
    n = len(valued)
    for row in out:
        if row["value"] is None:
            row["quintile"] = None
        else:
            lower = sum(1 for v in valued if v < row["value"])
            row["quintile"] = 1 + math.floor(5 * lower / n)
    return sorted(out, key=lambda r: (r["faculty"] or "", r["department"]))
