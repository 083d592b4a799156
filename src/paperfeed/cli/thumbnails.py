"""The `thumbnails` command: fetch PDFs and store their first pages as small images."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from paperfeed.cli.context import get_settings, get_store
from paperfeed.thumbnails.job import ThumbnailsOff, make_thumbnails


@click.command()
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=None,
    help="Try at most this many papers (default: every paper that needs one).",
)
@click.pass_context
def thumbnails(ctx: click.Context, limit: int | None) -> None:
    """Make thumbnails: fetch each arXiv paper's PDF (PAPERFEED_THUMBNAIL_PDF_URL/<id>, with
    PAPERFEED_REQUEST_DELAY_S between requests) and keep its first page as a small WebP that
    cards, paper pages and the API show. Needs PAPERFEED_THUMBNAILS=1. Newest papers first;
    a PDF that fails is tried again later (1 h, 4 h, 16 h, ... apart). Safe to kill and rerun.
    Exits 1 when every paper it tried failed."""
    store = get_store(ctx)
    try:
        report = make_thumbnails(store, get_settings(ctx), datetime.now(UTC), limit)
    except ThumbnailsOff as exc:
        raise click.ClickException(str(exc)) from None
    for paper_id, error in report.errors:
        click.echo(f"{paper_id}: {error}", err=True)
    click.echo(report.summary())
    counts = store.thumbnail_counts()
    kinds = ("ok", "failed", "given up")
    click.echo("in all: " + ", ".join(f"{counts.get(kind, 0)} {kind}" for kind in kinds))
    if report.failed and not report.made:
        sys.exit(1)
