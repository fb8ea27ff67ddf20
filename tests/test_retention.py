"""The retention job: hide after a year, warn once, erase after three years (never unwarned)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.models import OutboxMail, User, utcnow
from portal.services import (
    academic,
    accounts,
    auth_sessions,
    collaboration_queries,
    organisations,
    retention,
)
from tests.helpers import PASSWORD, World, make_user

T0 = datetime(2025, 9, 1, 10, 0, tzinfo=UTC)
ZERO = {"hidden": 0, "warned": 0, "erased": 0, "kept_last_admin": 0, "orphan_files": 0}


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def _run(app, now):
    return retention.run(app.extensions["portal.sessionmaker"], app.config["PORTAL_SETTINGS"],
                         now)


def _person(db, email="ola@example.no", roles=("student",), locale="nb", now=T0,
            name="Ola Nordmann"):
    user = accounts.create_user(db, email=email, display_name=name, password=None,
                                roles=list(roles), verified=True, locale=locale, now=now)
    db.commit()
    return user


def _fresh(db, user_id) -> User:
    db.rollback()
    db.expire_all()
    return db.get(User, user_id)


def _mails_to(db, address):
    db.rollback()
    return list(db.execute(select(OutboxMail).where(OutboxMail.to_addr == address)
                           .order_by(OutboxMail.id)).scalars())


@pytest.fixture
def erasures(monkeypatch):
    """Every call to privacy.erase_account, passed through to the real one."""
    from portal.services import privacy

    calls = []
    real = privacy.erase_account

    def spy(factory, settings, user_id, **kw):
        calls.append((user_id, kw))
        return real(factory, settings, user_id, **kw)

    monkeypatch.setattr(privacy, "erase_account", spy)
    return calls


def test_hidden_after_a_year_without_login(app, db):
    ola = _person(db)
    fresh = _person(db, email="kari@example.no", now=at(200))
    assert _run(app, at(364.9)) == ZERO
    assert _fresh(db, ola.id).hidden_at is None
    assert _run(app, at(365)) == {**ZERO, "hidden": 1}
    assert _fresh(db, ola.id).hidden_at == at(365)
    assert _fresh(db, fresh.id).hidden_at is None
    # Idempotent.
    assert _run(app, at(365)) == ZERO
    assert _run(app, at(400)) == ZERO
    assert _fresh(db, ola.id).hidden_at == at(365)
    assert _run(app, at(565)) == {**ZERO, "hidden": 1}


def test_last_login_counts_not_creation(app, db):
    ola = _person(db)
    auth_sessions.start_session(db, ola, remember=False, days=14, now=at(300))
    db.commit()
    assert _run(app, at(600)) == ZERO
    assert _run(app, at(665)) == {**ZERO, "hidden": 1}


def test_logging_in_unhides_and_voids_the_warning(app, db, web):
    user = make_user(db, email="kari@example.no", locale="en")
    now = utcnow() + timedelta(days=1070)
    assert _run(app, now) == {**ZERO, "hidden": 1, "warned": 1}
    row = _fresh(db, user.id)
    assert row.hidden_at == now and row.deletion_warned_at == now
    assert web.login("kari@example.no", PASSWORD).status_code == 302
    row = _fresh(db, user.id)
    assert row.hidden_at is None and row.deletion_warned_at is None
    assert row.last_login_at is not None
    # A new stretch of inactivity starts at the login: nothing is due for a year.
    assert _run(app, row.last_login_at + timedelta(days=364)) == ZERO
    assert _run(app, row.last_login_at + timedelta(days=365)) == {**ZERO, "hidden": 1}


def test_warning_once_before_deletion_in_the_users_language(app, db):
    ola = _person(db, locale="nb")
    emma = _person(db, email="emma@example.no", locale="en", name="Emma Smith")
    assert _run(app, at(365)) == {**ZERO, "hidden": 2}
    assert _run(app, at(1064.9)) == ZERO
    assert _mails_to(db, "ola@example.no") == []
    assert _run(app, at(1065)) == {**ZERO, "warned": 2}
    assert _fresh(db, ola.id).deletion_warned_at == at(1065)
    (nb_mail,) = _mails_to(db, "ola@example.no")
    (en_mail,) = _mails_to(db, "emma@example.no")
    assert nb_mail.locale == "nb" and en_mail.locale == "en"
    assert nb_mail.body_text.startswith("Hei, Ola Nordmann!")
    assert "31. august 2028" in nb_mail.body_text  # T0 + 1095 days, an Oslo date
    assert en_mail.subject == "Your Samspill account will be deleted on August 31, 2028"
    assert "unless you log in" in en_mail.body_text
    assert "http://localhost/login" in en_mail.body_text
    # Once.
    for days in (1065, 1070, 1094.9):
        assert _run(app, at(days)) == ZERO
    assert len(_mails_to(db, "ola@example.no")) == 1
    assert _fresh(db, emma.id).erased_at is None


def test_erased_at_three_years_after_the_warning(app, db, erasures):
    ola = _person(db)
    keep = _person(db, email="kari@example.no", now=at(100))
    _run(app, at(365))
    _run(app, at(1065))
    assert _run(app, at(1094.9)) == ZERO
    assert erasures == []
    assert _run(app, at(1095)) == {**ZERO, "erased": 1}
    assert erasures == [(ola.id, {"now": at(1095), "reason": "retention"})]
    assert _fresh(db, ola.id).erased_at is not None
    assert _fresh(db, keep.id).erased_at is None
    # Erased accounts are left alone from then on.
    assert _run(app, at(1095)) == ZERO
    assert _run(app, at(3000)) == {**ZERO, "warned": 1, "hidden": 0}  # only ``keep``
    assert len(erasures) == 1


def test_a_late_warning_postpones_the_erasure(app, db, erasures):
    ola = _person(db)
    # The job did not run for three years (or the account predates it).
    assert _run(app, at(1100)) == {**ZERO, "hidden": 1, "warned": 1}
    (mail,) = _mails_to(db, "ola@example.no")
    assert "5. oktober 2028" in mail.body_text  # at(1130): the full notice
    for days in (1100, 1110, 1129.9):
        assert _run(app, at(days)) == ZERO
    assert erasures == []
    assert _run(app, at(1130)) == {**ZERO, "erased": 1}
    assert [uid for uid, _ in erasures] == [ola.id]


def test_never_erased_without_a_warning(app, db, erasures):
    ola = _person(db)
    _run(app, at(365))
    # A warning that predates the current stretch of inactivity does not count.
    row = _fresh(db, ola.id)
    row.deletion_warned_at = at(10)
    db.commit()
    assert _run(app, at(1200)) == {**ZERO, "warned": 1}
    assert erasures == []
    assert _fresh(db, ola.id).deletion_warned_at == at(1200)
    assert _run(app, at(1230)) == {**ZERO, "erased": 1}


def test_periods_are_configurable(app_config, db):
    short = create_app(app_config | {"retention_hide_days": 30, "retention_delete_days": 90,
                                     "retention_warning_days": 10})
    try:
        from portal.services import privacy  # noqa: F401  (the erasure must exist)

        ola = _person(db)
        assert _run(short, at(29)) == ZERO
        assert _run(short, at(30)) == {**ZERO, "hidden": 1}
        assert _run(short, at(79)) == ZERO
        assert _run(short, at(80)) == {**ZERO, "warned": 1}
        (mail,) = _mails_to(db, "ola@example.no")
        assert "30. november 2025" in mail.body_text  # at(90)
        assert _run(short, at(89)) == ZERO
        assert _run(short, at(90)) == {**ZERO, "erased": 1}
        assert _fresh(db, ola.id).erased_at is not None
    finally:
        short.extensions["portal.engine"].dispose()


def test_lengthened_periods_send_a_fresh_warning(app, app_config, db, erasures):
    ola = _person(db)
    short = create_app(app_config | {"retention_hide_days": 30, "retention_delete_days": 90,
                                     "retention_warning_days": 10})
    try:
        assert _run(short, at(80)) == {**ZERO, "hidden": 1, "warned": 1}
    finally:
        short.extensions["portal.engine"].dispose()
    # Back to the defaults: that warning was for a deletion that is no longer due.
    assert _run(app, at(90)) == ZERO
    assert _run(app, at(1065)) == {**ZERO, "warned": 1}
    assert len(_mails_to(db, "ola@example.no")) == 2
    assert _run(app, at(1095)) == {**ZERO, "erased": 1}
    assert [uid for uid, _ in erasures] == [ola.id]


def test_the_last_active_admin_is_kept(app, db, erasures):
    first = _person(db, email="admin1@example.no", roles=("admin",))
    second = _person(db, email="admin2@example.no", roles=("admin",))
    retired = _person(db, email="admin3@example.no", roles=("admin",), now=at(500))
    retired.is_active = False  # a deactivated admin is no admin to keep
    db.commit()
    _run(app, at(365))
    _run(app, at(1065))
    assert _run(app, at(1095)) == {**ZERO, "erased": 1, "kept_last_admin": 1}
    assert [uid for uid, _ in erasures] == [first.id]
    assert _fresh(db, second.id).erased_at is None
    assert _run(app, at(1100)) == {**ZERO, "kept_last_admin": 1}
    # Once another admin exists, the stale one goes.
    _person(db, email="admin4@example.no", roles=("admin",), now=at(1100))
    assert _run(app, at(1101)) == {**ZERO, "erased": 1}
    assert _fresh(db, second.id).erased_at is not None
    assert _fresh(db, retired.id).erased_at is None


def test_a_failed_erasure_is_reported_and_retried(app, db, monkeypatch):
    from portal.services import privacy

    ola = _person(db)
    kari = _person(db, email="kari@example.no")
    _run(app, at(365))
    _run(app, at(1065))
    real = privacy.erase_account

    def flaky(factory, settings, user_id, **kw):
        if user_id == ola.id:
            raise OSError("uploads volume not mounted")
        return real(factory, settings, user_id, **kw)

    monkeypatch.setattr(privacy, "erase_account", flaky)
    with pytest.raises(retention.RetentionFailures, match=f"user\\(s\\) {ola.id};"):
        _run(app, at(1095))
    assert _fresh(db, kari.id).erased_at is not None
    assert _fresh(db, ola.id).erased_at is None
    monkeypatch.setattr(privacy, "erase_account", real)
    assert _run(app, at(1096)) == {**ZERO, "erased": 1}
    assert _fresh(db, ola.id).erased_at is not None


def test_hidden_accounts_disappear_from_what_others_browse(app, db):
    world = World(db)
    member = make_user(db, email="kollega@firma.no", roles=(), name="Kari Kollega")
    organisations.add_member(db, world.org, member)
    academic.add_unit_member(db, world.department, world.leader)
    for person in (member, world.leader):
        person.created_at = utcnow() - timedelta(days=400)
    db.commit()
    assert _run(app, utcnow())["hidden"] == 2
    db.rollback()
    names = {m.user.display_name for m in organisations.list_members(db, world.partner,
                                                                       world.org)}
    assert names == {"Per Partner"}
    names = {m.user.display_name for m in organisations.list_members(db, world.coordinator,
                                                                       world.org)}
    assert names == {"Per Partner", "Kari Kollega"}
    assert collaboration_queries.course_page(db, world.course).leaders == []
    assert [m.user.email for m in academic.unit_members(db, world.department)] == [
        "staff@uni.no"]
    # Logging in brings them back.
    auth_sessions.start_session(db, world.leader, remember=False, days=14)
    db.commit()
    assert [u.display_name for u in collaboration_queries.course_page(db, world.course).leaders
            ] == ["Leif Leader"]


def test_candidates_are_chosen_in_the_database(app, db):
    # Many accounts, most of them recent: only the stale ones are touched.
    for i in range(30):
        _person(db, email=f"ny{i}@example.no", now=at(1000))
    _person(db)
    assert _run(app, at(1065)) == {**ZERO, "hidden": 1, "warned": 1}
    db.rollback()
    hidden = db.execute(select(func.count()).select_from(User)
                        .where(User.hidden_at.is_not(None))).scalar_one()
    assert hidden == 1
