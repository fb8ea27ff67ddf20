"""Web layer wiring: extensions, security headers, locale, blueprints, errors."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, jsonify, render_template, request, session
from flask_login import current_user
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.extensions import babel, csrf, login_manager
from portal.i18n import _l
from portal.services import auth_sessions
from portal.services.errors import NotFound, PermissionDenied
from portal.web.dbsession import close_db, get_db

SUPPORTED_LOCALES = ("nb", "en")
# Browsers send "no" or "nn" for Norwegian; bokmål is what we have.
_LOCALE_ALIASES = {"no": "nb", "nn": "nb", "nb": "nb", "en": "en"}

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def select_locale() -> str:
    if not has_request_context():
        # CLI and jobs: operators read English; mail to users sets its own locale.
        return "en"
    if current_user and current_user.is_authenticated:
        return current_user.locale
    chosen = session.get("lang")
    if chosen in SUPPORTED_LOCALES:
        return chosen
    for lang, _quality in request.accept_languages:
        primary = lang.split("-")[0].lower()
        if primary in _LOCALE_ALIASES:
            return _LOCALE_ALIASES[primary]
    return current_app.config["PORTAL_SETTINGS"].default_locale


def init_web(app: Flask) -> None:
    settings = app.config["PORTAL_SETTINGS"]

    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see that page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # sessions are server-side; see auth_sessions

    @login_manager.user_loader
    def _load_user(token: str):
        user = auth_sessions.user_for_token(get_db(), token)
        if user is not None:
            user.auth_token = token
        return user

    Talisman(
        app,
        force_https=settings.force_https,
        strict_transport_security=True,  # sent only on HTTPS requests
        session_cookie_secure=settings.production,
        session_cookie_http_only=True,
        content_security_policy=CSP,
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        x_content_type_options=True,
    )

    app.teardown_appcontext(close_db)

    @app.context_processor
    def _template_globals():
        from flask_babel import get_locale

        from portal.web.labels import choices as label_choices
        from portal.web.labels import label
        from portal.web.navigation import nav_items

        return {"current_locale": str(get_locale() or settings.default_locale),
                "supported_locales": SUPPORTED_LOCALES, "nav_items": nav_items,
                "label": label, "label_choices": label_choices}

    _register_blueprints(app)
    _register_errors(app)


def _register_blueprints(app: Flask) -> None:
    import importlib

    for name in ("core", "auth", "accounts", "organisations", "admin", "notifications", "opportunities",
                 "applications", "collaborations", "search", "directory", "indicators"):
        app.register_blueprint(importlib.import_module(f"portal.web.{name}").bp)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz" or (
        request.accept_mimetypes.best == "application/json"
    )


_MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have access to this page."),
    404: _l("We could not find that page."),
    405: _l("That action is not allowed here."),
    413: _l("The upload is too large."),
    429: _l("Too many attempts. Please wait a little and try again."),
    500: _l("Something went wrong on our side. Nothing was saved."),
}


def _error_response(code: int, message=None):
    message = message or _MESSAGES.get(code, _MESSAGES[500])
    if _wants_json():
        return jsonify({"error": str(message), "status": code}), code
    return render_template("errors/error.html", code=code, message=message), code


def _register_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc):
        return _error_response(
            400, _l("The form had expired or did not come from this site. Please try again.")
        )

    @app.errorhandler(PermissionDenied)
    def _forbidden(exc):
        return _error_response(403, exc.message)

    @app.errorhandler(NotFound)
    def _not_found(exc):
        return _error_response(404, exc.message)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return _error_response(exc.code or 500, _MESSAGES.get(exc.code or 500))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error", exc_info=exc)
        return _error_response(500)
