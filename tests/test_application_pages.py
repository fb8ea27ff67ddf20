from __future__ import annotations

import io
from datetime import date, timedelta

from sqlalchemy import select

from portal.models import Application, Collaboration, CollaborationEvent, Opportunity
from portal.services import opportunities
from tests.helpers import PASSWORD, World, count

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _published_placement(db, world, places=2):
    opp = opportunities.create_draft(
        db, world.partner, kind="placement", owner_org=world.org, title="Sommerpraksis i analyse",
        description="Praksis hos oss.", language="nb", levels=["master"], places=places,
        deadline=date.today() + timedelta(days=30), period_start=date.today() + timedelta(days=60),
        period_end=date.today() + timedelta(days=120), extent_weeks=8, supervised_on_site=True)
    opportunities.publish(db, world.partner, opp)
    db.commit()
    return opp


def _apply(web, opp, email, cv=None):
    web.logout()
    web.login(email, PASSWORD)
    data = {"motivation": "Jeg vil gjerne lære."}
    if cv is not None:
        data["cv"] = cv
    return web.submit(f"/opportunities/{opp.id}/apply", data,
                      content_type="multipart/form-data")


def test_apply_with_pdf_cv_and_owner_downloads_it(web, db):
    world = World(db)
    opp = _published_placement(db, world)
    r = _apply(web, opp, "student@uni.no", (io.BytesIO(PDF), "min cv.pdf", "application/pdf"))
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    application = db.execute(select(Application)).scalar_one()
    assert application.cv_original_name == "min cv.pdf"
    # The applicant and the owner may download it; nobody else.
    own = web.get(f"/applications/{application.id}/cv")
    assert own.status_code == 200 and own.data.startswith(b"%PDF")
    assert "attachment" in own.headers["Content-Disposition"]
    web.logout()
    web.login("student2@uni.no", PASSWORD)
    assert web.get(f"/applications/{application.id}/cv").status_code == 404
    web.logout()
    web.login("outsider@firma.no", PASSWORD)
    assert web.get(f"/applications/{application.id}/cv").status_code == 404
    web.logout()
    web.login("partner@firma.no", PASSWORD)
    assert web.get(f"/applications/{application.id}/cv").status_code == 200
    assert "Stina Student" in web.get(f"/opportunities/{opp.id}/applicants").get_data(as_text=True)


def test_bad_cv_and_duplicate_application_are_refused_without_trace(web, db, app):
    world = World(db)
    opp = _published_placement(db, world)
    events_before = count(db, CollaborationEvent)
    r = _apply(web, opp, "student@uni.no", (io.BytesIO(b"MZ not a pdf"), "cv.pdf", "application/pdf"))
    assert r.status_code == 400 and "must be a PDF" in r.get_data(as_text=True)
    big = io.BytesIO(b"%PDF-" + b"0" * (app.config["PORTAL_SETTINGS"].max_upload_bytes + 10))
    r = _apply(web, opp, "student@uni.no", (big, "cv.pdf", "application/pdf"))
    assert r.status_code in (400, 413)
    assert count(db, Application) == 0 and count(db, CollaborationEvent) == events_before
    cv_dir = app.config["PORTAL_SETTINGS"].data_dir / "uploads" / "cv"
    assert not cv_dir.exists() or not any(cv_dir.iterdir())
    assert _apply(web, opp, "student@uni.no").status_code == 302
    r = _apply(web, opp, "student@uni.no")
    assert r.status_code == 400 and "already applied" in r.get_data(as_text=True)
    assert count(db, Application) == 1


def test_placement_with_two_places_and_three_applicants(web, db):
    world = World(db)
    third = __import__("tests.helpers", fromlist=["make_user"]).make_user(
        db, email="student3@uni.no", roles=("student",), name="Tore Tredje", locale="en")
    assert third
    opp = _published_placement(db, world, places=2)
    for email in ("student@uni.no", "student2@uni.no", "student3@uni.no"):
        assert _apply(web, opp, email).status_code == 302
    ids = db.execute(select(Application.id).order_by(Application.id)).scalars().all()
    web.logout()
    web.login("partner@firma.no", PASSWORD)
    page = f"/opportunities/{opp.id}/applicants"
    assert web.submit(page, {"comment": "Velkommen!"}, post_url=f"/applications/{ids[0]}/accept").status_code == 302
    assert web.submit(page, {}, post_url=f"/applications/{ids[1]}/shortlist").status_code == 302
    assert web.submit(page, {}, post_url=f"/applications/{ids[1]}/accept").status_code == 302
    # The opportunity is now full and closed itself; a third acceptance is refused.
    r = web.submit(page, {}, post_url=f"/applications/{ids[2]}/accept", follow_redirects=True)
    assert "All places are filled" in r.get_data(as_text=True) or "not taking" in r.get_data(as_text=True)
    db.rollback()
    assert db.get(Opportunity, opp.id).filled == 2
    assert db.get(Opportunity, opp.id).status == "closed"
    assert count(db, Collaboration) >= 1
    statuses = dict(db.execute(select(Application.id, Application.status)).all())
    assert [statuses[i] for i in ids] == ["accepted", "accepted", "submitted"]
    r = web.submit(page, {"comment": "Dessverre fullt."}, post_url=f"/applications/{ids[2]}/reject")
    assert r.status_code == 302


def test_only_owners_decide_and_only_applicants_withdraw(web, db):
    world = World(db)
    opp = _published_placement(db, world)
    _apply(web, opp, "student@uni.no")
    application = db.execute(select(Application)).scalar_one()
    web.logout()
    web.login("outsider@firma.no", PASSWORD)
    assert web.get(f"/opportunities/{opp.id}/applicants").status_code == 403
    r = web.submit("/opportunities", {}, post_url=f"/applications/{application.id}/accept")
    assert r.status_code == 404
    web.logout()
    web.login("student2@uni.no", PASSWORD)
    r = web.submit("/applications", {}, post_url=f"/applications/{application.id}/withdraw")
    assert r.status_code == 404
    web.logout()
    web.login("student@uni.no", PASSWORD)
    r = web.submit("/applications", {}, post_url=f"/applications/{application.id}/withdraw")
    assert r.status_code == 302
    db.rollback()
    assert db.get(Application, application.id).status == "withdrawn"


def test_apply_after_deadline_is_refused(web, db):
    world = World(db)
    opp = _published_placement(db, world)
    # The deadline passes (set directly: services refuse a past deadline on publish).
    db.get(Opportunity, opp.id).deadline = date.today() - timedelta(days=1)
    db.commit()
    r = _apply(web, opp, "student@uni.no")
    assert r.status_code == 400 and "deadline" in r.get_data(as_text=True).lower()
    assert count(db, Application) == 0
