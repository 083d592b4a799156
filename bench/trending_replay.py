"""Benchmark: replay the 74,728 real papers day by day with synthetic votes; trending stays fast.

Run with `make bench-trending` (or `.venv/bin/python bench/trending_replay.py [--days N]`).

Each listing day of the arxiv-cs-daily dump (322 days), in order: that day's papers are upserted
in one call, then 2,000-5,000 seeded synthetic votes are cast one `set_vote` at a time (each its
own transaction, which also updates the paper's stored trending rank). Votes go to a few hundred
papers of the last 3 listing days, more to the newest, with heavy-tailed (Pareto) popularity, by
5,000 voters; about 5% take a vote back. Then the trending page (top 50 of the last 7 days) is
read 5 times at the end of the day.

Printed: per-day ingest time, time per vote (mean, p95), time per trending page (p50, p95), with
a progress line every 30 days so growth shows; at the end the totals, the time of a full re-rank
(what a change of the half-life setting costs), database size and peak memory. On every 10th day,
the last one and after the re-rank, the page is checked against the order computed directly with
paperfeed.trending.trend() from the votes cast; any difference exits non-zero.
The database is data/bench/trending-replay.db, made anew each run.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import random
import resource
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from machine import describe
from paperfeed.ingest.jsonl import parse_record
from paperfeed.listings import trending_listing
from paperfeed.models import Paper, Preferences
from paperfeed.storage import Store, open_store
from paperfeed.trending import trend

REPO = Path(__file__).resolve().parents[1]
DUMP = REPO.parent / "shared" / "data" / "arxiv-cs-daily" / "papers.jsonl.gz"
DB = REPO / "data" / "bench" / "trending-replay.db"
VOTERS = 5_000
PAGE = 50
WINDOW_DAYS = 7
READS_PER_DAY = 5
CHECK_EVERY_DAYS = 10
PROGRESS_EVERY_DAYS = 30
UNVOTE_SHARE = 0.05
RECENCY = (1.0, 0.4, 0.15)  # how likely a paper of today, yesterday, the day before gets votes
REL_TOLERANCE = 1e-9


class TrendingMismatch(Exception):
    """The trending page differs from the order computed directly from the votes cast."""


def papers_by_day(path: Path) -> Iterator[tuple[date, list[Paper]]]:
    """The dump's papers, a listing day at a time in date order, parsed as the ingest parses
    them (read as the replay goes, so peak memory is the store's, not the dump's)."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        papers = (parse_record(json.loads(line)).paper for line in lines)
        previous = date.min
        for day, group in itertools.groupby(papers, key=lambda paper: paper.listed):
            if day is None or day <= previous:
                raise ValueError(f"{path} is not sorted by listing day (at {day})")
            previous = day
            yield day, list(group)


def day_votes(
    rng: random.Random, recent: list[list[int]], voters: dict[int, set[int]], subscribers: list[int]
) -> list[tuple[int, int, bool]]:
    """One day's (subscriber, pk, on) votes on the papers of the last listing days (newest first
    in `recent`); un-votes pick someone who has voted for that paper (as the day goes on)."""
    weighted = [(pk, RECENCY[age]) for age, pks in enumerate(recent) for pk in pks]
    # Weighted sampling without replacement (Efraimidis-Spirakis keys).
    weighted.sort(key=lambda item: rng.random() ** (1.0 / item[1]), reverse=True)
    chosen = [pk for pk, _ in weighted[: rng.randint(200, 400)]]
    popularity = [rng.paretovariate(1.1) for _ in chosen]
    targets = rng.choices(chosen, weights=popularity, k=rng.randint(2_000, 5_000))
    planned = {pk: set(voters.get(pk, ())) for pk in chosen}
    out = []
    for pk in targets:
        if planned[pk] and rng.random() < UNVOTE_SHARE:
            subscriber = rng.choice(sorted(planned[pk]))
            planned[pk].discard(subscriber)
            out.append((subscriber, pk, False))
        else:
            subscriber = rng.choice(subscribers)
            planned[pk].add(subscriber)
            out.append((subscriber, pk, True))
    return out


def check_page(
    store: Store, now: datetime, upvotes: dict[int, int], day_of: dict[int, date]
) -> int:
    """Compare the trending page with the window's voted papers sorted by trend() directly;
    returns how many voted papers it shows."""
    listing = trending_listing(store, now, limit=PAGE, window_days=WINDOW_DAYS)
    half_life = store.trend_half_life()
    until = now.date()
    since = until - timedelta(days=WINDOW_DAYS)
    score = {
        pk: trend(votes, day_of[pk], now, half_life).score
        for pk, votes in upvotes.items()
        if votes > 0 and since <= day_of[pk] <= until
    }
    shown = [item.pk for item in listing.items]
    voted = [pk for pk in shown if pk in score]
    if shown[: len(voted)] != voted:
        raise TrendingMismatch(f"{now:%Y-%m-%d}: a paper without votes is shown above a voted one")
    if len(voted) != min(PAGE, len(score)):
        raise TrendingMismatch(
            f"{now:%Y-%m-%d}: {len(voted)} voted papers shown, expected {min(PAGE, len(score))}"
        )
    for item in listing.items:
        if item.pk in score and item.upvotes != upvotes[item.pk]:
            raise TrendingMismatch(
                f"{now:%Y-%m-%d}: paper {item.pk} shows {item.upvotes} votes, "
                f"cast {upvotes[item.pk]}"
            )
        shown_score = listing.trends[item.pk].score
        if abs(shown_score - score.get(item.pk, 0.0)) > REL_TOLERANCE * max(shown_score, 1.0):
            raise TrendingMismatch(
                f"{now:%Y-%m-%d}: paper {item.pk} shows score {shown_score}, "
                f"expected {score.get(item.pk, 0.0)}"
            )
    for above, below in itertools.pairwise(voted):
        if score[below] > score[above] * (1 + REL_TOLERANCE):
            raise TrendingMismatch(
                f"{now:%Y-%m-%d}: paper {below} (score {score[below]}) is shown below "
                f"paper {above} (score {score[above]})"
            )
    on_page = set(voted)
    left_out = [value for pk, value in score.items() if pk not in on_page]
    if voted and left_out and max(left_out) > score[voted[-1]] * (1 + REL_TOLERANCE):
        raise TrendingMismatch(
            f"{now:%Y-%m-%d}: a paper with score {max(left_out)} is missing from the page, "
            f"whose last score is {score[voted[-1]]}"
        )
    return len(voted)


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p50 = ordered[len(ordered) // 2] * 1000
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000
    return f"p50 {p50:6.2f} ms  p95 {p95:6.2f} ms"


def mean_p95(values: list[float]) -> str:
    """Mean and p95, plus p99 and max: a few slow commits (WAL checkpoints) pull the mean up."""
    ordered = sorted(values)
    p95, p99 = (ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000 for q in (0.95, 0.99))
    return (
        f"mean {sum(values) / len(values) * 1000:5.2f} ms  p95 {p95:5.2f} ms  "
        f"p99 {p99:5.2f} ms  max {ordered[-1] * 1000:5.0f} ms"
    )


@dataclass
class Votes:
    """What the replay has cast so far, kept apart from the store to check the store against."""

    upvotes: dict[int, int] = field(default_factory=dict)
    day_of: dict[int, date] = field(default_factory=dict)
    voters: dict[int, set[int]] = field(default_factory=dict)  # papers still taking votes only
    cast: int = 0
    repeated: int = 0
    taken_back: int = 0

    def record(self, subscriber: int, pk: int, on: bool, count: int) -> None:
        """Note one set_vote call; TrendingMismatch if the store counts differently."""
        self.cast += 1
        if on:
            self.repeated += subscriber in self.voters[pk]
            self.voters[pk].add(subscriber)
        else:
            self.taken_back += 1
            self.voters[pk].discard(subscriber)
        self.upvotes[pk] = len(self.voters[pk])
        if count != self.upvotes[pk]:
            raise TrendingMismatch(f"paper {pk} has {count} votes, {self.upvotes[pk]} were cast")


def replay(store: Store, days: Iterable[tuple[date, list[Paper]]], seed: int) -> None:
    rng = random.Random(seed)
    votes = Votes()
    subscribers: list[int] = []
    recent: list[list[int]] = []
    ingest_s: list[float] = []
    vote_s: list[float] = []
    read_s: list[float] = []
    checks = printed_votes = printed_reads = 0
    first = day = date.min
    end_of_day = datetime.min
    window = 0
    for number, (day, papers) in enumerate(days, start=1):
        midnight = datetime.combine(day, clock(0, 0), tzinfo=UTC)
        end_of_day = midnight + timedelta(days=1)
        if not subscribers:
            first = day
            subscribers = [
                store.create_subscriber(f"v{n}@example.org", Preferences(), midnight).id
                for n in range(VOTERS)
            ]
        start = time.perf_counter()
        store.upsert_papers(papers)
        ingest_s.append(time.perf_counter() - start)
        pks = list(store.pks_for_ids(paper.id for paper in papers).values())
        votes.day_of.update(dict.fromkeys(pks, day))
        recent = [pks, *recent][: len(RECENCY)]
        votes.voters = {pk: votes.voters.get(pk, set()) for group in recent for pk in group}
        plan = day_votes(rng, recent, votes.voters, subscribers)
        for n, (subscriber, pk, on) in enumerate(plan):
            now = midnight + timedelta(seconds=86_400 * n / len(plan))
            start = time.perf_counter()
            count = store.set_vote(subscriber, pk, on, now)
            vote_s.append(time.perf_counter() - start)
            votes.record(subscriber, pk, on, count)
        for _ in range(READS_PER_DAY):
            start = time.perf_counter()
            window = trending_listing(store, end_of_day, limit=PAGE, window_days=WINDOW_DAYS).total
            read_s.append(time.perf_counter() - start)
        if number % CHECK_EVERY_DAYS == 0:
            check_page(store, end_of_day, votes.upvotes, votes.day_of)
            checks += 1
        if number % PROGRESS_EVERY_DAYS == 0:
            _progress(
                number, day, votes, window, ingest_s, vote_s[printed_votes:], read_s[printed_reads:]
            )
            printed_votes, printed_reads = len(vote_s), len(read_s)
    if not ingest_s:
        raise ValueError("no days to replay")
    if len(ingest_s) % PROGRESS_EVERY_DAYS:
        _progress(
            len(ingest_s),
            day,
            votes,
            window,
            ingest_s,
            vote_s[printed_votes:],
            read_s[printed_reads:],
        )
    if len(ingest_s) % CHECK_EVERY_DAYS:
        check_page(store, end_of_day, votes.upvotes, votes.day_of)
        checks += 1
    print(f"days replayed:   {len(ingest_s)} listing days, {first} to {day}")
    print(f"per-day ingest:  {mean_p95(ingest_s)}  ({len(ingest_s)} upsert_papers calls)")
    print(f"per vote:        {mean_p95(vote_s)}  ({len(vote_s):,} set_vote calls)")
    print(f"trending page:   {percentiles(read_s)}  ({len(read_s):,} reads, top {PAGE})")
    print(
        f"votes:           {votes.cast:,} cast: "
        f"{votes.cast - votes.repeated - votes.taken_back:,} new, {votes.repeated:,} repeated, "
        f"{votes.taken_back:,} taken back; {sum(votes.upvotes.values()):,} standing on "
        f"{sum(1 for count in votes.upvotes.values() if count):,} papers"
    )
    print(f"papers:          {store.count_papers():,}")
    start = time.perf_counter()
    reranked = store.set_trend_half_life(36.0, force=True)
    print(
        f"full re-rank:    {(time.perf_counter() - start) * 1000:.0f} ms "
        f"({reranked:,} papers, half-life 24 h -> 36 h)"
    )
    check_page(store, end_of_day, votes.upvotes, votes.day_of)
    checks += 1
    print(f"checked:         {checks} trending pages against trend() computed directly: all equal")


def _progress(
    number: int,
    day: date,
    votes: Votes,
    window: int,
    ingest_s: list[float],
    vote_s: list[float],
    read_s: list[float],
) -> None:
    print(
        f"  day {number:3} {day}: {len(votes.day_of):6,} papers ({window:,} in the window), "
        f"{votes.cast:9,} votes; ingest {ingest_s[-1] * 1000:5.1f} ms\n"
        f"      vote {mean_p95(vote_s)}; trending {percentiles(read_s)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=None, help="replay only the first N days")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    if not DUMP.exists():
        print(f"skipped: {DUMP} not found (the shared data set is not on this machine)")
        return 0
    print(f"machine: {describe(f'SQLite {sqlite3.sqlite_version}')}")
    started = time.perf_counter()
    for path in (DB, DB.with_name(DB.name + "-wal"), DB.with_name(DB.name + "-shm")):
        path.unlink(missing_ok=True)
    store = open_store(f"sqlite:///{DB}")
    try:
        replay(store, itertools.islice(papers_by_day(DUMP), args.days), args.seed)
    except TrendingMismatch as exc:
        print(f"FAILED: the trending page is wrong: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"database size:   {DB.stat().st_size / 1e6:.1f} MB")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory:     {peak_mb:,.0f} MB")
    print(f"total time:      {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
