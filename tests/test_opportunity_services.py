from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from portal.models import Opportunity, SearchChange
from portal.services import opportunities as opps
from portal.services.errors import Conflict, PermissionDenied, ValidationFailed
from tests.matching_builders import DEADLINE, T0, at, event_count, last_event, thesis


def changes(db, opp) -> list[str]:
    return list(db.execute(select(SearchChange.op).where(
        SearchChange.entity_type == "opportunity", SearchChange.entity_id == opp.id)
        .order_by(SearchChange.seq)).scalars())


def test_create_draft_records_event_search_change_and_readable_slug(db, w):
    before = event_count(db)
    opp = opps.create_draft(db, w.partner, kind="thesis_task", owner_org=w.org,
                            title="Masteroppgave: Maskinlæring på Ørland",
                            tags=[" Maskinlæring ", "AI", "ai", ""], levels=["master", "phd"],
                            now=T0)
    db.commit()
    assert opp.status == "draft" and opp.slug == "masteroppgave-maskinlaering-pa-orland"
    assert opp.tag_names == ["ai", "maskinlæring"]
    assert opp.level_names == ["master", "phd"]
    assert opp.contact_user_id == w.partner.id
    assert event_count(db) == before + 1
    ev = last_event(db)
    assert ev.type == "opportunity_created" and ev.opportunity_id == opp.id
    assert ev.partner_sector == "private" and ev.partner_nace == "J"
    assert ev.data == {"kind": "thesis_task", "owner_type": "organisation", "places": 1}
    assert changes(db, opp) == ["upsert"]
    again = opps.create_draft(db, w.partner, kind="thesis_task", owner_org=w.org,
                              title="Masteroppgave: maskinlæring på Ørland!", now=T0)
    assert again.slug == "masteroppgave-maskinlaering-pa-orland-2"


def test_only_members_of_verified_organisations_post(db, w):
    before = event_count(db)
    with pytest.raises(PermissionDenied):
        opps.create_draft(db, w.partner2, kind="thesis_task", owner_org=w.org, title="X")
    with pytest.raises(PermissionDenied, match="verified"):
        opps.create_draft(db, w.newbie, kind="thesis_task", owner_org=w.unverified, title="X")
    with pytest.raises(PermissionDenied):
        opps.create_draft(db, w.student, kind="thesis_task", owner_unit=w.idi, title="X")
    assert event_count(db) == before
    # A coordinator may act for an unverified organisation.
    opp = opps.create_draft(db, w.coordinator, kind="thesis_task", owner_org=w.unverified,
                            title="Oppgave", now=T0)
    assert opp.owner_org_id == w.unverified.id


def test_unit_membership_is_inherited_downwards(db, w):
    # A department member acts for the department's group …
    opp = opps.create_draft(db, w.staff, kind="thesis_task", owner_unit=w.idi_ai,
                            title="Gruppetema", now=T0)
    assert opp.owner_unit_id == w.idi_ai.id
    # … but not for the faculty above or a department beside it.
    with pytest.raises(PermissionDenied):
        opps.create_draft(db, w.staff, kind="thesis_task", owner_unit=w.ie, title="X")
    with pytest.raises(PermissionDenied):
        opps.create_draft(db, w.staff, kind="thesis_task", owner_unit=w.ibm, title="X")


@pytest.mark.parametrize("kind, fields, field", [
    ("thesis_task", {"levels": ["doctorate"]}, "levels"),
    ("thesis_task", {"places": 0}, "places"),
    ("thesis_task", {"title": ""}, "title"),
    ("placement", {"ects": "7.5"}, "ects"),
    ("placement", {"period_start": date(2026, 6, 1), "period_end": date(2026, 5, 1)},
     "period_end"),
    ("placement", {"extent_weeks": -2}, "extent_weeks"),
    ("industry_case", {"language": "de"}, "language"),
    ("thesis_task", {"partner_sought": True}, "partner_sought"),
])
def test_per_kind_validation_for_organisations(db, w, kind, fields, field):
    fields.setdefault("title", "Tittel")
    before = event_count(db)
    with pytest.raises(ValidationFailed) as exc:
        opps.create_draft(db, w.partner, kind=kind, owner_org=w.org, now=T0, **fields)
    assert field in exc.value.errors
    assert event_count(db) == before
    assert db.execute(select(Opportunity)).first() is None


@pytest.mark.parametrize("fields, field", [
    ({"places": 20}, "places"),
    ({"places": 37}, "places"),
    ({"semester": "2026S"}, "semester"),
    ({"semester": "26H"}, "semester"),
])
def test_eit_village_validation(db, w, fields, field):
    with pytest.raises(ValidationFailed) as exc:
        opps.create_draft(db, w.staff, kind="eit_village", owner_unit=w.idi, title="Landsby",
                          now=T0, **fields)
    assert field in exc.value.errors


def test_eit_village_run_by_a_unit_needs_its_village_facts(db, w):
    # A partner's EiT posting is a partnership offer: no village facts needed.
    offer = opps.create_draft(db, w.partner, kind="eit_village", owner_org=w.org, title="Tema",
                              description="En utfordring for en landsby.", now=T0)
    opps.publish(db, w.partner, offer, now=T0)
    assert offer.status == "published" and offer.places == 30
    opp = opps.create_draft(db, w.staff, kind="eit_village", owner_unit=w.idi, title="L",
                            village_leader=w.staff, now=T0)
    assert opp.places == 30
    with pytest.raises(ValidationFailed) as exc:
        opps.publish(db, w.staff, opp, now=T0)
    assert {"semester", "village_code", "theme", "description"} <= set(exc.value.errors)


def test_fields_of_another_kind_are_a_programming_error(db, w):
    with pytest.raises(TypeError):
        opps.create_draft(db, w.partner, kind="thesis_task", owner_org=w.org, title="X",
                          semester="2026H")


def test_publish_checks_completeness_and_deadline(db, w):
    opp = opps.create_draft(db, w.partner, kind="placement", owner_org=w.org,
                            title="Sommerpraksis", credit_bearing=True, now=T0)
    with pytest.raises(ValidationFailed) as exc:
        opps.publish(db, w.partner, opp, now=T0)
    # Period and extent may be agreed later; credits of a credit-bearing one may not.
    assert {"description", "ects"} <= set(exc.value.errors)
    assert "period_start" not in exc.value.errors
    opps.update(db, w.partner, opp, description="Seks uker i sommer.", extent_weeks=6,
                period_start=date(2026, 6, 15), period_end=date(2026, 7, 31), ects=7.5,
                deadline=date(2025, 8, 1), now=T0)
    with pytest.raises(ValidationFailed, match="deadline has passed"):
        opps.publish(db, w.partner, opp, now=T0)
    opps.update(db, w.partner, opp, deadline=DEADLINE, now=T0)
    before = event_count(db)
    opps.publish(db, w.partner, opp, now=at(1))
    db.commit()
    assert opp.status == "published" and opp.published_at == at(1)
    assert event_count(db) == before + 1
    ev = last_event(db)
    assert ev.type == "opportunity_published" and ev.form == "placement"
    assert ev.data["credit_bearing"] is True and ev.data["ects"] == 7.5
    assert ev.data["places"] == 1 and ev.data["deadline"] == "2025-10-01"
    assert changes(db, opp) == ["upsert"] * 4  # created, two edits, published
    with pytest.raises(Conflict):
        opps.publish(db, w.partner, opp, now=at(2))


def test_strangers_cannot_publish_close_or_archive(db, w):
    opp = thesis(db, w, publish=False)
    before = event_count(db)
    for action in (opps.publish, opps.close, opps.archive):
        with pytest.raises(PermissionDenied):
            action(db, w.partner2, opp, now=T0)
        with pytest.raises(PermissionDenied):
            action(db, w.student, opp, now=T0)
    with pytest.raises(PermissionDenied):
        opps.update(db, w.staff, opp, title="Kapret")
    assert event_count(db) == before and opp.status == "draft"


def test_editing_a_draft_is_silent_but_a_published_edit_is_an_event(db, w):
    opp = thesis(db, w, publish=False)
    before = event_count(db)
    assert opps.update(db, w.partner, opp, title="Ny tittel", tags=["Havbruk"], now=at(1)) \
        == ["title", "tags"]
    assert opp.slug == "ny-tittel" and event_count(db) == before
    assert opps.update(db, w.partner, opp, title="Ny tittel", now=at(1)) == []
    opps.publish(db, w.partner, opp, now=at(1))
    opps.update(db, w.partner, opp, places=3, now=at(2))
    ev = last_event(db)
    assert ev.type == "opportunity_updated"
    assert ev.data == {"fields": ["places"], "places": 3, "places_before": 1}
    assert opp.slug == "ny-tittel"  # a published slug stays stable


def test_refused_edit_leaves_the_row_as_it_was(db, w):
    opp = thesis(db, w, places=2)
    opp.filled = 2  # as if two were accepted
    db.commit()
    before = event_count(db)
    with pytest.raises(ValidationFailed) as exc:
        opps.update(db, w.partner, opp, places=1, title="Endret", now=at(1))
    assert "places" in exc.value.errors
    assert opp.places == 2 and opp.title.startswith("Masteroppgave")
    db.commit()
    db.expire_all()
    assert db.get(Opportunity, opp.id).title.startswith("Masteroppgave")
    assert event_count(db) == before


def test_close_and_archive(db, w):
    opp = thesis(db, w)
    with pytest.raises(Conflict):
        opps.archive(db, w.partner, opp, now=at(1))
    with pytest.raises(ValidationFailed):
        opps.close(db, w.partner, opp, "bored", now=at(1))
    opps.close(db, w.partner, opp, now=at(1))
    ev = last_event(db)
    assert ev.type == "opportunity_closed" and ev.data == {"reason": "manual", "places": 1,
                                                            "filled": 0}
    with pytest.raises(Conflict):
        opps.close(db, w.partner, opp, now=at(1))
    with pytest.raises(Conflict):
        opps.update(db, w.partner, opp, title="Etterpå")
    opps.archive(db, w.partner, opp, now=at(2))
    assert opp.status == "archived" and last_event(db).type == "opportunity_archived"
    assert changes(db, opp) == ["upsert", "upsert", "upsert", "delete"]
    with pytest.raises(Conflict):
        opps.archive(db, w.partner, opp, now=at(3))


def test_deadline_job_closes_expired_on_oslo_dates(db, w):
    opp = thesis(db, w)
    other = thesis(db, w, title="Uten frist", deadline=None)
    # 1 October 23:30 Oslo (21:30 UTC) is still the deadline day.
    last_minute = datetime(2025, 10, 1, 21, 30, tzinfo=UTC)
    assert opps.close_if_full_or_expired(db, opp, last_minute) is None
    assert opps.close_expired(db, last_minute) == []
    after = datetime(2025, 10, 1, 22, 30, tzinfo=UTC)  # 00:30 on 2 October in Oslo
    closed = opps.close_expired(db, after)
    db.commit()
    assert [o.id for o in closed] == [opp.id]
    assert opp.status == "closed" and opp.closed_reason == "expired"
    assert other.status == "published"
    ev = last_event(db)
    assert ev.type == "opportunity_closed" and ev.actor_key is None
    assert ev.data["reason"] == "expired"
    assert opps.close_expired(db, after) == []


def test_naive_now_is_refused(db, w):
    with pytest.raises(ValueError):
        opps.create_draft(db, w.partner, kind="thesis_task", owner_org=w.org, title="X",
                          now=datetime(2025, 9, 1, 10, 0))
