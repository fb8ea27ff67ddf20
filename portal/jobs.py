"""The scheduled jobs, the runner that records them and the scheduler (APScheduler 3).

Job bodies are thin: they call services with the contract
``run(factory, settings, now) -> dict[str, int]``; each is idempotent and
works in transactions of its own.

:func:`run_job` runs one job under the lease ``job:NAME`` (so a manual run and
a scheduled one never overlap, in this process or any other), records the run
and turns an exception into a ``failed`` record.

:class:`Scheduler` runs every job on its interval, but only while it holds
the ``scheduler`` lease: several processes may each start one (``portal
serve`` on several machines, or beside ``portal worker``) and exactly one of
them runs the jobs; the others keep trying to take the lease over, so when
the holder dies another takes over once the lease has lapsed. When a job is
due is read from the run records, so a restart or a takeover neither skips a
daily job nor repeats it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from portal.config import Settings
from portal.db import transaction
from portal.i18n import _l
from portal.models import JobRun, utcnow
from portal.services import job_runs
from portal.services.errors import Conflict, NotFound

log = logging.getLogger("portal.jobs")

SCHEDULER_LEASE = "scheduler"
JobBody = Callable[[sessionmaker[Session], Settings, datetime], dict[str, int]]


@dataclass(frozen=True)
class Job:
    name: str
    description: object  # a lazy translatable string
    interval: timedelta
    schedule: object  # the interval in words (lazy)
    run: JobBody


# ------------------------------------------------------------------ job bodies
def close_expired(factory: sessionmaker[Session], settings: Settings, now: datetime) -> dict[str, int]:
    from portal.services.opportunities import close_expired as close

    with transaction(factory) as db:
        return {"closed": len(close(db, now))}


def search_catchup(factory: sessionmaker[Session], settings: Settings, now: datetime) -> dict[str, int]:
    from search_index import directory, indexer, state

    index = state.index_dir(settings.data_dir)
    directory_index = directory.directory_dir(settings.data_dir)
    counts = {"applied": 0, "directory": 0, "busy": 0, "drift": 0}
    try:
        report = directory.apply_directory_changes(factory, directory_index)
        counts["directory"] = int(report.rebuilt)
    except state.IndexBusy:
        counts["busy"] += 1
    try:
        applied = indexer.apply_changes(factory, index)
        counts["applied"] = applied.upserted if applied.rebuilt else applied.changes
    except state.IndexBusy:
        # Another process is writing the index; what is left stays in the log.
        counts["busy"] += 1
    counts["drift"] = (indexer.drift(factory, index).count
                       + directory.directory_drift(factory, directory_index))
    if counts["drift"]:
        log.warning("search index drift: %d documents differ from the database "
                    "(`portal search rebuild` repairs it)", counts["drift"])
    return counts


def saved_search_alerts(factory: sessionmaker[Session], settings: Settings,
                        now: datetime) -> dict[str, int]:
    # Imported here: a fault in one job's module fails that job, not the scheduler.
    from portal.services import saved_search_alerts as alerts

    return alerts.run(factory, settings, now)


def result_reminders(factory: sessionmaker[Session], settings: Settings,
                     now: datetime) -> dict[str, int]:
    from portal.services import result_reminders as reminders

    return reminders.run(factory, settings, now)


def retention(factory: sessionmaker[Session], settings: Settings, now: datetime) -> dict[str, int]:
    from portal.services import retention as rules

    return rules.run(factory, settings, now)


def deliver_mail(factory: sessionmaker[Session], settings: Settings, now: datetime) -> dict[str, int]:
    from portal.services import mail

    return mail.deliver_pending(factory, settings, now=now)


MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

JOBS: tuple[Job, ...] = (
    Job("close_expired", _l("Close opportunities past their deadline or full."), HOUR,
        _l("hourly"), close_expired),
    Job("saved_search_alerts",
        _l("E-mail what is new for each saved search (daily or weekly, as each user chose)."),
        HOUR, _l("hourly"), saved_search_alerts),
    Job("result_reminders",
        _l("Remind participants of ended collaborations to document results, then tell the "
           "coordinator."), DAY, _l("daily"), result_reminders),
    Job("search_catchup", _l("Apply the search change log and report drift."), MINUTE,
        _l("every minute"), search_catchup),
    Job("retention",
        _l("Hide accounts unused for a year, warn and erase them after three years."), DAY,
        _l("daily"), retention),
    Job("deliver_mail", _l("Deliver the e-mail outbox."), MINUTE, _l("every minute"),
        deliver_mail),
)
JOB_NAMES = tuple(j.name for j in JOBS)


def registry(jobs: Iterable[Job] | None = None) -> dict[str, Job]:
    return {j.name: j for j in (JOBS if jobs is None else jobs)}


class UnknownJob(NotFound):
    pass


class JobBusy(Conflict):
    """The job is running elsewhere (its lease is held); nothing was recorded."""


def get_job(name: str, jobs: dict[str, Job] | None = None) -> Job:
    jobs = registry() if jobs is None else jobs
    if name not in jobs:
        raise UnknownJob(_l("unknown job %(name)s; the jobs are: %(names)s",
                            name=name, names=", ".join(jobs)))
    return jobs[name]


# ------------------------------------------------------------------ running one job
def process_id() -> str:
    return f"{socket.gethostname()[:120]}:{os.getpid()}"


class _Heartbeat:
    """Keeps a lease alive while a job body runs, however long that takes."""

    def __init__(self, factory: sessionmaker[Session], name: str, holder: str, seconds: float):
        self.factory, self.name, self.holder, self.seconds = factory, name, holder, seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease {name}", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                with transaction(self.factory) as db:
                    kept = job_runs.renew(db, self.name, self.holder, seconds=self.seconds)
            except Exception:
                log.exception("renewing the lease %s failed; retrying", self.name)
                continue
            if not kept:
                log.warning("lost the lease %s while the job was running", self.name)


def _clean_counts(counts) -> dict[str, int]:
    out = {}
    for key, value in dict(counts or {}).items():
        try:
            out[str(key)] = int(value)
        except (TypeError, ValueError):
            log.warning("job count %s=%r is not a number; left out", key, value)
    return out


def _slack(interval: timedelta) -> timedelta:
    return min(interval / 10, timedelta(minutes=5))


def run_job(app: Flask, name: str, *, now: datetime | None = None, trigger: str = "manual",
            jobs: dict[str, Job] | None = None, only_if_due: bool = False) -> JobRun | None:
    """Run job ``name`` now under its lease and record the run.

    Returns the finished run record (outcome ``ok`` or ``failed``; a failure is
    recorded, logged with its traceback and not raised). Raises
    :class:`UnknownJob` for a name not in the registry and :class:`JobBusy`
    when the job is running elsewhere (nothing is recorded then).
    ``only_if_due``: run only if the job's interval has passed since its last
    run (checked under the lease), else return None. ``now`` is the time the
    job body works with (its rules); the run record keeps the real times.
    """
    job = get_job(name, jobs)
    settings: Settings = app.config["PORTAL_SETTINGS"]
    factory: sessionmaker[Session] = app.extensions["portal.sessionmaker"]
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    holder = f"{process_id()}:{secrets.token_hex(4)}"
    lease = job_runs.lease_name(name)
    with transaction(factory) as db:
        got = job_runs.acquire(db, lease, holder, seconds=settings.lease_seconds)
    if not got:
        raise JobBusy(_l("the job %(name)s is running already; try again when it has finished",
                         name=name))
    try:
        with transaction(factory) as db:
            interrupted = job_runs.mark_interrupted(db, name)
            # A little slack: the last run started a moment after its own tick.
            if only_if_due and not job_runs.is_due(db, name, job.interval - _slack(job.interval)):
                return None
            run = job_runs.start_run(db, name, runner=holder, trigger=trigger)
        if interrupted:
            log.warning("%s: %d earlier run(s) were interrupted (their runner stopped)",
                        name, interrupted)
        error = None
        counts: dict[str, int] = {}
        with _Heartbeat(factory, lease, holder, settings.lease_seconds):
            try:
                with app.app_context():
                    counts = _clean_counts(job.run(factory, settings, now or utcnow()))
            except Exception as exc:
                error = f"{exc.__class__.__name__}: {exc}"
                log.error("job %s failed (run %s): %s\n%s", name, run.id, error,
                          traceback.format_exc())
        finished = utcnow()
        outcome = "failed" if error else "ok"
        with transaction(factory) as db:
            job_runs.finish_run(db, run.id, outcome=outcome, counts=counts, error=error,
                                now=finished)
        run.outcome, run.counts, run.finished_at = outcome, counts, finished
        run.error = error[:job_runs.ERROR_MAX] if error else None
        if not error:
            log.info("job %s ok (run %s): %s", name, run.id, counts)
        return run
    finally:
        try:
            with transaction(factory) as db:
                job_runs.release(db, lease, holder)
        except Exception:  # it lapses on its own
            log.exception("releasing the lease %s failed", lease)


# ------------------------------------------------------------------ the scheduler
class Scheduler:
    """Runs the jobs on their intervals in this process while it holds the
    ``scheduler`` lease; otherwise keeps trying to take the lease over.

    ``start()`` runs it in the background (daemon threads); ``stop()`` ends it.
    """

    def __init__(self, app: Flask, *, jobs: Iterable[Job] | None = None,
                 lease_seconds: float | None = None, max_workers: int = 4):
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        self.app = app
        self.jobs = registry(jobs)
        settings: Settings = app.config["PORTAL_SETTINGS"]
        self.lease_seconds = float(lease_seconds or settings.lease_seconds)
        self.factory: sessionmaker[Session] = app.extensions["portal.sessionmaker"]
        self.holder = f"{process_id()}:{secrets.token_hex(4)}"
        self._leader = False
        self._lease_until: datetime | None = None
        self._state = threading.Lock()
        self._aps = BackgroundScheduler(
            timezone=UTC,
            # The lease has a thread of its own, so long jobs never delay its renewal.
            executors={"default": ThreadPoolExecutor(max_workers),
                       "lease": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    # -- lifecycle
    def start(self) -> None:
        from apscheduler.triggers.interval import IntervalTrigger

        self._aps.start()
        self._aps.add_job(self._lease_tick, IntervalTrigger(seconds=self.lease_seconds / 3),
                          id="portal:lease", executor="lease", next_run_time=utcnow())
        log.info("scheduler %s started (lease %ss)", self.holder, self.lease_seconds)

    def stop(self, wait: bool = True) -> None:
        """Stop scheduling; with ``wait``, let running jobs finish; give the lease up."""
        if self._aps.running:
            self._aps.shutdown(wait=wait)
        with self._state:
            was_leader, self._leader = self._leader, False
        if was_leader:
            try:
                with transaction(self.factory) as db:
                    job_runs.release(db, SCHEDULER_LEASE, self.holder)
            except Exception:
                log.exception("releasing the scheduler lease failed; it lapses on its own")
        log.info("scheduler %s stopped", self.holder)

    @property
    def is_leader(self) -> bool:
        with self._state:
            return self._leader and self._lease_until is not None and utcnow() < self._lease_until

    # -- the lease
    def _lease_tick(self) -> None:
        now = utcnow()
        try:
            with transaction(self.factory) as db:
                held = job_runs.acquire(db, SCHEDULER_LEASE, self.holder,
                                        seconds=self.lease_seconds, now=now)
        except Exception:
            log.exception("the scheduler lease could not be renewed; retrying")
            with self._state:
                lapsed = self._leader and (self._lease_until is None or utcnow() >= self._lease_until)
            if lapsed:
                self._step_down()
            return
        if held:
            with self._state:
                self._lease_until = now + timedelta(seconds=self.lease_seconds)
                gained = not self._leader
                self._leader = True
            if gained:
                try:
                    self._schedule_jobs()
                except Exception:
                    # Not leading without jobs: the next tick (still holding the lease) tries again.
                    log.exception("scheduling the jobs failed; retrying")
                    with self._state:
                        self._leader = False
        elif self._leader:
            self._step_down()

    def _schedule_jobs(self) -> None:
        from apscheduler.triggers.interval import IntervalTrigger

        log.info("scheduler %s holds the lease; running the jobs", self.holder)
        now = utcnow()
        with self.factory() as db:
            last = {name: job_runs.last_started(db, name) for name in self.jobs}
            db.rollback()
        for name, job in self.jobs.items():
            first = now if last[name] is None else max(now, last[name] + job.interval)
            self._aps.add_job(self._run, IntervalTrigger(seconds=job.interval.total_seconds()),
                              args=[name], id=f"job:{name}", name=name, next_run_time=first,
                              replace_existing=True)

    def _step_down(self) -> None:
        from apscheduler.jobstores.base import JobLookupError

        log.warning("scheduler %s lost the lease; another process runs the jobs", self.holder)
        with self._state:
            self._leader = False
        for name in self.jobs:
            with contextlib.suppress(JobLookupError):  # not scheduled (never was, or gone)
                self._aps.remove_job(f"job:{name}")

    # -- one scheduled run
    def _run(self, name: str) -> None:
        if not self.is_leader:
            return
        try:
            run_job(self.app, name, trigger="schedule", jobs=self.jobs, only_if_due=True)
        except JobBusy:
            log.info("job %s is running elsewhere; skipped this time", name)
        except Exception:
            # A fault outside the job body (the database gone): the next tick tries again.
            log.exception("running job %s failed", name)


def run_due(app: Flask, *, all_jobs: bool = False,
            jobs: Iterable[Job] | None = None) -> list[tuple[str, JobRun | None, str | None]]:
    """Run each job once if due (or every job with ``all_jobs``), in registry order.

    Returns (name, run or None if not due, a note if it could not run).
    """
    out = []
    for name in registry(jobs):
        try:
            run = run_job(app, name, trigger="schedule" if not all_jobs else "manual",
                          jobs=registry(jobs), only_if_due=not all_jobs)
            out.append((name, run, None))
        except JobBusy as exc:
            out.append((name, None, str(exc.message)))
    return out
