"""Listing opportunities: the public list with filters, and an owner's own list.

Full-text search lives in ``search_index``; this is the plain, filterable list
that works straight from the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal.models import (
    AcademicUnit,
    Opportunity,
    OpportunityLevel,
    Organisation,
    User,
)
from portal.models.vocab import CONTENT_LANGUAGES, OPPORTUNITY_KINDS, SECTORS, STUDY_LEVELS
from portal.services import policy
from portal.services.opportunities import local_date

PER_PAGE = 20
DEADLINE_WINDOWS = (7, 30, 90)


@dataclass
class ListingFilters:
    kind: str | None = None
    level: str | None = None
    sector: str | None = None
    language: str | None = None
    within_days: int | None = None

    @classmethod
    def from_args(cls, args) -> ListingFilters:
        """Unknown values are ignored rather than refused: a stale link still lists."""
        def pick(name, allowed):
            value = args.get(name) or None
            return value if value in allowed else None

        window = args.get("within") or ""
        return cls(
            kind=pick("kind", OPPORTUNITY_KINDS),
            level=pick("level", STUDY_LEVELS),
            sector=pick("sector", SECTORS),
            language=pick("language", CONTENT_LANGUAGES),
            within_days=int(window) if window.isdigit() and int(window) in DEADLINE_WINDOWS
            else None,
        )


@dataclass
class Page:
    items: list[Opportunity]
    total: int
    page: int
    per_page: int
    extra: dict = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)


def publicly_visible(now: datetime):
    """Published and not past the deadline: what anyone may see in lists."""
    today = local_date(now)
    return (Opportunity.status == "published") & or_(
        Opportunity.deadline.is_(None), Opportunity.deadline >= today)


def list_published(db: Session, filters: ListingFilters, *, page: int = 1,
                   now: datetime, per_page: int = PER_PAGE) -> Page:
    q = select(Opportunity).where(publicly_visible(now))
    if filters.kind:
        q = q.where(Opportunity.kind == filters.kind)
    if filters.language:
        q = q.where(Opportunity.language == filters.language)
    if filters.level:
        q = q.where(Opportunity.id.in_(
            select(OpportunityLevel.opportunity_id).where(OpportunityLevel.level == filters.level)))
    if filters.sector:
        q = q.where(Opportunity.owner_org_id.in_(
            select(Organisation.id).where(Organisation.sector == filters.sector)))
    if filters.within_days:
        q = q.where(Opportunity.deadline.is_not(None),
                    Opportunity.deadline <= local_date(now) + timedelta(days=filters.within_days))
    total = db.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    page = max(page, 1)
    # Soonest deadline first; those without a deadline last; id keeps pages stable.
    items = db.execute(
        q.order_by(Opportunity.deadline.is_(None), Opportunity.deadline, Opportunity.id)
        .offset((page - 1) * per_page).limit(per_page)
    ).scalars().all()
    return Page(list(items), total, page, per_page)


def owned_by(db: Session, user: User) -> list[Opportunity]:
    """Everything the user can manage: their organisations' and units' opportunities."""
    org_ids = policy.organisation_ids_for(db, user)
    unit_ids = policy.unit_ids_for(db, user)
    conds = []
    if org_ids:
        conds.append(Opportunity.owner_org_id.in_(org_ids))
    if unit_ids:
        conds.append(Opportunity.owner_unit_id.in_(unit_ids))
    if not conds:
        return []
    return list(db.execute(
        select(Opportunity).where(or_(*conds)).order_by(Opportunity.updated_at.desc(),
                                                         Opportunity.id.desc())
    ).scalars())


def owner_choices(db: Session, user: User) -> list[tuple[str, str]]:
    """('org:ID' | 'unit:ID', name) for every owner the user may post for."""
    out: list[tuple[str, str]] = []
    for org in db.execute(select(Organisation).where(
            Organisation.id.in_(policy.organisation_ids_for(db, user))).order_by(Organisation.name)
    ).scalars():
        if policy.can_post_for_org(db, user, org):
            out.append((f"org:{org.id}", org.name))
    for unit in db.execute(select(AcademicUnit).where(
            AcademicUnit.id.in_(policy.unit_ids_for(db, user))).order_by(AcademicUnit.code)
    ).scalars():
        out.append((f"unit:{unit.id}", f"{unit.code} – {unit.name_nb}"))
    return out


def courses_for_codes(db: Session, codes: list[str]) -> list:
    """Course rows for the codes typed into a form; unknown codes are a field error."""
    from portal.i18n import _l
    from portal.models import Course
    from portal.services.errors import ValidationFailed

    wanted = [c.strip().upper() for c in codes if c.strip()]
    if not wanted:
        return []
    found = {c.code: c for c in db.execute(select(Course).where(Course.code.in_(wanted))).scalars()}
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise ValidationFailed({"suitable_courses": [
            _l("Unknown course code: %(codes)s", codes=", ".join(unknown))]})
    return [found[c] for c in dict.fromkeys(wanted)]


def parse_owner(db: Session, value: str):
    """'org:ID' / 'unit:ID' from the owner select → (organisation, unit)."""
    from portal.i18n import _l
    from portal.services.errors import ValidationFailed

    kind, _, raw = (value or "").partition(":")
    if raw.isdigit():
        if kind == "org" and (org := db.get(Organisation, int(raw))) is not None:
            return org, None
        if kind == "unit" and (unit := db.get(AcademicUnit, int(raw))) is not None:
            return None, unit
    raise ValidationFailed({"owner": [_l("Choose who posts it.")]})


def eit_semesters(db: Session) -> list[str]:
    return list(db.execute(
        select(Opportunity.semester).where(Opportunity.kind == "eit_village",
                                           Opportunity.status == "published",
                                           Opportunity.semester.is_not(None))
        .distinct().order_by(Opportunity.semester)
    ).scalars())


def eit_villages(db: Session, semester: str) -> list[Opportunity]:
    return list(db.execute(
        select(Opportunity).where(Opportunity.kind == "eit_village",
                                  Opportunity.status == "published",
                                  Opportunity.semester == semester)
        .order_by(Opportunity.village_code, Opportunity.id)
    ).scalars())
