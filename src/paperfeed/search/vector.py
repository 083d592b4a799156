"""Nearest-neighbour search over paper embeddings: one model's vectors in memory, from the store.

Small catalogs are searched exactly; from `graph_min_size` vectors on, unfiltered searches go
through an HNSW graph (see hnsw.py) and filtered ones through it or exactly, whichever is cheaper.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from paperfeed.search.hnsw import GraphState, HnswGraph
from paperfeed.storage import Store

log = logging.getLogger("paperfeed.search")

_SYNC_BATCH = 5000
GRAPH_MIN_SIZE = 20_000
# A filter that keeps less than this share of the papers is searched exactly over what it keeps.
_EXACT_SHARE = 0.2


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

    def __init__(
        self,
        model: str,
        dimensions: int,
        folder: Path | None = None,
        graph_min_size: int = GRAPH_MIN_SIZE,
        threads: int = 0,
    ) -> None:
        self.model = model
        self.dimensions = dimensions
        self.graph_min_size = graph_min_size
        self._graph = HnswGraph(dimensions, folder, threads)
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
                    break
                self._add((pk, decode_vector(blob)) for _, pk, blob in batch)
                self._after = (batch[-1][0], batch[-1][1])
                done += len(batch)
                if progress is not None:
                    progress(done)
            if self._size >= self.graph_min_size:
                self._sync_graph(store, instance)
            return done

    @property
    def uses_graph(self) -> bool:
        state = self._graph.state
        return state is not None and len(self._graph) > 0 and self._size >= self.graph_min_size

    def _sync_graph(self, store: Store, instance: str) -> None:
        """Bring the graph up to the vectors in memory: load the saved one, add what it lacks."""
        graph = self._graph
        if graph.state is None or graph.state.instance != instance:
            graph.load(instance)
        current = GraphState(self._after[0], self._after[1], instance)
        if graph.state == current:
            return
        if graph.state is None:
            log.info("building the vector graph of %d papers", self._size)
            graph.upsert(self._pks[: self._size].copy(), self._matrix[: self._size])
        else:
            after = (graph.state.rev, graph.state.pk)
            while batch := store.embeddings_since(self.model, after, _SYNC_BATCH):
                pks = np.array([pk for _, pk, _ in batch], dtype=np.int64)
                graph.upsert(pks, np.stack([decode_vector(blob) for _, _, blob in batch]))
                after = (batch[-1][0], batch[-1][1])
        graph.save(current)

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

    def vectors_for(self, pks: Iterable[int]) -> dict[int, np.ndarray]:
        """The vectors of those of `pks` that have one."""
        found, rows = self.matrix_for(pks)
        return dict(zip(found, rows, strict=True))

    def snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        """Every pk that has a vector, and the vectors as the rows of a matrix (views: valid
        until the next sync)."""
        size = self._size
        return self._pks[:size], self._matrix[:size]

    def matrix_for(self, pks: Iterable[int]) -> tuple[list[int], np.ndarray]:
        """The pks among `pks` that have a vector, and their vectors as the rows of a matrix."""
        known = self._rows
        wanted = [pk for pk in pks if pk in known]
        rows = np.fromiter((known[pk] for pk in wanted), dtype=np.int64, count=len(wanted))
        return wanted, self._matrix[rows]

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
        allowed_set = None if allowed is None else set(allowed)
        if self.uses_graph and (allowed_set is None or len(allowed_set) >= _EXACT_SHARE * size):
            want = limit + (exclude is not None)
            # Ask the graph for more when a filter will throw some of its answers away.
            if allowed_set is not None:
                want = int(want / (len(allowed_set) / size) * 1.5) + 10
            found = [
                (pk, score)
                for pk, score in self._graph.search(query, want)
                if pk != exclude and (allowed_set is None or pk in allowed_set)
            ]
            if len(found) >= limit or allowed_set is None:
                return found[:limit]
            # The filter kept too few of the graph's answers: search exactly instead.
        return self._exact(query, limit, allowed_set, exclude)

    def search_many(
        self, queries: np.ndarray, limit: int, allowed: Iterable[int]
    ) -> list[list[tuple[int, float]]]:
        """search() for many queries over the same `allowed` papers, exactly: their vectors
        are gathered once and scored in one matrix product (the digest's topics)."""
        known = self._rows
        rows = np.fromiter((known[pk] for pk in set(allowed) if pk in known), dtype=np.int64)
        if rows.size == 0 or limit <= 0:
            return [[] for _ in range(len(queries))]
        return rank_exactly(queries, self._matrix[rows], self._pks[rows], limit)

    def _exact(
        self, query: np.ndarray, limit: int, allowed: set[int] | None, exclude: int | None
    ) -> list[tuple[int, float]]:
        size = self._size
        rows: np.ndarray | None = None
        if allowed is not None:
            known = self._rows
            rows = np.fromiter((known[pk] for pk in allowed if pk in known), dtype=np.int64)
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
        best = _top(scores, min(limit, scores.size))
        best = best[np.isfinite(scores[best])]
        positions = best if rows is None else rows[best]
        return [(int(self._pks[p]), float(s)) for p, s in zip(positions, scores[best], strict=True)]


def rank_exactly(
    queries: np.ndarray, matrix: np.ndarray, pks: np.ndarray, limit: int
) -> list[list[tuple[int, float]]]:
    """For each query, (pk, cosine) of the `limit` best rows of `matrix` (row i is pks[i])."""
    take = min(limit, len(pks))
    out: list[list[tuple[int, float]]] = []
    for start in range(0, len(queries), 512):
        scores = np.asarray(queries[start : start + 512], dtype=np.float32) @ matrix.T
        for row in scores:
            best = _top(row, take)
            out.append([(int(pks[b]), float(row[b])) for b in best])
    return out


def _top(scores: np.ndarray, take: int) -> np.ndarray:
    """The positions of the `take` highest scores, highest first (ties in position order)."""
    best = (
        np.argpartition(-scores, take - 1)[:take] if take < scores.size else np.arange(scores.size)
    )
    return best[np.argsort(-scores[best], kind="stable")]
