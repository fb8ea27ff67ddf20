"""Organisations: registration, verification, members and invitations (services and web)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.models import (
    CollaborationEvent,
    Organisation,
    OrganisationInvitation,
    OrganisationMembership,
    utcnow,
)
from portal.services import organisations
from portal.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.conftest import Browserless, csrf_token_from
from tests.helpers import PASSWORD, count, last_mail_to, link_in, make_user

SECRET = "test-secret-key-not-for-production"  # the app's, as in conftest
LINK = "http://localhost/invitations/"


def _link(token: str) -> str:
    return LINK + token


def _details(**overrides):
    data = {"name": "Equinor ASA", "org_number": "923 609 016", "sector": "private",
            "size_class": "large", "nace_code": "06.100", "municipality": "Stavanger",
            "country": "NO", "website": "equinor.com", "description": "Energy.",
            "public_enterprise": True}
    data.update(overrides)
    return data


@pytest.fixture
def ctx(app):
    """Services that send e-mail render templates: they run inside the app (as views do).

    Only for service tests: a request made inside it would share its ``g``.
    """
    with app.app_context():
        yield


@pytest.fixture
def people(db):
    return {
        "partner": make_user(db, email="kari@equinor.example", name="Kari Partner",
                             roles=(), locale="en"),
        "colleague": make_user(db, email="per@equinor.example", name="Per Colleague",
                               roles=(), locale="en"),
        "student": make_user(db, email="stud@stud.example.no", name="Siri Student",
                             locale="en"),
        "coordinator": make_user(db, email="coord@ntnu.example.no", name="Cora Coordinator",
                                 roles=("staff", "coordinator"), locale="en"),
        "admin": make_user(db, email="admin@ntnu.example.no", name="Ada Admin",
                           roles=("admin",), locale="en"),
    }


def _register(db, actor, **overrides):
    org = organisations.register_organisation(db, actor, **_details(**overrides))
    db.commit()
    return org


def _events(db, type_):
    db.expire_all()
    return db.execute(select(CollaborationEvent).where(CollaborationEvent.type == type_)
                      ).scalars().all()


# ----------------------------------------------------------------- registration (service)


def test_registering_makes_the_creator_admin_member_and_partner(db, people):
    kari = people["partner"]
    org = _register(db, kari)
    assert org.org_number == "923609016"
    assert org.website == "https://equinor.com"
    assert org.nace_code == "06.100" and org.nace_section == "B"
    assert org.verified is False and org.verified_at is None
    member = organisations.membership(db, kari, org)
    assert member is not None and member.role == "admin"
    assert "partner" in kari.role_names
    assert [o.id for o in organisations.verification_queue(db)] == [org.id]
    [event] = _events(db, "organisation_registered")
    assert event.organisation_id == org.id and event.partner_sector == "private"
    assert event.partner_size == "large" and event.partner_country == "NO"


def test_wrong_check_digit_is_a_field_error_and_nothing_is_written(db, people):
    with pytest.raises(ValidationFailed) as exc:
        organisations.register_organisation(db, people["partner"],
                                            **_details(org_number="923609017"))
    db.rollback()
    assert "check digit" in str(exc.value.errors["org_number"][0])
    assert count(db, Organisation) == 0
    assert count(db, OrganisationMembership) == 0


def test_duplicate_org_number_is_refused_whatever_the_spelling(db, people):
    _register(db, people["partner"])
    with pytest.raises(ValidationFailed) as exc:
        organisations.register_organisation(
            db, people["colleague"], **_details(name="Equinor again",
                                                org_number="NO 923 609 016 MVA"))
    db.rollback()
    assert "already registered" in str(exc.value.errors["org_number"][0])
    assert count(db, Organisation) == 1


def test_norwegian_organisations_need_a_number_foreign_ones_do_not(db, people):
    with pytest.raises(ValidationFailed) as exc:
        organisations.register_organisation(db, people["partner"], **_details(org_number=""))
    assert "org_number" in exc.value.errors
    db.rollback()
    foreign = _register(db, people["partner"], name="Chalmers", org_number="", country="se",
                        sector="higher_education", website="")
    assert foreign.org_number is None and foreign.country == "SE" and foreign.website is None
    # A foreign organisation may give a (Norwegian) number, but a wrong one is still wrong.
    with pytest.raises(ValidationFailed) as exc:
        organisations.register_organisation(db, people["partner"],
                                            **_details(country="DK", org_number="123456789"))
    assert "org_number" in exc.value.errors


def test_every_bad_field_is_reported_at_once(db, people):
    with pytest.raises(ValidationFailed) as exc:
        organisations.register_organisation(
            db, people["partner"],
            **_details(name=" ", sector="pirates", size_class="huge", nace_code="99.x",
                       country="XX", website="javascript:alert(1)"))
    assert set(exc.value.errors) >= {"name", "sector", "size_class", "nace_code", "country",
                                     "website"}


def test_nace_code_without_dot_is_normalised(db, people):
    org = _register(db, people["partner"], nace_code="6201")
    assert org.nace_code == "62.01" and org.nace_section == "J"


# ----------------------------------------------------------------- verification (service)


def test_only_coordinators_and_admins_verify(db, people, ctx):
    org = _register(db, people["partner"])
    for who in ("student", "partner", "colleague"):
        with pytest.raises(PermissionDenied):
            organisations.verify(db, people[who], org)
        with pytest.raises(PermissionDenied):
            organisations.verification_queue(db, people[who])
    assert organisations.verification_queue(db, people["admin"])
    organisations.verify(db, people["coordinator"], org)
    db.commit()
    assert org.verified and org.verified_by_id == people["coordinator"].id
    assert org.verified_at is not None
    assert organisations.verification_queue(db) == []
    mail = last_mail_to(db, "kari@equinor.example")
    assert mail is not None and "Equinor ASA" in mail.subject and "verified" in mail.subject
    [event] = _events(db, "organisation_verified")
    assert event.organisation_id == org.id
    with pytest.raises(Conflict):
        organisations.verify(db, people["admin"], org)


def test_rejecting_needs_a_reason_and_tells_the_admins(db, people, ctx):
    org = _register(db, people["partner"])
    with pytest.raises(ValidationFailed):
        organisations.reject(db, people["coordinator"], org, "  ")
    with pytest.raises(PermissionDenied):
        organisations.reject(db, people["student"], org, "no")
    organisations.reject(db, people["coordinator"], org, "The number belongs to another company.")
    db.commit()
    assert not org.verified and org.rejected_reason
    assert organisations.verification_queue(db) == []
    mail = last_mail_to(db, "kari@equinor.example")
    assert "belongs to another company" in mail.body_text
    # Correcting the details sends it back to the queue.
    organisations.update_organisation(db, people["partner"], org, name="Equinor Energy AS")
    db.commit()
    assert org.rejected_reason is None
    assert [o.id for o in organisations.verification_queue(db)] == [org.id]


def test_changing_identity_of_a_verified_organisation_needs_verification_again(db, people, ctx):
    org = _register(db, people["partner"])
    organisations.verify(db, people["coordinator"], org)
    organisations.update_organisation(db, people["partner"], org, description="New text.")
    assert org.verified  # a description is not what the coordinator checked
    organisations.update_organisation(db, people["partner"], org, org_number="974760673")
    db.commit()
    assert not org.verified and org.org_number == "974760673"


def test_only_org_admins_change_details(db, people, ctx):
    org = _register(db, people["partner"])
    organisations.add_member(db, org, people["colleague"])
    with pytest.raises(PermissionDenied):
        organisations.update_organisation(db, people["colleague"], org, name="Mine now")
    with pytest.raises(PermissionDenied):
        organisations.update_organisation(db, people["student"], org, name="Mine now")
    other = _register(db, people["colleague"], name="Other", org_number="974760673")
    with pytest.raises(ValidationFailed):
        organisations.update_organisation(db, people["colleague"], other,
                                          org_number="923609016")


# ----------------------------------------------------------------- members and invitations


def test_members_are_visible_to_members_and_coordinators_only(db, people):
    org = _register(db, people["partner"])
    assert [m.user.email for m in organisations.list_members(db, people["partner"], org)] == [
        "kari@equinor.example"]
    assert organisations.list_members(db, people["coordinator"], org)
    with pytest.raises(PermissionDenied):
        organisations.list_members(db, people["student"], org)


def test_unverified_organisations_are_hidden_from_outsiders(db, people, ctx):
    org = _register(db, people["partner"])
    with pytest.raises(NotFound):
        organisations.organisation_page(db, people["student"], org.id)
    with pytest.raises(NotFound):
        organisations.organisation_page(db, None, org.id)
    page = organisations.organisation_page(db, people["partner"], org.id)
    assert page.can_invite and page.can_edit and page.members is not None
    organisations.verify(db, people["coordinator"], org)
    page = organisations.organisation_page(db, people["student"], org.id)
    assert page.members is None and not page.can_invite and not page.can_edit


def _invite(db, people, org, email="per@equinor.example", now=None):
    invitation = organisations.invite_colleague(db, people["partner"], org, email,
                                                secret_key=SECRET, link_for=_link, now=now)
    db.commit()
    mail = last_mail_to(db, invitation.email)
    return invitation, link_in(mail, LINK)[len(LINK):]


def test_invitation_makes_the_invited_colleague_a_member(db, people, ctx):
    org = _register(db, people["partner"])
    invitation, token = _invite(db, people, org, "Per@Equinor.example")
    assert invitation.email == "per@equinor.example"
    mail = last_mail_to(db, "per@equinor.example")
    assert "Kari Partner" in mail.body_text and "Equinor ASA" in mail.subject
    per = people["colleague"]
    assert organisations.accept_invitation(db, per, token, secret_key=SECRET) == org
    db.commit()
    assert organisations.membership(db, per, org).role == "member"
    assert "partner" in per.role_names
    assert invitation.accepted_at is not None
    # Used once.
    with pytest.raises(ValidationFailed, match="already been used"):
        organisations.accept_invitation(db, per, token, secret_key=SECRET)


def test_only_members_invite(db, people, ctx):
    org = _register(db, people["partner"])
    for who in ("student", "colleague", "coordinator"):
        with pytest.raises(PermissionDenied):
            organisations.invite_colleague(db, people[who], org, "x@example.no",
                                           secret_key=SECRET, link_for=_link)
    db.rollback()
    assert count(db, OrganisationInvitation) == 0
    with pytest.raises(ValidationFailed):
        organisations.invite_colleague(db, people["partner"], org, "not an address",
                                       secret_key=SECRET, link_for=_link)
    with pytest.raises(ValidationFailed, match="already a member"):
        organisations.invite_colleague(db, people["partner"], org, "kari@equinor.example",
                                       secret_key=SECRET, link_for=_link)


def test_invitation_for_another_address_changes_nothing(db, people, ctx):
    org = _register(db, people["partner"])
    invitation, token = _invite(db, people, org)
    with pytest.raises(PermissionDenied, match="another e-mail address"):
        organisations.accept_invitation(db, people["student"], token, secret_key=SECRET)
    db.rollback()
    assert not organisations.is_member(db, people["student"], org)
    assert invitation.accepted_at is None


def test_expired_and_tampered_invitations_are_refused(db, people, ctx):
    org = _register(db, people["partner"])
    _invitation, old = _invite(db, people, org, now=utcnow() - timedelta(days=15))
    with pytest.raises(ValidationFailed, match="expired"):
        organisations.accept_invitation(db, people["colleague"], old, secret_key=SECRET)
    _invitation, token = _invite(db, people, org)
    mid = len(token) - 10  # inside the signature, away from base64 padding bits
    tampered = token[:mid] + ("A" if token[mid] != "A" else "B") + token[mid + 1:]
    with pytest.raises(ValidationFailed, match="not valid"):
        organisations.accept_invitation(db, people["colleague"], tampered, secret_key=SECRET)
    with pytest.raises(ValidationFailed, match="not valid"):
        organisations.accept_invitation(db, people["colleague"], token, secret_key="other")
    db.rollback()
    assert not organisations.is_member(db, people["colleague"], org)
    # The fresh one still works.
    organisations.accept_invitation(db, people["colleague"], token, secret_key=SECRET)


# ----------------------------------------------------------------- web


@pytest.fixture
def login_as(app, client):
    """A fresh browser logged in as ``email`` (each releases the test's session first)."""

    def _login(email) -> Browserless:
        browser = Browserless(app.test_client())
        r = browser.login(email, PASSWORD)
        assert r.status_code == 302, r.get_data(as_text=True)[:500]
        return browser

    return _login


def _form(**overrides):
    data = {k: ("y" if v is True else "" if v is False else v)
            for k, v in _details(**overrides).items()}
    return {k: v for k, v in data.items() if v != ""}


def test_web_registration_leads_to_the_organisation_page(app, db, people, login_as):
    kari = login_as("kari@equinor.example")
    r = kari.submit("/organisations/new", _form())
    assert r.status_code == 302
    org = db.execute(select(Organisation)).scalar_one()
    assert r.headers["Location"].endswith(f"/organisations/{org.id}")
    page = kari.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert "Equinor ASA" in page and "923 609 016" in page
    assert "Waiting for verification" in page
    assert "Invite a colleague" in page
    mine = kari.get("/organisations/mine").get_data(as_text=True)
    assert "Equinor ASA" in mine


def test_web_wrong_check_digit_is_shown_beside_the_field(app, db, people, login_as):
    kari = login_as("kari@equinor.example")
    r = kari.submit("/organisations/new", _form(org_number="923 609 017"))
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert 'id="org_number-error"' in html and "check digit" in html
    assert 'aria-invalid="true"' in html
    assert count(db, Organisation) == 0


def test_web_duplicate_number_is_a_form_error(app, db, people, login_as):
    _register(db, people["partner"])
    per = login_as("per@equinor.example")
    r = per.submit("/organisations/new", _form(name="Statoil"))
    assert r.status_code == 400
    assert "already registered" in r.get_data(as_text=True)
    assert count(db, Organisation) == 1


def test_web_post_without_csrf_token_changes_nothing(app, db, people, login_as):
    kari = login_as("kari@equinor.example")
    r = kari.client.post("/organisations/new", data=_form())
    assert r.status_code == 400
    assert count(db, Organisation) == 0


def test_web_login_is_required(client):
    r = client.get("/organisations/new")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    r = client.get("/coordinator/verification")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_web_student_cannot_reach_the_verification_queue(app, db, people, login_as):
    org = _register(db, people["partner"])
    student = login_as("stud@stud.example.no")
    assert student.get("/coordinator/verification").status_code == 403
    token = csrf_token_from(student.get("/").get_data(as_text=True))
    r = student.client.post(f"/coordinator/verification/{org.id}/verify",
                            data={"csrf_token": token})
    assert r.status_code == 403
    r = student.client.post(f"/coordinator/verification/{org.id}/reject",
                            data={"csrf_token": token, "reason": "no"})
    assert r.status_code == 403
    # Nor can it see the unverified organisation.
    assert student.get(f"/organisations/{org.id}").status_code == 404
    db.expire_all()
    assert not db.get(Organisation, org.id).verified
    assert db.get(Organisation, org.id).rejected_reason is None


def test_web_coordinator_verifies_and_rejects(app, db, people, login_as):
    first = _register(db, people["partner"])
    second = _register(db, people["colleague"], name="Fake AS", org_number="974760673")
    coord = login_as("coord@ntnu.example.no")
    queue = coord.get("/coordinator/verification").get_data(as_text=True)
    assert "Equinor ASA" in queue and "Fake AS" in queue
    assert "2 organisations are waiting" in queue
    r = coord.submit("/coordinator/verification", {},
                     post_url=f"/coordinator/verification/{first.id}/verify")
    assert r.status_code == 302
    # An empty reason is a field error on that organisation's form.
    r = coord.submit("/coordinator/verification", {"reason": ""},
                     post_url=f"/coordinator/verification/{second.id}/reject")
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert f'id="reason-{second.id}-error"' in html
    r = coord.submit("/coordinator/verification", {"reason": "Not a real company."},
                     post_url=f"/coordinator/verification/{second.id}/reject")
    assert r.status_code == 302
    db.expire_all()
    assert db.get(Organisation, first.id).verified
    assert db.get(Organisation, second.id).rejected_reason == "Not a real company."
    assert "No organisations are waiting" in coord.get("/coordinator/verification").get_data(
        as_text=True)
    assert last_mail_to(db, "per@equinor.example").subject.startswith("The registration")


def test_web_non_member_cannot_invite(app, db, people, login_as):
    org = _register(db, people["partner"])
    with app.app_context():
        organisations.verify(db, people["coordinator"], org)
    db.commit()
    student = login_as("stud@stud.example.no")
    page = student.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert "Invite a colleague" not in page and "kari@equinor.example" not in page
    r = student.submit(f"/organisations/{org.id}", {"email": "friend@example.no"},
                       post_url=f"/organisations/{org.id}/invite")
    assert r.status_code == 403
    assert count(db, OrganisationInvitation) == 0


def test_web_invitation_round_trip(app, db, people, login_as):
    org = _register(db, people["partner"])
    kari = login_as("kari@equinor.example")
    r = kari.submit(f"/organisations/{org.id}", {"email": "per@equinor.example"},
                    post_url=f"/organisations/{org.id}/invite")
    assert r.status_code == 302
    link = link_in(last_mail_to(db, "per@equinor.example"), LINK)
    path = link[len("http://localhost"):]
    # Someone else logged in sees whom it was for, and cannot accept.
    student = login_as("stud@stud.example.no")
    html = student.get(path).get_data(as_text=True)
    assert "per@equinor.example" in html and "Join" not in html
    r = student.submit(path, {})
    assert r.status_code == 403
    per = login_as("per@equinor.example")
    html = per.get(path).get_data(as_text=True)
    assert "Join Equinor ASA" in html
    r = per.submit(path, {})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/organisations/{org.id}")
    db.expire_all()
    assert organisations.membership(db, people["colleague"], org) is not None
    # The link is spent.
    r = per.get(path)
    assert r.status_code == 400 and "already been used" in r.get_data(as_text=True)


def test_web_expired_or_tampered_invitation_shows_a_clear_message(app, db, people, login_as):
    org = _register(db, people["partner"])
    with app.app_context():
        _inv, old = _invite(db, people, org, now=utcnow() - timedelta(days=30))
        _inv, fresh = _invite(db, people, org)
    per = login_as("per@equinor.example")
    r = per.get(f"/invitations/{old}")
    assert r.status_code == 400 and "expired" in r.get_data(as_text=True)
    r = per.client.post(f"/invitations/{old}", data={
        "csrf_token": csrf_token_from(per.get("/").get_data(as_text=True))})
    assert r.status_code == 400 and "Nothing has been changed" in r.get_data(as_text=True)
    # Change a character inside the signature: the last base64 character may only
    # carry padding bits, so altering it can leave the signature the same.
    head, _, sig = fresh.rpartition(".")
    mid = len(sig) // 2
    bad = f"{head}.{sig[:mid]}{'A' if sig[mid] != 'A' else 'B'}{sig[mid + 1:]}"
    r = per.get(f"/invitations/{bad}")
    assert r.status_code == 400 and "not valid" in r.get_data(as_text=True)
    db.expire_all()
    assert not organisations.is_member(db, people["colleague"], org)


def test_web_anonymous_sees_verified_organisations_only(app, db, people, client):
    org = _register(db, people["partner"])
    assert client.get(f"/organisations/{org.id}").status_code == 404
    with app.app_context():
        organisations.verify(db, people["coordinator"], org)
    db.commit()
    html = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert "Equinor ASA" in html and "kari@equinor.example" not in html
    assert client.get("/organisations/99999").status_code == 404


def test_web_edit_is_for_org_admins(app, db, people, login_as):
    org = _register(db, people["partner"])
    organisations.add_member(db, org, people["colleague"])
    db.commit()
    per = login_as("per@equinor.example")
    assert per.get(f"/organisations/{org.id}/edit").status_code == 403
    kari = login_as("kari@equinor.example")
    r = kari.submit(f"/organisations/{org.id}/edit", _form(name="Equinor Energy",
                                                          nace_code="6201"))
    assert r.status_code == 302
    r = kari.submit(f"/organisations/{org.id}/edit", _form(website="ftp://x"))
    assert r.status_code == 400 and 'id="website-error"' in r.get_data(as_text=True)
    db.expire_all()
    org = db.get(Organisation, org.id)
    assert org.name == "Equinor Energy" and org.nace_code == "62.01"


def test_web_nav_shows_the_queue_to_coordinators_only(app, db, people, login_as):
    coord = login_as("coord@ntnu.example.no")
    assert "/coordinator/verification" in coord.get("/").get_data(as_text=True)
    student = login_as("stud@stud.example.no")
    assert "/coordinator/verification" not in student.get("/").get_data(as_text=True)


# ----------------------------------------------------------------- real browser


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_browser_register_fix_check_digit_and_verify(page, db, people):
    page.goto("/login")
    page.get_by_label("E-mail address").fill("kari@equinor.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Register an organisation").first.click()
    page.get_by_label("Name of the organisation").fill("Equinor ASA")
    page.get_by_label("Country").select_option("NO")
    page.get_by_label("Organisation number").fill("923 609 017")
    page.get_by_label("Sector").select_option("private")
    page.get_by_label("Size").select_option("large")
    page.get_by_role("button", name="Register the organisation").click()
    # The error sits beside the field, tied to it, and the summary links to it.
    field = page.get_by_label("Organisation number")
    assert field.get_attribute("aria-invalid") == "true"
    assert "check digit" in page.locator("#org_number-error").inner_text()
    page.locator(".error-summary a[href='#org_number']").click()
    assert page.evaluate("document.activeElement.id") == "org_number"
    field.fill("923 609 016")
    page.get_by_role("button", name="Register the organisation").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Equinor ASA"
    assert page.get_by_text("Waiting for verification").first.is_visible()
    db.rollback()
    assert db.execute(select(Organisation)).scalar_one().org_number == "923609016"
