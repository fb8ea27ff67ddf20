"""E-mail delivery from the outbox, against a real SMTP server on 127.0.0.1.

The server is aiosmtpd, started by the tests; its handler can be told to
answer 4xx/5xx to RCPT or DATA or to drop the connection mid-dialogue, so the
delivery rules (retry with backoff, fail for good, never send twice, recover
a dead deliverer's claim) are shown against real SMTP dialogues.
"""

from __future__ import annotations

import dataclasses
import email
import json
import logging
import os
import socket
import subprocess
import sys
import threading
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from portal import create_app
from portal.models import OutboxMail, utcnow
from portal.services import mail as outbox
from portal.services import messages
from portal.services.errors import Conflict, NotFound

ROOT = Path(__file__).resolve().parent.parent
VERIFY_LINK = "http://localhost/verify/abc123"


# ---------------------------------------------------------------- the SMTP server

class Handler:
    """Stores what it accepts; ``rcpt``/``data`` set a reply instead of 250,
    ``drop`` closes the connection at DATA (before any reply)."""

    def __init__(self):
        self.received: list[tuple[list[str], bytes]] = []
        self.rcpt: str | None = None
        self.data: str | None = None
        self.drop = False
        self.drop_after: int | None = None  # accept this many, then drop once
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt:
            return self.rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.drop_after is not None and len(self.received) >= self.drop_after:
                self.drop_after = None
                server.transport.close()
                return "250 OK"  # never reaches the client
            if self.drop:
                server.transport.close()
                return "250 OK"
            if self.data:
                return self.data
            self.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(raw, policy=policy.default) for _rcpt, raw in self.received]

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


@pytest.fixture
def mail_app(app_config, smtp):
    application = create_app(app_config | {"smtp_host": "127.0.0.1", "smtp_port": smtp.port})
    yield application
    application.extensions["portal.engine"].dispose()


@pytest.fixture
def factory(mail_app):
    return mail_app.extensions["portal.sessionmaker"]


@pytest.fixture
def settings(mail_app):
    return mail_app.config["PORTAL_SETTINGS"]


def send_verify(factory, to="kari@example.no", locale="nb", name="Kari", now=None, **kw) -> int:
    with factory() as db:
        m = messages.send(db, to=to, locale=locale, template="verify_email", now=now,
                          name=name, link=VERIFY_LINK, **kw)
        db.commit()
        return m.id


def row(factory, mail_id) -> OutboxMail:
    with factory() as db:
        return db.get(OutboxMail, mail_id)  # closing detaches it, loaded as it is


def set_row(factory, mail_id, **values) -> None:
    with factory() as db:
        db.execute(update(OutboxMail).where(OutboxMail.id == mail_id).values(**values))
        db.commit()


# ---------------------------------------------------------------- happy path

def test_delivers_once_in_the_recipients_language_with_text_and_html(factory, settings, smtp):
    now = utcnow()
    nb_id = send_verify(factory, to="kari@example.no", locale="nb", name="Kari", now=now)
    en_id = send_verify(factory, to="ola@example.no", locale="en", name="Ola <Olsen>", now=now)

    counts = outbox.deliver_pending(factory, settings, now=now)
    assert counts == {"sent": 2, "retry": 0, "failed": 0, "recovered": 0}
    assert len(smtp.received) == 2
    by_to = {m["To"]: m for m in smtp.messages()}
    assert [rcpt for rcpt, _raw in smtp.received] == [["kari@example.no"], ["ola@example.no"]]

    nb, en = by_to["kari@example.no"], by_to["ola@example.no"]
    assert nb["Subject"] == "Bekreft e-postadressen din for Samspill"
    assert en["Subject"] == "Confirm your e-mail address for Samspill"
    assert nb["Content-Language"] == "nb" and en["Content-Language"] == "en"
    for msg, mail_id in ((nb, nb_id), (en, en_id)):
        assert msg["From"] == settings.mail_from
        assert msg["Message-ID"] == row(factory, mail_id).message_id
        assert msg.get_content_type() == "multipart/alternative"
        parts = list(msg.iter_parts())
        assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
        text, html = parts[0].get_content(), parts[1].get_content()
        assert VERIFY_LINK in text
        assert f'<a href="{VERIFY_LINK}">{VERIFY_LINK}</a>' in html
        assert f'<html lang="{msg["Content-Language"]}">' in html
        assert html.count("<p>") >= 3  # the text's paragraphs
    assert "Hei, Kari!" in nb.get_body(("plain",)).get_content()
    # The name is escaped in the HTML, not markup.
    en_html = en.get_body(("html",)).get_content()
    assert "Ola &lt;Olsen&gt;" in en_html and "<Olsen>" not in en_html

    sent = row(factory, nb_id)
    assert sent.status == "sent" and sent.attempts == 1 and sent.sent_at is not None
    # Idempotent: a second run at the same moment sends nothing more.
    assert outbox.deliver_pending(factory, settings, now=now) == {
        "sent": 0, "retry": 0, "failed": 0, "recovered": 0}
    assert len(smtp.received) == 2


def test_extra_headers_are_sent_and_reserved_ones_refused(factory, settings, smtp):
    with factory() as db:
        messages.send(db, to="kari@example.no", locale="en", template="verify_email",
                      name="Kari", link=VERIFY_LINK,
                      headers={"List-Unsubscribe": "<http://localhost/u/tok>",
                               "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
        db.commit()
        for bad in ({"Bcc": "x@example.no"}, {"X-Evil": "a\r\nBcc: x@example.no"}, {"Bad Name": "v"}):
            with pytest.raises(ValueError):
                outbox.enqueue(db, to="kari@example.no", subject="s", text="t", headers=bad)
        db.rollback()
    assert outbox.deliver_pending(factory, settings)["sent"] == 1
    (msg,) = smtp.messages()
    assert msg["List-Unsubscribe"] == "<http://localhost/u/tok>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_text_to_html_escapes_links_and_paragraphs():
    html = outbox.text_to_html(
        "Hi <b>you</b> & co,\nsee https://x.no/a?b=1&c=2.\n\n\nBye (https://y.no/p)", subject="S & T",
        locale="en")
    assert "Hi &lt;b&gt;you&lt;/b&gt; &amp; co,<br>" in html
    assert '<a href="https://x.no/a?b=1&amp;c=2">https://x.no/a?b=1&amp;c=2</a>.' in html
    assert '(<a href="https://y.no/p">https://y.no/p</a>)' in html
    assert html.count("<p>") == 2
    assert "<title>S &amp; T</title>" in html and '<html lang="en">' in html
    assert "<a" not in outbox.text_to_html("javascript:alert(1)")


# ---------------------------------------------------------------- temporary failures

def _break(smtp, how):
    if how == "rcpt-450":
        smtp.rcpt = "450 4.2.1 Mailbox busy, try later"
    elif how == "data-451":
        smtp.data = "451 4.3.0 Local problem, try later"
    elif how == "drop":
        smtp.drop = True


def _heal(smtp):
    smtp.rcpt = smtp.data = None
    smtp.drop = False


@pytest.mark.parametrize("how", ["rcpt-450", "data-451", "drop", "refused"])
def test_temporary_failure_retries_later_and_then_delivers_once(factory, settings, smtp, how):
    now = utcnow()
    mail_id = send_verify(factory, now=now)
    run_settings = settings
    if how == "refused":
        run_settings = dataclasses.replace(settings, smtp_port=free_port())  # nothing listens
    else:
        _break(smtp, how)

    counts = outbox.deliver_pending(factory, run_settings, now=now)
    assert counts == {"sent": 0, "retry": 1, "failed": 0, "recovered": 0}
    m = row(factory, mail_id)
    assert m.status == "pending" and m.attempts == 1 and m.claimed_at is None
    assert m.next_attempt_at > now
    assert m.last_error
    if how == "rcpt-450":
        assert "450" in m.last_error and "kari@example.no" not in m.last_error
    assert smtp.received == []

    _heal(smtp)
    # Not yet due: the backoff holds it back.
    assert outbox.deliver_pending(factory, settings, now=now)["sent"] == 0
    later = m.next_attempt_at + timedelta(seconds=1)
    assert outbox.deliver_pending(factory, settings, now=later)["sent"] == 1
    assert outbox.deliver_pending(factory, settings, now=later)["sent"] == 0
    assert smtp.message_ids() == [m.message_id]
    done = row(factory, mail_id)
    assert done.status == "sent" and done.attempts == 2 and done.last_error is None


def test_backoff_grows_and_is_capped():
    waits = [outbox.backoff(n) for n in range(1, 30)]
    assert waits[0] == timedelta(minutes=1) and waits[1] == timedelta(minutes=2)
    assert waits == sorted(waits)
    assert max(waits) == timedelta(hours=6)


def test_attempts_exhausted_fail_for_good(factory, settings, smtp):
    now = utcnow()
    mail_id = send_verify(factory, now=now)
    set_row(factory, mail_id, attempts=outbox.MAX_ATTEMPTS - 1)
    smtp.rcpt = "421 4.7.0 Try again later"
    counts = outbox.deliver_pending(factory, settings, now=now)
    assert counts["failed"] == 1 and counts["retry"] == 0
    m = row(factory, mail_id)
    assert m.status == "failed" and m.attempts == outbox.MAX_ATTEMPTS and "421" in m.last_error


# ---------------------------------------------------------------- permanent failures

@pytest.mark.parametrize("how", ["rcpt-550", "data-554"])
def test_permanent_failure_is_failed_visible_logged_without_personal_data_and_requeued(
        factory, settings, smtp, caplog, how):
    caplog.set_level(logging.INFO, logger="portal.mail")
    now = utcnow()
    ok_id = send_verify(factory, to="first@example.no", now=now)
    bad_id = send_verify(factory, to="bad.person@example.no", name="Bertil Badsen", now=now)
    # The first goes through; then the server refuses.
    outbox.deliver_pending(factory, settings, now=now, limit=1)
    if how == "rcpt-550":
        smtp.rcpt = "550 5.1.1 <bad.person@example.no>: Recipient address rejected"
    else:
        smtp.data = "554 5.6.0 Message content rejected"

    counts = outbox.deliver_pending(factory, settings, now=now)
    assert counts == {"sent": 0, "retry": 0, "failed": 1, "recovered": 0}
    m = row(factory, bad_id)
    assert m.status == "failed" and m.attempts == 1
    assert ("550" if how == "rcpt-550" else "554") in m.last_error
    assert "bad.person@example.no" not in m.last_error

    with factory() as db:
        failed = outbox.failed_messages(db)
        assert [f.id for f in failed] == [bad_id]
    assert row(factory, ok_id).status == "sent"

    # Logged, by id only: no address, no name, no body.
    assert f"mail {bad_id} failed permanently" in caplog.text
    for personal in ("bad.person@example.no", "Bertil", VERIFY_LINK):
        assert personal not in caplog.text
    log_file = settings.data_dir / "logs" / "portal.log"
    if log_file.exists():
        assert "bad.person@example.no" not in log_file.read_text()

    # Later runs leave it alone; an admin can send it again.
    assert outbox.deliver_pending(factory, settings, now=now + timedelta(days=3))["failed"] == 0
    _heal(smtp)
    with factory() as db:
        outbox.requeue(db, bad_id, now=now)
        db.commit()
    back = row(factory, bad_id)
    assert back.status == "pending" and back.attempts == 0
    assert outbox.deliver_pending(factory, settings, now=now)["sent"] == 1
    assert smtp.message_ids().count(back.message_id) == 1
    with factory() as db:
        assert outbox.failed_messages(db) == []


def test_failed_messages_newest_first_and_limited(factory, settings, smtp):
    now = utcnow()
    ids = [send_verify(factory, to=f"p{i}@example.no", now=now + timedelta(minutes=i)) for i in range(3)]
    smtp.rcpt = "550 No such user"
    outbox.deliver_pending(factory, settings, now=now + timedelta(minutes=5))
    with factory() as db:
        assert [m.id for m in outbox.failed_messages(db)] == ids[::-1]
        assert [m.id for m in outbox.failed_messages(db, limit=2)] == ids[:0:-1]


def test_requeue_refuses_missing_or_not_failed(factory, settings, smtp):
    mail_id = send_verify(factory)
    with factory() as db:
        with pytest.raises(NotFound):
            outbox.requeue(db, 99999)
        with pytest.raises(Conflict):
            outbox.requeue(db, mail_id)  # pending
        db.rollback()
    outbox.deliver_pending(factory, settings)
    with factory() as db, pytest.raises(Conflict):
        outbox.requeue(db, mail_id)  # sent


@pytest.mark.parametrize("bad_addr", ["not-an-address", "a@b@c", "x@example.no\nBcc: y@example.no",
                                      "two@example.no, three@example.no"])
def test_message_that_cannot_be_built_fails_without_stopping_the_others(
        factory, settings, smtp, caplog, bad_addr):
    now = utcnow()
    with factory() as db:
        bad = outbox.enqueue(db, to=bad_addr, subject="Hei", text="Body text secret", now=now)
        db.commit()
        bad_id = bad.id
    good_id = send_verify(factory, to="good@example.no", now=now)

    counts = outbox.deliver_pending(factory, settings, now=now)
    assert counts == {"sent": 1, "retry": 0, "failed": 1, "recovered": 0}
    assert row(factory, bad_id).status == "failed"
    assert row(factory, good_id).status == "sent"
    assert [rcpt for rcpt, _raw in smtp.received] == [["good@example.no"]]
    assert "secret" not in caplog.text
    # Not retried forever: nothing more happens to it.
    assert outbox.deliver_pending(factory, settings, now=now + timedelta(days=1)) == {
        "sent": 0, "retry": 0, "failed": 0, "recovered": 0}


# ---------------------------------------------------------------- dead deliverers

class Killed(BaseException):
    """A deliverer process killed mid-send (nothing after it runs)."""


def test_stale_claim_is_recovered_and_sent_with_the_same_message_id(factory, settings, smtp,
                                                                     monkeypatch):
    now = utcnow()
    mail_id = send_verify(factory, now=now)

    def killed(*args, **kwargs):
        raise Killed

    with monkeypatch.context() as m:
        m.setattr(outbox._SmtpLink, "send", killed)
        with pytest.raises(Killed):
            outbox.deliver_pending(factory, settings, now=now)
    claimed = row(factory, mail_id)
    assert claimed.status == "sending" and claimed.claimed_at is not None and claimed.attempts == 1

    # A claim younger than the stale limit may still be in progress: left alone.
    soon = now + timedelta(seconds=settings.mail_stale_claim_seconds - 60)
    assert outbox.deliver_pending(factory, settings, now=soon) == {
        "sent": 0, "retry": 0, "failed": 0, "recovered": 0}
    assert row(factory, mail_id).status == "sending"

    later = now + timedelta(seconds=settings.mail_stale_claim_seconds + 1)
    assert outbox.deliver_pending(factory, settings, now=later) == {
        "sent": 1, "retry": 0, "failed": 0, "recovered": 1}
    done = row(factory, mail_id)
    assert done.status == "sent" and done.attempts == 2
    assert smtp.message_ids() == [claimed.message_id]


def test_killed_after_handover_resends_with_the_same_message_id(factory, settings, smtp, monkeypatch):
    """The documented at-least-once case: the server had the message when the
    deliverer died, so the takeover sends it again, byte for byte, with the same
    Message-ID for the receiver to dedupe."""
    now = utcnow()
    mail_id = send_verify(factory, now=now)

    def killed(*args, **kwargs):
        raise Killed

    with monkeypatch.context() as m:
        m.setattr(outbox, "_finish", killed)
        with pytest.raises(Killed):
            outbox.deliver_pending(factory, settings, now=now)
    later = now + timedelta(seconds=settings.mail_stale_claim_seconds + 1)
    assert outbox.deliver_pending(factory, settings, now=later)["recovered"] == 1
    assert len(smtp.received) == 2
    first, second = (raw for _rcpt, raw in smtp.received)
    assert first == second
    assert set(smtp.message_ids()) == {row(factory, mail_id).message_id}


def test_late_finish_of_a_taken_over_claim_changes_nothing(factory, settings, smtp):
    now = utcnow()
    mail_id = send_verify(factory, now=now)
    mine = outbox._claim(factory, mail_id, now)
    assert mine is not None
    later = now + timedelta(seconds=settings.mail_stale_claim_seconds + 1)
    outbox.deliver_pending(factory, settings, now=later)
    assert row(factory, mail_id).status == "sent"
    # The slow original finally reports a failure: the taker's outcome stands.
    assert outbox._finish(factory, mine, status="failed", last_error="late") is False
    assert row(factory, mail_id).status == "sent"


def test_stale_claim_with_attempts_exhausted_fails(factory, settings, smtp):
    now = utcnow()
    mail_id = send_verify(factory, now=now)
    set_row(factory, mail_id, status="sending", attempts=outbox.MAX_ATTEMPTS,
            claimed_at=now - timedelta(days=1))
    counts = outbox.deliver_pending(factory, settings, now=now)
    assert counts == {"sent": 0, "retry": 0, "failed": 1, "recovered": 1}
    assert row(factory, mail_id).status == "failed"
    assert smtp.received == []


# ---------------------------------------------------------------- never twice

def test_a_claim_is_held_by_one_deliverer_only(factory, smtp):
    now = utcnow()
    mail_id = send_verify(factory, now=now)
    assert outbox._claim(factory, mail_id, now) is not None
    assert outbox._claim(factory, mail_id, now) is None


def test_two_concurrent_deliverers_send_each_message_once(factory, settings, smtp):
    now = utcnow()
    ids = [send_verify(factory, to=f"p{i}@example.no", now=now) for i in range(20)]
    barrier = threading.Barrier(2)
    results: list[dict] = []
    errors: list[BaseException] = []

    def deliverer():
        try:
            barrier.wait()
            results.append(outbox.deliver_pending(factory, settings, now=now))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=deliverer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r["sent"] for r in results) == 20
    assert sorted(smtp.message_ids()) == sorted(row(factory, i).message_id for i in ids)
    assert len(set(smtp.message_ids())) == 20


DELIVER_SCRIPT = """
import json, sys
from portal import create_app
from portal.services.mail import deliver_pending
app = create_app(json.loads(sys.argv[1]))
sys.stdin.readline()  # start together
counts = deliver_pending(app.extensions["portal.sessionmaker"], app.config["PORTAL_SETTINGS"])
print(json.dumps(counts))
"""


def test_two_deliverer_processes_send_each_message_once(app_config, factory, smtp):
    ids = [send_verify(factory, to=f"p{i}@example.no") for i in range(20)]
    config = {k: str(v) for k, v in app_config.items()} | {"smtp_host": "127.0.0.1",
                                                            "smtp_port": str(smtp.port)}
    procs = [subprocess.Popen([sys.executable, "-c", DELIVER_SCRIPT, json.dumps(config)], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              env=os.environ | {"PYTHONPATH": str(ROOT)})
             for _ in range(2)]
    # Both are up (imports done) before either starts delivering.
    for p in procs:
        p.stdin.write("\n")
        p.stdin.flush()
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    counts = [json.loads(o.strip().splitlines()[-1]) for o in outs]
    assert sum(c["sent"] for c in counts) == 20
    assert sorted(smtp.message_ids()) == sorted(row(factory, i).message_id for i in ids)


def test_server_dropping_mid_run_loses_nothing(factory, settings, smtp):
    now = utcnow()
    ids = [send_verify(factory, to=f"p{i}@example.no", now=now) for i in range(20)]
    smtp.drop_after = 5
    counts = outbox.deliver_pending(factory, settings, now=now)
    # Five went through, the sixth was cut off; the run stops rather than
    # hammer a server that just hung up, so the rest simply wait.
    assert counts == {"sent": 5, "retry": 1, "failed": 0, "recovered": 0}
    statuses = [row(factory, i).status for i in ids]
    assert statuses.count("sent") == 5 and statuses.count("pending") == 15
    assert "sending" not in statuses

    later = now + timedelta(hours=1)
    counts = outbox.deliver_pending(factory, settings, now=later)
    assert counts == {"sent": 15, "retry": 0, "failed": 0, "recovered": 0}
    assert sorted(smtp.message_ids()) == sorted(row(factory, i).message_id for i in ids)
    assert len(set(smtp.message_ids())) == 20


# ---------------------------------------------------------------- .eml files

def test_eml_files_without_smtp(app, monkeypatch):
    factory = app.extensions["portal.sessionmaker"]
    settings = app.config["PORTAL_SETTINGS"]
    assert not settings.smtp_host
    now = utcnow()
    ids = [send_verify(factory, to="kari@example.no", locale="nb", now=now),
           send_verify(factory, to="ola@example.no", locale="en", now=now)]
    assert outbox.deliver_pending(factory, settings, now=now)["sent"] == 2
    folder = outbox.mail_dir(settings)
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == [f"{i:08d}.eml" for i in ids]  # no temporary files left
    for f, locale in zip(files, ("nb", "en"), strict=True):
        msg = email.message_from_bytes(f.read_bytes(), policy=policy.default)
        assert msg["Content-Language"] == locale
        assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
        assert VERIFY_LINK in msg.get_body(("html",)).get_content()

    # Delivering again (a takeover) replaces the file: still one per message.
    set_row(factory, ids[0], status="sending", claimed_at=now - timedelta(days=1))
    counts = outbox.deliver_pending(factory, settings, now=now)
    assert counts["recovered"] == 1 and counts["sent"] == 1
    assert sorted(f.name for f in folder.iterdir()) == [f"{i:08d}.eml" for i in ids]

    # A write that fails half-way leaves neither a file nor a temporary behind.
    third = send_verify(factory, to="per@example.no", now=now)

    def broken_replace(src, dst):
        raise OSError("disk full")

    import portal.files

    monkeypatch.setattr(portal.files.os, "replace", broken_replace)
    counts = outbox.deliver_pending(factory, settings, now=now)
    assert counts["retry"] == 1
    assert sorted(f.name for f in folder.iterdir()) == [f"{i:08d}.eml" for i in ids]
    monkeypatch.undo()
    outbox.deliver_pending(factory, settings, now=now + timedelta(hours=1))
    assert (folder / f"{third:08d}.eml").exists()
    assert row(factory, third).status == "sent"


def test_outbox_keeps_headers_and_status_query(factory):
    with factory() as db:
        m = outbox.enqueue(db, to="kari@example.no", subject="S", text="T",
                           headers={"List-Unsubscribe": "<http://localhost/u/x>"})
        db.commit()
        got = db.execute(select(OutboxMail).where(OutboxMail.id == m.id)).scalar_one()
        assert got.headers == {"List-Unsubscribe": "<http://localhost/u/x>"}
