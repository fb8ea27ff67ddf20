"""Who may do what: authorisation predicates and guards for services and views.

Predicates (``is_*``, ``can_*``, ``leads_course``) answer True/False and never
raise; guards (``require_*``) raise ``PermissionDenied`` with a message safe to
show. Services call the guards, so the web pages, the CLI and jobs share one
set of rules. Views may call the predicates to decide what to show.

Decisions recorded here:

* **Coordinators and admins** may act for any organisation or unit (they
  verify partners and fix data), but they do not thereby see CVs: a CV is
  seen only by the applicant and the members of the owning organisation or
  unit.
* **Unit membership is inherited downwards**: a member of a unit may act for
  that unit and every unit below it (a department member for the
  department's groups, a faculty member for its departments and groups), not
  for units above it or beside it.
* **Organisations must be verified** before their members may post or offer
  anything (coordinators verify; a coordinator may act for an unverified one).
* **Collaborations**: staff participants (supervisor, external co-supervisor,
  course leader, staff), partner contacts, members of a partner organisation,
  the person who recorded it, members of its academic unit and coordinators
  may edit it; student participants may *document* it (results, impact
  story) but not change who takes part. Completed and cancelled
  collaborations are read-only (the services raise ``Conflict``), except that
  results and impact stories may still be documented after completion.
* Inactive or erased accounts may do nothing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.i18n import _l
from portal.models import (
    AcademicUnit,
    Application,
    Collaboration,
    CollaborationParticipant,
    CollaborationPartner,
    Course,
    CourseLeader,
    Opportunity,
    Organisation,
    OrganisationMembership,
    UnitMembership,
    User,
)
from portal.services.errors import PermissionDenied

STAFF_PARTICIPANT_ROLES = ("supervisor", "external_cosupervisor", "course_leader", "staff")
EDITOR_PARTICIPANT_ROLES = (*STAFF_PARTICIPANT_ROLES, "partner_contact")
CLOSED_COLLABORATION_STATUSES = ("completed", "cancelled")


# ---------------------------------------------------------------- people
def is_active(user: User | None) -> bool:
    return (user is not None and getattr(user, "id", None) is not None
            and user.is_active and user.erased_at is None)


def is_coordinator(user: User | None) -> bool:
    """Coordinators and admins (admins can do what coordinators can)."""
    return is_active(user) and user.has_role("coordinator", "admin")


def is_admin(user: User | None) -> bool:
    return is_active(user) and user.has_role("admin")


def has_role(user: User | None, *roles: str) -> bool:
    return is_active(user) and user.has_role(*roles)


# ---------------------------------------------------------- organisations
def org_membership(db: Session, user: User | None,
                   org: Organisation | None) -> OrganisationMembership | None:
    if not is_active(user) or org is None or org.id is None:
        return None
    return db.execute(
        select(OrganisationMembership).where(
            OrganisationMembership.organisation_id == org.id,
            OrganisationMembership.user_id == user.id,
        )
    ).scalar_one_or_none()


def is_org_member(db: Session, user: User | None, org: Organisation | None) -> bool:
    return org_membership(db, user, org) is not None


def is_org_admin(db: Session, user: User | None, org: Organisation | None) -> bool:
    m = org_membership(db, user, org)
    return m is not None and m.role == "admin"


def organisation_ids_for(db: Session, user: User | None) -> list[int]:
    if not is_active(user):
        return []
    return list(db.execute(
        select(OrganisationMembership.organisation_id)
        .where(OrganisationMembership.user_id == user.id)
        .order_by(OrganisationMembership.organisation_id)
    ).scalars())


def can_post_for_org(db: Session, user: User | None, org: Organisation | None) -> bool:
    """Members of a *verified* organisation; coordinators for any organisation."""
    if org is None:
        return False
    if is_coordinator(user):
        return True
    return bool(org.verified) and is_org_member(db, user, org)


# ----------------------------------------------------------------- units
def _unit_chain_ids(unit: AcademicUnit) -> list[int]:
    return [u.id for u in [unit, *unit.ancestors()]]


def is_unit_member(db: Session, user: User | None, unit: AcademicUnit | None) -> bool:
    """Member of ``unit`` or of any unit above it (membership is inherited downwards)."""
    if not is_active(user) or unit is None or unit.id is None:
        return False
    return db.execute(
        select(UnitMembership.id).where(
            UnitMembership.user_id == user.id,
            UnitMembership.unit_id.in_(_unit_chain_ids(unit)),
        ).limit(1)
    ).first() is not None


def can_act_for_unit(db: Session, user: User | None, unit: AcademicUnit | None) -> bool:
    return unit is not None and (is_coordinator(user) or is_unit_member(db, user, unit))


def unit_ids_for(db: Session, user: User | None) -> list[int]:
    """The units the user is directly a member of (not their descendants)."""
    if not is_active(user):
        return []
    return list(db.execute(
        select(UnitMembership.unit_id).where(UnitMembership.user_id == user.id)
        .order_by(UnitMembership.unit_id)
    ).scalars())


# --------------------------------------------------------------- courses
def leads_course(db: Session, user: User | None, course: Course | None) -> bool:
    if not is_active(user) or course is None or course.id is None:
        return False
    return db.get(CourseLeader, (course.id, user.id)) is not None


def can_tag_course(db: Session, user: User | None, course: Course | None) -> bool:
    """Only the course's own leaders (and coordinators) tag things to a course."""
    return course is not None and (is_coordinator(user) or leads_course(db, user, course))


# --------------------------------------------------------- opportunities
def is_opportunity_owner(db: Session, user: User | None, opp: Opportunity) -> bool:
    """A member of the owning organisation or unit (no coordinator override)."""
    if not is_active(user):
        return False
    if opp.owner_org is not None:
        return is_org_member(db, user, opp.owner_org)
    if opp.owner_unit is not None:
        if opp.kind == "eit_village" and opp.village_leader_id == user.id:
            return True
        return is_unit_member(db, user, opp.owner_unit)
    return False


def can_manage_opportunity(db: Session, user: User | None, opp: Opportunity) -> bool:
    """Edit, publish, close and decide applications.

    Members of a verified owning organisation, members of the owning unit
    (or a unit above it), the village leader of an EiT village, and
    coordinators/admins.
    """
    if is_coordinator(user):
        return True
    if opp.owner_org is not None:
        return bool(opp.owner_org.verified) and is_org_member(db, user, opp.owner_org)
    return is_opportunity_owner(db, user, opp)


def can_view_opportunity(db: Session, user: User | None, opp: Opportunity) -> bool:
    """Published and closed opportunities are public; drafts and archived ones are not."""
    if opp.status in ("published", "closed"):
        return True
    return can_manage_opportunity(db, user, opp)


# ---------------------------------------------------------- applications
def is_applicant(db: Session, user: User | None, application: Application) -> bool:
    """The student who applied, or a member of the offering unit or organisation."""
    if not is_active(user):
        return False
    if application.applicant_kind == "student":
        return application.applicant_user_id == user.id
    if application.applicant_kind == "unit":
        return is_unit_member(db, user, application.applicant_unit)
    return is_org_member(db, user, application.applicant_org)


def can_view_application(db: Session, user: User | None, application: Application) -> bool:
    return is_applicant(db, user, application) or can_manage_opportunity(
        db, user, application.opportunity)


def can_view_cv(db: Session, user: User | None, application: Application) -> bool:
    """Only the applicant and the owners of the opportunity (not coordinators by role)."""
    return is_applicant(db, user, application) or is_opportunity_owner(
        db, user, application.opportunity)


def can_decide_application(db: Session, user: User | None, application: Application) -> bool:
    return can_manage_opportunity(db, user, application.opportunity)


# -------------------------------------------------------- collaborations
def participant_roles(db: Session, user: User | None, collab: Collaboration) -> set[str]:
    if not is_active(user) or collab.id is None:
        return set()
    return set(db.execute(
        select(CollaborationParticipant.role).where(
            CollaborationParticipant.collaboration_id == collab.id,
            CollaborationParticipant.user_id == user.id,
        )
    ).scalars())


def is_partner_member(db: Session, user: User | None, collab: Collaboration) -> bool:
    if not is_active(user) or collab.id is None:
        return False
    return db.execute(
        select(OrganisationMembership.id)
        .join(CollaborationPartner,
              CollaborationPartner.organisation_id == OrganisationMembership.organisation_id)
        .where(CollaborationPartner.collaboration_id == collab.id,
               OrganisationMembership.user_id == user.id)
        .limit(1)
    ).first() is not None


def _may_edit(db: Session, user: User | None, collab: Collaboration) -> bool:
    if is_coordinator(user):
        return True
    if not is_active(user):
        return False
    if collab.created_by_id is not None and collab.created_by_id == user.id:
        return True
    if participant_roles(db, user, collab).intersection(EDITOR_PARTICIPANT_ROLES):
        return True
    if is_partner_member(db, user, collab):
        return True
    return collab.unit is not None and is_unit_member(db, user, collab.unit)


def can_edit_collaboration(db: Session, user: User | None, collab: Collaboration) -> bool:
    """Change participants, courses, status. False once completed or cancelled."""
    if collab.status in CLOSED_COLLABORATION_STATUSES:
        return False
    return _may_edit(db, user, collab)


def can_document_collaboration(db: Session, user: User | None, collab: Collaboration) -> bool:
    """Record results and impact stories: editors and every participant (students too).

    Allowed after completion (outcomes such as recruitment come later), not
    after cancellation.
    """
    if collab.status == "cancelled":
        return False
    return _may_edit(db, user, collab) or bool(participant_roles(db, user, collab))


def leads_course_near(db: Session, user: User | None, collab: Collaboration) -> bool:
    """Leads a course tagged to it, or a course in the same faculty as its unit.

    Course leaders must be able to see the collaborations of their faculty to
    tag them to their courses (they may tag only to their own courses).
    """
    if not is_active(user):
        return False
    led = db.execute(
        select(Course).join(CourseLeader, CourseLeader.course_id == Course.id)
        .where(CourseLeader.user_id == user.id)
    ).scalars().all()
    if not led:
        return False
    tagged = {cc.course_id for cc in collab.courses}
    if any(c.id in tagged for c in led):
        return True
    if collab.unit is None:
        return False
    faculty = collab.unit.ancestor_at("faculty") or collab.unit
    return any((c.unit.ancestor_at("faculty") or c.unit).id == faculty.id for c in led)


def can_view_collaboration(db: Session, user: User | None, collab: Collaboration) -> bool:
    return (_may_edit(db, user, collab) or bool(participant_roles(db, user, collab))
            or leads_course_near(db, user, collab))


# ---------------------------------------------------------------- guards
def require(allowed: bool, message=None) -> None:
    if not allowed:
        raise PermissionDenied(message or _l("You are not allowed to do that."))


def require_active(user: User | None) -> None:
    require(is_active(user), _l("Please log in with an active account."))


def require_role(user: User | None, *roles: str) -> None:
    require(has_role(user, *roles), _l("Your account does not have the role for this."))


def require_post_for_org(db: Session, user: User | None, org: Organisation) -> None:
    if not (is_coordinator(user) or is_org_member(db, user, org)):
        raise PermissionDenied(_l("You are not a member of this organisation."))
    if not can_post_for_org(db, user, org):
        raise PermissionDenied(
            _l("The organisation must be verified by a coordinator before it can post."))


def require_unit(db: Session, user: User | None, unit: AcademicUnit) -> None:
    require(can_act_for_unit(db, user, unit),
            _l("You are not a member of this academic unit."))


def require_manage_opportunity(db: Session, user: User | None, opp: Opportunity) -> None:
    require(can_manage_opportunity(db, user, opp),
            _l("Only the owners of this opportunity can do that."))


def require_decide_application(db: Session, user: User | None, app: Application) -> None:
    require(can_decide_application(db, user, app),
            _l("Only the owners of this opportunity can decide applications."))


def require_view_cv(db: Session, user: User | None, app: Application) -> None:
    require(can_view_cv(db, user, app), _l("You cannot see this CV."))


def require_tag_course(db: Session, user: User | None, course: Course) -> None:
    require(can_tag_course(db, user, course),
            _l("Only the leaders of this course can tag to it."))


def require_edit_collaboration(db: Session, user: User | None, collab: Collaboration) -> None:
    require(_may_edit(db, user, collab),
            _l("You cannot change this collaboration."))


def require_document_collaboration(db: Session, user: User | None,
                                   collab: Collaboration) -> None:
    require(_may_edit(db, user, collab) or bool(participant_roles(db, user, collab)),
            _l("You cannot document this collaboration."))
