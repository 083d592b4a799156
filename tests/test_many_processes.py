"""No double work across processes: three `paperfeed digest send` and two `paperfeed worker
--once` at the same time, on one database (each backend), a real SMTP server (aiosmtpd) and
a recorded arXiv OAI-PMH endpoint. Every due digest arrives exactly once and one harvest runs.
"""

import dataclasses
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller

from conftest import FIXTURES, SECRET, free_port, make_paper, query_one
from paperfeed.models import Featured, HarvestState, Preferences
from replay import Reply
from smtp_sink import Inbox

SUBSCRIBERS = 40
TOKEN = "4006153|7"


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def _world(store, today) -> None:
    store.upsert_papers(
        [
            make_paper(f"2606.3{n:04d}", title=f"Paper {n} on topic {n % 7}", listed=today)
            for n in range(30)
        ]
    )
    store.upsert_featured([Featured("2606.30003", today, "hf-daily", 9)])
    now = datetime.now(UTC)
    for n in range(SUBSCRIBERS):
        sub = store.create_subscriber(f"s{n:04d}@example.org", Preferences(max_papers=3), now)
        store.save_subscriber(dataclasses.replace(sub, status="active", confirmed_at=now), now)
    # The worker harvests on from where the last finished harvest ended.
    store.save_harvest_state(
        HarvestState("arxiv-oai:cs", {}, completed_until=today - timedelta(days=1))
    )


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "paperfeed", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_senders_and_workers_side_by_side_do_everything_once(
    store, settings, smtp, replay, tmp_path
):
    controller, inbox = smtp
    today = datetime.now(UTC).date()
    _world(store, today)
    # The first page is held until one worker has finished its whole cycle, so the two
    # workers' harvests certainly overlap: the second must find the first holding the lock.
    held = threading.Event()
    replay.route(
        "/oai",
        Reply((FIXTURES / "oai_arxiv_page1.xml").read_bytes(), hold=held),
        metadataPrefix="arXiv",
    )
    replay.route(
        "/oai", Reply((FIXTURES / "oai_arxiv_page2.xml").read_bytes()), resumptionToken=TOKEN
    )
    env = {
        **os.environ,
        "PAPERFEED_DATABASE_URL": settings.database_url,
        "PAPERFEED_DATA_DIR": settings.data_dir,
        "PAPERFEED_SMTP_URL": f"smtp://{controller.hostname}:{controller.port}",
        "PAPERFEED_SECRET_KEY": SECRET,
        "PAPERFEED_BASE_URL": "https://papers.example.org",
        "PAPERFEED_MAIL_FROM": "paperfeed <digest@papers.example.org>",
        "PAPERFEED_MODEL_DIR": str(tmp_path / "no-model"),  # keyword search is enough here
        "PAPERFEED_WORKER_SOURCES": "arxiv",
        "PAPERFEED_ARXIV_OAI_URL": f"{replay.url}/oai",
        "PAPERFEED_REQUEST_DELAY_S": "0.1",
        "PAPERFEED_DIGEST_HOUR": "0",  # today's digest is due now, in every time zone
    }
    senders = [_start(["digest", "send"], env) for _ in range(3)]
    workers = [_start(["worker", "--once"], env) for _ in range(2)]
    assert replay.arrived.wait(60), "no worker asked for the first page"
    deadline = time.monotonic() + 60
    while all(w.poll() is None for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    held.set()
    outputs = {}
    for process in senders + workers:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        outputs[process] = out
    if today != datetime.now(UTC).date():
        pytest.skip("ran across midnight: the processes disagree on the day")

    counted = Counter(received.rcpt_tos[0] for received in inbox.received)
    assert len(counted) == SUBSCRIBERS and set(counted.values()) == {1}, counted
    ids = Counter(received.message["Message-ID"] for received in inbox.received)
    assert set(ids.values()) == {1}
    assert query_one(store, "SELECT count(*) FROM digests") == SUBSCRIBERS

    oai = [seen for seen in replay.requests if seen.path == "/oai"]
    assert len(oai) == 2, [seen.params for seen in oai]  # one harvest: page 1, then page 2
    worker_out = [outputs[w] for w in workers]
    assert sum("ingest arxiv: added 9" in out for out in worker_out) == 1, worker_out
    assert sum("another worker is ingesting; skipped" in out for out in worker_out) == 1
    assert store.get_harvest_state("arxiv-oai:cs").completed_until is not None
