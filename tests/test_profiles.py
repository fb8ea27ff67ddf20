"""The profile page: a section for each role, and the edits made there."""

from __future__ import annotations

import re

import pytest

from portal.models import StudentProfile
from portal.services import academic, organisations, profiles
from portal.services.errors import PermissionDenied, ValidationFailed
from tests.conftest import Browserless, csrf_token_from
from tests.helpers import PASSWORD, make_user


@pytest.fixture
def world(db):
    coord = make_user(db, email="coord@ntnu.example.no", name="Cora Coordinator",
                      roles=("coordinator",), locale="en")
    ie = academic.create_unit(db, code="IE", name_nb="IE-fakultetet", name_en="IE faculty",
                              level="faculty")
    idi = academic.create_unit(db, code="IE-IDI", name_nb="Institutt for datateknologi",
                               name_en="Department of Computer Science", level="department",
                               parent=ie)
    course = academic.create_course(db, code="TDT4100", name_nb="Objektorientert programmering",
                                    name_en="Object-Oriented Programming", ects=7.5,
                                    level="bachelor", unit=idi)
    staff = make_user(db, email="staff@ntnu.example.no", name="Stein Staff", roles=(),
                      locale="en")
    academic.add_unit_member(db, idi, staff, actor=coord)
    academic.add_course_leader(db, course, staff, actor=coord)
    partner = make_user(db, email="kari@equinor.example", name="Kari Partner", roles=(),
                        locale="en")
    organisations.register_organisation(
        db, partner, name="Equinor ASA", org_number="923609016", sector="private",
        size_class="large", country="NO")
    db.commit()
    return {
        "coordinator": coord, "staff": staff, "partner": partner, "idi": idi,
        "student": make_user(db, email="siri@stud.example.no", name="Siri Student",
                             locale="en"),
        "admin": make_user(db, email="admin@ntnu.example.no", name="Ada Admin",
                           roles=("admin",), locale="en"),
    }


@pytest.fixture
def login_as(app, client):
    def _login(email) -> Browserless:
        browser = Browserless(app.test_client())
        r = browser.login(email, PASSWORD)
        assert r.status_code == 302
        return browser
    return _login


# ----------------------------------------------------------------- service


def test_overview_has_a_section_per_role(db, world):
    student = profiles.profile_overview(db, world["student"])
    assert student.student is not None and student.organisations == []
    assert student.verification_queue_size is None and not student.is_admin
    partner = profiles.profile_overview(db, world["partner"])
    assert [m.organisation.name for m in partner.organisations] == ["Equinor ASA"]
    assert partner.student is None
    staff = profiles.profile_overview(db, world["staff"])
    assert [m.unit.code for m in staff.units] == ["IE-IDI"]
    assert [c.code for c in staff.courses] == ["TDT4100"]
    assert profiles.profile_overview(db, world["coordinator"]).verification_queue_size == 1
    admin = profiles.profile_overview(db, world["admin"])
    assert admin.is_admin and admin.verification_queue_size == 1


def test_student_profile_update_normalises_and_validates(db, world):
    siri = world["student"]
    profile = profiles.update_student_profile(
        db, siri, programme=" MSc Computer Science ", level="master",
        unit_id=world["idi"].id, skills="Python,  python, SQL\nstatistics,,",
        interests="energy; health", visible_to_partners=True)
    db.commit()
    assert profile.programme == "MSc Computer Science"
    assert profile.skills == "Python, SQL, statistics"
    assert profile.interests == "energy, health"
    assert profile.visible_to_partners and profile.unit_id == world["idi"].id
    with pytest.raises(ValidationFailed) as exc:
        profiles.update_student_profile(db, siri, programme="x" * 201, level="kindergarten",
                                        unit_id=99999, skills="", interests="",
                                        visible_to_partners=False)
    assert set(exc.value.errors) == {"programme", "level", "unit_id"}
    with pytest.raises(PermissionDenied):
        profiles.update_student_profile(db, world["partner"], programme="", level="master",
                                        unit_id=None, skills="", interests="",
                                        visible_to_partners=False)


def test_account_update_validates(db, world):
    with pytest.raises(ValidationFailed) as exc:
        profiles.update_account(db, world["student"], display_name=" ", locale="de")
    assert set(exc.value.errors) == {"display_name", "locale"}


# ----------------------------------------------------------------- web


def test_profile_needs_login(client):
    r = client.get("/profile")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_student_profile_page_and_edit(db, world, login_as):
    siri = login_as("siri@stud.example.no")
    html = siri.get("/profile").get_data(as_text=True)
    assert "Student profile" in html and 'name="visible_to_partners"' in html
    assert "IE-IDI · Department of Computer Science" in html
    assert "Verification queue" not in html and "/admin/users" not in html
    r = siri.submit("/profile", {"programme": "MSc Computer Science", "level": "master",
                                 "unit_id": str(world["idi"].id), "skills": "Python, SQL",
                                 "interests": "energy", "visible_to_partners": "y"},
                    post_url="/profile/student")
    assert r.status_code == 302
    db.expire_all()
    profile = db.get(StudentProfile, world["student"].id)
    assert profile.visible_to_partners and profile.skills == "Python, SQL"
    assert profile.unit_id == world["idi"].id
    html = siri.get("/profile").get_data(as_text=True)
    assert 'value="MSc Computer Science"' in html


def test_student_profile_bad_input_is_a_form_error(db, world, login_as):
    siri = login_as("siri@stud.example.no")
    r = siri.submit("/profile", {"programme": "Something", "level": "kindergarten",
                                 "unit_id": "", "skills": "", "interests": ""},
                    post_url="/profile/student")
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert 'id="level-error"' in html
    db.expire_all()
    assert db.get(StudentProfile, world["student"].id).programme == ""


def test_consent_can_be_withdrawn(db, world, login_as):
    profiles.update_student_profile(db, world["student"], programme="", level="master",
                                    unit_id=None, skills="", interests="",
                                    visible_to_partners=True)
    db.commit()
    siri = login_as("siri@stud.example.no")
    r = siri.submit("/profile", {"level": "master"}, post_url="/profile/student")
    assert r.status_code == 302
    db.expire_all()
    assert db.get(StudentProfile, world["student"].id).visible_to_partners is False


def test_non_student_cannot_post_a_student_profile(db, world, login_as):
    kari = login_as("kari@equinor.example")
    r = kari.submit("/profile", {"level": "master"}, post_url="/profile/student")
    assert r.status_code == 403
    assert db.get(StudentProfile, world["partner"].id) is None


def test_partner_profile_shows_organisations_and_status(world, login_as):
    kari = login_as("kari@equinor.example")
    html = kari.get("/profile").get_data(as_text=True)
    assert "Your organisations" in html and "Equinor ASA" in html
    assert "Waiting for verification" in html
    assert "Student profile" not in html


def test_staff_and_course_leader_sections(world, login_as):
    stein = login_as("staff@ntnu.example.no")
    html = stein.get("/profile").get_data(as_text=True)
    assert "Your academic units" in html and "Department of Computer Science" in html
    assert "Courses you lead" in html and "TDT4100" in html and "7.5 credits" in html


def test_coordinator_and_admin_sections(world, login_as):
    cora = login_as("coord@ntnu.example.no")
    html = cora.get("/profile").get_data(as_text=True)
    assert "1 organisation is waiting for verification" in html
    assert "/coordinator/verification" in html and "/admin/users" not in html.split(
        "<main")[1]
    ada = login_as("admin@ntnu.example.no")
    html = ada.get("/profile").get_data(as_text=True)
    assert "Manage users and roles" in html and "/coordinator/verification" in html


def test_name_and_language_are_saved(db, world, login_as):
    siri = login_as("siri@stud.example.no")
    r = siri.submit("/profile", {"display_name": "Siri S. Student", "locale": "nb"},
                    post_url="/profile/account")
    assert r.status_code == 302
    db.expire_all()
    assert world["student"].display_name == "Siri S. Student"
    assert world["student"].locale == "nb"
    assert '<html lang="nb">' in siri.get("/profile").get_data(as_text=True)
    r = siri.submit("/profile", {"display_name": "", "locale": "nb"},
                    post_url="/profile/account")
    assert r.status_code == 400 and 'id="display_name-error"' in r.get_data(as_text=True)
    db.expire_all()
    assert world["student"].display_name == "Siri S. Student"


def test_profile_post_without_csrf_changes_nothing(db, world, login_as):
    siri = login_as("siri@stud.example.no")
    r = siri.client.post("/profile/account", data={"display_name": "Hacked", "locale": "en"})
    assert r.status_code == 400
    r = siri.client.post("/profile/student", data={"level": "phd", "visible_to_partners": "y"})
    assert r.status_code == 400
    db.expire_all()
    assert world["student"].display_name == "Siri Student"
    assert db.get(StudentProfile, world["student"].id).visible_to_partners is False
    # A token from the page does work (the rejection above was the missing token).
    token = csrf_token_from(siri.get("/profile").get_data(as_text=True))
    r = siri.client.post("/profile/account", data={"csrf_token": token,
                                                   "display_name": "Siri", "locale": "en"})
    assert r.status_code == 302


# ----------------------------------------------------------------- markup sanity

_ID = re.compile(r'\sid="([^"]+)"')
_CONTROL = re.compile(r'<(input|select|textarea)\b([^>]*)>')
_FOR = re.compile(r'<label[^>]*\sfor="([^"]+)"')


def _check_markup(html: str) -> None:
    ids = _ID.findall(html)
    dupes = {i for i in ids if ids.count(i) > 1}
    assert not dupes, f"duplicate ids: {dupes}"
    labelled = set(_FOR.findall(html))
    for _tag, attrs in _CONTROL.findall(html):
        if 'type="hidden"' in attrs or 'type="submit"' in attrs:
            continue
        m = re.search(r'\sid="([^"]+)"', attrs)
        assert m and m.group(1) in labelled, f"control without a label: {attrs}"


def test_my_pages_have_unique_ids_and_labelled_controls(db, world, login_as, app):
    org = organisations.organisations_of(db, world["partner"])[0].organisation
    with app.app_context():
        organisations.register_organisation(
            db, world["staff"], name="Other AS", org_number="974760673", sector="private",
            size_class="small", country="NO")
    db.commit()
    pages = {
        "siri@stud.example.no": ["/profile"],
        "kari@equinor.example": ["/profile", "/organisations/new", "/organisations/mine",
                                 f"/organisations/{org.id}", f"/organisations/{org.id}/edit"],
        "coord@ntnu.example.no": ["/profile", "/coordinator/verification"],
        "admin@ntnu.example.no": ["/admin/users", "/profile"],
    }
    for email, urls in pages.items():
        browser = login_as(email)
        for url in urls:
            r = browser.get(url)
            assert r.status_code == 200, url
            html = r.get_data(as_text=True)
            assert html.count("<h1>") == 1, url
            _check_markup(html)
