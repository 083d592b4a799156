"""Faults at the SMTP server: 4xx and 421 (retried), 5xx (bounced once), stalls, drops."""

import dataclasses
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from conftest import query_one
from paperfeed.mail.mailer import deliver_due, retry_delay, transport_for
from paperfeed.mail.messages import build_message, new_message_id, outgoing
from paperfeed.models import Preferences
from smtp_sink import RawSmtp

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def _queue(store, settings, to: str, subscriber: bool = True) -> int:
    subscriber_id = None
    if subscriber:
        found = store.subscriber_by_email(to)
        subscriber_id = (found or store.create_subscriber(to, Preferences(), NOW)).id
    message = build_message(
        settings,
        to=to,
        subject=f"Hello {to}",
        text="Text part.",
        html="<p>HTML part.</p>",
        message_id=new_message_id(settings),
        now=NOW,
    )
    mail_id = store.enqueue_mail(outgoing(message, "notice", subscriber_id), NOW)
    assert mail_id is not None
    return mail_id


def _row(store, mail_id: int) -> tuple:
    """(status, attempts, last_error) of a queued message."""
    return tuple(
        query_one(store, f"SELECT {column} FROM outgoing_mail WHERE id = ?", mail_id)
        for column in ("status", "attempts", "last_error")
    )


def _send(store, settings, at: datetime, lease_s: float = 300.0):
    return deliver_due(store, transport_for(settings), at, lease_s=lease_s)


def test_4xx_replies_keep_the_message_queued_and_retry_it_with_backoff(
    store, mail_settings, smtp_server
):
    _, inbox = smtp_server
    inbox.refuse("grey@example.org", "451 4.7.1 greylisted, come back later", "451 4.7.1 again")
    inbox.refuse("full@example.org", "452 4.2.2 mailbox full")
    inbox.data_replies.append("452 4.3.1 insufficient system storage")
    grey, full, storage, fine = (
        _queue(store, mail_settings, f"{name}@example.org")
        for name in ("grey", "full", "storage", "fine")
    )
    first = _send(store, mail_settings, NOW)
    assert (first.sent, first.deferred, first.bounced) == (1, 3, 0)
    assert _row(store, grey) == ("queued", 1, "451 4.7.1 greylisted, come back later")
    assert _row(store, full) == ("queued", 1, "452 4.2.2 mailbox full")
    assert _row(store, storage) == ("queued", 1, "452 4.3.1 insufficient system storage")
    assert _row(store, fine)[:2] == ("sent", 1)
    assert _send(store, mail_settings, NOW + timedelta(seconds=59)).sent == 0  # backoff: 1 min
    retry = NOW + retry_delay(0) + timedelta(seconds=1)
    second = _send(store, mail_settings, retry)
    assert (second.sent, second.deferred) == (2, 1)
    assert _row(store, grey) == ("queued", 2, "451 4.7.1 again")
    # The second failure waits twice as long.
    assert _send(store, mail_settings, retry + timedelta(seconds=119)).sent == 0
    assert _send(store, mail_settings, retry + retry_delay(1) + timedelta(seconds=1)).sent == 1
    assert sorted(r.rcpt_tos[0] for r in inbox.received) == [
        f"{name}@example.org" for name in ("fine", "full", "grey", "storage")
    ]
    assert store.mail_status().counts == {"sent": 4}
    assert all(store.subscriber_by_email(r.rcpt_tos[0]).bounces == 0 for r in inbox.received)


@pytest.mark.parametrize("stage", ["MAIL", "RCPT", "DATA"])
def test_a_421_ends_the_session_the_message_waits_and_the_rest_go_next_run(
    store, mail_settings, smtp_server, stage
):
    _, inbox = smtp_server
    reply = "421 4.7.0 too many connections, closing"
    if stage == "MAIL":
        inbox.mail_replies.append(reply)
    elif stage == "RCPT":
        inbox.refuse("first@example.org", reply)
    else:
        inbox.data_replies.append(reply)
    first, *rest = (_queue(store, mail_settings, f"{n}@example.org") for n in ("first", "a", "b"))
    report = _send(store, mail_settings, NOW)
    # The server said it is closing: the rest of the run is left untouched for the next one,
    # instead of each message failing on a dead connection (and counting an attempt).
    assert (report.sent, report.deferred, report.left) == (0, 1, 2)
    assert _row(store, first) == ("queued", 1, reply)
    assert [_row(store, mail_id) for mail_id in rest] == [("queued", 0, None)] * 2
    assert inbox.connections == 1
    again = _send(store, mail_settings, NOW)  # the next run: a new session
    assert (again.sent, again.deferred) == (2, 0)
    assert _send(store, mail_settings, NOW + timedelta(seconds=61)).sent == 1
    assert sorted(r.rcpt_tos[0] for r in inbox.received) == [
        "a@example.org",
        "b@example.org",
        "first@example.org",
    ]


def test_550_and_554_bounce_once_are_never_retried_and_count_against_the_address(
    store, mail_settings, smtp_server
):
    _, inbox = smtp_server
    inbox.refuse("gone@example.org", "550 5.1.1 no such user")
    gone = _queue(store, mail_settings, "gone@example.org")
    spam = _queue(store, mail_settings, "spam@example.org")  # refused after its DATA
    inbox.data_replies.append("554 5.7.1 message refused by policy")
    stranger = _queue(store, mail_settings, "stranger@example.org", subscriber=False)
    inbox.refuse("stranger@example.org", "550 5.1.1 no such user")
    fine = _queue(store, mail_settings, "fine@example.org")
    report = _send(store, mail_settings, NOW)
    assert (report.sent, report.bounced, report.deferred) == (1, 3, 0)
    assert _row(store, gone) == ("bounced", 1, "550 5.1.1 no such user")
    assert _row(store, spam) == ("bounced", 1, "554 5.7.1 message refused by policy")
    assert _row(store, stranger)[0] == "bounced"
    assert _row(store, fine)[0] == "sent"
    for later in (timedelta(hours=1), timedelta(days=3)):
        assert _send(store, mail_settings, NOW + later).summary().startswith("sent 0, deferred 0")
    assert [r.rcpt_tos for r in inbox.received] == [["fine@example.org"]]
    assert store.subscriber_by_email("gone@example.org").bounces == 1
    assert store.subscriber_by_email("spam@example.org").bounces == 1


def test_only_bounces_in_a_row_suppress_an_address(store, mail_settings, smtp_server):
    # email-rules.md: "stop mailing addresses that keep bouncing". An address that took mail
    # between two bounces is not one that keeps bouncing.
    _, inbox = smtp_server
    inbox.refuse("flaky@example.org", "550 5.2.1 mailbox disabled")
    _queue(store, mail_settings, "flaky@example.org")
    _send(store, mail_settings, NOW)
    _queue(store, mail_settings, "flaky@example.org")
    _send(store, mail_settings, NOW)  # delivered
    assert store.subscriber_by_email("flaky@example.org").bounces == 0
    inbox.refuse("flaky@example.org", *["550 5.2.1 mailbox disabled"] * 3)
    for _ in range(3):
        _queue(store, mail_settings, "flaky@example.org")
        _send(store, mail_settings, NOW)
    after = store.subscriber_by_email("flaky@example.org")
    assert (after.bounces, after.status) == (3, "suppressed")
    _queue(store, mail_settings, "flaky@example.org")
    assert _send(store, mail_settings, NOW).suppressed == 1
    assert len(inbox.to("flaky@example.org")) == 1


def test_our_sender_address_refused_is_not_a_bounce(store, mail_settings, smtp_server):
    _, inbox = smtp_server
    inbox.mail_replies.append("550 5.7.1 sender not allowed")
    first, second = (_queue(store, mail_settings, f"{n}@example.org") for n in ("one", "two"))
    report = _send(store, mail_settings, NOW)
    assert (report.bounced, report.deferred, report.left) == (0, 1, 1)
    assert _row(store, first) == ("queued", 1, "sender refused: 550 5.7.1 sender not allowed")
    assert _row(store, second) == ("queued", 0, None)
    assert store.subscriber_by_email("one@example.org").bounces == 0


def test_a_server_that_never_answers_times_out_and_keeps_everything(store, mail_settings):
    silent = RawSmtp("silent", "silent", "silent")
    try:
        settings = dataclasses.replace(mail_settings, smtp_url=silent.url, smtp_timeout_s=0.5)
        ids = [_queue(store, settings, f"r{n}@example.org") for n in range(3)]
        started = time.monotonic()
        report = _send(store, settings, NOW)
        took = time.monotonic() - started
    finally:
        silent.stop()
    assert (report.sent, report.deferred, report.left) == (0, 1, 2)
    assert 0.4 < took < 2.0, took  # one timeout, not one per message (nor smtplib's default)
    assert _row(store, ids[0])[:2] == ("queued", 1)
    assert "cannot reach" in _row(store, ids[0])[2]
    assert [_row(store, i) for i in ids[1:]] == [("queued", 0, None)] * 2


def test_a_stalled_server_lets_another_sender_take_over_without_a_second_copy(
    store, mail_settings, smtp_server, tmp_path
):
    """Sender A's server stalls at DATA longer than A's lease: sender B takes the message
    over and delivers it; A's timeout, coming after, must not put it back in the queue."""
    from aiosmtpd.controller import Controller

    from conftest import free_port
    from smtp_sink import Inbox

    _, good_inbox = smtp_server
    slow_inbox = Inbox(data_stalls_s=[1.5])
    slow = Controller(slow_inbox, hostname="127.0.0.1", port=free_port())
    slow.start()
    try:
        a_settings = dataclasses.replace(
            mail_settings, smtp_url=f"smtp://127.0.0.1:{slow.port}", smtp_timeout_s=0.6
        )
        mail_id = _queue(store, mail_settings, "reader@example.org")
        outcome = {}

        def sender_a() -> None:
            started = time.monotonic()
            outcome["report"] = _send(store, a_settings, NOW, lease_s=0.3)
            outcome["took"] = time.monotonic() - started

        a = threading.Thread(target=sender_a)
        a.start()
        time.sleep(0.4)  # A is waiting on its server; its lease has run out
        b = _send(store, mail_settings, NOW + timedelta(seconds=0.4))
        assert b.sent == 1
        a.join(10)
        assert outcome["took"] < 1.5  # A gave up at its timeout, it did not hang
        assert outcome["report"].deferred == 1
        assert _row(store, mail_id)[0] == "sent"  # A's late failure changed nothing
        for later in (timedelta(minutes=2), timedelta(hours=7)):
            assert _send(store, mail_settings, NOW + later).sent == 0
        assert len(good_inbox.to("reader@example.org")) == 1
        # aiosmtpd drops a message whose client hung up before the answer; a server that
        # kept it would deliver the one extra copy SMTP cannot prevent (see drop-after-data).
        time.sleep(1.2)
        assert slow_inbox.received == []
    finally:
        slow.stop()


def test_a_connection_dropped_mid_data_loses_nothing(store, mail_settings):
    raw = RawSmtp("drop-mid-data")
    try:
        settings = dataclasses.replace(mail_settings, smtp_url=raw.url, smtp_timeout_s=2)
        first, second = (_queue(store, settings, f"{n}@example.org") for n in ("one", "two"))
        report = _send(store, settings, NOW)
        assert (report.sent, report.deferred, report.left) == (0, 1, 1)
        assert raw.received == []
        assert _row(store, first)[:2] == ("queued", 1)
        assert "connection lost" in _row(store, first)[2]
        assert _send(store, settings, NOW).sent == 1  # the next run reconnects
        assert _send(store, settings, NOW + timedelta(seconds=61)).sent == 1
        assert len(raw.received) == 2
        assert [_row(store, i)[:2] for i in (first, second)] == [("sent", 2), ("sent", 1)]
    finally:
        raw.stop()


def test_a_drop_after_the_data_makes_at_worst_one_copy_more_with_the_same_message_id(
    store, mail_settings
):
    from email import message_from_bytes

    raw = RawSmtp("drop-after-data")
    try:
        settings = dataclasses.replace(mail_settings, smtp_url=raw.url, smtp_timeout_s=2)
        mail_id = _queue(store, settings, "reader@example.org")
        assert _send(store, settings, NOW).deferred == 1  # the server took it, unknown to us
        assert _send(store, settings, NOW + timedelta(seconds=61)).sent == 1
        assert _send(store, settings, NOW + timedelta(hours=7)).sent == 0
    finally:
        raw.stop()
    ids = [message_from_bytes(body)["Message-ID"] for body in raw.received]
    assert len(ids) == 2 and ids[0] == ids[1]  # receivers can tell it is the same message
    assert _row(store, mail_id) == ("sent", 2, None)
