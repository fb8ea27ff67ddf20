"""Administration: users and their roles; the scheduled jobs and undeliverable e-mail."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.validators import DataRequired

from portal.i18n import _l
from portal.models.vocab import ROLES
from portal.services import accounts, job_runs, mail, policy, roles
from portal.services.errors import Conflict, PermissionDenied, ValidationFailed
from portal.web.dbsession import get_db
from portal.web.formtools import choices as select_choices
from portal.web.labels import choices, label
from portal.web.safety import safe_next

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.app_context_processor
def _helpers():
    return {"label": label}


def _me():
    return current_user._get_current_object()


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=select_choices(choices("role")),
                       validators=[DataRequired(_l("Choose a role."))])
    next = HiddenField()


@bp.get("/users")
@login_required
def users():
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        page = 1
    result = roles.search_users(get_db(), _me(), query=request.args.get("q", ""),
                                role=request.args.get("role") or None, page=page)
    return render_template("admin/users.html", result=result, all_roles=ROLES,
                           here=request.full_path if request.query_string else request.path)


def _back():
    return redirect(safe_next(request.form.get("next")) or url_for(".users"))


def _change(user_id: int, grant: bool):
    db = get_db()
    roles.require_admin(_me())
    user = accounts.get_user(db, user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_l("Choose a role."), "error")
        return _back()
    role = form.role.data
    try:
        change = roles.grant_role if grant else roles.revoke_role
        changed = change(db, _me(), user, role)
        db.commit()
    except (Conflict, ValidationFailed) as exc:
        db.rollback()
        flash(exc.message, "error")
        return _back()
    if grant:
        message = (_l("%(name)s is now %(role)s.", name=user.display_name, role=label("role", role))
                   if changed else _l("%(name)s already had that role.", name=user.display_name))
    else:
        message = (_l("%(name)s is no longer %(role)s.", name=user.display_name,
                      role=label("role", role))
                   if changed else _l("%(name)s did not have that role.", name=user.display_name))
    flash(message, "success" if changed else "info")
    return _back()


@bp.post("/users/<int:user_id>/roles/grant")
@login_required
def grant(user_id: int):
    return _change(user_id, grant=True)


@bp.post("/users/<int:user_id>/roles/revoke")
@login_required
def revoke(user_id: int):
    return _change(user_id, grant=False)


# ---------------------------------------------------------------- jobs
def _require_admin():
    if not policy.is_admin(_me()):
        raise PermissionDenied(_l("Only administrators can see and run the scheduled jobs."))


@bp.get("/jobs")
@login_required
def jobs():
    from portal.jobs import JOBS

    _require_admin()
    db = get_db()
    statuses = {s.name: s for s in job_runs.statuses(db, [j.name for j in JOBS])}
    rows = [(job, statuses[job.name]) for job in JOBS]
    return render_template("admin/jobs.html", rows=rows,
                           failures=job_runs.recent_failures(db, limit=20),
                           failed_mail=mail.failed_messages(db, limit=50))


@bp.post("/jobs/<name>/run")
@login_required
def run_job(name: str):
    from portal.jobs import JobBusy, get_job
    from portal.jobs import run_job as run

    _require_admin()
    get_job(name)  # unknown: 404
    # The job writes in transactions of its own; end this request's first
    # (SQLite has one writer at a time, and this request would be holding it).
    get_db().commit()
    try:
        result = run(current_app._get_current_object(), name, trigger="manual")
    except JobBusy as exc:
        flash(exc.message, "error")
        return redirect(url_for(".jobs"))
    counts = ", ".join(f"{k}: {v}" for k, v in result.counts.items()) or _l("nothing to do")
    if result.outcome == "ok":
        flash(_l("%(job)s ran (%(counts)s).", job=name, counts=counts), "success")
    else:
        flash(_l("%(job)s failed: %(error)s", job=name, error=result.error or ""), "error")
    return redirect(url_for(".jobs"))


@bp.post("/mail/<int:mail_id>/requeue")
@login_required
def requeue_mail(mail_id: int):
    _require_admin()
    db = get_db()
    try:
        message = mail.requeue(db, mail_id)
        db.commit()
    except Conflict as exc:
        db.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".jobs"))
    flash(_l("The e-mail to %(to)s will be sent again.", to=message.to_addr), "success")
    return redirect(url_for(".jobs"))
