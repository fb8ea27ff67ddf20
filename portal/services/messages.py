"""Composing e-mails in the recipient's language.

Message bodies are Jinja templates under ``templates/mail/`` (``NAME.txt``,
with the subject in a ``subject`` block). Needs an application context (the
web, the CLI and jobs all run inside one); delivery itself goes through the
outbox in ``portal.services.mail``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, has_app_context, render_template
from flask_babel import force_locale
from sqlalchemy.orm import Session

from portal.models import OutboxMail
from portal.services import mail


def absolute_url(path: str, db: Session | None = None) -> str:
    app = current_app if has_app_context() else (db.info.get("app") if db is not None else None)
    base = app.config["PORTAL_SETTINGS"].base_url.rstrip("/") if app is not None else ""
    return f"{base}{path}"


def send(
    db: Session,
    *,
    to: str,
    locale: str,
    template: str,
    now: datetime | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> OutboxMail:
    if not has_app_context() and db.info.get("app") is not None:
        with db.info["app"].app_context():
            return send(db, to=to, locale=locale, template=template, now=now,
                        headers=headers, **context)
    with force_locale(locale):
        tpl = current_app.jinja_env.get_template(f"mail/{template}.txt")
        module = tpl.make_module(context)
        subject = str(getattr(module, "subject", "") or "").strip()
        body = render_template(f"mail/{template}.txt", **context)
    return mail.enqueue(db, to=to, subject=subject, text=body.strip() + "\n",
                        locale=locale, now=now, headers=headers)
