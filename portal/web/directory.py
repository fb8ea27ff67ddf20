"""The directory pages: partners (verified organisations) and academic groups.

``/partners?q=&sector=`` and ``/groups?q=`` search the directory index
(``search_index.directory``); an empty query lists from the database,
alphabetically. Hits are loaded back from the database, which stays the truth
(an organisation no longer verified is never shown, even before the index
catches up).
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.models import AcademicUnit, Course, Organisation
from portal.models.vocab import SECTORS
from portal.search_sync import directory_dir
from portal.web.dbsession import get_db

bp = Blueprint("directory", __name__)

MAX_QUERY = 500
LIST_LIMIT = 500
HIT_LIMIT = 50


def _query_text() -> str:
    return (request.args.get("q") or "").strip()[:MAX_QUERY]


@bp.get("/partners")
def partners():
    from search_index.directory import search_directory

    db = get_db()
    q = _query_text()
    sector = request.args.get("sector") or ""
    if sector not in SECTORS:
        sector = ""
    query = select(Organisation).where(Organisation.verified.is_(True))
    if sector:
        query = query.where(Organisation.sector == sector)
    if q:
        hits = search_directory(directory_dir(current_app), q, entity="organisation",
                                sector=sector or None, limit=HIT_LIMIT)
        found = {o.id: o for o in db.execute(
            query.where(Organisation.id.in_([h.id for h in hits]))).scalars()}
        orgs = [found[h.id] for h in hits if h.id in found]
    else:
        orgs = list(db.execute(query.order_by(Organisation.name, Organisation.id)
                               .limit(LIST_LIMIT)).scalars())
    return render_template("directory/partners.html", q=q, sector=sector, sectors=SECTORS,
                           orgs=orgs)


@bp.get("/groups")
def groups():
    from search_index.directory import search_directory

    db = get_db()
    q = _query_text()
    courses: list[Course] = []
    if q:
        hits = search_directory(directory_dir(current_app), q, limit=HIT_LIMIT)
        unit_ids = [h.id for h in hits if h.entity == "unit"]
        course_ids = [h.id for h in hits if h.entity == "course"]
        found_units = {u.id: u for u in db.execute(
            select(AcademicUnit).where(AcademicUnit.id.in_(unit_ids))).scalars()}
        units = [found_units[i] for i in unit_ids if i in found_units]
        found_courses = {c.id: c for c in db.execute(
            select(Course).where(Course.id.in_(course_ids))
            .options(selectinload(Course.unit))).scalars()}
        courses = [found_courses[i] for i in course_ids if i in found_courses]
    else:
        units = list(db.execute(select(AcademicUnit).order_by(AcademicUnit.code)
                                .limit(LIST_LIMIT)).scalars())
    by_unit: dict[int, list[Course]] = {u.id: [] for u in units}
    if units:
        for c in db.execute(select(Course).where(Course.unit_id.in_(list(by_unit)))
                            .order_by(Course.code)).scalars():
            by_unit[c.unit_id].append(c)
    return render_template("directory/groups.html", q=q, units=units, unit_courses=by_unit,
                           courses=courses)
