"""The search page, saved searches, and the coordinators' terminology page."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal.extensions import csrf
from portal.i18n import _l
from portal.models import utcnow
from portal.search_sync import index_dir
from portal.services import policy, saved_searches, terminology
from portal.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from portal.web.dbsession import get_db
from portal.web.formtools import apply_errors

bp = Blueprint("search", __name__)

FACETS = ("kind", "level", "discipline", "sector", "language", "location", "within")
# facet name in the search result → label vocabulary (None: shown as stored)
FACET_LABELS = {"kind": "kind", "level": "study_level", "sector": "sector",
                "language": "content_language", "within": "deadline_window",
                "discipline": None, "location": None}
MAX_QUERY = 10000


def _filters_from(args) -> dict[str, list[str]]:
    return {name: [v for v in args.getlist(name) if v][:20] for name in FACETS if args.getlist(name)}


@bp.get("/search")
def index():
    from search_index.query import search as run_search

    db = get_db()
    text = (request.args.get("q") or "")[:MAX_QUERY]
    filters = _filters_from(request.args)
    sort = request.args.get("sort") if request.args.get("sort") in ("relevance", "deadline") \
        else "relevance"
    page = request.args.get("page", "1")
    engine_filters = dict(filters)
    if "within" in engine_filters:
        engine_filters["deadline_within"] = engine_filters.pop("within")[0]
    result = run_search(index_dir(current_app), text, filters=engine_filters, sort=sort,
                        page=int(page) if page.isdigit() else 1, per_page=20,
                        extra_synonyms=terminology.extra_synonyms(db))
    facets = dict(result.facets)
    if "deadline" in facets:
        facets["within"] = facets.pop("deadline")
    args = {k: v for k, v in request.args.items(multi=True) if k != "page"}
    return render_template(
        "search/index.html", result=result, q=text, filters=filters, sort=sort, facets=facets,
        facet_order=FACETS, facet_labels=FACET_LABELS,
        page_url=lambda n: url_for("search.index") + "?" + urlencode([*_pairs(args), ("page", n)]),
        did_you_mean_url=(url_for("search.index") + "?" + urlencode(
            [*_pairs({k: v for k, v in args.items() if k != "q"}), ("q", result.did_you_mean)])
            if result.did_you_mean else None),
    )


def _pairs(args) -> list[tuple[str, str]]:
    if hasattr(args, "items") and not isinstance(args, dict):
        return list(args.items(multi=True))
    return list(args.items())


@bp.post("/search/save")
@login_required
def save():
    db = get_db()
    form = FlaskForm()
    if not form.validate_on_submit():
        flash(_l("The form had expired. Please try again."), "error")
        return redirect(url_for("search.index"))
    try:
        saved_searches.save(db, current_user, query=request.form.get("q", ""),
                            filters=_filters_from(request.form),
                            frequency=request.form.get("frequency", "daily"))
        db.commit()
    except (ValidationFailed, Conflict) as exc:
        db.rollback()
        flash(exc.one_line() if isinstance(exc, ValidationFailed) else exc.message, "error")
    else:
        flash(_l("Search saved. We will tell you about new matches."), "success")
    return redirect(request.form.get("back") if (request.form.get("back") or "").startswith("/search")
                    else url_for("search.index"))


@bp.get("/search/saved")
@login_required
def saved():
    return render_template("search/saved.html", items=saved_searches.saved_by(get_db(), current_user))


@bp.post("/search/saved/<int:saved_id>/delete")
@login_required
def delete_saved(saved_id: int):
    db = get_db()
    form = FlaskForm()
    if form.validate_on_submit():
        saved_searches.delete(db, current_user, saved_id)
        db.commit()
        flash(_l("Saved search deleted."), "success")
    return redirect(url_for("search.saved"))


@bp.post("/search/saved/<int:saved_id>/alerts")
@login_required
def saved_alerts(saved_id: int):
    db = get_db()
    if FlaskForm().validate_on_submit():
        enabled = request.form.get("alerts") == "on"
        saved_searches.set_alerts(db, current_user, saved_id, enabled, now=utcnow())
        db.commit()
        flash(_l("E-mail alerts are on for this search.") if enabled
              else _l("E-mail alerts are off for this search."), "success")
    else:
        flash(_l("The form had expired. Please try again."), "error")
    return redirect(url_for("search.saved"))


# The link in every alert: no login, the signed token is the credential.
def _by_token(token: str, resubscribe: bool):
    db = get_db(write=True)  # a GET that changes something: the link in the mail
    settings = current_app.config["PORTAL_SETTINGS"]
    try:
        if resubscribe:
            saved = saved_searches.resubscribe_by_token(db, settings, token)
        else:
            saved = saved_searches.unsubscribe_by_token(db, settings, token, now=utcnow())
        db.commit()
    except (ValidationFailed, NotFound) as exc:
        db.rollback()
        return render_template("search/unsubscribe_failed.html", message=exc.message,
                               expired=isinstance(exc, saved_searches.LinkExpired)), \
            (404 if isinstance(exc, NotFound) else 400)
    return render_template("search/unsubscribe.html", saved=saved, token=token,
                           resubscribed=resubscribe)


@bp.get("/saved-searches/unsubscribe/<token>")
def unsubscribe(token: str):
    return _by_token(token, resubscribe=False)


@bp.post("/saved-searches/unsubscribe/<token>")
@csrf.exempt  # RFC 8058 one-click: mail clients post here without a form of ours
def unsubscribe_one_click(token: str):
    return _by_token(token, resubscribe=False)


@bp.post("/saved-searches/unsubscribe/<token>/resubscribe")
def resubscribe(token: str):  # CSRF-checked: only our own confirmation page posts here
    return _by_token(token, resubscribe=True)


class SynonymForm(FlaskForm):
    term = StringField(_l("Word or canonical form"), validators=[DataRequired(), Length(max=120)])
    synonym = StringField(_l("Means the same as"), validators=[DataRequired(), Length(max=120)])


def _require_coordinator():
    if not policy.is_coordinator(current_user):
        raise PermissionDenied(_l("Only coordinators and administrators can change the terminology."))


@bp.route("/coordinator/terminology", methods=["GET", "POST"])
@login_required
def terminology_page():
    _require_coordinator()
    db = get_db()
    form = SynonymForm()
    if form.validate_on_submit():
        try:
            terminology.add_synonym(db, current_user, form.term.data, form.synonym.data)
            db.commit()
        except (ValidationFailed, Conflict) as exc:
            db.rollback()
            apply_errors(form, exc)
        else:
            flash(_l("Added. Search uses it from now on."), "success")
            return redirect(url_for("search.terminology_page"))
    from portal.services import forms_glossary

    return render_template("search/terminology.html", form=form,
                           items=terminology.all_synonyms(db),
                           glossary=forms_glossary.load()), (400 if form.errors else 200)


@bp.post("/coordinator/terminology/<int:synonym_id>/delete")
@login_required
def delete_synonym(synonym_id: int):
    _require_coordinator()
    db = get_db()
    if FlaskForm().validate_on_submit():
        terminology.remove_synonym(db, current_user, synonym_id)
        db.commit()
        flash(_l("Removed."), "success")
    return redirect(url_for("search.terminology_page"))
