"""Nearest-neighbour search over paper embeddings: one model's vectors in memory, from the store."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import numpy as np

from paperfeed.storage import Store

_SYNC_BATCH = 5000


def decode_vector(blob: bytes) -> np.ndarray:
    """A stored float16 vector as float32."""
    return np.frombuffer(blob, dtype="<f2").astype(np.float32)


def encode_vector(vector: np.ndarray) -> bytes:
    """A vector as the float16 bytes the store keeps."""
    return np.asarray(vector, dtype="<f2").tobytes()


class VectorIndex:
    """Exact cosine search (vectors are L2-normalised, so a dot product) over one model's vectors.

    Rows live in one float32 matrix that grows by doubling; a changed vector overwrites its row.
    """

    def __init__(self, model: str, dimensions: int) -> None:
        self.model = model
        self.dimensions = dimensions
        self._matrix = np.zeros((1024, dimensions), dtype=np.float32)
        self._pks = np.zeros(1024, dtype=np.int64)
        self._rows: dict[int, int] = {}
        self._size = 0
        self._after = (0, 0)
        self._instance: str | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._size

    def sync(self, store: Store, progress: Callable[[int], None] | None = None) -> int:
        """Load every vector stored since the last sync; returns how many."""
        with self._lock:
            instance = store.instance_id()
            if instance != self._instance:
                self._rows.clear()
                self._size = 0
                self._after = (0, 0)
                self._instance = instance
            done = 0
            while True:
                batch = store.embeddings_since(self.model, self._after, _SYNC_BATCH)
                if not batch:
                    return done
                self._add((pk, decode_vector(blob)) for _, pk, blob in batch)
                self._after = (batch[-1][0], batch[-1][1])
                done += len(batch)
                if progress is not None:
                    progress(done)

    def _add(self, rows: Iterable[tuple[int, np.ndarray]]) -> None:
        for pk, vector in rows:
            if vector.shape != (self.dimensions,):
                continue  # a vector of another size cannot come from this model
            row = self._rows.get(pk)
            if row is None:
                if self._size == len(self._pks):
                    self._grow()
                row = self._size
                self._rows[pk] = row
                self._pks[row] = pk
                self._size += 1
            self._matrix[row] = vector

    def _grow(self) -> None:
        capacity = len(self._pks) * 2
        matrix = np.zeros((capacity, self.dimensions), dtype=np.float32)
        matrix[: self._size] = self._matrix[: self._size]
        pks = np.zeros(capacity, dtype=np.int64)
        pks[: self._size] = self._pks[: self._size]
        self._matrix, self._pks = matrix, pks

    def vector_of(self, pk: int) -> np.ndarray | None:
        row = self._rows.get(pk)
        return None if row is None else self._matrix[row].copy()

    def search(
        self,
        query: np.ndarray,
        limit: int,
        allowed: Iterable[int] | None = None,
        exclude: int | None = None,
    ) -> list[tuple[int, float]]:
        """(pk, cosine) of the `limit` nearest vectors, best first; only `allowed` pks if given."""
        size = self._size
        if limit <= 0 or size == 0:
            return []
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        rows: np.ndarray | None = None
        if allowed is not None:
            index = self._rows
            rows = np.fromiter((index[pk] for pk in allowed if pk in index), dtype=np.int64)
            if rows.size == 0:
                return []
        if rows is None or rows.size > size // 4:
            # Scoring everything and masking beats gathering a large subset of rows.
            scores = self._matrix[:size] @ query
            if rows is not None:
                keep = np.zeros(size, dtype=bool)
                keep[rows] = True
                scores[~keep] = -np.inf
            rows = None
        else:
            scores = self._matrix[rows] @ query
        excluded_row = self._rows.get(exclude) if exclude is not None else None
        if excluded_row is not None:
            if rows is None:
                scores[excluded_row] = -np.inf
            else:
                scores[rows == excluded_row] = -np.inf
        take = min(limit, scores.size)
        if take < scores.size:
            best = np.argpartition(-scores, take - 1)[:take]
        else:
            best = np.arange(scores.size)
        best = best[np.argsort(-scores[best], kind="stable")]
        best = best[np.isfinite(scores[best])]
        positions = best if rows is None else rows[best]
        return [(int(self._pks[p]), float(s)) for p, s in zip(positions, scores[best], strict=True)]
