"""The coordinator dashboard of the A2 indicators: numbers, charts, exports, access."""

from __future__ import annotations

import html
import json
import re

import pytest

from portal.services import indicators, passwords
from portal.web.indicators import fmt, measure_label
from tests.conftest import Browserless
from tests.helpers import PASSWORD
from tests.test_indicators import AY25, build

URL = "/coordinator/indicators"
Q25 = "date_from=2025-08-01&date_to=2026-07-31"


@pytest.fixture
def login(app, db, w):
    hashed = passwords.hash_password(PASSWORD)
    for u in (w.coordinator, w.staff, w.staff2, w.student, w.partner):
        u.password_hash = hashed
        u.locale = "en"
    db.commit()

    def _login(user) -> Browserless:
        browser = Browserless(app.test_client())
        r = browser.login(user.email, PASSWORD)
        assert r.status_code == 302, r.status_code
        return browser
    return _login


def _section(page: str, ind_id: str) -> str:
    start = page.index(f'id="h-{ind_id}"')
    end = page.find("<section", start)
    return page[start:end if end > 0 else None]


def _table(section: str) -> dict[str, str]:
    """{row header: first value cell text} of a section's data table."""
    rows = re.findall(r'<th scope="row">([^<]*)</th>\s*<td class="num">(?:<a href="[^"]*">)?'
                      r'([^<]*)', section)
    return {html.unescape(k): html.unescape(v) for k, v in rows}


def _en(app):
    return app.test_request_context(headers={"Accept-Language": "en"})


def test_coordinator_sees_the_engine_numbers_with_charts(app, db, w, login):
    build(db, w)
    coord = login(w.coordinator)
    r = coord.get(f"{URL}?{Q25}")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    expected = indicators.compute(db, **AY25)
    assert f"<dd>{expected['meta']['last_event_id']}</dd>" in page
    with _en(app):
        for ind in expected["indicators"]:
            section = _section(page, ind["id"])
            got = _table(section)
            for x in ind["rows"]:
                assert got[measure_label(x["measure"])] == fmt(x["value"], x["measure"]), \
                    (ind["id"], x)
            # every indicator has its chart: an SVG image with a title and a description
            assert re.search(r'<svg class="bar-chart" role="img" aria-labelledby="[^"]+"', section)
            assert f'<title id="chart-{ind["id"]}-title">' in section and "<desc" in section
    assert "style=" not in page and "<script" not in page
    # the trend: three academic years ending with 2025/26
    assert "2023/24" in page and "2024/25" in page and "2025/26" in page
    assert '<title id="trend-A2-1-title">' in page


def test_breakdown_and_drill_down(app, db, w, login):
    th = build(db, w)
    coord = login(w.coordinator)
    page = coord.get(f"{URL}?{Q25}&by=faculty").get_data(as_text=True)
    section = _section(page, "A2-1")
    assert re.search(r'<th scope="row">IE</th>\s*<td class="num"><a href="[^"]+">1<', section)
    link = html.unescape(re.search(r'<td class="num"><a href="([^"]+)">1<', section).group(1))
    assert "indicator=A2-1" in link and "dim_faculty=IE" in link
    drill = coord.get(link)
    assert drill.status_code == 200
    text = drill.get_data(as_text=True)
    assert f"#{th.id} " in text and th.title in text  # the coordinator may see it
    # a staff member of IV-IBM drills into their own unit: the IE thesis is not there
    staff2 = login(w.staff2)
    r = staff2.get(link + "&unit=IV-IBM")
    assert r.status_code == 200
    assert "Nothing counted" in r.get_data(as_text=True)  # the thesis is not IV's


def test_drill_down_hides_titles_the_viewer_may_not_see(app, db, w, login):
    th = build(db, w)
    staff = login(w.staff)  # IE-IDI, not a participant of the shared position in IV
    r = staff.get(f"{URL}/drill?{Q25}&unit=IE-IDI&indicator=A2-1&measure=theses")
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and f"#{th.id}" in text
    assert "Stina" not in text and "@" not in text.split("<main", 1)[1].split("</main>")[0]


def test_export_link_gives_the_engine_json(app, db, w, login):
    build(db, w)
    coord = login(w.coordinator)
    page = coord.get(f"{URL}?{Q25}&by=partner_sector").get_data(as_text=True)
    links = [html.unescape(h) for h in re.findall(r'href="([^"]*/export\?[^"]*)"', page)]
    assert len(links) == 6
    json_link = next(h for h in links if "format=json" in h and "detailed" not in h)
    r = coord.get(json_link)
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    got = json.loads(r.get_data())
    expected = indicators.compute(db, **AY25, by="partner_sector")
    got["meta"].pop("generated_at"), expected["meta"].pop("generated_at")
    assert got == expected
    for h in links:
        r = coord.get(h)
        assert r.status_code == 200 and r.headers["Content-Disposition"].startswith("attachment")
    xlsx = next(h for h in links if "format=xlsx" in h and "detailed" not in h)
    assert coord.get(xlsx).get_data()[:2] == b"PK"


@pytest.mark.parametrize("who", ["student", "partner"])
def test_students_and_partners_are_refused(app, db, w, login, who):
    browser = login(getattr(w, who))
    assert browser.get(f"{URL}?{Q25}").status_code == 403
    assert browser.get(f"{URL}/export?{Q25}&format=json").status_code == 403
    assert browser.get(f"{URL}/drill?{Q25}&indicator=A2-1&measure=theses").status_code == 403


def test_staff_see_only_their_units(app, db, w, login):
    build(db, w)
    staff = login(w.staff)  # member of IE-IDI
    r = staff.get(URL)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    offered = re.findall(r'<option[^>]*value="([^"]*)"', page.split('name="unit"')[1]
                         .split("</select>")[0])
    assert offered == ["IE-IDI", "IE-IDI-AI"]
    assert "<dd>IE-IDI</dd>" in page
    assert staff.get(f"{URL}?{Q25}&unit=IV").status_code == 403
    assert staff.get(f"{URL}?{Q25}&unit=IE").status_code == 403  # above theirs
    assert staff.get(f"{URL}/export?{Q25}&unit=IV&format=csv").status_code == 403
    r = staff.get(f"{URL}?{Q25}&unit=")
    assert r.status_code == 400  # the whole institution is not theirs to choose
    got = _table(_section(staff.get(f"{URL}?{Q25}&unit=IE-IDI").get_data(as_text=True), "A2-1"))
    with _en(app):
        assert got[measure_label("theses")] == "1"


def test_staff_without_a_unit_is_refused(app, db, w, login):
    from portal.services import academic

    academic.remove_unit_member(db, w.ibm, w.staff2)
    db.commit()
    assert login(w.staff2).get(URL).status_code == 403


@pytest.mark.parametrize("query, field, message", [
    ("date_from=2026-01-01&date_to=2025-01-01", "date_to", "end on or after"),
    ("date_from=2025-13-01&date_to=2026-01-01", "date_from", "Not a valid date"),
    ("date_from=yesterday&date_to=2026-01-01", "date_from", "Not a valid date"),
    (f"{Q25}&unit=NOPE", "unit", "Unknown unit"),
    (f"{Q25}&by=colour", "by", "Choose a breakdown"),
])
def test_bad_input_is_a_form_error(app, db, w, login, query, field, message):
    coord = login(w.coordinator)
    for path in (URL, f"{URL}/export", f"{URL}/drill"):
        r = coord.get(f"{path}?{query}&format=json&indicator=A2-1&measure=theses")
        assert r.status_code == 400, (path, r.status_code)
        page = r.get_data(as_text=True)
        assert f'id="{field}-error"' in page and message in page, (path, page[-3000:])
