"""Compose every due digest and queue it, then deliver the queue: `paperfeed digest send`.

Exactly once, as far as SMTP allows: a digest's row, its papers and its queued message are
saved in one transaction, keyed by (subscriber, period), so a rerun or a second process
composes nothing twice; the mail queue then sends each message once (a sender killed mid-send
leaves only that one message to be sent again, with the same Message-ID).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
import traceback
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from multiprocessing.connection import Connection

from paperfeed.config import Settings
from paperfeed.digest.content import (
    DigestPlan,
    PeriodPapers,
    TopicMatcher,
    personal_papers,
    plan_digest,
)
from paperfeed.digest.render import DigestRenderer
from paperfeed.digest.schedule import DigestPeriod, due_day, period_for
from paperfeed.mail.mailer import DeliveryReport, deliver_due, transport_for
from paperfeed.models import DigestRecord, Subscriber
from paperfeed.people.subscriptions import list_links
from paperfeed.search.searcher import Searcher
from paperfeed.storage import Store, open_store

log = logging.getLogger("paperfeed.digest")
SAVE_BATCH = 500
PARALLEL_MIN = 2_000  # below this many digests, forking costs more than it saves


@dataclass
class DigestReport:
    """What a run did, for the CLI and the worker's log."""

    due: int = 0
    composed: int = 0
    saved: int = 0
    empty: int = 0
    done_before: int = 0
    elsewhere: int = 0  # due, but another process was composing their period
    topics_searched: int = 0
    plans: list[DigestPlan] = field(default_factory=list)  # kept only for dry runs
    seconds: dict[str, float] = field(default_factory=dict)  # where the time went
    delivery: DeliveryReport | None = None

    def summary(self) -> str:
        words = (
            f"due {self.due}: composed {self.composed} (queued {self.saved} new), "
            f"nothing new for {self.empty}, sent before {self.done_before}; "
            f"{self.topics_searched} topic searches"
        )
        if self.elsewhere:
            words += f"; {self.elsewhere} left to the process composing their period"
        if self.delivery is not None:
            words += f"; {self.delivery.summary()}"
        return words


def due_periods(
    subscribers: list[Subscriber],
    settings: Settings,
    now: datetime,
    day: date | None = None,
    respect_hour: bool = False,
) -> dict[DigestPeriod, list[Subscriber]]:
    """Subscribers grouped by the period of the digest due to them: on `day` when given,
    else on their own local date (once it is `settings.digest_hour` there, with respect_hour)."""
    groups: dict[DigestPeriod, list[Subscriber]] = defaultdict(list)
    hour = settings.digest_hour if respect_hour else None
    for subscriber in subscribers:
        their_day = day or due_day(subscriber.preferences, now, hour)
        if their_day is None:
            continue
        period = period_for(subscriber.preferences, their_day, settings.digest_weekly_day)
        if period is not None:
            groups[period].append(subscriber)
    return groups


def compose_digests(
    store: Store,
    searcher: Searcher,
    settings: Settings,
    now: datetime,
    day: date | None = None,
    respect_hour: bool = False,
    dry_run: bool = False,
    processes: int = 1,
    parallel_min: int = PARALLEL_MIN,
) -> DigestReport:
    """Compose and queue every due digest not composed before (nothing is saved on a dry run).

    With `processes` > 1 and at least `parallel_min` digests due in a period, that many
    forked processes share the rendering and saving (the topic searches are done once, before
    the fork); the store must then be the one `settings.database_url` names.
    """
    report = DigestReport()
    clock = _Clock(report.seconds)
    with clock("prepare"):
        store.set_trend_half_life(settings.trending_half_life_hours)
        searcher.refresh()  # topic searches must see the papers ingested since it was opened
        groups = due_periods(store.active_subscribers(), settings, now, day, respect_hour)
    for period, subscribers in sorted(groups.items(), key=lambda item: item[0].key):
        # One process composes a period at a time (on any machine): a second would render
        # every digest again only to drop it at saving. It uses all its cores (fork) instead.
        report.due += len(subscribers)
        with store.job_lock(f"digest-compose:{period.key}") as held:
            if not held and not dry_run:
                report.elsewhere += len(subscribers)
                continue
            with clock("prepare"):
                done = store.digested(period.key)
                todo = [s for s in subscribers if s.id not in done]
                report.done_before += len(subscribers) - len(todo)
                if not todo:
                    continue
                pool = PeriodPapers(store, period.since, period.until)
                matcher = TopicMatcher(searcher, period, pool)
                sent = store.papers_sent(list(pool.by_pk))
            with clock("search topics"):
                matcher.prefetch(t for s in todo for t in s.preferences.topics)
            job = _Shard(settings, period, pool, matcher, sent, now, dry_run)
            shards = processes if processes > 1 and not dry_run and len(todo) >= parallel_min else 1
            if shards > 1 and "fork" in multiprocessing.get_all_start_methods():
                with clock("compose in processes"):
                    parts = job.run_forked([todo[i::shards] for i in range(shards)])
            else:
                parts = [job.run(store, todo)]
            for part in parts:
                report.composed += part.composed
                report.saved += part.saved
                report.empty += part.empty
                report.plans += part.plans
                for name, seconds in part.seconds.items():
                    # Work done side by side in several processes: CPU seconds, summed.
                    label = name if shards == 1 else f"{name} (cpu, {shards} processes)"
                    report.seconds[label] = report.seconds.get(label, 0.0) + seconds
            report.topics_searched += len(matcher)
            log.info("digests for %s: %d papers in the period", period.key, len(pool))
    return report


@dataclass
class _Shard:
    """Composing the digests of one period, for some of its subscribers."""

    settings: Settings
    period: DigestPeriod
    pool: PeriodPapers
    matcher: TopicMatcher
    sent: dict[int, set[int]]
    now: datetime
    dry_run: bool

    def run(self, store: Store, subscribers: list[Subscriber]) -> DigestReport:
        report = DigestReport()
        clock = _Clock(report.seconds)
        settings, period, now = self.settings, self.period, self.now
        renderer = DigestRenderer(settings)
        records: list[DigestRecord] = []
        for subscriber in subscribers:
            with clock("choose papers"):
                budget = subscriber.preferences.max_papers
                personal = personal_papers(store, self.matcher.searcher, subscriber, period, budget)
                plan = plan_digest(
                    subscriber,
                    period,
                    self.pool,
                    self.matcher,
                    self.sent.get(subscriber.id, set()),
                    settings.digest_trending,
                    personal,
                )
            if plan is None:
                report.empty += 1
                continue
            report.composed += 1
            if self.dry_run:
                report.plans.append(plan)
                continue
            with clock("render"):
                mail = renderer.message(plan, list_links(settings, subscriber, now), now)
            records.append(DigestRecord(subscriber.id, period.key, plan.pks, mail))
            if len(records) >= SAVE_BATCH:
                with clock("save"):
                    report.saved += store.save_digests(records, now)
                records = []
        if records:
            with clock("save"):
                report.saved += store.save_digests(records, now)
        return report

    def run_forked(self, shards: list[list[Subscriber]]) -> list[DigestReport]:
        """run() for each shard in a forked process with its own database connection; the
        children inherit the searched topics and the period's papers."""
        context = multiprocessing.get_context("fork")
        pipes, children = [], []
        for shard in shards:
            receiver, sender = context.Pipe(duplex=False)
            child = context.Process(target=self._child, args=(shard, sender), daemon=True)
            child.start()
            sender.close()
            pipes.append(receiver)
            children.append(child)
        parts: list[DigestReport] = []
        failures: list[str] = []
        for receiver, child in zip(pipes, children, strict=True):
            try:
                outcome = receiver.recv()
            except EOFError:
                outcome = ("failed", f"a composing process died (exit code {child.exitcode})")
            child.join()
            if outcome[0] == "ok":
                parts.append(outcome[1])
            else:
                failures.append(outcome[1])
        if failures:
            raise RuntimeError("composing digests failed: " + "; ".join(failures))
        return parts

    def _child(self, shard: list[Subscriber], sender: Connection) -> None:
        try:
            store = open_store(
                self.settings.database_url,
                pool_size=self.settings.database_pool_size,
                busy_timeout_s=self.settings.database_busy_timeout_s,
            )
            try:
                sender.send(("ok", self.run(store, shard)))
            finally:
                store.close()
        except BaseException:  # reported to the parent, which raises it
            sender.send(("failed", traceback.format_exc(limit=5)))
        finally:
            sender.close()


class _Clock:
    """Adds the time spent in each `with clock(name):` to seconds[name]."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


def send_digests(
    store: Store,
    searcher: Searcher,
    settings: Settings,
    now: datetime,
    day: date | None = None,
    respect_hour: bool = False,
    dry_run: bool = False,
) -> DigestReport:
    """Compose what is due, then deliver the mail queue (digests and anything else waiting).

    Composes in PAPERFEED_DIGEST_PROCESSES processes (one per core by default) when thousands
    are due."""
    processes = settings.digest_processes or os.cpu_count() or 1
    report = compose_digests(
        store, searcher, settings, now, day, respect_hour, dry_run, processes=processes
    )
    if not dry_run:
        report.delivery = deliver_due(
            store, transport_for(settings), now, lease_s=settings.mail_lease_s
        )
    return report
