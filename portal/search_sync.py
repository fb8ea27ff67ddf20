"""Keeping the search index in step with the database.

Services append to the search change log in their transaction; this applies
the log to the index beside the data. On the embedded default it runs right
after each request (or CLI command) that changed something indexed, so a
change shows in search at once; the ``search_catchup`` job applies whatever
is left (e.g. when another process held the writer lock).
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.models import SearchChange

FLAG = "portal.search_dirty"
log = logging.getLogger(__name__)


@event.listens_for(Session, "before_flush")
def _mark_dirty(session: Session, _ctx, _instances) -> None:
    if any(isinstance(obj, SearchChange) for obj in session.new):
        session.info[FLAG] = True


def index_dir(app: Flask):
    from search_index import state

    return state.index_dir(app.config["PORTAL_SETTINGS"].data_dir)


def directory_dir(app: Flask):
    from search_index.directory import directory_dir as _dir

    return _dir(app.config["PORTAL_SETTINGS"].data_dir)


def apply_pending(app: Flask, *, lock_timeout: float = 5.0):
    """Apply the change log now; returns the indexer's report (None if busy)."""
    from search_index import directory, indexer, state

    source = app.extensions["portal.sessionmaker"]
    try:
        # The directory of organisations, units and courses (its own index and sequence).
        directory.apply_directory_changes(source, directory_dir(app), lock_timeout=lock_timeout)
    except state.IndexBusy:
        log.info("search directory busy; it catches up on the next run")
    try:
        return indexer.apply_changes(source, index_dir(app), lock_timeout=lock_timeout)
    except state.IndexBusy:
        # Another process is writing the index; the catch-up job applies ours.
        log.info("search index busy; changes stay in the log for the next run")
        return None


def sync_after_commit(app: Flask, session: Session | None = None) -> None:
    """After a committed unit of work: apply the log if the embedded default wants it."""
    if session is not None and not session.info.pop(FLAG, False):
        return
    if not app.config["PORTAL_SETTINGS"].search_sync:
        return
    try:
        apply_pending(app)
    except Exception:  # search is a projection: the database change stands
        log.exception("applying search changes failed; the catch-up job will retry")
