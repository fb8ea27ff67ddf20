"""Migrations up and down on an empty database, drift, and the append-only event log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DatabaseError

from portal import migrate
from portal.models import AppendOnlyError, CollaborationEvent
from tests.conftest import PG_URL, drop_pg_schema, missing, pg_url_for_schema, reset_pg_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    if not PG_URL:
        missing("postgresql", "PostgreSQL not configured (set PORTAL_TEST_DATABASE_URL)")
    schema = "samspill_migrations_test"
    reset_pg_schema(schema)
    yield pg_url_for_schema(schema)
    drop_pg_schema(schema)


def _tables(url):
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_check_downgrade_upgrade(empty_url):
    migrate.upgrade(empty_url)
    assert {"user_account", "collaboration_event", "opportunity"} <= _tables(empty_url)
    migrate.check(empty_url)  # raises on drift between models and migrations
    migrate.downgrade(empty_url, "base")
    assert _tables(empty_url) == set()
    migrate.upgrade(empty_url)
    migrate.check(empty_url)


def _event(**kw):
    now = datetime(2024, 9, 1, tzinfo=UTC)
    return CollaborationEvent(type="collaboration_agreed", occurred_at=now, recorded_at=now,
                              data={}, **kw)


def test_event_log_refuses_update_and_delete_in_orm(db):
    ev = _event(form="thesis_task")
    db.add(ev)
    db.commit()
    ev.form = "placement"
    with pytest.raises(AppendOnlyError):
        db.flush()
    db.rollback()
    db.delete(ev)
    with pytest.raises(AppendOnlyError):
        db.flush()
    db.rollback()


def test_event_log_refuses_update_and_delete_in_database(db):
    db.add(_event(form="thesis_task"))
    db.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute(text("UPDATE collaboration_event SET form = 'placement'"))
    db.rollback()
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute(text("DELETE FROM collaboration_event"))
    db.rollback()
    assert db.execute(text("SELECT form FROM collaboration_event")).scalar_one() == "thesis_task"


def test_event_ids_are_monotonic(db):
    for _ in range(3):
        db.add(_event())
        db.commit()
    ids = db.execute(text("SELECT id FROM collaboration_event ORDER BY recorded_at, id")).scalars().all()
    assert ids == sorted(ids) and len(set(ids)) == 3
