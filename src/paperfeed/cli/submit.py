"""The operator's `submit`: submit a paper to the day's list as a reader (submissions.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from paperfeed.cli.context import get_settings, get_store
from paperfeed.search.searcher import open_searcher
from paperfeed.search.update import update_search
from paperfeed.storage import AlreadySubmitted, SubmissionLimit
from paperfeed.submissions import SubmitRefused
from paperfeed.submissions import submit as submit_paper


@click.command()
@click.argument("paper", metavar="ARXIV_ID_OR_URL")
@click.option(
    "--as",
    "address",
    required=True,
    metavar="EMAIL",
    help="The reader it is submitted as (they need a public name); counts in their limit.",
)
@click.pass_context
def submit(ctx: click.Context, paper: str, address: str) -> None:
    """Submit a paper to the day's list as a reader, with the rules of /submit: an arXiv id or
    URL, within PAPERFEED_SUBMIT_WINDOW_DAYS of its arXiv date, once per paper, at most
    PAPERFEED_SUBMIT_PER_DAY a reader a day; a paper not in the catalog is fetched from
    arXiv (and then embedded and indexed, as by `ingest`)."""
    settings, store = get_settings(ctx), get_store(ctx)
    reader = store.subscriber_by_email(address)
    if reader is None:
        raise click.ClickException(f"no reader with the address {address!r}")
    try:
        done = submit_paper(store, settings, reader, paper, datetime.now(UTC))
    except (SubmitRefused, AlreadySubmitted, SubmissionLimit) as exc:
        raise click.ClickException(str(exc)) from None
    made = done.submission
    how = "fetched from arXiv and submitted" if done.fetched else "submitted"
    click.echo(f"{made.paper_id}: {how} by {made.submitter} on {made.day.isoformat()}")
    if done.fetched:
        click.echo(update_search(open_searcher(settings, store), load_vectors=False).summary())
