"""Samspill: the collaboration portal between a university and working life."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask

from portal.config import Settings, load_settings
from portal.db import make_engine, make_sessionmaker
from portal.paths import STATIC_DIR, TEMPLATES_DIR


def create_app(config: dict[str, Any] | Settings | None = None) -> Flask:
    """The only application factory.

    ``config`` overrides ``PORTAL_*`` settings by name (``{"data_dir": ...}``),
    or is a ready ``Settings``.
    """
    settings = config if isinstance(config, Settings) else load_settings(config)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    from portal import logs

    logs.configure(settings)

    app = Flask(
        __name__,
        template_folder=str(TEMPLATES_DIR),
        static_folder=str(STATIC_DIR),
        instance_path=str(settings.data_dir),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        PORTAL_SETTINGS=settings,
        TESTING=settings.env == "test",
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + 256 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.production,
        REMEMBER_COOKIE_DURATION=timedelta(days=settings.session_days),
        PERMANENT_SESSION_LIFETIME=timedelta(days=settings.session_days),
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_TRANSLATION_DIRECTORIES=str(_translations_dir()),
    )
    app.config.update(settings.extra)

    engine = make_engine(settings.database_url)
    app.extensions["portal.engine"] = engine
    # Sessions know their app, so services that compose mail (templates,
    # translations) can enter its context when called from tests or scripts.
    app.extensions["portal.sessionmaker"] = make_sessionmaker(engine, info={"app": app})
    app.extensions["portal.read_sessionmaker"] = make_sessionmaker(engine, read_only=True,
                                                                   info={"app": app})

    from portal.web import init_web

    init_web(app)
    return app


def _translations_dir():
    from portal.paths import TRANSLATIONS_DIR

    return TRANSLATIONS_DIR


def get_settings(app: Flask | None = None) -> Settings:
    from flask import current_app

    return (app or current_app).config["PORTAL_SETTINGS"]
