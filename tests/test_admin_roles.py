"""Role management by administrators (service and the /admin/users page)."""

from __future__ import annotations

import pytest

from portal.models import UserRole
from portal.services import roles
from portal.services.errors import Conflict, PermissionDenied, ValidationFailed
from tests.conftest import Browserless, csrf_token_from
from tests.helpers import PASSWORD, make_user


@pytest.fixture
def people(db):
    return {
        "admin": make_user(db, email="admin@ntnu.example.no", name="Ada Admin",
                           roles=("admin",), locale="en"),
        "coordinator": make_user(db, email="coord@ntnu.example.no", name="Cora Coordinator",
                                 roles=("coordinator",), locale="en"),
        "partner": make_user(db, email="kari@equinor.example", name="Kari Partner",
                             roles=("partner",), locale="en"),
        "student": make_user(db, email="siri_100%@stud.example.no", name="Siri Student",
                             locale="en"),
    }


def _roles(db, user):
    db.expire_all()
    return user.role_names


# ----------------------------------------------------------------- service


def test_admin_grants_and_revokes(db, people):
    admin, kari = people["admin"], people["partner"]
    assert roles.grant_role(db, admin, kari, "coordinator")
    assert not roles.grant_role(db, admin, kari, "coordinator")
    db.commit()
    assert _roles(db, kari) == {"partner", "coordinator"}
    row = db.get(UserRole, (kari.id, "coordinator"))
    assert row.granted_by_id == admin.id
    assert roles.revoke_role(db, admin, kari, "coordinator")
    assert not roles.revoke_role(db, admin, kari, "coordinator")
    db.commit()
    assert _roles(db, kari) == {"partner"}


@pytest.mark.parametrize("who", ["coordinator", "partner", "student"])
def test_only_admins_manage_roles(db, people, who):
    actor = people[who]
    with pytest.raises(PermissionDenied):
        roles.grant_role(db, actor, actor, "admin")
    with pytest.raises(PermissionDenied):
        roles.revoke_role(db, actor, people["admin"], "admin")
    with pytest.raises(PermissionDenied):
        roles.search_users(db, actor)
    db.rollback()
    assert _roles(db, actor) == people[who].role_names
    assert "admin" not in _roles(db, actor)


def test_unknown_role_is_refused(db, people):
    with pytest.raises(ValidationFailed):
        roles.grant_role(db, people["admin"], people["partner"], "superuser")


def test_the_last_admin_keeps_the_admin_role(db, people):
    admin = people["admin"]
    with pytest.raises(Conflict, match="last administrator"):
        roles.revoke_role(db, admin, admin, "admin")
    roles.grant_role(db, admin, people["coordinator"], "admin")
    db.commit()
    # With two admins, one may step down …
    assert roles.revoke_role(db, admin, admin, "admin")
    db.commit()
    # … and then the other is the last one.
    with pytest.raises(Conflict):
        roles.revoke_role(db, people["coordinator"], people["coordinator"], "admin")


def test_search_by_name_email_and_role(db, people):
    admin = people["admin"]
    assert roles.search_users(db, admin).total == 4
    assert [u.email for u in roles.search_users(db, admin, query="KARI").users] == [
        "kari@equinor.example"]
    assert [u.email for u in roles.search_users(db, admin, query="equinor").users] == [
        "kari@equinor.example"]
    # LIKE wildcards are matched literally.
    assert [u.display_name for u in roles.search_users(db, admin, query="%").users] == [
        "Siri Student"]
    assert [u.display_name for u in roles.search_users(db, admin, query="_").users] == [
        "Siri Student"]
    assert [u.email for u in roles.search_users(db, admin, role="coordinator").users] == [
        "coord@ntnu.example.no"]
    page = roles.search_users(db, admin, per_page=3, page=9)
    assert page.page == 2 and page.pages == 2 and len(page.users) == 1


# ----------------------------------------------------------------- web


@pytest.fixture
def login_as(app, client):
    def _login(email) -> Browserless:
        browser = Browserless(app.test_client())
        r = browser.login(email, PASSWORD)
        assert r.status_code == 302
        return browser
    return _login


def test_anonymous_is_sent_to_login(client):
    r = client.get("/admin/users")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


@pytest.mark.parametrize("who", ["partner", "coordinator", "student"])
def test_non_admins_get_403(db, people, login_as, who):
    browser = login_as(people[who].email)
    assert browser.get("/admin/users").status_code == 403
    token = csrf_token_from(browser.get("/profile").get_data(as_text=True))
    r = browser.client.post(f"/admin/users/{people[who].id}/roles/grant",
                            data={"csrf_token": token, "role": "admin"})
    assert r.status_code == 403
    r = browser.client.post(f"/admin/users/{people['admin'].id}/roles/revoke",
                            data={"csrf_token": token, "role": "admin"})
    assert r.status_code == 403
    assert "admin" not in _roles(db, people[who])
    assert "admin" in _roles(db, people["admin"])


def test_admin_page_lists_searches_grants_and_revokes(db, people, login_as):
    ada = login_as("admin@ntnu.example.no")
    html = ada.get("/admin/users").get_data(as_text=True)
    assert "4 users found" in html and "Kari Partner" in html
    html = ada.get("/admin/users?q=kari").get_data(as_text=True)
    assert "Kari Partner" in html and "Siri Student" not in html
    kari = people["partner"]
    r = ada.submit("/admin/users?q=kari", {"role": "course_leader", "next": "/admin/users?q=kari"},
                   post_url=f"/admin/users/{kari.id}/roles/grant")
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/users?q=kari")
    assert _roles(db, kari) == {"partner", "course_leader"}
    r = ada.submit("/admin/users", {"role": "partner"},
                   post_url=f"/admin/users/{kari.id}/roles/revoke", follow_redirects=True)
    assert r.status_code == 200 and "no longer" in r.get_data(as_text=True)
    assert _roles(db, kari) == {"course_leader"}
    # Unknown roles and open redirects are refused.
    r = ada.submit("/admin/users", {"role": "emperor", "next": "https://evil.example/"},
                   post_url=f"/admin/users/{kari.id}/roles/grant")
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/users")
    assert _roles(db, kari) == {"course_leader"}
    assert ada.get("/admin/users/9999/roles/grant").status_code == 405


def test_last_admin_cannot_remove_own_admin_role_on_the_web(db, people, login_as):
    ada = login_as("admin@ntnu.example.no")
    r = ada.submit("/admin/users", {"role": "admin"},
                   post_url=f"/admin/users/{people['admin'].id}/roles/revoke",
                   follow_redirects=True)
    assert "last administrator" in r.get_data(as_text=True)
    assert "admin" in _roles(db, people["admin"])


def test_role_change_without_csrf_token_is_refused(db, people, login_as):
    ada = login_as("admin@ntnu.example.no")
    r = ada.client.post(f"/admin/users/{people['partner'].id}/roles/grant",
                        data={"role": "admin"})
    assert r.status_code == 400
    assert "admin" not in _roles(db, people["partner"])


def test_granted_role_takes_effect_on_the_next_request(db, people, login_as):
    kari = login_as("kari@equinor.example")
    assert kari.get("/coordinator/verification").status_code == 403
    ada = login_as("admin@ntnu.example.no")
    ada.submit("/admin/users", {"role": "coordinator"},
               post_url=f"/admin/users/{people['partner'].id}/roles/grant")
    assert kari.get("/coordinator/verification").status_code == 200
