"""Organisation pages: register, my organisations, the organisation page with
invitations, accepting an invitation, and the coordinators' verification queue."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import get_locale
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.i18n import _l
from portal.services import collaboration_queries, messages, organisations, orgnr
from portal.services.errors import Conflict, ValidationFailed
from portal.web.dbsession import get_db
from portal.web.formtools import apply_errors
from portal.web.formtools import choices as select_choices
from portal.web.labels import choices, label

bp = Blueprint("organisations", __name__)


def country_name(code: str | None) -> str:
    if not code:
        return ""
    return dict(organisations.country_choices(_locale())).get(code, code)


@bp.app_context_processor
def _helpers():
    return {"label": label, "format_org_number": orgnr.format_number,
            "country_name": country_name}


def _me():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _locale() -> str:
    return str(get_locale() or "nb")


# ----------------------------------------------------------------- forms


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name of the organisation"),
                       validators=[DataRequired(_l("Enter the organisation's name.")),
                                   Length(max=300)])
    country = SelectField(_l("Country"), default="NO")
    org_number = StringField(_l("Organisation number"), validators=[Length(max=40)])
    sector = SelectField(_l("Sector"),
                         validators=[DataRequired(_l("Choose a sector."))])
    public_enterprise = BooleanField(_l("Publicly owned enterprise (for example a state-owned "
                                        "company)"))
    size_class = SelectField(_l("Size"), validators=[DataRequired(_l("Choose a size."))])
    nace_code = StringField(_l("Industry code (NACE)"), validators=[Length(max=10)])
    municipality = StringField(_l("Municipality or city"), validators=[Length(max=120)])
    website = StringField(_l("Website"), validators=[Length(max=300)])
    description = TextAreaField(_l("About the organisation"), validators=[Length(max=20000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = select_choices(organisations.country_choices(_locale()))
        self.sector.choices = select_choices(choices("sector", blank=_l("Choose a sector")))
        self.size_class.choices = select_choices(choices("size_class", blank=_l("Choose a size")))

    def details(self) -> dict:
        return {name: getattr(self, name).data for name in organisations.DETAIL_FIELDS}


class InviteForm(FlaskForm):
    email = EmailField(_l("Your colleague's e-mail address"),
                       validators=[DataRequired(_l("Enter an e-mail address.")),
                                   Length(max=320)])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token travels."""


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[
        DataRequired(_l("Explain why, so the organisation can correct it.")),
        Length(max=2000)])


def _status(form: FlaskForm) -> int:
    return 400 if form.errors else 200


# ----------------------------------------------------------------- register, edit, mine


@bp.route("/organisations/new", methods=["GET", "POST"])
@login_required
def new():
    form = OrganisationForm()
    if form.validate_on_submit():
        db = get_db()
        try:
            org = organisations.register_organisation(db, _me(), **form.details())
            db.commit()
        except ValidationFailed as exc:
            db.rollback()
            apply_errors(form, exc)
        else:
            flash(_l("%(name)s is registered. A coordinator will verify it shortly; until "
                     "then you can invite colleagues.", name=org.name), "success")
            return redirect(url_for(".detail", org_id=org.id))
    return render_template("organisations/new.html", form=form), _status(form)


@bp.route("/organisations/<int:org_id>/edit", methods=["GET", "POST"])
@login_required
def edit(org_id: int):
    db = get_db()
    org = organisations.organisation_for_edit(db, _me(), org_id)
    form = OrganisationForm(obj=org)
    if form.validate_on_submit():
        try:
            organisations.update_organisation(db, _me(), org, **form.details())
            db.commit()
        except ValidationFailed as exc:
            db.rollback()
            apply_errors(form, exc)
        else:
            flash(_l("The details are saved."), "success")
            return redirect(url_for(".detail", org_id=org_id))
    return render_template("organisations/edit.html", form=form, org=org), _status(form)


@bp.get("/organisations/mine")
@login_required
def mine():
    memberships = organisations.organisations_of(get_db(), _me())
    return render_template("organisations/mine.html", memberships=memberships)


# ----------------------------------------------------------------- the organisation page


def _render_detail(org_id: int, invite_form: InviteForm, status: int = 200):
    db = get_db()
    page = organisations.organisation_page(db, _me(), org_id)
    relationship = collaboration_queries.organisation_relationship(db, page.organisation)
    return render_template("organisations/detail.html", page=page, org=page.organisation,
                           invite_form=invite_form, relationship=relationship), status


@bp.get("/organisations/<int:org_id>")
def detail(org_id: int):
    return _render_detail(org_id, InviteForm(formdata=None))


def _invitation_link(token: str) -> str:
    return messages.absolute_url(url_for(".invitation", token=token))


@bp.post("/organisations/<int:org_id>/invite")
@login_required
def invite(org_id: int):
    db = get_db()
    org = organisations.get_organisation(db, org_id)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitation = organisations.invite_colleague(
                db, _me(), org, form.email.data,
                secret_key=current_app.config["SECRET_KEY"], link_for=_invitation_link)
            db.commit()
        except ValidationFailed as exc:
            db.rollback()
            apply_errors(form, exc)
        else:
            flash(_l("We have sent an invitation to %(email)s.", email=invitation.email),
                  "success")
            return redirect(url_for(".detail", org_id=org_id))
    return _render_detail(org_id, form, 400)


# ----------------------------------------------------------------- invitations


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@login_required
def invitation(token: str):
    db = get_db()
    secret = current_app.config["SECRET_KEY"]
    form = ActionForm()
    try:
        if form.validate_on_submit():
            org = organisations.accept_invitation(db, _me(), token, secret_key=secret)
            db.commit()
            flash(_l("Welcome to %(name)s.", name=org.name), "success")
            return redirect(url_for(".detail", org_id=org.id))
        invitation = organisations.read_invitation(db, token, secret_key=secret)
    except ValidationFailed as exc:
        db.rollback()
        return render_template("organisations/invitation_problem.html",
                               message=exc.message), 400
    return render_template("organisations/invitation.html", invitation=invitation,
                           org=invitation.organisation, form=form)


# ----------------------------------------------------------------- verification queue


def _render_queue(reject_form: RejectForm | None = None, failed_org_id: int | None = None,
                  status: int = 200):
    queue = organisations.verification_queue(get_db(), _me())
    return render_template("organisations/verification_queue.html", queue=queue,
                           reject_form=reject_form or RejectForm(formdata=None),
                           failed_org_id=failed_org_id), status


@bp.get("/coordinator/verification")
@login_required
def verification_queue():
    return _render_queue()


@bp.post("/coordinator/verification/<int:org_id>/verify")
@login_required
def verify(org_id: int):
    db = get_db()
    organisations.require_verifier(_me())
    org = organisations.get_organisation(db, org_id)
    if ActionForm().validate_on_submit():
        try:
            organisations.verify(db, _me(), org)
            db.commit()
        except Conflict as exc:
            db.rollback()
            flash(exc.message, "error")
        else:
            flash(_l("%(name)s is verified. Its administrators have been told by e-mail.",
                     name=org.name), "success")
    return redirect(url_for(".verification_queue"))


@bp.post("/coordinator/verification/<int:org_id>/reject")
@login_required
def reject(org_id: int):
    db = get_db()
    organisations.require_verifier(_me())
    org = organisations.get_organisation(db, org_id)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            organisations.reject(db, _me(), org, form.reason.data)
            db.commit()
        except ValidationFailed as exc:
            db.rollback()
            apply_errors(form, exc)
        except Conflict as exc:
            db.rollback()
            flash(exc.message, "error")
            return redirect(url_for(".verification_queue"))
        else:
            flash(_l("%(name)s was not approved. Its administrators have been told why.",
                     name=org.name), "success")
            return redirect(url_for(".verification_queue"))
    return _render_queue(form, failed_org_id=org_id, status=400)
