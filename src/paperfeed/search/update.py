"""Bring search up to date after papers change: embed new or changed text, then sync the indexes.

Both steps can be killed at any point and run again: vectors are saved batch by batch, and
papers whose text has not changed (same content hash) are never embedded twice. Embedding
runs side by side share the work: each claims its batches, so every paper is embedded once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from paperfeed.embeddings import Embedder, content_hash, paper_text
from paperfeed.models import Paper
from paperfeed.search.searcher import Searcher
from paperfeed.search.vector import encode_vector
from paperfeed.storage import Store
from paperfeed.vector_files import import_vectors

log = logging.getLogger("paperfeed.search")

EMBED_BATCH = 256  # papers claimed, embedded and saved per transaction
# How long a run's claim on a batch lasts: far longer than a batch takes (~10 s on 2 cores),
# short enough that a killed run's papers are soon taken over by the next.
EMBED_LEASE_SECONDS = 120.0


@dataclass
class EmbedReport:
    """What an embedding run did."""

    model: str
    embedded: int = 0
    unchanged: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        rate = (
            f" ({self.embedded / self.seconds:.0f} papers/s)"
            if self.seconds and self.embedded
            else ""
        )
        return f"embedded {self.embedded}, unchanged {self.unchanged}{rate} with {self.model}"


def embed_new_papers(
    store: Store,
    embedder: Embedder,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch: int = EMBED_BATCH,
    lease_seconds: float = EMBED_LEASE_SECONDS,
    poll_seconds: float = 1.0,
) -> EmbedReport:
    """Embed every paper without a vector from this model, or whose text changed since.

    Runs side by side (processes, machines) claim batches, so each paper is embedded once.
    When the only papers left are claimed by other runs, this one waits for them: they are
    saved, or their run died and its lease ends, and then this run takes them over. So a run
    returns only when everything is embedded (or `limit` papers were done).

    `progress(done, total)` is called after each batch of `batch` papers; `limit` stops after
    that many papers.
    """
    model = embedder.model_id
    report = EmbedReport(model)
    total = max(0, store.count_papers() - store.count_embeddings(model))
    if limit is not None:
        total = min(total, limit)
    started = time.perf_counter()
    while limit is None or report.embedded + report.unchanged < limit:
        size = batch if limit is None else min(batch, limit - report.embedded - report.unchanged)
        todo = store.claim_papers_to_embed(model, size, lease_seconds)
        if not todo:
            if not store.claimed_elsewhere(model):
                break
            time.sleep(poll_seconds)
            continue
        try:
            rows = _embed_batch(embedder, todo)
        except BaseException:
            store.release_embed_claims(model, [pk for pk, *_ in todo])
            raise
        store.save_embeddings(model, rows)
        fresh = sum(1 for *_, vector in rows if vector is not None)
        report.embedded += fresh
        report.unchanged += len(rows) - fresh
        if progress is not None:
            progress(report.embedded + report.unchanged, max(total, report.embedded))
    report.seconds = time.perf_counter() - started
    return report


def _embed_batch(
    embedder: Embedder, todo: Sequence[tuple[int, int, Paper, str | None]]
) -> list[tuple[int, int, str, bytes | None]]:
    """Rows for save_embeddings: a vector for papers whose text changed, None for the rest."""
    fresh: list[tuple[int, int, str, str]] = []
    rows: list[tuple[int, int, str, bytes | None]] = []
    for pk, rev, paper, stored_hash in todo:
        text = paper_text(paper.title, paper.abstract)
        digest = content_hash(text)
        if digest == stored_hash:
            rows.append((pk, rev, digest, None))
        else:
            fresh.append((pk, rev, digest, text))
    if fresh:
        vectors = embedder.embed([text for *_, text in fresh])
        rows += [
            (pk, rev, digest, encode_vector(vector))
            for (pk, rev, digest, _), vector in zip(fresh, vectors, strict=True)
        ]
    return rows


@dataclass
class UpdateReport:
    """What bringing search up to date did."""

    embed: EmbedReport | None
    indexed: int
    vectors: int
    note: str | None = None

    def summary(self) -> str:
        parts = [self.embed.summary()] if self.embed else []
        parts.append(f"indexed {self.indexed} papers")
        if self.vectors:
            parts.append(f"loaded {self.vectors} vectors")
        if self.note:
            parts.append(self.note)
        return "; ".join(parts)


def update_search(
    searcher: Searcher,
    progress: Callable[[int, int], None] | None = None,
    load_vectors: bool = True,
    vector_files: Sequence[Path] = (),
) -> UpdateReport:
    """Embed what is new (when a model is available), then catch the indexes up.

    Precomputed `vector_files` (those that exist and fit the model) are loaded first, so their
    papers need no embedding. A one-off command that will not search passes
    load_vectors=False: the vectors then stay in the store until a process that searches
    loads them.
    """
    embed = None
    note = None
    if searcher.embedder is not None:
        for path in vector_files:
            if path.exists():
                import_vectors(searcher.store, path, searcher.embedder.model_id)
        embed = embed_new_papers(searcher.store, searcher.embedder, progress=progress)
    else:
        note = "no embedding model: keyword search only (run `make model`)"
    if load_vectors:
        indexed, vectors = searcher.refresh()
    else:
        indexed, vectors = searcher.keyword.sync(searcher.store), 0
    return UpdateReport(embed, indexed, vectors, note)
