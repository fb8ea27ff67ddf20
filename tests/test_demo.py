from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from portal import create_app, migrate
from portal.models import (
    AppMeta,
    Base,
    Collaboration,
    CollaborationEvent,
    CollaborationParticipant,
    Organisation,
    OrganisationMembership,
    PersonKey,
    User,
    utcnow,
)
from portal.services import accounts, demo, orgnr
from portal.services.errors import ServiceError
from portal.services.event_catalogue import EVENT_TYPES

SKIP_TABLES = {"auth_session", "login_attempt"}


def digest(session) -> str:
    """A deterministic fingerprint of the data, independent of random keys and dialect.

    Password hashes are salted (only their presence counts); pseudonymous
    person keys are random, so each is replaced by the user it stands for.
    """
    keys = {k: f"person:{uid}" for k, uid in session.execute(
        select(PersonKey.key, PersonKey.user_id))}

    def norm(value):
        if isinstance(value, str):
            return keys.get(value, value)
        if isinstance(value, dict):
            return {k: norm(v) for k, v in sorted(value.items())}
        if isinstance(value, list):
            return [norm(v) for v in value]
        if isinstance(value, Decimal):
            return format(value.normalize(), "f")
        if isinstance(value, datetime | date):
            return value.isoformat()
        return value

    h = hashlib.sha256()
    for table in Base.metadata.sorted_tables:
        if table.name in SKIP_TABLES:
            continue
        order = [table.c.user_id] if table.name == "person_key" else table.primary_key.columns
        rows = session.execute(select(table).order_by(*order)).mappings()
        for row in rows:
            record = {}
            for name, value in row.items():
                if name == "password_hash":
                    value = value is not None
                elif name == "last_login_at":
                    continue  # the seeding time: keeps retention from hiding the demo
                elif table.name == "person_key" and name == "key":
                    continue
                record[name] = norm(value)
            h.update(json.dumps([table.name, record], sort_keys=True, default=str).encode())
    return h.hexdigest()


@pytest.fixture
def factory(app):
    return app.extensions["portal.sessionmaker"]


def test_small_demo_then_a_second_run_writes_nothing(factory, db):
    first = demo.seed_demo(factory, seed=1, scale="small")
    assert first.created and "seeded" in first.summary()
    assert first.counts["users"] > 150 and first.counts["courses"] > 100
    assert first.counts["events"] > 500 and first.counts["opportunities"] > 40
    before = digest(db)
    db.rollback()
    second = demo.seed_demo(factory, seed=1, scale="small")
    assert not second.created and "nothing written" in second.summary()
    assert second.counts == first.counts
    assert digest(db) == before
    db.rollback()
    # A different seed is a no-op too: the demo is there already.
    assert not demo.seed_demo(factory, seed=2, scale="small").created

    present = set(db.execute(select(CollaborationEvent.type).distinct()).scalars())
    assert set(EVENT_TYPES) <= present, set(EVENT_TYPES) - present
    assert db.execute(select(func.max(CollaborationEvent.occurred_at))).scalar_one() \
        <= demo.DEMO_NOW
    # Events are recorded in date order, so ids follow time.
    stamps = db.execute(select(CollaborationEvent.recorded_at)
                        .order_by(CollaborationEvent.id)).scalars().all()
    assert stamps == sorted(stamps)
    assert json.loads(db.get(AppMeta, demo.MARKER).value)["seed"] == 1


def test_demo_logins_and_their_story(factory, db):
    demo.seed_demo(factory, seed=1, scale="small")
    roles = {"student": {"student"}, "partner": {"partner"}, "staff": {"staff"},
             "courseleader": {"course_leader"}, "coordinator": {"coordinator"},
             "admin": {"admin"}}
    users = {}
    for key, wanted in roles.items():
        user = accounts.find_by_email(db, f"{key}@{demo.DEMO_DOMAIN}")
        assert user is not None and wanted <= user.role_names
        assert check_password_hash(user.password_hash, demo.DEMO_PASSWORD)
        users[key] = user
    # Bulk accounts cannot log in.
    assert db.execute(select(func.count()).select_from(User)
                      .where(User.password_hash.is_not(None))).scalar_one() == 6
    org = db.execute(select(Organisation).join(OrganisationMembership).where(
        OrganisationMembership.user_id == users["partner"].id)).scalar_one()
    assert org.verified
    for key in ("student", "partner"):
        collabs = db.execute(select(Collaboration).join(CollaborationParticipant).where(
            CollaborationParticipant.user_id == users[key].id)).scalars().all()
        assert any(c.status == "completed" and c.results for c in collabs), key
    # Every sector and size class is represented, and foreign partners have no number.
    orgs = db.execute(select(Organisation)).scalars().all()
    assert {o.sector for o in orgs} >= {"private", "public_state", "public_county",
                                        "public_municipal", "health_trust", "non_profit",
                                        "higher_education"}
    assert {o.size_class for o in orgs} == {"micro", "small", "medium", "large"}
    assert all((o.org_number is None) == (o.country != "NO") for o in orgs)
    assert any(not o.verified for o in orgs)  # the coordinators' queue is not empty
    assert all(orgnr.is_valid(o.org_number) for o in orgs if o.org_number)


def test_same_seed_same_data_in_a_fresh_database(factory, db, tmp_path):
    demo.seed_demo(factory, seed=7, scale="small")
    here = digest(db)
    db.rollback()
    url = f"sqlite:///{tmp_path / 'other.db'}"
    migrate.upgrade(url)
    other = create_app({"env": "test", "data_dir": tmp_path / "other",
                        "database_url": url, "secret_key": "x" * 40})
    try:
        demo.seed_demo(other.extensions["portal.sessionmaker"], seed=7, scale="small")
        with other.extensions["portal.sessionmaker"]() as session:
            assert digest(session) == here
    finally:
        other.extensions["portal.engine"].dispose()


def test_refuses_a_database_with_real_users(factory, db):
    accounts.create_user(db, email="real@example.no", display_name="Ekte Bruker",
                         password=None)
    db.commit()
    with pytest.raises(ServiceError, match="already has users"):
        demo.seed_demo(factory, scale="small")
    assert db.get(AppMeta, demo.MARKER) is None
    with pytest.raises(ServiceError, match="unknown scale"):
        demo.seed_demo(factory, scale="huge")


def test_a_failure_leaves_nothing_behind(factory, db, monkeypatch):
    def boom(self, when):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(demo._Demo, "show_recorded", boom)
    with pytest.raises(RuntimeError):
        demo.seed_demo(factory, scale="small")
    assert db.execute(select(func.count()).select_from(User)).scalar_one() == 0
    assert db.execute(select(func.count()).select_from(CollaborationEvent)).scalar_one() == 0
    assert db.get(AppMeta, demo.MARKER) is None


def test_portal_demo_command_on_an_empty_data_dir(tmp_path):
    from portal.cli import main

    env = {"PORTAL_DATA_DIR": str(tmp_path / "data"), "PORTAL_DATABASE_URL": "",
           "PORTAL_ENV": "development"}
    runner = CliRunner()
    first = runner.invoke(main, ["demo", "--scale", "small", "--seed", "3"], env=env)
    assert first.exit_code == 0, first.output
    assert "demo data seeded (seed 3, small)" in first.output
    again = runner.invoke(main, ["demo", "--scale", "small"], env=env)
    assert again.exit_code == 0 and "nothing written" in again.output
    bad = runner.invoke(main, ["demo", "--scale", "huge"], env=env)
    assert bad.exit_code == 2


def test_search_index_matches_the_database_after_a_demo_seed(factory, app):
    from portal.search_sync import apply_pending, index_dir
    from search_index import indexer
    from search_index.query import search

    demo.seed_demo(factory, seed=1, scale="small")
    report = apply_pending(app)
    assert report is not None and report.upserted > 0
    assert indexer.verify(factory, index_dir(app)) == 0
    assert search(index_dir(app), "", per_page=5).total > 0


def test_demo_people_count_as_recently_active_so_retention_keeps_them(factory, app):
    from portal.services import retention

    demo.seed_demo(factory, settings=app.config["PORTAL_SETTINGS"], scale="small")
    counts = retention.run(factory, app.config["PORTAL_SETTINGS"], utcnow())
    assert counts["hidden"] == counts["warned"] == counts["erased"] == 0
