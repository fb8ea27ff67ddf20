"""Partner organisations: registration, verification, members and invitations.

Authorisation is decided here (not in views), so the web pages, the CLI and
jobs follow the same rules:

- any logged-in user may register an organisation; they become its admin
  member and get the ``partner`` role; the organisation waits, unverified, in
  the coordinators' verification queue;
- coordinators and admins verify or reject;
- members of an organisation invite colleagues; an invitation is a signed,
  expiring link for one e-mail address, used once;
- members of an organisation, coordinators and admins see its member list.

Functions flush but never commit: the caller (a view, a command) commits.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from urllib.parse import urlsplit

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from portal.i18n import _l
from portal.models import (
    Organisation,
    OrganisationInvitation,
    OrganisationMembership,
    SearchChange,
    User,
    utcnow,
)
from portal.models.vocab import SECTORS, SIZE_CLASSES
from portal.services import accounts, events, nace, orgnr, policy
from portal.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

INVITATION_PURPOSE = "samspill.org-invitation"
INVITATION_MAX_AGE = 14 * 24 * 3600  # seconds

_COUNTRY = re.compile(r"^[A-Z]{2}$")
# Babel's territory list holds a few codes that are not countries.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}


# ----------------------------------------------------------------- helpers


@cache
def country_codes() -> tuple[str, ...]:
    """ISO 3166-1 alpha-2 codes known to Babel (plus Kosovo, XK)."""
    from babel import Locale

    codes = {c for c in Locale("en").territories if len(c) == 2 and c.isalpha()}
    return tuple(sorted(codes - _NOT_COUNTRIES))


@cache
def country_choices(locale: str) -> tuple[tuple[str, str], ...]:
    """(code, name in ``locale``) sorted by name, Norway first."""
    from babel import Locale

    names = Locale.parse("nb" if locale == "nb" else "en").territories
    rest = sorted(((c, names.get(c, c)) for c in country_codes() if c != "NO"),
                  key=lambda pair: pair[1])
    return (("NO", names.get("NO", "Norway")), *rest)


def _is_verifier(user: User | None) -> bool:
    return policy.is_coordinator(user)


def require_verifier(actor: User | None) -> None:
    if not _is_verifier(actor):
        raise PermissionDenied(_l("Only coordinators and administrators can do this."))


def membership(db: Session, user: User | None, org: Organisation) -> OrganisationMembership | None:
    """The user's membership of ``org`` (None for inactive or erased accounts)."""
    return policy.org_membership(db, user, org)


def is_member(db: Session, user: User | None, org: Organisation) -> bool:
    return membership(db, user, org) is not None


def get_organisation(db: Session, org_id: int) -> Organisation:
    org = db.get(Organisation, org_id)
    if org is None:
        raise NotFound(_l("No such organisation."))
    return org


def _clean(value: str | None, limit: int) -> str | None:
    value = (value or "").strip()
    return value[:limit] if value else None


def _normalise_website(raw: str | None) -> str | None:
    value = (raw or "").strip()
    if not value:
        return None
    if "://" not in value:
        value = "https://" + value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or "." not in (parts.hostname or ""):
        raise ValidationFailed(_l("Enter a web address such as https://example.no."),
                               field="website")
    if len(value) > 300:
        raise ValidationFailed(_l("The web address is too long."), field="website")
    return value


def _normalise_nace(raw: str | None) -> str | None:
    value = re.sub(r"\s", "", raw or "")
    if not value:
        return None
    if re.fullmatch(r"\d{3,5}", value):  # "6201" → "62.01"
        value = f"{value[:2]}.{value[2:]}"
    if not nace.is_valid_code(value):
        raise ValidationFailed(
            _l("Enter a NACE code such as 62.01 (two digits, a dot and up to three more)."),
            field="nace_code",
        )
    return value


# ----------------------------------------------------------------- registration


DETAIL_FIELDS = ("name", "org_number", "sector", "size_class", "nace_code", "municipality",
                 "country", "website", "description", "public_enterprise")


def _validated_details(
    *, name, org_number, sector, size_class, nace_code, municipality, country, website,
    description, public_enterprise,
) -> dict:
    """Check and normalise an organisation's details; ValidationFailed lists every problem."""
    errors: dict[str, list] = {}

    clean_name = (name or "").strip()
    if not clean_name:
        errors.setdefault("name", []).append(_l("Enter the organisation's name."))
    elif len(clean_name) > 300:
        errors.setdefault("name", []).append(_l("The name is too long."))

    code = (country or "").strip().upper()
    if not _COUNTRY.match(code) or code not in country_codes():
        errors.setdefault("country", []).append(_l("Choose a country."))

    # Required in Norway; a foreign partner may give one (a Norwegian branch has one),
    # and what is given must be a valid Norwegian number.
    number = None
    if code == "NO" or orgnr.normalise(org_number):
        try:
            number = orgnr.validate(org_number)
        except ValidationFailed as exc:
            errors.setdefault("org_number", []).extend(exc.errors["org_number"])

    if sector not in SECTORS:
        errors.setdefault("sector", []).append(_l("Choose a sector."))
    if size_class not in SIZE_CLASSES:
        errors.setdefault("size_class", []).append(_l("Choose a size."))

    clean_nace = None
    try:
        clean_nace = _normalise_nace(nace_code)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    clean_website = None
    try:
        clean_website = _normalise_website(website)
    except ValidationFailed as exc:
        errors.update(exc.errors)

    if errors:
        raise ValidationFailed(errors)
    return {
        "name": clean_name,
        "org_number": number,
        "sector": sector,
        "size_class": size_class,
        "nace_code": clean_nace,
        "municipality": _clean(municipality, 120),
        "country": code,
        "website": clean_website,
        "description": _clean(description, 20000),
        "public_enterprise": bool(public_enterprise),
    }


def _number_in_use() -> ValidationFailed:
    return ValidationFailed({"org_number": [_l(
        "An organisation with this number is already registered. "
        "Ask one of its members to invite you.")]})


def _flush_unique(db: Session) -> None:
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        # Someone registered the same number a moment ago.
        raise _number_in_use() from None


def register_organisation(
    db: Session,
    actor: User,
    *,
    name: str,
    org_number: str | None,
    sector: str,
    size_class: str,
    nace_code: str | None = None,
    municipality: str | None = None,
    country: str = "NO",
    website: str | None = None,
    description: str | None = None,
    public_enterprise: bool = False,
    now: datetime | None = None,
) -> Organisation:
    """Register an organisation; ``actor`` becomes its admin member and a partner.

    The organisation starts unverified and appears in the verification queue.
    Norwegian organisations need a valid organisation number; foreign ones may
    give none. Raises ValidationFailed with per-field messages.
    """
    if actor is None or getattr(actor, "id", None) is None:
        raise PermissionDenied(_l("Log in to register an organisation."))
    now = now or utcnow()
    details = _validated_details(
        name=name, org_number=org_number, sector=sector, size_class=size_class,
        nace_code=nace_code, municipality=municipality, country=country, website=website,
        description=description, public_enterprise=public_enterprise)
    if details["org_number"] is not None and _number_taken(db, details["org_number"]):
        raise _number_in_use()
    org = Organisation(**details, verified=False, created_by_id=actor.id, created_at=now,
                       updated_at=now)
    db.add(org)
    _flush_unique(db)
    db.add(SearchChange(entity_type="organisation", entity_id=org.id, op="upsert",
                        created_at=now))
    add_member(db, org, actor, role="admin", now=now)
    record_organisation_event(db, "organisation_registered", actor=actor, organisation=org,
                              now=now)
    return org


def can_edit(db: Session, actor: User | None, org: Organisation) -> bool:
    mine = membership(db, actor, org)
    return (mine is not None and mine.role == "admin") or _is_verifier(actor)


def organisation_for_edit(db: Session, actor: User | None, org_id: int) -> Organisation:
    """The organisation, if ``actor`` may change its details (else PermissionDenied)."""
    org = get_organisation(db, org_id)
    if not can_edit(db, actor, org):
        raise PermissionDenied(_l("Only the organisation's administrators can change it."))
    return org


def update_organisation(db: Session, actor: User, org: Organisation, *,
                        now: datetime | None = None, **fields) -> Organisation:
    """Change an organisation's details: its admin members, coordinators and admins may.

    A rejected registration goes back into the verification queue. Changing
    the name, number or country of a verified organisation sends it back to
    be verified again (those are what the coordinator checked).
    """
    if not can_edit(db, actor, org):
        raise PermissionDenied(_l("Only the organisation's administrators can change it."))
    unknown = set(fields) - set(DETAIL_FIELDS)
    if unknown:
        raise TypeError(f"unknown organisation fields: {sorted(unknown)}")
    current = {name: getattr(org, name) for name in DETAIL_FIELDS}
    details = _validated_details(**{**current, **fields})
    if (details["org_number"] is not None and details["org_number"] != org.org_number
            and _number_taken(db, details["org_number"])):
        raise _number_in_use()
    now = now or utcnow()
    identity_changed = any(details[k] != current[k] for k in ("name", "org_number", "country"))
    for name, value in details.items():
        setattr(org, name, value)
    org.updated_at = now
    if org.rejected_reason:
        org.rejected_reason = None
    elif org.verified and identity_changed and not _is_verifier(actor):
        org.verified = False
        org.verified_at = None
        org.verified_by_id = None
    if any(details[k] != current[k] for k in details):
        # Search documents carry the owner's name, sector and place.
        db.add(SearchChange(entity_type="organisation", entity_id=org.id, op="upsert",
                            created_at=now))
    _flush_unique(db)
    return org


def _number_taken(db: Session, number: str) -> bool:
    return bool(db.execute(
        select(func.count()).select_from(Organisation).where(Organisation.org_number == number)
    ).scalar_one())


def record_organisation_event(db: Session, event_type: str, *, actor: User | None,
                              organisation: Organisation, now: datetime) -> None:
    """The collaboration event for an organisation change, in the same transaction."""
    events.record_event(db, event_type, actor=actor, organisation=organisation, now=now)


# ----------------------------------------------------------------- verification


def verification_queue(db: Session, actor: User | None = None) -> list[Organisation]:
    """Organisations waiting for a coordinator, oldest first.

    With ``actor`` given (as the web does), only coordinators and admins may look.
    """
    if actor is not None:
        require_verifier(actor)
    return list(db.execute(
        select(Organisation)
        .where(Organisation.verified.is_(False), Organisation.rejected_reason.is_(None))
        .order_by(Organisation.created_at, Organisation.id)
        .options(selectinload(Organisation.memberships).selectinload(
            OrganisationMembership.user))
    ).scalars())


def queue_size(db: Session) -> int:
    return db.execute(
        select(func.count()).select_from(Organisation)
        .where(Organisation.verified.is_(False), Organisation.rejected_reason.is_(None))
    ).scalar_one()


def verify(db: Session, coordinator: User, org: Organisation, *,
           now: datetime | None = None) -> Organisation:
    """Mark ``org`` verified and tell its admins by e-mail."""
    require_verifier(coordinator)
    if org.verified:
        raise Conflict(_l("%(name)s is already verified.", name=org.name))
    now = now or utcnow()
    org.verified = True
    org.verified_at = now
    org.verified_by_id = coordinator.id
    org.rejected_reason = None
    org.updated_at = now
    db.add(SearchChange(entity_type="organisation", entity_id=org.id, op="upsert",
                        created_at=now))
    db.flush()
    _notify_admins(db, org, "org_verified", now=now)
    record_organisation_event(db, "organisation_verified", actor=coordinator, organisation=org,
                              now=now)
    return org


def reject(db: Session, coordinator: User, org: Organisation, reason: str, *,
           now: datetime | None = None) -> Organisation:
    """Take ``org`` out of the queue with a reason, which its admins receive by e-mail."""
    require_verifier(coordinator)
    if org.verified:
        raise Conflict(_l("%(name)s is already verified.", name=org.name))
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed(_l("Explain why, so the organisation can correct it."),
                               field="reason")
    if len(text) > 2000:
        raise ValidationFailed(_l("Keep the reason under 2000 characters."), field="reason")
    now = now or utcnow()
    org.rejected_reason = text
    org.updated_at = now
    db.add(SearchChange(entity_type="organisation", entity_id=org.id, op="upsert",
                        created_at=now))
    db.flush()
    _notify_admins(db, org, "org_rejected", now=now, reason=text)
    return org


def _notify_admins(db: Session, org: Organisation, template: str, *, now: datetime,
                   **context) -> None:
    from portal.services import messages, notifications

    admins = db.execute(
        select(User).join(OrganisationMembership, OrganisationMembership.user_id == User.id)
        .where(OrganisationMembership.organisation_id == org.id,
               OrganisationMembership.role == "admin",
               User.erased_at.is_(None), User.is_active.is_(True))
        .order_by(User.id)
    ).scalars().all()
    kind = {"org_verified": "organisation_verified", "org_rejected": "organisation_rejected"}
    for admin in admins:
        messages.send(db, to=admin.email, locale=admin.locale, template=template, now=now,
                      name=admin.display_name, organisation=org.name, **context)
        if template in kind:
            notifications.notify(db, admin, kind[template], params={"name": org.name},
                                 link=f"/organisations/{org.id}", now=now)


# ----------------------------------------------------------------- members


def add_member(db: Session, org: Organisation, user: User, *, role: str = "member",
               now: datetime | None = None) -> OrganisationMembership:
    """Make ``user`` a member (idempotent) and give them the partner role. No policy check."""
    if role not in ("admin", "member"):
        raise ValidationFailed(_l("Unknown membership role."), field="role")
    now = now or utcnow()
    existing = db.execute(
        select(OrganisationMembership).where(
            OrganisationMembership.organisation_id == org.id,
            OrganisationMembership.user_id == user.id,
        )
    ).scalar_one_or_none()
    if existing is None:
        existing = OrganisationMembership(organisation_id=org.id, user_id=user.id, role=role,
                                          created_at=now)
        db.add(existing)
    elif role == "admin" and existing.role != "admin":
        existing.role = "admin"
    accounts.add_role(db, user, "partner", now=now)
    db.flush()
    return existing


def list_members(db: Session, actor: User | None, org: Organisation
                 ) -> list[OrganisationMembership]:
    """Members with their users; visible to members, coordinators and admins."""
    verifier = _is_verifier(actor)
    if not (verifier or is_member(db, actor, org)):
        raise PermissionDenied(_l("Only the organisation's members can see who they are."))
    stmt = (select(OrganisationMembership)
            .where(OrganisationMembership.organisation_id == org.id)
            .join(User, OrganisationMembership.user_id == User.id)
            .where(User.erased_at.is_(None)))
    if not verifier:
        # Accounts hidden by retention are shown to coordinators and admins only.
        stmt = stmt.where(or_(User.hidden_at.is_(None), User.id == actor.id))
    return list(db.execute(
        stmt
        .order_by(OrganisationMembership.role, User.display_name)
        .options(selectinload(OrganisationMembership.user))
    ).scalars())


def organisations_of(db: Session, user: User) -> list[OrganisationMembership]:
    """The user's memberships (with their organisations), by organisation name."""
    return list(db.execute(
        select(OrganisationMembership)
        .join(Organisation, OrganisationMembership.organisation_id == Organisation.id)
        .where(OrganisationMembership.user_id == user.id)
        .order_by(Organisation.name)
        .options(selectinload(OrganisationMembership.organisation))
    ).scalars())


@dataclass
class OrganisationPage:
    organisation: Organisation
    membership: OrganisationMembership | None
    members: list[OrganisationMembership] | None  # None: the viewer may not see them
    pending_invitations: list[OrganisationInvitation]
    can_invite: bool
    can_verify: bool
    can_edit: bool

    @property
    def status(self) -> str:
        return organisation_status(self.organisation)


def organisation_status(org: Organisation) -> str:
    """``verified``, ``rejected`` or ``pending``."""
    if org.verified:
        return "verified"
    if org.rejected_reason:
        return "rejected"
    return "pending"


def organisation_page(db: Session, viewer: User | None, org_id: int) -> OrganisationPage:
    """What ``viewer`` may see of an organisation.

    Verified organisations are public. Unverified (or rejected) ones are shown
    only to their members, coordinators and admins; to anyone else they do
    not exist (404, so the page does not reveal pending registrations).
    """
    org = get_organisation(db, org_id)
    mine = membership(db, viewer, org)
    verifier = _is_verifier(viewer)
    if not org.verified and mine is None and not verifier:
        raise NotFound(_l("No such organisation."))
    members = list_members(db, viewer, org) if (mine or verifier) else None
    pending = []
    if mine is not None:
        pending = list(db.execute(
            select(OrganisationInvitation)
            .where(OrganisationInvitation.organisation_id == org.id,
                   OrganisationInvitation.accepted_at.is_(None),
                   OrganisationInvitation.created_at
                   >= utcnow() - timedelta(seconds=INVITATION_MAX_AGE))
            .order_by(OrganisationInvitation.created_at.desc())
        ).scalars())
    return OrganisationPage(organisation=org, membership=mine, members=members,
                            pending_invitations=pending, can_invite=mine is not None,
                            can_verify=verifier and not org.verified,
                            can_edit=(mine is not None and mine.role == "admin") or verifier)


# ----------------------------------------------------------------- invitations


def _serializer(secret_key: str, now: datetime | None) -> URLSafeTimedSerializer:
    if now is None:
        return URLSafeTimedSerializer(secret_key, salt=INVITATION_PURPOSE)
    stamp = int(now.timestamp())

    class _At(TimestampSigner):
        def get_timestamp(self) -> int:
            return stamp

    return URLSafeTimedSerializer(secret_key, salt=INVITATION_PURPOSE, signer=_At)


def invite_colleague(
    db: Session,
    actor: User,
    org: Organisation,
    email: str,
    *,
    secret_key: str,
    link_for: Callable[[str], str],
    now: datetime | None = None,
) -> OrganisationInvitation:
    """Invite ``email`` to join ``org``: only members may. Sends the link by e-mail.

    ``link_for(token)`` turns the signed token into the absolute URL of the
    acceptance page (the web layer knows its routes; this module does not).
    """
    if not is_member(db, actor, org):
        raise PermissionDenied(_l("Only members of the organisation can invite colleagues."))
    address = accounts.normalise_email(email)
    invitee = accounts.find_by_email(db, address)
    if invitee is not None and is_member(db, invitee, org):
        raise ValidationFailed(_l("%(email)s is already a member.", email=address),
                               field="email")
    now = now or utcnow()
    invitation = OrganisationInvitation(organisation_id=org.id, email=address,
                                        invited_by_id=actor.id, created_at=now)
    db.add(invitation)
    db.flush()
    token = _serializer(secret_key, now).dumps({"i": invitation.id, "e": address})
    from portal.services import messages

    locale = invitee.locale if invitee is not None else actor.locale
    messages.send(db, to=address, locale=locale, template="org_invitation", now=now,
                  inviter=actor.display_name, organisation=org.name, link=link_for(token),
                  days=INVITATION_MAX_AGE // 86400)
    return invitation


def read_invitation(db: Session, token: str, *, secret_key: str,
                    max_age: int = INVITATION_MAX_AGE,
                    now: datetime | None = None) -> OrganisationInvitation:
    """The invitation a token stands for, or ValidationFailed (expired, tampered, used)."""
    try:
        data = _serializer(secret_key, now).loads(token, max_age=max_age)
    except SignatureExpired:
        raise ValidationFailed(_l(
            "This invitation has expired. Ask your colleague to send you a new one."),
            field="token") from None
    except BadSignature:
        raise ValidationFailed(_l(
            "This invitation link is not valid. Check that you copied all of it."),
            field="token") from None
    if not isinstance(data, dict):
        raise ValidationFailed(_l("This invitation link is not valid."), field="token")
    invitation = db.get(OrganisationInvitation, data.get("i"))
    if invitation is None or invitation.email != data.get("e"):
        raise ValidationFailed(_l("This invitation is no longer valid."), field="token")
    if invitation.accepted_at is not None:
        raise ValidationFailed(_l("This invitation has already been used."), field="token")
    return invitation


def accept_invitation(db: Session, user: User, token: str, *, secret_key: str,
                      max_age: int = INVITATION_MAX_AGE,
                      now: datetime | None = None) -> Organisation:
    """Join the organisation a valid invitation names; only as the invited address."""
    invitation = read_invitation(db, token, secret_key=secret_key, max_age=max_age, now=now)
    if user is None or user.email != invitation.email:
        raise PermissionDenied(_l(
            "This invitation was sent to another e-mail address. Log in with the account "
            "for that address to accept it."))
    now = now or utcnow()
    org = invitation.organisation
    add_member(db, org, user, role="member", now=now)
    invitation.accepted_at = now
    if user.email_verified_at is None:
        # Following the link sent to the address proves control of it.
        user.email_verified_at = now
    db.flush()
    return org
