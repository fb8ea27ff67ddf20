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


def test_organisation_verified_notifies_its_admins_with_unread_count(w, db):
    # The World verifies its organisation while building: its registering partner is the admin.
    notes = notifications.recent(db, w.partner)
    assert [n.kind for n in notes] == ["organisation_verified"]
    assert notifications.message(notes[0]) == (
        "Nidelva Teknologi AS is verified: you can now publish opportunities.")
    assert notes[0].link == f"/organisations/{w.org.id}"
    assert notifications.unread_count(db, w.partner) == 1
    # The unverified organisation's admin hears nothing.
    assert notifications.recent(db, w.newbie) == []
