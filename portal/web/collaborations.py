"""Collaborations: the record of a match or an activity, its people, courses and results."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from portal.i18n import _l
from portal.models.vocab import PARTICIPANT_ROLES, RECORDED_FORMS, RESULT_TYPES
from portal.services import accounts, collaboration_queries, collaborations, policy
from portal.services.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from portal.web.dbsession import get_db
from portal.web.formtools import LocalDecimalField, apply_errors, choices
from portal.web.labels import label

bp = Blueprint("collaborations", __name__)


class ParticipantForm(FlaskForm):
    email = EmailField(_l("E-mail address of the person"), validators=[DataRequired()])
    role = SelectField(_l("Role"))


class TagForm(FlaskForm):
    course = SelectField(_l("Course"))
    semester = StringField(_l("Semester (e.g. 2026H)"), validators=[Optional(), Length(max=5)])


class ResultForm(FlaskForm):
    type = SelectField(_l("Kind of result"))
    title = StringField(_l("Title"), validators=[Length(max=300)])
    link = StringField(_l("Link (e.g. to the archived thesis)"), validators=[Length(max=500)])
    description = TextAreaField(_l("Description"), validators=[Length(max=20000)])
    occurred_on = DateField(_l("Date"), validators=[Optional()])


class StoryForm(FlaskForm):
    impact_story = TextAreaField(_l("Impact story"), validators=[DataRequired(_l("Write the story."))])
    public = BooleanField(_l("Everyone involved agrees that the story may be published"))


class CompleteForm(FlaskForm):
    participants_count = IntegerField(_l("Participants"), validators=[Optional()])


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Give a reason."))])


class RecordForm(FlaskForm):
    form = SelectField(_l("Form of collaboration"), validators=[Optional()])
    local_label = StringField(_l("Or your own word for it"), validators=[Length(max=120)])
    title = StringField(_l("Title"), validators=[DataRequired(_l("Enter a title.")), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Length(max=20000)])
    partners = SelectMultipleField(_l("Partner organisations"))
    unit = SelectField(_l("Academic unit"))
    courses = StringField(_l("Courses (course codes)"), validators=[Length(max=500)])
    start_date = DateField(_l("Date or start"), validators=[DataRequired(_l("Enter the date."))])
    end_date = DateField(_l("End"), validators=[Optional()])
    participants_count = IntegerField(_l("Participants"), validators=[Optional()])
    fte = LocalDecimalField(_l("Share of a full-time position (FTE)"), places=2, validators=[Optional()])
    person_months = LocalDecimalField(_l("Person-months"), places=1, validators=[Optional()])


def _forms(db, collab):
    participant = ParticipantForm(prefix="p")
    participant.role.choices = choices((r, label("participant_role", r)) for r in PARTICIPANT_ROLES)
    tag = TagForm(prefix="t")
    tag.course.choices = choices((str(c.id), f"{c.code} {c.name_nb}")
                                 for c in collaboration_queries.led_courses(db, current_user))
    result = ResultForm(prefix="r")
    result.type.choices = choices((t, label("result_type", t)) for t in RESULT_TYPES
                                  if t != "thesis_delivered" or collab.form == "thesis_task")
    story = StoryForm(prefix="s", impact_story=collab.impact_story, public=collab.impact_story_public)
    return {"participant_form": participant, "tag_form": tag, "result_form": result,
            "story_form": story, "complete_form": CompleteForm(prefix="c"),
            "cancel_form": CancelForm(prefix="x")}


def _render(collab, status=200, **override):
    db = get_db()
    forms = _forms(db, collab)
    forms.update(override)
    return render_template(
        "collaborations/detail.html", c=collab, **forms,
        can_edit=policy.can_edit_collaboration(db, current_user, collab),
        can_document=policy.can_document_collaboration(db, current_user, collab),
        can_tag=bool(forms["tag_form"].course.choices),
    ), status


@bp.get("/collaborations")
@login_required
def mine():
    db = get_db()
    return render_template("collaborations/mine.html",
                           items=collaborations.collaborations_of(db, current_user))


@bp.get("/collaborations/<int:collab_id>")
@login_required
def detail(collab_id: int):
    return _render(collaborations.get_collaboration(get_db(), current_user, collab_id))


def _act(collab_id: int, form_key: str, action, done):
    """Run one action from the detail page; field errors re-render the page."""
    db = get_db()
    collab = collaborations.get_collaboration(db, current_user, collab_id)
    forms = _forms(db, collab)
    form = forms[form_key]
    if not form.validate_on_submit():
        return _render(collab, 400, **{form_key: form})
    try:
        action(db, collab, form)
        db.commit()
    except PermissionDenied:
        raise
    except ServiceError as exc:
        db.rollback()
        apply_errors(form, exc)
        collab = collaborations.get_collaboration(db, current_user, collab_id)
        return _render(collab, 400, **{form_key: form})
    flash(done, "success")
    return redirect(url_for("collaborations.detail", collab_id=collab_id))


@bp.post("/collaborations/<int:collab_id>/participants")
@login_required
def add_participant(collab_id: int):
    def action(db, collab, form):
        person = accounts.find_by_email(db, form.email.data)
        if person is None:
            raise ValidationFailed({"email": [_l("No account with that e-mail address.")]})
        collaborations.add_participant(db, current_user, collab, person, form.role.data)
    return _act(collab_id, "participant_form", action, _l("Participant added."))


@bp.post("/collaborations/<int:collab_id>/participants/<int:user_id>/<role>/remove")
@login_required
def remove_participant(collab_id: int, user_id: int, role: str):
    db = get_db()
    collab = collaborations.get_collaboration(db, current_user, collab_id)
    try:
        collaborations.remove_participant(db, current_user, collab,
                                          accounts.get_user(db, user_id), role)
        db.commit()
    except (NotFound, PermissionDenied):
        raise
    except ServiceError as exc:
        db.rollback()
        flash(exc.message, "error")
    return redirect(url_for("collaborations.detail", collab_id=collab_id))


@bp.post("/collaborations/<int:collab_id>/courses")
@login_required
def tag_course(collab_id: int):
    def action(db, collab, form):
        course = next(c for c in collaboration_queries.led_courses(db, current_user)
                      if str(c.id) == form.course.data)
        collaborations.tag_course(db, current_user, course, collaboration=collab,
                                  semester=(form.semester.data or "").upper() or None)
    return _act(collab_id, "tag_form", action, _l("Tagged to the course."))


@bp.post("/collaborations/<int:collab_id>/results")
@login_required
def record_result(collab_id: int):
    def action(db, collab, form):
        collaborations.record_result(db, current_user, collab, type=form.type.data,
                                     title=form.title.data, link=form.link.data,
                                     description=form.description.data,
                                     occurred_on=form.occurred_on.data)
    return _act(collab_id, "result_form", action, _l("Result recorded."))


@bp.post("/collaborations/<int:collab_id>/story")
@login_required
def record_story(collab_id: int):
    def action(db, collab, form):
        collaborations.record_impact_story(db, current_user, collab, form.impact_story.data,
                                           form.public.data)
    return _act(collab_id, "story_form", action, _l("Impact story saved."))


@bp.post("/collaborations/<int:collab_id>/start")
@login_required
def start(collab_id: int):
    return _act(collab_id, "complete_form",
                lambda db, c, f: collaborations.start(db, current_user, c), _l("Marked as started."))


@bp.post("/collaborations/<int:collab_id>/complete")
@login_required
def complete(collab_id: int):
    return _act(collab_id, "complete_form",
                lambda db, c, f: collaborations.complete(
                    db, current_user, c, participants_count=f.participants_count.data),
                _l("Completed. Thank you for documenting it."))


@bp.post("/collaborations/<int:collab_id>/cancel")
@login_required
def cancel(collab_id: int):
    return _act(collab_id, "cancel_form",
                lambda db, c, f: collaborations.cancel(db, current_user, c, f.reason.data),
                _l("Cancelled."))


@bp.route("/collaborations/new", methods=["GET", "POST"])
@login_required
def record():
    db = get_db()
    if not current_user.has_role("staff", "course_leader", "coordinator", "admin"):
        raise PermissionDenied(_l("Only staff, course leaders and coordinators record collaborations."))
    form = RecordForm()
    form.form.choices = choices([("", _l("Choose…"))] + [(f, label("form", f)) for f in RECORDED_FORMS])
    form.partners.choices = choices(collaboration_queries.partner_choices(db))
    form.unit.choices = choices([("", _l("Choose…"))] + collaboration_queries.unit_choices(db))
    if form.validate_on_submit():
        from portal.models import AcademicUnit, Organisation
        from portal.services import opportunity_listing

        try:
            courses = opportunity_listing.courses_for_codes(
                db, (form.courses.data or "").split(","))
        except ValidationFailed as exc:
            exc.errors = {"courses": exc.errors.pop("suitable_courses")}
            apply_errors(form, exc)
        else:
            try:
                collab = collaborations.record_direct(
                    db, current_user, title=form.title.data,
                    partners=[db.get(Organisation, int(p)) for p in form.partners.data],
                    start_date=form.start_date.data, end_date=form.end_date.data,
                    form=form.form.data or None, local_label=form.local_label.data or None,
                    description=form.description.data or "",
                    unit=db.get(AcademicUnit, int(form.unit.data)) if form.unit.data else None,
                    courses=courses, participants_count=form.participants_count.data,
                    fte=form.fte.data, person_months=form.person_months.data)
                db.commit()
            except PermissionDenied:
                raise
            except ServiceError as exc:
                db.rollback()
                apply_errors(form, exc)
            else:
                flash(_l("The collaboration is recorded."), "success")
                return redirect(url_for("collaborations.detail", collab_id=collab.id))
    return render_template("collaborations/record.html", form=form), (400 if form.errors else 200)


@bp.get("/courses/<code>")
def course(code: str):
    db = get_db()
    page = collaboration_queries.course_page(db, collaboration_queries.course_by_code(db, code))
    return render_template("collaborations/course.html", page=page)


@bp.get("/portfolio")
@login_required
def portfolio():
    entries = collaboration_queries.portfolio(get_db(), current_user)
    if request.args.get("format") == "csv":
        return Response(collaboration_queries.portfolio_csv(entries), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=portfolio.csv"})
    return render_template("collaborations/portfolio.html", entries=entries)
