"""Bulk import of opportunities from JSON Lines (an administrator's tool).

Each line is one opportunity in the shape of the search development set
(``id``, ``kind``, ``language``, ``title``, ``description``, ``tags``,
``level`` or ``levels``, ``organisation``, ``sector``, ``municipality``,
``deadline``, ``domain``; optional kind-specific fields as the posting form
takes them). Every record is created and published through the same services
as the posting pages, so each writes its events. The caller runs the whole
import in one transaction: one bad line and nothing is imported.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Opportunity, Organisation, User
from portal.models.vocab import (
    CONTENT_LANGUAGES,
    OPPORTUNITY_KINDS,
    SECTORS,
    SIZE_CLASSES,
    STUDY_LEVELS,
)
from portal.services import opportunities, organisations
from portal.services.errors import ServiceError, ValidationFailed
from portal.services.events import aware

REQUIRED = ("title", "kind", "organisation")
OPTIONAL_KIND_FIELDS = {
    "thesis_task": ("external_cosupervision", "confidentiality_terms"),
    "placement": ("extent_weeks", "extent_hours", "supervised_on_site", "credit_bearing", "ects",
                  "paid"),
    "industry_case": ("material", "course_usage"),
    "eit_village": ("semester", "village_code", "theme"),
}
DATE_FIELDS = ("deadline", "period_start", "period_end")


class ImportFailed(ServiceError):
    """A record is wrong; the message names its line."""


@dataclass
class ImportReport:
    imported: int = 0
    organisations_created: int = 0
    opportunity_ids: list[int] = field(default_factory=list)


def _fail(line_no: int, message: str) -> ImportFailed:
    return ImportFailed(f"line {line_no}: {message}")


def _date(value, name: str, line_no: int) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _fail(line_no, f"{name}: not an ISO date (YYYY-MM-DD): {value!r}") from None


def _parse(line_no: int, raw: str) -> dict:
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _fail(line_no, f"not valid JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise _fail(line_no, "each line must be a JSON object")
    missing = [k for k in REQUIRED if not str(record.get(k) or "").strip()]
    if missing:
        raise _fail(line_no, f"missing {', '.join(missing)}")
    if record["kind"] not in OPPORTUNITY_KINDS:
        raise _fail(line_no, f"kind must be one of {', '.join(OPPORTUNITY_KINDS)}")
    language = record.get("language") or "nb"
    if language not in CONTENT_LANGUAGES:
        raise _fail(line_no, "language must be nb or en")
    levels = record.get("levels")
    if levels is None:
        levels = [record["level"]] if record.get("level") else []
    if not isinstance(levels, list) or any(lv not in STUDY_LEVELS for lv in levels):
        raise _fail(line_no, f"level must be one of {', '.join(STUDY_LEVELS)}")
    sector = record.get("sector")
    if sector is not None and sector not in SECTORS:
        raise _fail(line_no, f"sector must be one of {', '.join(SECTORS)}")
    size = record.get("size_class")
    if size is not None and size not in SIZE_CLASSES:
        raise _fail(line_no, f"size_class must be one of {', '.join(SIZE_CLASSES)}")
    tags = record.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise _fail(line_no, "tags must be a list of strings")
    ext = record.get("id")
    if ext is not None and (isinstance(ext, bool) or not isinstance(ext, int)):
        raise _fail(line_no, "id must be an integer")
    record["language"], record["levels"], record["tags"] = language, levels, tags
    for name in DATE_FIELDS:
        record[name] = _date(record.get(name), name, line_no)
    return record


def _organisation(db: Session, actor: User, record: dict, cache: dict, report: ImportReport,
                  now: datetime) -> Organisation:
    name = record["organisation"].strip()
    key = name.casefold()
    if key in cache:
        return cache[key]
    org = db.execute(select(Organisation).where(func.lower(Organisation.name) == name.lower())
                     ).scalars().first()
    if org is None:
        # Unknown partners arrive unverified, for a coordinator to check later.
        org = Organisation(name=name[:300], sector=record.get("sector") or "private",
                           size_class=record.get("size_class"), country="NO",
                           municipality=(record.get("municipality") or None),
                           verified=False, created_by_id=actor.id, created_at=now, updated_at=now)
        db.add(org)
        db.flush()
        organisations.record_organisation_event(db, "organisation_registered", actor=actor,
                                                organisation=org, now=now)
        report.organisations_created += 1
    cache[key] = org
    return org


def import_opportunities(
    db: Session,
    actor: User,
    lines: Iterable[str],
    *,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    now = aware(now)
    report = ImportReport()
    cache: dict[str, Organisation] = {}
    seen_ids: set[int] = set()
    for line_no, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        record = _parse(line_no, raw)
        ext = record.get("id")
        if ext is not None:
            if ext in seen_ids or db.execute(
                    select(Opportunity.id).where(Opportunity.external_id == ext)).first():
                raise _fail(line_no, f"id {ext} is already imported")
            seen_ids.add(ext)
        org = _organisation(db, actor, record, cache, report, now)
        kind = record["kind"]
        fields = {
            "title": record["title"], "description": record.get("description") or "",
            "language": record["language"], "levels": record["levels"], "tags": record["tags"],
            "municipality": record.get("municipality") or None,
            "domain": record.get("domain") or None, "deadline": record["deadline"],
            "period_start": record["period_start"], "period_end": record["period_end"],
        }
        if isinstance(record.get("places"), int):
            fields["places"] = record["places"]
        for name in OPTIONAL_KIND_FIELDS[kind]:
            if name in record:
                fields[name] = record[name]
        try:
            opp = opportunities.create_draft(db, actor, kind=kind, owner_org=org, now=now, **fields)
            opp.external_id = ext
            opportunities.publish(db, actor, opp, now=now)
        except ValidationFailed as exc:
            raise _fail(line_no, exc.one_line()) from None
        except ServiceError as exc:
            raise _fail(line_no, str(exc.message)) from None
        report.imported += 1
        report.opportunity_ids.append(opp.id)
        if progress is not None:
            progress(1)
    return report


def default_actor(db: Session, email: str | None) -> User:
    """The administrator an import runs as: the one named, or the first admin."""
    from portal.models import UserRole
    from portal.services import accounts

    if email:
        user = accounts.find_by_email(db, email)
        if user is None or not user.has_role("admin", "coordinator"):
            raise ServiceError(f"{email} is not an administrator or coordinator")
        return user
    user = db.execute(select(User).join(UserRole, UserRole.user_id == User.id)
                      .where(UserRole.role == "admin", User.erased_at.is_(None))
                      .order_by(User.id)).scalars().first()
    if user is None:
        raise ServiceError("no administrator account: create one with "
                           "`portal user create --email … --role admin`")
    return user
