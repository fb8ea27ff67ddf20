"""The ``result_reminders`` job: ask for the results of collaborations that have ended.

A collaboration that is still agreed or ongoing, whose end date (an Oslo
date) has passed and that has no recorded result, goes through three stages:

1. its participants are reminded (e-mail + notification);
2. ``reminder_interval_days`` later, if still nothing is recorded, they are
   reminded again;
3. another interval later the coordinators responsible are told: the
   coordinators who are members of the collaboration's unit or a unit above
   it, or, when there are none, every active coordinator.

Each stage is a ``ResultReminder`` row (unique per collaboration and stage),
written in the same transaction as its mails and notifications, one
transaction per collaboration: a crash loses or doubles nothing, and a second
run at the same ``now`` sends nothing. Recording a result, completing or
cancelling the collaboration stops the sequence.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from portal.config import Settings
from portal.db import transaction
from portal.models import (
    Collaboration,
    CollaborationResult,
    ResultReminder,
    UnitMembership,
    User,
    UserRole,
)
from portal.services import messages, notifications
from portal.services.events import aware
from portal.services.opportunities import local_date

log = logging.getLogger(__name__)

OPEN_STATUSES = ("agreed", "ongoing")
LAST_STAGE = 3
STAGE_COUNTS = {1: "first", 2: "second", 3: "coordinator"}
STAGE_TEMPLATES = {1: "result_reminder", 2: "result_reminder_second",
                   3: "result_reminder_coordinator"}


class ReminderFailures(RuntimeError):
    """Some collaborations could not be handled; the others were, and the next run retries."""


def run(factory: sessionmaker[Session], settings: Settings, now: datetime) -> dict[str, int]:
    """Send every reminder stage that is due at ``now``.

    Counts: ``first``, ``second``, ``coordinator`` (stages sent), ``skipped``
    (a stage was due but nobody active could receive it; it is recorded all
    the same, so the sequence moves on to the coordinators).
    """
    now = aware(now)
    counts = {"first": 0, "second": 0, "coordinator": 0, "skipped": 0}
    with transaction(factory) as db:
        ids = list(db.execute(_candidates(local_date(now))).scalars())
    failed: list[int] = []
    for collab_id in ids:
        try:
            with transaction(factory) as db:
                outcome = remind(db, settings, collab_id, now)
        except IntegrityError:
            # Another runner recorded this stage first: it is sent, once.
            continue
        except Exception:
            # One bad collaboration must not starve the rest; the run still fails below.
            log.exception("result reminder failed for collaboration %s", collab_id)
            failed.append(collab_id)
            continue
        if outcome is not None:
            counts[outcome] += 1
    if failed:
        raise ReminderFailures(
            f"result reminders failed for collaboration(s) {', '.join(map(str, failed))}; "
            f"sent otherwise: {counts}")
    return counts


def _candidates(today: date):
    return (
        select(Collaboration.id)
        .where(Collaboration.status.in_(OPEN_STATUSES),
               Collaboration.end_date < today,
               ~exists().where(CollaborationResult.collaboration_id == Collaboration.id),
               ~exists().where(ResultReminder.collaboration_id == Collaboration.id,
                               ResultReminder.stage >= LAST_STAGE))
        .order_by(Collaboration.id)
    )


def due_stage(db: Session, settings: Settings, collab: Collaboration,
              now: datetime) -> int | None:
    """The stage to send for ``collab`` at ``now``, or None (not due, or nothing left)."""
    today = local_date(now)
    if (collab.status not in OPEN_STATUSES or collab.end_date is None
            or collab.end_date >= today or collab.results):
        return None
    last = db.execute(
        select(ResultReminder).where(ResultReminder.collaboration_id == collab.id)
        .order_by(ResultReminder.stage.desc()).limit(1)
    ).scalar_one_or_none()
    if last is None:
        return 1
    if last.stage >= LAST_STAGE:
        return None
    # Whole Oslo days, so a daily run a few seconds early still finds the stage due.
    if today < local_date(last.sent_at) + timedelta(days=settings.reminder_interval_days):
        return None
    return last.stage + 1


def remind(db: Session, settings: Settings, collab_id: int, now: datetime) -> str | None:
    """Send the stage due for one collaboration, in the caller's transaction.

    Returns the count key (``first``/``second``/``coordinator``/``skipped``)
    or None when nothing was due.
    """
    collab = db.get(Collaboration, collab_id)
    if collab is None:
        return None
    stage = due_stage(db, settings, collab, now)
    if stage is None:
        return None
    row = ResultReminder(collaboration_id=collab.id, stage=stage, sent_at=now, recipients=0)
    db.add(row)
    # The unique (collaboration, stage) key is claimed before any mail is queued.
    db.flush()
    people = participants(collab) if stage < LAST_STAGE else responsible_coordinators(db, collab)
    reminded = stage == LAST_STAGE and any(db.execute(
        select(ResultReminder.recipients).where(ResultReminder.collaboration_id == collab.id,
                                                ResultReminder.stage < LAST_STAGE)).scalars())
    path = f"/collaborations/{collab.id}#results-heading"
    url = messages.absolute_url(path, db)
    for person in people:
        context = {"name": person.display_name, "title": collab.title,
                   "end_date": collab.end_date, "url": url}
        if stage == LAST_STAGE:
            context["unit"] = collab.unit.name(person.locale) if collab.unit else ""
            context["interval"] = settings.reminder_interval_days
            context["reminded"] = reminded
        messages.send(db, to=person.email, locale=person.locale,
                      template=STAGE_TEMPLATES[stage], now=now, **context)
        if stage < LAST_STAGE:
            notifications.notify(db, person, "result_reminder", params={"title": collab.title},
                                 link=path, now=now)
        else:
            notifications.notify(db, person, "result_reminder_coordinator",
                                 params={"title": collab.title,
                                         "end_date": collab.end_date.isoformat()},
                                 link=path, now=now)
    row.recipients = len(people)
    db.flush()
    log.info("result reminder stage %s for collaboration %s: %s recipient(s)",
             stage, collab.id, len(people))
    return STAGE_COUNTS[stage] if people else "skipped"


def _reachable(user: User | None) -> bool:
    return user is not None and user.is_active and user.erased_at is None


def participants(collab: Collaboration) -> list[User]:
    """Each active participant once, whatever number of roles they have."""
    people: dict[int, User] = {}
    for p in collab.participants:
        if _reachable(p.user):
            people.setdefault(p.user_id, p.user)
    return [people[k] for k in sorted(people)]


def responsible_coordinators(db: Session, collab: Collaboration) -> list[User]:
    """Coordinators of the collaboration's unit or a unit above it; else all coordinators."""
    base = (select(User).join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == "coordinator", User.is_active.is_(True),
                   User.erased_at.is_(None)))
    if collab.unit is not None:
        chain = [u.id for u in [collab.unit, *collab.unit.ancestors()]]
        near = db.execute(
            base.join(UnitMembership, UnitMembership.user_id == User.id)
            .where(UnitMembership.unit_id.in_(chain)).order_by(User.id)
        ).scalars().unique().all()
        if near:
            return list(near)
    return list(db.execute(base.order_by(User.id)).scalars().unique().all())
