"""Benchmark: compose the digests of 100,000 subscribers (1-3 topics each) over one day of
about 1,500 new papers in the 74,728-paper catalog, on SQLite and on PostgreSQL. Target: <= 60 s
on this machine.

Run with `make bench-compose` (or `.venv/bin/python bench/digest_compose.py [--subscribers N]
[--backend sqlite postgres] [--runs forked workers] [--postgres-url URL]`).

Set-up (not timed), the same world on each backend: a fresh copy (bench/catalog_copy.py) of the
catalog and indexes of bench/search_latency.py (74,728 real papers with their all-MiniLM-L6-v2
vectors). The dump lists about 230 papers a day, so the papers of its last six listing days
(1,549) are re-dated to the last one, 2026-07-01: one day of ~1,500 new papers. 100,000 active
subscribers are written in one batch: each has 1-3 topics drawn (Zipf-like, as people pick
popular subjects) from 3,000 phrases cut from real titles; a fifth also restrict to one or two
categories. 3,000 of them vote (20,000 votes on the day's papers), so the trending section has
a signal.

Timed: composing the digests for 2026-07-01 as `paperfeed digest send` does (choose each
subscriber's papers: trending, topic matches by hybrid search over the day's papers, never a
paper sent before; render the HTML and text parts, build the MIME message, and save digest
rows, digest papers and queued messages in transactions of 500), in two ways (`--runs`):
- forked: one `compose_digests` sharing the work among `--processes` forked processes (the
  default of `digest send`: one per core);
- workers: two independent processes, each with its own store and searcher (as two
  `paperfeed worker`s on two machines), each running `compose_digests` with `--processes`
  forked processes, both at the same moment.
Each run starts from a fresh world and is checked afterwards: exactly one digest and one queued
message per subscriber. Delivery is bench/digest_deliver.py.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gzip
import json
import multiprocessing
import os
import random
import resource
import sqlite3
import sys
import threading
import time
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.policy import default
from typing import Any

from catalog_copy import add_backend_options, chosen_backends, copy_catalog, versions
from machine import describe
from paperfeed.config import Settings
from paperfeed.digest.send import DigestReport, compose_digests
from paperfeed.embeddings import load_embedder
from paperfeed.models import SearchFilters
from paperfeed.search.query import parse_query
from paperfeed.search.searcher import Searcher, open_searcher
from paperfeed.storage import Store, open_store
from paperfeed.storage.urls import is_postgres, sqlite_path
from search_latency import DUMP, WORK

DAY = date(2026, 7, 1)
FIRST_DAY = date(2026, 6, 24)  # the six listing days re-dated to DAY
NOW = datetime(2026, 7, 1, 7, tzinfo=UTC)
CATEGORIES = ["cs.LG", "cs.CL", "cs.CV", "cs.AI", "cs.RO", "cs.CR", "cs.IR", "stat.ML"]
RUNS = ("forked", "workers")
SECRET_KEY = "bench-secret-5b1e0c9d7a3f4e2b8c6d0a9f1e3b5c7d"
INDEX_WAIT_S = 600.0


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


def subscriber_rows(count: int, rng: random.Random) -> list[tuple[str, list[str], list[str]]]:
    """(email, topics, categories) of `count` subscribers, the same on every backend."""
    vocabulary = topic_vocabulary(3000)
    weights = [1 / (rank + 10) for rank in range(len(vocabulary))]
    rows = []
    for n in range(count):
        topics = list(dict.fromkeys(rng.choices(vocabulary, weights, k=rng.randint(1, 3))))
        categories = rng.sample(CATEGORIES, rng.randint(1, 2)) if rng.random() < 0.2 else []
        rows.append((f"reader{n:06d}@example.org", topics, categories))
    return rows


def prepare(subscribers: int, server_url: str | None) -> tuple[Settings, int]:
    """A fresh world on SQLite (no server) or PostgreSQL: settings for it and how many
    papers are listed on DAY."""
    settings = dataclasses.replace(
        copy_catalog("digest-compose", server_url),
        secret_key=SECRET_KEY,
        base_url="https://papers.example.org",
        mail_from="paperfeed <digest@papers.example.org>",
    )
    open_store(settings.database_url).close()  # runs any newer migrations
    rng = random.Random(11)
    rows = subscriber_rows(subscribers, rng)
    if server_url is None:
        moved = _write_sqlite(settings.database_url, rows)
    else:
        moved = _write_postgres(settings.database_url, rows)
    print(f"  {moved:,} papers listed on {DAY}; {subscribers:,} subscribers")
    store = open_store(settings.database_url)
    day_pks = [p.pk for p in store.listed_papers(DAY, DAY, "date", 5000)]
    voters = [int(row[0]) for row in _rows(settings.database_url, VOTERS_SQL)]
    started = time.perf_counter()
    # 100 votes a transaction: a commit each takes ~100 s on PostgreSQL, and one transaction
    # for all is slower still (each recount of a popular paper walks the row versions that
    # the transaction left behind).
    for _ in range(200):
        with store.transaction():
            for _ in range(100):
                voter = voters[rng.randint(1, len(voters)) - 1]
                paper = day_pks[min(int(rng.paretovariate(1.2)) - 1, len(day_pks) - 1)]
                store.set_vote(voter, paper, True, datetime(2026, 7, 1, 5, tzinfo=UTC))
    print(f"  20,000 votes cast by {len(voters):,} voters ({time.perf_counter() - started:.1f} s)")
    store.close()
    return settings, moved


VOTERS_SQL = "SELECT id FROM subscribers ORDER BY id LIMIT 3000"
_INSERT = (
    "INSERT INTO subscribers (email, status, frequency, topics, categories, "
    "max_papers, created_at, confirmed_at, updated_at) "
    "VALUES ({0}, 'active', 'daily', {0}, {0}, 10, {0}, {0}, {0})"
)


def _write_sqlite(url: str, rows: list[tuple[str, list[str], list[str]]]) -> int:
    now = datetime(2026, 7, 1, 6, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with contextlib.closing(sqlite3.connect(str(sqlite_path(url)))) as conn, conn:
        rev = conn.execute("SELECT max(rev) + 1 FROM papers").fetchone()[0]
        moved = conn.execute(
            "UPDATE papers SET listed = ?, rev = ? WHERE listed BETWEEN ? AND ?",
            (DAY.isoformat(), rev, FIRST_DAY.isoformat(), DAY.isoformat()),
        ).rowcount
        conn.executemany(
            _INSERT.format("?"),
            [(e, json.dumps(t), json.dumps(c), now, now, now) for e, t, c in rows],
        )
    return int(moved)


def _write_postgres(url: str, rows: list[tuple[str, list[str], list[str]]]) -> int:
    import psycopg

    from paperfeed.storage.postgres.database import REV_SQL

    now = datetime(2026, 7, 1, 6, tzinfo=UTC)
    with psycopg.connect(url) as conn:
        # The change feed follows rev: the writing transaction's id, as the store stamps it.
        moved = conn.execute(
            f"UPDATE papers SET listed = %s, day = %s, rev = {REV_SQL} "
            "WHERE listed BETWEEN %s AND %s",
            (DAY, DAY, FIRST_DAY, DAY),
        ).rowcount
        conn.cursor().executemany(
            _INSERT.format("%s"), [(e, t, c, now, now, now) for e, t, c in rows]
        )
    return int(moved)


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """The rows of one read, on either backend (SQL both understand, no parameters)."""
    if is_postgres(url):
        import psycopg

        with psycopg.connect(url) as conn:
            return list(conn.execute(sql).fetchall())
    with contextlib.closing(sqlite3.connect(str(sqlite_path(url)))) as conn:
        return list(conn.execute(sql).fetchall())


def caught_up_searcher(settings: Settings, moved: int) -> tuple[Store, Searcher]:
    """The store and a searcher whose indexes hold the re-dated day. On PostgreSQL the change
    feed hands out a change only once every older transaction in the cluster has ended, so a
    long transaction elsewhere on the server (another benchmark loading) holds it back."""
    store = open_store(settings.database_url, pool_size=settings.database_pool_size)
    searcher = open_searcher(settings, store, load_embedder(settings))
    started = time.perf_counter()
    day = SearchFilters(since=DAY, until=DAY)
    while True:
        searcher.refresh()
        indexed = len(searcher.keyword.matching_pks(parse_query(""), day, 10 * moved) or [])
        if indexed >= moved:
            break
        if time.perf_counter() - started > INDEX_WAIT_S:
            raise SystemExit(f"the indexes hold {indexed:,} of the day's {moved:,} papers")
        time.sleep(5)
    return store, searcher


def run_forked(settings: Settings, moved: int, processes: int) -> tuple[float, list[DigestReport]]:
    """One compose_digests, its work shared among `processes` forked processes."""
    store, searcher = caught_up_searcher(settings, moved)
    started = time.perf_counter()
    report = compose_digests(store, searcher, settings, NOW, DAY, processes=processes)
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed, [report]


def run_workers(
    settings: Settings, moved: int, processes: int, count: int = 2
) -> tuple[float, list[DigestReport]]:
    """`count` independent processes (spawned: nothing shared but the database), each
    composing what is due with `processes` forked processes; timed from the moment all are
    ready."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(count + 1)
    results = context.Queue()
    children = [
        context.Process(target=_worker, args=(settings, moved, processes, start, results))
        for _ in range(count)
    ]
    for child in children:
        child.start()
    # A worker that fails getting ready breaks the barrier; its message is in the queue.
    with contextlib.suppress(threading.BrokenBarrierError):
        start.wait(timeout=INDEX_WAIT_S + 300)
    started = time.perf_counter()
    reports = [results.get() for _ in children]
    elapsed = time.perf_counter() - started
    for child in children:
        child.join()
    failed = [r for r in reports if isinstance(r, str)]
    if failed:
        raise SystemExit("a composing worker failed:\n" + "\n".join(failed))
    return elapsed, reports


def _worker(settings: Settings, moved: int, processes: int, start: Any, results: Any) -> None:
    try:
        store, searcher = caught_up_searcher(settings, moved)
        start.wait()
        report = compose_digests(store, searcher, settings, NOW, DAY, processes=processes)
        store.close()
        results.put(report)
    except BaseException as exc:  # reported to the parent, which fails the run
        start.abort()
        results.put(f"{type(exc).__name__}: {exc}")


def check(settings: Settings, subscribers: int) -> tuple[bool, str]:
    """Whether each subscriber has exactly one digest and one queued message; a summary."""
    url = settings.database_url
    digests, distinct = _rows(url, "SELECT count(*), count(DISTINCT subscriber_id) FROM digests")[0]
    mail, to, ids, size = _rows(
        url,
        "SELECT count(*), count(DISTINCT m.subscriber_id), count(DISTINCT m.message_id), "
        "sum(length(d.data)) FROM outgoing_mail m JOIN outgoing_mail_data d ON d.mail_id = m.id "
        "WHERE m.kind = 'digest'",
    )[0]
    papers = _rows(url, "SELECT count(*) FROM digest_papers")[0][0]
    ok = digests == distinct == mail == to == ids == subscribers
    words = (
        f"{digests:,} digests for {distinct:,} subscribers, {mail:,} queued messages "
        f"({ids:,} distinct Message-IDs), {size / max(mail, 1) / 1024:.1f} KB and "
        f"{papers / max(digests, 1):.1f} papers each: "
        + ("exactly one each" if ok else f"MISMATCH (expected {subscribers:,})")
    )
    return ok, words


def describe_sample(settings: Settings) -> str:
    """The size of the first message's HTML part, and its subject."""
    data = _rows(
        settings.database_url, "SELECT data FROM outgoing_mail_data ORDER BY mail_id LIMIT 1"
    )
    message = message_from_bytes(bytes(data[0][0]), policy=default)
    html = message.get_body(("html",)).get_content()
    return f"HTML {len(html.encode()) / 1024:.1f} KB; sample subject: {message['Subject']}"


def database_size(settings: Settings) -> float:
    """MB the database takes on disk."""
    url = settings.database_url
    if is_postgres(url):
        size = _rows(url, "SELECT pg_database_size(current_database())")[0][0]
    else:
        size = os.path.getsize(str(sqlite_path(url)))
    return size / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument(
        "--processes", type=int, default=0, help="forked run: composing processes (0: one per core)"
    )
    parser.add_argument("--runs", nargs="+", choices=RUNS, default=list(RUNS))
    add_backend_options(parser)
    args = parser.parse_args()
    if not DUMP.exists():
        print(f"skipped: {DUMP} not found (the shared data set is not on this machine)")
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    backends = chosen_backends(args)
    postgres = args.postgres_url if "postgres" in backends else None
    print(f"machine: {describe(*versions(postgres))}")
    if not backends:
        return 0
    processes = args.processes or os.cpu_count() or 1
    labels = {
        "forked": f"compose_digests, {processes} forked processes",
        "workers": f"2 workers at once, {processes} processes each",
    }
    table: dict[tuple[str, str], str] = {}
    failed = False
    for backend in backends:
        for run in dict.fromkeys(args.runs):
            print(f"{backend}, {labels[run]}:")
            settings, moved = prepare(
                args.subscribers, args.postgres_url if backend == "postgres" else None
            )
            if run == "forked":
                elapsed, reports = run_forked(settings, moved, processes)
            else:
                elapsed, reports = run_workers(settings, moved, processes)
            composed = sum(r.composed for r in reports)
            saved = sum(r.saved for r in reports)
            print(
                f"  {saved:,} digests saved in {elapsed:.1f} s "
                f"({elapsed / max(saved, 1) * 1000:.2f} ms each; target <= 60 s); "
                f"{composed:,} composed"
            )
            for n, report in enumerate(reports, 1):
                who = "" if len(reports) == 1 else f"worker {n}: "
                print(f"  {who}{report.summary()}")
                for name, seconds in sorted(report.seconds.items(), key=lambda item: -item[1]):
                    print(f"    {name:<38} {seconds:6.1f} s")
            ok, words = check(settings, args.subscribers)
            failed |= not ok
            print(f"  {words}")
            print(f"  {describe_sample(settings)}")
            print(f"  database {database_size(settings):,.0f} MB")
            table[(backend, run)] = f"{elapsed:.1f} s" + ("" if ok else " (MISMATCH)")
    usage = resource.getrusage
    print(
        f"peak memory {usage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
        f"(largest composing process {usage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB)"
    )
    columns = list(dict.fromkeys(backend for backend, _ in table))
    print(f"\n{args.subscribers:,} digests, wall time:")
    print(f"  {'':<40}" + "".join(f"{b:>14}" for b in columns))
    for run in dict.fromkeys(args.runs):
        print(f"  {labels[run]:<40}" + "".join(f"{table.get((b, run), '-'):>14}" for b in columns))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
