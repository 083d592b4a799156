"""One HNSW index of the vectors inside PostgreSQL (pgvector), shared by every process.

Vectors are stored twice per row: `vector` (float16 bytes, what the change feed hands to
per-node indexes) and `embedding` (pgvector halfvec, what the index is built on). One partial
index per model: `(embedding::halfvec(D)) halfvec_cosine_ops WHERE model = '<model>'`, so
models of different sizes live side by side.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterable, Sequence

import numpy as np

from paperfeed.storage.errors import StorageError
from paperfeed.storage.postgres.halfvec import halfvec
from paperfeed.storage.postgres.search import SearchQueries

with contextlib.suppress(ImportError):  # psycopg is optional; Database reports it missing
    from psycopg import sql

log = logging.getLogger("paperfeed.storage")

HNSW_M = 16  # links per node (usearch's connectivity here is 16 too)
HNSW_EF_CONSTRUCTION = 64  # pgvector's default
_BACKFILL_BATCH = 2000


def index_name(model: str, dimensions: int) -> str:
    digest = hashlib.blake2b(f"{model}/{dimensions}".encode(), digest_size=6).hexdigest()
    return f"embeddings_hnsw_{digest}"


class VectorQueries(SearchQueries):
    """The shared vector index: is it there, build it, search it."""

    def shared_vector_index_ready(self, model: str, dimensions: int) -> bool:
        """Whether the HNSW index of `model` exists and is valid (built to the end)."""
        if not self.has_halfvec_column():
            return False
        with self._conn() as conn:
            row = conn.execute(
                "SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = "
                "i.indexrelid WHERE c.relname = %s",
                (index_name(model, dimensions),),
            ).fetchone()
        return bool(row and row["valid"])

    def build_shared_vector_index(self, model: str, dimensions: int) -> bool:
        """Fill in missing halfvecs and build `model`'s HNSW index, unless it is there (or
        another process is building it: False). Writers go on meanwhile (CONCURRENTLY); a
        build killed halfway leaves an invalid index, which the next one drops first."""
        if not self.has_halfvec_column():
            raise StorageError(
                "pgvector is not set up in this database (install the extension and restart, "
                "or use PAPERFEED_VECTOR_INDEX=local)"
            )
        if self.shared_vector_index_ready(model, dimensions):
            return False
        name = index_name(model, dimensions)
        with self.job_lock(f"vector-index:{name}") as held:
            if not held or self.shared_vector_index_ready(model, dimensions):
                return False
            self._backfill_halfvecs(model)
            with self._pool.connection() as conn:  # autocommit: CONCURRENTLY needs it
                conn.execute(
                    sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(name))
                )
                log.info("building the shared vector index %s of %s", name, model)
                conn.execute(
                    sql.SQL(
                        "CREATE INDEX CONCURRENTLY {name} ON embeddings USING hnsw "
                        "((embedding::halfvec({dims})) halfvec_cosine_ops) "
                        "WITH (m = {m}, ef_construction = {ef}) "
                        "WHERE model = {model} AND embedding IS NOT NULL"
                    ).format(
                        name=sql.Identifier(name),
                        dims=sql.Literal(dimensions),
                        m=sql.Literal(HNSW_M),
                        ef=sql.Literal(HNSW_EF_CONSTRUCTION),
                        model=sql.Literal(model),
                    )
                )
            return True

    def _backfill_halfvecs(self, model: str) -> None:
        """Rows saved before pgvector was set up have no halfvec yet."""
        while True:
            with self._write() as conn:
                rows = conn.execute(
                    "SELECT paper_pk, vector FROM embeddings WHERE model = %s "
                    "AND embedding IS NULL LIMIT %s FOR UPDATE SKIP LOCKED",
                    (model, _BACKFILL_BATCH),
                ).fetchall()
                conn.cursor().executemany(
                    "UPDATE embeddings SET embedding = %s::halfvec "
                    "WHERE model = %s AND paper_pk = %s",
                    [(halfvec(bytes(r["vector"])), model, r["paper_pk"]) for r in rows],
                )
            if len(rows) < _BACKFILL_BATCH:
                return

    def nearest_vectors(
        self,
        model: str,
        dimensions: int,
        query: np.ndarray,
        limit: int,
        allowed: Sequence[int] | None = None,
        exclude: int | None = None,
        ef_search: int = 100,
    ) -> list[tuple[int, float]]:
        """(pk, cosine) of the `limit` nearest vectors of `model`, best first: through the
        HNSW index when it is there (with a filter, pgvector scans on until enough pass it),
        else exactly."""
        if not self.has_halfvec_column():
            raise StorageError("pgvector is not set up in this database")
        distance = sql.SQL("embedding::halfvec({dims}) <=> %(query)s::halfvec({dims})").format(
            dims=sql.Literal(dimensions)
        )
        clauses = [
            sql.SQL("model = {}").format(sql.Literal(model)),
            sql.SQL("embedding IS NOT NULL"),
        ]
        params: dict[str, object] = {"query": halfvec(query), "limit": limit}
        if allowed is not None:
            clauses.append(sql.SQL("paper_pk = ANY(%(allowed)s)"))
            params["allowed"] = list(allowed)
        if exclude is not None:
            clauses.append(sql.SQL("paper_pk <> %(exclude)s"))
            params["exclude"] = exclude
        statement = sql.SQL(
            "SELECT paper_pk, {distance} AS distance FROM embeddings WHERE {where} "
            "ORDER BY {distance} LIMIT %(limit)s"
        ).format(distance=distance, where=sql.SQL(" AND ").join(clauses))
        with self._conn() as conn, conn.transaction():
            conn.execute(
                sql.SQL("SET LOCAL hnsw.ef_search = {}").format(sql.Literal(max(ef_search, limit)))
            )
            if allowed is not None:
                conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            rows = conn.execute(statement, params).fetchall()
        found = sorted((float(r["distance"]), int(r["paper_pk"])) for r in rows)
        return [(pk, 1.0 - distance) for distance, pk in found]

    def vectors_of(self, model: str, pks: Iterable[int]) -> dict[int, bytes]:
        """pk -> float16 vector bytes of those of `pks` that have one from `model`."""
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT paper_pk, vector FROM embeddings WHERE model = %s AND paper_pk = ANY(%s)",
                (model, list(pks)),
            ).fetchall()
        return {int(r["paper_pk"]): bytes(r["vector"]) for r in rows}
