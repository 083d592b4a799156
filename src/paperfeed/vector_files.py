"""Save and load precomputed paper vectors (.npz), such as those shipped with the bundled sample.

A file holds, row for row, paper ids, the content hash of the text each vector was made from,
float16 vectors, and the model id. Loading keeps a vector only if the model matches and the
paper's current text still has that hash, so a stale file can never install a wrong vector.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from paperfeed.embeddings import content_hash, paper_text
from paperfeed.storage import Store

_BATCH = 1000


class BadVectorFile(ValueError):
    """The file is not a paperfeed vector file."""


def export_vectors(store: Store, model: str, path: Path) -> int:
    """Write every vector `model` has in the store to `path`; returns how many."""
    pks: list[int] = []
    blobs: list[bytes] = []
    after = (0, 0)
    while batch := store.embeddings_since(model, after, _BATCH * 10):
        pks += [pk for _, pk, _ in batch]
        blobs += [blob for _, _, blob in batch]
        after = (batch[-1][0], batch[-1][1])
    papers = store.papers_by_pk(pks)
    ids, hashes, rows = [], [], []
    for pk, blob in zip(pks, blobs, strict=True):
        paper = papers[pk]
        ids.append(paper.id)
        hashes.append(content_hash(paper_text(paper.title, paper.abstract)))
        rows.append(np.frombuffer(blob, dtype="<f2"))
    vectors = np.stack(rows) if rows else np.zeros((0, 0), dtype="<f2")
    with path.open("wb") as handle:
        np.savez(
            handle,
            ids=np.array(ids, dtype=str),
            hashes=np.array(hashes, dtype=str),
            vectors=vectors,
            model=np.array(model),
        )
    return len(ids)


def import_vectors(store: Store, path: Path, model: str) -> tuple[int, int]:
    """Load the vectors in `path` that fit `model` and the papers' current text.

    Returns (loaded, skipped). A file made by another model loads nothing.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            ids, hashes, vectors = data["ids"], data["hashes"], data["vectors"]
            file_model = str(data["model"])
    except (OSError, KeyError, ValueError) as exc:
        raise BadVectorFile(f"{path}: not a vector file ({exc})") from None
    if file_model != model:
        return 0, len(ids)
    row_of = {str(paper_id): row for row, paper_id in enumerate(ids)}
    loaded = 0
    after = 0
    while todo := store.papers_to_embed(model, after, _BATCH):
        rows = []
        for pk, rev, paper, _ in todo:
            row = row_of.get(paper.id)
            if row is None:
                continue
            digest = content_hash(paper_text(paper.title, paper.abstract))
            if digest != str(hashes[row]):
                continue  # the text changed since the vector was made
            rows.append((pk, rev, digest, np.asarray(vectors[row], dtype="<f2").tobytes()))
        store.save_embeddings(model, rows)
        loaded += len(rows)
        after = todo[-1][0]
    return loaded, len(ids) - loaded
