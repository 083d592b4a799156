"""A SQLite database whose write lock another process holds past the busy timeout, during
ingest, votes, digest composing and mail delivery: a clear error or a wait, never a
half-written batch; the rerun completes. Web requests answer 503."""

import contextlib
import dataclasses
import json
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from conftest import (
    POSTGRES_URL,
    SECRET,
    build_web_app,
    drop_postgres_database,
    make_paper,
    new_postgres_database,
    query_one,
)
from paperfeed.cli import cli
from paperfeed.mail.mailer import deliver_due, transport_for
from paperfeed.models import Featured, Preferences
from paperfeed.storage import StoreBusy, open_store
from replay import Reply

BUSY_S = 0.3
DAY = date(2026, 6, 26)
NOW = datetime(2026, 6, 26, 8, tzinfo=UTC)

# Another process: takes the write lock, writes (uncommitted), says so, and holds it until a
# line arrives on stdin or `hold_s` seconds pass; then rolls back.
_LOCKER = """
import select, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE schema_migrations SET applied_at = applied_at")
print("locked", flush=True)
select.select([sys.stdin], [], [], float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


@pytest.fixture
def backend():
    return "sqlite"  # a SQLite lock; PostgreSQL writers wait on rows, not on the file


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, database_busy_timeout_s=BUSY_S)


@pytest.fixture
def store(settings):
    store = open_store(settings.database_url, busy_timeout_s=settings.database_busy_timeout_s)
    yield store
    store.close()


class Locker:
    """The other process holding the database's write lock."""

    def __init__(self, database_url: str, hold_s: float = 60.0) -> None:
        path = database_url.removeprefix("sqlite:///")
        self.process = subprocess.Popen(
            [sys.executable, "-c", _LOCKER, path, str(hold_s)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "locked"

    def release(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write("go\n")
            self.process.stdin.flush()
        self.process.wait(10)


@contextlib.contextmanager
def locked(database_url: str):
    locker = Locker(database_url)
    try:
        yield locker
    finally:
        locker.release()


def _intact(store) -> None:
    assert query_one(store, "PRAGMA integrity_check") == "ok"


def _run(settings, *args: str, **env: str):
    return CliRunner().invoke(
        cli,
        list(args),
        env={
            "PAPERFEED_DATABASE_URL": settings.database_url,
            "PAPERFEED_DATA_DIR": settings.data_dir,
            "PAPERFEED_DATABASE_BUSY_TIMEOUT_S": str(settings.database_busy_timeout_s),
            "PAPERFEED_MODEL_DIR": settings.data_dir + "/no-model",
            "PAPERFEED_INGEST_BATCH_SIZE": "50",
            "PAPERFEED_REQUEST_DELAY_S": "0.05",
            "PAPERFEED_SECRET_KEY": SECRET,
            **env,
        },
    )


def _jsonl(path, first: int, count: int):
    lines = [
        json.dumps(
            {
                "id": f"2606.{n:05d}",
                "title": f"Paper {n}",
                "abstract": "An abstract.",
                "authors": ["A. Author"],
                "categories": ["cs.LG"],
                "published": "2026-06-25T17:59:00Z",
            }
        )
        for n in range(first, first + count)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_an_ingest_waits_out_a_lock_shorter_than_the_busy_timeout(settings, store, tmp_path):
    source = _jsonl(tmp_path / "papers.jsonl", 0, 120)
    Locker(settings.database_url, hold_s=0.5)  # lets go by itself
    slow = dataclasses.replace(settings, database_busy_timeout_s=5.0)
    result = _run(slow, "ingest", "--no-embed", str(source))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "added 120, updated 0, unchanged 0, skipped 0"


def test_an_ingest_stopped_by_a_lock_keeps_whole_batches_and_the_rerun_adds_the_rest(
    settings, store, tmp_path, replay
):
    """The first file is written; the lock is taken while the second source is being
    fetched, so its first batch cannot be written."""
    first = _jsonl(tmp_path / "first.jsonl", 0, 60)
    second = _jsonl(tmp_path / "second.jsonl", 60, 60).read_bytes()
    fetched = threading.Event()
    replay.route("/second.jsonl", Reply(second, hold=fetched))
    url = f"{replay.url}/second.jsonl"
    outcome = {}
    ingest = threading.Thread(
        target=lambda: outcome.update(
            result=_run(settings, "ingest", "--no-embed", str(first), url)
        )
    )
    ingest.start()
    assert replay.arrived.wait(30)
    with locked(settings.database_url):
        fetched.set()
        ingest.join(30)
        result = outcome["result"]
        assert result.exit_code == 1
        assert "Traceback" not in result.output
        assert "the database is busy" in result.output
        assert "kept: added 60, updated 0, unchanged 0, skipped 0" in result.output
        assert "run it again" in result.output
    assert store.count_papers() == 60  # the first source's batches; none of the second's
    _intact(store)
    replay.route("/second.jsonl", Reply(second))
    replay._rules.pop(0)
    again = _run(settings, "ingest", "--no-embed", str(first), url)
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[0] == "added 60, updated 0, unchanged 60, skipped 0"
    assert store.count_papers() == 120
    _intact(store)


def test_commands_that_only_read_run_during_a_lock(settings, store, tmp_path):
    store.upsert_papers([make_paper("2606.00001")])
    with locked(settings.database_url):
        # Opening the database checks the schema by reading: no write lock needed.
        result = _run(settings, "stats", PAPERFEED_SECRET_KEY="")
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("papers: 1")
        started = time.monotonic()
        show = _run(settings, "show", "2606.00001")
        assert show.exit_code == 0 and time.monotonic() - started < BUSY_S


def _world(store, subscribers: int) -> None:
    store.upsert_papers(
        [make_paper(f"2606.3{n:04d}", title=f"Paper {n}", listed=DAY) for n in range(20)]
    )
    store.upsert_featured([Featured("2606.30003", DAY, "hf-daily", 9)])
    for n in range(subscribers):
        sub = store.create_subscriber(f"s{n}@example.org", Preferences(max_papers=3), NOW)
        store.save_subscriber(dataclasses.replace(sub, status="active", confirmed_at=NOW), NOW)


def test_digests_composed_during_a_lock_are_not_saved_and_the_rerun_sends_each_once(
    settings, store, tmp_path
):
    _world(store, 5)
    with locked(settings.database_url):
        result = _run(settings, "digest", "send", "--date", DAY.isoformat())
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "the database is busy" in result.output
    assert store.mail_status().counts == {}
    assert query_one(store, "SELECT count(*) FROM digests") == 0
    _intact(store)
    again = _run(settings, "digest", "send", "--date", DAY.isoformat())
    assert again.exit_code == 0, again.output
    assert "due 5: composed 5 (queued 5 new)" in again.output
    assert "sent 5, deferred 0" in again.output
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 5
    third = _run(settings, "digest", "send", "--date", DAY.isoformat())
    assert "sent before 5" in third.output and "sent 0" in third.output


def test_mail_is_not_claimed_during_a_lock_and_goes_out_after(settings, store, tmp_path):
    _world(store, 0)
    _queue_notice(store, settings, "reader@example.org")
    with locked(settings.database_url), pytest.raises(StoreBusy):
        deliver_due(store, transport_for(settings), NOW)
    assert store.mail_status().counts == {"queued": 1}
    assert deliver_due(store, transport_for(settings), NOW).sent == 1
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


def _queue_notice(store, settings, to: str) -> int:
    from paperfeed.mail.messages import build_message, new_message_id, outgoing

    message = build_message(
        settings,
        to=to,
        subject="Hello",
        text="Text.",
        html="<p>HTML.</p>",
        message_id=new_message_id(settings),
        now=NOW,
    )
    return store.enqueue_mail(outgoing(message, "notice", None), NOW)


def test_a_delivery_recorded_during_a_lock_is_recorded_once_the_lock_goes(
    store, mail_settings, smtp_server
):
    """The lock is taken while the server takes the message: the sender cannot record it as
    sent at once, and keeps trying (within its lease) instead of leaving it to be sent twice."""
    settings = dataclasses.replace(mail_settings, database_busy_timeout_s=BUSY_S)
    _, inbox = smtp_server
    lockers = []

    def lock_on_data() -> None:
        lockers.append(Locker(settings.database_url, hold_s=1.0))

    inbox.on_data = lock_on_data
    mail_id = _queue_notice(store, settings, "reader@example.org")
    started = time.monotonic()
    report = deliver_due(store, transport_for(settings), NOW, lease_s=30)
    assert report.sent == 1
    assert time.monotonic() - started >= 0.9  # it waited for the lock
    assert query_one(store, "SELECT status FROM outgoing_mail WHERE id = ?", mail_id) == "sent"
    assert deliver_due(store, transport_for(settings), NOW.replace(hour=23)).sent == 0
    assert len(inbox.received) == 1
    for locker in lockers:
        locker.release()


@pytest.fixture
def client(store, mail_settings, tmp_path, fake_embedder):
    settings = dataclasses.replace(mail_settings, database_busy_timeout_s=BUSY_S)
    app = build_web_app(store, settings, tmp_path, fake_embedder)
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def _csrf(client, url: str = "/") -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', client.get(url).text).group(1)


def test_web_requests_during_a_lock_answer_503_and_reads_still_work(
    client, smtp_server, settings, store
):
    _, inbox = smtp_server
    client.post("/signin", data={"email": "ada@example.org", "csrf": _csrf(client, "/signin")})
    text = inbox.to("ada@example.org")[-1].get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https://papers\.example\.org(/signin/\S+)", text).group(1)
    pressed = client.post(link, data={"csrf": _csrf(client, link)}, follow_redirects=False)
    assert pressed.status_code == 303
    csrf = _csrf(client)
    with locked(settings.database_url):
        assert client.get("/api/papers/2606.10002").status_code == 200  # readers are not held
        assert client.get("/papers/2606.10002").status_code == 200
        vote = client.post(
            "/papers/2606.10002/vote", data={"csrf": csrf, "on": "1"}, follow_redirects=False
        )
        assert vote.status_code == 503
        assert "busy" in vote.text and vote.headers["retry-after"] == "5"
        subscribe = client.post(
            "/api/subscribe", json={"email": "bob@example.org", "topics": ["koopman"]}
        )
        assert subscribe.status_code == 503
        assert subscribe.headers["retry-after"] == "5"
        assert "the database is busy" in subscribe.json()["error"]
    assert client.get("/api/papers/2606.10002").json()["upvotes"] == 12  # nothing half-done
    assert store.subscriber_by_email("bob@example.org") is None
    _intact(store)
    vote = client.post(
        "/papers/2606.10002/vote", data={"csrf": csrf, "on": "1"}, follow_redirects=False
    )
    assert vote.status_code == 303
    assert client.get("/api/papers/2606.10002").json()["upvotes"] == 13
    assert client.post(
        "/api/subscribe", json={"email": "bob@example.org", "topics": ["koopman"]}
    ).status_code in (200, 202)


def test_a_worker_cycle_during_a_lock_reports_it_and_the_next_cycle_does_the_work(
    settings, store, tmp_path
):
    from conftest import FakeEmbedder, fake_searcher
    from paperfeed.worker import Schedule, run_cycle

    _world(store, 3)
    searcher = fake_searcher(store, tmp_path / "keyword", FakeEmbedder())
    worker_settings = dataclasses.replace(settings, digest_hour=7)
    lines: list[str] = []
    schedule = Schedule()
    with locked(settings.database_url):
        run_cycle(store, searcher, worker_settings, NOW, schedule, lines.append)
    assert any("the database is busy" in line for line in lines), lines
    assert store.mail_status().counts == {}
    lines.clear()
    run_cycle(store, searcher, worker_settings, NOW, schedule, lines.append)
    assert any("due 3: composed 3 (queued 3 new)" in line for line in lines), lines
    assert store.mail_status().counts == {"sent": 3}


def test_a_harvest_stopped_by_a_lock_resumes_from_its_last_saved_page(settings, store, replay):
    from conftest import FIXTURES
    from paperfeed.ingest.harvest import harvest_arxiv
    from paperfeed.ingest.pipeline import IngestInterrupted

    token = "4006153|7"
    page2 = (FIXTURES / "oai_arxiv_page2.xml").read_bytes()
    fetched = threading.Event()
    page1 = (FIXTURES / "oai_arxiv_page1.xml").read_bytes()
    replay.route("/oai", Reply(page1), metadataPrefix="arXiv")
    replay.route("/oai", Reply(page2, hold=fetched), resumptionToken=token)
    settings = dataclasses.replace(settings, arxiv_oai_url=f"{replay.url}/oai")
    december = (date(2017, 12, 1), date(2017, 12, 31))
    outcome = {}

    def harvest() -> None:
        try:
            harvest_arxiv(store, settings, "cs", *december)
        except IngestInterrupted as exc:
            outcome["stopped"] = str(exc)

    running = threading.Thread(target=harvest)
    running.start()
    deadline = time.monotonic() + 30
    while len(replay.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    with locked(settings.database_url):
        fetched.set()  # page 2 arrives while the database is locked
        running.join(30)
    assert "the database is busy" in outcome["stopped"]
    assert (
        "1 page (6 records) saved; run the same harvest again to resume from page 2"
        in (outcome["stopped"])
    )
    assert store.count_papers() == 6
    _intact(store)
    replay.requests.clear()
    replay._rules[1] = ("/oai", {"resumptionToken": token}, [Reply(page2)])
    assert harvest_arxiv(store, settings, "cs", *december).added == 3
    assert [r.params for r in replay.requests] == [
        {"verb": "ListRecords", "resumptionToken": token}
    ]
    assert store.count_papers() == 9


@pytest.mark.skipif(not POSTGRES_URL, reason="needs PAPERFEED_TEST_POSTGRES_URL")
def test_postgres_with_every_pooled_connection_taken_is_busy_too(postgres_template):
    """PostgreSQL has no file lock; its 'busy' is a pool with no free connection."""
    url = new_postgres_database(postgres_template)
    store = open_store(url, pool_size=1, busy_timeout_s=BUSY_S)
    holding, done = threading.Event(), threading.Event()

    def hold_the_only_connection() -> None:
        with store.transaction():
            store.upsert_papers([make_paper("2606.00001")])
            holding.set()
            done.wait(10)

    holder = threading.Thread(target=hold_the_only_connection)
    holder.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        with pytest.raises(StoreBusy, match=r"no free connection for 0\.3 s"):
            store.upsert_papers([make_paper("2606.00002")])
        assert time.monotonic() - started < 2
    finally:
        done.set()
        holder.join(10)
    store.upsert_papers([make_paper("2606.00002")])
    assert store.count_papers() == 2
    store.close()
    drop_postgres_database(url)
