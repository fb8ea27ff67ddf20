"""Register, log in and out, verify the e-mail address, reset the password."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, RadioField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.i18n import _l
from portal.services import accounts, auth_sessions, login, messages
from portal.services.errors import ValidationFailed
from portal.web.dbsession import get_db
from portal.web.formtools import apply_errors, choices
from portal.web.safety import safe_next

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Enter your e-mail address."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
    remember = BooleanField(_l("Keep me logged in on this device"))


class RegisterForm(FlaskForm):
    display_name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter your name.")),
                                                            Length(max=200)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Enter an e-mail address."))])
    account_type = RadioField(
        _l("I am"),
        choices=choices([("student", _l("a student")),
                         ("partner", _l("representing an employer, public body or non-profit"))]),
        validators=[DataRequired(_l("Choose what kind of account you need."))],
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter a password."))])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(_l("Repeat the password.")),
        EqualTo("password", _l("The two passwords are not the same."))])


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Enter your e-mail address."))])


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Enter a password."))])
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(_l("Repeat the password.")),
        EqualTo("password", _l("The two passwords are not the same."))])


def _settings():
    return current_app.config["PORTAL_SETTINGS"]


def _begin_session(user, remember: bool) -> None:
    db = get_db()
    token = auth_sessions.start_session(db, user, remember=remember,
                                        days=_settings().session_days)
    db.commit()
    # A fresh cookie session on login: nothing from before carries over.
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    user.auth_token = token
    login_user(user, remember=remember)


def _send_verification(db, user) -> None:
    token = login.verification_token(_settings(), user)
    messages.send(db, to=user.email, locale=user.locale, template="verify_email",
                  name=user.display_name,
                  link=messages.absolute_url(url_for("auth.verify_email", token=token)))


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        db = get_db()
        try:
            user = login.register(
                db, email=form.email.data, display_name=form.display_name.data,
                password=form.password.data, account_type=form.account_type.data,
                locale=session.get("lang") or str(_current_locale()),
            )
            _send_verification(db, user)
            db.commit()
        except ValidationFailed as exc:
            db.rollback()
            apply_errors(form, exc)
        else:
            _begin_session(user, remember=False)
            flash(_l("Welcome! We have sent you an e-mail to confirm your address."), "success")
            if form.account_type.data == "partner" and "organisations.new" in current_app.view_functions:
                return redirect(url_for("organisations.new"))
            return redirect(url_for("core.index"))
    return render_template("auth/register.html", form=form), (400 if form.errors else 200)


def _current_locale():
    from flask_babel import get_locale

    return get_locale() or _settings().default_locale


@bp.route("/login", methods=["GET", "POST"], endpoint="login")
def login_page():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("core.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        db = get_db()
        try:
            user = login.authenticate(db, email=form.email.data, password=form.password.data,
                                      remote_addr=request.remote_addr or "",
                                      settings=_settings())
        except login.Throttled as exc:
            db.rollback()
            apply_errors(form, exc)
            status = 429
        except ValidationFailed as exc:
            db.commit()  # keep the failed attempt: it is what throttling counts
            apply_errors(form, exc)
            status = 400
        else:
            _begin_session(user, remember=bool(form.remember.data))
            return redirect(safe_next(request.args.get("next")) or url_for("core.index"))
    elif form.errors:
        status = 400
    return render_template("auth/login.html", form=form), status


def forget_login() -> None:
    """Log out of this browser and clear its session, keeping only the chosen language."""
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@bp.post("/logout")
def logout():
    if current_user.is_authenticated and current_user.auth_token:
        db = get_db()
        auth_sessions.end_session(db, current_user.auth_token)
        db.commit()
    forget_login()
    flash(_l("You are logged out."), "info")
    return redirect(url_for("core.index"))


@bp.get("/verify/<token>")
def verify_email(token: str):
    db = get_db(write=True)
    try:
        login.confirm_email(db, _settings(), token)
        db.commit()
    except ValidationFailed as exc:
        db.rollback()
        return render_template("auth/token_problem.html", message=exc.message), 400
    flash(_l("Thank you: your e-mail address is confirmed."), "success")
    return redirect(url_for("core.index"))


@bp.post("/verify/resend")
@login_required
def resend_verification():
    db = get_db()
    if current_user.email_verified_at is None:
        _send_verification(db, current_user)
        db.commit()
    flash(_l("We have sent a new confirmation link to %(email)s.", email=current_user.email),
          "info")
    return redirect(safe_next(request.form.get("next")) or url_for("core.index"))


@bp.route("/reset", methods=["GET", "POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        db = get_db()
        user = accounts.find_by_email(db, form.email.data)
        if user is not None and user.erased_at is None and user.is_active:
            token = login.reset_token(_settings(), user)
            messages.send(db, to=user.email, locale=user.locale, template="reset_password",
                          name=user.display_name,
                          link=messages.absolute_url(url_for("auth.reset_password", token=token)))
            db.commit()
        # The same answer either way, so the form does not reveal who has an account.
        flash(_l("If an account exists for that address, we have sent it a link to reset the password."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form), (400 if form.errors else 200)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    db = get_db()
    try:
        login.user_for_reset_token(db, _settings(), token)
    except ValidationFailed as exc:
        return render_template("auth/token_problem.html", message=exc.message), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            login.reset_password(db, _settings(), token, form.password.data)
            db.commit()
        except ValidationFailed as exc:
            db.rollback()
            apply_errors(form, exc)
        else:
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash(_l("Your password is changed. Log in with the new one."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form), (400 if form.errors else 200)
