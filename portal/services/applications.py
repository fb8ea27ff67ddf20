"""Applications and offers, decisions, and the collaborations a match becomes.

Three kinds of applicant:

* a **student** applies to a published opportunity (optionally with a PDF CV);
* an **academic unit** offers supervision for an opportunity owned by an
  organisation (``offer_as_unit``);
* an **organisation** offers itself as partner to a unit-owned opportunity
  that looks for one, typically an EiT village (``offer_as_organisation``).

Submitted → shortlisted → accepted | rejected | withdrawn. Only the owners of
the opportunity decide; only the applicant withdraws. One active application
per applicant and opportunity (checked here for a clear message, and by
partial unique indexes in the database).

**Capacity** (``places``) counts students. Accepting a student increments
``filled`` with one guarded ``UPDATE … WHERE filled < places``, so concurrent
acceptances can never overfill (a CHECK constraint backs it up); reaching
``places`` closes the opportunity (reason "filled"). Offers from units and
organisations do not take a student place.

**What acceptance creates.** An accepted application becomes a
``Collaboration`` (form = the opportunity's kind), except that it *joins* an
existing one where that is what happened in reality:

* an EiT village has one collaboration: the first acceptance creates it,
  later students join as participants and partners as partner organisations
  (event ``partner_joined_village``);
* otherwise a student joins an agreed collaboration of the same opportunity
  that came from an accepted supervision/partner offer and has no student
  yet; a unit's supervision offer joins a student's collaboration that has
  no supervisor yet; an organisation joins one that has no partner yet.

New collaborations record ``collaboration_agreed``; joins record
``participant_added`` / ``partner_added`` / ``partner_joined_village``.
Every acceptance records ``application_accepted`` first. The whole decision
runs in a savepoint: a refused acceptance leaves nothing behind, not even in
the caller's transaction.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.i18n import _l
from portal.models import (
    AcademicUnit,
    Application,
    Collaboration,
    CollaborationParticipant,
    CollaborationPartner,
    EitWish,
    Opportunity,
    Organisation,
    StudentProfile,
    User,
)
from portal.models.vocab import ACTIVE_APPLICATION_STATUSES
from portal.services import policy
from portal.services.accounts import person_key
from portal.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from portal.services.events import aware, record_event, touch
from portal.services.opportunities import _close, deadline_passed, semester_valid

MAX_MOTIVATION = 5000
MAX_COMMENT = 2000
MAX_EIT_WISHES = 5
MIN_OTHER_FACULTY_WISHES = 2
CV_SUBDIR = Path("uploads") / "cv"
PDF_MAGIC = b"%PDF-"
DEFAULT_MAX_UPLOAD_BYTES = 5 * 1024 * 1024
OPEN_COLLABORATION_STATUSES = ("agreed", "ongoing")


# ------------------------------------------------------------------ CV files
def _clean_filename(name: str | None) -> str:
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip() or "cv.pdf"
    return base[-255:]


def validate_cv(cv: tuple[bytes, str, str], *, max_bytes: int) -> None:
    """PDF only: content type application/pdf, ``%PDF-`` magic bytes, size limit."""
    content, filename, content_type = cv
    errors: list = []
    ctype = (content_type or "").split(";")[0].strip().lower()
    if not content:
        errors.append(_l("The CV file is empty."))
    elif len(content) > max_bytes:
        errors.append(_l("The CV is too large (at most %(mb)s MB).",
                         mb=round(max_bytes / (1024 * 1024), 1)))
    elif ctype != "application/pdf" or bytes(content[:5]) != PDF_MAGIC:
        errors.append(_l("The CV must be a PDF file."))
    if errors:
        raise ValidationFailed({"cv": errors})


def store_cv(cv: tuple[bytes, str, str], *, data_dir: Path, max_bytes: int) -> tuple[str, str]:
    """Validate and write the CV under ``data_dir/uploads/cv/``; returns (stored, original)."""
    validate_cv(cv, max_bytes=max_bytes)
    content, filename, _ctype = cv
    target_dir = Path(data_dir) / CV_SUBDIR
    target_dir.mkdir(parents=True, exist_ok=True)
    stored = f"{secrets.token_hex(16)}.pdf"
    fd = os.open(target_dir / stored, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(bytes(content))
    return stored, _clean_filename(filename)


def cv_path(db: Session, actor: User | None, application: Application, *,
            data_dir: Path) -> Path:
    """The stored CV file, for the applicant and the opportunity's owners only."""
    policy.require_view_cv(db, actor, application)
    if not application.cv_stored_name:
        raise NotFound(_l("This application has no CV."))
    path = Path(data_dir) / CV_SUBDIR / application.cv_stored_name
    if not path.is_file():
        raise NotFound(_l("The CV file is missing."))
    return path


def _remove_file(data_dir: Path | None, stored: str | None) -> None:
    if data_dir is not None and stored:
        with contextlib.suppress(FileNotFoundError):
            (Path(data_dir) / CV_SUBDIR / stored).unlink()


# ------------------------------------------------------------------ helpers
def _motivation(text: str | None, *, required: bool) -> str:
    text = (text or "").strip()
    if required and not text:
        raise ValidationFailed({"motivation": [_l("Write a short motivation.")]})
    if len(text) > MAX_MOTIVATION:
        raise ValidationFailed({"motivation": [_l("At most %(n)s characters.",
                                                  n=MAX_MOTIVATION)]})
    return text


def _require_open(opp: Opportunity, now: datetime) -> None:
    if opp.status != "published":
        raise Conflict(_l("This opportunity is not open for applications."))
    if deadline_passed(opp, now):
        raise Conflict(_l("The deadline has passed."))
    if opp.filled >= opp.places:
        raise Conflict(_l("All places are filled."))


def _active_exists(db: Session, opp: Opportunity, **applicant) -> bool:
    (column, value), = applicant.items()
    stmt = select(func.count()).select_from(Application).where(
        Application.opportunity_id == opp.id,
        getattr(Application, column) == value,
        Application.status.in_(ACTIVE_APPLICATION_STATUSES),
    )
    if column == "applicant_user_id":
        stmt = stmt.where(Application.applicant_kind == "student")
    return bool(db.execute(stmt).scalar_one())


def _insert(db: Session, application: Application, duplicate_message) -> None:
    """Insert on a savepoint; the partial unique index turns a race into Conflict."""
    try:
        with db.begin_nested():
            db.add(application)
            db.flush()
    except IntegrityError:
        raise Conflict(duplicate_message) from None


def _submitted(db: Session, application: Application, actor: User, now: datetime,
               subject: User | None) -> None:
    record_event(db, "application_submitted", actor=actor, subject=subject,
                 application=application, now=now,
                 data={"applicant_kind": application.applicant_kind,
                       "has_cv": application.cv_stored_name is not None})
    _tell_owners(db, application, now)


def _owner_people(db: Session, opp: Opportunity) -> list[User]:
    from portal.models import OrganisationMembership, UnitMembership

    if opp.owner_org_id is not None:
        q = select(User).join(OrganisationMembership, OrganisationMembership.user_id == User.id) \
            .where(OrganisationMembership.organisation_id == opp.owner_org_id)
    else:
        q = select(User).join(UnitMembership, UnitMembership.user_id == User.id) \
            .where(UnitMembership.unit_id == opp.owner_unit_id)
    people = {u.id: u for u in db.execute(q).scalars()}
    if opp.contact_user is not None:
        people[opp.contact_user.id] = opp.contact_user
    return [u for u in people.values() if u.is_active and u.erased_at is None]


def _tell_owners(db: Session, application: Application, now: datetime) -> None:
    """In-portal notice to the people who decide: a new application or offer."""
    from portal.services import notifications

    opp = application.opportunity
    kind = "application_received" if application.applicant_kind == "student" else "offer_received"
    for person in _owner_people(db, opp):
        notifications.notify(db, person, kind, params={"title": opp.title},
                             link=f"/opportunities/{opp.id}/applicants", now=now)


# --------------------------------------------------------------- applying
def apply_as_student(
    db: Session,
    student: User,
    opp: Opportunity,
    motivation: str,
    cv: tuple[bytes, str, str] | None = None,
    *,
    data_dir: Path | None = None,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    now: datetime | None = None,
) -> Application:
    """A student applies; ``cv`` is (content, filename, content type), PDF only."""
    now = aware(now)
    policy.require_role(student, "student")
    _require_open(opp, now)
    text = _motivation(motivation, required=True)
    duplicate = _l("You have already applied for this opportunity.")
    if _active_exists(db, opp, applicant_user_id=student.id):
        raise Conflict(duplicate)
    stored = original = None
    if cv is not None:
        if data_dir is None:
            raise ValueError("data_dir is needed to store a CV")
        stored, original = store_cv(cv, data_dir=data_dir, max_bytes=max_upload_bytes)
    application = Application(opportunity=opp, applicant_kind="student",
                              applicant_user=student, motivation=text,
                              cv_stored_name=stored, cv_original_name=original,
                              status="submitted", created_at=now)
    try:
        _insert(db, application, duplicate)
    except Conflict:
        _remove_file(data_dir, stored)
        raise
    _submitted(db, application, student, now, student)
    return application


def offer_as_unit(db: Session, staff_user: User, unit: AcademicUnit, opp: Opportunity,
                  motivation: str, *, now: datetime | None = None) -> Application:
    """An academic unit offers supervision for an organisation's opportunity."""
    now = aware(now)
    policy.require_unit(db, staff_user, unit)
    if opp.owner_org_id is None:
        raise Conflict(_l("Units offer supervision for opportunities posted by partners."))
    _require_open(opp, now)
    text = _motivation(motivation, required=True)
    duplicate = _l("Your unit has already made an offer for this opportunity.")
    if _active_exists(db, opp, applicant_unit_id=unit.id):
        raise Conflict(duplicate)
    application = Application(opportunity=opp, applicant_kind="unit", applicant_unit=unit,
                              applicant_user=staff_user, motivation=text, status="submitted",
                              created_at=now)
    _insert(db, application, duplicate)
    _submitted(db, application, staff_user, now, None)
    return application


def offer_as_organisation(db: Session, user: User, org: Organisation, opp: Opportunity,
                          motivation: str, *, now: datetime | None = None) -> Application:
    """A (verified) organisation offers itself as partner, e.g. to an EiT village."""
    now = aware(now)
    policy.require_post_for_org(db, user, org)
    if opp.owner_unit_id is None or not opp.partner_sought:
        raise Conflict(_l("This opportunity is not looking for a partner."))
    _require_open(opp, now)
    text = _motivation(motivation, required=True)
    duplicate = _l("Your organisation has already offered to take part.")
    if _active_exists(db, opp, applicant_org_id=org.id):
        raise Conflict(duplicate)
    application = Application(opportunity=opp, applicant_kind="organisation",
                              applicant_org=org, applicant_user=user, motivation=text,
                              status="submitted", created_at=now)
    _insert(db, application, duplicate)
    _submitted(db, application, user, now, None)
    return application


# ---------------------------------------------------------------- decisions
def _transition(db: Session, application: Application, from_statuses: tuple[str, ...],
                to_status: str, message, **values) -> str:
    """Guarded status change (two deciders at once cannot both win); returns old status."""
    old = application.status
    result = db.execute(
        update(Application)
        .where(Application.id == application.id, Application.status.in_(from_statuses))
        .values(status=to_status, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.refresh(application)
        raise Conflict(message)
    db.refresh(application)
    return old


def _subject(application: Application) -> User | None:
    return application.applicant_user if application.applicant_kind == "student" else None


def withdraw(db: Session, actor: User, application: Application, *,
             now: datetime | None = None) -> None:
    now = aware(now)
    if not policy.is_applicant(db, actor, application):
        raise PermissionDenied(_l("Only the applicant can withdraw an application."))
    if application.status == "accepted":
        raise Conflict(_l("An accepted application cannot be withdrawn; ask to cancel "
                          "the collaboration instead."))
    old = _transition(db, application, ("submitted", "shortlisted"), "withdrawn",
                      _l("This application can no longer be withdrawn."), withdrawn_at=now)
    record_event(db, "application_withdrawn", actor=actor, subject=_subject(application),
                 application=application, now=now,
                 data={"applicant_kind": application.applicant_kind, "from_status": old})


def shortlist(db: Session, actor: User, application: Application, *,
              now: datetime | None = None) -> None:
    now = aware(now)
    policy.require_decide_application(db, actor, application)
    _transition(db, application, ("submitted",), "shortlisted",
                _l("Only a new application can be shortlisted."))
    record_event(db, "application_shortlisted", actor=actor, subject=_subject(application),
                 application=application, now=now,
                 data={"applicant_kind": application.applicant_kind})


def reject(db: Session, actor: User, application: Application, comment: str | None = None,
           *, now: datetime | None = None, notify: bool = True) -> None:
    """Reject with an optional comment (shown to the applicant, not copied to events)."""
    now = aware(now)
    policy.require_decide_application(db, actor, application)
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT:
        raise ValidationFailed({"comment": [_l("At most %(n)s characters.", n=MAX_COMMENT)]})
    old = _transition(db, application, ("submitted", "shortlisted"), "rejected",
                      _l("This application has already been decided."),
                      decision_comment=text or None, decided_by_id=actor.id, decided_at=now)
    record_event(db, "application_rejected", actor=actor, subject=_subject(application),
                 application=application, now=now,
                 data={"applicant_kind": application.applicant_kind, "from_status": old})
    if notify:
        _notify(db, application, "application_rejected", now=now, comment=text)


def accept(db: Session, actor: User, application: Application, comment: str | None = None,
           *, now: datetime | None = None, notify: bool = True) -> Collaboration:
    """Accept an application; returns the collaboration it created or joined."""
    now = aware(now)
    policy.require_decide_application(db, actor, application)
    opp = application.opportunity
    if opp.status not in ("published", "closed"):
        raise Conflict(_l("This opportunity is not taking decisions."))
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT:
        raise ValidationFailed({"comment": [_l("At most %(n)s characters.", n=MAX_COMMENT)]})
    if application.status not in ("submitted", "shortlisted"):
        raise Conflict(_l("This application has already been decided."))
    consumes_place = application.applicant_kind == "student"
    with db.begin_nested():
        # Decisions on one opportunity take turns (PostgreSQL row lock; SQLite's
        # writers are serialised anyway), so two acceptances cannot both create
        # the collaboration they should share (an EiT village, a joint thesis).
        db.execute(select(Opportunity.id).where(Opportunity.id == opp.id).with_for_update())
        if consumes_place:
            taken = db.execute(
                update(Opportunity)
                .where(Opportunity.id == opp.id, Opportunity.filled < Opportunity.places)
                .values(filled=Opportunity.filled + 1, updated_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken != 1:
                raise Conflict(_l("All places are filled."))
            db.refresh(opp, ["filled", "places", "status"])
        _transition(db, application, ("submitted", "shortlisted"), "accepted",
                    _l("This application has already been decided."),
                    decision_comment=text or None, decided_by_id=actor.id, decided_at=now)
        published = opp.published_at or now
        record_event(db, "application_accepted", actor=actor, subject=_subject(application),
                     application=application, now=now, data={
                         "applicant_kind": application.applicant_kind,
                         "days_to_match": max((now - published).days, 0),
                         "days_from_application": max((now - application.created_at).days, 0),
                         "consumes_place": consumes_place,
                         "places": opp.places, "filled": opp.filled})
        collab = _match(db, actor, application, opp, now)
        if consumes_place and opp.status == "published" and opp.filled >= opp.places:
            _close(db, None, opp, "filled", now)
    if notify:
        _notify(db, application, "application_accepted", now=now, comment=text)
    return collab


# ------------------------------------------------------- the match itself
def _profile(db: Session, user: User | None) -> StudentProfile | None:
    return db.get(StudentProfile, user.id) if user is not None else None


def _has_role(collab: Collaboration, role: str) -> bool:
    return any(p.role == role for p in collab.participants)


def _add_participant(collab: Collaboration, user: User | None, role: str, now: datetime,
                     organisation: Organisation | None = None) -> bool:
    if user is None or any(p.user_id == user.id and p.role == role
                           for p in collab.participants):
        return False
    collab.participants.append(CollaborationParticipant(
        user_id=user.id, user=user, role=role, added_at=now,
        organisation_id=organisation.id if organisation is not None else None))
    return True


def _add_partner(collab: Collaboration, org: Organisation | None) -> bool:
    if org is None or any(p.organisation_id == org.id for p in collab.partners):
        return False
    collab.partners.append(CollaborationPartner(organisation_id=org.id, organisation=org))
    return True


def participant_keys(db: Session, collab: Collaboration) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = {}
    for p in sorted(collab.participants, key=lambda p: (p.role, p.user_id)):
        keys.setdefault(p.role, []).append(person_key(db, p.user))
    return keys


def _open_collaborations(db: Session, opp: Opportunity) -> list[Collaboration]:
    return list(db.execute(
        select(Collaboration).where(Collaboration.opportunity_id == opp.id,
                                    Collaboration.status.in_(OPEN_COLLABORATION_STATUSES))
        .order_by(Collaboration.id)
    ).scalars())


def _join_target(db: Session, application: Application,
                 opp: Opportunity) -> Collaboration | None:
    candidates = _open_collaborations(db, opp)
    if opp.kind == "eit_village":
        return candidates[0] if candidates else None
    kind = application.applicant_kind
    for collab in candidates:
        origin = collab.application.applicant_kind if collab.application else None
        if kind == "student" and origin != "student" and not _has_role(collab, "student"):
            return collab
        if kind == "unit" and origin == "student" and not _has_role(collab, "supervisor"):
            return collab
        if kind == "organisation" and origin != "organisation" and not collab.partners:
            return collab
    return None


def _match(db: Session, actor: User, application: Application, opp: Opportunity,
           now: datetime) -> Collaboration:
    collab = _join_target(db, application, opp)
    created = collab is None
    kind = application.applicant_kind
    applicant = application.applicant_user
    profile = _profile(db, applicant) if kind == "student" else None
    if created:
        levels = opp.level_names
        level = profile.level if profile is not None else (levels[0] if len(levels) == 1
                                                            else None)
        unit = application.applicant_unit or opp.owner_unit or (
            profile.unit if profile is not None else None)
        village = opp.kind == "eit_village"
        collab = Collaboration(
            form=opp.kind, title=opp.title[:300], description="", opportunity=opp,
            application=None if village else application, unit=unit, status="agreed",
            study_level=level, programme=(profile.programme or None) if profile else None,
            start_date=opp.period_start, end_date=opp.period_end,
            ects=opp.ects if opp.credit_bearing else None,
            created_by_id=actor.id, created_at=now, updated_at=now)
        _add_partner(collab, opp.owner_org)
        if opp.owner_org is not None:
            contact = opp.contact_user
            if contact is None and policy.is_org_member(db, actor, opp.owner_org):
                contact = actor
            _add_participant(collab, contact, "partner_contact", now, opp.owner_org)
        else:
            lead = opp.village_leader or opp.contact_user
            _add_participant(collab, lead, "supervisor", now)
        db.add(collab)
    joined_role = None
    joined_partner = False
    if kind == "student":
        if _add_participant(collab, applicant, "student", now):
            joined_role = "student"
        if not created and profile is not None:
            collab.study_level = collab.study_level or profile.level
            collab.programme = collab.programme or profile.programme or None
    elif kind == "unit":
        if _add_participant(collab, applicant, "supervisor", now):
            joined_role = "supervisor"
        collab.unit = application.applicant_unit
    else:
        joined_partner = _add_partner(collab, application.applicant_org)
        _add_participant(collab, applicant, "partner_contact", now, application.applicant_org)
    touch(collab, now)
    db.flush()

    if created:
        students = sum(1 for p in collab.participants if p.role == "student")
        record_event(db, "collaboration_agreed", actor=actor, subject=_subject(application),
                     collaboration=collab, application=application, now=now, data={
                         "via": "portal_match", "form": collab.form, "applicant_kind": kind,
                         "partner_org_ids": sorted(p.organisation_id for p in collab.partners),
                         "partners_count": len(collab.partners),
                         "participant_keys": participant_keys(db, collab),
                         "students": students, "ects": collab.ects, "places": opp.places,
                         "start_date": collab.start_date, "end_date": collab.end_date})
    elif joined_role is not None:
        record_event(db, "participant_added", actor=actor, subject=applicant,
                     collaboration=collab, application=application, now=now,
                     data={"role": joined_role, "staff_role": joined_role != "student",
                           "participants": len(collab.participants)})
    if kind == "organisation" and (joined_partner or created):
        org = application.applicant_org
        if opp.kind == "eit_village":
            record_event(db, "partner_joined_village", actor=actor, collaboration=collab,
                         organisation=org, application=application, now=now, data={
                             "semester": opp.semester, "village_code": opp.village_code,
                             "places": opp.places, "partners_count": len(collab.partners)})
        elif not created:
            record_event(db, "partner_added", actor=actor, collaboration=collab,
                         organisation=org, application=application, now=now, data={
                             "partner_org_ids": sorted(p.organisation_id
                                                       for p in collab.partners),
                             "partners_count": len(collab.partners)})
    return collab


# ----------------------------------------------------------------- e-mail
def _notify(db: Session, application: Application, template: str, *, now: datetime,
            comment: str = "") -> None:
    """Tell the person who applied (or made the offer) about the decision."""
    from portal.services import messages, notifications

    person = application.applicant_user
    if person is None or person.erased_at is not None or not person.is_active:
        return
    opp = application.opportunity
    notifications.notify(db, person, template, params={"title": opp.title},
                         link="/applications", now=now)
    owner = opp.owner_org.name if opp.owner_org is not None else (
        opp.owner_unit.name(person.locale) if opp.owner_unit is not None else "")
    messages.send(db, to=person.email, locale=person.locale, template=template, now=now,
                  name=person.display_name, title=opp.title, owner=owner, comment=comment)


# ----------------------------------------------------------------- EiT wishes
def record_eit_wishes(db: Session, student: User, semester: str, opportunity_ids: list[int],
                      *, now: datetime | None = None) -> list[EitWish]:
    """Replace the student's ranked EiT village wishes for ``semester``.

    Up to five villages, in rank order, all published EiT villages of that
    semester whose deadline has not passed; at least two of them must be run
    by a faculty other than the student's own (StudentProfile.unit).
    """
    now = aware(now)
    policy.require_role(student, "student")
    if not semester_valid(semester):
        raise ValidationFailed({"semester": [_l("Write the semester like 2026H or 2027V.")]})
    ids = list(opportunity_ids or ())
    if len(set(ids)) != len(ids):
        raise ValidationFailed({"wishes": [_l("Choose each village only once.")]})
    if not ids or len(ids) > MAX_EIT_WISHES:
        raise ValidationFailed({"wishes": [_l("Choose between one and five villages.")]})
    opps = {o.id: o for o in db.execute(
        select(Opportunity).where(Opportunity.id.in_(ids))).scalars()}
    errors: list = []
    for oid in ids:
        opp = opps.get(oid)
        if opp is None or opp.kind != "eit_village" or opp.status != "published":
            errors.append(_l("One of the choices is not an open EiT village."))
            break
        if opp.semester != semester:
            errors.append(_l("All villages must be in semester %(s)s.", s=semester))
            break
        if deadline_passed(opp, now):
            errors.append(_l("The deadline for %(v)s has passed.", v=opp.village_code or
                             opp.title))
            break
    if errors:
        raise ValidationFailed({"wishes": errors})
    profile = _profile(db, student)
    own = profile.unit.ancestor_at("faculty") if profile and profile.unit else None
    if own is None:
        raise ValidationFailed({"wishes": [
            _l("Your study programme's faculty is not known; update your profile first.")]})
    other = 0
    for oid in ids:
        unit = opps[oid].owner_unit
        faculty = unit.ancestor_at("faculty") if unit is not None else None
        if faculty is not None and faculty.id != own.id:
            other += 1
    if other < MIN_OTHER_FACULTY_WISHES:
        raise ValidationFailed({"wishes": [
            _l("At least two of your wishes must be villages run by another faculty "
               "than your own.")]})
    old = db.execute(select(EitWish).where(EitWish.student_user_id == student.id,
                                           EitWish.semester == semester)).scalars().all()
    for row in old:
        db.delete(row)
    db.flush()
    wishes = []
    for rank, oid in enumerate(ids, start=1):
        wish = EitWish(student_user_id=student.id, semester=semester, rank=rank,
                       opportunity_id=oid, created_at=now)
        db.add(wish)
        wishes.append(wish)
    db.flush()
    record_event(db, "eit_wishes_recorded", actor=student, subject=student, now=now,
                 unit=profile.unit, data={
                     "semester": semester, "wishes": len(ids), "other_faculty": other,
                     "village_codes": [opps[oid].village_code for oid in ids]})
    return wishes


def eit_wishes(db: Session, student: User, semester: str) -> list[EitWish]:
    return list(db.execute(
        select(EitWish).where(EitWish.student_user_id == student.id,
                              EitWish.semester == semester).order_by(EitWish.rank)
    ).scalars())


# ----------------------------------------------------------------- queries
def applications_for(db: Session, actor: User, opp: Opportunity) -> list[Application]:
    """All applications to ``opp``, for its owners."""
    policy.require_manage_opportunity(db, actor, opp)
    return list(db.execute(
        select(Application).where(Application.opportunity_id == opp.id)
        .order_by(Application.created_at, Application.id)
    ).scalars())


def applications_of(db: Session, user: User) -> list[Application]:
    """The user's own applications and offers they made."""
    return list(db.execute(
        select(Application).where(Application.applicant_user_id == user.id)
        .order_by(Application.created_at.desc(), Application.id.desc())
    ).scalars())


def get_application(db: Session, actor: User | None, application_id: int) -> Application:
    application = db.get(Application, application_id)
    if application is None or not policy.can_view_application(db, actor, application):
        raise NotFound(_l("No such application."))
    return application
