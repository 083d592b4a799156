"""Benchmark: deliver 10,000 digests over SMTP to a local sink; messages/s and peak memory.

Run with `make bench-deliver` (or `.venv/bin/python bench/digest_deliver.py [--messages N]
[--sink aiosmtpd|minimal|both] [--profile]`).

The queue is built the way `paperfeed digest send` builds it, in its own process: the dump's
696 papers listed in the three days to Tuesday 30 June 2026 are upserted, N active subscribers
are created (most with one or two categories, so digests differ), and compose_digests plans,
renders and queues one daily digest each (data/bench/deliver.db). Each sink then gets a copy.

What is timed is deliver_due(store, SMTP transport, now) in a fresh process, so its peak memory
is delivery's alone: claim batches under a lease, send each message over one reused smtplib
connection, record each as sent. The sink runs on 127.0.0.1 in another process (no shared GIL)
and counts messages, bytes and distinct Message-IDs; a run fails unless exactly N distinct
messages arrived. Two sinks: aiosmtpd, and a minimal one that takes DATA in bulk, because
aiosmtpd itself tops out near 300 digests/s (see MinimalSink). `--profile` prints where the
delivery's time goes (cProfile).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gzip
import json
import multiprocessing
import pstats
import re
import resource
import shutil
import socket
import sqlite3
import sys
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiosmtpd
from aiosmtpd.smtp import SMTP

from machine import describe
from paperfeed.config import Settings
from paperfeed.digest.send import compose_digests
from paperfeed.ingest.jsonl import parse_record
from paperfeed.mail.mailer import deliver_due, transport_for
from paperfeed.models import Paper, Preferences
from paperfeed.search.searcher import open_searcher
from paperfeed.storage import open_store

REPO = Path(__file__).resolve().parents[1]
DUMP = REPO.parent / "shared" / "data" / "arxiv-cs-daily" / "papers.jsonl.gz"
WORK = REPO / "data" / "bench"
DB = WORK / "deliver.db"  # the queue as composed; each sink gets a copy to deliver
SINKS = ("aiosmtpd", "minimal")
DAY = date(2026, 6, 30)
NOW = datetime(2026, 6, 30, 7, 0, tzinfo=UTC)
# A subscriber's categories, by subscriber number modulo the list: () is everything.
CATEGORY_MIX: list[tuple[str, ...]] = [
    (),
    ("cs.LG",),
    ("cs.CV",),
    ("cs.CL",),
    ("cs.AI", "cs.LG"),
    (),
    ("cs.RO",),
    ("cs.CR",),
    ("cs.SE", "cs.PL"),
    ("cs.IR", "cs.CL"),
]
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def settings_for(db: Path, port: int = 25) -> Settings:
    return Settings(
        database_url=f"sqlite:///{db}",
        smtp_url=f"smtp://127.0.0.1:{port}",
        mail_from="paperfeed <digest@papers.example.org>",
        base_url="https://papers.example.org",
        secret_key="bench-7Hq2xVn9LpR4tWc8ZkYd3MfJs6GbN5aEuQ1o",
    )


def free_port() -> int:
    # aiosmtpd 1.4.6's Controller.start() fails with port=0, so pick one first.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- the SMTP sinks (each in its own process) ------------------------------------------------


class Inbox:
    """Counts what arrives and keeps the Message-IDs, not the messages."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.ids: set[bytes] = set()
        self.without_id = 0

    def receive(self, data: bytes) -> None:
        self.sizes.append(len(data))
        end = _HEADER_END.search(data)
        found = _MESSAGE_ID.search(data, 0, end.start() if end else len(data))
        if found:
            self.ids.add(found.group(1))
        else:
            self.without_id += 1

    async def handle_DATA(self, server, session, envelope) -> str:
        """aiosmtpd's handler hook."""
        self.receive(envelope.original_content or envelope.content)
        return "250 OK"


class MinimalSink(asyncio.Protocol):
    """Just enough SMTP for smtplib's sendmail, taking DATA in bulk.

    aiosmtpd reads DATA a line at a time (asyncio readuntil per line, ~400 lines per digest),
    which costs ~3 ms of CPU per message and caps it near 300 messages/s on this hardware: this
    sink shows what the sender does when the server is not the limit, as a real MTA is not.
    """

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.buffer = bytearray()
        self.in_data = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None:
            if self.in_data:
                # Searching from the start is fine: a digest arrives in a few reads.
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    return
                self.inbox.receive(bytes(self.buffer[: end + 2]))
                del self.buffer[: end + 5]
                self.in_data = False
                self.transport.write(b"250 OK\r\n")
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return
            verb = bytes(self.buffer[:4]).upper()
            del self.buffer[: end + 2]
            if verb == b"EHLO":
                self.transport.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                self.in_data = True
                self.transport.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            elif verb == b"QUIT":
                self.transport.write(b"221 Bye\r\n")
                self.transport.close()
                self.transport = None
            else:  # HELO, MAIL, RCPT, RSET, NOOP
                self.transport.write(b"250 OK\r\n")


def run_sink(kind: str, port: int, ready, stop, results) -> None:
    inbox = Inbox()
    factory = (lambda: SMTP(inbox)) if kind == "aiosmtpd" else (lambda: MinimalSink(inbox))
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(factory, "127.0.0.1", port))
    cpu_before = cpu_s()
    ready.set()
    loop.run_until_complete(loop.run_in_executor(None, stop.wait))
    server.close()
    loop.run_until_complete(server.wait_closed())
    loop.close()
    results.put(
        {
            "sizes": sorted(inbox.sizes),
            "distinct_ids": len(inbox.ids),
            "without_id": inbox.without_id,
            "peak_rss_mb": peak_rss_mb(),
            "cpu_s": cpu_s() - cpu_before,
        }
    )


# -- building the queue (its own process) ----------------------------------------------------


def window_papers(since: date, until: date) -> list[Paper]:
    papers = []
    with gzip.open(DUMP, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if since.isoformat() <= record["published"][:10] <= until.isoformat():
                papers.append(parse_record(record).paper)
    return papers


def build_queue(count: int, results) -> None:
    """Papers, `count` active subscribers and their composed digests, queued in `DB`."""
    settings = settings_for(DB)
    store = open_store(settings.database_url)
    started = time.perf_counter()
    papers = window_papers(DAY - timedelta(days=2), DAY)
    store.upsert_papers(papers)
    loaded_s = time.perf_counter() - started

    started = time.perf_counter()
    for n in range(count):
        preferences = Preferences(categories=CATEGORY_MIX[n % len(CATEGORY_MIX)])
        subscriber = store.create_subscriber(f"reader{n:06d}@example.net", preferences, NOW)
        store.save_subscriber(replace(subscriber, status="active", confirmed_at=NOW), NOW)
    subscribers_s = time.perf_counter() - started

    searcher = open_searcher(settings, store, None)  # keyword only: no subscriber has topics
    started = time.perf_counter()
    report = compose_digests(store, searcher, settings, NOW, day=DAY)
    compose_s = time.perf_counter() - started
    store.close()
    results.put(
        {
            "papers": len(papers),
            "loaded_s": loaded_s,
            "subscribers_s": subscribers_s,
            "compose_s": compose_s,
            "summary": report.summary(),
            "queued": report.saved,
            "peak_rss_mb": peak_rss_mb(),
        }
    )


# -- delivering (its own process) ----------------------------------------------------------


def run_delivery(db: Path, port: int, profile: bool, results) -> None:
    """What is measured: deliver_due over SMTP until the queue is empty."""
    store = open_store(settings_for(db, port).database_url)
    transport = transport_for(settings_for(db, port))
    profiler = cProfile.Profile() if profile else None
    cpu_before = cpu_s()
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    report = deliver_due(store, transport, NOW)
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - started
    cpu = cpu_s() - cpu_before
    counts = dict(sorted(store.mail_status().counts.items()))
    store.close()
    if profiler:
        for order in ("tottime", "cumulative"):
            print(f"  profile of the delivery, top 25 by {order}:")
            stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs().sort_stats(order)
            stats.print_stats(25)
        sys.stdout.flush()
    results.put(
        {
            "sent": report.sent,
            "summary": report.summary(),
            "elapsed_s": elapsed,
            "cpu_s": cpu,
            "counts": counts,
            "peak_rss_mb": peak_rss_mb(),
        }
    )


# -- the benchmark ---------------------------------------------------------------------------


def in_process(context, target, *args):
    """Run target(*args, results) in a fresh process and return what it put in `results`."""
    results = context.Queue()
    process = context.Process(target=target, args=(*args, results))
    process.start()
    found = results.get()
    process.join()
    if process.exitcode != 0:
        raise SystemExit(f"{target.__name__} failed with exit code {process.exitcode}")
    return found


def database_files(db: Path) -> list[Path]:
    return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]


def database_mb(db: Path) -> float:
    return sum(path.stat().st_size for path in database_files(db) if path.exists()) / 1e6


def fresh_work_files() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    for db in (DB, *(WORK / f"deliver-{kind}.db" for kind in SINKS)):
        for path in database_files(db):
            path.unlink(missing_ok=True)
    shutil.rmtree(DB.with_name(DB.stem + ".search"), ignore_errors=True)


def build(context, count: int) -> bool:
    """Queue `count` digests in DB; False when fewer were queued."""
    started = time.perf_counter()
    queue = in_process(context, build_queue, count)
    print(
        f"queue:    {queue['queued']:,} digests in {time.perf_counter() - started:.1f} s "
        f"(papers {queue['loaded_s']:.1f} s, subscribers {queue['subscribers_s']:.1f} s, "
        f"compose and queue {queue['compose_s']:.1f} s = "
        f"{queue['queued'] / queue['compose_s']:,.0f} digests/s)"
    )
    print(f"          {queue['papers']} papers listed 28-30 Jun 2026; {queue['summary']}")
    print(
        f"          database {database_mb(DB):.0f} MB; builder peak memory "
        f"{queue['peak_rss_mb']:.0f} MB"
    )
    if queue["queued"] != count:
        print(f"FAILED: {queue['queued']:,} digests queued, expected {count:,}")
        return False
    return True


def measure(context, kind: str, expected: int, profile: bool) -> bool:
    """Deliver a copy of the queue to a `kind` sink; True when each message arrived once."""
    db = WORK / f"deliver-{kind}.db"
    shutil.copyfile(DB, db)
    port = free_port()
    ready, stop, sink_results = context.Event(), context.Event(), context.Queue()
    sink = context.Process(target=run_sink, args=(kind, port, ready, stop, sink_results))
    sink.start()
    if not ready.wait(30):
        sink.terminate()
        print(f"FAILED: the {kind} sink did not start")
        return False
    print(f"to the {kind} sink:")
    try:
        sent = in_process(context, run_delivery, db, port, profile)
    finally:
        stop.set()
        got = sink_results.get(timeout=60)
        sink.join()
    elapsed, sizes = sent["elapsed_s"], got["sizes"]
    print(
        f"  delivery: {sent['sent']:,} sent in {elapsed:.1f} s = "
        f"{sent['sent'] / elapsed:,.0f} messages/s, {sum(sizes) / 1e6 / elapsed:.1f} MB/s"
        + (" (under cProfile)" if profile else "")
    )
    print(
        f"  sender:   CPU {sent['cpu_s']:.1f} s ({100 * sent['cpu_s'] / elapsed:.0f}% of one "
        f"core), peak memory {sent['peak_rss_mb']:.0f} MB; {sent['summary']}"
    )
    print(
        f"  sink:     {len(sizes):,} messages, {sum(sizes) / 1e6:.1f} MB, "
        f"{got['distinct_ids']:,} distinct Message-IDs, CPU {got['cpu_s']:.1f} s "
        f"({100 * got['cpu_s'] / elapsed:.0f}% of one core), peak memory "
        f"{got['peak_rss_mb']:.0f} MB"
    )
    if sizes:
        print(
            f"            message size: mean {sum(sizes) / len(sizes) / 1000:.1f} KB, "
            f"min {sizes[0] / 1000:.1f}, median {sizes[len(sizes) // 2] / 1000:.1f}, "
            f"max {sizes[-1] / 1000:.1f} KB"
        )
    print(f"  queue after: {sent['counts']}; database {database_mb(db):.0f} MB")
    for path in database_files(db):  # a copy per sink; the composed queue stays in DB
        path.unlink(missing_ok=True)
    if not (
        sent["sent"] == expected
        and len(sizes) == expected
        and got["distinct_ids"] == expected
        and got["without_id"] == 0
        and sent["counts"] == {"sent": expected}
    ):
        print(f"  FAILED: expected {expected:,} messages sent and received, each once")
        return False
    print("  ok: every message was received exactly once")
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--sink", choices=[*SINKS, "both"], default="both")
    parser.add_argument("--profile", action="store_true", help="run the delivery under cProfile")
    args = parser.parse_args()
    if not DUMP.exists():
        print(f"skipped: {DUMP} not found (the shared data set is not on this machine)")
        return 0
    versions = (f"SQLite {sqlite3.sqlite_version}", f"aiosmtpd {aiosmtpd.__version__}")
    print(f"machine: {describe(*versions)}", flush=True)
    fresh_work_files()
    context = multiprocessing.get_context("spawn")
    if not build(context, args.messages):
        return 1
    ok = True
    for kind in SINKS if args.sink == "both" else (args.sink,):
        sys.stdout.flush()
        ok = measure(context, kind, args.messages, args.profile) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
