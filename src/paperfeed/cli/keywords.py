"""The keywords command: pick the keyphrases of papers that have none from their text."""

from __future__ import annotations

from pathlib import Path

import click

from paperfeed.cli.context import Progress, get_settings, get_store
from paperfeed.embeddings import EmbedderUnavailable, load_embedder
from paperfeed.keywords.files import BadKeywordFile, write_keywords
from paperfeed.keywords.job import KEYWORDS_BATCH, keyword_method, update_keywords


@click.command()
@click.option("--limit", type=click.IntRange(1), default=None, help="Stop after this many papers.")
@click.option(
    "--batch",
    type=click.IntRange(1, 10_000),
    default=KEYWORDS_BATCH,
    show_default=True,
    help="Papers done and saved at a time.",
)
@click.option(
    "--import",
    "import_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Load precomputed keyphrases from a .json.gz file first (see --export).",
)
@click.option(
    "--export",
    "export_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the stored keyphrases of every paper to a .json.gz file, then stop.",
)
@click.pass_context
def keywords(
    ctx: click.Context,
    limit: int | None,
    batch: int,
    import_file: Path | None,
    export_file: Path | None,
) -> None:
    """Pick a few keyphrases of each embedded paper (resumable; run it any time).

    Candidates are the title's and abstract's 1-3 word phrases; the ones nearest the paper's
    vector (by the embedding model) are kept, varied by maximal marginal relevance. Papers
    without a vector wait for `paperfeed embed`; a changed text gets new keyphrases. Each
    batch is saved as it is done: a killed run loses at most one.
    """
    try:
        embedder = load_embedder(get_settings(ctx))
    except EmbedderUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    store = get_store(ctx)
    method = keyword_method(embedder.model_id)
    if export_file is not None:
        count = write_keywords(export_file, method, store)
        click.echo(f"wrote the keyphrases of {count} papers to {export_file}")
        return
    progress = Progress()
    try:
        report = update_keywords(
            store,
            embedder,
            [import_file] if import_file is not None else [],
            limit,
            lambda done, total: progress("keyphrases", done, total),
            batch,
        )
    except BadKeywordFile as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        progress.close()
    click.echo(report.summary())
