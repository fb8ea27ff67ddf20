"""The A2 indicator engine and its exports, on a known set of collaborations."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest

from portal.services import applications as apps
from portal.services import collaborations as collabs
from portal.services import indicator_exports, indicators, organisations
from portal.services import opportunities as opps
from portal.services.errors import ValidationFailed
from tests.helpers import portal_cli
from tests.matching_builders import at, thesis

AY25 = {"date_from": "2025-08-01", "date_to": "2026-07-31"}
AY26 = {"date_from": "2026-08-01", "date_to": "2027-07-31"}


def build(db, w):
    """AY 2025/26: a thesis, a placement and an industry case of ``org`` (private, small);
    a guest lecture of ``org2`` (municipal, large); a shared position with ``org``.
    AY 2026/27: one more guest lecture with ``org``."""
    th = thesis(db, w, now=at(0))
    case = opps.create_draft(db, w.partner, kind="industry_case", owner_org=w.org,
                             title="Case: prognoser", description="Et case for kurs.",
                             deadline=date(2025, 10, 1), now=at(2))
    opps.publish(db, w.partner, case, now=at(2))
    pl = opps.create_draft(db, w.partner, kind="placement", owner_org=w.org,
                           title="Sommerpraksis", description="Seks uker.", places=2,
                           credit_bearing=True, ects=7.5, deadline=date(2025, 10, 1), now=at(3))
    opps.publish(db, w.partner, pl, now=at(3))
    a3 = apps.apply_as_student(db, w.student3, pl, "Hei", now=at(5))
    placement = apps.accept(db, w.partner, a3, now=at(8), notify=False)
    a1 = apps.apply_as_student(db, w.student, th, "Hei", now=at(1))
    a2 = apps.apply_as_student(db, w.student2, th, "Hei", now=at(1))
    apps.reject(db, w.partner, a2, now=at(9), notify=False)
    th_collab = apps.accept(db, w.partner, a1, now=at(11), notify=False)
    collabs.add_participant(db, w.coordinator, th_collab, w.staff, "supervisor", now=at(12))
    lecture = collabs.record_direct(
        db, w.staff, title="Gjesteforelesning", partners=[w.org2], form="guest_lecture",
        unit=w.idi, start_date=date(2025, 9, 20), participants_count=40, now=at(30))
    collabs.record_impact_story(db, w.staff, lecture, "Studentene fikk se praksis.",
                                now=at(35))
    collabs.record_direct(
        db, w.staff2, title="Professor II", partners=[w.org], form="shared_position",
        unit=w.ibm, start_date=date(2025, 10, 1), fte="0.2", person_months=6, now=at(40))
    collabs.tag_course(db, w.courseleader, w.course, opportunity=case, semester="2026V",
                       teams_count=4, students_reached=20, now=at(50))
    collabs.start(db, w.partner, placement, now=at(60))
    collabs.record_result(db, w.student, th_collab, type="thesis_delivered", title="Oppgaven",
                          link="https://ntnuopen.ntnu.no/handle/11250/1", now=at(200))
    collabs.complete(db, w.partner, th_collab, now=at(201))
    collabs.record_result(db, w.partner, th_collab, type="student_recruited", now=at(210))
    collabs.record_direct(
        db, w.staff, title="Gjesteforelesning 2", partners=[w.org], form="guest_lecture",
        unit=w.idi, start_date=date(2026, 10, 1), participants_count=25, now=at(400))
    db.commit()
    return th_collab


def values(result, ind_id, **dims):
    """{measure: value} of the rows of one indicator matching ``dims``."""
    ind = next(i for i in result["indicators"] if i["id"] == ind_id)
    return {r["measure"]: r["value"] for r in ind["rows"]
            if all(r.get(k) == v for k, v in dims.items())}


def test_totals_for_an_academic_year(db, w):
    build(db, w)
    r = indicators.compute(db, **AY25)
    assert r["meta"]["by"] == [] and r["meta"]["period"] == {"from": "2025-08-01",
                                                             "to": "2026-07-31"}
    assert r["meta"]["last_event_id"] == indicators.last_event_id(db)
    assert [i["id"] for i in r["indicators"]] == [f"A2-{n}" for n in range(1, 11)]
    assert values(r, "A2-1") == {"theses": 1}
    assert values(r, "A2-2") == {"placements": 1, "students": 1, "credit_bearing_students": 1,
                                 "ects": 7.5}
    assert values(r, "A2-3") == {"course_instances": 1, "teams": 4, "students_reached": 20,
                                 "eit_villages": 0}
    assert values(r, "A2-4") == {"activities": 1, "participants": 40}
    assert values(r, "A2-5") == {"headcount": 1, "fte": 0.2, "person_months": 6}
    assert values(r, "A2-6") == {"active": 2, "new": 2, "door_opened": 1, "recurring": 1,
                                 "share_new": 1.0, "share_recurring": 0.5}
    assert values(r, "A2-7") == {"published": 3, "applications": 3, "matches": 2,
                                 "completed_with_result": 1, "places_offered": 4,
                                 "places_filled": 2, "median_days_to_match": 8,
                                 "match_rate": 0.6667, "fill_rate": 0.5}
    assert values(r, "A2-8") == {"completed": 2, "with_result": 1, "with_impact_story": 1,
                                 "share_with_result": 0.5, "share_with_impact_story": 0.5}
    assert values(r, "A2-9") == {"partners": 2, "with_two_staff_contacts": 1,
                                 "share_with_two_staff_contacts": 0.5}
    assert values(r, "A2-10") == {"student_recruited": 1, "follow_up_project": 0,
                                  "publication": 0, "tto_disclosure": 0}


def test_the_next_year_and_the_relationship_look_back(db, w):
    build(db, w)
    r = indicators.compute(db, **AY26)
    assert values(r, "A2-4") == {"activities": 1, "participants": 25}
    # org again: active, not new, recurring (3 collaborations in three years).
    assert values(r, "A2-6") == {"active": 1, "new": 0, "door_opened": 0, "recurring": 1,
                                 "share_new": 0.0, "share_recurring": 1.0}
    assert values(r, "A2-1") == {"theses": 0}
    assert values(r, "A2-7")["median_days_to_match"] is None


def test_breakdowns(db, w):
    build(db, w)
    r = indicators.compute(db, **AY25, by="partner_sector")
    assert values(r, "A2-6", partner_sector="private") == {
        "active": 1, "new": 1, "door_opened": 1, "recurring": 1, "share_new": 1.0,
        "share_recurring": 1.0}
    assert values(r, "A2-6", partner_sector="public_municipal") == {
        "active": 1, "new": 1, "door_opened": 0, "recurring": 0, "share_new": 1.0,
        "share_recurring": 0.0}
    assert values(r, "A2-9", partner_sector="private")["with_two_staff_contacts"] == 1
    assert values(r, "A2-9", partner_sector="public_municipal")["with_two_staff_contacts"] == 0

    r = indicators.compute(db, **AY25, by=["faculty", "level"])
    assert values(r, "A2-1", faculty="IE", level="master") == {"theses": 1}
    assert values(r, "A2-2", faculty="IV", level="bachelor")["students"] == 1
    assert values(r, "A2-5", faculty="IV") == {"headcount": 1, "fte": 0.2, "person_months": 6}
    assert values(r, "A2-4", faculty="IE") == {"activities": 1, "participants": 40}

    r = indicators.compute(db, date_from="2025-08-01", date_to="2027-07-31",
                           by="academic_year,form")
    assert values(r, "A2-4", academic_year="2025/26", form="guest_lecture")["activities"] == 1
    assert values(r, "A2-4", academic_year="2026/27", form="guest_lecture")["activities"] == 1
    assert values(r, "A2-7", academic_year="2025/26", form="thesis_task") == {
        "published": 1, "applications": 2, "matches": 1, "completed_with_result": 1,
        "places_offered": 1, "places_filled": 1, "median_days_to_match": 11,
        "match_rate": 0.5, "fill_rate": 1.0}

    r = indicators.compute(db, **AY25, by="semester,year")
    assert values(r, "A2-1", semester="2026V", year="2026") == {"theses": 1}
    assert values(r, "A2-2", semester="2025H", year="2025")["placements"] == 1
    assert values(r, "A2-2", semester="2026V", year="2026") == {}


def test_unit_filter(db, w):
    build(db, w)
    r = indicators.compute(db, **AY25, unit="IV")
    assert r["meta"]["filters"] == {"unit": "IV"}
    assert values(r, "A2-5")["headcount"] == 1 and values(r, "A2-1") == {"theses": 0}
    assert values(r, "A2-2")["placements"] == 1  # the student's unit is IV-IBM
    r = indicators.compute(db, **AY25, unit="IE-IDI")
    assert values(r, "A2-1") == {"theses": 1} and values(r, "A2-5")["headcount"] == 0


def test_as_of_reproduces_after_later_events_and_a_sector_change(db, w):
    build(db, w)
    first = indicators.compute(db, **AY25, by="partner_sector")
    as_of = first["meta"]["last_event_id"]
    first_csv = indicator_exports.render(first, "csv")
    # Later events inside the period, and the partner changes sector.
    collabs.record_direct(
        db, w.staff, title="Bedriftsbesøk", partners=[w.org], form="company_visit",
        unit=w.idi, start_date=date(2025, 11, 1), participants_count=30, now=at(100))
    organisations.update_organisation(db, w.coordinator, w.org, sector="non_profit",
                                      now=at(101))
    collabs.record_direct(
        db, w.staff, title="Workshop", partners=[w.org], form="workshop",
        unit=w.idi, start_date=date(2025, 12, 1), participants_count=12, now=at(102))
    db.commit()
    now = indicators.compute(db, **AY25, by="partner_sector")
    assert values(now, "A2-4", partner_sector="non_profit") == {"activities": 1,
                                                                "participants": 12}
    again = indicators.compute(db, **AY25, by="partner_sector", as_of=as_of)
    first["meta"].pop("generated_at"), again["meta"].pop("generated_at")
    assert again == first
    assert indicator_exports.render(
        indicators.compute(db, **AY25, by="partner_sector", as_of=as_of), "csv") == first_csv


@pytest.mark.parametrize("kwargs, message", [
    ({"date_from": "2026-01-01", "date_to": "2025-01-01"}, "before it starts"),
    ({"date_from": "2025-13-01", "date_to": "2026-01-01"}, "not a date"),
    ({"date_from": "yesterday", "date_to": "2026-01-01"}, "not a date"),
    ({**AY25, "by": "faculty,colour"}, "unknown breakdown 'colour'"),
    ({**AY25, "unit": "NOPE"}, "Unknown unit code: NOPE"),
    ({**AY25, "as_of": 10**9}, "beyond the last event"),
])
def test_bad_input(db, w, kwargs, message):
    with pytest.raises(ValidationFailed) as exc:
        indicators.compute(db, **kwargs)
    assert message in exc.value.one_line() and "\n" not in exc.value.one_line()


def test_detailed_rows_are_pseudonymised(db, w):
    th = build(db, w)
    req = indicators.make_request(db, **AY25)
    rows = indicators.detail_rows(db, req)
    theses = [r for r in rows if r["indicator"] == "A2-1"]
    assert [(r["collaboration_id"], r["form"], r["level"], r["faculty"]) for r in theses] == [
        (th.id, "thesis_task", "master", "IE")]
    text = json.dumps(rows)
    assert "Stina" not in text and "@" not in text and "Nidelva" not in text


# ------------------------------------------------------------------------ CLI
@pytest.fixture
def run(tmp_path, database_url):
    return portal_cli(tmp_path, database_url)


def test_cli_exports_csv_json_xlsx_and_list(db, w, run, tmp_path):
    build(db, w)
    db.close()
    base = ["indicators", "export", "--from", "2025-08-01", "--to", "2026-07-31",
            "--by", "faculty"]
    r = run(*base, "--format", "json", "--out", str(tmp_path / "a.json"))
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "a.json").read_text())
    assert doc["meta"]["by"] == ["faculty"]
    assert values(doc, "A2-1", faculty="IE") == {"theses": 1}

    r = run(*base, "--format", "csv", "--out", str(tmp_path / "a.csv"))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO((tmp_path / "a.csv").read_text())))
    assert {"indicator": "A2-5", "faculty": "IV", "measure": "fte", "value": "0.2"}.items() <= \
        next(x for x in rows if x["indicator"] == "A2-5" and x["faculty"] == "IV"
             and x["measure"] == "fte").items()

    r = run(*base, "--format", "xlsx", "--as-of", str(doc["meta"]["last_event_id"]),
            "--out", str(tmp_path / "a.xlsx"))
    assert r.returncode == 0, r.stderr
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "a.xlsx")
    assert wb.sheetnames == ["summary", "definitions", "metadata"]
    meta = {row[0]: row[1] for row in wb["metadata"].iter_rows(min_row=2, values_only=True)}
    assert meta["last_event_id"] == doc["meta"]["last_event_id"]
    assert meta["period_from"] == "2025-08-01" and meta["filters"] == "{}"
    summary = list(wb["summary"].iter_rows(values_only=True))
    assert summary[0] == ("indicator", "name", "unit", "faculty", "measure", "value")
    assert ("A2-1", "Theses with an external partner", "count", "IE", "theses", 1) in summary
    assert len(summary) - 1 == len(indicator_exports.summary_rows(doc))
    assert [row[0] for row in wb["definitions"].iter_rows(min_row=2, values_only=True)] == [
        f"A2-{n}" for n in range(1, 11)]

    r = run(*base, "--format", "csv", "--detailed", "--out", str(tmp_path / "d.csv"))
    assert r.returncode == 0, r.stderr
    detail = list(csv.DictReader(io.StringIO((tmp_path / "d.csv").read_text())))
    assert any(d["indicator"] == "A2-1" and d["form"] == "thesis_task" for d in detail)

    r = run("indicators", "list")
    assert r.returncode == 0 and "A2-10" in r.stdout and "Matching funnel" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["--from", "2026-01-01", "--to", "2025-01-01"], "before it starts"),
    (["--from", "2025-01-01", "--to", "soon"], "not a date"),
    (["--from", "2025-01-01", "--to", "2025-12-31", "--by", "colour"], "unknown breakdown"),
    (["--from", "2025-01-01", "--to", "2025-12-31", "--unit", "NOPE"], "Unknown unit"),
    (["--from", "2025-01-01", "--to", "2025-12-31", "--as-of", "999999"], "beyond the last"),
])
def test_cli_bad_input_writes_nothing(run, tmp_path, args, message):
    out = tmp_path / "out.csv"
    r = run("indicators", "export", *args, "--out", str(out))
    assert r.returncode != 0 and message in r.stderr, r.stderr
    assert r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr
    assert not out.exists()
