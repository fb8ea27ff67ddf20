"""The e-mail outbox.

Services only enqueue (in the caller's transaction, so a rolled-back action
sends nothing). Delivery reads the outbox: SMTP when PORTAL_SMTP_HOST is set,
otherwise an ``.eml`` file per message under ``$PORTAL_DATA_DIR/mail/``.
"""

from __future__ import annotations

import os
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from portal.config import Settings
from portal.models import OutboxMail, utcnow

MAX_ATTEMPTS = 6
SESSION_FLAG = "portal.mail_enqueued"


def enqueue(
    db: Session,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    locale: str = "nb",
    now: datetime | None = None,
) -> OutboxMail:
    now = now or utcnow()
    mail = OutboxMail(
        message_id=make_msgid(domain="samspill.local"),
        to_addr=to,
        subject=str(subject)[:300],
        body_text=str(text),
        body_html=html,
        locale=locale,
        created_at=now,
        next_attempt_at=now,
    )
    db.add(mail)
    db.info[SESSION_FLAG] = True
    return mail


def mail_dir(settings: Settings) -> Path:
    return settings.data_dir / "mail"


def build_message(mail: OutboxMail, settings: Settings) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = mail.to_addr
    msg["Subject"] = mail.subject
    msg["Message-ID"] = mail.message_id
    msg["Date"] = format_datetime(mail.created_at)
    msg["Content-Language"] = mail.locale
    msg.set_content(mail.body_text)
    if mail.body_html:
        msg.add_alternative(mail.body_html, subtype="html")
    return msg


def _write_eml(msg: EmailMessage, mail: OutboxMail, settings: Settings) -> None:
    target_dir = mail_dir(settings)
    target_dir.mkdir(parents=True, exist_ok=True)
    final = target_dir / f"{mail.id:08d}.eml"
    tmp = target_dir / f".{mail.id:08d}.eml.tmp"
    tmp.write_bytes(bytes(msg))
    os.replace(tmp, final)  # atomic: a reader never sees half a message


def _send_smtp(msg: EmailMessage, settings: Settings) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(msg)


def deliver_pending(
    factory: sessionmaker[Session], settings: Settings, *, now: datetime | None = None,
    limit: int = 100,
) -> dict[str, int]:
    """Deliver due messages; each is claimed first so two workers never send it twice."""
    now = now or utcnow()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    with factory() as db:
        ids = db.execute(
            select(OutboxMail.id)
            .where(OutboxMail.status == "pending", OutboxMail.next_attempt_at <= now)
            .order_by(OutboxMail.id)
            .limit(limit)
        ).scalars().all()
        db.rollback()
    for mail_id in ids:
        with factory() as db:
            claimed = db.execute(
                update(OutboxMail)
                .where(OutboxMail.id == mail_id, OutboxMail.status == "pending")
                .values(status="sending", attempts=OutboxMail.attempts + 1)
            ).rowcount
            db.commit()
            if not claimed:
                continue
            mail = db.get(OutboxMail, mail_id)
            try:
                msg = build_message(mail, settings)
                if settings.smtp_host:
                    _send_smtp(msg, settings)
                else:
                    _write_eml(msg, mail, settings)
            except (OSError, smtplib.SMTPException) as exc:
                mail.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
                if mail.attempts >= MAX_ATTEMPTS or isinstance(
                        exc, smtplib.SMTPRecipientsRefused):
                    mail.status = "failed"
                    counts["failed"] += 1
                else:
                    mail.status = "pending"
                    mail.next_attempt_at = now + timedelta(minutes=2 ** mail.attempts)
                    counts["retry"] += 1
            else:
                mail.status = "sent"
                mail.sent_at = utcnow()
                mail.last_error = None
                counts["sent"] += 1
            db.commit()
    return counts
