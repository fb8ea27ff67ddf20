from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal.models import AuthSession, LoginAttempt, User, utcnow
from portal.services import login, tokens
from tests.helpers import PASSWORD, count, last_mail_to, link_in, make_user


def _register(web, **overrides):
    data = {"display_name": "Ola Nordmann", "email": "Ola.Nordmann@Example.no",
            "account_type": "student", "password": PASSWORD, "confirm": PASSWORD}
    data.update(overrides)
    return web.submit("/register", data)


def test_register_normalises_email_and_sends_verification(web, db, app):
    r = _register(web)
    assert r.status_code == 302
    user = db.execute(select(User)).scalar_one()
    assert user.email == "ola.nordmann@example.no"
    assert user.role_names == {"student"}
    assert user.email_verified_at is None
    mail = last_mail_to(db, user.email)
    assert mail is not None and "/verify/" in mail.body_text
    # The embedded default writes the outbox as .eml files after the request.
    emls = list((app.config["PORTAL_SETTINGS"].data_dir / "mail").glob("*.eml"))
    assert len(emls) == 1 and "verify" in emls[0].read_text()


def test_duplicate_email_in_any_case_is_refused(web, db):
    make_user(db, email="ola@example.no")
    web.client.cookie_jar.clear() if hasattr(web.client, "cookie_jar") else None
    r = _register(web, email="OLA@EXAMPLE.NO")
    assert r.status_code == 400
    assert "already exists" in r.get_data(as_text=True)
    assert count(db, User) == 1


def test_malformed_email_and_weak_password_are_field_errors(web, db):
    r = _register(web, email="not-an-address")
    assert r.status_code == 400 and "valid e-mail" in r.get_data(as_text=True)
    r = _register(web, password="short", confirm="short")
    assert r.status_code == 400 and "at least 10" in r.get_data(as_text=True)
    r = _register(web, password="abcdefghijkl", confirm="abcdefghijkl")
    assert r.status_code == 400
    r = _register(web, password="", confirm="")
    assert r.status_code == 400
    assert count(db, User) == 0


def test_post_without_csrf_is_refused_and_changes_nothing(client, db):
    r = client.post("/register", data={"display_name": "X", "email": "x@example.no",
                                       "account_type": "student", "password": PASSWORD,
                                       "confirm": PASSWORD})
    assert r.status_code == 400
    assert "expired" in r.get_data(as_text=True)
    assert count(db, User) == 0


def test_login_logout_and_replayed_cookie(web, db, client):
    make_user(db, email="kari@example.no")
    r = web.login("kari@example.no", PASSWORD)
    assert r.status_code == 302
    assert count(db, AuthSession) == 1
    cookie = client.get_cookie("session")
    assert cookie is not None
    old_value = cookie.value
    assert "Logg ut" in client.get("/").get_data(as_text=True) or \
        "Log out" in client.get("/").get_data(as_text=True)
    web.logout()
    assert count(db, AuthSession) == 0
    # Replay the cookie from before logout: the server-side session is gone.
    client.set_cookie("session", old_value)
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Log out" not in page and "Log in" in page


def test_login_cookie_flags_and_new_session(web, db, client):
    make_user(db, email="kari@example.no")
    client.get("/")
    r = web.login("kari@example.no", PASSWORD, remember=True)
    cookies = r.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    remember = next(c for c in cookies if c.startswith("remember_token="))
    assert "HttpOnly" in remember
    row = db.execute(select(AuthSession)).scalar_one()
    assert row.remember is True


def test_remember_cookie_alone_logs_in_until_logout(web, db, app):
    make_user(db, email="kari@example.no")
    web.login("kari@example.no", PASSWORD, remember=True)
    remember = web.client.get_cookie("remember_token").value
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember)
    assert "Log out" in fresh.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    web.logout()
    fresh2 = app.test_client()
    fresh2.set_cookie("remember_token", remember)
    assert "Log out" not in fresh2.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_wrong_password_same_message_as_unknown_email(web, db):
    make_user(db, email="kari@example.no")
    a = web.login("kari@example.no", "wrong-password-1")
    b = web.login("nobody@example.no", "wrong-password-1")
    assert a.status_code == b.status_code == 400
    assert "Wrong e-mail address or password" in a.get_data(as_text=True)
    assert "Wrong e-mail address or password" in b.get_data(as_text=True)
    assert count(db, AuthSession) == 0


def test_repeated_failures_are_throttled_even_with_right_password(web, db, app):
    make_user(db, email="kari@example.no")
    limit = app.config["PORTAL_SETTINGS"].login_max_failures
    for _ in range(limit):
        assert web.login("kari@example.no", "wrong-password-1").status_code == 400
    r = web.login("kari@example.no", PASSWORD)
    assert r.status_code == 429
    assert "Too many failed attempts" in r.get_data(as_text=True)
    assert count(db, AuthSession) == 0
    assert count(db, LoginAttempt) == limit


def test_throttle_expires(db, app):
    settings = app.config["PORTAL_SETTINGS"]
    make_user(db, email="kari@example.no")
    past = utcnow() - timedelta(seconds=settings.login_lockout_seconds + 5)
    for _ in range(settings.login_max_failures):
        db.add(LoginAttempt(email="kari@example.no", remote_addr="1.2.3.4", attempted_at=past))
    db.commit()
    user = login.authenticate(db, email="kari@example.no", password=PASSWORD,
                              remote_addr="1.2.3.4", settings=settings)
    assert user.email == "kari@example.no"


def test_email_verification_link(web, db):
    _register(web)
    mail = last_mail_to(db, "ola.nordmann@example.no")
    link = link_in(mail, "/verify/")
    r = web.client.get(link)
    assert r.status_code == 302
    db.expire_all()
    assert db.execute(select(User)).scalar_one().email_verified_at is not None


def test_tampered_and_expired_verification_links(web, db, app):
    user = make_user(db, email="kari@example.no", verified=False)
    settings = app.config["PORTAL_SETTINGS"]
    token = login.verification_token(settings, user)
    r = web.client.get(f"/verify/{token[:-3]}xyz")
    assert r.status_code == 400 and "not valid" in r.get_data(as_text=True)
    expired = tokens.make(settings.secret_key, login.VERIFY, {"uid": user.id, "email": user.email})
    try:
        tokens.read(settings.secret_key, login.VERIFY, expired, max_age=-1)
        raise AssertionError("expected expiry")
    except Exception as exc:  # noqa: BLE001
        assert "expired" in str(exc)
    db.expire_all()
    assert db.get(User, user.id).email_verified_at is None


def test_password_reset_flow_is_single_use_and_ends_sessions(web, db, app):
    make_user(db, email="kari@example.no")
    web.login("kari@example.no", PASSWORD)
    assert count(db, AuthSession) == 1
    other = app.test_client()
    from tests.conftest import Browserless

    r = Browserless(other).submit("/reset", {"email": "KARI@example.no"})
    assert r.status_code == 302
    link = link_in(last_mail_to(db, "kari@example.no"), "/reset/")
    path = re.sub(r"^https?://[^/]+", "", link)
    new_password = "brand-new-pass-77"
    r = Browserless(other).submit(path, {"password": new_password, "confirm": new_password})
    assert r.status_code == 302
    assert count(db, AuthSession) == 0  # logged out everywhere
    # The link cannot be used twice.
    again = other.get(path)
    assert again.status_code == 400
    assert web.login("kari@example.no", new_password).status_code == 302


def test_reset_request_does_not_reveal_accounts(web, db):
    r = web.submit("/reset", {"email": "nobody@example.no"}, follow_redirects=True)
    assert r.status_code == 200
    assert "If an account exists" in r.get_data(as_text=True)
    assert last_mail_to(db, "nobody@example.no") is None


def test_login_redirects_only_to_local_paths(web, db):
    make_user(db, email="kari@example.no")
    page = web.client.get("/login?next=https://evil.example/x")
    from tests.conftest import csrf_token_from

    token = csrf_token_from(page.get_data(as_text=True))
    r = web.client.post("/login?next=https://evil.example/x",
                        data={"csrf_token": token, "email": "kari@example.no",
                              "password": PASSWORD})
    assert r.status_code == 302
    assert r.headers["Location"] in ("/", "http://localhost/")


def test_language_switch_is_remembered(web, db):
    make_user(db, email="kari@example.no", locale="nb")
    web.login("kari@example.no", PASSWORD)
    r = web.submit("/", {"lang": "en", "next": "/"}, post_url="/language")
    assert r.status_code == 302
    assert '<html lang="en">' in web.client.get("/").get_data(as_text=True)
    db.expire_all()
    assert db.execute(select(User)).scalar_one().locale == "en"
