from __future__ import annotations

from portal.services import notifications
from tests.helpers import PASSWORD, make_user


def test_notifications_render_in_reader_language_and_count_unread(web, db):
    user = make_user(db, email="kari@example.no", locale="en")
    notifications.notify(db, user, "application_accepted", params={"title": "Digital twin"},
                         link="/")
    db.commit()
    web.login("kari@example.no", PASSWORD)
    home = web.get("/").get_data(as_text=True)
    assert "Notifications (1 new)" in home
    page = web.get("/notifications").get_data(as_text=True)
    assert "Your application for “Digital twin” was accepted." in page
    r = web.submit("/notifications", {}, post_url="/notifications/read")
    assert r.status_code == 302
    assert notifications.unread_count(db, user) == 0


def test_notifications_are_private(web, db):
    a = make_user(db, email="a@example.no", locale="en")
    make_user(db, email="b@example.no", locale="en")
    notifications.notify(db, a, "application_received", params={"title": "Secret task"})
    db.commit()
    web.login("b@example.no", PASSWORD)
    assert "Secret task" not in web.get("/notifications").get_data(as_text=True)


def test_notifications_need_login(client):
    r = client.get("/notifications")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
