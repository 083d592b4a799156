"""The recommend command: rank the catalog for a list of liked (and disliked) papers, through
the function the "for you" feed uses, so anyone can evaluate it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from paperfeed.cli.context import get_settings, get_store, parse_day
from paperfeed.ids import ids_in_lines
from paperfeed.search.recommend import rank_for
from paperfeed.search.searcher import open_searcher
from paperfeed.storage import Store


def _pks_in(store: Store, path: Path | None, what: str) -> list[int]:
    """The pks of the papers a list names; lines that name none, or a paper not in the
    catalog, are reported (with their line) and skipped."""
    if path is None:
        return []
    with path.open(encoding="utf-8", errors="replace") as lines:
        ids, problems = ids_in_lines(lines)
    for number, problem in problems:
        click.echo(f"{path}:{number}: skipped: {problem}", err=True)
    known = store.pks_for_ids(ids)
    missing = [paper_id for paper_id in ids if paper_id not in known]
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        click.echo(f"{path}: {len(missing)} {what} papers not in the catalog: {shown}", err=True)
    return [known[paper_id] for paper_id in ids if paper_id in known]


@click.command()
@click.option(
    "--liked",
    "liked_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Papers the reader likes: arXiv ids or URLs, one per line (# comments allowed).",
)
@click.option(
    "--disliked",
    "disliked_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Papers the reader is not interested in: similar papers are pushed down.",
)
@click.option(
    "--since", callback=parse_day, help="Only papers listed on or after this day (YYYY-MM-DD)."
)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def recommend(
    ctx: click.Context,
    liked_file: Path,
    disliked_file: Path | None,
    since: date | None,
    limit: int,
    as_json: bool,
) -> None:
    """Papers for a reader who liked (and disliked) the listed ones, each with its reason."""
    store = get_store(ctx)
    liked = _pks_in(store, liked_file, "liked")
    disliked = _pks_in(store, disliked_file, "disliked")
    if not liked:
        raise click.ClickException(f"{liked_file} names no paper of the catalog")
    searcher = open_searcher(get_settings(ctx), store)
    searcher.refresh()
    if searcher.vectors is None:
        raise click.ClickException(
            "recommendations need the papers' vectors: `paperfeed embed` (and `make model`)"
        )
    found = rank_for(store, searcher.vectors, liked, disliked, since=since, limit=limit)
    papers = store.papers_by_pk({pk for r in found for pk in (r.pk, r.because)})
    if as_json:
        rows = [
            {
                "rank": rank,
                "id": papers[r.pk].id,
                "title": papers[r.pk].title,
                "score": round(r.score, 6),
                "because": {"id": papers[r.because].id, "title": papers[r.because].title},
            }
            for rank, r in enumerate(found, start=1)
        ]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not found:
        click.echo("nothing to recommend (every paper near these is excluded or filtered out)")
    for rank, r in enumerate(found, start=1):
        paper = papers[r.pk]
        click.echo(f"{rank:3}. {paper.id}  {paper.title}")
        click.echo(f'     {r.score:.3f}  like "{papers[r.because].title}"')
