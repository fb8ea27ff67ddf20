"""Front page, health check and the language switch."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session
from flask_login import current_user

from portal.services import accounts_locale
from portal.services.health import check
from portal.web.dbsession import get_db
from portal.web.safety import safe_next

bp = Blueprint("core", __name__)


@bp.get("/")
def index():
    return render_template("core/index.html")


@bp.get("/healthz")
def healthz():
    settings = current_app.config["PORTAL_SETTINGS"]
    report = check(current_app.extensions["portal.engine"], settings.database_url,
                   settings.data_dir)
    return jsonify(report), (200 if report["status"] == "ok" else 503)


@bp.post("/language")
def set_language():
    lang = request.form.get("lang", "")
    if lang in ("nb", "en"):
        session["lang"] = lang
        if current_user.is_authenticated:
            db = get_db()
            accounts_locale.set_locale(db, current_user, lang)
            db.commit()
    return redirect(safe_next(request.form.get("next")) or "/")
