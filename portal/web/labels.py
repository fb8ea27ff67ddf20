"""Translated labels for the closed vocabularies in ``portal.models.vocab``.

The stored values are stable identifiers; people see these labels. Use
``label(kind, value)`` in Python and the ``label`` template global in Jinja.
"""

from __future__ import annotations

from portal.i18n import _l

ROLE_LABELS = {
    "student": _l("Student"),
    "partner": _l("Partner"),
    "staff": _l("Academic staff"),
    "course_leader": _l("Course leader"),
    "coordinator": _l("Coordinator"),
    "admin": _l("Administrator"),
}

SECTOR_LABELS = {
    "private": _l("Private business"),
    "public_state": _l("Public sector: state"),
    "public_county": _l("Public sector: county"),
    "public_municipal": _l("Public sector: municipality"),
    "health_trust": _l("Health trust"),
    "non_profit": _l("Non-profit organisation"),
    "higher_education": _l("Higher education institution"),
}

SIZE_LABELS = {
    "micro": _l("Micro (fewer than 10 employees)"),
    "small": _l("Small (10–49 employees)"),
    "medium": _l("Medium (50–249 employees)"),
    "large": _l("Large (250 employees or more)"),
}

STUDY_LEVEL_LABELS = {
    "bachelor": _l("Bachelor"),
    "master": _l("Master"),
    "phd": _l("PhD"),
    "professional": _l("Integrated professional programme"),
    "continuing": _l("Continuing education"),
    "project": _l("Course or specialisation project"),
}

UNIT_LEVEL_LABELS = {
    "faculty": _l("Faculty"),
    "department": _l("Department"),
    "group": _l("Research group"),
}

ORG_STATUS_LABELS = {
    "verified": _l("Verified"),
    "pending": _l("Waiting for verification"),
    "rejected": _l("Not approved"),
}

MEMBERSHIP_ROLE_LABELS = {
    "admin": _l("Administrator"),
    "member": _l("Member"),
    "head": _l("Head"),
}

LOCALE_LABELS = {"nb": "Norsk (bokmål)", "en": "English"}

KIND_LABELS = {
    "thesis_task": _l("Thesis task"),
    "placement": _l("Practice placement"),
    "industry_case": _l("Industry case"),
    "eit_village": _l("Experts in Teamwork village"),
}

OPPORTUNITY_STATUS_LABELS = {
    "draft": _l("Draft"),
    "published": _l("Published"),
    "closed": _l("Closed"),
    "archived": _l("Archived"),
}

APPLICATION_STATUS_LABELS = {
    "submitted": _l("Submitted"),
    "shortlisted": _l("Shortlisted"),
    "accepted": _l("Accepted"),
    "rejected": _l("Not accepted"),
    "withdrawn": _l("Withdrawn"),
}

COLLABORATION_STATUS_LABELS = {
    "agreed": _l("Agreed"),
    "ongoing": _l("Ongoing"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
}

PARTICIPANT_ROLE_LABELS = {
    "student": _l("Student"),
    "supervisor": _l("Supervisor"),
    "external_cosupervisor": _l("External co-supervisor"),
    "partner_contact": _l("Partner contact"),
    "course_leader": _l("Course leader"),
    "staff": _l("Staff"),
}

RESULT_TYPE_LABELS = {
    "thesis_delivered": _l("Thesis delivered"),
    "report": _l("Report"),
    "presentation": _l("Presentation"),
    "prototype": _l("Prototype"),
    "case_material": _l("Case material"),
    "student_recruited": _l("Student recruited"),
    "follow_up_project": _l("Follow-up project"),
    "publication": _l("Publication"),
    "tto_disclosure": _l("Idea disclosed to the TTO"),
    "continued_partnership": _l("Continued partnership"),
}

FORM_LABELS = {
    "thesis_task": _l("Thesis task"),
    "placement": _l("Practice placement"),
    "industry_case": _l("Industry case"),
    "eit_village": _l("Experts in Teamwork village"),
    "guest_lecture": _l("Guest lecture"),
    "company_visit": _l("Company visit"),
    "workshop": _l("Workshop"),
    "shared_position": _l("Shared or adjunct position"),
    "staff_mobility": _l("Staff secondment"),
    "mentoring": _l("Mentoring"),
    "advisory_role": _l("Advisory role"),
    "research_collaboration": _l("Research collaboration"),
    "student_innovation": _l("Student innovation"),
    "career_event": _l("Career event"),
}

CONTENT_LANGUAGE_LABELS = {"nb": _l("Norwegian"), "en": _l("English")}

DEADLINE_WINDOW_LABELS = {
    "7": _l("Within a week"),
    "30": _l("Within a month"),
    "90": _l("Within three months"),
}

_KINDS = {
    "role": ROLE_LABELS,
    "sector": SECTOR_LABELS,
    "size_class": SIZE_LABELS,
    "study_level": STUDY_LEVEL_LABELS,
    "unit_level": UNIT_LEVEL_LABELS,
    "org_status": ORG_STATUS_LABELS,
    "membership_role": MEMBERSHIP_ROLE_LABELS,
    "locale": LOCALE_LABELS,
    "kind": KIND_LABELS,
    "participant_role": PARTICIPANT_ROLE_LABELS,
    "result_type": RESULT_TYPE_LABELS,
    "form": FORM_LABELS,
    "opportunity_status": OPPORTUNITY_STATUS_LABELS,
    "application_status": APPLICATION_STATUS_LABELS,
    "collaboration_status": COLLABORATION_STATUS_LABELS,
    "content_language": CONTENT_LANGUAGE_LABELS,
    "deadline_window": DEADLINE_WINDOW_LABELS,
}


def label(kind: str, value: str | None) -> str:
    """The person-facing label of ``value``; the value itself when unknown."""
    if value is None:
        return ""
    return str(_KINDS.get(kind, {}).get(value, value))


def choices(kind: str, *, blank=None) -> list[tuple[str, object]]:
    """(value, lazy label) pairs in vocabulary order (for WTForms, wrap them in
    ``portal.web.formtools.choices``). ``blank`` adds a first option with the empty value."""
    pairs = list(_KINDS[kind].items())
    if blank is not None:
        pairs.insert(0, ("", blank))
    return pairs
