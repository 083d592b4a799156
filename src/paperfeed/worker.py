"""The worker: the jobs on a schedule (ingest, trending, digests, pruning sent mail, thumbnails).

Each ingest is followed by embedding, indexing and keyphrases of the new papers.

Any number of workers may run at once, on any machines sharing the database: a job that must
not run twice at once (ingest, prune) is done by whichever worker holds its job lock, and the
others skip it that cycle; digests are safe to compose and deliver side by side (each
subscriber's digest for a period is saved once; mail is claimed message by message).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from paperfeed.config import Settings
from paperfeed.digest.send import send_digests
from paperfeed.discussion.mail import send_discussion_mail
from paperfeed.ingest.harvest import harvest_arxiv
from paperfeed.ingest.http import SourceUnavailable
from paperfeed.ingest.oai import OaiError
from paperfeed.ingest.pipeline import IngestFailed, ingest_sources
from paperfeed.keywords.job import update_keywords
from paperfeed.mail.mailer import prune_sent_mail
from paperfeed.search.searcher import Searcher
from paperfeed.search.update import update_search
from paperfeed.storage import Store, StoreBusy
from paperfeed.thumbnails.job import make_thumbnails

PRUNE_EVERY = timedelta(days=1)
INGEST_LOCK = "worker-ingest"


@dataclass
class Schedule:
    """When this worker last ran its periodic jobs (None: not yet)."""

    last_ingest: datetime | None = None
    last_prune: datetime | None = None

    def due(self, last: datetime | None, every: timedelta, now: datetime) -> bool:
        return last is None or now - last >= every


def run_cycle(
    store: Store,
    searcher: Searcher,
    settings: Settings,
    now: datetime,
    schedule: Schedule,
    echo: Callable[[str], None],
) -> None:
    """One cycle at `now`: prune and ingest when due (unless another worker is at it), queue
    mail about new comments in followed discussions, then the digests due at
    PAPERFEED_DIGEST_HOUR, which also bring trending and search up to date (delivering the
    queue, discussion mail included), then (PAPERFEED_THUMBNAILS on) up to
    PAPERFEED_THUMBNAILS_PER_CYCLE thumbnails.

    A job that finds the database busy is reported and left for the next cycle (it wrote
    nothing half-way); the other jobs still run."""
    if schedule.due(schedule.last_prune, PRUNE_EVERY, now):
        try:
            pruned = prune_sent_mail(store, settings, now)
        except StoreBusy as exc:
            echo(f"prune: {exc}; next cycle")
        else:
            if pruned is None:
                echo("prune: another process is pruning; skipped")
            else:
                echo(f"pruned the bytes of {pruned} sent messages")
            schedule.last_prune = now
    every = timedelta(seconds=settings.worker_ingest_every_s)
    if settings.worker_sources and schedule.due(schedule.last_ingest, every, now):
        with store.job_lock(INGEST_LOCK) as held:
            if held:
                ingest_once(store, settings, searcher, echo)
            else:
                echo("ingest: another worker is ingesting; skipped")
        schedule.last_ingest = now
    try:
        discussed = send_discussion_mail(store, settings, now)
    except StoreBusy as exc:
        echo(f"discussion mail: {exc}; next cycle")
    else:
        if discussed.due:
            echo(discussed.summary())
    try:
        report = send_digests(store, searcher, settings, now, respect_hour=True)
    except StoreBusy as exc:
        echo(f"{now:%Y-%m-%d %H:%M} digests: {exc}; next cycle")
    else:
        echo(f"{now:%Y-%m-%d %H:%M} digests: {report.summary()}")
    if settings.thumbnails:
        # After the digests, which have an hour to keep: a batch of PDFs takes a minute or so.
        try:
            made = make_thumbnails(store, settings, now, settings.thumbnails_per_cycle)
        except StoreBusy as exc:
            echo(f"thumbnails: {exc}; next cycle")
        else:
            echo(made.summary())


def ingest_once(
    store: Store, settings: Settings, searcher: Searcher, echo: Callable[[str], None]
) -> None:
    """One ingest of every configured source; a failing source is reported, not fatal."""
    for source in settings.worker_sources.split():
        try:
            if source == "arxiv":
                report = harvest_arxiv(store, settings, settings.worker_arxiv_set, None, None)
            else:
                report = ingest_sources(store, [source], settings)
            echo(f"ingest {source}: {report.summary()}")
        except (IngestFailed, OaiError, SourceUnavailable, StoreBusy, OSError) as exc:
            echo(f"ingest {source} failed: {exc}")
    try:
        echo(update_search(searcher).summary())
    except StoreBusy as exc:
        echo(f"search update: {exc}; next cycle")
        return
    if searcher.embedder is not None:
        try:
            echo(update_keywords(store, searcher.embedder).summary())
        except StoreBusy as exc:
            echo(f"keyphrases: {exc}; next cycle")


def run_worker(
    store: Store,
    searcher: Searcher,
    settings: Settings,
    echo: Callable[[str], None],
    *,
    once: bool = False,
    interval: float = 60.0,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    stopping: Callable[[], bool] = lambda: False,
) -> None:
    """Cycles every `interval` seconds until `stopping()` (or after one, with `once`).
    `clock` gives each cycle's `now`."""
    schedule = Schedule()
    while True:
        run_cycle(store, searcher, settings, clock(), schedule, echo)
        if once or stopping():
            return
        deadline = time.monotonic() + interval
        while not stopping() and time.monotonic() < deadline:
            time.sleep(min(1.0, deadline - time.monotonic()))
        if stopping():
            return
