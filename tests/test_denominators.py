"""Denominators: CSV loading, normalised indicator rows and the department comparison."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.models import Denominator
from portal.services import denominators as dn
from portal.services import indicators
from portal.services.errors import ValidationFailed
from tests.helpers import portal_cli
from tests.test_indicators import AY25, build, values

GOOD = """unit,year,students,theses,academic_fte
IE,2025,200,10,20.5
IV,2025,300,20,30
IE-IDI,2025,100,4,10
IV-IBM,2025,50,5,8
"""


def count(db):
    return db.execute(select(func.count(Denominator.id))).scalar_one()


def test_load_valid_csv(db, w):
    assert dn.load_csv(db, GOOD) == 4
    db.commit()
    rows = {(d.unit_code, d.year): d for d in dn.list_denominators(db)}
    assert set(rows) == {("IE", 2025), ("IV", 2025), ("IE-IDI", 2025), ("IV-IBM", 2025)}
    ie = rows[("IE", 2025)]
    assert (ie.students, ie.theses, ie.academic_fte) == (200, 10, Decimal("20.5"))
    assert isinstance(ie.loaded_at, datetime)


def test_reloading_replaces(db, w):
    dn.load_csv(db, GOOD)
    db.commit()
    assert dn.load_csv(db, "unit,year,students,theses,academic_fte\nIE,2025,250,12,21\n") == 1
    db.commit()
    assert count(db) == 4
    ie = db.execute(select(Denominator).where(Denominator.unit_code == "IE")).scalar_one()
    assert (ie.students, ie.theses, ie.academic_fte) == (250, 12, Decimal("21"))


@pytest.mark.parametrize("body, message", [
    ("IE,2025,12.5,1,1", "line 2: students: not a whole number"),
    ("IE,2025,10,1,1\nIV,2025,-3,1,1", "line 3: students: not a whole number"),
    ("IE,2025,10,x,1", "line 2: theses: not a whole number"),
    ("IE,2025,10,1,-2", "line 2: academic_fte: must not be negative"),
    ("IE,2025,10,1,abc", "line 2: academic_fte: not a number"),
    ("IE,1999,10,1,1", "line 2: year: must be between 2000 and 2100"),
    ("IE,2025/26,10,1,1", "line 2: year: not a whole number"),
    ("NOPE,2025,10,1,1", "line 2: unit: unknown unit code 'NOPE'"),
    ("IE,2025,10,1", "line 2: expected 5 fields, got 4"),
    ("IE,2025,10,1,1\nIE,2025,11,1,1", "line 3: IE 2025 already given on line 2"),
])
def test_bad_lines_name_the_line_and_write_nothing(db, w, body, message):
    with pytest.raises(ValidationFailed) as exc:
        dn.load_csv(db, "unit,year,students,theses,academic_fte\n" + body + "\n")
    assert message in exc.value.one_line() and "\n" not in exc.value.one_line()
    db.rollback()
    assert count(db) == 0


def test_bad_header_and_several_errors(db, w):
    with pytest.raises(ValidationFailed, match="line 1: the header must be"):
        dn.load_csv(db, "unit;year\nIE;2025\n")
    with pytest.raises(ValidationFailed) as exc:
        dn.load_csv(db, "unit,year,students,theses,academic_fte\nIE,2025,1,1,1\nX,3000,a,1,1\n")
    line = exc.value.one_line()
    assert "line 3: unit" in line and "line 3: year" in line and "line 3: students" in line
    assert count(db) == 0


def test_no_denominators_leaves_the_output_unchanged(db, w):
    build(db, w)
    r = indicators.compute(db, **AY25)
    assert "denominators" not in r["meta"]
    assert values(r, "A2-1") == {"theses": 1}


def test_normalised_values_for_the_institution_a_unit_and_per_faculty(db, w):
    build(db, w)
    dn.load_csv(db, GOOD)
    db.commit()
    r = indicators.compute(db, **AY25)  # institution: 500 students, 30 theses, 50.5 FTE
    assert r["meta"]["denominators"]["academic_year"] == "2025/26"
    assert values(r, "A2-1") == {"theses": 1, "theses_per_100_students": 0.2,
                                 "share_of_unit_theses": 0.0333}
    assert values(r, "A2-2")["placements_per_100_students"] == 0.2
    assert values(r, "A2-2")["students_per_100_students"] == 0.2
    assert values(r, "A2-3")["students_reached_per_100_students"] == 4
    assert values(r, "A2-4")["activities_per_academic_fte"] == 0.0198
    assert values(r, "A2-5")["headcount_per_academic_fte"] == 0.0198
    assert values(r, "A2-6")["active_per_academic_fte"] == 0.0396
    assert "theses_per_100_students" not in values(r, "A2-7")

    r = indicators.compute(db, **AY25, unit="IE-IDI")
    assert values(r, "A2-1") == {"theses": 1, "theses_per_100_students": 1,
                                 "share_of_unit_theses": 0.25}
    assert values(r, "A2-4")["activities_per_academic_fte"] == 0.1

    r = indicators.compute(db, **AY25, by="faculty")
    assert values(r, "A2-1", faculty="IE") == {"theses": 1, "theses_per_100_students": 0.5,
                                               "share_of_unit_theses": 0.1}
    assert values(r, "A2-5", faculty="IV")["headcount_per_academic_fte"] == 0.0333

    # Not one academic year, another breakdown, or a year without figures: no rows.
    for kw in ({"date_from": "2025-01-01", "date_to": "2026-07-31"},
               {**AY25, "by": "form"},
               {"date_from": "2026-08-01", "date_to": "2027-07-31"}):
        r = indicators.compute(db, **kw)
        assert "denominators" not in r["meta"]
        assert not any(row["measure"] in dn.MEASURES
                       for i in r["indicators"] for row in i["rows"])


def test_institution_needs_every_faculty(db, w):
    build(db, w)
    dn.load_csv(db, "unit,year,students,theses,academic_fte\nIE,2025,200,10,20\n")
    db.commit()
    r = indicators.compute(db, **AY25)
    assert values(r, "A2-1") == {"theses": 1}
    r = indicators.compute(db, **AY25, unit="IE")
    assert values(r, "A2-1")["theses_per_100_students"] == 0.5


def test_compare_departments(db, w):
    build(db, w)
    dn.load_csv(db, GOOD)
    db.commit()
    assert dn.compare_departments(db, "theses_per_100_students", 2025) == [
        {"department": "IE-IDI", "faculty": "IE", "value": 1, "faculty_average": 1.0,
         "quintile": 3},
        {"department": "IV-IBM", "faculty": "IV", "value": 0, "faculty_average": 0.0,
         "quintile": 1},
    ]
    with pytest.raises(ValidationFailed, match="unknown normalised measure"):
        dn.compare_departments(db, "theses", 2025)


# ------------------------------------------------------------------------ CLI
@pytest.fixture
def run(tmp_path, database_url):
    return portal_cli(tmp_path, database_url)


def test_cli_load_and_list(db, w, run, tmp_path):
    db.commit()
    db.close()
    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    r = run("indicators", "denominators", "load", str(good))
    assert r.returncode == 0, r.stderr
    assert "loaded 4" in r.stdout
    r = run("indicators", "denominators", "list")
    assert r.returncode == 0, r.stderr
    assert "IE-IDI\t2025/26\t100\t4\t10" in r.stdout


def test_cli_bad_file_exits_1_and_writes_nothing(db, w, run, tmp_path):
    db.commit()
    db.close()
    bad = tmp_path / "bad.csv"
    bad.write_text("unit,year,students,theses,academic_fte\nIE,2025,200,10,20\n"
                   "IV,2025,many,20,30\n")
    r = run("indicators", "denominators", "load", str(bad))
    assert r.returncode == 1
    assert r.stderr.strip() == "error: line 3: students: not a whole number"
    assert count(db) == 0
    r = run("indicators", "denominators", "load", str(tmp_path / "missing.csv"))
    assert r.returncode == 1 and "cannot read" in r.stderr and "Traceback" not in r.stderr
