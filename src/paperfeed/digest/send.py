"""Compose every due digest and queue it, then deliver the queue: `paperfeed digest send`.

Exactly once, as far as SMTP allows: a digest's row, its papers and its queued message are
saved in one transaction, keyed by (subscriber, period), so a rerun or a second process
composes nothing twice; the mail queue then sends each message once (a sender killed mid-send
leaves only that one message to be sent again, with the same Message-ID).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

from paperfeed.config import Settings
from paperfeed.digest.content import DigestPlan, PeriodPapers, TopicMatcher, plan_digest
from paperfeed.digest.render import DigestRenderer
from paperfeed.digest.schedule import DigestPeriod, due_day, period_for
from paperfeed.mail.mailer import DeliveryReport, deliver_due, transport_for
from paperfeed.models import DigestRecord, Subscriber
from paperfeed.people.subscriptions import list_links
from paperfeed.search.searcher import Searcher
from paperfeed.storage import Store

log = logging.getLogger("paperfeed.digest")
SAVE_BATCH = 500


@dataclass
class DigestReport:
    """What a run did, for the CLI and the worker's log."""

    due: int = 0
    composed: int = 0
    saved: int = 0
    empty: int = 0
    done_before: int = 0
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
) -> DigestReport:
    """Compose and queue every due digest not composed before (nothing is saved on a dry run)."""
    report = DigestReport()
    clock = _Clock(report.seconds)
    with clock("prepare"):
        store.set_trend_half_life(settings.trending_half_life_hours)
        searcher.refresh()  # topic searches must see the papers ingested since it was opened
        renderer = DigestRenderer(settings)
        groups = due_periods(store.active_subscribers(), settings, now, day, respect_hour)
    for period, subscribers in sorted(groups.items(), key=lambda item: item[0].key):
        with clock("prepare"):
            done = store.digested(period.key)
            report.due += len(subscribers)
            todo = [s for s in subscribers if s.id not in done]
            report.done_before += len(subscribers) - len(todo)
            if not todo:
                continue
            pool = PeriodPapers(store, period.since, period.until)
            matcher = TopicMatcher(searcher, period, pool)
            sent = store.papers_sent(list(pool.by_pk))
        with clock("search topics"):
            matcher.prefetch(t for s in todo for t in s.preferences.topics)
        records: list[DigestRecord] = []
        for subscriber in todo:
            with clock("choose papers"):
                plan = plan_digest(
                    subscriber,
                    period,
                    pool,
                    matcher,
                    sent.get(subscriber.id, set()),
                    settings.digest_trending,
                )
            if plan is None:
                report.empty += 1
                continue
            report.composed += 1
            if dry_run:
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
        report.topics_searched += len(matcher)
        log.info("digests for %s: %d papers in the period", period.key, len(pool))
    return report


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
    """Compose what is due, then deliver the mail queue (digests and anything else waiting)."""
    report = compose_digests(store, searcher, settings, now, day, respect_hour, dry_run)
    if not dry_run:
        report.delivery = deliver_due(
            store, transport_for(settings), now, lease_s=settings.mail_lease_s
        )
    return report
