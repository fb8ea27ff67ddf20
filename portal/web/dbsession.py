"""One database session per request; the view commits, teardown cleans up."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session


def get_db() -> Session:
    if "db" not in g:
        g.db = current_app.extensions["portal.sessionmaker"]()
    return g.db


def close_db(exc: BaseException | None) -> None:
    session: Session | None = g.pop("db", None)
    if session is None:
        return
    # Anything not committed by the view is abandoned: no half-written data.
    session.rollback()
    session.close()
