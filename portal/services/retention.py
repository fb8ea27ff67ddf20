"""The ``retention`` job: hide, warn about and finally erase accounts nobody uses.

An account's last activity is its last login, or its creation if it never
logged in. After ``retention_hide_days`` without activity it is hidden (no
longer shown to others); ``retention_warning_days`` before
``retention_delete_days`` its owner is warned by e-mail, once; at
``retention_delete_days`` it is erased through ``privacy.erase_account`` —
but only when the warning went out at least ``retention_warning_days``
earlier, so a late warning postpones the erasure instead of shortening the
notice. Logging in clears both the hiding and the warning
(``auth_sessions.start_session``). The last active administrator is never
erased.

Hiding and warning happen in one transaction per account; erasure runs its
own transactions. Logs name accounts by id only (erased people must not
linger in the logs).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from portal.config import Settings
from portal.db import transaction
from portal.models import User
from portal.services import messages, roles
from portal.services.events import aware
from portal.services.opportunities import local_date

log = logging.getLogger(__name__)


class RetentionFailures(RuntimeError):
    """Some accounts could not be handled; the others were, and the next run retries."""


def last_activity(user: User) -> datetime:
    return user.last_login_at or user.created_at


def _last_activity_sql():
    return func.coalesce(User.last_login_at, User.created_at)


def warning_point(settings: Settings, user: User) -> datetime:
    """When the warning is due for ``user``."""
    return last_activity(user) + timedelta(
        days=settings.retention_delete_days - settings.retention_warning_days)


def warned(settings: Settings, user: User) -> bool:
    """A warning counts only if it was sent for the current stretch of inactivity.

    One sent before the current warning point (the periods were lengthened
    since) is stale, and a fresh one goes out.
    """
    return (user.deletion_warned_at is not None
            and user.deletion_warned_at >= warning_point(settings, user))


def deletion_due_at(settings: Settings, user: User) -> datetime | None:
    """When the account may be erased: never before the warning's full notice."""
    if not warned(settings, user):
        return None
    return max(last_activity(user) + timedelta(days=settings.retention_delete_days),
               user.deletion_warned_at + timedelta(days=settings.retention_warning_days))


def run(factory: sessionmaker[Session], settings: Settings, now: datetime) -> dict[str, int]:
    """Hide, warn and erase what is due at ``now``.

    Counts: ``hidden``, ``warned``, ``erased``, and ``kept_last_admin`` (an
    erasure that was due but skipped because the account is the last active
    administrator).
    """
    now = aware(now)
    counts = {"hidden": 0, "warned": 0, "erased": 0, "kept_last_admin": 0}
    hide_cutoff = now - timedelta(days=settings.retention_hide_days)
    warn_cutoff = now - timedelta(
        days=settings.retention_delete_days - settings.retention_warning_days)
    with transaction(factory) as db:
        # A superset of what is due; each account is decided exactly below.
        ids = list(db.execute(
            select(User.id).where(
                User.erased_at.is_(None), _last_activity_sql() <= hide_cutoff,
                or_(User.hidden_at.is_(None), _last_activity_sql() <= warn_cutoff))
            .order_by(User.id)
        ).scalars())
    failed: list[int] = []
    for user_id in ids:
        try:
            with transaction(factory) as db:
                done = _hide_and_warn(db, settings, user_id, now)
            # Counted once committed, so a failed transaction counts nothing.
            for key in done:
                if key != "erase":
                    counts[key] += 1
            if "erase" in done:
                counts["erased"] += _erase(factory, settings, user_id, now)
        except Exception:
            # One bad account must not stop the rest; the run still fails below.
            log.exception("retention failed for user %s", user_id)
            failed.append(user_id)
    from portal.services.privacy import sweep_orphan_uploads

    counts["orphan_files"] = sweep_orphan_uploads(factory, settings, now)
    if failed:
        raise RetentionFailures(
            f"retention failed for user(s) {', '.join(map(str, failed))}; done otherwise: "
            f"{counts}")
    return counts


def _hide_and_warn(db: Session, settings: Settings, user_id: int,
                   now: datetime) -> list[str]:
    """Hide and warn ``user_id`` if due (in the caller's transaction).

    Returns what was done or is due: ``hidden``, ``warned``, ``erase`` (the
    caller erases after this transaction) or ``kept_last_admin``.
    """
    user = db.get(User, user_id)
    if user is None or user.erased_at is not None:
        return []
    if now - last_activity(user) < timedelta(days=settings.retention_hide_days):
        return []  # logged in since the candidates were read
    done = []
    if user.hidden_at is None:
        user.hidden_at = now
        done.append("hidden")
        log.info("retention: hid user %s", user.id)
    if now >= warning_point(settings, user) and not warned(settings, user):
        _warn(db, settings, user, now)
        done.append("warned")
        return done
    due = deletion_due_at(settings, user)
    if due is None or now < due:
        return done
    if _last_admin(db, user):
        log.warning("retention: kept user %s, the last active administrator", user.id)
        done.append("kept_last_admin")
    else:
        done.append("erase")
    return done


def _warn(db: Session, settings: Settings, user: User, now: datetime) -> None:
    user.deletion_warned_at = now
    deletion = deletion_due_at(settings, user)
    messages.send(db, to=user.email, locale=user.locale, template="account_deletion_warning",
                  now=now, name=user.display_name, deletion_date=local_date(deletion),
                  url=messages.absolute_url("/login", db))
    log.info("retention: warned user %s of deletion on %s", user.id, deletion.date())


def _last_admin(db: Session, user: User) -> bool:
    return (user.is_active and user.has_role("admin") and roles.admin_count(db) <= 1)


def _erase(factory: sessionmaker[Session], settings: Settings, user_id: int,
           now: datetime) -> int:
    from portal.services import privacy

    result = privacy.erase_account(factory, settings, user_id, now=now, reason="retention")
    # 0 when someone else erased the account in the meantime.
    return int((result or {}).get("erased", 1))
