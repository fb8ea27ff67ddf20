"""Small builders shared by tests (through the services, as the portal does)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.models import OutboxMail
from portal.services import accounts

PASSWORD = "correct-horse-42"


def make_user(db, email="someone@example.no", roles=("student",), name="Kari Nordmann",
              verified=True, locale="nb", password=PASSWORD):
    user = accounts.create_user(db, email=email, display_name=name, password=password,
                                roles=list(roles), verified=verified, locale=locale)
    db.commit()
    return user


def count(db, model) -> int:
    db.rollback()  # a fresh snapshot: see what requests committed since
    return db.execute(select(func.count()).select_from(model)).scalar_one()


def last_mail_to(db, address) -> OutboxMail:
    db.rollback()
    return db.execute(
        select(OutboxMail).where(OutboxMail.to_addr == address).order_by(OutboxMail.id.desc())
    ).scalars().first()


def link_in(mail: OutboxMail, path_prefix: str) -> str:
    m = re.search(re.escape(path_prefix) + r"[^\s]+", mail.body_text)
    assert m, f"no {path_prefix} link in mail: {mail.body_text!r}"
    return m.group(0)
