"""What search needs from PostgreSQL: the change feed, pks, filters, and embeddings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from paperfeed.models import Paper, SearchFilters
from paperfeed.storage.postgres.database import HORIZON_SQL, REV_SQL, Database
from paperfeed.storage.postgres.halfvec import halfvec, has_halfvec_column
from paperfeed.storage.postgres.rows import P_COLUMNS, PAPER_COLUMNS, filter_sql, row_to_paper


class SearchQueries(Database):
    """Reads and writes for the search indexes and the embedding job.

    Revisions are the ids of the transactions that wrote them; a change is handed out only
    below the horizon (the oldest transaction still running), so one that took its id first
    and commits last is still ahead of every reader's cursor when it becomes visible.
    """

    def instance_id(self) -> str:
        with self._conn() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'instance'").fetchone()
        return str(row["value"])

    def shared_secret(self, candidate: str) -> str:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('secret_key', %s) ON CONFLICT DO NOTHING",
                (candidate,),
            )
            row = conn.execute("SELECT value FROM meta WHERE key = 'secret_key'").fetchone()
        return str(row["value"])

    def changed_papers(self, after: tuple[int, int], limit: int) -> list[tuple[int, int, Paper]]:
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT rev, pk, {PAPER_COLUMNS} FROM papers "
                f"WHERE (rev, pk) > (%s, %s) AND rev < {HORIZON_SQL} ORDER BY rev, pk LIMIT %s",
                (*after, limit),
            ).fetchall()
        return [(int(row["rev"]), int(row["pk"]), row_to_paper(row)) for row in rows]

    def papers_by_pk(self, pks: Iterable[int]) -> dict[int, Paper]:
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT pk, {PAPER_COLUMNS} FROM papers WHERE pk = ANY(%s)", (list(pks),)
            ).fetchall()
        return {int(row["pk"]): row_to_paper(row) for row in rows}

    def pks_for_ids(self, paper_ids: Iterable[str]) -> dict[str, int]:
        with self._conn() as conn:
            return self._pks(conn, list(paper_ids))

    def filtered_pks(self, filters: SearchFilters) -> list[int]:
        clauses, params = filter_sql(filters)
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT pk FROM papers p WHERE {clauses} ORDER BY pk", params
            ).fetchall()
        return [int(row["pk"]) for row in rows]

    # -- embeddings ----------------------------------------------------------------------

    _halfvec_column: bool | None = None

    def has_halfvec_column(self) -> bool:
        """Whether pgvector is set up in this database (migration 002 found it)."""
        if self._halfvec_column is None:
            with self._conn() as conn:
                self._halfvec_column = has_halfvec_column(conn)
        return self._halfvec_column

    def papers_to_embed(
        self, model: str, after_pk: int, limit: int
    ) -> list[tuple[int, int, Paper, str | None]]:
        """(pk, rev, paper, stored content hash) of papers with no vector from `model`, or
        changed since theirs was made, in pk order after `after_pk`."""
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT p.pk, p.rev, e.content_hash, {P_COLUMNS} "
                "FROM papers p LEFT JOIN embeddings e ON e.model = %s AND e.paper_pk = p.pk "
                "WHERE p.pk > %s AND (e.paper_pk IS NULL OR e.paper_rev <> p.rev) "
                "ORDER BY p.pk LIMIT %s",
                (model, after_pk, limit),
            ).fetchall()
        return [
            (int(row["pk"]), int(row["rev"]), row_to_paper(row), row["content_hash"])
            for row in rows
        ]

    def claim_papers_to_embed(
        self, model: str, limit: int, lease_seconds: float
    ) -> list[tuple[int, int, Paper, str | None]]:
        """Like `papers_to_embed`, but only papers no other run holds a live claim on, and
        claims them for `lease_seconds` (saving their vectors lets go).

        Runs side by side skip each other's candidate rows (SKIP LOCKED) instead of queueing
        on them, and a claim is taken over only once its lease has ended, checked again at
        insert time, so two runs never both hold one paper. The claimed papers are then read
        again by a second statement, which sees what committed meanwhile: a run whose first
        look predates another's save (and so found no claim left to conflict with) lets go of
        the papers that save finished, instead of embedding them twice.
        """
        with self._write() as conn:
            claimed = [
                int(row["paper_pk"])
                for row in conn.execute(
                    "WITH todo AS ("
                    " SELECT p.pk FROM papers p"
                    " LEFT JOIN embeddings e ON e.model = %(model)s AND e.paper_pk = p.pk"
                    " LEFT JOIN embed_claims c ON c.model = %(model)s AND c.paper_pk = p.pk"
                    " WHERE (e.paper_pk IS NULL OR e.paper_rev <> p.rev)"
                    " AND (c.paper_pk IS NULL OR c.lease_until <= clock_timestamp())"
                    " ORDER BY p.pk LIMIT %(limit)s FOR NO KEY UPDATE OF p SKIP LOCKED)"
                    " INSERT INTO embed_claims (model, paper_pk, lease_until)"
                    " SELECT %(model)s, pk, clock_timestamp() + make_interval(secs => %(lease)s)"
                    " FROM todo ON CONFLICT (model, paper_pk) DO UPDATE"
                    " SET lease_until = excluded.lease_until"
                    " WHERE embed_claims.lease_until <= clock_timestamp() RETURNING paper_pk",
                    {"model": model, "limit": limit, "lease": lease_seconds},
                )
            ]
            rows = conn.execute(
                f"SELECT p.pk, p.rev, e.content_hash, {P_COLUMNS} FROM papers p"
                " LEFT JOIN embeddings e ON e.model = %s AND e.paper_pk = p.pk"
                " WHERE p.pk = ANY(%s) AND (e.paper_pk IS NULL OR e.paper_rev <> p.rev)"
                " ORDER BY p.pk",
                (model, claimed),
            ).fetchall()
            done = set(claimed) - {int(row["pk"]) for row in rows}
            if done:
                conn.execute(
                    "DELETE FROM embed_claims WHERE model = %s AND paper_pk = ANY(%s)",
                    (model, list(done)),
                )
        return [
            (int(row["pk"]), int(row["rev"]), row_to_paper(row), row["content_hash"])
            for row in rows
        ]

    def release_embed_claims(self, model: str, pks: Iterable[int]) -> None:
        with self._write() as conn:
            conn.execute(
                "DELETE FROM embed_claims WHERE model = %s AND paper_pk = ANY(%s)",
                (model, list(pks)),
            )

    def claimed_elsewhere(self, model: str) -> int:
        with self._conn() as conn:
            row = conn.execute(
                "SELECT count(*) AS n FROM embed_claims "
                "WHERE model = %s AND lease_until > clock_timestamp()",
                (model,),
            ).fetchone()
        return int(row["n"])

    def save_embeddings(
        self, model: str, rows: Sequence[tuple[int, int, str, bytes | None]]
    ) -> int:
        """Store (pk, paper_rev, content_hash, float16 vector bytes) rows in one transaction.

        A row whose vector is None only records that the paper's text is unchanged.
        """
        if not rows:
            return 0
        # With pgvector, each vector is also stored as a halfvec for the shared index.
        also = self.has_halfvec_column()
        with self._write() as conn:
            cursor = conn.cursor()
            cursor.executemany(
                "INSERT INTO embeddings "
                f"(model, paper_pk, content_hash, paper_rev, vector, rev{', embedding' * also}) "
                f"VALUES (%s, %s, %s, %s, %s, {REV_SQL}{', %s::halfvec' * also}) "
                "ON CONFLICT (model, paper_pk) DO UPDATE "
                "SET content_hash = excluded.content_hash, paper_rev = excluded.paper_rev, "
                f"vector = excluded.vector, rev = excluded.rev"
                f"{', embedding = excluded.embedding' * also}",
                [
                    (model, pk, digest, paper_rev, vector, *([halfvec(vector)] if also else []))
                    for pk, paper_rev, digest, vector in rows
                    if vector is not None
                ],
            )
            cursor.executemany(
                "UPDATE embeddings SET paper_rev = %s WHERE model = %s AND paper_pk = %s",
                [(paper_rev, model, pk) for pk, paper_rev, _, vector in rows if vector is None],
            )
            cursor.execute(
                "DELETE FROM embed_claims WHERE model = %s AND paper_pk = ANY(%s)",
                (model, [pk for pk, *_ in rows]),
            )
        return len(rows)

    def embeddings_since(
        self, model: str, after: tuple[int, int], limit: int
    ) -> list[tuple[int, int, bytes]]:
        """(rev, pk, float16 vector bytes) of vectors stored after `after` = (rev, pk)."""
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT rev, paper_pk, vector FROM embeddings WHERE model = %s "
                f"AND (rev, paper_pk) > (%s, %s) AND rev < {HORIZON_SQL} "
                "ORDER BY rev, paper_pk LIMIT %s",
                (model, *after, limit),
            ).fetchall()
        return [(int(row["rev"]), int(row["paper_pk"]), bytes(row["vector"])) for row in rows]

    def count_embeddings(self, model: str) -> int:
        with self._conn() as conn:
            row = conn.execute(
                "SELECT count(*) AS n FROM embeddings WHERE model = %s", (model,)
            ).fetchone()
        return int(row["n"])
