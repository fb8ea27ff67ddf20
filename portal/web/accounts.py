"""The profile page: one section per role the user has, plus name and language."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from portal.i18n import _l
from portal.services import academic, passwords, privacy, profiles
from portal.services.errors import Conflict, NotFound, ValidationFailed
from portal.web.auth import forget_login
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
                           account_form=account_form, student_form=student_form,
                           export_form=DataExportForm(formdata=None)), status


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


# ------------------------------------------------------------ personal-data rights
class DataExportForm(FlaskForm):
    """Only the CSRF token: downloading one's data is a POST, not a link to share."""


class EraseForm(FlaskForm):
    # Accounts with a password confirm with it; accounts without one type the word.
    password = PasswordField(_l("Your password"))
    confirm_word = StringField(_l("Type ERASE to confirm"))


def _erase_word_ok(text: str | None) -> bool:
    word = (text or "").strip()
    return bool(word) and word in {"ERASE", str(_l("ERASE"))}


@bp.post("/profile/data")
@login_required
def export_data():
    db = get_db()
    if not DataExportForm().validate_on_submit():
        flash(_l("The form had expired. Please try again."), "error")
        return redirect(url_for(".profile"))
    content = privacy.export_account(db, _me(), current_app.config["PORTAL_SETTINGS"])
    db.rollback()
    day = datetime.now(UTC).date().isoformat()
    response = send_file(io.BytesIO(content), mimetype="application/zip", as_attachment=True,
                         download_name=f"samspill-my-data-{day}.zip", max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


def _render_erase(form, status=200):
    return render_template("accounts/erase.html", form=form,
                           has_password=_me().password_hash is not None), status


@bp.get("/profile/erase")
@login_required
def erase_form():
    return _render_erase(EraseForm(formdata=None))


@bp.post("/profile/erase")
@login_required
def erase():
    db = get_db()
    form = EraseForm()
    me = _me()
    if not form.validate_on_submit():
        return _render_erase(form, 400)
    if me.password_hash is not None:
        if not passwords.verify_password(me.password_hash, form.password.data or ""):
            form.password.errors = [*form.password.errors,
                                    _l("That is not your password. Nothing was erased.")]
            return _render_erase(form, 400)
    elif not _erase_word_ok(form.confirm_word.data):
        form.confirm_word.errors = [*form.confirm_word.errors,
                                    _l("Type the word ERASE to confirm. Nothing was erased.")]
        return _render_erase(form, 400)
    user_id = me.id
    # Erasure runs in its own transaction, so this request's must not hold the write lock;
    # committing (nothing) ends it without expiring the loaded user, whose language the
    # messages below still read.
    db.commit()
    try:
        privacy.erase_account(current_app.extensions["portal.sessionmaker"],
                              current_app.config["PORTAL_SETTINGS"], user_id)
    except (Conflict, NotFound) as exc:
        apply_errors(form, exc)
        return _render_erase(form, 409)
    forget_login()
    flash(_l("Your account has been erased. Thank you for using Samspill."), "success")
    return redirect(url_for("core.index"))
