"""``portal worker`` and ``portal jobs …``: the scheduler in its own process, and the jobs by hand."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import click


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _counts(counts: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in counts.items()) or "-"


@contextlib.contextmanager
def _log_to_file_only() -> Iterator[None]:
    """A failed job's traceback belongs in the log file; the terminal gets one line."""
    from flask.logging import default_handler

    logger = logging.getLogger("portal")
    had = default_handler in logger.handlers
    logger.removeHandler(default_handler)
    try:
        yield
    finally:
        if had:
            logger.addHandler(default_handler)


def _parse_now(raw: str | None) -> datetime | None:
    from portal.cli import _fail

    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        _fail(f"--now: not an ISO 8601 date and time: {raw!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def register(main: click.Group) -> None:
    from portal.cli import PortalGroup, _fail

    @main.command()
    @click.option("--once", is_flag=True,
                  help="Run each job that is due once and exit (for cron and tests).")
    @click.option("--all", "all_jobs", is_flag=True, help="With --once: run every job, due or not.")
    def worker(once: bool, all_jobs: bool) -> None:
        """Run the job scheduler in the foreground (stops cleanly on SIGTERM or Ctrl-C).

        Several workers (and `portal serve` processes) may run: one at a time
        holds the scheduler lease and runs the jobs; the others take over if it
        stops.
        """
        from portal.cli import session_scope
        from portal.jobs import Scheduler, run_due

        if all_jobs and not once:
            _fail("--all only goes with --once")
        app, _unit = session_scope()
        if not once:
            from portal import logs

            logs.to_terminal()
        if once:
            failed = 0
            with _log_to_file_only():
                results = run_due(app, all_jobs=all_jobs)
            for name, run, note in results:
                if note:
                    click.echo(f"{name}: busy ({_one_line(note)})")
                elif run is None:
                    click.echo(f"{name}: not due")
                elif run.outcome == "ok":
                    click.echo(f"{name}: ok {_counts(run.counts)}")
                else:
                    failed += 1
                    click.echo(f"{name}: failed: {_one_line(run.error or '')}")
            if failed:
                _fail(f"{failed} job(s) failed; the log has the details")
            return
        import signal
        import time

        stopping: list[int] = []

        def _stop(signum, _frame):
            # Only a plain append here: taking a lock in a signal handler can deadlock
            # against the same lock held by the interrupted main thread.
            stopping.append(signum)

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        scheduler = Scheduler(app)
        click.echo(f"worker {scheduler.holder} started; stop with Ctrl-C or SIGTERM", err=True)
        scheduler.start()
        try:
            while not stopping:
                time.sleep(0.5)
        finally:
            scheduler.stop(wait=True)  # running jobs finish; the lease is given back
        click.echo(f"worker {scheduler.holder} stopped", err=True)

    @main.group(cls=PortalGroup)
    def jobs() -> None:
        """Scheduled jobs: list them and their last runs, or run one now."""

    @jobs.command("list")
    def list_jobs() -> None:
        """Each job with its schedule, last run and what it does."""
        from portal.cli import session_scope
        from portal.jobs import JOBS
        from portal.services import job_runs

        app, unit = session_scope()
        with app.app_context(), unit as db:
            statuses = {s.name: s for s in job_runs.statuses(db, [j.name for j in JOBS])}
        click.echo(f"{'job':<20} {'schedule':<13} {'last run':<30} description")
        for job in JOBS:
            last = statuses[job.name].last_run
            when = (f"{last.started_at:%Y-%m-%d %H:%M:%S}Z {last.outcome}" if last else "never")
            click.echo(f"{job.name:<20} {str(job.schedule):<13} {when:<30} {job.description}")

    @jobs.command("run")
    @click.argument("name")
    @click.option("--now", "now_raw", metavar="ISO",
                  help="The time the job works with (ISO 8601; UTC if no offset). Default: now.")
    def run(name: str, now_raw: str | None) -> None:
        """Run job NAME now and print its counts (exit 1 if it failed or is running elsewhere)."""
        from portal.cli import session_scope
        from portal.jobs import get_job, run_job

        get_job(name)  # an unknown name fails before the database is touched
        now = _parse_now(now_raw)
        app, _unit = session_scope()
        with _log_to_file_only():
            result = run_job(app, name, now=now, trigger="manual")
        if result.outcome != "ok":
            _fail(f"{name} failed (run {result.id}): {_one_line(result.error or '')}")
        click.echo(f"{name}: ok {_counts(result.counts)} (run {result.id})")
