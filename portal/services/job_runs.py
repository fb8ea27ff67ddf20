"""Leases and run records for the scheduled jobs.

A **lease** is a row in ``job_lease``: whoever holds an unexpired row may act.
Taking one is race-safe on SQLite and PostgreSQL alike: an ``INSERT … ON
CONFLICT DO NOTHING`` creates a missing row, and a conditional ``UPDATE …
WHERE expires_at < now OR holder = me`` takes over a lapsed one (or extends
our own); the row count says who won. PostgreSQL re-checks the ``WHERE`` of a
concurrent ``UPDATE`` against the row the other transaction committed, and
SQLite writers run one at a time, so two processes never both see "won".

A **run record** (``job_run``) is committed as ``running`` before the job body
starts and finished with its outcome, so a run killed mid-way leaves a
``running`` row; the next runner, once the dead runner's lease has lapsed,
marks it ``interrupted``.

The functions work in the caller's session and leave committing to it; each
lease operation belongs in a transaction of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.models import JobLease, JobRun, utcnow

ERROR_MAX = 4000
FINISHED = ("ok", "failed")


# ------------------------------------------------------------------ leases
def _insert(db: Session):
    dialect = db.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(JobLease)


def acquire(db: Session, name: str, holder: str, *, seconds: float,
            now: datetime | None = None) -> bool:
    """Take the lease ``name`` if it is free or lapsed, or extend it if ``holder`` has it.

    True if ``holder`` holds it for ``seconds`` from ``now`` afterwards.
    """
    now = now or utcnow()
    until = now + timedelta(seconds=seconds)
    created = db.execute(
        _insert(db).values(name=name, holder=holder, acquired_at=now, expires_at=until)
        .on_conflict_do_nothing(index_elements=["name"])
    ).rowcount
    if created == 1:
        return True
    taken = db.execute(
        update(JobLease)
        .where(JobLease.name == name,
               or_(JobLease.expires_at < now, JobLease.holder == holder))
        .values(holder=holder, expires_at=until,
                # A takeover starts a new tenure; an extension keeps the old start.
                acquired_at=case((JobLease.holder == holder, JobLease.acquired_at),
                                 else_=literal(now, JobLease.__table__.c.acquired_at.type)))
        .execution_options(synchronize_session=False)
    ).rowcount
    return taken == 1


def renew(db: Session, name: str, holder: str, *, seconds: float,
          now: datetime | None = None) -> bool:
    """Extend a lease ``holder`` still has; False if someone else has taken it over."""
    now = now or utcnow()
    return db.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.holder == holder)
        .values(expires_at=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def release(db: Session, name: str, holder: str) -> bool:
    """Give the lease up at once (a clean stop), if ``holder`` still has it."""
    return db.execute(
        delete(JobLease).where(JobLease.name == name, JobLease.holder == holder)
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def holder_of(db: Session, name: str, now: datetime | None = None) -> str | None:
    """Who holds the lease now (None if free or lapsed)."""
    now = now or utcnow()
    return db.execute(
        select(JobLease.holder).where(JobLease.name == name, JobLease.expires_at >= now)
    ).scalar_one_or_none()


# ------------------------------------------------------------------ run records
def start_run(db: Session, job: str, *, runner: str, trigger: str,
              now: datetime | None = None) -> JobRun:
    run = JobRun(job=job, runner=runner[:200], trigger=trigger, started_at=now or utcnow(),
                 outcome="running", counts={})
    db.add(run)
    db.flush()
    return run


def finish_run(db: Session, run_id: int, *, outcome: str, counts: dict[str, int] | None = None,
               error: str | None = None, now: datetime | None = None) -> None:
    """Record how a run ended. A run marked ``interrupted`` meanwhile (its runner
    lost the lease) still gets its real outcome: it did finish."""
    if outcome not in FINISHED:
        raise ValueError(f"not a finished outcome: {outcome}")
    db.execute(
        update(JobRun).where(JobRun.id == run_id)
        .values(outcome=outcome, counts=dict(counts or {}), finished_at=now or utcnow(),
                error=error[:ERROR_MAX] if error else None)
        .execution_options(synchronize_session=False)
    )


def lease_name(job: str) -> str:
    return f"job:{job}"


def mark_interrupted(db: Session, job: str, now: datetime | None = None) -> int:
    """Mark ``running`` rows of ``job`` whose runner no longer holds the job's lease."""
    now = now or utcnow()
    live = select(JobLease.holder).where(JobLease.name == lease_name(job),
                                         JobLease.expires_at >= now)
    return db.execute(
        update(JobRun)
        .where(JobRun.job == job, JobRun.outcome == "running", JobRun.runner.not_in(live))
        .values(outcome="interrupted", finished_at=now,
                error="the runner stopped before the job finished")
        .execution_options(synchronize_session=False)
    ).rowcount


def last_started(db: Session, job: str) -> datetime | None:
    """When the last run of ``job`` that got to the end (ok or failed) started."""
    return db.execute(
        select(func.max(JobRun.started_at)).where(JobRun.job == job, JobRun.outcome.in_(FINISHED))
    ).scalar_one()


def is_due(db: Session, job: str, interval: timedelta, now: datetime | None = None) -> bool:
    last = last_started(db, job)
    return last is None or last + interval <= (now or utcnow())


# ------------------------------------------------------------------ for the admin page and CLI
@dataclass
class JobStatus:
    name: str
    last_run: JobRun | None
    last_failure: JobRun | None


def _latest_per_job(db: Session, names: list[str], *conditions) -> dict[str, JobRun]:
    latest = (
        select(JobRun.job, func.max(JobRun.id).label("id"))
        .where(JobRun.job.in_(names), *conditions)
        .group_by(JobRun.job)
        .subquery()
    )
    rows = db.execute(select(JobRun).join(latest, and_(JobRun.id == latest.c.id))).scalars()
    return {r.job: r for r in rows}


def statuses(db: Session, names: Iterable[str]) -> list[JobStatus]:
    """Each job's latest run and latest failure, in the order given."""
    names = list(names)
    last = _latest_per_job(db, names)
    failed = _latest_per_job(db, names, JobRun.outcome.in_(("failed", "interrupted")))
    return [JobStatus(n, last.get(n), failed.get(n)) for n in names]


def recent_failures(db: Session, limit: int = 20) -> list[JobRun]:
    return list(db.execute(
        select(JobRun).where(JobRun.outcome.in_(("failed", "interrupted")))
        .order_by(JobRun.id.desc()).limit(limit)
    ).scalars())


def runs(db: Session, job: str | None = None, limit: int = 50) -> list[JobRun]:
    q = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if job is not None:
        q = q.where(JobRun.job == job)
    return list(db.execute(q).scalars())
