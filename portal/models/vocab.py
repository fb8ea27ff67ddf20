"""Closed vocabularies shared by models, services, forms and indicators.

The values are stable identifiers stored in the database; labels for people
live in ``portal.web.labels`` (translated).
"""

ROLES = ("student", "partner", "staff", "course_leader", "coordinator", "admin")

SECTORS = (
    "private",
    "public_state",
    "public_county",
    "public_municipal",
    "health_trust",
    "non_profit",
    "higher_education",
)

# EU SME size classes by head count.
SIZE_CLASSES = ("micro", "small", "medium", "large")

STUDY_LEVELS = ("bachelor", "master", "phd", "professional", "continuing", "project")

UNIT_LEVELS = ("faculty", "department", "group")

OPPORTUNITY_KINDS = ("thesis_task", "placement", "industry_case", "eit_village")
OPPORTUNITY_STATUSES = ("draft", "published", "closed", "archived")

APPLICATION_STATUSES = ("submitted", "shortlisted", "accepted", "rejected", "withdrawn")
ACTIVE_APPLICATION_STATUSES = ("submitted", "shortlisted", "accepted")

COLLABORATION_STATUSES = ("agreed", "ongoing", "completed", "cancelled")

PARTICIPANT_ROLES = (
    "student",
    "supervisor",
    "external_cosupervisor",
    "partner_contact",
    "course_leader",
    "staff",
)

# Canonical collaboration forms (GLOSSARY.md); their local words live in
# portal/data/collaboration_forms.json.
OPPORTUNITY_FORMS = OPPORTUNITY_KINDS
RECORDED_FORMS = (
    "guest_lecture",
    "company_visit",
    "workshop",
    "shared_position",
    "staff_mobility",
    "mentoring",
    "advisory_role",
    "research_collaboration",
    "student_innovation",
    "career_event",
)
COLLABORATION_FORMS = OPPORTUNITY_FORMS + RECORDED_FORMS

DELIVERABLE_TYPES = (
    "thesis_delivered",
    "report",
    "presentation",
    "prototype",
    "case_material",
)
OUTCOME_TYPES = (
    "student_recruited",
    "follow_up_project",
    "publication",
    "tto_disclosure",
    "continued_partnership",
)
RESULT_TYPES = DELIVERABLE_TYPES + OUTCOME_TYPES

LOCALES = ("nb", "en")
CONTENT_LANGUAGES = ("nb", "en")
