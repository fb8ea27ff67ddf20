"""Indicator benchmark: the A2 engine on SQLite and PostgreSQL, DuckDB as reference.

    python bench/indicators.py                      # 1,000,000 events
    python bench/indicators.py --events 100000      # smaller
    python bench/indicators.py --pg postgresql://postgres@127.0.0.1:5432/test
    python bench/indicators.py --events 200000 --profile   # + seconds per indicator
    python bench/indicators.py --events 100000 --dump out.json  # results, to diff two engines

Builds a deterministic (seeded) synthetic ``collaboration_event`` log over five
academic years (2020/21 … 2024/25) with plausible dimension snapshots and the
``data`` keys the engine reads (see portal/services/indicators.py), loads it
into a migrated SQLite file (temp dir) and into a scratch PostgreSQL schema
(dropped at the end; skipped when the server is unreachable), then times
``indicators.compute`` for the full A2 set for academic year 2024/25 broken
down by partner_sector × faculty × form, and the same grouped counts (every
plain count/sum measure, not the look-back ones) in DuckDB over the same rows
as the reference. Needs ``pip install -e .[bench]`` (duckdb).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from portal import migrate  # noqa: E402
from portal.config import normalise_database_url  # noqa: E402
from portal.models import CollaborationEvent  # noqa: E402
from portal.services import indicators  # noqa: E402

BY = "partner_sector,faculty,form"
PERIOD = {"date_from": "2024-08-01", "date_to": "2025-07-31"}
START = datetime(2020, 8, 1, tzinfo=UTC)
DAYS = 5 * 365
COLUMNS = ("id", "type", "occurred_at", "recorded_at", "actor_key", "subject_key",
           "collaboration_id", "opportunity_id", "application_id", "organisation_id",
           "unit_id", "course_id", "form", "opportunity_kind", "partner_sector",
           "partner_public_enterprise", "partner_size", "partner_country", "partner_nace",
           "faculty", "department", "unit", "course", "study_level", "programme", "data")
SECTORS = ("private", "public_state", "public_municipal", "non_profit", "international")
SIZES = ("micro", "small", "medium", "large")
COUNTRIES = ("NO",) * 8 + ("SE", "DE")
NACE = ("62", "71", "72", "84", "85", "86", "41", "10", "35", "64")
LEVELS = ("bachelor", "master", "phd")
FORMS = (("thesis_task", 22), ("placement", 14), ("industry_case", 10), ("eit_village", 2),
         ("guest_lecture", 14), ("company_visit", 8), ("workshop", 8), ("career_event", 5),
         ("mentoring", 4), ("advisory_role", 3), ("shared_position", 3),
         ("staff_mobility", 2), ("research_project", 5))
OUTCOMES = ("student_recruited", "follow_up_project", "publication", "tto_disclosure")


def generate(n_events: int, seed: int = 20250801) -> list[tuple]:
    """Deterministic synthetic events, ordered by occurred_at (ids ascending)."""
    rnd = random.Random(seed)
    faculties = [f"F{i}" for i in range(8)]
    departments = {f: [f"{f}-D{j}" for j in range(4)] for f in faculties}
    n_orgs = max(50, n_events // 200)
    orgs = [(rnd.choice(SECTORS), rnd.choice(SIZES), rnd.choice(COUNTRIES), rnd.choice(NACE))
            for _ in range(n_orgs)]
    forms, weights = zip(*FORMS, strict=True)
    pending: list[tuple] = []
    collab = opp = app = 0
    while len(pending) < n_events:
        form = rnd.choices(forms, weights)[0]
        collab += 1
        org_id = 1 + min(int(rnd.paretovariate(1.2)) - 1, n_orgs - 1) if rnd.random() < 0.5 \
            else rnd.randrange(1, n_orgs + 1)
        sector, size, country, nace = orgs[org_id - 1]
        fac = rnd.choice(faculties)
        dep = rnd.choice(departments[fac])
        level = rnd.choice(LEVELS[:2]) if form in ("thesis_task", "placement",
                                                   "industry_case") else None
        t0 = START + timedelta(days=rnd.randrange(DAYS), seconds=rnd.randrange(86400))
        snap = {"form": form, "partner_sector": sector, "partner_size": size,
                "partner_country": country, "partner_nace": nace, "faculty": fac,
                "department": dep, "unit": dep, "study_level": level,
                "programme": f"P{fac}{level or ''}" if level else None,
                "organisation_id": org_id, "collaboration_id": collab}
        staff = [f"s{rnd.randrange(4000):05d}" for _ in range(rnd.randint(1, 2))]
        evs: list[tuple[datetime, str, dict, dict]] = []  # (when, type, extra columns, data)

        def add(days, typ, data=None, _t0=t0, _evs=evs, **cols):
            _evs.append((_t0 + timedelta(days=days), typ, cols, data or {}))

        if form in ("thesis_task", "placement", "industry_case", "eit_village"):
            opp += 1
            places = rnd.randint(1, 3)
            add(0, "opportunity_published", {"places": places}, opportunity_id=opp,
                collaboration_id=None)
            if form == "industry_case":
                sem = f"{(t0 + timedelta(days=30)).year}{'V' if t0.month >= 8 else 'H'}"
                add(30, "course_tagged", {"semester": sem, "teams_count": rnd.randint(1, 8),
                                          "students_reached": rnd.randint(5, 60)},
                    opportunity_id=opp, collaboration_id=None, course_id=rnd.randrange(1, 400),
                    course=f"C{rnd.randrange(400)}")
                if rnd.random() < 0.05:
                    add(40, "course_untagged", {"semester": sem}, opportunity_id=opp,
                        collaboration_id=None, course_id=None)
            else:
                n_apps = rnd.randint(1, 4)
                for k in range(n_apps):
                    app += 1
                    add(1 + k, "application_submitted", {}, opportunity_id=opp,
                        application_id=app, collaboration_id=None)
                d = rnd.randint(3, 40)
                add(d, "application_accepted", {"days_to_match": d, "consumes_place": True},
                    opportunity_id=opp, application_id=app)
                start = "partner_joined_village" if form == "eit_village" else \
                    "collaboration_agreed"
                add(d, start, {"participant_keys": {"supervisor": staff}}, opportunity_id=opp)
                add(d + 1, "participant_added", {"role": "supervisor"}, subject_key=staff[0])
                if form == "placement":
                    add(d + 20, "collaboration_started",
                        {"students": rnd.randint(1, 3),
                         "ects": rnd.choice((0, 7.5, 15, 30))})
                if form == "thesis_task" and rnd.random() < 0.8:
                    add(d + 150, "result_recorded", {"result_type": "thesis_delivered"})
                if rnd.random() < 0.7:
                    if rnd.random() < 0.3:
                        add(d + 160, "result_recorded", {"result_type": rnd.choice(OUTCOMES)})
                    add(d + 170, "collaboration_completed", {})
        else:
            data = {"participant_keys": {"staff": staff}, "status":
                    "completed" if rnd.random() < 0.6 else "ongoing"}
            if form in ("shared_position", "staff_mobility"):
                data.update({"fte": rnd.choice((0.1, 0.2, 0.5)),
                             "person_months": rnd.randint(1, 12)})
            else:
                data["participants_count"] = rnd.randint(5, 200)
            add(0, "collaboration_recorded", data)
            if rnd.random() < 0.2:
                add(5, "impact_story_recorded", {})
            if form == "research_project" and rnd.random() < 0.3:
                add(200, "result_recorded", {"result_type": rnd.choice(OUTCOMES)})
        for when, typ, cols, data in evs:
            row = dict(snap)
            row.update(cols)
            pending.append((when, typ, row, data))
    pending = pending[:n_events]
    pending.sort(key=lambda e: e[0])
    out = []
    for i, (when, typ, row, data) in enumerate(pending, start=1):
        out.append((i, typ, when, when, None, row.get("subject_key"), row.get("collaboration_id"),
                    row.get("opportunity_id"), row.get("application_id"),
                    row["organisation_id"], None, row.get("course_id"), row["form"],
                    row["form"] if row.get("opportunity_id") else None, row["partner_sector"],
                    None, row["partner_size"],
                    row["partner_country"], row["partner_nace"], row["faculty"],
                    row["department"], row["unit"], row.get("course"), row["study_level"],
                    row["programme"], json.dumps(data, separators=(",", ":"))))
    return out


def load_sqlite(url: str, rows: list[tuple]) -> None:
    engine = create_engine(url)
    table = CollaborationEvent.__table__
    batch = 50_000
    with engine.begin() as conn:
        for i in range(0, len(rows), batch):
            conn.execute(table.insert(), [
                {**dict(zip(COLUMNS, r, strict=True)), "data": json.loads(r[-1])}
                for r in rows[i:i + batch]])
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def load_pg(url: str, rows: list[tuple]) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(
                f"COPY collaboration_event ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)
        conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('collaboration_event', "
                             "'id'), (SELECT max(id) FROM collaboration_event))")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE collaboration_event")
    engine.dispose()


def time_compute(url: str, repeat: int = 2) -> tuple[float, dict]:
    engine = create_engine(url)
    best, result = float("inf"), {}
    for _ in range(repeat):
        with Session(engine) as db:
            t = time.perf_counter()
            result = indicators.compute(db, **PERIOD, by=BY)
            best = min(best, time.perf_counter() - t)
    engine.dispose()
    return best, result


def profile(url: str, label: str, repeat: int = 2) -> None:
    """Best-of-``repeat`` seconds per indicator, each computed on its own as compute() does."""
    engine = create_engine(url)
    best: dict[str, float] = {}
    for _ in range(repeat):
        with Session(engine) as db:
            req = indicators.make_request(db, **PERIOD, by=BY)
            for ind in indicators.INDICATORS:
                t = time.perf_counter()
                indicators.compute_indicator(db, ind, req)
                best[ind.id] = min(best.get(ind.id, float("inf")), time.perf_counter() - t)
    engine.dispose()
    cells = "  ".join(f"{k} {v:.2f}" for k, v in best.items())
    print(f"{label} profile (s): {cells}  sum {sum(best.values()):.2f}")


DUCK_SQL = """
WITH e AS (SELECT * FROM ev WHERE occurred_at >= ? AND occurred_at < ?)
SELECT partner_sector, faculty, form,
  count(DISTINCT collaboration_id) FILTER (WHERE type = 'result_recorded'
     AND data->>'result_type' = 'thesis_delivered' AND form = 'thesis_task') AS theses,
  count(DISTINCT collaboration_id) FILTER (WHERE type = 'collaboration_started'
     AND form = 'placement') AS placements,
  coalesce(sum(CAST(data->>'students' AS INTEGER)) FILTER (WHERE type = 'collaboration_started'
     AND form = 'placement'), 0) AS students,
  count(DISTINCT collaboration_id) FILTER (WHERE type = 'collaboration_recorded'
     AND form IN ('guest_lecture','company_visit','workshop','career_event','mentoring',
                  'advisory_role')) AS activities,
  count(DISTINCT organisation_id) FILTER (WHERE organisation_id IS NOT NULL
     AND type IN ({collab_types})) AS active,
  count(DISTINCT opportunity_id) FILTER (WHERE type = 'opportunity_published') AS published,
  count(*) FILTER (WHERE type = 'application_submitted') AS applications,
  count(*) FILTER (WHERE type = 'application_accepted') AS matches,
  count(DISTINCT collaboration_id) FILTER (WHERE type = 'collaboration_completed'
     OR (type = 'collaboration_recorded' AND data->>'status' = 'completed')) AS completed
FROM e GROUP BY ALL
"""


def duck_reference(rows: list[tuple]) -> tuple[float, float, dict]:
    import duckdb

    con = duckdb.connect()
    t = time.perf_counter()
    con.execute("CREATE TABLE ev (id BIGINT, type VARCHAR, occurred_at TIMESTAMPTZ, "
                "collaboration_id BIGINT, opportunity_id BIGINT, organisation_id BIGINT, "
                "form VARCHAR, partner_sector VARCHAR, faculty VARCHAR, data JSON)")
    names = ("id", "type", "occurred_at", "collaboration_id", "opportunity_id",
             "organisation_id", "form", "partner_sector", "faculty", "data")
    idx = [COLUMNS.index(c) for c in names]
    with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", delete=False) as fh:
        writer = csv.writer(fh)
        for r in rows:
            writer.writerow([r[i].isoformat() if i == 2 else r[i] for i in idx])
    try:
        types = ("BIGINT", "VARCHAR", "TIMESTAMPTZ", "BIGINT", "BIGINT", "BIGINT", "VARCHAR",
                 "VARCHAR", "VARCHAR", "JSON")
        spec = ", ".join(f"'{n}': '{t}'" for n, t in zip(names, types, strict=True))
        con.execute(f"INSERT INTO ev SELECT * FROM read_csv('{fh.name}', header=false, "
                    f"nullstr='', columns={{{spec}}})")
    finally:
        os.unlink(fh.name)
    load = time.perf_counter() - t
    start = datetime(2024, 7, 31, 22, tzinfo=UTC)  # 1 Aug 2024 00:00 Oslo
    end = datetime(2025, 7, 31, 22, tzinfo=UTC)
    best, out = float("inf"), None
    for _ in range(2):
        t = time.perf_counter()
        sql = DUCK_SQL.format(collab_types=", ".join(
            f"'{t}'" for t in indicators.COLLABORATION_TYPES))
        out = con.execute(sql, [start, end]).fetchall()
        best = min(best, time.perf_counter() - t)
    ref = {(r[0], r[1], r[2]): r[3:] for r in out}
    return load, best, ref


def check_against(result: dict, ref: dict) -> str:
    """Compare a few engine measures with DuckDB's grouped counts."""
    want = {"A2-1": ("theses", 0), "A2-2": ("placements", 1), "A2-4": ("activities", 3),
            "A2-6": ("active", 4), "A2-7": ("published", 5), "A2-8": ("completed", 8)}
    bad = 0
    checked = 0
    for ind in result["indicators"]:
        if ind["id"] not in want:
            continue
        measure, col = want[ind["id"]]
        for r in ind["rows"]:
            if r["measure"] != measure:
                continue
            key = (r["partner_sector"], r["faculty"], r["form"])
            expected = ref.get(key, (0,) * 9)[col]
            checked += 1
            bad += expected != r["value"]
    return f"{checked} cells compared, {bad} differ"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--pg", default=os.environ.get("BENCH_PG_URL",
                                                   "postgresql://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--profile", action="store_true",
                    help="also print the seconds each indicator takes, per database")
    ap.add_argument("--dump", metavar="PATH",
                    help="write the SQLite and PostgreSQL results (less generated_at) as JSON")
    args = ap.parse_args()
    print(f"cores: {os.cpu_count()}  events: {args.events:,}  period: 2024/25  by: {BY}")
    t = time.perf_counter()
    rows = generate(args.events)
    print(f"generate: {time.perf_counter() - t:.1f} s")

    tmp = Path(tempfile.mkdtemp(prefix="bench-indicators-"))
    try:
        url = f"sqlite:///{tmp / 'bench.db'}"
        migrate.upgrade(url)
        t = time.perf_counter()
        load_sqlite(url, rows)
        print(f"sqlite     load: {time.perf_counter() - t:6.1f} s")
        secs, sqlite_result = time_compute(url)
        print(f"sqlite     compute (A2-1..A2-10, {BY}): {secs:6.2f} s")
        if args.profile:
            profile(url, "sqlite    ")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    pg_result = None
    schema = f"bench_indicators_{os.getpid()}"
    admin = None
    try:
        admin = create_engine(normalise_database_url(args.pg))
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - a bench: report and go on
        print(f"postgresql skipped: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
        admin = None
    if admin is not None:
        try:
            sep = "&" if "?" in args.pg else "?"
            url = normalise_database_url(
                f"{args.pg}{sep}options={quote(f'-csearch_path={schema}')}")
            migrate.upgrade(url)
            t = time.perf_counter()
            load_pg(url, rows)
            print(f"postgresql load: {time.perf_counter() - t:6.1f} s")
            secs, pg_result = time_compute(url)
            print(f"postgresql compute (A2-1..A2-10, {BY}): {secs:6.2f} s")
            if args.profile:
                profile(url, "postgresql")
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()

    if args.dump:
        out = {name: {"last_event_id": r["meta"]["last_event_id"], "indicators": r["indicators"]}
               for name, r in (("sqlite", sqlite_result), ("postgresql", pg_result)) if r}
        Path(args.dump).write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
        print(f"results written to {args.dump}")

    try:
        load, secs, ref = duck_reference(rows)
    except ImportError as exc:
        print(f"duckdb skipped ({exc}); pip install -e .[bench]")
        return
    print(f"duckdb     load: {load:6.1f} s")
    print(f"duckdb     grouped counts (same rows, {BY}): {secs:6.3f} s")
    print(f"check sqlite vs duckdb: {check_against(sqlite_result, ref)}")
    if pg_result is not None:
        print(f"check postgresql vs duckdb: {check_against(pg_result, ref)}")
        same = sqlite_result["indicators"] == pg_result["indicators"]
        print(f"sqlite and postgresql results identical: {same}")


if __name__ == "__main__":
    main()
