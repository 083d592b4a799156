"""Give every embedded paper its keyphrases: killable, and safe to run again or side by side.

Papers are taken in pk order, a batch at a time; each batch's phrases are saved in one
transaction, so a killed run loses at most the batch it was on and the next run carries on
from there (the store hands out only papers without current keyphrases). Two runs at once only
do some papers twice, with the same result. A paper is done once it has a current vector
(embedding runs first); a changed text gets a new vector and, with it, new keyphrases.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from paperfeed.embeddings import Embedder
from paperfeed.keywords.files import load_keywords
from paperfeed.keywords.phrases import KEYPHRASES, candidates, pick_keyphrases
from paperfeed.models import Paper
from paperfeed.search.vector import decode_vector
from paperfeed.storage import Store

# The phrase picking's version: a change to candidates() or pick_keyphrases() that changes
# results bumps it, and every paper's keyphrases are made again.
PICKING_VERSION = "keyphrases-1"
KEYWORDS_BATCH = 64  # papers per transaction (~5 s on 2 cores)


def keyword_method(model_id: str) -> str:
    """What stored keyphrases say made them: the embedding model and the picking version."""
    return f"{model_id}+{PICKING_VERSION}"


@dataclass
class KeywordReport:
    """What a keyphrase run did."""

    method: str
    papers: int = 0
    phrases: int = 0
    loaded: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        rate = ""
        if self.seconds and self.papers:
            rate = f" ({self.papers / self.seconds:.1f} papers/s)"
        loaded = f"loaded keyphrases of {self.loaded} papers; " if self.loaded else ""
        return f"{loaded}keyphrases for {self.papers} papers{rate} with {self.method}"


def keyphrases_for(
    embedder: Embedder,
    papers: Sequence[tuple[Paper, np.ndarray]],
    count: int = KEYPHRASES,
) -> list[list[str]]:
    """Each paper's keyphrases, given its vector. The candidates of all the papers are
    embedded in one call, each distinct phrase once (the model is uncased, so "LLMs" and
    "llms" are one)."""
    per_paper = [candidates(paper.title, paper.abstract) for paper, _ in papers]
    keys = list(dict.fromkeys(c.key for found in per_paper for c in found))
    row_of = {key: row for row, key in enumerate(keys)}
    vectors = embedder.embed(keys) if keys else np.zeros((0, embedder.dimensions), np.float32)
    out = []
    for found, (_, paper_vector) in zip(per_paper, papers, strict=True):
        rows = [row_of[c.key] for c in found]
        out.append(pick_keyphrases([c.text for c in found], vectors[rows], paper_vector, count))
    return out


def compute_keywords(
    store: Store,
    embedder: Embedder,
    limit: int | None = None,
    batch: int = KEYWORDS_BATCH,
    progress: Callable[[int, int | None], None] | None = None,
) -> KeywordReport:
    """Keyphrases for every paper with a current vector from `embedder` and none made from
    its text by this method; `limit` stops after that many papers. `progress(done, total)`
    follows each batch (total None: not known)."""
    method = keyword_method(embedder.model_id)
    report = KeywordReport(method)
    started = time.perf_counter()
    after = 0
    while limit is None or report.papers < limit:
        size = batch if limit is None else min(batch, limit - report.papers)
        todo = store.papers_for_keywords(embedder.model_id, method, after, size)
        if not todo:
            break
        phrases = keyphrases_for(
            embedder, [(paper, decode_vector(vector)) for _, _, paper, vector in todo]
        )
        rows = [
            (pk, digest, found) for (pk, digest, _, _), found in zip(todo, phrases, strict=True)
        ]
        store.save_keywords(method, rows)
        report.papers += len(rows)
        report.phrases += sum(len(found) for found in phrases)
        after = todo[-1][0]
        if progress is not None:
            progress(report.papers, limit)
    report.seconds = time.perf_counter() - started
    return report


def update_keywords(
    store: Store,
    embedder: Embedder,
    keyword_files: Sequence[Path] = (),
    limit: int | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    batch: int = KEYWORDS_BATCH,
) -> KeywordReport:
    """Load precomputed `keyword_files` (those that exist and fit), then compute the rest."""
    loaded = 0
    method = keyword_method(embedder.model_id)
    for path in keyword_files:
        if path.exists():
            loaded += load_keywords(store, path, embedder.model_id, method)[0]
    report = compute_keywords(store, embedder, limit, batch, progress)
    report.loaded = loaded
    return report
