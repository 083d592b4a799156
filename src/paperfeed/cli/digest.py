"""Digest commands: `digest send` once, and `worker`, which runs ingest, trending and digests
on a schedule (paperfeed.worker)."""

from __future__ import annotations

import logging
import signal
from datetime import UTC, date, datetime
from types import FrameType

import click

from paperfeed.cli.context import get_settings, get_store, parse_day
from paperfeed.config import Settings
from paperfeed.digest.render import latex_to_text
from paperfeed.digest.send import DigestReport, send_digests
from paperfeed.people.secret_key import ensure_secret_key
from paperfeed.search.searcher import open_searcher
from paperfeed.worker import run_worker

log = logging.getLogger("paperfeed.worker")


def _settings(ctx: click.Context) -> Settings:
    return ensure_secret_key(get_settings(ctx), get_store(ctx))


@click.group()
def digest() -> None:
    """The email digest of trending papers and topic matches."""


@digest.command("send")
@click.option(
    "--date",
    "day",
    callback=parse_day,
    metavar="YYYY-MM-DD",
    help="Send the digests due on this day (default: each subscriber's today).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send and save nothing.")
@click.pass_context
def digest_send(ctx: click.Context, day: date | None, dry_run: bool) -> None:
    """Compose each due subscriber's digest, queue it and deliver the queue.

    Safe to run again, or twice at once: a subscriber gets one digest per period.
    """
    settings = _settings(ctx)
    store = get_store(ctx)
    searcher = open_searcher(settings, store)
    report = send_digests(store, searcher, settings, datetime.now(UTC), day, dry_run=dry_run)
    if dry_run:
        _show_plans(report)
    click.echo(report.summary())


def _show_plans(report: DigestReport) -> None:
    for plan in report.plans:
        click.echo(f"{plan.subscriber.email} ({plan.period.key}):")
        for entry in plan.entries:
            title = latex_to_text(entry.paper.paper.title)
            click.echo(f"  {entry.paper.paper.id}  {title[:70]}  [{entry.why}]")


@click.command()
@click.option("--once", is_flag=True, help="Run one cycle and stop.")
@click.option(
    "--interval",
    type=click.FloatRange(1),
    default=60.0,
    show_default=True,
    help="Seconds between cycles (digests and trending; ingest has its own period).",
)
@click.pass_context
def worker(ctx: click.Context, once: bool, interval: float) -> None:
    """Run the jobs on a schedule: ingest (PAPERFEED_WORKER_SOURCES, every
    PAPERFEED_WORKER_INGEST_EVERY_S), trending, and digests at PAPERFEED_DIGEST_HOUR in each
    subscriber's time zone; once a day it drops the bytes of mail sent more than
    PAPERFEED_MAIL_KEEP_DAYS ago. Every job is safe to kill and rerun. Run as many workers as
    you like, on any machines: ingest and pruning go to one at a time, digests are sent once.
    Stops on SIGTERM or Ctrl-C.
    """
    settings = _settings(ctx)
    store = get_store(ctx)
    searcher = open_searcher(settings, store)
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    run_worker(
        store,
        searcher,
        settings,
        click.echo,
        once=once,
        interval=interval,
        stopping=lambda: stopping,
    )
