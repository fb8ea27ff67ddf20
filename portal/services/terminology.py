"""Coordinators' additions to the terminology bridge and subject thesaurus."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.i18n import _l
from portal.models import TermSynonym, User, utcnow
from portal.services import policy
from portal.services.errors import Conflict, NotFound, ValidationFailed

MAX_LEN = 120


def _clean(value: str | None, name: str) -> str:
    text = " ".join((value or "").split()).lower()
    if not text:
        raise ValidationFailed({name: [_l("Enter a word or phrase.")]})
    if len(text) > MAX_LEN or any(ord(c) < 32 for c in text):
        raise ValidationFailed({name: [_l("At most %(n)s characters.", n=MAX_LEN)]})
    return text


def add_synonym(db: Session, actor: User, term: str, synonym: str,
                now: datetime | None = None) -> TermSynonym:
    """``term`` is a canonical form (e.g. placement) or any word; ``synonym`` means the same."""
    policy.require(policy.is_coordinator(actor),
                   _l("Only coordinators and administrators can change the terminology."))
    a, b = _clean(term, "term"), _clean(synonym, "synonym")
    if a == b:
        raise ValidationFailed({"synonym": [_l("A word is already its own synonym.")]})
    exists = db.execute(select(TermSynonym.id).where(
        ((TermSynonym.term == a) & (TermSynonym.synonym == b))
        | ((TermSynonym.term == b) & (TermSynonym.synonym == a)))).first()
    if exists:
        raise Conflict(_l("That pair is already there."))
    row = TermSynonym(term=a, synonym=b, added_by_id=actor.id, created_at=now or utcnow())
    db.add(row)
    db.flush()
    return row


def remove_synonym(db: Session, actor: User, synonym_id: int) -> None:
    policy.require(policy.is_coordinator(actor),
                   _l("Only coordinators and administrators can change the terminology."))
    if not db.execute(delete(TermSynonym).where(TermSynonym.id == synonym_id)).rowcount:
        raise NotFound(_l("No such entry."))


def all_synonyms(db: Session) -> list[TermSynonym]:
    return list(db.execute(select(TermSynonym).order_by(TermSynonym.term, TermSynonym.synonym))
                .scalars())


def extra_synonyms(db: Session) -> dict[str, list[str]]:
    """The mapping the search query layers over the shipped files (term → synonyms)."""
    out: dict[str, list[str]] = {}
    for row in all_synonyms(db):
        out.setdefault(row.term, []).append(row.synonym)
    return out
