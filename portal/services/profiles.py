"""The profile page: what each of a user's roles brings, and the edits they make there."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from portal.i18n import _l
from portal.models import AcademicUnit, Course, StudentProfile, UnitMembership, User, utcnow
from portal.models.organisations import OrganisationMembership
from portal.models.vocab import LOCALES, STUDY_LEVELS
from portal.services import academic, organisations
from portal.services.errors import PermissionDenied, ValidationFailed

MAX_TAGS_TEXT = 2000


@dataclass
class ProfileOverview:
    user: User
    student: StudentProfile | None = None
    organisations: list[OrganisationMembership] = field(default_factory=list)
    units: list[UnitMembership] = field(default_factory=list)
    courses: list[Course] = field(default_factory=list)
    verification_queue_size: int | None = None
    is_admin: bool = False


def profile_overview(db: Session, user: User) -> ProfileOverview:
    """Everything the profile page shows, section by section, for the user's own roles."""
    overview = ProfileOverview(user=user, is_admin=user.has_role("admin"))
    if user.has_role("student"):
        overview.student = ensure_student_profile(db, user)
    overview.organisations = organisations.organisations_of(db, user)
    if user.has_role("staff"):
        overview.units = academic.units_of(db, user)
    if user.has_role("course_leader"):
        overview.courses = academic.courses_led_by(db, user)
    if user.has_role("coordinator", "admin"):
        overview.verification_queue_size = organisations.queue_size(db)
    return overview


def ensure_student_profile(db: Session, user: User) -> StudentProfile:
    profile = db.get(StudentProfile, user.id)
    if profile is None:
        profile = StudentProfile(user_id=user.id)
        db.add(profile)
        db.flush()
    return profile


def update_account(db: Session, user: User, *, display_name: str, locale: str) -> User:
    """The user's own name and language."""
    errors: dict[str, list] = {}
    name = (display_name or "").strip()
    if not name:
        errors.setdefault("display_name", []).append(_l("Enter your name."))
    elif len(name) > 200:
        errors.setdefault("display_name", []).append(_l("The name is too long."))
    if locale not in LOCALES:
        errors.setdefault("locale", []).append(_l("Choose Norwegian or English."))
    if errors:
        raise ValidationFailed(errors)
    user.display_name = name
    user.locale = locale
    db.flush()
    return user


def normalise_tags(raw: str | None) -> str:
    """``"python,  ML\\nPython"`` → ``"python, ML"``: comma-separated, no repeats."""
    seen: dict[str, str] = {}
    for part in re.split(r"[,;\n]+", raw or ""):
        tag = " ".join(part.split())
        if tag and tag.lower() not in seen:
            seen[tag.lower()] = tag[:80]
    return ", ".join(seen.values())


def update_student_profile(
    db: Session,
    user: User,
    *,
    programme: str,
    level: str,
    unit_id: int | None,
    skills: str,
    interests: str,
    visible_to_partners: bool,
    now: datetime | None = None,
) -> StudentProfile:
    """A student's own profile; ``visible_to_partners`` is their consent to be found."""
    if not user.has_role("student"):
        raise PermissionDenied(_l("Only students have a student profile."))
    errors: dict[str, list] = {}
    programme_text = (programme or "").strip()
    if len(programme_text) > 200:
        errors.setdefault("programme", []).append(_l("The programme name is too long."))
    if level not in STUDY_LEVELS:
        errors.setdefault("level", []).append(_l("Choose a study level."))
    unit = None
    if unit_id:
        unit = db.get(AcademicUnit, unit_id)
        if unit is None:
            errors.setdefault("unit_id", []).append(_l("Choose a faculty or department."))
    skills_text = normalise_tags(skills)
    interests_text = normalise_tags(interests)
    if len(skills_text) > MAX_TAGS_TEXT:
        errors.setdefault("skills", []).append(_l("Please list fewer skills."))
    if len(interests_text) > MAX_TAGS_TEXT:
        errors.setdefault("interests", []).append(_l("Please list fewer interests."))
    if errors:
        raise ValidationFailed(errors)
    profile = ensure_student_profile(db, user)
    profile.programme = programme_text
    profile.level = level
    profile.unit_id = unit.id if unit is not None else None
    profile.skills = skills_text
    profile.interests = interests_text
    profile.visible_to_partners = bool(visible_to_partners)
    profile.updated_at = now or utcnow()
    db.flush()
    return profile
