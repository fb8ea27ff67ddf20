"""The database lease: one scheduler at a time, across threads and OS processes.

The process tests start real processes against the same database (the SQLite
file, or the PostgreSQL schema when PORTAL_TEST_DATABASE_URL is set). They
wait for conditions with generous time limits and never assert durations.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.db import transaction
from portal.models import JobLease, JobRun, utcnow
from portal.services import job_runs

ROOT = Path(__file__).resolve().parent.parent
WAIT = 180  # seconds: a limit for slow machines, not an expectation


def _poll(condition, what: str, timeout: float = WAIT, procs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        for p in procs:
            if p.poll() is not None:
                raise AssertionError(f"a process exited while waiting for {what}: "
                                     f"{p.returncode} {_output(p)}")
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _output(p) -> str:
    """What a process wrote (its output goes to a file, so a full pipe never blocks it)."""
    path = getattr(p, "log_path", None)
    return path.read_text()[-5000:] if path and path.exists() else ""


def _spawn(args, *, log_path: Path, **kw) -> subprocess.Popen:
    kw["env"] = {**kw["env"], "PYTHONFAULTHANDLER": "1"}
    with open(log_path, "w") as fh:
        p = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, text=True, **kw)
    p.log_path = log_path
    return p


def _wait_exit(p: subprocess.Popen) -> int:
    try:
        return p.wait(WAIT)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGABRT)  # faulthandler: every thread's stack into the log
        p.wait(30)
        raise AssertionError(f"process did not stop: {_output(p)}") from None


# ------------------------------------------------------------------ the lease itself
def test_acquire_extend_expire_take_over_and_release(app, db):
    factory = app.extensions["portal.sessionmaker"]
    t0 = utcnow()

    def act(fn, *args, **kw):
        with transaction(factory) as s:
            return fn(s, *args, **kw)

    assert act(job_runs.acquire, "x", "a", seconds=10, now=t0)
    assert not act(job_runs.acquire, "x", "b", seconds=10, now=t0 + timedelta(seconds=5))
    assert act(job_runs.acquire, "x", "a", seconds=10, now=t0 + timedelta(seconds=5))  # extends
    db.rollback()
    row = db.get(JobLease, "x")
    assert row.holder == "a" and row.acquired_at == t0
    assert row.expires_at == t0 + timedelta(seconds=15)
    # still held at 14 s, lapsed at 16 s: then another may take it over
    assert not act(job_runs.acquire, "x", "b", seconds=10, now=t0 + timedelta(seconds=14))
    assert act(job_runs.holder_of, "x", now=t0 + timedelta(seconds=16)) is None
    assert act(job_runs.acquire, "x", "b", seconds=10, now=t0 + timedelta(seconds=16))
    db.rollback()
    db.expire_all()
    row = db.get(JobLease, "x")
    assert row.holder == "b" and row.acquired_at == t0 + timedelta(seconds=16)
    # the old holder can neither renew nor release it
    assert not act(job_runs.renew, "x", "a", seconds=10)
    assert not act(job_runs.release, "x", "a")
    assert act(job_runs.renew, "x", "b", seconds=10)
    assert act(job_runs.release, "x", "b")
    assert act(job_runs.holder_of, "x") is None
    assert act(job_runs.acquire, "x", "a", seconds=10)


@pytest.mark.parametrize("lapsed", [False, True], ids=["free", "lapsed"])
def test_racing_threads_get_the_lease_once(app, lapsed):
    factory = app.extensions["portal.sessionmaker"]
    if lapsed:
        with transaction(factory) as s:
            s.add(JobLease(name="race", holder="dead", acquired_at=utcnow() - timedelta(hours=1),
                           expires_at=utcnow() - timedelta(minutes=1)))
    n = 8
    barrier = threading.Barrier(n)
    won: list[str] = []
    errors: list[BaseException] = []

    def contender(i: int) -> None:
        try:
            barrier.wait(60)
            with transaction(factory) as s:
                if job_runs.acquire(s, "race", f"t{i}", seconds=60):
                    won.append(f"t{i}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert not errors, errors
    assert len(won) == 1
    with transaction(factory) as s:
        assert job_runs.holder_of(s, "race") == won[0]


# ------------------------------------------------------------------ two OS processes
def child_main() -> None:
    """A scheduler process with one test job, ``probe`` (run by the tests below).

    The probe notes when it starts and ends, in which process, and who held
    the scheduler lease then; while the block file exists it waits, so a test
    can kill the process in the middle of a run.
    """
    from portal import create_app
    from portal.jobs import Job, Scheduler

    marks, block = os.environ["LEASE_MARKS"], os.environ["LEASE_BLOCK"]
    app = create_app({"env": "test", "data_dir": os.environ["LEASE_DATA"],
                      "database_url": os.environ["LEASE_DB"], "secret_key": "lease-test",
                      "lease_seconds": os.environ["LEASE_SECONDS"], "search_sync": False,
                      "log_file": False})
    pid = os.getpid()

    def mark(*words) -> None:
        with open(marks, "a") as fh:
            fh.write(" ".join(str(w) for w in (pid, *words)) + "\n")

    def probe(factory, settings, now):
        with factory() as db:
            leader = job_runs.holder_of(db, "scheduler")
            db.rollback()
        mark("start", leader)
        while os.path.exists(block):
            time.sleep(0.05)
        time.sleep(0.2)  # long enough that an overlapping run would show
        mark("end", leader)
        return {"pid": pid}

    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _frame: stopping.append(signum))
    scheduler = Scheduler(app, jobs=[Job("probe", "probe", timedelta(seconds=1), "every second",
                                         probe)])
    scheduler.start()
    lease_tick = scheduler._aps.get_job("portal:lease")
    first = lease_tick.next_run_time
    while scheduler._aps.get_job("portal:lease").next_run_time == first:
        time.sleep(0.05)  # until the first lease attempt has been made
    mark("ready")
    while not stopping:
        time.sleep(0.2)
    scheduler.stop(wait=True)
    mark("stopped")


class Children:
    def __init__(self, tmp_path: Path, database_url: str, lease_seconds: int):
        self.marks = tmp_path / "marks.txt"
        self.block = tmp_path / "block"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
        self.env.update({"LEASE_MARKS": str(self.marks), "LEASE_BLOCK": str(self.block),
                         "LEASE_DATA": str(tmp_path / "lease-data"), "LEASE_DB": database_url,
                         "LEASE_SECONDS": str(lease_seconds), "PYTHONPATH": str(ROOT)})
        self.procs: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        p = _spawn([sys.executable, "-c", "from tests.test_job_lease import child_main; child_main()"],
                   cwd=ROOT, env=self.env, log_path=self.marks.with_name(f"child{len(self.procs)}.log"))
        self.procs.append(p)
        return p

    def lines(self) -> list[list[str]]:
        if not self.marks.exists():
            return []
        return [ln.split() for ln in self.marks.read_text().splitlines() if ln.strip()]

    def has(self, pid: int, what: str) -> bool:
        return any(ln[0] == str(pid) and ln[1] == what for ln in self.lines())

    def cleanup(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait(30)


@pytest.fixture
def children(tmp_path, database_url):
    made: list[Children] = []

    def make(lease_seconds: int) -> Children:
        c = Children(tmp_path, database_url, lease_seconds)
        made.append(c)
        return c

    yield make
    for c in made:
        c.cleanup()


def _pid_of(holder: str | None) -> int | None:
    # holders are "host:pid:token"
    return int(holder.split(":")[-2]) if holder else None


def _no_overlap(lines: list[list[str]]) -> None:
    runs = [ln for ln in lines if ln[1] in ("start", "end")]
    for i in range(0, len(runs) - 1, 2):
        start, end = runs[i], runs[i + 1]
        assert start[1] == "start" and end[1] == "end" and start[0] == end[0], \
            f"overlapping runs: {runs}"


def _rows(app) -> list[JobRun]:
    with app.extensions["portal.sessionmaker"]() as s:
        return list(s.execute(select(JobRun).order_by(JobRun.id)).scalars())


def _holder(app, name="scheduler") -> str | None:
    with app.extensions["portal.sessionmaker"]() as s:
        return job_runs.holder_of(s, name)


def test_two_processes_one_runs_the_jobs_and_never_twice_at_once(app, children):
    c = children(lease_seconds=10)
    a, b = c.start(), c.start()
    _poll(lambda: c.has(a.pid, "ready") and c.has(b.pid, "ready"), "both schedulers", procs=(a, b))
    _poll(lambda: sum(1 for ln in c.lines() if ln[1] == "end") >= 5, "five probe runs",
          procs=(a, b))
    lines = c.lines()
    _no_overlap(lines)
    # every run happened in the process that held the scheduler lease at the time
    for ln in lines:
        if ln[1] == "start":
            assert _pid_of(ln[2]) == int(ln[0]), ln
    assert _pid_of(_holder(app)) in (a.pid, b.pid)
    finished = [r for r in _rows(app) if r.outcome != "running"]
    assert len(finished) >= 5 and all(r.outcome == "ok" for r in finished)
    for earlier, later in zip(finished, finished[1:], strict=False):
        assert earlier.finished_at <= later.started_at
    # both stop cleanly on SIGTERM and give the lease back
    for p in (a, b):
        p.send_signal(signal.SIGTERM)
    for p in (a, b):
        assert _wait_exit(p) == 0, _output(p)
    _no_overlap(c.lines())
    assert _holder(app) is None
    assert all(r.outcome == "ok" for r in _rows(app))


def test_takeover_after_the_holder_is_killed_mid_run(app, children):
    c = children(lease_seconds=3)
    c.block.touch()
    a = c.start()
    _poll(lambda: c.has(a.pid, "start"), "the first process to start a run", procs=(a,))
    b = c.start()
    _poll(lambda: c.has(b.pid, "ready"), "the second scheduler", procs=(a, b))
    # a holds both leases while its run waits; b has not run anything
    assert _pid_of(_holder(app)) == a.pid
    assert _pid_of(_holder(app, "job:probe")) == a.pid
    assert not c.has(b.pid, "start")
    (running,) = _rows(app)
    assert running.outcome == "running" and _pid_of(running.runner) == a.pid

    a.send_signal(signal.SIGKILL)
    a.wait(WAIT)
    c.block.unlink()
    _poll(lambda: c.has(b.pid, "end"), "the second process to take over and finish a run",
          procs=(b,))
    assert _pid_of(_holder(app)) == b.pid
    rows = _rows(app)
    killed = next(r for r in rows if r.id == running.id)
    assert killed.outcome == "interrupted" and killed.finished_at is not None and killed.error
    later = [r for r in rows if r.id != running.id and r.outcome != "running"]
    assert later and all(r.outcome == "ok" and _pid_of(r.runner) == b.pid for r in later)
    assert not c.has(a.pid, "end")
    _no_overlap([ln for ln in c.lines() if ln[0] == str(b.pid)])

    b.send_signal(signal.SIGTERM)
    assert _wait_exit(b) == 0, _output(b)
    assert _holder(app) is None


# ------------------------------------------------------------------ `portal worker` and `portal serve`
def _portal_env(tmp_path: Path, database_url: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({"PORTAL_DATA_DIR": str(tmp_path / "portal-data"), "PORTAL_DATABASE_URL": database_url,
                **extra})
    return env


def _finished_jobs(app) -> set[str]:
    return {r.job for r in _rows(app) if r.outcome in ("ok", "failed")}


def test_two_portal_workers_share_the_jobs_and_hand_over_on_sigterm(app, tmp_path, database_url):
    from portal.jobs import JOB_NAMES

    env = _portal_env(tmp_path, database_url, PORTAL_LEASE_SECONDS="30")
    procs = [_spawn([sys.executable, "-m", "portal", "worker"], cwd=tmp_path, env=env,
                    log_path=tmp_path / f"worker{i}.log") for i in range(2)]
    try:
        _poll(lambda: _finished_jobs(app) >= set(JOB_NAMES), "every job to run once", procs=procs)
        leader_pid = _pid_of(_holder(app))
        assert leader_pid in [p.pid for p in procs]
        rows = _rows(app)
        assert {_pid_of(r.runner) for r in rows} == {leader_pid}
        for name in JOB_NAMES:
            mine = [r for r in rows if r.job == name and r.finished_at]
            for earlier, later in zip(mine, mine[1:], strict=False):
                assert earlier.finished_at <= later.started_at
        leader = next(p for p in procs if p.pid == leader_pid)
        other = next(p for p in procs if p.pid != leader_pid)
        leader.send_signal(signal.SIGTERM)
        assert _wait_exit(leader) == 0, _output(leader)
        # the lease was given back, so the other takes over without waiting for it to lapse
        _poll(lambda: _pid_of(_holder(app)) == other.pid, "the other worker to take over",
              procs=(other,))
        other.send_signal(signal.SIGTERM)
        assert _wait_exit(other) == 0, _output(other)
        assert _holder(app) is None
        assert not [r for r in _rows(app) if r.outcome == "running"]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait(30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_portal_serve_runs_the_scheduler_behind_the_lease(app, tmp_path, database_url):
    env = _portal_env(tmp_path, database_url, PORTAL_LEASE_SECONDS="30")
    proc = _spawn([sys.executable, "-m", "portal", "serve", "--port", str(_free_port())],
                  cwd=tmp_path, env=env, log_path=tmp_path / "serve.log")
    try:
        _poll(lambda: "deliver_mail" in _finished_jobs(app), "serve to run the jobs",
              procs=(proc,))
        assert _pid_of(_holder(app)) == proc.pid
    finally:
        proc.send_signal(signal.SIGINT)  # waitress stops on Ctrl-C and the lease is given back
        _wait_exit(proc)
    assert _holder(app) is None
