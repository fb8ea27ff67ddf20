"""The thesis journey in a real browser: post, find, apply, accept, tag, deliver, complete."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import Collaboration, CollaborationEvent
from tests.helpers import PASSWORD, World

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _login(page, email):
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))


def test_thesis_journey_in_chromium(page, db):
    World(db)

    _login(page, "partner@firma.no")
    page.goto("/opportunities/mine")
    page.get_by_role("link", name="Thesis task").click()
    page.get_by_label("Title").fill("Prediksjon av nettap med maskinlæring")
    page.get_by_label("Description").fill("En masteroppgave i samarbeid med Fjordkraft Analyse.")
    page.get_by_label("Master").check()
    page.get_by_label("Application deadline").fill((date.today() + timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("This is a draft")).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Published.")).to_be_visible()

    _login(page, "student@uni.no")
    page.goto("/opportunities")
    page.get_by_label("Kind").select_option("thesis_task")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name="Prediksjon av nettap med maskinlæring").click()
    page.get_by_role("link", name="Apply").click()
    page.get_by_label("Why you, and why this?").fill("Jeg tar master i datateknologi.")
    page.get_by_role("button", name="Send application").click()
    expect(page.get_by_text("Your application is sent")).to_be_visible()

    _login(page, "partner@firma.no")
    page.goto("/opportunities/mine")
    page.get_by_role("link", name="Prediksjon av nettap med maskinlæring").click()
    page.get_by_role("link", name="Applicants").click()
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_text("Accepted: the collaboration is recorded.")).to_be_visible()
    page.wait_for_url(re.compile(r"/collaborations/\d+$"))
    collab_url = page.url

    _login(page, "leader@uni.no")
    page.goto(collab_url)
    page.get_by_label("Course", exact=True).select_option(label="TDT4100 Objektorientert programmering")
    page.get_by_role("button", name="Tag to my course").click()
    expect(page.get_by_text("Tagged to the course.")).to_be_visible()

    _login(page, "student@uni.no")
    page.goto(collab_url)
    page.get_by_label("Kind of result").select_option("thesis_delivered")
    page.get_by_label("Title").fill("Prediksjon av nettap i distribusjonsnettet")
    page.get_by_label("Link (e.g. to the archived thesis)").fill("https://ntnuopen.ntnu.no/handle/11250/1")
    page.get_by_role("button", name="Record result").click()
    expect(page.get_by_text("Result recorded.")).to_be_visible()

    _login(page, "partner@firma.no")
    page.goto(collab_url)
    page.get_by_role("button", name="Mark as completed").click()
    expect(page.get_by_text("Completed.").first).to_be_visible()

    db.rollback()
    collab = db.execute(select(Collaboration)).scalar_one()
    assert collab.status == "completed"
    types = db.execute(select(CollaborationEvent.type).where(
        CollaborationEvent.collaboration_id == collab.id)).scalars().all()
    for t in ("collaboration_agreed", "course_tagged", "result_recorded", "collaboration_completed"):
        assert types.count(t) == 1, (t, types)
