"""Applying, offering, deciding: students, academic units and partners meet here."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.i18n import _l
from portal.services import applications, opportunities, opportunity_listing, policy
from portal.services.errors import Conflict, PermissionDenied, ServiceError, ValidationFailed
from portal.web.dbsession import get_db
from portal.web.formtools import apply_errors, choices

bp = Blueprint("applications", __name__)


class ApplyForm(FlaskForm):
    motivation = TextAreaField(_l("Why you, and why this?"),
                               validators=[DataRequired(_l("Write a short motivation.")),
                                           Length(max=10000)])
    cv = FileField(_l("CV (PDF, optional)"))


class OfferForm(FlaskForm):
    on_behalf = SelectField(_l("On behalf of"), validators=[DataRequired()])
    motivation = TextAreaField(_l("What you offer"),
                               validators=[DataRequired(_l("Describe what you offer.")),
                                           Length(max=10000)])


class DecisionForm(FlaskForm):
    comment = TextAreaField(_l("Comment to the applicant (optional)"), validators=[Length(max=5000)])


def _settings():
    return current_app.config["PORTAL_SETTINGS"]


def _published(opp_id: int):
    db = get_db()
    opp = opportunities.get(db, opp_id)
    if not policy.can_view_opportunity(db, current_user, opp):
        abort(404)
    return db, opp


def _back(opp):
    return redirect(url_for("opportunities.detail", opp_id=opp.id, slug=opp.slug))


@bp.route("/opportunities/<int:opp_id>/apply", methods=["GET", "POST"])
@login_required
def apply(opp_id: int):
    db, opp = _published(opp_id)
    form = ApplyForm()
    if form.validate_on_submit():
        upload = form.cv.data
        cv = None
        if upload and upload.filename:
            cv = (upload.read(), upload.filename, upload.mimetype)
        try:
            applications.apply_as_student(
                db, current_user, opp, form.motivation.data, cv, data_dir=_settings().data_dir,
                max_upload_bytes=_settings().max_upload_bytes)
            db.commit()
        except (ValidationFailed, Conflict) as exc:
            db.rollback()
            apply_errors(form, exc)
        else:
            flash(_l("Your application is sent. You can follow it under “My applications”."),
                  "success")
            return redirect(url_for("applications.mine"))
    return render_template("applications/apply.html", form=form, opp=opp), \
        (400 if form.errors else 200)


def _offer_choices(db, opp) -> list[tuple[str, str]]:
    """Units the user may offer for (partner postings) or organisations (unit postings)."""
    owners = opportunity_listing.owner_choices(db, current_user)
    if opp.owner_org_id is not None:
        return [(v, n) for v, n in owners if v.startswith("unit:")]
    return [(v, n) for v, n in owners if v.startswith("org:")]


@bp.route("/opportunities/<int:opp_id>/offer", methods=["GET", "POST"])
@login_required
def offer(opp_id: int):
    db, opp = _published(opp_id)
    form = OfferForm()
    form.on_behalf.choices = choices(_offer_choices(db, opp))
    if not form.on_behalf.choices:
        raise PermissionDenied(_l("You cannot make an offer for this opportunity."))
    if form.validate_on_submit():
        try:
            org, unit = opportunity_listing.parse_owner(db, form.on_behalf.data)
            if unit is not None:
                applications.offer_as_unit(db, current_user, unit, opp, form.motivation.data)
            else:
                applications.offer_as_organisation(db, current_user, org, opp,
                                                   form.motivation.data)
            db.commit()
        except (ValidationFailed, Conflict) as exc:
            db.rollback()
            apply_errors(form, exc)
        else:
            flash(_l("Your offer is sent."), "success")
            return redirect(url_for("applications.mine"))
    return render_template("applications/offer.html", form=form, opp=opp), \
        (400 if form.errors else 200)


@bp.get("/applications")
@login_required
def mine():
    db = get_db()
    return render_template("applications/mine.html",
                           items=applications.applications_of(db, current_user))


@bp.post("/applications/<int:application_id>/withdraw")
@login_required
def withdraw(application_id: int):
    db = get_db()
    application = applications.get_application(db, current_user, application_id)
    try:
        applications.withdraw(db, current_user, application)
        db.commit()
    except Conflict as exc:
        db.rollback()
        flash(exc.message, "error")
    else:
        flash(_l("Your application is withdrawn."), "success")
    return redirect(url_for("applications.mine"))


@bp.get("/opportunities/<int:opp_id>/applicants")
@login_required
def applicants(opp_id: int):
    db, opp = _published(opp_id)
    items = applications.applications_for(db, current_user, opp)
    return render_template("applications/applicants.html", opp=opp, items=items,
                           form=DecisionForm())


@bp.post("/applications/<int:application_id>/<any(shortlist, accept, reject):action>")
@login_required
def decide(application_id: int, action: str):
    db = get_db()
    application = applications.get_application(db, current_user, application_id)
    opp = application.opportunity
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(_l("The comment is too long."), "error")
        return redirect(url_for("applications.applicants", opp_id=opp.id))
    try:
        if action == "shortlist":
            applications.shortlist(db, current_user, application)
            message = _l("Shortlisted.")
        elif action == "accept":
            collab = applications.accept(db, current_user, application, form.comment.data)
            message = _l("Accepted: the collaboration is recorded.")
        else:
            applications.reject(db, current_user, application, form.comment.data)
            message = _l("Rejected; the applicant is told.")
        db.commit()
    except PermissionDenied:
        raise
    except ServiceError as exc:
        db.rollback()
        flash(exc.one_line() if isinstance(exc, ValidationFailed) else exc.message, "error")
        return redirect(url_for("applications.applicants", opp_id=opp.id))
    flash(message, "success")
    if action == "accept" and "collaborations.detail" in current_app.view_functions:
        return redirect(url_for("collaborations.detail", collab_id=collab.id))
    return redirect(url_for("applications.applicants", opp_id=opp.id))


@bp.get("/applications/<int:application_id>/cv")
@login_required
def cv(application_id: int):
    db = get_db()
    application = applications.get_application(db, current_user, application_id)
    path = applications.cv_path(db, current_user, application, data_dir=_settings().data_dir)
    # Always a download, never rendered inline in the portal's origin.
    return send_file(path, mimetype="application/pdf", as_attachment=True,
                     download_name=application.cv_original_name or "cv.pdf", max_age=0)


class WishesForm(FlaskForm):
    pass


@bp.route("/eit/wishes", methods=["GET", "POST"])
@login_required
def eit_wishes():
    db = get_db()
    semester = (request.values.get("semester") or "").strip().upper()
    villages = opportunity_listing.eit_villages(db, semester) if semester else []
    semesters = opportunity_listing.eit_semesters(db)
    form = WishesForm()
    errors: list = []
    if request.method == "POST" and form.validate_on_submit():
        ranked = [request.form.get(f"rank{i}", "") for i in range(1, 6)]
        ids = [int(v) for v in ranked if v.isdigit()]
        try:
            applications.record_eit_wishes(db, current_user, semester, ids)
            db.commit()
        except (ValidationFailed, PermissionDenied) as exc:
            db.rollback()
            if isinstance(exc, PermissionDenied):
                raise
            errors = [m for msgs in exc.errors.values() for m in msgs]
        else:
            flash(_l("Your village wishes are saved."), "success")
            return redirect(url_for("applications.eit_wishes", semester=semester))
    current = applications.eit_wishes(db, current_user, semester) if semester else []
    return render_template("applications/eit_wishes.html", form=form, semester=semester,
                           semesters=semesters, villages=villages, current=current,
                           errors=errors), (400 if errors else 200)
