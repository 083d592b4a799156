"""Semantic search through one HNSW index inside PostgreSQL (pgvector), shared by every process.

The counterpart of vector.py's VectorIndex for PAPERFEED_VECTOR_INDEX=pgvector: no process
holds the vectors or builds a graph of its own; each search is one query to the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from paperfeed.search.vector import decode_vector, rank_exactly
from paperfeed.storage.base import SharedVectors

EF_SEARCH = 100  # candidates the HNSW search keeps (pgvector's default is 40)


class SharedVectorIndex:
    """One model's vectors, searched in the database; the same calls as VectorIndex."""

    def __init__(
        self, store: SharedVectors, model: str, dimensions: int, ef_search: int = EF_SEARCH
    ) -> None:
        self.store = store
        self.model = model
        self.dimensions = dimensions
        self.ef_search = ef_search
        self._count = 0
        self._ready = False

    def __len__(self) -> int:
        return self._count

    def sync(self, store: object, progress: Callable[[int], None] | None = None) -> int:
        """Note how many vectors there are now; build the index if it is missing (whichever
        process gets there first; searches are exact until it is done). Returns how many
        vectors were added since the last sync."""
        count = self.store.count_embeddings(self.model)
        added, self._count = max(0, count - self._count), count
        if count and not self._ready:
            self.store.build_shared_vector_index(self.model, self.dimensions)
            self._ready = self.store.shared_vector_index_ready(self.model, self.dimensions)
        return added

    @property
    def uses_graph(self) -> bool:
        return self._ready

    def vector_of(self, pk: int) -> np.ndarray | None:
        blob = self.store.vectors_of(self.model, [pk]).get(pk)
        return None if blob is None else decode_vector(blob)

    def vectors_for(self, pks: Iterable[int]) -> dict[int, np.ndarray]:
        """The vectors of those of `pks` that have one, in one query."""
        wanted = list(pks)
        if not wanted:
            return {}
        return {
            pk: decode_vector(blob)
            for pk, blob in self.store.vectors_of(self.model, wanted).items()
        }

    def matrix_for(self, pks: Iterable[int]) -> tuple[list[int], np.ndarray]:
        """The pks among `pks` that have a vector, and their vectors as the rows of a matrix
        (one database query for them all)."""
        found = self.vectors_for(pks)
        wanted = list(found)
        if not wanted:
            return [], np.zeros((0, self.dimensions), dtype=np.float32)
        return wanted, np.stack([found[pk] for pk in wanted])

    def search(
        self,
        query: np.ndarray,
        limit: int,
        allowed: Iterable[int] | None = None,
        exclude: int | None = None,
    ) -> list[tuple[int, float]]:
        """(pk, cosine) of the `limit` nearest vectors, best first; only `allowed` pks if given."""
        if limit <= 0:
            return []
        return self.store.nearest_vectors(
            self.model,
            self.dimensions,
            np.asarray(query, dtype=np.float32).reshape(-1),
            limit,
            None if allowed is None else list(allowed),
            exclude,
            self.ef_search,
        )

    def search_many(
        self, queries: np.ndarray, limit: int, allowed: Iterable[int]
    ) -> list[list[tuple[int, float]]]:
        """search() for many queries over the same (few) `allowed` papers, exactly: their
        vectors are fetched once and scored here in one matrix product."""
        found = self.store.vectors_of(self.model, allowed)
        if not found or limit <= 0:
            return [[] for _ in range(len(queries))]
        pks = np.fromiter(found, dtype=np.int64, count=len(found))
        matrix = np.stack([decode_vector(found[int(pk)]) for pk in pks])
        return rank_exactly(queries, matrix, pks, limit)
