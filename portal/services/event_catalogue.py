"""The one catalogue of collaboration event types.

Every row in ``collaboration_event`` has one of these types. The A2
indicators (INDICATORS.md) are computed from the event log alone, so each
type documents the non-personal figures its ``data`` carries. Besides
``data``, every event carries the dimension snapshot taken by
``portal.services.events.record_event`` (partner sector/size/country/NACE,
faculty/department/unit, study level, programme, form, opportunity kind,
course) and plain-id links (collaboration, opportunity, application,
organisation, unit, course). Persons appear only as pseudonymous keys
(``actor_key``, ``subject_key`` and, where a figure needs them, lists of keys
in ``data``): never names or e-mail addresses.

Conventions the indicators rely on:

* ``collaboration_agreed`` (a portal match) and ``collaboration_recorded``
  (a directly documented activity) are the two ways a collaboration comes
  into existence; each happens exactly once per collaboration. Their data
  carries ``via`` ("portal_match" or "recorded"), ``partner_org_ids`` (all
  partner organisations, not only the one in the snapshot), the indicator
  figures known at that time and ``participant_keys`` ({role: [key, …]}).
* A directly recorded one-off activity that already took place is recorded
  with ``data.status == "completed"``; no separate ``collaboration_completed``
  event follows for it.
* Later additions to a collaboration are their own events
  (``participant_added``, ``partner_added``, ``partner_joined_village``).
* Dates in ``data`` are ISO strings; numbers are plain JSON numbers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    name: str
    group: str  # organisation | opportunity | application | collaboration | eit
    description: str
    data: tuple[str, ...] = ()  # the keys ``data`` carries (all non-personal)
    indicators: tuple[str, ...] = ()  # A2 indicators that read this type


_TYPES = (
    # ------------------------------------------------------------ partners
    EventType(
        "organisation_registered", "organisation",
        "A partner organisation was registered in the portal (self-service or by a "
        "coordinator). The snapshot holds its sector, size, country and NACE section.",
        ("via",), ("A2-6",),
    ),
    EventType(
        "organisation_verified", "organisation",
        "A coordinator verified a partner organisation; from now on its members may post.",
        (), ("A2-6",),
    ),
    # ------------------------------------------------------- opportunities
    EventType(
        "opportunity_created", "opportunity",
        "A draft opportunity was created by an organisation or an academic unit.",
        ("kind", "owner_type", "places"), (),
    ),
    EventType(
        "opportunity_published", "opportunity",
        "An opportunity became visible and open for applications.",
        ("kind", "owner_type", "places", "levels", "deadline", "semester",
         "partner_sought", "credit_bearing", "ects", "paid"),
        ("A2-6", "A2-7"),
    ),
    EventType(
        "opportunity_updated", "opportunity",
        "A published opportunity was edited (drafts are edited silently). ``places`` is "
        "the capacity after the edit, ``places_before`` the one before.",
        ("fields", "places", "places_before"), ("A2-7",),
    ),
    EventType(
        "opportunity_closed", "opportunity",
        "An opportunity stopped taking applications: reason filled, expired, manual or "
        "cancelled. Carries the capacity and how many places were filled.",
        ("reason", "places", "filled"), ("A2-7",),
    ),
    EventType(
        "opportunity_archived", "opportunity",
        "An opportunity was archived (removed from search, kept for history).",
        ("places", "filled"), (),
    ),
    # -------------------------------------------------------- applications
    EventType(
        "application_submitted", "application",
        "A student applied, or an academic unit offered supervision (applicant_kind "
        "'unit'), or an organisation offered itself as partner (applicant_kind "
        "'organisation', e.g. to an EiT village).",
        ("applicant_kind", "has_cv"), ("A2-7",),
    ),
    EventType(
        "application_shortlisted", "application",
        "The owner shortlisted an application.",
        ("applicant_kind",), ("A2-7",),
    ),
    EventType(
        "application_accepted", "application",
        "The owner accepted an application: a match. ``days_to_match`` counts days from "
        "publication to acceptance, ``days_from_application`` from the application. "
        "``consumes_place`` is true for student applications (the capacity counter).",
        ("applicant_kind", "days_to_match", "days_from_application", "consumes_place",
         "places", "filled"),
        ("A2-7",),
    ),
    EventType(
        "application_rejected", "application",
        "The owner rejected an application (the comment is not copied into the log).",
        ("applicant_kind", "from_status"), ("A2-7",),
    ),
    EventType(
        "application_withdrawn", "application",
        "The applicant withdrew an application.",
        ("applicant_kind", "from_status"), ("A2-7",),
    ),
    EventType(
        "eit_wishes_recorded", "eit",
        "A student ranked up to five EiT villages for a semester (replacing earlier "
        "wishes). ``village_codes`` are in rank order.",
        ("semester", "wishes", "other_faculty", "village_codes"), (),
    ),
    # ------------------------------------------------------ collaborations
    EventType(
        "collaboration_agreed", "collaboration",
        "A collaboration came into being from an accepted application (a portal match).",
        ("via", "form", "applicant_kind", "partner_org_ids", "partners_count",
         "participant_keys", "students", "ects", "places", "start_date", "end_date"),
        ("A2-1", "A2-2", "A2-3", "A2-6", "A2-7", "A2-9"),
    ),
    EventType(
        "collaboration_recorded", "collaboration",
        "A collaboration of a 'recorded' form (guest lecture, company visit, workshop, "
        "shared position, …) was documented directly by staff or a course leader. "
        "``local_label`` is the department's own word for it.",
        ("via", "form", "local_label", "status", "partner_org_ids", "partners_count",
         "participant_keys", "course_codes", "participants_count", "teams_count", "fte",
         "person_months", "start_date", "end_date", "ects"),
        ("A2-4", "A2-5", "A2-6", "A2-8", "A2-9"),
    ),
    EventType(
        "collaboration_started", "collaboration",
        "An agreed collaboration started (for placements: the student started).",
        ("form", "start_date", "students", "ects"), ("A2-2",),
    ),
    EventType(
        "participant_added", "collaboration",
        "A person joined a collaboration in a role (subject_key is the person).",
        ("role", "staff_role", "participants"), ("A2-3", "A2-9"),
    ),
    EventType(
        "participant_removed", "collaboration",
        "A person left a collaboration role (subject_key is the person).",
        ("role", "staff_role", "participants"), ("A2-9",),
    ),
    EventType(
        "partner_added", "collaboration",
        "A partner organisation joined an existing collaboration (not an EiT village). "
        "The snapshot describes the organisation that joined.",
        ("partner_org_ids", "partners_count"), ("A2-6",),
    ),
    EventType(
        "partner_joined_village", "collaboration",
        "An external organisation became partner of an EiT village (its offer was "
        "accepted). The snapshot describes the partner.",
        ("semester", "village_code", "places", "partners_count"), ("A2-3", "A2-6"),
    ),
    EventType(
        "course_tagged", "collaboration",
        "A course leader tagged a collaboration, or an industry-case opportunity, to "
        "their course (a course instance in ``semester``).",
        ("target", "semester", "teams_count", "students_reached", "ects"), ("A2-3",),
    ),
    EventType(
        "course_untagged", "collaboration",
        "A course leader removed a course tag.",
        ("target", "semester"), ("A2-3",),
    ),
    EventType(
        "result_recorded", "collaboration",
        "A deliverable (thesis_delivered, report, …) or an outcome (student_recruited, "
        "follow_up_project, publication, tto_disclosure, continued_partnership) was "
        "documented. occurred_at is the day it happened.",
        ("result_type", "result_category", "occurred_on", "has_link",
         "after_completion", "result_id"),
        ("A2-1", "A2-7", "A2-8", "A2-10"),
    ),
    EventType(
        "impact_story_recorded", "collaboration",
        "An impact story was written for a collaboration (the text is not copied).",
        ("public", "length", "replaced", "after_completion"), ("A2-8",),
    ),
    EventType(
        "collaboration_completed", "collaboration",
        "A collaboration was completed. Carries the figures at completion.",
        ("form", "results_count", "result_types", "has_impact_story", "students",
         "participants_count", "teams_count", "partners_count", "partner_org_ids",
         "ects", "fte", "person_months", "start_date", "end_date", "duration_days"),
        ("A2-1", "A2-2", "A2-3", "A2-4", "A2-5", "A2-7", "A2-8"),
    ),
    EventType(
        "collaboration_cancelled", "collaboration",
        "A collaboration was cancelled (the reason text is not copied).",
        ("form", "from_status"), ("A2-7",),
    ),
)

CATALOGUE: dict[str, EventType] = {t.name: t for t in _TYPES}
EVENT_TYPES: tuple[str, ...] = tuple(CATALOGUE)


def is_known(name: str) -> bool:
    return name in CATALOGUE


def describe(name: str) -> str:
    return CATALOGUE[name].description


def types_in_group(group: str) -> tuple[str, ...]:
    return tuple(t.name for t in _TYPES if t.group == group)
