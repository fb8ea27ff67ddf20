"""Personal-data rights: the data export and account erasure (service, CLI and web)."""

from __future__ import annotations

import contextlib
import email
import email.policy
import io
import json
import logging
import os
import zipfile
import zlib
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import JSON, String, Text, func, select

from portal.models import (
    Application,
    AuthSession,
    Base,
    CollaborationEvent,
    LoginAttempt,
    Notification,
    OrganisationInvitation,
    OutboxMail,
    PersonKey,
    SavedSearch,
    User,
    utcnow,
)
from portal.search_sync import apply_pending
from portal.services import applications as apps
from portal.services import (
    auth_sessions,
    indicator_exports,
    mail,
    notifications,
    organisations,
    privacy,
    saved_searches,
)
from portal.services import collaborations as collabs
from portal.services import opportunities as opps
from portal.services.errors import Conflict
from tests.helpers import PASSWORD, make_user, portal_cli
from tests.matching_builders import PDF, at, thesis

NAME, EMAIL = "Stina Student", "student@example.no"
CV = PDF + f"% CV: {NAME}, {EMAIL}\n".encode()
AY25 = {"date_from": "2025-08-01", "date_to": "2026-07-31", "by": "faculty,form"}
# Inside the period exported: the withdrawal the erasure records falls in it too.
ERASED_AT = at(300)


def _settings(app):
    return app.config["PORTAL_SETTINGS"]


def _factory(app):
    return app.extensions["portal.sessionmaker"]


def build_life(app, db, w, data_dir, *, open_application=True):
    """Stina applies with a CV, is accepted, delivers her thesis (completed, with results)
    and takes part in a completed workshop; optionally she has an open application to a
    placement. Around her: saved searches, notifications, mail (some delivered as .eml),
    a login session, failed logins, an invitation, a log line, and texts naming her."""
    cv = (CV, "stina-cv.pdf", "application/pdf")
    th = thesis(db, w, now=at(0))
    case = opps.create_draft(db, w.partner, kind="industry_case", owner_org=w.org,
                             title="Case: prognoser",
                             description=f"Bygger på masteroppgaven til {NAME} ({EMAIL}).",
                             deadline=date(2025, 10, 1), now=at(2))
    opps.publish(db, w.partner, case, now=at(2))
    mine = apps.apply_as_student(db, w.student, th, f"Hei, jeg er {NAME} og vil skrive oppgaven.",
                                 cv=cv, data_dir=data_dir, now=at(1))
    other = apps.apply_as_student(db, w.student2, th, "Hei", now=at(1))
    apps.reject(db, w.partner, other, now=at(9), notify=False)
    th_collab = apps.accept(db, w.partner, mine, comment=f"Velkommen, {NAME}!", now=at(11))
    collabs.add_participant(db, w.coordinator, th_collab, w.staff, "supervisor", now=at(12))
    open_app = None
    if open_application:
        pl = opps.create_draft(db, w.partner, kind="placement", owner_org=w.org,
                               title="Sommerpraksis", description="Seks uker.", places=2,
                               deadline=date(2025, 10, 1), now=at(3))
        opps.publish(db, w.partner, pl, now=at(3))
        open_app = apps.apply_as_student(db, w.student, pl, "Sommerjobb?",
                                         cv=(CV, "cv2.pdf", "application/pdf"),
                                         data_dir=data_dir, now=at(5))
    workshop = collabs.record_direct(
        db, w.staff, title="Workshop om havbruk", partners=[w.org2], form="workshop",
        unit=w.idi, start_date=date(2025, 9, 20), participants=[(w.student, "student")],
        participants_count=12, now=at(30))
    collabs.record_impact_story(db, w.staff, workshop, f"{NAME} ledet workshopen.", now=at(35))
    collabs.record_result(db, w.student, th_collab, type="thesis_delivered", title="Oppgaven",
                          link="https://ntnuopen.ntnu.no/handle/11250/1", now=at(200))
    collabs.complete(db, w.partner, th_collab, now=at(201))
    collabs.record_result(db, w.partner, th_collab, type="student_recruited",
                          description=f"Vi ansatte {NAME} etter oppgaven.", now=at(210))
    organisations.update_organisation(db, w.coordinator, w.org2,
                                      description=f"Kontaktperson for studenter: {NAME}.",
                                      now=at(212))
    saved_searches.save(db, w.student, query="maskinlæring", filters={"kind": ["thesis_task"]},
                        now=at(3))
    notifications.notify(db, w.partner, "application_received",
                         params={"title": f"oppgaven ({NAME})"}, now=at(1))
    mail.enqueue(db, to=w.partner.email, subject=f"Ny søknad fra {NAME}",
                 text=f"{NAME} <{EMAIL}> har søkt på oppgaven din.\n", now=at(1))
    db.add(LoginAttempt(email=EMAIL, remote_addr="10.0.0.1", attempted_at=at(3)))
    db.add(OrganisationInvitation(organisation_id=w.org.id, email=EMAIL, created_at=at(3)))
    auth_sessions.start_session(db, w.student, remember=False, days=14, now=at(3))
    db.commit()
    counts = mail.deliver_pending(_factory(app), _settings(app), now=at(220))
    assert counts["sent"] >= 2
    mail.enqueue(db, to=EMAIL, subject="Påminnelse", text=f"Hei {NAME}!\n", now=at(230))
    db.commit()
    logging.getLogger("portal.test").warning("failed login for %s (%s)", EMAIL, NAME)
    apply_pending(app)
    return {"thesis": th_collab, "workshop": workshop, "open": open_app, "case": case}


# ------------------------------------------------------------------ helpers
def _text_values(db):
    """Every text and JSON value of every table (also the event log), as strings."""
    for table in Base.metadata.sorted_tables:
        cols = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        if not cols:
            continue
        for row in db.execute(select(*cols)).all():
            for col, value in zip(cols, row, strict=True):
                if value is None:
                    continue
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                yield f"{table.name}.{col.name}", text


def _found_in_db(db) -> list[str]:
    db.rollback()
    needles = (NAME.lower(), EMAIL.lower())
    return [where for where, text in _text_values(db)
            if any(n in text.lower() for n in needles)]


def _inflated(raw: bytes) -> list[bytes]:
    """``raw`` and every zlib stream inside it (Whoosh compresses stored fields)."""
    out = [raw]
    for i in range(len(raw) - 1):
        if raw[i] == 0x78 and raw[i + 1] in (0x01, 0x5E, 0x9C, 0xDA):
            with contextlib.suppress(zlib.error):
                out.append(zlib.decompressobj().decompress(raw[i:], 1 << 22))
    return out


def _found_in_files(root: Path) -> list[str]:
    """Files under ``root`` holding her name or address (as bytes, also compressed)."""
    hits = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        texts = [b.decode("utf-8", "replace").lower() for b in _inflated(raw)]
        if any(NAME.lower() in t or EMAIL in t for t in texts):
            hits.append(str(path.relative_to(root)))
        elif path.suffix == ".eml":
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            decoded = " ".join([str(v) for v in msg.values()] + [
                p.get_content() for p in msg.walk() if p.get_content_maintype() == "text"])
            if NAME.lower() in decoded.lower() or EMAIL in decoded.lower():
                hits.append(f"{path.relative_to(root)} (decoded)")
    return hits


def _exports(db, **extra):
    db.rollback()
    out = {}
    for fmt in ("json", "csv"):
        _result, out[fmt] = indicator_exports.export(db, **AY25, fmt=fmt, **extra)
    _result, out["detail"] = indicator_exports.export(db, **AY25, fmt="csv", detailed=True,
                                                      **extra)
    db.rollback()
    return out


def _json_without(content: bytes, *keys: str) -> dict:
    doc = json.loads(content)
    for k in keys:
        doc["meta"].pop(k)
    return doc


def _last_event_id(db) -> int:
    db.rollback()
    return db.execute(select(func.max(CollaborationEvent.id))).scalar_one()


# ------------------------------------------------------------------ export
def test_export_has_every_section_and_the_cv(app, db, w, data_dir):
    life = build_life(app, db, w, data_dir)
    db.rollback()
    student = db.get(User, w.student.id)
    content = privacy.export_account(db, student, _settings(app))
    zf = zipfile.ZipFile(io.BytesIO(content))
    data = json.loads(zf.read("data.json"))
    for section in ("account", "roles", "student_profile", "organisations", "academic_units",
                    "courses_led", "organisation_invitations", "applications", "eit_wishes",
                    "opportunities", "collaborations", "saved_searches", "notifications",
                    "consents", "emails", "login_sessions", "failed_logins", "activity_log",
                    "files"):
        assert section in data, section
    assert data["account"]["email"] == EMAIL and data["account"]["display_name"] == NAME
    assert [r["role"] for r in data["roles"]] == ["student"]
    assert data["student_profile"]["programme"] == "MTDT"
    assert data["student_profile"]["unit"]["code"] == "IE-IDI"
    by_status = {a["status"]: a for a in data["applications"]}
    assert set(by_status) == {"accepted", "submitted"}
    assert NAME in by_status["accepted"]["motivation"]
    assert by_status["accepted"]["decision_comment"] == f"Velkommen, {NAME}!"
    cv_files = sorted(n for n in zf.namelist() if n.startswith("files/cv/"))
    assert len(cv_files) == 2 and sorted(data["files"]) == cv_files
    assert by_status["accepted"]["cv"]["file"] in cv_files
    assert all(zf.read(n) == CV for n in cv_files)
    collab = {c["id"]: c for c in data["collaborations"]}
    thesis_c = collab[life["thesis"].id]
    assert thesis_c["status"] == "completed" and thesis_c["your_roles"] == ["student"]
    assert {r["type"] for r in thesis_c["results"]} == {"thesis_delivered", "student_recruited"}
    assert collab[life["workshop"].id]["impact_story"] == f"{NAME} ledet workshopen."
    assert data["saved_searches"][0]["query"] == "maskinlæring"
    assert {n["kind"] for n in data["notifications"]} == {"application_accepted"}
    assert all(n["text"] for n in data["notifications"])
    assert {m["subject"] for m in data["emails"]} >= {"Påminnelse"}
    assert len(data["emails"]) == 2  # the acceptance (sent) and the reminder (pending)
    assert data["login_sessions"] and set(data["login_sessions"][0]) == {
        "created_at", "expires_at", "remember"}
    assert data["failed_logins"][0]["remote_addr"] == "10.0.0.1"
    assert data["organisation_invitations"][0]["organisation"]["name"] == w.org.name
    assert data["consents"]["profile_visible_to_partners"] is False
    assert {e["type"] for e in data["activity_log"]} >= {"application_submitted",
                                                         "result_recorded"}
    raw = zf.read("data.json").decode()
    for secret in ("token_hash", "password_hash", "pbkdf2", "scrypt"):
        assert secret not in raw
    key = db.execute(select(PersonKey.key).where(PersonKey.user_id == student.id)).scalar_one()
    assert key not in raw


# ------------------------------------------------------------------ erasure
def test_erasure_leaves_no_trace_and_keeps_the_indicators(app, db, w, data_dir, database_url):
    life = build_life(app, db, w, data_dir)
    if database_url.startswith("sqlite"):
        assert _found_in_files(Path(database_url.removeprefix("sqlite:///")).parent)
    assert len(list((data_dir / "uploads" / "cv").iterdir())) == 2
    # The test's probes find her before the erasure (so finding nothing later means something).
    assert _found_in_db(db)
    before_files = _found_in_files(data_dir)
    for part in ("uploads/cv", "mail/", "logs/portal.log", "search-index/"):
        assert any(h.startswith(part) for h in before_files), (part, before_files)
    before = _exports(db)
    last_before = _last_event_id(db)
    as_of_before = _exports(db, as_of=last_before)
    events_before = db.execute(select(func.count()).select_from(CollaborationEvent)).scalar_one()
    user_id, open_id = w.student.id, life["open"].id
    db.rollback()

    result = privacy.erase_account(_factory(app), _settings(app), user_id, now=ERASED_AT)
    assert result["erased"] == 1 and result["withdrawn"] == 1
    assert result["files_deleted"] == 2 and result["eml_deleted"] >= 1
    assert result["eml_scrubbed"] >= 1 and result["log_files_scrubbed"] == 1
    assert result["search_applied"] == 1

    db.rollback()
    # The open application is withdrawn through the service, with its event.
    assert db.get(Application, open_id).status == "withdrawn"
    withdrawn = db.execute(select(CollaborationEvent).where(
        CollaborationEvent.type == "application_withdrawn",
        CollaborationEvent.application_id == open_id)).scalar_one()
    assert withdrawn.occurred_at == ERASED_AT and withdrawn.subject_key is not None
    assert db.execute(select(func.count()).select_from(CollaborationEvent)).scalar_one() == \
        events_before + 1
    # The key is severed: events keep it, nothing maps it to anyone.
    assert db.execute(select(PersonKey).where(PersonKey.user_id == user_id)).first() is None
    assert db.get(PersonKey, withdrawn.subject_key) is None

    user = db.get(User, user_id)
    assert user.email == f"erased-{user_id}@invalid" and user.display_name == "Erased user"
    assert user.password_hash is None and not user.is_active and user.erased_at == ERASED_AT
    assert user.roles == []
    for model, column in ((AuthSession, AuthSession.user_id), (SavedSearch, SavedSearch.user_id),
                          (Notification, Notification.user_id)):
        assert db.execute(select(func.count()).select_from(model).where(
            column == user_id)).scalar_one() == 0
    assert db.execute(select(func.count()).select_from(LoginAttempt)).scalar_one() == 0
    assert db.execute(select(func.count()).select_from(OrganisationInvitation)).scalar_one() == 0
    # Her participation stays (the counts need it), under the pseudonymised account.
    assert any(p.user_id == user_id for p in life["thesis"].participants)

    # Found nowhere: database (every text/JSON column of every table), index, files.
    assert _found_in_db(db) == []
    assert _found_in_files(data_dir) == []
    assert list((data_dir / "uploads" / "cv").iterdir()) == []
    if database_url.startswith("sqlite"):
        # Not even in the embedded database's free pages or write-ahead log.
        db.rollback()
        assert _found_in_files(Path(database_url.removeprefix("sqlite:///")).parent) == []
    log_text = (data_dir / "logs" / "portal.log").read_text()
    assert "[erased]" in log_text and f"account {user_id} erased (reason: request)" in log_text
    partner_mail = [p for p in (data_dir / "mail").iterdir()
                    if b"Ny s" in p.read_bytes() or b"Ny_s" in p.read_bytes()]
    assert partner_mail, "the partner's delivered mail is kept, scrubbed"

    # The search still finds the case, not her.
    from search_index.query import search

    ix = data_dir / "search-index"
    hits = search(ix, "prognoser", per_page=10, facets=False, today=date(2025, 9, 5)).hits
    assert [h.id for h in hits] == [life["case"].id]
    assert "[erased]" in hits[0].snippet
    assert search(ix, "Stina", per_page=10, facets=False, today=date(2025, 9, 5)).total == 0

    # The indicators: every count the same. The withdrawal is one new event (no indicator
    # counts withdrawals), so only the newest event id moves besides generated_at.
    after = _exports(db)
    assert after["csv"] == before["csv"] and after["detail"] == before["detail"]
    assert _json_without(after["json"], "generated_at", "last_event_id") == \
        _json_without(before["json"], "generated_at", "last_event_id")
    assert json.loads(after["json"])["meta"]["last_event_id"] == last_before + 1
    # An export taken before the erasure is reproduced exactly after it.
    again = _exports(db, as_of=last_before)
    assert again["csv"] == as_of_before["csv"] and again["detail"] == as_of_before["detail"]
    assert _json_without(again["json"], "generated_at") == \
        _json_without(as_of_before["json"], "generated_at")

    # Erasing again does nothing.
    assert privacy.erase_account(_factory(app), _settings(app), user_id,
                                 now=at(500)) == {"erased": 0}
    assert _last_event_id(db) == last_before + 1


def test_indicator_exports_are_identical_after_erasing_a_student_of_completed_collaborations(
        app, db, w, data_dir):
    build_life(app, db, w, data_dir, open_application=False)
    before = _exports(db)
    as_of = _last_event_id(db)
    result = privacy.erase_account(_factory(app), _settings(app), w.student.id, now=ERASED_AT)
    assert result["erased"] == 1 and result["withdrawn"] == 0
    after = _exports(db)
    assert after["csv"] == before["csv"] and after["detail"] == before["detail"]
    assert _json_without(after["json"], "generated_at") == \
        _json_without(before["json"], "generated_at")
    assert _exports(db, as_of=as_of)["csv"] == before["csv"]


def test_the_last_active_admin_is_not_erased(app, db):
    admin = make_user(db, email="admin@uni.no", roles=("admin",), name="Ada Admin")
    with pytest.raises(Conflict):
        privacy.erase_account(_factory(app), _settings(app), admin.id)
    db.rollback()
    assert db.get(User, admin.id).erased_at is None
    other = make_user(db, email="admin2@uni.no", roles=("admin",), name="Adam Admin")
    assert privacy.erase_account(_factory(app), _settings(app), admin.id)["erased"] == 1
    with pytest.raises(Conflict):
        privacy.erase_account(_factory(app), _settings(app), other.id)


def test_scrubbing_respects_word_boundaries(app, db):
    """Another person whose address or name merely contains hers is left alone."""
    ann = make_user(db, email="ann@x.no", roles=("student",), name="Anna Berg")
    make_user(db, email="joann@x.no", roles=("student",), name="Anna Bergstrøm")
    mail.enqueue(db, to="joann@x.no", subject="Hei",
                 text="Anna Bergstrøm (joann@x.no) og Anna Berg (ann@x.no.).\n")
    mail.enqueue(db, to="joann@x.no", subject="Hilsen", text="Hilsen fra ANNA\n  berg\n")
    db.commit()
    privacy.erase_account(_factory(app), _settings(app), ann.id)
    db.rollback()
    bodies = db.execute(select(OutboxMail.body_text).order_by(OutboxMail.id)).scalars().all()
    assert bodies == ["Anna Bergstrøm (joann@x.no) og [erased] ([erased].).\n",
                      "Hilsen fra [erased]\n"]
    assert db.execute(select(User.display_name).where(User.email == "joann@x.no")) \
        .scalar_one() == "Anna Bergstrøm"


# ------------------------------------------------------------------------ CLI
@pytest.fixture
def run(tmp_path, database_url, data_dir):
    return portal_cli(tmp_path, database_url, data_dir)


def test_cli_export_and_erase(app, db, run, tmp_path):
    person = make_user(db, email="kari@example.no", name="Kari Nordmann")
    user_id = person.id
    db.close()

    r = run("privacy", "export", "--email", "nobody@example.no", "--out", str(tmp_path / "x.zip"))
    assert r.returncode != 0 and "no account with e-mail nobody@example.no" in r.stderr
    assert r.stderr.strip().count("\n") == 0 and not (tmp_path / "x.zip").exists()

    r = run("privacy", "export", "--email", "KARI@example.no", "--out", str(tmp_path / "k.zip"))
    assert r.returncode == 0, r.stderr
    data = json.loads(zipfile.ZipFile(tmp_path / "k.zip").read("data.json"))
    assert data["account"]["email"] == "kari@example.no"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".export-")] == []

    r = run("privacy", "erase", "--email", "nobody@example.no", "--yes")
    assert r.returncode != 0 and r.stderr.strip().count("\n") == 0
    assert "no account with e-mail" in r.stderr

    r = run("privacy", "erase", "--email", "kari@example.no", input="n\n")
    assert r.returncode != 0 and "nothing was erased" in r.stderr
    assert "Erase the account" in r.stdout
    assert db.get(User, user_id).erased_at is None
    db.close()

    r = run("privacy", "erase", "--email", "kari@example.no", "--yes")
    assert r.returncode == 0, r.stderr
    assert f"erased account {user_id}" in r.stdout
    db.rollback()
    assert db.get(User, user_id).erased_at is not None
    r = run("privacy", "erase", "--email", "kari@example.no", "--yes")
    assert r.returncode != 0 and "no account with e-mail" in r.stderr


# ------------------------------------------------------------------------ web
def test_download_my_data_from_the_profile_page(web, db):
    make_user(db, email="kari@example.no", name="Kari Nordmann")
    web.login("kari@example.no", PASSWORD)
    page = web.get("/profile").get_data(as_text=True)
    assert "Download my data" in page and "Erase my account" in page
    r = web.submit("/profile", {}, post_url="/profile/data")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.headers["Cache-Control"] == "no-store"
    data = json.loads(zipfile.ZipFile(io.BytesIO(r.data)).read("data.json"))
    assert data["account"]["display_name"] == "Kari Nordmann"
    assert data["login_sessions"]  # this very session
    # Without the CSRF token: refused.
    assert web.client.post("/profile/data").status_code == 400


def test_erase_my_account_on_the_web(web, db):
    person = make_user(db, email="kari@example.no", name="Kari Nordmann")
    user_id = person.id
    web.login("kari@example.no", PASSWORD)
    page = web.get("/profile/erase").get_data(as_text=True)
    assert 'type="password"' in page and "cannot be undone" in page

    r = web.submit("/profile/erase", {"password": "not-my-password"})
    assert r.status_code == 400 and "That is not your password" in r.get_data(as_text=True)
    db.rollback()
    assert db.get(User, user_id).erased_at is None
    r = web.submit("/profile/erase", {"password": ""})
    assert r.status_code == 400
    assert web.client.post("/profile/erase", data={"password": PASSWORD}).status_code == 400

    r = web.submit("/profile/erase", {"password": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"].endswith("/")
    assert "Your account has been erased" in web.get("/").get_data(as_text=True)
    db.rollback()
    erased = db.get(User, user_id)
    assert erased.erased_at is not None and erased.email == f"erased-{user_id}@invalid"
    # Logged out, and the old address no longer logs in.
    assert web.get("/profile").status_code == 302
    r = web.login("kari@example.no", PASSWORD)
    assert r.status_code == 400 and "Wrong e-mail address or password" in r.get_data(as_text=True)


def test_the_last_admin_cannot_erase_their_account_on_the_web(web, db):
    admin = make_user(db, email="admin@uni.no", roles=("admin",), name="Ada Admin")
    web.login("admin@uni.no", PASSWORD)
    r = web.submit("/profile/erase", {"password": PASSWORD})
    assert r.status_code == 409 and "last administrator" in r.get_data(as_text=True)
    db.rollback()
    again = db.get(User, admin.id)
    assert again.erased_at is None and again.has_role("admin")
    assert web.get("/profile").status_code == 200  # still logged in


def test_an_account_without_a_password_confirms_with_the_word(web, db):
    person = make_user(db, email="kari@example.no", name="Kari Nordmann")
    user_id = person.id
    web.login("kari@example.no", PASSWORD)
    db.get(User, user_id).password_hash = None  # e.g. an account made without one
    db.commit()
    page = web.get("/profile/erase").get_data(as_text=True)
    assert 'type="password"' not in page and "Type ERASE to confirm" in page
    r = web.submit("/profile/erase", {"confirm_word": "erase it"})
    assert r.status_code == 400 and "Type the word ERASE" in r.get_data(as_text=True)
    db.rollback()
    assert db.get(User, user_id).erased_at is None
    r = web.submit("/profile/erase", {"confirm_word": " ERASE "})
    assert r.status_code == 302
    db.rollback()
    assert db.get(User, user_id).erased_at is not None


def test_the_retention_sweep_removes_only_old_uploads_no_application_refers_to(app, db, w,
                                                                                data_dir):
    import time

    from portal.services.applications import CV_SUBDIR

    th = thesis(db, w, now=at(0))
    kept = apps.apply_as_student(db, w.student, th, "Hei", cv=(CV, "cv.pdf", "application/pdf"),
                                 data_dir=data_dir, now=at(1))
    db.commit()
    base = data_dir / CV_SUBDIR
    referenced = base / kept.cv_stored_name
    orphan = base / "left-by-a-crash.pdf"
    young = base / "being-uploaded-now.pdf"
    for path in (orphan, young):
        path.write_bytes(CV)
    two_hours_ago = time.time() - 7200
    for path in (orphan, referenced):
        os.utime(path, (two_hours_ago, two_hours_ago))

    assert privacy.sweep_orphan_uploads(_factory(app), _settings(app), utcnow()) == 1
    assert not orphan.exists() and referenced.exists() and young.exists()
    assert privacy.sweep_orphan_uploads(_factory(app), _settings(app), utcnow()) == 0
