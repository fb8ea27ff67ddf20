"""The e-mail outbox.

Services only enqueue (in the caller's transaction, so a rolled-back action
sends nothing). Delivery reads the outbox: SMTP when PORTAL_SMTP_HOST is set,
otherwise an ``.eml`` file per message under ``$PORTAL_DATA_DIR/mail/``.

Delivery guarantees:

* A message is claimed (``pending`` → ``sending``, ``attempts`` + 1,
  ``claimed_at``) by a conditional UPDATE in its own committed transaction
  before anything is sent, so of two deliverers (threads or processes) only one
  ever holds it.
* A claim older than ``mail_stale_claim_seconds`` belongs to a deliverer that
  died mid-send; the next run takes it back and sends again with the *same*
  Message-ID (and the same Date and bytes). That makes delivery at-least-once:
  if the dead deliverer had already handed the message over, the receiver sees
  a duplicate Message-ID and mail systems dedupe on it. For ``.eml`` delivery a
  retry is idempotent outright: the file is named by the outbox id and written
  atomically, so a second write replaces the first.
* Temporary failures (no connection, connection dropped, 4xx replies) are
  retried with capped exponential backoff; permanent ones (5xx to RCPT or DATA,
  a message that cannot be built, attempts exhausted) end as ``failed`` with
  ``last_error`` kept for the admins (``failed_messages``, ``requeue``).
* Logs name messages by outbox id only: never the recipient or the body.
"""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import time
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from markupsafe import Markup, escape
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from portal.config import Settings
from portal.files import write_atomically
from portal.i18n import _l
from portal.models import OutboxMail, utcnow
from portal.services.errors import Conflict, NotFound

log = logging.getLogger("portal.mail")

# With the backoff below this keeps trying for about two days, long enough to
# ride out a mail server's maintenance window or a weekend outage.
MAX_ATTEMPTS = 16
BACKOFF_BASE_SECONDS = 60
BACKOFF_CAP_SECONDS = 6 * 3600
# Far below mail_stale_claim_seconds, so a live deliverer never looks dead.
SMTP_TIMEOUT_SECONDS = 30
SESSION_FLAG = "portal.mail_enqueued"

# Headers build_message sets itself; extra headers may not replace them.
_RESERVED_HEADERS = frozenset({
    "from", "to", "cc", "bcc", "subject", "message-id", "date", "content-language",
    "content-type", "content-transfer-encoding", "mime-version", "sender", "reply-to",
})
_HEADER_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")


def enqueue(
    db: Session,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    locale: str = "nb",
    now: datetime | None = None,
    headers: dict[str, str] | None = None,
) -> OutboxMail:
    """Add a message to the outbox in the caller's transaction.

    ``headers`` are extra message headers (e.g. ``List-Unsubscribe``); without
    ``html`` the HTML part is derived from ``text`` when the message is built.
    """
    now = now or utcnow()
    extra = {}
    for name, value in (headers or {}).items():
        name, value = str(name), str(value)
        # A caller's bug, not bad mail: raise now rather than fail at delivery.
        if not _HEADER_NAME_RE.match(name) or name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"header {name!r} cannot be set on an outgoing mail")
        if "\r" in value or "\n" in value:
            raise ValueError(f"header {name!r} has a line break in its value")
        extra[name] = value
    mail = OutboxMail(
        message_id=make_msgid(domain="samspill.local"),
        to_addr=to,
        subject=str(subject)[:300],
        body_text=str(text),
        body_html=html,
        locale=locale,
        created_at=now,
        next_attempt_at=now,
        headers=extra or None,
    )
    db.add(mail)
    db.info[SESSION_FLAG] = True
    return mail


def failed_messages(db: Session, limit: int = 50) -> list[OutboxMail]:
    """Permanently failed messages, newest first (the admin jobs page)."""
    return list(db.execute(
        select(OutboxMail).where(OutboxMail.status == "failed")
        .order_by(OutboxMail.created_at.desc(), OutboxMail.id.desc()).limit(limit)
    ).scalars())


def requeue(db: Session, mail_id: int, now: datetime | None = None) -> OutboxMail:
    """Give a failed message a fresh set of attempts. The caller commits."""
    mail = db.get(OutboxMail, mail_id)
    if mail is None:
        raise NotFound(_l("No such e-mail."))
    if mail.status != "failed":
        raise Conflict(_l("Only a failed e-mail can be sent again."))
    mail.status = "pending"
    mail.attempts = 0
    mail.claimed_at = None
    mail.next_attempt_at = now or utcnow()
    db.info[SESSION_FLAG] = True
    return mail


def mail_dir(settings: Settings) -> Path:
    return settings.data_dir / "mail"


# ---------------------------------------------------------------- building

_URL_RE = re.compile(r"https?://[^\s<>\"']+")
_PARAGRAPH_RE = re.compile(r"\n[ \t]*\n+")


def _linkify(line: str) -> Markup:
    out = Markup("")
    pos = 0
    for m in _URL_RE.finditer(line):
        url = m.group(0)
        # Sentence punctuation after a link belongs to the sentence.
        trimmed = url.rstrip(".,;:!?)")
        end = m.start() + len(trimmed)
        out += escape(line[pos:m.start()])
        out += Markup('<a href="{0}">{0}</a>').format(trimmed)
        pos = end
    return out + escape(line[pos:])


def text_to_html(text: str, *, subject: str = "", locale: str = "nb") -> str:
    """The HTML alternative of a plain-text body: escaped, links clickable,
    blank-line separated paragraphs, line breaks kept."""
    paragraphs = [p.strip("\n") for p in _PARAGRAPH_RE.split(text.replace("\r\n", "\n"))]
    body = Markup("\n").join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(_linkify(line) for line in p.split("\n")))
        for p in paragraphs if p.strip()
    )
    return str(Markup(
        '<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        "<title>{subject}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    ).format(lang=locale, subject=subject, body=body))


def _recipient(to_addr: str) -> Address:
    if "\r" in to_addr or "\n" in to_addr:
        raise ValueError("recipient address has a line break")
    probe = EmailMessage()
    probe["To"] = to_addr
    header = probe["To"]
    addresses = header.addresses
    if header.defects or len(addresses) != 1 or not addresses[0].username or not addresses[0].domain:
        raise ValueError("recipient is not one valid e-mail address")
    return addresses[0]


def build_message(mail: OutboxMail, settings: Settings) -> EmailMessage:
    """The message exactly as sent; the same bytes on every attempt
    (Message-ID and Date are fixed when the mail is enqueued)."""
    recipient = _recipient(mail.to_addr)
    msg = EmailMessage()
    # The body first: set_content() drops every Content-* header already set.
    # Plain text is the first part: multipart/alternative lists the least preferred
    # first, and text-only readers (and people who prefer it) get it as written.
    msg.set_content(mail.body_text)
    html = mail.body_html or text_to_html(mail.body_text, subject=mail.subject, locale=mail.locale)
    msg.add_alternative(html, subtype="html")
    # The same boundary on every attempt, so a resend is the same bytes.
    msg.set_boundary("=_samspill_" + hashlib.sha256(mail.message_id.encode()).hexdigest()[:32])
    for part in msg.iter_parts():
        part["Content-Language"] = mail.locale
    msg["From"] = settings.mail_from
    msg["To"] = recipient
    msg["Subject"] = mail.subject
    msg["Message-ID"] = mail.message_id
    msg["Date"] = format_datetime(mail.created_at)
    msg["Content-Language"] = mail.locale
    for name, value in (mail.headers or {}).items():
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"header {name!r} is reserved")
        msg[name] = value
    return msg


# ---------------------------------------------------------------- transports

def _write_eml(msg: EmailMessage, mail: OutboxMail, settings: Settings) -> None:
    target_dir = mail_dir(settings)
    target_dir.mkdir(parents=True, exist_ok=True)
    # A temporary name of its own (write_atomically): a stale-claim takeover may write the same id.
    write_atomically(target_dir / f"{mail.id:08d}.eml", bytes(msg))


class _SmtpLink:
    """One SMTP connection reused for a run's messages, reopened when lost."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        conn = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT_SECONDS)
        try:
            if s.smtp_starttls:
                conn.starttls()
            if s.smtp_user:
                conn.login(s.smtp_user, s.smtp_password)
        except BaseException:
            conn.close()
            raise
        return conn

    def send(self, msg: EmailMessage, recipient: Address) -> None:
        if self.conn is None or self.conn.sock is None:  # smtplib closes on 421
            self.conn = None
            self.conn = self._connect()
        try:
            self.conn.send_message(msg, to_addrs=[recipient.addr_spec])
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused):
            raise  # a refusal: smtplib has reset the dialogue (or closed it on 421)
        except BaseException:
            # Anything else may leave the dialogue half-way: start the next one afresh.
            self.close()
            raise

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()


# ---------------------------------------------------------------- classifying

class _Outcome:
    """How a failed attempt ends: ``permanent`` or not, and whether the
    transport itself is down (then the run stops; the rest wait their turn)."""

    def __init__(self, exc: BaseException, *, permanent: bool, transport_down: bool = False,
                 code: int | None = None):
        self.kind = exc.__class__.__name__
        self.code = code
        self.permanent = permanent
        self.transport_down = transport_down
        self.detail = str(exc)


def _classify(exc: Exception) -> _Outcome:
    # smtplib's exceptions are OSErrors too, so the SMTP cases come first.
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        code = min(codes) if codes else None
        return _Outcome(exc, permanent=bool(codes) and all(c >= 500 for c in codes), code=code)
    if isinstance(exc, smtplib.SMTPDataError):
        return _Outcome(exc, permanent=exc.smtp_code >= 500, code=exc.smtp_code)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        # About our sender address (configuration), not this message: retry.
        return _Outcome(exc, permanent=False, code=exc.smtp_code)
    if isinstance(exc, (smtplib.SMTPConnectError, smtplib.SMTPHeloError,
                        smtplib.SMTPAuthenticationError)):
        return _Outcome(exc, permanent=False, transport_down=True, code=exc.smtp_code)
    if isinstance(exc, smtplib.SMTPResponseException):
        return _Outcome(exc, permanent=False, transport_down=exc.smtp_code == 421, code=exc.smtp_code)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        # E.g. a non-ASCII address to a server without SMTPUTF8: trying again will not help.
        return _Outcome(exc, permanent=True)
    if isinstance(exc, (smtplib.SMTPServerDisconnected, OSError)):
        # Refused, timed out, dropped mid-dialogue, TLS failure, disk full for .eml.
        return _Outcome(exc, permanent=False, transport_down=True)
    if isinstance(exc, smtplib.SMTPException):
        return _Outcome(exc, permanent=False)
    # Anything else is about this message's content (e.g. an address smtplib
    # cannot encode); it would fail the same way every time.
    return _Outcome(exc, permanent=True)


def _redact(text: str, mail: OutboxMail) -> str:
    """Server replies often quote the recipient; last_error must not keep it."""
    if mail.to_addr:
        text = re.sub(re.escape(mail.to_addr), "<recipient>", text, flags=re.IGNORECASE)
    return text


def backoff(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failed try: 1, 2, 4, … minutes, at most 6 hours."""
    seconds = BACKOFF_BASE_SECONDS * 2 ** max(0, min(attempts - 1, 20))
    return timedelta(seconds=min(seconds, BACKOFF_CAP_SECONDS))


# ---------------------------------------------------------------- delivering

def _recover_stale(factory: sessionmaker[Session], settings: Settings, now: datetime,
                   counts: dict[str, int]) -> None:
    cutoff = now - timedelta(seconds=settings.mail_stale_claim_seconds)
    stale_where = (OutboxMail.status == "sending",
                   or_(OutboxMail.claimed_at.is_(None), OutboxMail.claimed_at < cutoff))
    with factory() as db:
        stale = db.execute(
            select(OutboxMail.id, OutboxMail.attempts).where(*stale_where).order_by(OutboxMail.id)
        ).all()
        for mail_id, attempts in stale:
            exhausted = attempts >= MAX_ATTEMPTS
            values = {"status": "failed", "last_error": "delivery interrupted too often"} if exhausted \
                else {"status": "pending", "next_attempt_at": now}
            # Conditional, like a claim: of two runs only one takes a message back.
            taken = db.execute(
                update(OutboxMail)
                .where(OutboxMail.id == mail_id, OutboxMail.attempts == attempts, *stale_where)
                .values(claimed_at=None, **values)
                .execution_options(synchronize_session=False)
            ).rowcount
            db.commit()
            if not taken:
                continue
            counts["recovered"] += 1
            if exhausted:
                counts["failed"] += 1
                log.error("mail %s failed permanently: its deliverer was interrupted %s times",
                          mail_id, attempts)
            else:
                log.warning("mail %s: took over a stale claim (attempt %s never finished)",
                            mail_id, attempts)


def _claim(factory: sessionmaker[Session], mail_id: int, now: datetime) -> OutboxMail | None:
    """Take one due message for this deliverer, or None if another has it."""
    with factory() as db:
        claimed = db.execute(
            update(OutboxMail)
            .where(OutboxMail.id == mail_id, OutboxMail.status == "pending",
                   OutboxMail.next_attempt_at <= now)
            .values(status="sending", attempts=OutboxMail.attempts + 1, claimed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            db.rollback()
            return None
        mail = db.get(OutboxMail, mail_id)
        # Committed before anything is sent, and nothing is held open while sending.
        db.commit()
        return mail


def _finish(factory: sessionmaker[Session], mail: OutboxMail, **values) -> bool:
    """Record the outcome, if the claim is still ours (status and attempt number
    unchanged); False when a takeover happened while we were sending."""
    with factory() as db:
        done = db.execute(
            update(OutboxMail)
            .where(OutboxMail.id == mail.id, OutboxMail.status == "sending",
                   OutboxMail.attempts == mail.attempts)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.commit()
    if not done:
        log.warning("mail %s: claim was taken over before attempt %s finished", mail.id, mail.attempts)
    return bool(done)


def deliver_pending(
    factory: sessionmaker[Session], settings: Settings, *, now: datetime | None = None,
    limit: int = 100,
) -> dict[str, int]:
    """Deliver due messages, each in its own claim; returns counts of messages
    ``sent``, put back for a later ``retry``, ``failed`` for good and
    ``recovered`` from deliverers that died mid-send."""
    start = now or utcnow()
    t0 = time.monotonic()

    def clock() -> datetime:
        # A long run's claims carry their real time, so they never look stale early.
        return start + timedelta(seconds=time.monotonic() - t0)

    counts = {"sent": 0, "retry": 0, "failed": 0, "recovered": 0}
    _recover_stale(factory, settings, start, counts)
    with factory() as db:
        ids = db.execute(
            select(OutboxMail.id)
            .where(OutboxMail.status == "pending", OutboxMail.next_attempt_at <= start)
            .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
            .limit(limit)
        ).scalars().all()
        db.rollback()
    link = _SmtpLink(settings) if settings.smtp_host else None
    try:
        for mail_id in ids:
            mail = _claim(factory, mail_id, start)
            if mail is None:
                continue
            if not _attempt(factory, settings, mail, link, clock, counts):
                break
    finally:
        if link is not None:
            link.close()
    return counts


def _attempt(factory, settings: Settings, mail: OutboxMail, link: _SmtpLink | None, clock,
             counts: dict[str, int]) -> bool:
    """One delivery attempt of a claimed message; False when the transport is down."""
    try:
        msg = build_message(mail, settings)
        if link is not None:
            link.send(msg, _recipient(mail.to_addr))
        else:
            _write_eml(msg, mail, settings)
    except Exception as exc:  # every failure is recorded on the message, none stops the run
        outcome = _classify(exc)
    else:
        if _finish(factory, mail, status="sent", sent_at=clock(), last_error=None):
            counts["sent"] += 1
        return True

    error = _redact(f"{outcome.kind}: {outcome.detail}", mail)[:2000]
    what = f"{outcome.kind}" + (f" {outcome.code}" if outcome.code else "")
    if outcome.permanent or mail.attempts >= MAX_ATTEMPTS:
        if _finish(factory, mail, status="failed", last_error=error):
            counts["failed"] += 1
            log.error("mail %s failed permanently after %s attempt(s): %s",
                      mail.id, mail.attempts, what)
    else:
        retry_at = clock() + backoff(mail.attempts)
        if _finish(factory, mail, status="pending", claimed_at=None, last_error=error,
                   next_attempt_at=retry_at):
            counts["retry"] += 1
            log.warning("mail %s: attempt %s failed (%s), retrying at %s",
                        mail.id, mail.attempts, what, retry_at.isoformat(timespec="seconds"))
    return not outcome.transport_down
