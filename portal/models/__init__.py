"""All models, imported here so that metadata is complete for Alembic."""

from .academic import AcademicUnit, Course, CourseLeader, StudentProfile, UnitMembership
from .accounts import AppMeta, AuthSession, LoginAttempt, PersonKey, User, UserRole
from .base import Base, utcnow
from .collaborations import (
    Collaboration,
    CollaborationCourse,
    CollaborationParticipant,
    CollaborationPartner,
    CollaborationResult,
)
from .denominators import Denominator
from .events import AppendOnlyError, CollaborationEvent
from .infra import OutboxMail, SearchChange
from .jobs import JobLease, JobRun, ResultReminder
from .notifications import Notification
from .opportunities import (
    Application,
    EitWish,
    Opportunity,
    OpportunityCourse,
    OpportunityLevel,
    OpportunityTag,
)
from .organisations import Organisation, OrganisationInvitation, OrganisationMembership
from .saved_searches import SavedSearch
from .terminology import TermSynonym

__all__ = [
    "AcademicUnit",
    "AppMeta",
    "AppendOnlyError",
    "Application",
    "AuthSession",
    "Base",
    "Collaboration",
    "CollaborationCourse",
    "CollaborationEvent",
    "CollaborationParticipant",
    "CollaborationPartner",
    "CollaborationResult",
    "Course",
    "CourseLeader",
    "Denominator",
    "EitWish",
    "JobLease",
    "JobRun",
    "LoginAttempt",
    "Notification",
    "Opportunity",
    "OpportunityCourse",
    "OpportunityLevel",
    "OpportunityTag",
    "Organisation",
    "OrganisationInvitation",
    "OrganisationMembership",
    "OutboxMail",
    "PersonKey",
    "ResultReminder",
    "SavedSearch",
    "SearchChange",
    "StudentProfile",
    "TermSynonym",
    "UnitMembership",
    "User",
    "UserRole",
    "utcnow",
]
