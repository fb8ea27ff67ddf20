"""The profile page: one section per role the user has, plus name and language."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.i18n import _l
from portal.services import academic, profiles
from portal.services.errors import ValidationFailed
from portal.web.dbsession import get_db
from portal.web.formtools import apply_errors
from portal.web.formtools import choices as select_choices
from portal.web.labels import choices, label

bp = Blueprint("accounts", __name__)


@bp.app_context_processor
def _helpers():
    return {"label": label}


def _me():
    return current_user._get_current_object()


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class AccountForm(FlaskForm):
    display_name = StringField(_l("Your name"), validators=[
        DataRequired(_l("Enter your name.")), Length(max=200)])
    locale = RadioField(_l("Language"), choices=select_choices(choices("locale")),
                        validators=[DataRequired(_l("Choose Norwegian or English."))])


class StudentProfileForm(FlaskForm):
    programme = StringField(_l("Study programme"), validators=[Length(max=200)])
    level = SelectField(_l("Study level"), choices=select_choices(choices("study_level")),
                        validators=[DataRequired(_l("Choose a study level."))])
    unit_id = SelectField(_l("Faculty or department"), coerce=_optional_int)
    skills = TextAreaField(_l("Skills"), validators=[Length(max=4000)])
    interests = TextAreaField(_l("Interests"), validators=[Length(max=4000)])
    visible_to_partners = BooleanField(
        _l("Let partner organisations find my profile when they look for students"))

    def set_units(self, unit_choices):
        self.unit_id.choices = select_choices([("", _l("Not chosen")), *unit_choices])


def _student_units(db) -> list[tuple[int, str]]:
    locale = str(get_locale() or "nb")
    return [(u.id, f"{u.code} · {u.name(locale)}")
            for u in academic.list_units(db) if u.level in ("faculty", "department")]


def _render(account_form=None, student_form=None, status=200):
    db = get_db()
    me = _me()
    overview = profiles.profile_overview(db, me)
    if account_form is None:
        account_form = AccountForm(formdata=None, display_name=me.display_name,
                                   locale=me.locale)
    if overview.student is not None and student_form is None:
        student_form = StudentProfileForm(formdata=None, obj=overview.student)
    if student_form is not None:
        student_form.set_units(_student_units(db))
    return render_template("accounts/profile.html", overview=overview,
                           account_form=account_form, student_form=student_form), status


@bp.get("/profile")
@login_required
def profile():
    return _render()


@bp.post("/profile/account")
@login_required
def update_account():
    db = get_db()
    form = AccountForm()
    if form.validate_on_submit():
        try:
            profiles.update_account(db, _me(), display_name=form.display_name.data,
                                    locale=form.locale.data)
            db.commit()
        except ValidationFailed as exc:
            db.rollback()
            apply_errors(form, exc)
        else:
            session["lang"] = form.locale.data
            flash(_l("Your details are saved."), "success")
            return redirect(url_for(".profile"))
    return _render(account_form=form, status=400)


@bp.post("/profile/student")
@login_required
def update_student():
    db = get_db()
    form = StudentProfileForm()
    form.set_units(_student_units(db))
    if form.validate_on_submit():
        try:
            profiles.update_student_profile(
                db, _me(), programme=form.programme.data, level=form.level.data,
                unit_id=form.unit_id.data, skills=form.skills.data,
                interests=form.interests.data,
                visible_to_partners=form.visible_to_partners.data)
            db.commit()
        except ValidationFailed as exc:
            db.rollback()
            apply_errors(form, exc)
        else:
            flash(_l("Your student profile is saved."), "success")
            return redirect(url_for(".profile"))
    return _render(student_form=form, status=400)
