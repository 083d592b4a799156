"""Catalog commands: init, ingest, harvest, stats, show."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path

import click

from paperfeed.cli.context import Progress, get_settings, get_store, json_default, parse_day
from paperfeed.ids import BadIdentifier, parse_paper_id
from paperfeed.ingest.harvest import harvest_arxiv
from paperfeed.ingest.http import SourceUnavailable
from paperfeed.ingest.oai import OaiError
from paperfeed.ingest.pipeline import FORMATS, IngestFailed, IngestReport, ingest_sources
from paperfeed.keywords.job import update_keywords
from paperfeed.models import paper_as_dict
from paperfeed.sample import (
    sample_featured_path,
    sample_keywords_path,
    sample_path,
    sample_vectors_path,
)
from paperfeed.search.searcher import Searcher, open_searcher
from paperfeed.search.update import update_search
from paperfeed.storage import PaperNotFound, StorageError, open_store


@click.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the database (or bring its schema up to date)."""
    settings = get_settings(ctx)
    try:
        store = open_store(
            settings.database_url,
            migrate=False,
            pool_size=settings.database_pool_size,
            busy_timeout_s=settings.database_busy_timeout_s,
        )
        applied = store.migrate()
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    count = store.count_papers()
    store.close()
    done = f"applied {', '.join(applied)}" if applied else "schema already up to date"
    click.echo(f"{settings.database_url}: {done}; {count} papers")


def _finish(report: IngestReport) -> None:
    click.echo(report.summary())
    if report.read == 0:
        raise click.ClickException("nothing could be read")


def _update_search(ctx: click.Context, embed: bool, vector_files: list[Path]) -> Searcher:
    """After an ingest: embed new papers (unless told not to) and update the keyword index."""
    searcher = open_searcher(get_settings(ctx), get_store(ctx), "auto" if embed else None)
    progress = Progress()
    try:
        report = update_search(
            searcher,
            lambda done, total: progress("embedding", done, total),
            load_vectors=False,
            vector_files=vector_files,
        )
    finally:
        progress.close()
    click.echo(report.summary())
    return searcher


def _update_keywords(searcher: Searcher, keyword_files: list[Path]) -> None:
    """After embedding: the keyphrases of papers that have none (precomputed ones first)."""
    if searcher.embedder is None:
        return
    progress = Progress()
    try:
        report = update_keywords(
            searcher.store,
            searcher.embedder,
            keyword_files,
            progress=lambda done, total: progress("keyphrases", done, total),
        )
    finally:
        progress.close()
    click.echo(report.summary())


@click.command()
@click.argument("sources", nargs=-1, metavar="PATH_OR_URL...")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="Input format; auto detects it per file (and per record in JSON lines).",
)
@click.option("--sample", is_flag=True, help="Also ingest the bundled sample of real arXiv papers.")
@click.option(
    "--embed/--no-embed",
    default=True,
    show_default=True,
    help="Embed the new papers for semantic search now (or later with `paperfeed embed`).",
)
@click.option(
    "--keywords/--no-keywords",
    default=True,
    show_default=True,
    help="Pick the embedded papers' keyphrases now (or later with `paperfeed keywords`).",
)
@click.pass_context
def ingest(
    ctx: click.Context,
    sources: tuple[str, ...],
    fmt: str,
    sample: bool,
    embed: bool,
    keywords: bool,
) -> None:
    """Ingest papers from files (JSONL, .gz, JSON, XML), URLs or arxiv:ID.

    \b
    Files: our JSONL schema, the Kaggle arXiv snapshot, Hugging Face daily-papers
    JSON, BEIR corpora, saved OAI-PMH or Atom responses.
    URLs: an arXiv API query (https://export.arxiv.org/api/query?search_query=...),
    Hugging Face daily papers (https://huggingface.co/api/daily_papers?date=...),
    or any of the file formats above. arxiv:2606.27372 fetches one paper.
    Bad records are reported with their line and skipped; ingesting the same input
    twice changes nothing. Afterwards new papers are embedded, indexed and given
    keyphrases (the sample's come precomputed).
    """
    # The featured days after the papers: Hugging Face is a secondary source, it adds days and
    # votes to the sample's papers and never replaces their text.
    bundled = [str(sample_path()), str(sample_featured_path())] if sample else []
    paths = [*sources, *bundled]
    if not paths:
        raise click.UsageError("give at least one PATH_OR_URL (or --sample)")
    store = get_store(ctx)
    progress = Progress()
    try:
        report = ingest_sources(store, paths, get_settings(ctx), fmt=fmt, progress=progress)
    except IngestFailed as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        progress.close()
    _finish(report)
    searcher = _update_search(ctx, embed, [sample_vectors_path()] if sample else [])
    if keywords:
        _update_keywords(searcher, [sample_keywords_path()] if sample else [])


@click.group()
def harvest() -> None:
    """Harvest papers from an OAI-PMH repository."""


@harvest.command("arxiv")
@click.option(
    "--set",
    "set_spec",
    default="cs",
    show_default=True,
    help="OAI set: cs, math, physics:hep-th, ...",
)
@click.option(
    "--from",
    "from_day",
    callback=parse_day,
    metavar="YYYY-MM-DD",
    help="First datestamp; defaults to where the last finished harvest of the set ended.",
)
@click.option(
    "--until",
    "until_day",
    callback=parse_day,
    metavar="YYYY-MM-DD",
    help="Last datestamp (default: up to now).",
)
@click.pass_context
def harvest_arxiv_command(
    ctx: click.Context, set_spec: str, from_day: date | None, until_day: date | None
) -> None:
    """Harvest arXiv metadata (metadataPrefix=arXiv) over OAI-PMH.

    Waits PAPERFEED_REQUEST_DELAY_S between requests and honours 503 Retry-After. An
    interrupted harvest resumes from its last page when run again with the same options.
    """
    store = get_store(ctx)
    progress = Progress()
    try:
        report = harvest_arxiv(
            store, get_settings(ctx), set_spec, from_day, until_day, progress=progress
        )
    except (IngestFailed, OaiError, SourceUnavailable) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        progress.close()
    _finish(report)
    _update_keywords(_update_search(ctx, True, []), [])


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--top", default=15, show_default=True, help="Categories to list in text output.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool, top: int) -> None:
    """Count the papers in the catalog, by category and by month."""
    result = get_store(ctx).catalog_stats()
    if as_json:
        click.echo(json.dumps(asdict(result), default=json_default, indent=2))
        return
    click.echo(f"papers: {result.papers:,}")
    if result.first_listed:
        click.echo(f"listed: {result.first_listed} to {result.last_listed}")
    if result.featured:
        click.echo(f"featured days: {result.featured:,}")
    if result.by_category:
        click.echo("by category:")
        for category, count in list(result.by_category.items())[:top]:
            click.echo(f"  {category:<12} {count:>8,}")
    if result.by_month:
        click.echo("by month:")
        for month, count in result.by_month.items():
            click.echo(f"  {month:<12} {count:>8,}")


@click.command()
@click.argument("paper_id", metavar="ARXIV_ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def show(ctx: click.Context, paper_id: str, as_json: bool) -> None:
    """Show one paper (any arXiv id spelling: 2606.27372v2, arXiv:..., an abs URL)."""
    store = get_store(ctx)
    try:
        normalised, _ = parse_paper_id(paper_id)
        paper = store.get_paper(normalised)
    except (BadIdentifier, PaperNotFound) as exc:
        raise click.ClickException(str(exc)) from None
    featured = store.featured_for(paper.id)
    if as_json:
        data = paper_as_dict(paper)
        data["featured"] = [asdict(f) for f in featured]
        click.echo(json.dumps(data, default=json_default, indent=2, ensure_ascii=False))
        return
    version = f"v{paper.version}" if paper.version else ""
    click.echo(f"{paper.id}{version}  {paper.title}")
    click.echo(f"authors:    {', '.join(paper.authors)}")
    click.echo(f"categories: {' '.join(paper.categories)}")
    for label, value in (
        ("published", paper.published.date() if paper.published else None),
        ("updated", paper.updated.date() if paper.updated else None),
        ("listed", paper.listed),
        ("comment", paper.comment),
        ("journal", paper.journal_ref),
        ("doi", paper.doi),
        ("abs", paper.abs_url),
        ("pdf", paper.pdf_url),
    ):
        if value:
            click.echo(f"{label + ':':<11} {value}")
    for entry in featured:
        click.echo(f"featured:   {entry.day} on {entry.source}, {entry.upvotes} upvotes")
    click.echo("")
    click.echo(paper.abstract)
