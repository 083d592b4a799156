"""Deliver queued mail over SMTP (one reused connection) or into the outbox folder.

The only module that talks SMTP. A 4xx reply or a dropped connection is retried later with
backoff; a 5xx reply is a bounce, counted on the subscriber, who is suppressed after three.
Nothing is lost: a message stays in the queue until it is sent or bounces.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes
from email.policy import SMTP
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from paperfeed.config import Settings, files_dir
from paperfeed.models import QueuedMail
from paperfeed.storage import Store, SubscriberNotFound

log = logging.getLogger("paperfeed.mail")

BOUNCE_THRESHOLD = 3
LEASE_S = 300.0
_BATCH = 50
_FIRST_RETRY_S = 60.0
_MAX_RETRY_S = 6 * 3600.0


class TransientFailure(Exception):
    """Try again later: a 4xx reply, a dropped connection, a server that is down."""


class PermanentFailure(Exception):
    """A 5xx reply for this recipient or message: a bounce."""


class Transport(Protocol):
    def send(self, mail: QueuedMail) -> None:
        """Hand over one message; TransientFailure or PermanentFailure when it is not taken."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SmtpConfig:
    """What PAPERFEED_SMTP_URL says: smtp[s]://user:pass@host:port?starttls=1."""

    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    starttls: bool
    timeout_s: float = 30.0


def parse_smtp_url(url: str) -> SmtpConfig:
    parts = urlsplit(url)
    implicit = parts.scheme == "smtps"
    query = parse_qs(parts.query)
    return SmtpConfig(
        host=parts.hostname or "localhost",
        port=parts.port or (465 if implicit else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=implicit,
        starttls=query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
    )


class SmtpTransport:
    """Sends over one SMTP connection, opened on first use and reopened if it drops."""

    def __init__(self, config: SmtpConfig, envelope_from: str) -> None:
        self.config = config
        self.envelope_from = envelope_from
        self._smtp: smtplib.SMTP | None = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            config = self.config
            try:
                smtp: smtplib.SMTP
                if config.implicit_tls:
                    smtp = smtplib.SMTP_SSL(
                        config.host,
                        config.port,
                        timeout=config.timeout_s,
                        context=ssl.create_default_context(),
                    )
                else:
                    smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout_s)
                    if config.starttls:
                        smtp.starttls(context=ssl.create_default_context())
                if config.username:
                    smtp.login(config.username, config.password or "")
            except (smtplib.SMTPException, OSError) as exc:
                raise TransientFailure(f"cannot reach {config.host}:{config.port}: {exc}") from exc
            self._smtp = smtp
        return self._smtp

    def send(self, mail: QueuedMail) -> None:
        smtp = self._connection()
        data, options = mail.data, []
        try:
            smtp.ehlo_or_helo_if_needed()  # what the server offers (SMTPUTF8, 8BITMIME)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop_if(True)
            raise TransientFailure(f"the server did not greet us: {exc}") from exc
        if not mail.recipient.isascii():
            # An internationalised mailbox (ü@example.com) has no ASCII form: only a server
            # that speaks SMTPUTF8 can take it, and ours will never come to.
            if not smtp.has_extn("smtputf8"):
                raise PermanentFailure(
                    f"{mail.recipient}: the mail server does not take internationalised "
                    "addresses (no SMTPUTF8)"
                )
            options = ["SMTPUTF8", "BODY=8BITMIME"]
        elif not data.isascii():
            if smtp.has_extn("8bitmime"):
                options = ["BODY=8BITMIME"]
            else:
                data = seven_bit(data)
        try:
            refused = smtp.sendmail(self.envelope_from, [mail.recipient], data, options)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = exc.recipients.get(mail.recipient, (450, b"refused"))
            raise _failure(code, reply) from exc
        except smtplib.SMTPSenderRefused as exc:
            # Our own address refused is our problem, not the recipient's: try again later.
            raise TransientFailure(
                f"sender refused: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            self._drop_if(exc.smtp_code == 421)
            raise _failure(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop_if(True)
            raise TransientFailure(f"connection lost: {exc}") from exc
        if refused:
            code, reply = next(iter(refused.values()))
            raise _failure(code, reply)

    def _drop_if(self, condition: bool) -> None:
        if condition and self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


def seven_bit(data: bytes) -> bytes:
    """A message with 8bit parts re-encoded as base64, for a server without 8BITMIME (almost
    none today). A DKIM signature over the old body would no longer verify, so it is dropped."""
    message = message_from_bytes(data, policy=SMTP)
    del message["DKIM-Signature"]
    for part in message.walk():
        if part.get("Content-Transfer-Encoding", "").lower() == "8bit":
            content = part.get_content()
            subtype = part.get_content_subtype()
            del part["Content-Transfer-Encoding"]
            part.set_content(content, subtype=subtype, charset="utf-8", cte="base64")
    return message.as_bytes(policy=SMTP)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _failure(code: int, reply: bytes | str) -> Exception:
    message = f"{code} {_text(reply)}"
    return PermanentFailure(message) if 500 <= code < 600 else TransientFailure(message)


class OutboxTransport:
    """Writes each message as an .eml file: the embedded default, and `serve --dev`'s /outbox."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, mail: QueuedMail) -> None:
        # Named by queue id, so a message sent again after a crash overwrites itself.
        target = self.folder / f"{mail.id:08d}-{mail.kind}.eml"
        tmp = target.with_suffix(".tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Mail holds addresses and sign-in links: readable by the owner only.
            with open(os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600), "wb") as out:
                out.write(mail.data)
            os.replace(tmp, target)
        except OSError as exc:
            raise TransientFailure(f"cannot write {target}: {exc}") from exc

    def close(self) -> None:
        return None


def outbox_dir(settings: Settings) -> Path:
    """PAPERFEED_OUTBOX_DIR, else outbox/ in the data folder (config.files_dir)."""
    if settings.outbox_dir:
        return Path(settings.outbox_dir)
    return files_dir(settings) / "outbox"


def transport_for(settings: Settings) -> Transport:
    if settings.smtp_url:
        envelope_from = parseaddr(settings.mail_from)[1] or "paperfeed@localhost"
        return SmtpTransport(parse_smtp_url(settings.smtp_url), envelope_from)
    return OutboxTransport(outbox_dir(settings))


@dataclass
class DeliveryReport:
    sent: int = 0
    deferred: int = 0
    bounced: int = 0
    suppressed: int = 0

    def summary(self) -> str:
        return (
            f"sent {self.sent}, deferred {self.deferred}, bounced {self.bounced}, "
            f"not sent to suppressed addresses {self.suppressed}"
        )


def retry_delay(attempts: int) -> timedelta:
    """How long a message waits after its `attempts`-th failure: 1 min, doubling, up to 6 h."""
    return timedelta(seconds=min(_FIRST_RETRY_S * 2 ** max(attempts, 0), _MAX_RETRY_S))


def deliver_due(
    store: Store,
    transport: Transport,
    now: datetime,
    limit: int | None = None,
    lease_s: float = LEASE_S,
) -> DeliveryReport:
    """Send every message that is due (up to `limit`), each exactly once as far as SMTP allows.

    Messages are claimed in small batches, each held for `lease_s` seconds counted from the
    claim (`now` moves on with the clock while this runs); a killed sender's messages are taken
    over when the lease runs out, so only the one in flight at the kill can arrive twice.
    """
    report = DeliveryReport()
    handled = 0
    started = time.monotonic()
    try:
        while limit is None or handled < limit:
            moment = now + timedelta(seconds=time.monotonic() - started)
            batch = store.claim_mail(
                moment, min(_BATCH, (limit - handled) if limit else _BATCH), lease_s
            )
            if not batch:
                break
            claimed = time.monotonic()
            for index, mail in enumerate(batch):
                if index and time.monotonic() - claimed > lease_s / 2:
                    # Half the lease is gone (a slow server): give the rest back before
                    # another sender may take them over, and claim afresh (each claim sends
                    # at least one, so even a lease shorter than one send makes progress).
                    store.release_mail([m.id for m in batch[index:]])
                    batch = batch[:index]
                    break
                _deliver_one(store, transport, mail, moment, report)
            handled += len(batch)
    finally:
        transport.close()
    return report


def _deliver_one(
    store: Store, transport: Transport, mail: QueuedMail, now: datetime, report: DeliveryReport
) -> None:
    if mail.subscriber_id is not None:
        try:
            suppressed = store.get_subscriber(mail.subscriber_id).status == "suppressed"
        except SubscriberNotFound:
            suppressed = False
        if suppressed:
            store.mail_dropped(mail.id, "suppressed", "the address bounced too often", now)
            report.suppressed += 1
            return
    try:
        transport.send(mail)
    except PermanentFailure as exc:
        log.warning("mail %d to %s bounced: %s", mail.id, mail.recipient, exc)
        store.mail_dropped(mail.id, "bounced", str(exc), now)
        if mail.subscriber_id is not None:
            store.record_bounce(mail.subscriber_id, now, BOUNCE_THRESHOLD)
        report.bounced += 1
    except TransientFailure as exc:
        log.warning("mail %d to %s deferred: %s", mail.id, mail.recipient, exc)
        store.mail_deferred(mail.id, str(exc), now + retry_delay(mail.attempts))
        report.deferred += 1
    else:
        store.mail_sent(mail.id, now)
        report.sent += 1


PRUNE_LOCK = "mail-prune"


def prune_sent_mail(store: Store, settings: Settings, now: datetime) -> int | None:
    """Drop the bytes of mail sent more than PAPERFEED_MAIL_KEEP_DAYS before `now`; how many,
    or None when another process (anywhere) is pruning already."""
    with store.job_lock(PRUNE_LOCK) as held:
        if not held:
            return None
        return store.prune_mail(now - timedelta(days=settings.mail_keep_days))
