"""Benchmark: compose the digests of 100,000 subscribers (1-3 topics each) over one day of
about 1,500 new papers in the 74,728-paper catalog. Target: <= 60 s on this machine.

Run with `make bench-compose` (or `.venv/bin/python bench/digest_compose.py [--subscribers N]`).

Set-up (not timed): the catalog and indexes of bench/search_latency.py (74,728 real papers with
their all-MiniLM-L6-v2 vectors) are copied to data/bench/digest-compose.*. The dump lists about
230 papers a day, so the papers of its last six listing days (1,549) are re-dated to the last
one, 2026-07-01: one day of ~1,500 new papers. 100,000 active subscribers are written with one
executemany: each has 1-3 topics drawn (Zipf-like, as people pick popular subjects) from 3,000
phrases cut from real titles; a fifth also restrict to one or two categories. 3,000 of them vote
(20,000 votes on the day's papers), so the trending section has a signal.

Timed: `compose_digests` for 2026-07-01 exactly as `paperfeed digest send` runs it: choose each
subscriber's papers (trending, topic matches by hybrid search over the day's papers, never a
paper sent before), render the HTML and text parts, build the MIME message, and save digest rows,
digest papers and queued messages in transactions of 500. Delivery is bench/digest_deliver.py.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import shutil
import sqlite3
import sys
import time
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.policy import default

from machine import describe
from paperfeed.config import Settings
from paperfeed.digest.send import compose_digests
from paperfeed.embeddings import load_embedder
from paperfeed.search.searcher import open_searcher
from paperfeed.storage import open_store
from search_latency import DUMP, MODEL_DIR, WORK, build, ready_searcher

DAY = date(2026, 7, 1)
FIRST_DAY = date(2026, 6, 24)  # the six listing days re-dated to DAY
DB = WORK / "digest-compose.db"
INDEXES = WORK / "digest-compose.search"
CATEGORIES = ["cs.LG", "cs.CL", "cs.CV", "cs.AI", "cs.RO", "cs.CR", "cs.IR", "stat.ML"]


def topic_vocabulary(count: int, seed: int = 3) -> list[str]:
    """`count` distinct 2-4 word phrases cut from real titles."""
    rng = random.Random(seed)
    with gzip.open(DUMP / "papers.jsonl.gz", "rt", encoding="utf-8") as lines:
        titles = [json.loads(line)["title"] for line in lines]
    found: dict[str, None] = {}
    while len(found) < count:
        words = rng.choice(titles).split()
        size = rng.randint(2, 4)
        start = rng.randint(0, max(0, len(words) - size))
        phrase = " ".join(words[start : start + size]).strip(" ,.:;")
        if len(phrase) > 5:
            found[phrase] = None
    return list(found)


def prepare(subscribers: int) -> None:
    """Copy the latency benchmark's catalog, re-date one day's papers, add subscribers."""
    source = WORK / "latency-74728.db"
    if not source.exists():
        print("  building the 74,728-paper catalog first (bench/search_latency.py's)")
        store, settings, embedder, _ = build(74_728)
        ready_searcher(settings, store, embedder, "local")
        store.close()
    with sqlite3.connect(source) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for path in (DB, DB.with_name(DB.name + "-wal"), DB.with_name(DB.name + "-shm")):
        path.unlink(missing_ok=True)
    shutil.rmtree(INDEXES, ignore_errors=True)
    shutil.copy(source, DB)
    shutil.copytree(WORK / "latency-74728.search", INDEXES)
    store = open_store(f"sqlite:///{DB}")  # runs any newer migrations
    store.close()
    now = datetime(2026, 7, 1, 6, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    rng = random.Random(11)
    vocabulary = topic_vocabulary(3000)
    weights = [1 / (rank + 10) for rank in range(len(vocabulary))]
    rows = []
    for n in range(subscribers):
        topics = list(dict.fromkeys(rng.choices(vocabulary, weights, k=rng.randint(1, 3))))
        categories = rng.sample(CATEGORIES, rng.randint(1, 2)) if rng.random() < 0.2 else []
        rows.append(
            (
                f"reader{n:06d}@example.org",
                json.dumps(topics),
                json.dumps(categories),
                now,
                now,
                now,
            )
        )
    with sqlite3.connect(DB) as conn:
        rev = conn.execute("SELECT max(rev) + 1 FROM papers").fetchone()[0]
        moved = conn.execute(
            "UPDATE papers SET listed = ?, rev = ? WHERE listed BETWEEN ? AND ?",
            (DAY.isoformat(), rev, FIRST_DAY.isoformat(), DAY.isoformat()),
        ).rowcount
        conn.executemany(
            "INSERT INTO subscribers (email, status, frequency, topics, categories, "
            "max_papers, created_at, confirmed_at, updated_at) "
            "VALUES (?, 'active', 'daily', ?, ?, 10, ?, ?, ?)",
            rows,
        )
    print(f"  {moved:,} papers listed on {DAY}; {subscribers:,} subscribers")
    store = open_store(f"sqlite:///{DB}")
    day_pks = [p.pk for p in store.listed_papers(DAY, DAY, "date", 5000)]
    voted = 0
    started = time.perf_counter()
    for _ in range(20_000):
        voter = rng.randint(1, 3000)
        paper = day_pks[min(int(rng.paretovariate(1.2)) - 1, len(day_pks) - 1)]
        store.set_vote(voter, paper, True, datetime(2026, 7, 1, 5, tzinfo=UTC))
        voted += 1
    print(f"  {voted:,} votes cast ({(time.perf_counter() - started) / voted * 1000:.2f} ms each)")
    store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument(
        "--processes", type=int, default=0, help="composing processes (0: one per core)"
    )
    args = parser.parse_args()
    if not DUMP.exists():
        print(f"skipped: {DUMP} not found (the shared data set is not on this machine)")
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"machine: {describe()}")
    prepare(args.subscribers)
    settings = Settings(
        database_url=f"sqlite:///{DB}",
        index_dir=str(INDEXES),
        model_dir=str(MODEL_DIR),
        secret_key="bench-secret-5b1e0c9d7a3f4e2b8c6d0a9f1e3b5c7d",
        base_url="https://papers.example.org",
        mail_from="paperfeed <digest@papers.example.org>",
    )
    store = open_store(settings.database_url)
    searcher = open_searcher(settings, store, load_embedder(settings))
    started = time.perf_counter()
    searcher.refresh()
    print(f"  indexes caught up in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    processes = args.processes or os.cpu_count() or 1
    report = compose_digests(
        store, searcher, settings, datetime(2026, 7, 1, 7, tzinfo=UTC), DAY, processes=processes
    )
    elapsed = time.perf_counter() - started
    print(f"  {processes} composing processes (PAPERFEED_DIGEST_PROCESSES)")
    print(
        f"composed {report.composed:,} digests in {elapsed:.1f} s "
        f"({elapsed / max(report.composed, 1) * 1000:.2f} ms each; target <= 60 s)"
    )
    print(f"  {report.summary()}")
    for name, seconds in sorted(report.seconds.items(), key=lambda item: -item[1]):
        print(f"  {name:<14} {seconds:6.1f} s")
    with sqlite3.connect(DB) as conn:
        count, size = conn.execute(
            "SELECT count(*), sum(length(d.data)) FROM outgoing_mail m JOIN outgoing_mail_data d "
            "ON d.mail_id = m.id WHERE m.kind = 'digest'"
        ).fetchone()
        papers = conn.execute("SELECT count(*) FROM digest_papers").fetchone()[0]
        sample = conn.execute(
            "SELECT data FROM outgoing_mail_data ORDER BY mail_id LIMIT 1"
        ).fetchone()[0]
    message = message_from_bytes(sample, policy=default)
    html = message.get_body(("html",)).get_content()
    print(
        f"  queued {count:,} messages, {size / count / 1024:.1f} KB each on average, "
        f"{papers / count:.1f} papers each; HTML {len(html.encode()) / 1024:.1f} KB"
    )
    print(f"  sample subject: {message['Subject']}")
    print(
        f"  peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
        f"(largest composing process "
        f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB); "
        f"database {DB.stat().st_size / 2**20:.0f} MB"
    )
    if count != report.composed:
        print("error: queued messages do not match composed digests")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
