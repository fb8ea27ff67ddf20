"""The state /healthz reports: database, migrations, search index."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from portal import migrate
from portal.models import SearchChange
from search_index import state as index_state


def check(engine: Engine, database_url: str, data_dir: Path) -> dict:
    report: dict = {"status": "ok"}
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        report["database"] = {"ok": True, "dialect": engine.dialect.name}
    except Exception as exc:  # the point of a health check is to report, not raise
        report["status"] = "error"
        report["database"] = {"ok": False, "dialect": engine.dialect.name,
                              "error": exc.__class__.__name__}
        return report

    head = migrate.head_revision(database_url)
    current = migrate.current_revision(engine)
    report["migrations"] = {"current": current, "head": head, "ok": current == head}
    if current != head:
        report["status"] = "error"
        return report

    with engine.connect() as conn:
        latest = conn.execute(select(func.coalesce(func.max(SearchChange.seq), 0))).scalar_one()
    report["search_index"] = index_state.describe(data_dir, int(latest))
    return report
