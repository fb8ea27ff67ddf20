"""Personal-data rights: a person's data export and the erasure of their account.

**Export** (:func:`export_account`): a ZIP with ``data.json`` (everything the
portal holds about the person, section by section) and their uploaded files
under ``files/``. Secrets (password and session token hashes, the pseudonymous
key) are not exported: they are not information about the person.

**Erasure** (:func:`erase_account`), in one transaction:

* the person's open applications are withdrawn through the applications
  service, so their ``application_withdrawn`` events are written as usual;
* roles, organisation and unit memberships, course leadership, EiT wishes,
  invitations to their address, login sessions, saved searches, notifications,
  failed-login records for their address and the outbox mail to them are
  deleted; the texts of their own applications (motivation, CV, decision
  comment) and the personal fields of their student profile are emptied;
* the account row stays (collaborations keep their participant, so counts and
  histories hold) but is pseudonymised: ``erased-<id>@invalid``, "Erased
  user", no password, inactive, ``erased_at`` set;
* the ``PersonKey`` row is deleted: the events keep the key, which then points
  nowhere. The event table itself is never touched;
* every remaining occurrence of their e-mail address and name in the text and
  JSON columns of every other table (other people's mail, impact stories,
  motivations, …) is replaced by ``[erased]``; rows of indexed entities that
  change get a search change row.

After the commit: their uploaded files are deleted; ``.eml`` files addressed
to them are deleted and others mentioning them rewritten; the log files are
scrubbed; the search change log is applied (and the opportunity index
compacted, so no deleted document lingers in a segment file). The erasure is
logged with the account id only.

Erasing the last active administrator is refused. Erasing an erased account
does nothing.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import io
import json
import logging
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, String, Text, and_, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from portal.config import Settings
from portal.files import write_atomically
from portal.i18n import _l
from portal.models import (
    Application,
    AuthSession,
    Base,
    Collaboration,
    CollaborationEvent,
    CollaborationParticipant,
    CollaborationResult,
    CourseLeader,
    EitWish,
    LoginAttempt,
    Notification,
    Opportunity,
    OrganisationInvitation,
    OrganisationMembership,
    OutboxMail,
    PersonKey,
    SavedSearch,
    SearchChange,
    StudentProfile,
    UnitMembership,
    User,
    UserRole,
)
from portal.services.applications import CV_SUBDIR
from portal.services.errors import Conflict, NotFound
from portal.services.events import aware

log = logging.getLogger("portal.privacy")

EXPORT_FORMAT = "samspill-personal-data"
EXPORT_VERSION = 1
ERASED_NAME = "Erased user"
SCRUBBED = "[erased]"
# Shorter names are too likely to be ordinary words inside other people's text.
MIN_NAME_CHARS = 4
OPEN_STATUSES = ("submitted", "shortlisted")
# Never scrubbed: the append-only event log (it holds no names, only keys), the
# accounts table (other people's own names; the erased row is pseudonymised directly)
# and the search change log (entity ids and operations only, and long).
SCRUB_SKIP_TABLES = frozenset({CollaborationEvent.__tablename__, User.__tablename__,
                               SearchChange.__tablename__})
# Tables of indexed entities: a scrubbed row is re-indexed through the change log.
INDEXED_TABLES = {"opportunity": "opportunity", "organisation": "organisation",
                  "academic_unit": "academic_unit", "course": "course"}


# ------------------------------------------------------------------ export
def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _safe_name(name: str | None, fallback: str) -> str:
    base = re.sub(r"[^\w.\-]+", "_", (name or "").split("/")[-1].split("\\")[-1]).strip("._")
    return (base or fallback)[-100:]


def _notification_text(db: Session, note: Notification, locale: str) -> str | None:
    """The notice as the person reads it (in their language)."""
    from flask import has_app_context
    from flask_babel import force_locale

    from portal.services import notifications

    if not has_app_context():
        app = db.info.get("app")
        if app is None:
            return None
        with app.app_context():
            return _notification_text(db, note, locale)
    with force_locale(locale):
        return notifications.message(note)


def _unit_ref(unit) -> dict | None:
    if unit is None:
        return None
    return {"id": unit.id, "code": unit.code, "name_nb": unit.name_nb, "name_en": unit.name_en}


def _org_ref(org) -> dict | None:
    if org is None:
        return None
    return {"id": org.id, "name": org.name, "org_number": org.org_number}


def _opportunity_ref(opp: Opportunity | None) -> dict | None:
    if opp is None:
        return None
    return {"id": opp.id, "title": opp.title, "kind": opp.kind, "status": opp.status,
            "owner_organisation": _org_ref(opp.owner_org), "owner_unit": _unit_ref(opp.owner_unit)}


def collect_personal_data(db: Session, user: User, settings: Settings) -> tuple[dict, list]:
    """(the data.json document, [(zip path, file path)]) for ``user``."""
    files: list[tuple[str, Path]] = []
    doc: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "account": {
            "id": user.id, "email": user.email, "display_name": user.display_name,
            "locale": user.locale, "email_verified_at": user.email_verified_at,
            "is_active": user.is_active, "created_at": user.created_at,
            "last_login_at": user.last_login_at, "hidden_at": user.hidden_at,
            "erased_at": user.erased_at, "deletion_warned_at": user.deletion_warned_at,
            "can_log_in_with_password": user.password_hash is not None,
        },
        "roles": [{"role": r.role, "granted_at": r.granted_at}
                  for r in sorted(user.roles, key=lambda r: r.role)],
    }

    profile = db.get(StudentProfile, user.id)
    doc["student_profile"] = None if profile is None else {
        "programme": profile.programme, "level": profile.level, "unit": _unit_ref(profile.unit),
        "skills": profile.skills, "interests": profile.interests,
        "visible_to_partners": profile.visible_to_partners, "updated_at": profile.updated_at}

    doc["organisations"] = [
        {"organisation": {**_org_ref(m.organisation), "sector": m.organisation.sector,
                          "verified": m.organisation.verified},
         "role": m.role, "member_since": m.created_at}
        for m in db.execute(select(OrganisationMembership)
                            .where(OrganisationMembership.user_id == user.id)
                            .order_by(OrganisationMembership.id)).scalars()]
    doc["academic_units"] = [
        {"unit": _unit_ref(m.unit), "level": m.unit.level, "role": m.role,
         "member_since": m.created_at}
        for m in db.execute(select(UnitMembership).where(UnitMembership.user_id == user.id)
                            .order_by(UnitMembership.id)).scalars()]
    doc["courses_led"] = [
        {"code": c.course.code, "name_nb": c.course.name_nb, "name_en": c.course.name_en}
        for c in db.execute(select(CourseLeader).where(CourseLeader.user_id == user.id)
                            .order_by(CourseLeader.course_id)).scalars()]
    doc["organisation_invitations"] = [
        {"organisation": _org_ref(i.organisation), "invited_at": i.created_at,
         "accepted_at": i.accepted_at}
        for i in db.execute(select(OrganisationInvitation)
                            .where(func.lower(OrganisationInvitation.email) == user.email.lower())
                            .order_by(OrganisationInvitation.id)).scalars()]

    applications = []
    for a in db.execute(select(Application).where(Application.applicant_user_id == user.id)
                        .order_by(Application.id)).scalars():
        cv = None
        if a.cv_stored_name:
            path = Path(settings.data_dir) / CV_SUBDIR / a.cv_stored_name
            arcname = f"files/cv/application-{a.id}-{_safe_name(a.cv_original_name, 'cv.pdf')}"
            cv = {"original_name": a.cv_original_name, "file": None}
            if path.is_file():
                cv["file"] = arcname
                files.append((arcname, path))
        applications.append({
            "id": a.id, "applicant_kind": a.applicant_kind,
            "on_behalf_of_unit": _unit_ref(a.applicant_unit),
            "on_behalf_of_organisation": _org_ref(a.applicant_org),
            "opportunity": _opportunity_ref(a.opportunity), "motivation": a.motivation,
            "cv": cv, "status": a.status, "decision_comment": a.decision_comment,
            "created_at": a.created_at, "decided_at": a.decided_at,
            "withdrawn_at": a.withdrawn_at})
    doc["applications"] = applications

    doc["eit_wishes"] = [
        {"semester": w.semester, "rank": w.rank, "opportunity": _opportunity_ref(w.opportunity),
         "village_code": w.opportunity.village_code, "created_at": w.created_at}
        for w in db.execute(select(EitWish).where(EitWish.student_user_id == user.id)
                            .order_by(EitWish.semester, EitWish.rank)).scalars()]

    doc["opportunities"] = [
        {**_opportunity_ref(o), "as": [r for r, on in (
            ("contact", o.contact_user_id == user.id), ("creator", o.created_by_id == user.id),
            ("village_leader", o.village_leader_id == user.id)) if on],
         "created_at": o.created_at}
        for o in db.execute(select(Opportunity).where(or_(
            Opportunity.contact_user_id == user.id, Opportunity.created_by_id == user.id,
            Opportunity.village_leader_id == user.id)).order_by(Opportunity.id)).scalars()]

    collaborations = []
    collab_ids = select(CollaborationParticipant.collaboration_id).where(
        CollaborationParticipant.user_id == user.id)
    for c in db.execute(select(Collaboration).where(Collaboration.id.in_(collab_ids))
                        .order_by(Collaboration.id)).scalars():
        collaborations.append({
            "id": c.id, "title": c.title, "form": c.form, "status": c.status,
            "your_roles": sorted(p.role for p in c.participants if p.user_id == user.id),
            "description": c.description, "opportunity": _opportunity_ref(c.opportunity),
            "partners": [_org_ref(p.organisation) for p in c.partners],
            "unit": _unit_ref(c.unit), "courses": [cc.course.code for cc in c.courses],
            "study_level": c.study_level, "programme": c.programme,
            "start_date": c.start_date, "end_date": c.end_date, "ects": c.ects,
            "results": [{"type": r.type, "title": r.title, "link": r.link,
                         "description": r.description, "occurred_on": r.occurred_on,
                         "recorded_at": r.recorded_at,
                         "recorded_by_you": r.recorded_by_id == user.id}
                        for r in c.results],
            "impact_story": c.impact_story, "impact_story_public": c.impact_story_public,
            "cancel_reason": c.cancel_reason, "created_at": c.created_at,
            "completed_at": c.completed_at, "cancelled_at": c.cancelled_at})
    doc["collaborations"] = collaborations
    doc["results_you_recorded_elsewhere"] = [
        {"collaboration_id": r.collaboration_id, "type": r.type, "title": r.title,
         "recorded_at": r.recorded_at}
        for r in db.execute(select(CollaborationResult).where(
            CollaborationResult.recorded_by_id == user.id,
            CollaborationResult.collaboration_id.not_in(collab_ids))
            .order_by(CollaborationResult.id)).scalars()]

    doc["saved_searches"] = [
        {"name": s.name, "query": s.query, "filters": s.filters, "frequency": s.frequency,
         "created_at": s.created_at, "last_alerted_at": s.last_alerted_at,
         "unsubscribed_at": s.unsubscribed_at}
        for s in db.execute(select(SavedSearch).where(SavedSearch.user_id == user.id)
                            .order_by(SavedSearch.id)).scalars()]
    doc["notifications"] = [
        {"kind": n.kind, "text": _notification_text(db, n, user.locale), "params": n.params,
         "link": n.link, "created_at": n.created_at, "read_at": n.read_at}
        for n in db.execute(select(Notification).where(Notification.user_id == user.id)
                            .order_by(Notification.id)).scalars()]
    doc["consents"] = {
        "profile_visible_to_partners": bool(profile and profile.visible_to_partners),
        "impact_stories_public": [{"collaboration_id": c["id"], "public": c["impact_story_public"]}
                                  for c in collaborations if c["impact_story"]],
        "saved_search_alerts": [{"name": s["name"], "subscribed": s["unsubscribed_at"] is None}
                                for s in doc["saved_searches"]],
    }
    doc["emails"] = [
        {"subject": m.subject, "body_text": m.body_text, "status": m.status,
         "created_at": m.created_at, "sent_at": m.sent_at}
        for m in db.execute(select(OutboxMail).where(_mail_to(user.email))
                            .order_by(OutboxMail.id)).scalars()]
    doc["login_sessions"] = [
        {"created_at": s.created_at, "expires_at": s.expires_at, "remember": s.remember}
        for s in db.execute(select(AuthSession).where(AuthSession.user_id == user.id)
                            .order_by(AuthSession.id)).scalars()]
    doc["failed_logins"] = [
        {"attempted_at": a.attempted_at, "remote_addr": a.remote_addr}
        for a in db.execute(select(LoginAttempt)
                            .where(func.lower(LoginAttempt.email) == user.email.lower())
                            .order_by(LoginAttempt.id)).scalars()]

    key = db.execute(select(PersonKey.key).where(PersonKey.user_id == user.id)).scalar()
    events = []
    if key is not None:
        ev = CollaborationEvent
        for e in db.execute(select(ev).where(or_(ev.actor_key == key, ev.subject_key == key))
                            .order_by(ev.id)).scalars():
            events.append({"id": e.id, "type": e.type, "occurred_at": e.occurred_at,
                           "you_were": [r for r, on in (("actor", e.actor_key == key),
                                                        ("subject", e.subject_key == key)) if on],
                           "collaboration_id": e.collaboration_id,
                           "opportunity_id": e.opportunity_id,
                           "application_id": e.application_id})
    # The event log names people only by a random key; these are the events under theirs.
    doc["activity_log"] = events
    doc["files"] = [arc for arc, _path in files]
    return _jsonable(doc), files


def export_account(db: Session, user: User, settings: Settings) -> bytes:
    """A ZIP of ``data.json`` and the person's uploaded files (``files/…``)."""
    doc, files = collect_personal_data(db, user, settings)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data.json", json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        for arcname, path in files:
            zf.write(path, arcname)
    return buf.getvalue()


def write_export(db: Session, user: User, settings: Settings, target: Path) -> int:
    """Write the export to ``target`` atomically; returns its size in bytes."""
    content = export_account(db, user, settings)
    write_atomically(Path(target), content)
    return len(content)


# ------------------------------------------------------------------ erasure
@dataclass
class _Scrubber:
    """Finds and replaces one person's e-mail address and name in text."""

    email: str
    name: str

    def __post_init__(self) -> None:
        self.patterns = [re.compile(r"(?<![\w.+\-])" + re.escape(self.email)
                                    + r"(?![\w\-]|\.[\w\-])", re.IGNORECASE)]
        words = self.name.split()
        if len(" ".join(words)) >= MIN_NAME_CHARS:
            # Any run of white space between the words (a wrapped mail line).
            self.patterns.append(re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words))
                                            + r"(?!\w)", re.IGNORECASE))
        self.name_words = words if len(self.patterns) > 1 else []

    def found(self, text: str) -> bool:
        return any(p.search(text) for p in self.patterns)

    def text(self, text: str) -> str:
        for p in self.patterns:
            text = p.sub(SCRUBBED, text)
        return text

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        return value


def _like(needle: str) -> str:
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(target, needle: str, is_json: bool):
    # Stored JSON may escape non-ASCII characters ("\u00f8").
    forms = {needle, json.dumps(needle)[1:-1]} if is_json else {needle}
    return or_(*[target.ilike(_like(f), escape="\\") for f in sorted(forms)])


def _mail_to(address: str):
    return or_(func.lower(OutboxMail.to_addr) == address.lower(),
               OutboxMail.to_addr.ilike(_like(f"<{address}>"), escape="\\"))


def _scrub_tables(db: Session, scrub: _Scrubber, now: datetime) -> tuple[int, set]:
    """Replace the person's address and name in every text/JSON column of every table
    but the skipped ones; returns (rows changed, {(entity type, id)} to re-index)."""
    changed = 0
    reindex: set[tuple[str, int]] = set()
    for table in Base.metadata.sorted_tables:
        if table.name in SCRUB_SKIP_TABLES:
            continue
        columns = [c for c in table.columns
                   if not c.primary_key and isinstance(c.type, String | Text | JSON)]
        pk = list(table.primary_key.columns)
        if not columns or not pk:
            continue
        conditions = []
        for col in columns:
            is_json = isinstance(col.type, JSON)
            target = cast(col, Text) if is_json else col
            conditions.append(_contains(target, scrub.email, is_json))
            if scrub.name_words:
                # Every word somewhere: the name may be wrapped over lines. The patterns decide.
                conditions.append(and_(*[_contains(target, w, is_json)
                                         for w in scrub.name_words]))
        rows = db.execute(select(*pk, *columns).where(or_(*conditions))).all()
        for row in rows:
            values = {}
            for col in columns:
                old = row._mapping[col]
                if old is None:
                    continue
                new = scrub.value(old)
                if new != old:
                    values[col.name] = new
            if not values:
                continue
            if "updated_at" in table.columns:
                # Else the column's onupdate would stamp the wall clock, not ``now``.
                values["updated_at"] = now
            db.execute(update(table).where(*[c == row._mapping[c] for c in pk]).values(**values))
            changed += 1
            if table.name in INDEXED_TABLES:
                reindex.add((INDEXED_TABLES[table.name], int(row._mapping[table.c.id])))
    return changed, reindex


def _withdraw_open_applications(db: Session, user: User, now: datetime) -> int:
    from portal.services import applications as apps

    open_ones = list(db.execute(
        select(Application).where(Application.applicant_user_id == user.id,
                                  Application.applicant_kind == "student",
                                  Application.status.in_(OPEN_STATUSES))
        .order_by(Application.id)).scalars())
    if not open_ones:
        return 0
    # The applicant withdraws (the policy wants an active account; a hidden or
    # deactivated one still withdraws on erasure). The flag is reset below.
    was_active, user.is_active = user.is_active, True
    try:
        for application in open_ones:
            apps.withdraw(db, user, application, now=now)
    finally:
        user.is_active = was_active
    return len(open_ones)


def _erase_in_db(db: Session, user: User, scrub: _Scrubber, now: datetime) -> dict[str, Any]:
    counts: dict[str, Any] = {"withdrawn": _withdraw_open_applications(db, user, now)}

    cv_files = []
    own = list(db.execute(select(Application).where(
        Application.applicant_user_id == user.id,
        Application.applicant_kind == "student")).scalars())
    for a in own:
        if a.cv_stored_name:
            cv_files.append(a.cv_stored_name)
        a.motivation = ""
        a.cv_stored_name = a.cv_original_name = a.decision_comment = None
    counts["cv_files"] = cv_files

    profile = db.get(StudentProfile, user.id)
    if profile is not None:
        # Level and unit stay: coarse, and what later events about their collaborations snapshot.
        profile.programme = profile.skills = profile.interests = ""
        profile.visible_to_partners = False
        profile.updated_at = now

    reindex: set[tuple[str, int]] = set()
    for column in (Opportunity.contact_user_id, Opportunity.village_leader_id):
        ids = db.execute(select(Opportunity.id).where(column == user.id)).scalars().all()
        if ids:
            db.execute(update(Opportunity).where(Opportunity.id.in_(ids))
                       .values({column.key: None, "updated_at": now}))
            reindex |= {("opportunity", i) for i in ids}

    address = user.email.lower()
    for stmt in (
        delete(UserRole).where(UserRole.user_id == user.id),
        delete(OrganisationMembership).where(OrganisationMembership.user_id == user.id),
        delete(UnitMembership).where(UnitMembership.user_id == user.id),
        delete(CourseLeader).where(CourseLeader.user_id == user.id),
        delete(EitWish).where(EitWish.student_user_id == user.id),
        delete(OrganisationInvitation).where(func.lower(OrganisationInvitation.email) == address),
        delete(AuthSession).where(AuthSession.user_id == user.id),
        delete(SavedSearch).where(SavedSearch.user_id == user.id),
        delete(Notification).where(Notification.user_id == user.id),
        delete(LoginAttempt).where(func.lower(LoginAttempt.email) == address),
        # After the withdrawals: they looked the key up (or made it) for their events.
        delete(PersonKey).where(PersonKey.user_id == user.id),
    ):
        db.execute(stmt.execution_options(synchronize_session=False))
    counts["outbox_deleted"] = db.execute(
        delete(OutboxMail).where(_mail_to(user.email))
        .execution_options(synchronize_session=False)).rowcount

    user.email = f"erased-{user.id}@invalid"
    user.display_name = ERASED_NAME
    user.password_hash = None
    user.email_verified_at = None
    user.last_login_at = None
    user.deletion_warned_at = None
    user.is_active = False
    user.erased_at = now
    db.flush()
    db.expire(user, ["roles"])

    counts["rows_scrubbed"], more = _scrub_tables(db, scrub, now)
    reindex |= more
    for entity_type, entity_id in sorted(reindex):
        db.add(SearchChange(entity_type=entity_type, entity_id=entity_id, op="upsert",
                            created_at=now))
    counts["search_changes"] = len(reindex)
    counts["reindex_opportunities"] = any(t != "course" for t, _ in reindex)
    db.flush()
    return counts


def erase_account(factory: sessionmaker[Session], settings: Settings, user_id: int, *,
                  now: datetime | None = None, reason: str = "request") -> dict[str, int]:
    """Erase the account ``user_id`` (see the module docstring); returns counts."""
    from portal.services.roles import admin_count

    now = aware(now)
    refused = None
    with factory() as db:
        try:
            user = db.get(User, user_id)
            if user is None:
                refused = "missing"
            elif user.erased_at is not None:
                return {"erased": 0}
            elif user.has_role("admin") and user.is_active and admin_count(db) <= 1:
                refused = "last_admin"
            else:
                scrub = _Scrubber(user.email, user.display_name)
                counts = _erase_in_db(db, user, scrub, now)
                db.commit()
        finally:
            db.rollback()
        app = db.info.get("app")
    # Raised with the transaction ended: rendering the message may read the database.
    if refused == "missing":
        raise NotFound(_l("No such user."))
    if refused == "last_admin":
        raise Conflict(_l("This is the last administrator. Make someone else an "
                          "administrator before erasing this account."))

    # Files and the index only after the commit: a rolled-back erasure loses nothing.
    result = {
        "erased": 1,
        "withdrawn": counts["withdrawn"],
        "rows_scrubbed": counts["rows_scrubbed"],
        "outbox_deleted": counts["outbox_deleted"],
        "search_changes": counts["search_changes"],
        "files_deleted": _delete_uploads(settings, counts["cv_files"]),
    }
    result["eml_deleted"], result["eml_scrubbed"] = _scrub_mail_dir(settings, scrub)
    result["log_files_scrubbed"] = _scrub_logs(settings, scrub)
    result["search_applied"] = int(_apply_search(app, factory, settings,
                                                 compact=counts["reindex_opportunities"]))
    result["storage_compacted"] = int(_compact_sqlite(factory))
    log.info("account %s erased (reason: %s)", int(user_id), _reason(reason))
    return result


def _compact_sqlite(factory: sessionmaker[Session]) -> bool:
    """Rewrite the embedded database file so the erased values leave the disk too.

    SQLite keeps overwritten and deleted values in free pages and in the
    write-ahead log until they happen to be reused; VACUUM rebuilds the file
    from live rows only and the TRUNCATE checkpoint empties the log. (On
    PostgreSQL the server's own vacuuming reclaims dead rows.)
    """
    engine = factory.kw.get("bind")
    if engine is None or engine.dialect.name != "sqlite":
        return False
    try:
        # The driver connection, not a Connection: the engine's BEGIN hook would
        # open a transaction, and VACUUM cannot run inside one.
        raw = engine.raw_connection()
        try:
            raw.driver_connection.execute("VACUUM")
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    except Exception:
        # The erasure itself is committed; the file is compacted at the next erasure.
        log.warning("could not compact the database file after an erasure", exc_info=True)
        return False
    return True


def _reason(reason: str) -> str:
    return re.sub(r"[^a-z_]", "", str(reason).lower())[:32] or "unspecified"


def _delete_uploads(settings: Settings, stored_names: list[str]) -> int:
    n = 0
    base = Path(settings.data_dir) / CV_SUBDIR
    for stored in stored_names:
        with contextlib.suppress(FileNotFoundError):
            (base / Path(stored).name).unlink()
            n += 1
    return n


def sweep_orphan_uploads(factory: sessionmaker[Session], settings: Settings, now: datetime, *,
                         min_age: timedelta = timedelta(hours=1)) -> int:
    """Delete uploaded CVs that no application refers to.

    Files are written before their transaction commits and deleted after the
    erasure's commit, so a crash in between leaves a file nobody points to;
    this sweep (run by the retention job) removes them. Young files are left
    alone: their request may still be committing.
    """
    base = Path(settings.data_dir) / CV_SUBDIR
    if not base.is_dir():
        return 0
    cutoff = aware(now).timestamp() - min_age.total_seconds()
    candidates = {p.name: p for p in base.iterdir()
                  if p.is_file() and p.stat().st_mtime < cutoff}
    if not candidates:
        return 0
    with factory() as db:
        referenced = set(db.execute(
            select(Application.cv_stored_name)
            .where(Application.cv_stored_name.in_(list(candidates)))
        ).scalars())
    n = 0
    for name, path in candidates.items():
        if name not in referenced:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                n += 1
    if n:
        log.info("removed %d uploaded file(s) that no application refers to", n)
    return n


def _mail_text(msg) -> str:
    parts = [f"{k}: {v}" for k, v in msg.items()]
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            with contextlib.suppress(LookupError, ValueError, KeyError):
                parts.append(part.get_content())
    return "\n".join(parts)


def _scrub_mail_dir(settings: Settings, scrub: _Scrubber) -> tuple[int, int]:
    """Delete the ``.eml`` files addressed to the person, rewrite others naming them."""
    from portal.services.mail import mail_dir

    directory = mail_dir(settings)
    if not directory.is_dir():
        return 0, 0
    deleted = scrubbed = 0
    for path in sorted(directory.iterdir()):
        if not path.is_file():
            continue
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            continue
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        if not (scrub.found(raw.decode("utf-8", "replace")) or scrub.found(_mail_text(msg))):
            continue
        recipients = " ".join(str(msg.get(h, "")) for h in ("To", "Cc", "Bcc"))
        if scrub.patterns[0].search(recipients) is None:
            new = _rewrite_mail(msg, scrub)
            if new is not None:
                write_atomically(path, new, keep_mode=True)
                scrubbed += 1
                continue
        # To them, or not cleanly rewritable: it goes.
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        deleted += 1
    return deleted, scrubbed


def _rewrite_mail(msg, scrub: _Scrubber) -> bytes | None:
    try:
        for name, value in list(msg.items()):
            if scrub.found(str(value)):
                msg.replace_header(name, scrub.text(str(value)))
        for part in msg.walk():
            if part.get_content_maintype() == "text":
                text = part.get_content()
                if scrub.found(text):
                    part.set_content(scrub.text(text), subtype=part.get_content_subtype())
        content = bytes(msg)
    except (LookupError, ValueError, TypeError):
        return None
    check = email.message_from_bytes(content, policy=email.policy.default)
    if scrub.found(content.decode("utf-8", "replace")) or scrub.found(_mail_text(check)):
        return None
    return content


def _scrub_logs(settings: Settings, scrub: _Scrubber) -> int:
    from portal import logs

    directory = logs.log_dir(settings)
    if not directory.is_dir():
        return 0
    # The handler keeps the file open; closed now, it reopens the new file on the next record.
    logs.release()
    n = 0
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.name.endswith(".tmp"):
            continue
        text = path.read_bytes().decode("utf-8", "surrogateescape")
        if not scrub.found(text):
            continue
        write_atomically(path, scrub.text(text).encode("utf-8", "surrogateescape"), keep_mode=True)
        n += 1
    return n


def _apply_search(app, factory, settings: Settings, *, compact: bool) -> bool:
    """Apply the change log now, so the index no longer holds the person; True if done."""
    from portal import search_sync
    from search_index import indexer, state

    try:
        if app is not None:
            report = search_sync.apply_pending(app)
        else:
            from search_index import directory

            with contextlib.suppress(state.IndexBusy):
                directory.apply_directory_changes(factory,
                                                  directory.directory_dir(settings.data_dir))
            report = indexer.apply_changes(factory, state.index_dir(settings.data_dir))
    except state.IndexBusy:
        return False
    except Exception:  # the search_catchup job applies it later
        log.exception("applying search changes after an erasure failed")
        return False
    if report is None:
        return False
    if compact:
        try:
            indexer.compact(state.index_dir(settings.data_dir))
        except Exception:
            log.exception("compacting the search index after an erasure failed")
            return False
    return True
