"""Opportunities: drafts, per-kind validation, publishing, closing, archiving.

Life cycle: draft → published → closed → archived (a draft may be archived
directly). Each state change records its event and appends a
``SearchChange`` row in the same transaction; the caller commits.

Fields every kind takes (keyword arguments of ``create_draft``/``update``):
``title``, ``description``, ``language`` (nb|en), ``domain``, ``levels``
(subset of STUDY_LEVELS), ``tags`` (normalised to lower case), ``places``,
``deadline`` (last day to apply, Oslo time), ``period_start``, ``period_end``,
``municipality``, ``location``, ``contact_user``; for unit-owned
opportunities also ``partner_sought`` and ``partner_role`` (a group topic
looking for an external partner).

Per kind:

* thesis_task: ``external_cosupervision``, ``confidentiality_terms``; at
  least one level to publish.
* placement: ``extent_weeks`` or ``extent_hours``, ``supervised_on_site``,
  ``credit_bearing`` (+ ``ects``), ``paid``; a period to publish.
* industry_case: ``material``, ``course_usage``, ``suitable_courses``
  (Course rows), period.
* eit_village: owned by an academic unit; ``semester`` ("2026H", "2027V"),
  ``village_code``, ``theme``, ``village_leader``, ``places`` 25–36
  (default 30), ``partner_sought``, ``partner_role``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.i18n import _l
from portal.models import (
    AcademicUnit,
    Course,
    Opportunity,
    OpportunityCourse,
    OpportunityLevel,
    OpportunityTag,
    Organisation,
    SearchChange,
    User,
)
from portal.models.vocab import CONTENT_LANGUAGES, OPPORTUNITY_KINDS, STUDY_LEVELS
from portal.services import policy
from portal.services.errors import Conflict, ValidationFailed
from portal.services.events import aware, record_event, touch

OSLO = ZoneInfo("Europe/Oslo")
CLOSE_REASONS = ("manual", "filled", "expired", "cancelled")
EIT_MIN_PLACES, EIT_MAX_PLACES, EIT_DEFAULT_PLACES = 25, 36, 30
MAX_TAGS = 20
SEMESTER_RE = re.compile(r"^(\d{4})([HV])$")

COMMON_FIELDS = frozenset({
    "title", "description", "language", "domain", "levels", "tags", "places", "deadline",
    "period_start", "period_end", "municipality", "location", "contact_user",
    "partner_sought", "partner_role",
})
KIND_FIELDS = {
    "thesis_task": frozenset({"external_cosupervision", "confidentiality_terms"}),
    "placement": frozenset({"extent_weeks", "extent_hours", "supervised_on_site",
                            "credit_bearing", "ects", "paid"}),
    "industry_case": frozenset({"material", "course_usage", "suitable_courses"}),
    "eit_village": frozenset({"semester", "village_code", "theme", "village_leader"}),
}
_TEXT_LIMITS = {"title": 300, "domain": 60, "municipality": 120, "location": 200,
                "theme": 300, "village_code": 20, "description": 20000,
                "confidentiality_terms": 5000, "material": 10000, "course_usage": 5000,
                "partner_role": 5000}


# ---------------------------------------------------------------- helpers
def local_date(now: datetime) -> date:
    """The calendar date in Oslo (deadlines are Norwegian dates)."""
    return aware(now).astimezone(OSLO).date()


def deadline_passed(opp: Opportunity, now: datetime | None = None) -> bool:
    return opp.deadline is not None and local_date(aware(now)) > opp.deadline


def semester_valid(semester: str | None) -> bool:
    return bool(semester and SEMESTER_RE.match(semester))


def normalise_tag(raw: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", raw or "")).strip().lower()[:80]


def normalise_tags(raw) -> list[str]:
    if isinstance(raw, str):
        raw = raw.split(",")
    return list(dict.fromkeys(t for t in (normalise_tag(x) for x in raw or ()) if t))


_TRANSLIT = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "ae", "Ø": "o", "Å": "a",
                           "ß": "ss", "ü": "u", "ö": "o", "ä": "a"})


def slugify(text: str, max_len: int = 80) -> str:
    text = unicodedata.normalize("NFKD", (text or "").translate(_TRANSLIT))
    text = text.encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if len(slug) > max_len:
        slug = slug[:max_len].rsplit("-", 1)[0] or slug[:max_len]
    return slug or "opportunity"


def unique_slug(db: Session, title: str, exclude_id: int | None = None) -> str:
    base = slugify(title)
    stmt = select(Opportunity.slug).where(Opportunity.slug.like(f"{base}%"))
    if exclude_id is not None:
        stmt = stmt.where(Opportunity.id != exclude_id)
    taken = set(db.execute(stmt).scalars())
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _search_change(db: Session, opp: Opportunity, op: str, now: datetime) -> None:
    db.add(SearchChange(entity_type="opportunity", entity_id=opp.id, op=op, created_at=now))


def _err(errors: dict, field: str, message) -> None:
    errors.setdefault(field, []).append(message)


def _owner_type(opp: Opportunity) -> str:
    return "organisation" if opp.owner_org_id is not None else "unit"


# ------------------------------------------------------------- validation
def _clean_fields(kind: str, is_unit_owned: bool, fields: dict, errors: dict) -> dict:
    allowed = COMMON_FIELDS | KIND_FIELDS[kind]
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"fields not valid for {kind}: {', '.join(sorted(unknown))}")
    clean: dict = {}
    for name, value in fields.items():
        if name in _TEXT_LIMITS:
            value = (value or "").strip() if isinstance(value, str) or value is None else value
            if not isinstance(value, str):
                _err(errors, name, _l("Enter text."))
                continue
            if len(value) > _TEXT_LIMITS[name]:
                _err(errors, name, _l("At most %(n)s characters.", n=_TEXT_LIMITS[name]))
                continue
            if name not in ("title", "description") and value == "":
                value = None
        elif name == "language":
            if value not in CONTENT_LANGUAGES:
                _err(errors, name, _l("Choose Norwegian or English."))
                continue
        elif name == "levels":
            value = list(dict.fromkeys(value or ()))
            bad = [lv for lv in value if lv not in STUDY_LEVELS]
            if bad:
                _err(errors, name, _l("Unknown study level: %(v)s", v=", ".join(map(str, bad))))
                continue
        elif name == "tags":
            value = normalise_tags(value)
            if len(value) > MAX_TAGS:
                _err(errors, name, _l("At most %(n)s tags.", n=MAX_TAGS))
                continue
        elif name in ("places", "extent_weeks", "extent_hours"):
            if value is None and name != "places":
                clean[name] = None
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                _err(errors, name, _l("Enter a whole number of at least 1."))
                continue
        elif name in ("deadline", "period_start", "period_end"):
            if value is not None and (isinstance(value, datetime) or not isinstance(value, date)):
                _err(errors, name, _l("Enter a date."))
                continue
        elif name in ("external_cosupervision", "supervised_on_site", "credit_bearing",
                      "paid", "partner_sought"):
            value = bool(value)
        elif name == "ects":
            if value is not None:
                try:
                    value = Decimal(str(value))
                except InvalidOperation:
                    _err(errors, name, _l("Enter a number of credits."))
                    continue
                if not (Decimal("0") < value <= Decimal("60")) or value * 2 % 1:
                    _err(errors, name, _l("Credits must be between 0.5 and 60, in halves."))
                    continue
        elif name == "semester":
            if value is not None and not semester_valid(value):
                _err(errors, name, _l("Write the semester like 2026H (autumn) or 2027V "
                                      "(spring)."))
                continue
        elif name in ("contact_user", "village_leader"):
            if value is not None and not isinstance(value, User):
                raise TypeError(f"{name} must be a User")
        elif name == "suitable_courses":
            value = list(dict.fromkeys(value or ()))
            if any(not isinstance(c, Course) for c in value):
                raise TypeError("suitable_courses must be Course rows")
        clean[name] = value
    if not is_unit_owned and clean.get("partner_sought"):
        _err(errors, "partner_sought",
             _l("Only opportunities owned by an academic unit can look for a partner."))
    return clean


def _check_consistency(db: Session, opp: Opportunity, errors: dict, *, publishing: bool,
                       now: datetime, check_deadline: bool = True) -> None:
    """Rules on the opportunity as a whole (after fields are applied)."""
    if not (opp.title or "").strip():
        _err(errors, "title", _l("Enter a title."))
    if opp.period_start and opp.period_end and opp.period_end < opp.period_start:
        _err(errors, "period_end", _l("The period cannot end before it starts."))
    if opp.places is not None and opp.places < (opp.filled or 0):
        _err(errors, "places", _l("There are already %(n)s accepted; places cannot be fewer.",
                                  n=opp.filled))
    if opp.kind == "eit_village":
        # A unit runs the village; an organisation's EiT posting is a partnership
        # offer: a theme and a challenge a village can take on.
        if not (EIT_MIN_PLACES <= (opp.places or 0) <= EIT_MAX_PLACES):
            _err(errors, "places", _l("An EiT village takes between 25 and 36 students."))
        if opp.village_leader is not None and not opp.village_leader.has_role(
                "staff", "course_leader", "coordinator"):
            _err(errors, "village_leader", _l("The village leader must be academic staff."))
    if opp.kind == "placement":
        if opp.credit_bearing and opp.ects is None and publishing:
            _err(errors, "ects", _l("Enter the credits for a credit-bearing placement."))
        if not opp.credit_bearing and opp.ects is not None:
            _err(errors, "ects", _l("Only credit-bearing placements give credits."))
    if not publishing:
        return
    if not (opp.description or "").strip():
        _err(errors, "description", _l("Enter a description."))
    if check_deadline and opp.deadline is not None and opp.deadline < local_date(now):
        _err(errors, "deadline", _l("The deadline has passed."))
    if opp.kind == "thesis_task" and not opp.levels:
        _err(errors, "levels", _l("Choose at least one study level."))
    # A placement's period and extent may be left to agree with the student.
    if opp.kind == "eit_village" and opp.owner_unit_id is not None:
        if not opp.semester:
            _err(errors, "semester", _l("Enter the semester."))
        if not opp.village_code:
            _err(errors, "village_code", _l("Enter the village code."))
        if not opp.theme:
            _err(errors, "theme", _l("Enter the village theme."))


def _apply(db: Session, opp: Opportunity, clean: dict, actor: User | None) -> list[str]:
    changed: list[str] = []
    for name, value in clean.items():
        if name == "levels":
            if sorted(value) != opp.level_names:
                opp.levels = [OpportunityLevel(level=lv) for lv in value]
                changed.append(name)
        elif name == "tags":
            if sorted(value) != opp.tag_names:
                opp.tags = [OpportunityTag(tag=t) for t in value]
                changed.append(name)
        elif name == "suitable_courses":
            want = {c.id for c in value}
            have = {oc.course_id for oc in opp.suitable_courses}
            if want != have:
                opp.suitable_courses = [oc for oc in opp.suitable_courses if oc.course_id in want]
                for c in value:
                    if c.id not in have:
                        opp.suitable_courses.append(OpportunityCourse(course_id=c.id,
                                                                      course=c))
                changed.append(name)
        elif name in ("contact_user", "village_leader"):
            if getattr(opp, name) is not value:
                setattr(opp, name, value)
                changed.append(name)
        elif getattr(opp, name) != value:
            setattr(opp, name, value)
            changed.append(name)
    return changed


def _check_contact(db: Session, opp: Opportunity, errors: dict) -> None:
    contact = opp.contact_user
    if contact is None:
        return
    ok = (policy.is_org_member(db, contact, opp.owner_org) if opp.owner_org is not None
          else policy.is_unit_member(db, contact, opp.owner_unit))
    if not ok and not policy.is_coordinator(contact):
        _err(errors, "contact_user", _l("The contact person must belong to the owner."))


# ---------------------------------------------------------------- actions
def create_draft(
    db: Session,
    actor: User,
    *,
    kind: str,
    owner_org: Organisation | None = None,
    owner_unit: AcademicUnit | None = None,
    now: datetime | None = None,
    **fields,
) -> Opportunity:
    """A new draft, owned by an organisation (its verified members) or a unit (its staff)."""
    now = aware(now)
    if kind not in OPPORTUNITY_KINDS:
        raise ValidationFailed({"kind": [_l("Unknown kind of opportunity.")]})
    if (owner_org is None) == (owner_unit is None):
        raise ValidationFailed({"owner": [_l("Choose one owner: an organisation or a unit.")]})
    policy.require_active(actor)
    if owner_org is not None:
        policy.require_post_for_org(db, actor, owner_org)
    else:
        policy.require_unit(db, actor, owner_unit)

    errors: dict = {}
    if kind == "eit_village" and "places" not in fields:
        fields["places"] = EIT_DEFAULT_PLACES
    fields.setdefault("contact_user", actor)
    fields.setdefault("description", "")
    clean = _clean_fields(kind, owner_unit is not None, fields, errors)
    if errors:
        raise ValidationFailed(errors)
    opp = Opportunity(kind=kind, status="draft", owner_org=owner_org, owner_unit=owner_unit,
                      created_by_id=actor.id, created_at=now, updated_at=now, filled=0,
                      places=1, title="", description="", language="nb")
    _apply(db, opp, clean, actor)
    _check_consistency(db, opp, errors, publishing=False, now=now)
    _check_contact(db, opp, errors)
    if errors:
        # Not added to the session: nothing to undo.
        raise ValidationFailed(errors)
    opp.slug = unique_slug(db, opp.title)
    db.add(opp)
    db.flush()
    _search_change(db, opp, "upsert", now)
    record_event(db, "opportunity_created", actor=actor, opportunity=opp, now=now,
                 data={"kind": kind, "owner_type": _owner_type(opp), "places": opp.places})
    return opp


def update(db: Session, actor: User, opp: Opportunity, *, now: datetime | None = None,
           **fields) -> list[str]:
    """Edit a draft or a published opportunity; returns the names of changed fields.

    Editing a published opportunity keeps it valid for publication and
    records ``opportunity_updated``; a draft is edited without an event.
    """
    now = aware(now)
    policy.require_manage_opportunity(db, actor, opp)
    if opp.status not in ("draft", "published"):
        raise Conflict(_l("A closed or archived opportunity can no longer be edited."))
    errors: dict = {}
    clean = _clean_fields(opp.kind, opp.owner_unit_id is not None, fields, errors)
    if errors:
        raise ValidationFailed(errors)
    places_before = opp.places
    # Validate on a savepoint so a refused edit leaves the row as it was.
    # (raising inside the block rolls the savepoint back and expires the row).
    with db.begin_nested(), db.no_autoflush:
        changed = _apply(db, opp, clean, actor)
        # A published one stays publishable; its deadline is checked only if moved.
        _check_consistency(db, opp, errors, publishing=opp.status == "published", now=now,
                           check_deadline="deadline" in changed)
        _check_contact(db, opp, errors)
        if errors:
            raise ValidationFailed(errors)
    if not changed:
        return []
    if "title" in changed and opp.status == "draft":
        opp.slug = unique_slug(db, opp.title, exclude_id=opp.id)
    touch(opp, now)
    _search_change(db, opp, "upsert", now)
    if opp.status == "published":
        record_event(db, "opportunity_updated", actor=actor, opportunity=opp, now=now,
                     data={"fields": sorted(changed), "places": opp.places,
                           "places_before": places_before})
    db.flush()
    return changed


update_draft = update  # the name the brief used; drafts and published ones alike


def publish(db: Session, actor: User, opp: Opportunity, *, now: datetime | None = None) -> None:
    now = aware(now)
    policy.require_manage_opportunity(db, actor, opp)
    if opp.status != "draft":
        raise Conflict(_l("Only a draft can be published."))
    errors: dict = {}
    _check_consistency(db, opp, errors, publishing=True, now=now)
    if errors:
        raise ValidationFailed(errors)
    opp.status = "published"
    opp.published_at = now
    touch(opp, now)
    db.flush()
    _search_change(db, opp, "upsert", now)
    record_event(db, "opportunity_published", actor=actor, opportunity=opp, now=now, data={
        "kind": opp.kind, "owner_type": _owner_type(opp), "places": opp.places,
        "levels": opp.level_names, "deadline": opp.deadline, "semester": opp.semester,
        "partner_sought": opp.partner_sought, "credit_bearing": opp.credit_bearing,
        "ects": opp.ects, "paid": opp.paid,
    })


def _close(db: Session, actor: User | None, opp: Opportunity, reason: str,
           now: datetime) -> None:
    opp.status = "closed"
    opp.closed_at = now
    opp.closed_reason = reason
    touch(opp, now)
    db.flush()
    _search_change(db, opp, "upsert", now)
    record_event(db, "opportunity_closed", actor=actor, opportunity=opp, now=now,
                 data={"reason": reason, "places": opp.places, "filled": opp.filled})


def close(db: Session, actor: User, opp: Opportunity, reason: str = "manual", *,
          now: datetime | None = None) -> None:
    """Stop taking applications. ``reason``: manual (default), cancelled, filled, expired."""
    now = aware(now)
    policy.require_manage_opportunity(db, actor, opp)
    if reason not in CLOSE_REASONS:
        raise ValidationFailed({"reason": [_l("Unknown reason for closing.")]})
    if opp.status != "published":
        raise Conflict(_l("Only a published opportunity can be closed."))
    _close(db, actor, opp, reason, now)


def archive(db: Session, actor: User, opp: Opportunity, *, now: datetime | None = None) -> None:
    """Remove from search and listings; history (applications, events) is kept."""
    now = aware(now)
    policy.require_manage_opportunity(db, actor, opp)
    if opp.status == "archived":
        raise Conflict(_l("The opportunity is already archived."))
    if opp.status == "published":
        raise Conflict(_l("Close the opportunity before archiving it."))
    opp.status = "archived"
    opp.archived_at = now
    touch(opp, now)
    db.flush()
    _search_change(db, opp, "delete", now)
    record_event(db, "opportunity_archived", actor=actor, opportunity=opp, now=now,
                 data={"places": opp.places, "filled": opp.filled})


def close_if_full_or_expired(db: Session, opp: Opportunity,
                             now: datetime | None = None) -> str | None:
    """Close a published opportunity that is full or past its deadline (system action).

    Returns the reason it was closed for, or None if it stays open.
    """
    now = aware(now)
    if opp.status != "published":
        return None
    db.refresh(opp, ["filled", "places", "status"])
    if opp.status != "published":
        return None
    if opp.filled >= opp.places:
        reason = "filled"
    elif deadline_passed(opp, now):
        reason = "expired"
    else:
        return None
    _close(db, None, opp, reason, now)
    return reason


def close_expired(db: Session, now: datetime | None = None) -> list[Opportunity]:
    """Close every published opportunity past its deadline or full (the deadline job)."""
    now = aware(now)
    today = local_date(now)
    candidates = db.execute(
        select(Opportunity).where(
            Opportunity.status == "published",
            (Opportunity.deadline < today) | (Opportunity.filled >= Opportunity.places),
        ).order_by(Opportunity.id)
    ).scalars().all()
    return [opp for opp in candidates if close_if_full_or_expired(db, opp, now)]


def get(db: Session, opportunity_id: int) -> Opportunity:
    from portal.services.errors import NotFound

    opp = db.get(Opportunity, opportunity_id)
    if opp is None:
        raise NotFound(_l("No such opportunity."))
    return opp
