"""Delivery against a real SMTP server: reuse, 4xx retry, 5xx bounces, suppression, outbox."""

import dataclasses
from datetime import UTC, datetime, timedelta

from conftest import query_one
from paperfeed.mail.mailer import (
    OutboxTransport,
    deliver_due,
    outbox_dir,
    parse_smtp_url,
    retry_delay,
    transport_for,
)
from paperfeed.mail.messages import build_message, new_message_id, outgoing
from paperfeed.models import Preferences

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def _queue(store, settings, to: str, subject: str = "Hello", subscriber=True):
    subscriber_id = None
    if subscriber:
        subscriber_id = store.create_subscriber(to, Preferences(), NOW).id
    message = build_message(
        settings,
        to=to,
        subject=subject,
        text="Text part.",
        html="<p>HTML part.</p>",
        message_id=new_message_id(settings),
        now=NOW,
    )
    return store.enqueue_mail(outgoing(message, "notice", subscriber_id), NOW)


def test_messages_arrive_over_one_reused_connection(store, mail_settings, smtp_server):
    _, inbox = smtp_server
    for n in range(3):
        _queue(store, mail_settings, f"reader{n}@example.org", subject=f"Hello {n} — ünïcode")
    report = deliver_due(store, transport_for(mail_settings), NOW)
    assert report.summary() == "sent 3, deferred 0, bounced 0, not sent to suppressed addresses 0"
    assert inbox.connections == 1
    assert [r.rcpt_tos for r in inbox.received] == [[f"reader{n}@example.org"] for n in range(3)]
    assert inbox.received[0].mail_from == "digest@papers.example.org"
    message = inbox.received[1].message
    assert message["Subject"] == "Hello 1 — ünïcode"
    headers = inbox.received[1].data.split(b"\r\n\r\n", 1)[0]
    assert b"Subject: Hello 1 =?utf-8?" in headers  # RFC 2047 on the wire, 7-bit clean
    assert b"From: Paper =?utf-8?q?F=C3=A9ed?= <digest@papers.example.org>" in headers
    assert all(byte < 128 for byte in headers)
    assert str(message["From"]) == "Paper Féed <digest@papers.example.org>"
    assert deliver_due(store, transport_for(mail_settings), NOW).sent == 0  # nothing twice
    assert store.mail_status().counts == {"sent": 3}


def test_a_4xx_is_retried_later_and_then_delivered(store, mail_settings, smtp_server):
    _, inbox = smtp_server
    inbox.refuse("busy@example.org", "451 4.3.0 try again later")
    _queue(store, mail_settings, "busy@example.org")
    first = deliver_due(store, transport_for(mail_settings), NOW)
    assert (first.deferred, first.sent) == (1, 0)
    status = store.mail_status()
    assert status.counts == {"queued": 1}
    assert status.problems[0][1:] == ("busy@example.org", 1, "451 4.3.0 try again later")
    assert deliver_due(store, transport_for(mail_settings), NOW + timedelta(seconds=30)).sent == 0
    later = NOW + retry_delay(0) + timedelta(seconds=1)
    assert deliver_due(store, transport_for(mail_settings), later).sent == 1
    assert len(inbox.to("busy@example.org")) == 1


def test_5xx_bounces_count_and_three_suppress_the_address(store, mail_settings, smtp_server):
    _, inbox = smtp_server
    inbox.refuse("gone@example.org", *["550 5.1.1 no such user"] * 3)
    subscriber = store.create_subscriber("gone@example.org", Preferences(), NOW)
    for n in range(4):
        message = build_message(
            mail_settings,
            to="gone@example.org",
            subject=f"n{n}",
            text="t",
            html="<p>h</p>",
            message_id=new_message_id(mail_settings),
            now=NOW,
        )
        store.enqueue_mail(outgoing(message, "notice", subscriber.id), NOW)
        deliver_due(store, transport_for(mail_settings), NOW)
    after = store.get_subscriber(subscriber.id)
    assert (after.bounces, after.status) == (3, "suppressed")
    assert store.mail_status().counts == {"bounced": 3, "suppressed": 1}
    assert inbox.to("gone@example.org") == []
    assert store.mail_status().suppressed == ["gone@example.org"]


def test_an_unreachable_server_keeps_the_mail_queued(store, mail_settings):
    down = dataclasses.replace(mail_settings, smtp_url="smtp://127.0.0.1:1")
    _queue(store, down, "reader@example.org")
    report = deliver_due(store, transport_for(down), NOW)
    assert (report.deferred, report.sent) == (1, 0)
    assert "cannot reach 127.0.0.1:1" in store.mail_status().problems[0][3]


def test_a_killed_sender_lets_go_of_its_messages(store, mail_settings, smtp_server):
    _, inbox = smtp_server
    _queue(store, mail_settings, "reader@example.org")
    claimed = store.claim_mail(NOW, 10, lease_s=300)
    assert len(claimed) == 1
    assert store.claim_mail(NOW, 10, 300) == []  # held by the first sender
    # The first sender died without a word; after its lease the message goes out once.
    report = deliver_due(store, transport_for(mail_settings), NOW + timedelta(seconds=301))
    assert report.sent == 1 and len(inbox.received) == 1


def test_authentication_is_used_when_the_url_has_credentials(store, mail_settings):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from conftest import free_port
    from smtp_sink import Inbox

    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret")

    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        settings = dataclasses.replace(
            mail_settings, smtp_url=f"smtp://digest%40x:s3cret@127.0.0.1:{controller.port}"
        )
        _queue(store, settings, "reader@example.org")
        assert deliver_due(store, transport_for(settings), NOW).sent == 1
        assert seen == [(b"digest@x", b"s3cret")]
    finally:
        controller.stop()


def test_outbox_mode_writes_each_message_once(store, settings, tmp_path):
    assert outbox_dir(settings) == tmp_path / "outbox"
    assert isinstance(transport_for(settings), OutboxTransport)
    _queue(store, settings, "reader@example.org", subject="Outbox test")
    assert deliver_due(store, transport_for(settings), NOW).sent == 1
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert [f.name for f in files] == ["00000001-notice.eml"]
    assert b"Subject: Outbox test" in files[0].read_bytes()
    assert deliver_due(store, transport_for(settings), NOW).sent == 0
    # Addresses and sign-in links: only the owner may read them.
    assert files[0].stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "outbox").stat().st_mode & 0o777 == 0o700


def test_smtp_urls_parse():
    config = parse_smtp_url("smtps://user%40x.org:p%40ss@mail.example.org")
    assert (config.host, config.port, config.implicit_tls) == ("mail.example.org", 465, True)
    assert (config.username, config.password) == ("user@x.org", "p@ss")
    plain = parse_smtp_url("smtp://mail.example.org:587?starttls=1")
    assert (plain.port, plain.starttls, plain.username) == (587, True, None)
    assert retry_delay(0) == timedelta(minutes=1) and retry_delay(20) == timedelta(hours=6)


def test_a_dropped_connection_is_retried_not_bounced(store, mail_settings):
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def hang_up() -> None:
        connection, _ = listener.accept()
        connection.close()  # before even greeting

    threading.Thread(target=hang_up, daemon=True).start()
    settings = dataclasses.replace(
        mail_settings, smtp_url=f"smtp://127.0.0.1:{listener.getsockname()[1]}"
    )
    _queue(store, settings, "reader@example.org")
    report = deliver_due(store, transport_for(settings), NOW)
    listener.close()
    assert (report.deferred, report.bounced) == (1, 0)
    assert store.mail_status().counts == {"queued": 1}
    assert store.get_subscriber(1).bounces == 0


class _SlowOutbox(OutboxTransport):
    """A transport that takes 120 ms a message and notes, at each send, how much of the
    message's lease was left (on the sender's clock)."""

    def __init__(self, folder, store) -> None:
        super().__init__(folder)
        self.store = store
        self.started = 0.0
        self.lease_left: list[float] = []

    def send(self, mail) -> None:
        import time

        moment = NOW + timedelta(seconds=time.monotonic() - self.started)
        lease = query_one(self.store, "SELECT lease_until FROM outgoing_mail WHERE id = ?", mail.id)
        until = lease if isinstance(lease, datetime) else datetime.fromisoformat(lease)
        self.lease_left.append((until - moment).total_seconds())
        time.sleep(0.12)
        super().send(mail)


def test_a_slow_server_makes_the_sender_give_back_what_its_lease_may_not_cover(
    store, settings, tmp_path
):
    import time

    for n in range(6):
        _queue(store, settings, f"slow{n}@example.org")
    transport = _SlowOutbox(tmp_path / "out", store)
    transport.started = time.monotonic()
    report = deliver_due(store, transport, NOW, lease_s=0.4)
    assert report.sent == 6 and store.mail_status().counts == {"sent": 6}
    # Without giving back the rest of a claim of 6, the 5th would go out after its 0.4 s lease
    # ran out (when another sender may take it); each was sent with half its lease left.
    assert len(transport.lease_left) == 6
    assert min(transport.lease_left) > 0.1, transport.lease_left


def test_pruning_drops_the_bytes_of_old_sent_mail_only(store, settings, tmp_path):
    for n in range(3):
        _queue(store, settings, f"old{n}@example.org")
    deliver_due(store, OutboxTransport(tmp_path / "out"), NOW, limit=2)
    waiting = _queue(store, settings, "waiting@example.org")
    assert store.prune_mail(NOW - timedelta(days=1)) == 0  # nothing that old
    assert store.prune_mail(NOW + timedelta(days=1)) == 2  # the two sent; queued ones stay
    assert store.mail_status().counts == {"sent": 2, "queued": 2}
    report = deliver_due(store, OutboxTransport(tmp_path / "out"), NOW)
    assert report.sent == 2 and waiting is not None


def test_a_lease_shorter_than_a_send_still_delivers_everything(store, settings, tmp_path):
    for n in range(3):
        _queue(store, settings, f"tiny{n}@example.org")
    report = deliver_due(store, OutboxTransport(tmp_path / "out"), NOW, lease_s=0)
    assert report.sent == 3 and store.mail_status().counts == {"sent": 3}


def test_one_process_prunes_at_a_time(store, settings, tmp_path):
    from paperfeed.mail.mailer import PRUNE_LOCK, prune_sent_mail
    from paperfeed.storage import open_store

    _queue(store, settings, "old@example.org")
    deliver_due(store, OutboxTransport(tmp_path / "out"), NOW)
    later = NOW + timedelta(days=settings.mail_keep_days + 1)
    other = open_store(settings.database_url, migrate=False, pool_size=2)  # another process
    try:
        with other.job_lock(PRUNE_LOCK) as held:
            assert held and prune_sent_mail(store, settings, later) is None
    finally:
        other.close()
    assert prune_sent_mail(store, settings, later) == 1
    assert prune_sent_mail(store, settings, later) == 0
