"""One database session per request; the view commits, teardown cleans up."""

from __future__ import annotations

from flask import current_app, g, has_request_context, request
from sqlalchemy.orm import Session

from portal import search_sync
from portal.services.mail import SESSION_FLAG, deliver_pending


def get_db(write: bool = False) -> Session:
    """The request's session. A GET only reads unless the view says ``write=True``
    (e-mailed links that confirm something), so it need not wait for writers."""
    if "db" not in g:
        reading = (not write and has_request_context()
                   and request.method in ("GET", "HEAD"))
        key = "portal.read_sessionmaker" if reading else "portal.sessionmaker"
        g.db = current_app.extensions[key]()
    return g.db


def close_db(exc: BaseException | None) -> None:
    session: Session | None = g.pop("db", None)
    if session is None:
        return
    # Anything not committed by the view is abandoned: no half-written data.
    session.rollback()
    mail_waiting = session.info.pop(SESSION_FLAG, False)
    search_waiting = session.info.pop(search_sync.FLAG, False)
    session.close()
    settings = current_app.config["PORTAL_SETTINGS"]
    if search_waiting:
        # Applies only what was committed: a rolled-back change left no log row.
        search_sync.sync_after_commit(current_app._get_current_object())
    if mail_waiting and settings.mail_inline:
        try:
            deliver_pending(current_app.extensions["portal.sessionmaker"], settings)
        except Exception:  # the outbox keeps the mail; a later run delivers it
            current_app.logger.exception("inline mail delivery failed")
