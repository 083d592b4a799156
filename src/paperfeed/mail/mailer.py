"""Deliver queued mail over SMTP (one reused connection) or into the outbox folder.

The only module that talks SMTP. A 4xx reply is retried later with backoff; when the server
cannot take mail at all (unreachable, silent, 421, gone mid-conversation, our sender refused,
a full disk) the message is retried later and the rest of the run is left for the next one; a
5xx reply is a bounce, counted on the subscriber, who is suppressed after three in a row.
Nothing is lost: a message stays in the queue until it is sent or bounces.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes
from email.policy import SMTP
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from paperfeed.config import Settings, files_dir
from paperfeed.models import QueuedMail
from paperfeed.storage import Store, StoreBusy, SubscriberNotFound

log = logging.getLogger("paperfeed.mail")
_T = TypeVar("_T")

BOUNCE_THRESHOLD = 3
LEASE_S = 300.0
_BATCH = 50
_FIRST_RETRY_S = 60.0
_MAX_RETRY_S = 6 * 3600.0


class TransientFailure(Exception):
    """Try again later: a 4xx reply for this message."""


class ServerUnavailable(TransientFailure):
    """Nothing can be sent now (a server down, silent, closing, refusing our sender; a full
    disk): this message is tried again later, and the rest wait for the next run."""


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


def parse_smtp_url(url: str, timeout_s: float = 30.0) -> SmtpConfig:
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
        timeout_s=timeout_s,
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
                raise ServerUnavailable(
                    f"cannot reach {config.host}:{config.port}: {exc or type(exc).__name__}"
                ) from exc
            self._smtp = smtp
        return self._smtp

    def send(self, mail: QueuedMail) -> None:
        smtp = self._connection()
        data, options = mail.data, []
        try:
            smtp.ehlo_or_helo_if_needed()  # what the server offers (SMTPUTF8, 8BITMIME)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise ServerUnavailable(
                f"the server did not greet us: {exc or type(exc).__name__}"
            ) from exc
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
            raise self._failure(code, reply) from exc
        except smtplib.SMTPSenderRefused as exc:
            if exc.smtp_code == 421:
                raise self._failure(exc.smtp_code, exc.smtp_error) from exc
            # Our own address refused is our problem, not the recipient's (and it would be
            # refused for every message): not a bounce; try again later.
            self._drop()
            raise ServerUnavailable(
                f"sender refused: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise self._failure(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # Dropped or timed out mid-conversation: the server may or may not have the
            # message (at worst it arrives twice, with the same Message-ID).
            self._drop()
            raise ServerUnavailable(f"connection lost: {exc or type(exc).__name__}") from exc
        if refused:
            code, reply = next(iter(refused.values()))
            raise self._failure(code, reply)

    def _failure(self, code: int, reply: bytes | str) -> Exception:
        if code == 421:
            # "Service not available, closing transmission channel" (smtplib may have closed
            # it already): the server wants a rest, not the next message.
            self._drop()
            return ServerUnavailable(f"{code} {_text(reply)}")
        return _failure(code, reply)

    def _drop(self) -> None:
        if self._smtp is not None:
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
            # A full disk or a read-only folder fails every message alike. The part written
            # so far would only take the space the next attempt needs.
            tmp.unlink(missing_ok=True)
            raise ServerUnavailable(f"cannot write {target}: {exc}") from exc

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
        return SmtpTransport(
            parse_smtp_url(settings.smtp_url, settings.smtp_timeout_s), envelope_from
        )
    return OutboxTransport(outbox_dir(settings))


@dataclass
class DeliveryReport:
    sent: int = 0
    deferred: int = 0
    bounced: int = 0
    suppressed: int = 0
    left: int = 0  # not tried: the server became unavailable; due again at once

    def summary(self) -> str:
        line = (
            f"sent {self.sent}, deferred {self.deferred}, bounced {self.bounced}, "
            f"not sent to suppressed addresses {self.suppressed}"
        )
        if self.left:
            line += f", left for the next run {self.left} (the server is unavailable)"
        return line


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
    over when the lease runs out, so only the one in flight at the kill can arrive twice. When
    the server becomes unavailable the run ends, giving back what it has not tried.
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
                if not _deliver_one(store, transport, mail, moment, report, claimed + lease_s):
                    rest = [m.id for m in batch[index + 1 :]]
                    store.release_mail(rest)
                    report.left += len(rest)
                    return report
            handled += len(batch)
    finally:
        transport.close()
    return report


def _deliver_one(
    store: Store,
    transport: Transport,
    mail: QueuedMail,
    now: datetime,
    report: DeliveryReport,
    lease_end: float,
) -> bool:
    """Send one claimed message and record what became of it (trying until `lease_end`, on
    the monotonic clock, while the database is busy); False when the server is unavailable
    (the run should stop)."""
    if mail.subscriber_id is not None:
        try:
            suppressed = store.get_subscriber(mail.subscriber_id).status == "suppressed"
        except SubscriberNotFound:
            suppressed = False
        if suppressed:
            store.mail_dropped(mail.id, "suppressed", "the address bounced too often", now)
            report.suppressed += 1
            return True
    subscriber_id = mail.subscriber_id
    try:
        transport.send(mail)
    except PermanentFailure as exc:
        log.warning("mail %d to %s bounced: %s", mail.id, mail.recipient, exc)
        error = str(exc)
        # False when another sender took the message over meanwhile (our lease ran out).
        dropped = _record(lambda: store.mail_dropped(mail.id, "bounced", error, now), lease_end)
        if dropped and subscriber_id is not None:
            _record(lambda: store.record_bounce(subscriber_id, now, BOUNCE_THRESHOLD), lease_end)
        report.bounced += 1
    except TransientFailure as exc:
        log.warning("mail %d to %s deferred: %s", mail.id, mail.recipient, exc)
        error, retry_at = str(exc), now + retry_delay(mail.attempts)
        _record(lambda: store.mail_deferred(mail.id, error, retry_at), lease_end)
        report.deferred += 1
        return not isinstance(exc, ServerUnavailable)
    else:
        _record(lambda: store.mail_sent(mail.id, now), lease_end)
        report.sent += 1
    return True


def _record(write: Callable[[], _T], until: float) -> _T:
    """Run `write`, which records what became of a message the server has had, again and
    again while the database is busy, until `until` (monotonic): given up, the message would
    be sent again once its lease ends. Each try waits the store's own busy timeout."""
    while True:
        try:
            return write()
        except StoreBusy:
            if time.monotonic() >= until:
                raise
            log.warning("the database is busy; trying again to record a delivery")
            time.sleep(0.05)


PRUNE_LOCK = "mail-prune"


def prune_sent_mail(store: Store, settings: Settings, now: datetime) -> int | None:
    """Drop the bytes of mail sent more than PAPERFEED_MAIL_KEEP_DAYS before `now`; how many,
    or None when another process (anywhere) is pruning already."""
    with store.job_lock(PRUNE_LOCK) as held:
        if not held:
            return None
        return store.prune_mail(now - timedelta(days=settings.mail_keep_days))
