"""Opportunities: the public list, pages, and posting for partners and staff."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import Length, Optional

from portal.i18n import _l
from portal.models import utcnow
from portal.models.vocab import OPPORTUNITY_KINDS
from portal.services import collaboration_queries, collaborations, opportunities, opportunity_listing, policy
from portal.services.errors import Conflict, PermissionDenied, ServiceError, ValidationFailed
from portal.web.dbsession import get_db
from portal.web.formtools import apply_errors, choices
from portal.web.opportunity_forms import (
    BY_KIND,
    HINTS,
    UNIT_ONLY,
    OpportunityForm,
    fill_form,
    form_to_fields,
)

bp = Blueprint("opportunities", __name__)


def _load(opp_id: int):
    db = get_db()
    opp = opportunities.get(db, opp_id)
    if not policy.can_view_opportunity(db, current_user if current_user.is_authenticated else None,
                                       opp):
        # Someone else's draft is as good as absent.
        abort(404)
    return db, opp


@bp.get("/opportunities")
def index():
    db = get_db()
    filters = opportunity_listing.ListingFilters.from_args(request.args)
    page = request.args.get("page", "1")
    page_no = int(page) if page.isdigit() else 1
    listing = opportunity_listing.list_published(db, filters, page=page_no, now=utcnow())
    return render_template("opportunities/index.html", listing=listing, filters=filters)


@bp.get("/opportunities/mine")
@login_required
def mine():
    db = get_db()
    return render_template("opportunities/mine.html",
                           items=opportunity_listing.owned_by(db, current_user),
                           can_post=bool(opportunity_listing.owner_choices(db, current_user)))


class CaseUseForm(FlaskForm):
    course = SelectField(_l("Course"))
    semester = StringField(_l("Semester (e.g. 2026H)"), validators=[Optional(), Length(max=5)])
    teams_count = IntegerField(_l("Teams working on the case"), validators=[Optional()])
    students_reached = IntegerField(_l("Students reached"), validators=[Optional()])


def _case_use_form(db):
    form = CaseUseForm(prefix="u")
    form.course.choices = choices((str(c.id), f"{c.code} {c.name_nb}")
                                  for c in collaboration_queries.led_courses(db, current_user)) \
        if current_user.is_authenticated else []
    return form


def _render_detail(db, opp, case_form=None, status=200):
    user = current_user if current_user.is_authenticated else None
    case_form = case_form or _case_use_form(db)
    return render_template(
        "opportunities/detail.html", opp=opp,
        can_manage=policy.can_manage_opportunity(db, user, opp),
        deadline_passed=opportunities.deadline_passed(opp),
        case_form=case_form,
        can_use_case=opp.kind == "industry_case" and opp.status != "draft"
        and bool(case_form.course.choices),
    ), status


@bp.get("/opportunities/<int:opp_id>")
@bp.get("/opportunities/<int:opp_id>-<slug>")
def detail(opp_id: int, slug: str | None = None):
    db, opp = _load(opp_id)
    if slug != opp.slug:
        return redirect(url_for("opportunities.detail", opp_id=opp.id, slug=opp.slug), 301)
    return _render_detail(db, opp)


@bp.post("/opportunities/<int:opp_id>/courses")
@login_required
def use_in_course(opp_id: int):
    """A course leader records that an industry case is used in their course."""
    db, opp = _load(opp_id)
    form = _case_use_form(db)
    if form.validate_on_submit():
        try:
            course = next(c for c in collaboration_queries.led_courses(db, current_user)
                          if str(c.id) == form.course.data)
            collaborations.tag_course(db, current_user, course, opportunity=opp,
                                      semester=(form.semester.data or "").upper() or None,
                                      teams_count=form.teams_count.data,
                                      students_reached=form.students_reached.data)
            db.commit()
        except (ValidationFailed, Conflict) as exc:
            db.rollback()
            apply_errors(form, exc)
        else:
            flash(_l("Recorded: the case is used in your course."), "success")
            return redirect(url_for("opportunities.detail", opp_id=opp.id, slug=opp.slug))
    return _render_detail(db, opp, form, 400)


def _new_form() -> OpportunityForm:
    form = OpportunityForm()
    form.owner.choices = choices(opportunity_listing.owner_choices(get_db(), current_user))
    return form


def _sections(kind: str, unit_owned: bool) -> dict:
    return {"kind_fields": BY_KIND[kind], "unit_fields": UNIT_ONLY if unit_owned else (),
            "hints": HINTS}


@bp.route("/opportunities/new/<kind>", methods=["GET", "POST"])
@login_required
def new(kind: str):
    if kind not in OPPORTUNITY_KINDS:
        abort(404)
    db = get_db()
    form = _new_form()
    if not form.owner.choices:
        flash(_l("You can post once you belong to a verified organisation or an academic unit."),
              "info")
        return redirect(url_for("opportunities.mine"))
    if request.method == "GET" and kind == "eit_village":
        form.places.data = 30
    unit_owned = (form.owner.data or "").startswith("unit:")
    if form.validate_on_submit():
        try:
            owner_org, owner_unit = opportunity_listing.parse_owner(db, form.owner.data)
            fields = form_to_fields(form, kind, owner_unit is not None,
                                    lambda codes: opportunity_listing.courses_for_codes(db, codes))
            opp = opportunities.create_draft(db, current_user, kind=kind, owner_org=owner_org,
                                             owner_unit=owner_unit, **fields)
            db.commit()
        except ValidationFailed as exc:
            db.rollback()
            apply_errors(form, exc)
        else:
            flash(_l("Draft saved. Check the preview, then publish it."), "success")
            return redirect(url_for("opportunities.detail", opp_id=opp.id, slug=opp.slug))
    return render_template("opportunities/form.html", form=form, kind=kind, opp=None,
                           **_sections(kind, unit_owned)), (400 if form.errors else 200)


@bp.route("/opportunities/<int:opp_id>/edit", methods=["GET", "POST"])
@login_required
def edit(opp_id: int):
    db, opp = _load(opp_id)
    policy.require_manage_opportunity(db, current_user, opp)
    form = OpportunityForm()
    owner_value = f"org:{opp.owner_org_id}" if opp.owner_org_id else f"unit:{opp.owner_unit_id}"
    form.owner.choices = choices([(owner_value, opp.owner_org.name if opp.owner_org
                                   else opp.owner_unit.code)])
    unit_owned = opp.owner_unit_id is not None
    if request.method == "GET":
        fill_form(form, opp)
        form.owner.data = owner_value
    elif form.validate_on_submit():
        try:
            fields = form_to_fields(form, opp.kind, unit_owned,
                                    lambda codes: opportunity_listing.courses_for_codes(db, codes))
            opportunities.update(db, current_user, opp, **fields)
            db.commit()
        except (ValidationFailed, Conflict) as exc:
            db.rollback()
            apply_errors(form, exc)
        else:
            flash(_l("Changes saved."), "success")
            return redirect(url_for("opportunities.detail", opp_id=opp.id, slug=opp.slug))
    return render_template("opportunities/form.html", form=form, kind=opp.kind, opp=opp,
                           **_sections(opp.kind, unit_owned)), (400 if form.errors else 200)


def _transition(opp_id: int, action, done_message):
    db, opp = _load(opp_id)
    try:
        action(db, current_user, opp)
        db.commit()
    except ValidationFailed as exc:
        db.rollback()
        flash(exc.one_line(), "error")
    except PermissionDenied:
        raise
    except ServiceError as exc:
        db.rollback()
        flash(exc.message, "error")
    else:
        flash(done_message, "success")
    return redirect(url_for("opportunities.detail", opp_id=opp.id, slug=opp.slug))


@bp.post("/opportunities/<int:opp_id>/publish")
@login_required
def publish(opp_id: int):
    return _transition(opp_id, opportunities.publish, _l("Published."))


@bp.post("/opportunities/<int:opp_id>/close")
@login_required
def close(opp_id: int):
    return _transition(opp_id, opportunities.close, _l("Closed: no more applications."))


@bp.post("/opportunities/<int:opp_id>/archive")
@login_required
def archive(opp_id: int):
    return _transition(opp_id, opportunities.archive, _l("Archived."))
