"""The saved_search_alerts job, its e-mail and the unsubscribe link (services and pages)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from portal.models import OutboxMail, SavedSearch
from portal.services import opportunities, organisations, saved_search_alerts, saved_searches
from portal.services.errors import NotFound, ValidationFailed
from tests.conftest import csrf_token_from
from tests.helpers import PASSWORD, World
from tests.matching_builders import _orgnr, at, thesis, user

SETTLE = saved_search_alerts.SETTLE


# ----------------------------------------------------------------- helpers
def run(app, now):
    return saved_search_alerts.run(app.extensions["portal.sessionmaker"],
                                   app.config["PORTAL_SETTINGS"], now)


def save(db, owner, query="maskinlæring", filters=None, frequency="daily", now=None):
    row = saved_searches.save(db, owner, query=query, filters=filters or {}, frequency=frequency,
                              now=now or at(1))
    db.commit()
    return row


def mails_to(db, address) -> list[OutboxMail]:
    db.rollback()
    return list(db.execute(select(OutboxMail).where(OutboxMail.to_addr == address)
                           .order_by(OutboxMail.id)).scalars())


def alert_mails(db, address) -> list[OutboxMail]:
    return [m for m in mails_to(db, address) if (m.headers or {}).get("List-Unsubscribe")]


def titles_in(mail: OutboxMail) -> list[str]:
    return re.findall(r"^\d+\. (.+)$", mail.body_text, re.M)


def unsubscribe_link(mail: OutboxMail) -> str:
    m = re.search(r"http://localhost(/saved-searches/unsubscribe/\S+)", mail.body_text)
    assert m, mail.body_text
    return m.group(1)


def reload(db, row):
    db.rollback()
    return db.get(SavedSearch, row.id)


def new_org(db, w, n: int, coordinator):
    partner = user(db, f"firma{n}@example.no", [], f"Partner {n}", locale="en")
    org = organisations.register_organisation(
        db, partner, name=f"Firma {n} AS", org_number=_orgnr(5000 + 37 * n), sector="private",
        size_class="small", nace_code="62.010", municipality="Trondheim", now=at(0))
    organisations.verify(db, coordinator, org, now=at(0))
    db.commit()
    return partner, org


def post(db, partner, org, title, now, deadline=None, publish=True):
    opp = opportunities.create_draft(
        db, partner, kind="thesis_task", owner_org=org, title=title,
        description="Vi ønsker en student til denne oppgaven.", levels=["master"],
        deadline=deadline or at(30).date(), now=now)
    if publish:
        opportunities.publish(db, partner, opp, now=now)
    db.commit()
    return opp


# ----------------------------------------------------------------- the rule
def test_first_alert_has_only_new_matches_and_a_second_run_sends_nothing(app, db, w):
    thesis(db, w, title="Gammel maskinlæring før lagring", now=at(0.5))
    saved = save(db, w.student, now=at(1))
    thesis(db, w, title="Ny maskinlæring i havbruk", now=at(1.2))
    thesis(db, w, title="Brokonstruksjon i stål", description="Bygg og betong.", now=at(1.2))
    thesis(db, w, title="Maskinlæring som utkast", publish=False, now=at(1.2))
    thesis(db, w, title="Maskinlæring med kort frist", deadline=at(1.5).date(), now=at(1.2))
    closed = thesis(db, w, title="Maskinlæring som ble lukket", now=at(1.2))
    opportunities.close(db, w.partner, closed, now=at(1.3))
    db.commit()

    counts = run(app, at(2))
    assert counts == {"checked": 1, "sent": 1, "items": 1, "malformed": 0, "skipped": 0}
    [mail] = alert_mails(db, "student@example.no")
    assert titles_in(mail) == ["Ny maskinlæring i havbruk"]
    assert reload(db, saved).last_alerted_at == at(2)

    # The same run again (a retry, a second process): nothing due, nothing sent.
    assert run(app, at(2)) == {"checked": 1, "sent": 0, "items": 0, "malformed": 0, "skipped": 1}
    assert len(alert_mails(db, "student@example.no")) == 1


def test_later_items_come_in_the_next_alert_and_are_never_repeated(app, db, w):
    save(db, w.student, now=at(1))
    thesis(db, w, title="Maskinlæring én", now=at(1.5))
    # Published a moment before the run: possibly not searchable yet, so it
    # belongs to the next window, not lost between the two.
    thesis(db, w, title="Maskinlæring to", now=at(2) - SETTLE + timedelta(seconds=1))
    assert run(app, at(2))["sent"] == 1
    thesis(db, w, title="Maskinlæring tre", now=at(2.5))
    assert run(app, at(3))["items"] == 2
    assert run(app, at(4)) == {"checked": 1, "sent": 0, "items": 0, "malformed": 0, "skipped": 0}
    first, second = alert_mails(db, "student@example.no")
    assert titles_in(first) == ["Maskinlæring én"]
    assert sorted(titles_in(second)) == ["Maskinlæring to", "Maskinlæring tre"]
    # The students read Norwegian.
    assert "siden du lagret det" in first.body_text
    assert "siden forrige e-post fra oss" in second.body_text


def test_daily_and_weekly_timing(app, db, w):
    daily = save(db, w.student, frequency="daily", now=at(1))
    weekly = save(db, w.student2, frequency="weekly", now=at(1))
    first = at(1) + timedelta(hours=1)
    assert run(app, first)["checked"] == 2  # never alerted: both due, nothing new yet
    assert not mails_to(db, "student@example.no")
    thesis(db, w, title="Maskinlæring for vind", now=first + timedelta(hours=1))

    # An hour early is not a day; a few seconds early (scheduler jitter) is.
    assert run(app, first + timedelta(hours=23))["sent"] == 0
    assert run(app, first + timedelta(days=1, seconds=-20))["sent"] == 1
    assert [titles_in(m) for m in alert_mails(db, "student@example.no")] == [["Maskinlæring for vind"]]
    assert reload(db, daily).last_alerted_at == first + timedelta(days=1, seconds=-20)
    assert not alert_mails(db, "student2@example.no")

    assert run(app, first + timedelta(days=6, hours=23))["sent"] == 0
    assert run(app, first + timedelta(days=7))["sent"] == 1
    [weekly_mail] = alert_mails(db, "student2@example.no")
    assert titles_in(weekly_mail) == ["Maskinlæring for vind"]
    assert "høyst én gang i uken" in weekly_mail.body_text and reload(db, weekly).frequency == "weekly"
    assert len(alert_mails(db, "student@example.no")) == 1  # the daily one had nothing new


def test_at_most_ten_items_and_two_per_organisation_in_deadline_order(app, db, w):
    # A filter-only search lists by deadline, so the expected order is known.
    save(db, w.student, query="", filters={"kind": ["thesis_task"]}, now=at(1))
    posted = []
    for n in range(7):
        partner, org = new_org(db, w, n, w.coordinator)
        for k in range(3):
            day = 10 + 3 * n + k  # deadlines all distinct, an organisation's three in a row
            posted.append((day, n, post(db, partner, org, f"Oppgave {n}-{k}", at(1.5),
                                        deadline=at(day).date()).title))
    expected, per_org = [], {}
    for _day, n, title in sorted(posted):
        if per_org.get(n, 0) < 2 and len(expected) < 10:
            per_org[n] = per_org.get(n, 0) + 1
            expected.append(title)
    counts = run(app, at(2))
    assert counts["sent"] == 1 and counts["items"] == 10
    [mail] = alert_mails(db, "student@example.no")
    assert titles_in(mail) == expected
    assert "Flere nye utlysninger passer enn dem vi viser her" in mail.body_text
    assert "kind=thesis_task" in mail.body_text  # the search link keeps the filters


def test_owners_who_are_hidden_erased_inactive_or_unsubscribed_get_nothing(app, db, w):
    saved = {s: save(db, s, now=at(1)) for s in (w.student, w.student2, w.student3, w.staff)}
    thesis(db, w, title="Maskinlæring for alle", now=at(1.5))
    w.student.hidden_at = at(1.6)
    w.student2.erased_at = at(1.6)
    w.student3.is_active = False
    db.commit()
    saved_searches.set_alerts(db, w.staff, saved[w.staff].id, False, now=at(1.6))
    db.commit()
    counts = run(app, at(2))
    assert counts["checked"] == 0 and counts["sent"] == 0
    for s in saved:
        assert not alert_mails(db, s.email)
    assert all(reload(db, s).last_alerted_at is None for s in saved.values())
    # The staff member turns alerts back on: the next run brings what was missed.
    saved_searches.set_alerts(db, w.staff, saved[w.staff].id, True)
    db.commit()
    assert run(app, at(3))["sent"] == 1
    assert titles_in(alert_mails(db, "staff@example.no")[0]) == ["Maskinlæring for alle"]


def test_malformed_saved_searches_are_recorded_and_the_others_still_sent(app, db, w, monkeypatch):
    good = save(db, w.student, now=at(1))
    bad = {}
    for who, query in ((w.student2, "a"), (w.student3, "b"), (w.staff, "c"), (w.staff2, "d"),
                       (w.coordinator, "eksploderer")):
        bad[who.email] = save(db, who, query=query, now=at(1))
    rows = {e: db.get(SavedSearch, s.id) for e, s in bad.items()}
    rows["student2@example.no"].filters = "kind=thesis_task"
    rows["student3@example.no"].filters = {"kind": ["spaceship"]}
    rows["staff@example.no"].filters = {"colour": ["red"]}
    rows["staff2@example.no"].query, rows["staff2@example.no"].filters = "", {}
    db.commit()
    thesis(db, w, title="Maskinlæring i havbruk", now=at(1.5))

    from search_index import query as search_query

    real = search_query.search

    def fussy(index_dir, text, **kw):
        if text == "eksploderer":
            raise ValueError("the parser could not take this")
        return real(index_dir, text, **kw)

    monkeypatch.setattr(search_query, "search", fussy)
    counts = run(app, at(2))
    assert counts == {"checked": 6, "sent": 1, "items": 1, "malformed": 5, "skipped": 0}
    assert len(alert_mails(db, "student@example.no")) == 1
    assert reload(db, good).last_error is None
    errors = {e: reload(db, s).last_error for e, s in bad.items()}
    assert "expected form" in errors["student2@example.no"]
    assert "spaceship" in errors["student3@example.no"]
    assert "colour" in errors["staff@example.no"]
    assert "match everything" in errors["staff2@example.no"]
    assert "parser" in errors["coord@example.no"]
    assert all(reload(db, s).last_alerted_at is None for s in bad.values())
    for e in errors:
        assert not alert_mails(db, e)

    # Fixed later: the error is cleared and nothing published meanwhile is skipped.
    row = db.get(SavedSearch, bad["student3@example.no"].id)
    row.filters = {"kind": ["thesis_task"]}
    db.commit()
    counts = run(app, at(2.5))
    assert counts["malformed"] == 4 and counts["sent"] == 1
    assert reload(db, row).last_error is None
    assert titles_in(alert_mails(db, "student3@example.no")[0]) == ["Maskinlæring i havbruk"]


def test_a_busy_index_defers_the_alert_without_losing_it(app, db, w, monkeypatch):
    from search_index import state

    saved = save(db, w.student, now=at(1))
    thesis(db, w, title="Maskinlæring i havbruk", now=at(1.5))
    assert run(app, at(1.6))["sent"] == 1  # builds the index; first alert
    thesis(db, w, title="Maskinlæring i skogbruk", now=at(2))
    monkeypatch.setattr(saved_search_alerts, "INDEX_LOCK_TIMEOUT", 0.05)
    with state.writer_lock(state.index_dir(app.config["PORTAL_SETTINGS"].data_dir)):
        counts = run(app, at(3))
    assert counts["skipped"] == 1 and counts["sent"] == 0
    assert reload(db, saved).last_alerted_at == at(1.6)
    assert run(app, at(3))["sent"] == 1
    assert titles_in(alert_mails(db, "student@example.no")[-1]) == ["Maskinlæring i skogbruk"]


def test_mails_are_in_the_owners_language(app, db, w):
    english = user(db, "english@example.no", ["student"], "Emma English", locale="en")
    db.commit()
    save(db, w.student, now=at(1))  # locale nb
    save(db, english, now=at(1))
    thesis(db, w, title="Maskinlæring i havbruk", now=at(1.5))
    run(app, at(2))
    [nb] = alert_mails(db, "student@example.no")
    [en] = alert_mails(db, "english@example.no")
    assert nb.locale == "nb" and en.locale == "en"
    assert "Hei, Stina Student!" in nb.body_text and "1. oktober 2025" in nb.body_text
    assert "Oppgave · Nidelva Teknologi AS" in nb.body_text
    assert "Hello Emma English," in en.body_text and "October 1, 2025" in en.body_text
    assert "Thesis task · Nidelva Teknologi AS" in en.body_text
    assert "maskinlæring" in en.subject
    for mail in (nb, en):
        link = unsubscribe_link(mail)
        assert mail.headers == {"List-Unsubscribe": f"<http://localhost{link}>",
                                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        assert re.search(r"http://localhost/opportunities/\d+", mail.body_text)
        assert "http://localhost/search?q=maskinl%C3%A6ring" in mail.body_text


def test_the_headers_reach_the_delivered_message(app, db, w):
    from portal.services import mail as outbox

    save(db, w.student, now=at(1))
    thesis(db, w, title="Maskinlæring i havbruk", now=at(1.5))
    run(app, at(2))
    [mail] = alert_mails(db, "student@example.no")
    msg = outbox.build_message(mail, app.config["PORTAL_SETTINGS"])
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Unsubscribe"] == mail.headers["List-Unsubscribe"]


def test_saving_refuses_unknown_filter_values(db, w):
    with pytest.raises(ValidationFailed):
        saved_searches.save(db, w.student, query="x", filters={"kind": ["spaceship"]})
    with pytest.raises(ValidationFailed):
        saved_searches.save(db, w.student, query="x", filters={"within": ["5"]})
    row = saved_searches.save(db, w.student, query="x", filters={"within": "30", "location": "Bodø"})
    assert row.filters == {"within": ["30"], "location": ["Bodø"]}


# ----------------------------------------------------------------- the unsubscribe link
def _alerted(app, db, w):
    saved = save(db, w.student, now=at(1))
    thesis(db, w, title="Maskinlæring i havbruk", now=at(1.5))
    run(app, at(2))
    [mail] = alert_mails(db, "student@example.no")
    return saved, unsubscribe_link(mail)


def test_the_link_in_the_mail_unsubscribes_without_login_and_stops_alerts(app, db, w, client):
    saved, link = _alerted(app, db, w)
    r = client.get(link)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "You are unsubscribed" in page and "Undo" in page
    stopped = reload(db, saved).unsubscribed_at
    assert stopped is not None
    assert client.get(link).status_code == 200  # again: still fine, nothing changes
    assert reload(db, saved).unsubscribed_at == stopped
    thesis(db, w, title="Maskinlæring i skogbruk", now=at(2.5))
    assert run(app, at(3))["sent"] == 0
    assert len(alert_mails(db, "student@example.no")) == 1

    # Resubscribe from the confirmation page (a form with CSRF); the next
    # alert brings what was published while alerts were off.
    assert client.post(f"{link}/resubscribe").status_code == 400  # no CSRF token
    assert reload(db, saved).unsubscribed_at is not None
    r = client.post(f"{link}/resubscribe", data={"csrf_token": csrf_token_from(page)})
    assert r.status_code == 200 and "alerts are on again" in r.get_data(as_text=True)
    assert reload(db, saved).unsubscribed_at is None
    assert run(app, at(4))["sent"] == 1
    assert titles_in(alert_mails(db, "student@example.no")[-1]) == ["Maskinlæring i skogbruk"]


def test_one_click_post_from_a_mail_client_needs_no_csrf(app, db, w, client):
    saved, link = _alerted(app, db, w)
    r = client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and "You are unsubscribed" in r.get_data(as_text=True)
    assert reload(db, saved).unsubscribed_at is not None


def test_tampered_expired_and_deleted_links_change_nothing(app, db, w, client):
    saved, link = _alerted(app, db, w)
    # A character in the middle of the signature: the last one also carries
    # padding bits, so changing it may decode to the same bytes.
    i = len(link) - 8
    tampered = link[:i] + ("A" if link[i] != "A" else "B") + link[i + 1:]
    for bad in (tampered, link[:-6], "/saved-searches/unsubscribe/not-a-token"):
        r = client.get(bad)
        assert r.status_code == 400, bad
        assert "not valid" in r.get_data(as_text=True)
        assert client.post(bad).status_code == 400
    # A payload signed by us for another purpose is not an unsubscribe link either.
    from portal.services import tokens

    other = tokens.make(app.config["PORTAL_SETTINGS"].secret_key, "reset", {"s": saved.id, "u": 1})
    assert client.get(f"/saved-searches/unsubscribe/{other}").status_code == 400

    settings = app.config["PORTAL_SETTINGS"]

    class OldSigner(TimestampSigner):
        def get_timestamp(self):
            return super().get_timestamp() - (settings.unsubscribe_token_max_age_days + 1) * 86400

    old = URLSafeTimedSerializer(settings.secret_key, salt="samspill.unsubscribe",
                                 signer=OldSigner).dumps({"s": saved.id, "u": saved.user_id})
    r = client.get(f"/saved-searches/unsubscribe/{old}")
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "This link has expired" in page and "Nothing was changed" in page
    assert client.post(f"/saved-searches/unsubscribe/{old}").status_code == 400
    assert reload(db, saved).unsubscribed_at is None

    # A fresh-enough old link still works (inside the maximum age).
    class RecentSigner(TimestampSigner):
        def get_timestamp(self):
            return super().get_timestamp() - (settings.unsubscribe_token_max_age_days - 1) * 86400

    recent = URLSafeTimedSerializer(settings.secret_key, salt="samspill.unsubscribe",
                                    signer=RecentSigner).dumps({"s": saved.id, "u": saved.user_id})
    assert client.get(f"/saved-searches/unsubscribe/{recent}").status_code == 200
    assert reload(db, saved).unsubscribed_at is not None

    saved_searches.delete(db, w.student, saved.id)
    db.commit()
    r = client.get(link)
    assert r.status_code == 404 and "no longer exists" in r.get_data(as_text=True)
    with pytest.raises(NotFound):
        saved_searches.unsubscribe_by_token(db, settings, link.rsplit("/", 1)[1])


def test_a_link_for_a_search_whose_id_now_belongs_to_someone_else_does_nothing(app, db, w):
    settings = app.config["PORTAL_SETTINGS"]
    saved = save(db, w.student, now=at(1))
    token = saved_searches.tokens.make(settings.secret_key, "unsubscribe",
                                       {"s": saved.id, "u": w.student2.id})
    with pytest.raises(NotFound):
        saved_searches.unsubscribe_by_token(db, settings, token)
    assert reload(db, saved).unsubscribed_at is None


# ----------------------------------------------------------------- the owner's page
def test_owner_turns_alerts_off_and_on_on_the_saved_searches_page(web, db):
    world = World(db)
    mine = saved_searches.save(db, world.student, query="energi", filters={}, frequency="weekly")
    db.commit()
    theirs = saved_searches.save(db, world.student2, query="vann", filters={})
    db.commit()
    web.login("student@uni.no", PASSWORD)
    page = web.get("/search/saved").get_data(as_text=True)
    assert "E-mail alerts: weekly" in page and "Turn e-mail alerts off" in page
    r = web.submit("/search/saved", {"alerts": "off"}, post_url=f"/search/saved/{mine.id}/alerts",
                   follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "E-mail alerts: off" in page and "Turn e-mail alerts on" in page
    assert reload(db, mine).unsubscribed_at is not None
    web.submit("/search/saved", {"alerts": "on"}, post_url=f"/search/saved/{mine.id}/alerts")
    assert reload(db, mine).unsubscribed_at is None
    # Someone else's search: not found, unchanged; without a CSRF token: nothing either.
    r = web.submit("/search/saved", {"alerts": "off"}, post_url=f"/search/saved/{theirs.id}/alerts")
    assert r.status_code == 404 and reload(db, theirs).unsubscribed_at is None
    assert web.client.post(f"/search/saved/{mine.id}/alerts", data={"alerts": "off"}).status_code == 400
    assert reload(db, mine).unsubscribed_at is None
    # A recorded problem is shown to the owner.
    row = db.get(SavedSearch, mine.id)
    row.last_error, row.filters = "The filters are not in the expected form.", "kind=thesis_task"
    db.commit()
    r = web.get("/search/saved")
    assert r.status_code == 200 and "could not check this search" in r.get_data(as_text=True)


def test_unsubscribe_pages_in_norwegian(app, db, w, client):
    _saved, link = _alerted(app, db, w)
    r = client.get(link, headers={"Accept-Language": "nb"})
    assert r.status_code == 200 and 'lang="nb"' in r.get_data(as_text=True)
