"""SIGKILL a real `paperfeed digest send` at different moments, against a real SMTP server
(aiosmtpd), and count what arrived: every due digest arrives, no subscriber gets two different
digests for the period, and each kill re-sends at most the one message in flight (with the
same Message-ID). Two senders at once send nothing twice."""

import asyncio
import dataclasses
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from aiosmtpd.controller import Controller

from conftest import SECRET, free_port, make_paper, query_one
from paperfeed.models import Featured, Preferences
from smtp_sink import Inbox

DAY = date(2026, 6, 26)
LEASE_S = 3.0


class SlowInbox(Inbox):
    """Takes 5 ms per message, so a run lasts long enough to be killed mid-delivery."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.005)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp():
    inbox = SlowInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def _world(store, subscribers: int):
    store.upsert_papers(
        [
            make_paper(f"2606.3{n:04d}", title=f"Paper {n} on topic {n % 7}", listed=DAY)
            for n in range(40)
        ]
    )
    store.upsert_featured([Featured("2606.30003", DAY, "hf-daily", 9)])
    now = datetime(2026, 6, 26, 8, tzinfo=UTC)
    for n in range(subscribers):
        sub = store.create_subscriber(f"s{n:04d}@example.org", Preferences(max_papers=3), now)
        store.save_subscriber(dataclasses.replace(sub, status="active", confirmed_at=now), now)


def _send(store, controller, tmp_path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PAPERFEED_DATABASE_URL": store.url,
        "PAPERFEED_DATA_DIR": str(tmp_path),
        "PAPERFEED_SMTP_URL": f"smtp://{controller.hostname}:{controller.port}",
        "PAPERFEED_SECRET_KEY": SECRET,
        "PAPERFEED_BASE_URL": "https://papers.example.org",
        "PAPERFEED_MAIL_FROM": "paperfeed <digest@papers.example.org>",
        "PAPERFEED_MAIL_LEASE_S": str(LEASE_S),
        "PAPERFEED_MODEL_DIR": str(tmp_path / "no-model"),  # keyword search is enough here
    }
    return subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "digest", "send", "--date", DAY.isoformat()],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _digests(store) -> int:
    return query_one(store, "SELECT count(*) FROM digests")


def _arrivals(inbox) -> dict[str, list[str]]:
    """Recipient -> Message-IDs of what arrived for them, in order."""
    out: dict[str, list[str]] = {}
    for received in list(inbox.received):
        out.setdefault(received.rcpt_tos[0], []).append(received.message["Message-ID"])
    return out


def test_killed_senders_deliver_every_digest_once_but_the_one_in_flight(tmp_path, store, slow_smtp):
    controller, inbox = slow_smtp
    total = 400
    _world(store, total)
    rng = random.Random(5)
    kills = 0
    # Kill 1: as soon as the digests are saved (no mail out yet); kills 2-4: mid-delivery.
    process = _send(store, controller, tmp_path)
    deadline = time.monotonic() + 60
    while _digests(store) == 0 and time.monotonic() < deadline:
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait()
    kills += 1
    for grow in (40, 60, 80):
        before = len(inbox.received)
        process = _send(store, controller, tmp_path)
        deadline = time.monotonic() + 60
        while len(inbox.received) < before + grow + rng.randint(0, 20):
            assert time.monotonic() < deadline, process.communicate()
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
    assert len(inbox.received) < total, "the run finished before the last kill"
    time.sleep(LEASE_S + 1.1)  # the killed senders' leases run out
    final = _send(store, controller, tmp_path)
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err

    arrivals = _arrivals(inbox)
    assert len(arrivals) == total  # every due digest arrived
    for recipient, ids in arrivals.items():
        assert len(set(ids)) == 1, f"{recipient} got two different digests: {ids}"
    repeats = sum(len(ids) - 1 for ids in arrivals.values())
    assert repeats <= kills, f"{repeats} re-sent messages for {kills} kills"
    assert store.mail_status().counts == {"sent": total}
    assert _digests(store) == total
    if store.url.startswith("sqlite:"):
        assert query_one(store, "PRAGMA integrity_check") == "ok"
    assert f"sent before {total - int(out.split('composed ')[1].split()[0])}" in out


def test_two_senders_at_once_send_each_digest_once(tmp_path, store, slow_smtp):
    controller, inbox = slow_smtp
    total = 200
    _world(store, total)
    first, second = _send(store, controller, tmp_path), _send(store, controller, tmp_path)
    for process in (first, second):
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    counted = Counter(r.rcpt_tos[0] for r in inbox.received)
    assert len(counted) == total and set(counted.values()) == {1}
    ids = Counter(r.message["Message-ID"] for r in inbox.received)
    assert set(ids.values()) == {1}
