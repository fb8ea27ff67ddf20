"""The job runtime: registry, run records, the jobs' own rules, the CLI and the admin page.

The lease between processes is in test_job_lease.py.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from portal import jobs
from portal.db import transaction
from portal.jobs import Job, JobBusy, UnknownJob, registry, run_job
from portal.models import JobLease, JobRun, Opportunity, OutboxMail, utcnow
from portal.services import job_runs, mail
from tests.conftest import Browserless, csrf_token_from
from tests.helpers import PASSWORD, make_user, portal_cli
from tests.matching_builders import DEADLINE, thesis

WAIT = 180  # seconds: a limit for slow machines, not an expectation
NAMES = ("close_expired", "saved_search_alerts", "result_reminders", "search_catchup",
         "retention", "deliver_mail")


@pytest.fixture
def app_config(app_config):
    # The search index is fed only by the search_catchup job here, as with a separate worker.
    return {**app_config, "search_sync": False, "mail_inline": False}


def _runs(db, job=None) -> list[JobRun]:
    db.rollback()
    q = select(JobRun).order_by(JobRun.id)
    if job:
        q = q.where(JobRun.job == job)
    return list(db.execute(q).scalars())


def _test_job(name, body, interval=timedelta(minutes=1)) -> dict[str, Job]:
    return registry([Job(name, "a test job", interval, "every minute", body)])


# ------------------------------------------------------------------ registry
def test_registry_has_the_six_jobs_in_order():
    assert jobs.JOB_NAMES == NAMES
    for job in jobs.JOBS:
        assert str(job.description) and str(job.schedule)
        assert job.interval >= timedelta(minutes=1)
    by_name = registry()
    assert by_name["deliver_mail"].interval == by_name["search_catchup"].interval == timedelta(minutes=1)
    assert by_name["close_expired"].interval == by_name["saved_search_alerts"].interval == timedelta(hours=1)
    assert by_name["result_reminders"].interval == by_name["retention"].interval == timedelta(days=1)
    with pytest.raises(UnknownJob, match="close_expired, saved_search_alerts"):
        jobs.get_job("nope")


# ------------------------------------------------------------------ run records
def test_start_row_is_committed_before_the_body_runs(app, db):
    seen = {}

    def body(factory, settings, now):
        with factory() as other:  # another session sees what is committed
            row = other.execute(select(JobRun).where(JobRun.job == "probe")).scalar_one()
            seen["outcome"], seen["runner"] = row.outcome, row.runner
            seen["holder"] = job_runs.holder_of(other, "job:probe")
            seen["now"] = now
        return {"done": 1, "ignored": "x"}

    at = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    run = run_job(app, "probe", now=at, jobs=_test_job("probe", body))
    assert seen["outcome"] == "running" and seen["holder"] == seen["runner"]
    assert seen["now"] == at  # the body works with the given time …
    (row,) = _runs(db, "probe")
    assert row.id == run.id and row.outcome == "ok" and row.counts == {"done": 1}
    assert row.trigger == "manual" and row.error is None
    # … the record keeps the real ones
    assert row.started_at <= row.finished_at and row.started_at.year != 2030
    assert str(os.getpid()) in row.runner
    # the job's lease is given back
    assert db.get(JobLease, "job:probe") is None


def test_a_failing_job_is_recorded_and_the_next_run_recovers(app, db, caplog):
    state = {"fail": True}

    def flaky(factory, settings, now):
        if state["fail"]:
            raise RuntimeError("the partner API said no")
        return {"sent": 2}

    registry_ = _test_job("flaky", flaky)
    with caplog.at_level("ERROR", logger="portal.jobs"):
        failed = run_job(app, "flaky", jobs=registry_)
    assert failed.outcome == "failed"
    assert failed.error == "RuntimeError: the partner API said no"
    assert "Traceback" in caplog.text and "the partner API said no" in caplog.text
    state["fail"] = False
    ok = run_job(app, "flaky", jobs=registry_)
    assert ok.outcome == "ok" and ok.counts == {"sent": 2}
    rows = _runs(db, "flaky")
    assert [(r.outcome, r.error) for r in rows] == [
        ("failed", "RuntimeError: the partner API said no"), ("ok", None)]
    assert all(r.finished_at is not None for r in rows)
    assert db.get(JobLease, "job:flaky") is None


def test_a_missing_job_module_fails_only_that_job(app, db, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_retention(name, *args, **kw):
        if name == "portal.services" and args and args[2] and "retention" in args[2]:
            raise ImportError("No module named 'portal.services.retention'")
        return real_import(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_retention)
    run = run_job(app, "retention")
    assert run.outcome == "failed" and "ImportError" in run.error
    monkeypatch.setattr(builtins, "__import__", real_import)
    assert run_job(app, "close_expired").outcome == "ok"


def test_a_held_job_lease_means_busy_and_nothing_recorded(app, db):
    factory = app.extensions["portal.sessionmaker"]
    with transaction(factory) as s:
        assert job_runs.acquire(s, "job:close_expired", "elsewhere:1:x", seconds=300)
    with pytest.raises(JobBusy, match="running already"):
        run_job(app, "close_expired")
    assert _runs(db) == []
    # the other holder's lease is untouched
    assert db.get(JobLease, "job:close_expired").holder == "elsewhere:1:x"


def test_manual_and_scheduled_runs_never_overlap(app, db):
    inside, release = threading.Event(), threading.Event()

    def slow(factory, settings, now):
        inside.set()
        assert release.wait(60)
        return {"n": 1}

    registry_ = _test_job("slow", slow)
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("run", run_job(app, "slow", jobs=registry_)))
    t.start()
    try:
        assert inside.wait(60)
        with pytest.raises(JobBusy):
            run_job(app, "slow", trigger="schedule", jobs=registry_)
    finally:
        release.set()
        t.join(60)
    assert result["run"].outcome == "ok"
    assert [r.trigger for r in _runs(db, "slow")] == ["manual"]


def test_a_run_left_running_by_a_dead_runner_becomes_interrupted(app, db):
    factory = app.extensions["portal.sessionmaker"]
    with transaction(factory) as s:
        dead = job_runs.start_run(s, "close_expired", runner="gone:4242:dead", trigger="schedule")
    run = run_job(app, "close_expired")
    assert run.outcome == "ok"
    db.rollback()
    old = db.get(JobRun, dead.id)
    assert old.outcome == "interrupted" and old.finished_at is not None
    assert "stopped" in old.error


def test_a_running_row_whose_runner_still_holds_the_lease_is_left_alone(app, db):
    factory = app.extensions["portal.sessionmaker"]
    with transaction(factory) as s:
        job_runs.acquire(s, "job:close_expired", "alive:1:a", seconds=300)
        live = job_runs.start_run(s, "close_expired", runner="alive:1:a", trigger="schedule")
    with transaction(factory) as s:
        assert job_runs.mark_interrupted(s, "close_expired") == 0
    db.rollback()
    assert db.get(JobRun, live.id).outcome == "running"


def test_due_runs_only_once_per_interval(app, db):
    calls = []
    registry_ = _test_job("tick", lambda f, s, n: calls.append(n) or {"n": 1}, timedelta(hours=1))
    first = jobs.run_due(app, jobs=registry_.values())
    assert [(name, run.outcome) for name, run, _ in first] == [("tick", "ok")]
    again = jobs.run_due(app, jobs=registry_.values())
    assert again == [("tick", None, None)]
    # a failed run counts as a run; an interrupted one does not
    factory = app.extensions["portal.sessionmaker"]
    with transaction(factory) as s:
        s.execute(update(JobRun).values(outcome="interrupted"))
    assert jobs.run_due(app, jobs=registry_.values())[0][1].outcome == "ok"
    everything = jobs.run_due(app, all_jobs=True, jobs=registry_.values())
    assert everything[0][1].outcome == "ok" and len(calls) == 3
    # A tick comes a moment after the interval measured from the last run's start, so a run
    # that started a little less than an interval ago (within a tenth of it) is due again.
    with transaction(factory) as s:
        s.execute(update(JobRun).values(started_at=utcnow() - timedelta(minutes=57)))
    assert jobs.run_due(app, jobs=registry_.values())[0][1].outcome == "ok"
    with transaction(factory) as s:
        s.execute(update(JobRun).values(started_at=utcnow() - timedelta(minutes=50)))
    assert jobs.run_due(app, jobs=registry_.values())[0][1] is None
    assert len(calls) == 4


def test_in_process_scheduler_keeps_going_past_failures_and_gives_the_lease_back(app, db):
    beats = []
    second = threading.Event()

    def beat(factory, settings, now):
        beats.append(now)
        if len(beats) >= 2:
            second.set()
        return {"beat": 1}

    def boom(factory, settings, now):
        raise RuntimeError("always fails")

    second_ = timedelta(seconds=1)
    registry_ = registry([Job("boom", "fails", second_, "every second", boom),
                          Job("beat", "works", second_, "every second", beat)])
    scheduler = jobs.Scheduler(app, jobs=registry_.values(), lease_seconds=3)
    scheduler.start()
    try:
        assert second.wait(WAIT), "the scheduler did not keep running the jobs"
        db.rollback()
        assert job_runs.holder_of(db, "scheduler") == scheduler.holder
        assert scheduler.is_leader
    finally:
        scheduler.stop()
    db.rollback()
    assert job_runs.holder_of(db, "scheduler") is None
    rows = _runs(db, "beat")
    assert len(rows) >= 2 and all(r.outcome == "ok" and r.trigger == "schedule" for r in rows)
    failures = _runs(db, "boom")
    assert failures and all(r.outcome == "failed" and "always fails" in r.error for r in failures)


# ------------------------------------------------------------------ the jobs' rules
def test_close_expired_closes_past_deadline_and_is_idempotent(app, db, w):
    due = thesis(db, w)
    later = thesis(db, w, title="Senere frist", deadline=DEADLINE + timedelta(days=30))
    on_the_day = datetime(2025, 10, 1, 21, 30, tzinfo=UTC)  # 23:30 in Oslo, still the day
    assert run_job(app, "close_expired", now=on_the_day).counts == {"closed": 0}
    after = datetime(2025, 10, 1, 22, 30, tzinfo=UTC)
    first = run_job(app, "close_expired", now=after)
    assert first.outcome == "ok" and first.counts == {"closed": 1}
    db.rollback()
    assert db.get(Opportunity, due.id).status == "closed"
    assert db.get(Opportunity, due.id).closed_reason == "expired"
    assert db.get(Opportunity, later.id).status == "published"
    second = run_job(app, "close_expired", now=after)
    assert second.outcome == "ok" and second.counts == {"closed": 0}


def test_search_catchup_applies_changes_and_reports_drift(app, db, w):
    from search_index import state
    from search_index.query import search

    thesis(db, w, deadline=None)
    built = run_job(app, "search_catchup")
    assert built.outcome == "ok" and built.counts["drift"] == 0 and built.counts["applied"] == 1
    index = state.index_dir(app.config["PORTAL_SETTINGS"].data_dir)
    opp = thesis(db, w, title="Undervannsrobot for merdinspeksjon", deadline=None)
    assert search(index, "undervannsrobot").total == 0  # not applied yet
    run = run_job(app, "search_catchup")
    assert run.outcome == "ok"
    assert run.counts["applied"] >= 1 and run.counts["drift"] == 0 and run.counts["busy"] == 0
    assert [h.id for h in search(index, "undervannsrobot").hits] == [opp.id]
    # A change made behind the log's back shows as drift.
    factory = app.extensions["portal.sessionmaker"]
    with transaction(factory) as s:
        s.execute(update(Opportunity).where(Opportunity.id == opp.id)
                  .values(updated_at=utcnow() + timedelta(days=1)))
    drifted = run_job(app, "search_catchup")
    assert drifted.outcome == "ok" and drifted.counts["applied"] == 0 and drifted.counts["drift"] == 1


def test_deliver_mail_job_delivers_the_outbox(app, db):
    mail.enqueue(db, to="kari@example.no", subject="Hei", text="Hallo")
    db.commit()
    run = run_job(app, "deliver_mail")
    assert run.outcome == "ok" and run.counts["sent"] == 1
    assert run_job(app, "deliver_mail").counts["sent"] == 0
    db.rollback()
    assert db.execute(select(OutboxMail.status)).scalar_one() == "sent"


# ------------------------------------------------------------------ CLI
@pytest.fixture
def cli(tmp_path, database_url):
    return portal_cli(tmp_path, database_url, timeout=180, search_sync=0)


def _one_line_error(r):
    assert r.returncode == 1, r
    assert r.stderr.strip().count("\n") == 0, r.stderr
    assert r.stderr.startswith("error: ") and "Traceback" not in r.stderr
    return r.stderr


def test_cli_jobs_list_run_and_errors(cli, app, db):
    r = cli("jobs", "list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [ln.split()[0] for ln in lines[1:]] == list(NAMES)
    assert "never" in lines[1] and "hourly" in lines[1] and "deadline" in lines[1]

    r = cli("jobs", "run", "close_expired", "--now", "2030-01-01T00:00")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("close_expired: ok closed=0")
    r = cli("jobs", "list")
    assert " ok " in r.stdout.splitlines()[1]

    err = _one_line_error(cli("jobs", "run", "nope"))
    assert "unknown job nope" in err and ", ".join(NAMES) in err
    err = _one_line_error(cli("jobs", "run", "close_expired", "--now", "yesterday"))
    assert "--now" in err

    factory = app.extensions["portal.sessionmaker"]
    with transaction(factory) as s:
        job_runs.acquire(s, "job:retention", "elsewhere:1:x", seconds=600)
    err = _one_line_error(cli("jobs", "run", "retention"))
    assert "running already" in err
    assert _runs(db, "retention") == []


def test_cli_job_failure_is_one_line_and_recorded(cli, db):
    cli.data_dir.mkdir(parents=True, exist_ok=True)
    # A file where the search index directory belongs: the catch-up job cannot write it.
    (cli.data_dir / "search-index").write_text("not a directory")
    err = _one_line_error(cli("jobs", "run", "search_catchup"))
    assert "search_catchup failed (run" in err
    (row,) = _runs(db, "search_catchup")
    assert row.outcome == "failed" and row.error
    # the traceback went to the log file
    log_text = (cli.data_dir / "logs" / "portal.log").read_text()
    assert "Traceback" in log_text and "job search_catchup failed" in log_text


def test_cli_worker_once_runs_what_is_due(cli, db):
    r = cli("worker", "--once")
    assert r.returncode == 0, r.stdout + r.stderr
    assert [ln.split(":")[0] for ln in r.stdout.splitlines()] == list(NAMES)
    assert all(": ok" in ln for ln in r.stdout.splitlines())
    r = cli("worker", "--once")
    assert r.returncode == 0 and all(ln.endswith(": not due") for ln in r.stdout.splitlines())
    r = cli("worker", "--once", "--all")
    assert r.returncode == 0 and all(": ok" in ln for ln in r.stdout.splitlines())
    assert len(_runs(db)) == 12
    _one_line_error(cli("worker", "--all"))


# ------------------------------------------------------------------ admin page
@pytest.fixture
def admin(db):
    return make_user(db, email="ada@uni.no", name="Ada Admin", roles=("admin",))


def test_admin_jobs_page_lists_jobs_runs_and_failures(app, client, db, admin):
    run_job(app, "close_expired")
    run_job(app, "boom", jobs=_test_job("boom", lambda f, s, n: 1 / 0))
    web = Browserless(client)
    web.login("ada@uni.no", PASSWORD)
    page = client.get("/admin/jobs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in NAMES:
        assert f"<code>{name}</code>" in html
    assert "closed: 0" in html and "never" in html
    assert "ZeroDivisionError: division by zero" in html  # the recent failures
    home = client.get("/").get_data(as_text=True)
    assert 'href="/admin/jobs"' in home


def test_admin_runs_a_job_now_with_csrf(app, client, db, admin):
    web = Browserless(client)
    web.login("ada@uni.no", PASSWORD)
    r = web.submit("/admin/jobs", {}, post_url="/admin/jobs/close_expired/run", follow_redirects=True)
    assert r.status_code == 200 and "close_expired ran (closed: 0)" in r.get_data(as_text=True)
    (row,) = _runs(db, "close_expired")
    assert row.trigger == "manual" and row.outcome == "ok"
    # without the token nothing runs
    assert client.post("/admin/jobs/close_expired/run").status_code == 400
    assert len(_runs(db, "close_expired")) == 1
    r = web.submit("/admin/jobs", {}, post_url="/admin/jobs/nope/run")
    assert r.status_code == 404
    # busy: one line on the page, nothing recorded
    factory = app.extensions["portal.sessionmaker"]
    with transaction(factory) as s:
        job_runs.acquire(s, "job:retention", "elsewhere:1:x", seconds=600)
    r = web.submit("/admin/jobs", {}, post_url="/admin/jobs/retention/run", follow_redirects=True)
    assert "running already" in r.get_data(as_text=True)
    assert _runs(db, "retention") == []


def test_admin_sees_and_requeues_failed_mail(app, client, db, admin):
    bad = mail.enqueue(db, to="gone@example.no", subject="Søknad mottatt", text="Hei")
    db.commit()
    bad.status, bad.attempts, bad.last_error = "failed", 6, "SMTPRecipientsRefused: 550 no such user"
    db.commit()
    web = Browserless(client)
    web.login("ada@uni.no", PASSWORD)
    html = client.get("/admin/jobs").get_data(as_text=True)
    assert "gone@example.no" in html and "550 no such user" in html
    r = web.submit("/admin/jobs", {}, post_url=f"/admin/mail/{bad.id}/requeue", follow_redirects=True)
    assert r.status_code == 200 and "will be sent again" in r.get_data(as_text=True)
    db.rollback()
    again = db.get(OutboxMail, bad.id)
    assert again.status == "pending" and again.attempts == 0
    # only a failed message can be requeued; a missing one is 404; CSRF is required
    r = web.submit("/admin/jobs", {}, post_url=f"/admin/mail/{bad.id}/requeue", follow_redirects=True)
    assert "Only a failed e-mail" in r.get_data(as_text=True)
    assert web.submit("/admin/jobs", {}, post_url="/admin/mail/999999/requeue").status_code == 404
    assert client.post(f"/admin/mail/{bad.id}/requeue").status_code == 400


@pytest.mark.parametrize("roles", [("student",), ("coordinator",), ("partner",)])
def test_jobs_page_is_for_admins_only(app, client, db, roles):
    make_user(db, email="someone@uni.no", roles=roles)
    bad = mail.enqueue(db, to="x@example.no", subject="s", text="t")
    db.commit()
    db.execute(update(OutboxMail).values(status="failed"))
    db.commit()
    web = Browserless(client)
    web.login("someone@uni.no", PASSWORD)
    assert client.get("/admin/jobs").status_code == 403
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    assert client.post("/admin/jobs/close_expired/run", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/admin/mail/{bad.id}/requeue", data={"csrf_token": token}).status_code == 403
    assert _runs(db) == []
    db.rollback()
    assert db.get(OutboxMail, bad.id).status == "failed"
    assert 'href="/admin/jobs"' not in client.get("/").get_data(as_text=True)


def test_jobs_page_needs_login(client):
    r = client.get("/admin/jobs")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
