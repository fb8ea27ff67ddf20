"""The user's in-portal notifications."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal.services import notifications
from portal.web.dbsession import get_db

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
@login_required
def index():
    db = get_db()
    items = [(n, notifications.message(n)) for n in notifications.recent(db, current_user)]
    return render_template("notifications/index.html", items=items,
                           unread=notifications.unread_count(db, current_user))


@bp.post("/notifications/read")
@login_required
def mark_read():
    db = get_db()
    notifications.mark_all_read(db, current_user)
    db.commit()
    return redirect(url_for("notifications.index"))
