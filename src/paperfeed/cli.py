"""The `paperfeed` command: parse arguments, call one library function, print the result."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import asdict
from datetime import date, datetime

import click

from paperfeed.config import ConfigError, Settings, load_settings, setting_help
from paperfeed.ingest.harvest import harvest_arxiv
from paperfeed.ingest.http import SourceUnavailable
from paperfeed.ingest.oai import OaiError
from paperfeed.ingest.pipeline import FORMATS, IngestFailed, IngestReport, ingest_sources
from paperfeed.models import paper_as_dict
from paperfeed.sample import sample_path
from paperfeed.storage import PaperNotFound, StorageError, Store, open_store


def _settings_epilog() -> str:
    lines = ["Settings (environment variables):"]
    for env, (_, default, help_text) in setting_help().items():
        lines.append(f"  {env} (default {default!r}): {help_text}")
    return "\b\n" + "\n".join(lines)


class _Context:
    """What every command needs: the settings, and the store opened on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.settings.database_url)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


@click.group(epilog=_settings_epilog())
@click.option(
    "--database-url",
    metavar="URL",
    help="Database to use (overrides PAPERFEED_DATABASE_URL), e.g. sqlite:///data/paperfeed.db.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log more (every request and page).")
@click.version_option(package_name="paperfeed")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None, verbose: bool) -> None:
    """paperfeed: a self-hostable catalog of research papers."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = load_settings(os.environ, database_url=database_url)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    state = _Context(settings)
    ctx.obj = state
    ctx.call_on_close(state.close)


def _store(ctx: click.Context) -> Store:
    try:
        store: Store = ctx.find_object(_Context).store  # type: ignore[union-attr]
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    return store


def _settings(ctx: click.Context) -> Settings:
    return ctx.find_object(_Context).settings  # type: ignore[union-attr]


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the database (or bring its schema up to date)."""
    settings = _settings(ctx)
    try:
        store = open_store(settings.database_url, migrate=False)
        applied = store.migrate()
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    count = store.count_papers()
    store.close()
    done = f"applied {', '.join(applied)}" if applied else "schema already up to date"
    click.echo(f"{settings.database_url}: {done}; {count} papers")


class _Progress:
    """Shows ingest progress: a bar on a terminal, a log line every few seconds otherwise."""

    def __init__(self, interactive: bool, interval_s: float = 10.0) -> None:
        self.interactive = interactive
        self.interval_s = interval_s
        self._bars: dict[str, tuple[object, int]] = {}
        self._last_line = time.monotonic()

    def __call__(self, label: str, done: int, total: int | None) -> None:
        if self.interactive and total:
            bar, shown = self._bars.get(label, (None, 0))
            if bar is None:
                bar = click.progressbar(length=total, label=label[-40:], file=sys.stderr)
                bar.__enter__()
            bar.update(max(0, min(done, total) - shown))  # type: ignore[attr-defined]
            self._bars[label] = (bar, min(done, total))
            if done >= total:
                bar.__exit__(None, None, None)  # type: ignore[attr-defined]
                del self._bars[label]
            return
        now = time.monotonic()
        if now - self._last_line >= self.interval_s or (total and done >= total):
            self._last_line = now
            share = f" ({100 * done / total:.0f}%)" if total else ""
            click.echo(
                f"{label}: {done:,} of {total:,}{share}" if total else f"{label}: {done:,}",
                err=True,
            )

    def close(self) -> None:
        for bar, _ in self._bars.values():
            bar.__exit__(None, None, None)  # type: ignore[attr-defined]
        self._bars.clear()


def _finish(report: IngestReport) -> None:
    click.echo(report.summary())
    if report.read == 0:
        raise click.ClickException("nothing could be read")


@cli.command()
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
@click.pass_context
def ingest(ctx: click.Context, sources: tuple[str, ...], fmt: str, sample: bool) -> None:
    """Ingest papers from files (JSONL, .gz, JSON, XML), URLs or arxiv:ID.

    \b
    Files: our JSONL schema, the Kaggle arXiv snapshot, Hugging Face daily-papers
    JSON, BEIR corpora, saved OAI-PMH or Atom responses.
    URLs: an arXiv API query (https://export.arxiv.org/api/query?search_query=...),
    Hugging Face daily papers (https://huggingface.co/api/daily_papers?date=...),
    or any of the file formats above. arxiv:2606.27372 fetches one paper.
    Bad records are reported with their line and skipped; ingesting the same input
    twice changes nothing.
    """
    paths = [*sources, *([str(sample_path())] if sample else [])]
    if not paths:
        raise click.UsageError("give at least one PATH_OR_URL (or --sample)")
    store = _store(ctx)
    progress = _Progress(interactive=sys.stderr.isatty())
    try:
        report = ingest_sources(store, paths, _settings(ctx), fmt=fmt, progress=progress)
    except IngestFailed as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        progress.close()
    _finish(report)


@cli.group()
def harvest() -> None:
    """Harvest papers from an OAI-PMH repository."""


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {value!r}") from None


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
    callback=_day,
    metavar="YYYY-MM-DD",
    help="First datestamp; defaults to where the last finished harvest of the set ended.",
)
@click.option(
    "--until",
    "until_day",
    callback=_day,
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
    store = _store(ctx)
    progress = _Progress(interactive=sys.stderr.isatty())
    try:
        report = harvest_arxiv(
            store, _settings(ctx), set_spec, from_day, until_day, progress=progress
        )
    except (IngestFailed, OaiError, SourceUnavailable) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        progress.close()
    _finish(report)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--top", default=15, show_default=True, help="Categories to list in text output.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool, top: int) -> None:
    """Count the papers in the catalog, by category and by month."""
    result = _store(ctx).catalog_stats()
    if as_json:
        click.echo(json.dumps(asdict(result), default=_json_default, indent=2))
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


@cli.command()
@click.argument("paper_id", metavar="ARXIV_ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def show(ctx: click.Context, paper_id: str, as_json: bool) -> None:
    """Show one paper (any arXiv id spelling: 2606.27372v2, arXiv:..., an abs URL)."""
    from paperfeed.ids import BadIdentifier, parse_paper_id

    store = _store(ctx)
    try:
        normalised, _ = parse_paper_id(paper_id)
        paper = store.get_paper(normalised)
    except (BadIdentifier, PaperNotFound) as exc:
        raise click.ClickException(str(exc)) from None
    featured = store.featured_for(paper.id)
    if as_json:
        data = paper_as_dict(paper)
        data["featured"] = [asdict(f) for f in featured]
        click.echo(json.dumps(data, default=_json_default, indent=2, ensure_ascii=False))
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


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")
