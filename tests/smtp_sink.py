"""Real SMTP servers for tests: aiosmtpd with scripted replies, and a raw one that misbehaves."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import cast


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return cast(EmailMessage, message_from_bytes(self.data, policy=default))


@dataclass
class Inbox:
    """The handler: accepts mail, or answers a recipient with the replies queued for it."""

    received: list[Received] = field(default_factory=list)
    replies: dict[str, list[str]] = field(default_factory=dict)  # address -> "550 ..." answers
    mail_replies: list[str] = field(default_factory=list)  # MAIL FROM answers, in turn
    data_replies: list[str] = field(default_factory=list)  # end-of-DATA answers, in turn
    data_stalls_s: list[float] = field(default_factory=list)  # waits before answering DATA
    on_data: Callable[[], None] | None = None  # called as each message arrives, before "250"
    connections: int = 0

    def refuse(self, address: str, *replies: str) -> None:
        """Answer RCPT TO:<address> with these replies in turn (then accept it)."""
        self.replies.setdefault(address, []).extend(replies)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.mail_replies:
            return self.mail_replies.pop(0)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        queued = self.replies.get(address)
        if queued:
            return queued.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_stalls_s:
            # A slow server: it takes the message in the end, after the client gave up.
            await asyncio.sleep(self.data_stalls_s.pop(0))
        if self.data_replies:
            return self.data_replies.pop(0)
        if self.on_data is not None:
            self.on_data()
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.received if address in r.rcpt_tos]


class RawSmtp:
    """A bare SMTP server on a thread that misbehaves on purpose, one script per connection:

    - "silent": accepts the connection and never says a word;
    - "drop-mid-data": closes the connection after 100 bytes of the message;
    - "drop-after-data": takes the whole message (it counts as received) and closes without
      answering, so the client cannot know;
    - "ok" (and every connection after the scripted ones): a well-behaved server.
    """

    def __init__(self, *scripts: str) -> None:
        self.scripts = list(scripts)
        self.received: list[bytes] = []
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._open: list[socket.socket] = []
        self._stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self._listener.getsockname()[1]}"

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._open.append(conn)
            script = self.scripts.pop(0) if self.scripts else "ok"
            self.connections += 1
            threading.Thread(target=self._talk, args=(conn, script), daemon=True).start()

    def _talk(self, conn: socket.socket, script: str) -> None:
        if script == "silent":
            self._stopped.wait()
            return
        reader = conn.makefile("rb")
        try:
            conn.sendall(b"220 raw.test ESMTP\r\n")
            for line in reader:
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    conn.sendall(b"250-raw.test\r\n250 8BITMIME\r\n")
                elif verb == b"DATA":
                    conn.sendall(b"354 go ahead\r\n")
                    body = b""
                    while not body.endswith(b"\r\n.\r\n"):
                        chunk = reader.readline()
                        if not chunk:
                            return
                        body += chunk
                        if script == "drop-mid-data" and len(body) >= 100:
                            return
                    if script == "drop-after-data":
                        self.received.append(body)
                        return
                    self.received.append(body)
                    conn.sendall(b"250 queued\r\n")
                elif verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:  # MAIL, RCPT, RSET, NOOP
                    conn.sendall(b"250 OK\r\n")
        except OSError:
            return
        finally:
            reader.close()
            conn.close()

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()
        for conn in self._open:
            conn.close()
