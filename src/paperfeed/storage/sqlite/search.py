"""What search needs from the store: revisions to sync from, pks, filters, and embeddings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from paperfeed.models import Paper, SearchFilters
from paperfeed.storage.sqlite.database import Database, chunks
from paperfeed.storage.sqlite.rows import P_COLUMNS, PAPER_COLUMNS, filter_sql, row_to_paper


class SearchQueries(Database):
    """Reads and writes for the search indexes and the embedding job."""

    def instance_id(self) -> str:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'instance'").fetchone()
        return str(row[0])

    def shared_secret(self, candidate: str) -> str:
        # Read first: once the key exists, starting a process needs no write lock.
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'secret_key'").fetchone()
        if row is not None:
            return str(row[0])
        with self._write() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('secret_key', ?) ON CONFLICT DO NOTHING",
                (candidate,),
            )
            row = conn.execute("SELECT value FROM meta WHERE key = 'secret_key'").fetchone()
        return str(row[0])

    def changed_papers(self, after: tuple[int, int], limit: int) -> list[tuple[int, int, Paper]]:
        rows = self.conn.execute(
            f"SELECT rev, pk, {PAPER_COLUMNS} FROM papers WHERE (rev, pk) > (?, ?) "
            "ORDER BY rev, pk LIMIT ?",
            (*after, limit),
        )
        return [(int(row["rev"]), int(row["pk"]), row_to_paper(row)) for row in rows]

    def papers_by_pk(self, pks: Iterable[int]) -> dict[int, Paper]:
        found: dict[int, Paper] = {}
        for chunk in chunks(list(pks)):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT pk, {PAPER_COLUMNS} FROM papers WHERE pk IN ({marks})", chunk
            ):
                found[int(row["pk"])] = row_to_paper(row)
        return found

    def pks_for_ids(self, paper_ids: Iterable[str]) -> dict[str, int]:
        return dict(self._pks(self.conn, paper_ids))

    def filtered_pks(self, filters: SearchFilters) -> list[int]:
        clauses, params = filter_sql(filters)
        rows = self.conn.execute(f"SELECT pk FROM papers p WHERE {clauses} ORDER BY pk", params)
        return [int(row[0]) for row in rows]

    # -- embeddings ----------------------------------------------------------------------

    def papers_to_embed(
        self, model: str, after_pk: int, limit: int
    ) -> list[tuple[int, int, Paper, str | None]]:
        """(pk, rev, paper, stored content hash) of papers with no vector from `model`, or
        changed since theirs was made, in pk order after `after_pk`."""
        rows = self.conn.execute(
            f"SELECT p.pk, p.rev, e.content_hash, {P_COLUMNS} "
            "FROM papers p LEFT JOIN embeddings e ON e.model = ? AND e.paper_pk = p.pk "
            "WHERE p.pk > ? AND (e.paper_pk IS NULL OR e.paper_rev < p.rev) "
            "ORDER BY p.pk LIMIT ?",
            (model, after_pk, limit),
        )
        return [
            (int(row["pk"]), int(row["rev"]), row_to_paper(row), row["content_hash"])
            for row in rows
        ]

    def claim_papers_to_embed(
        self, model: str, limit: int, lease_seconds: float
    ) -> list[tuple[int, int, Paper, str | None]]:
        """Like `papers_to_embed`, but only papers no other run holds a live claim on, and
        claims them for `lease_seconds` (saving their vectors lets go). Writers are
        serialised, so reading the free papers and claiming them is one atomic step."""
        now = datetime.now(UTC)
        until = _lease_time(now + timedelta(seconds=lease_seconds))
        with self._write() as conn:
            rows = conn.execute(
                f"SELECT p.pk, p.rev, e.content_hash, {P_COLUMNS} "
                "FROM papers p LEFT JOIN embeddings e ON e.model = ? AND e.paper_pk = p.pk "
                "LEFT JOIN embed_claims c ON c.model = ? AND c.paper_pk = p.pk "
                "WHERE (e.paper_pk IS NULL OR e.paper_rev < p.rev) "
                "AND (c.paper_pk IS NULL OR c.lease_until <= ?) ORDER BY p.pk LIMIT ?",
                (model, model, _lease_time(now), limit),
            ).fetchall()
            conn.executemany(
                "INSERT INTO embed_claims (model, paper_pk, lease_until) VALUES (?, ?, ?) "
                "ON CONFLICT (model, paper_pk) DO UPDATE SET lease_until = excluded.lease_until",
                [(model, int(row["pk"]), until) for row in rows],
            )
        return [
            (int(row["pk"]), int(row["rev"]), row_to_paper(row), row["content_hash"])
            for row in rows
        ]

    def release_embed_claims(self, model: str, pks: Iterable[int]) -> None:
        with self._write() as conn:
            for chunk in chunks(list(pks)):
                marks = ",".join("?" * len(chunk))
                conn.execute(
                    f"DELETE FROM embed_claims WHERE model = ? AND paper_pk IN ({marks})",
                    (model, *chunk),
                )

    def claimed_elsewhere(self, model: str) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM embed_claims WHERE model = ? AND lease_until > ?",
            (model, _lease_time(datetime.now(UTC))),
        ).fetchone()
        return int(row[0])

    def save_embeddings(
        self, model: str, rows: Sequence[tuple[int, int, str, bytes | None]]
    ) -> int:
        """Store (pk, paper_rev, content_hash, float16 vector bytes) rows in one transaction.

        A row whose vector is None only records that the paper's text is unchanged.
        """
        if not rows:
            return 0
        with self._write() as conn:
            rev = self._next_rev(conn, "embeddings", "WHERE model = ?", model)
            conn.executemany(
                "INSERT INTO embeddings (model, paper_pk, content_hash, paper_rev, vector, rev) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (model, paper_pk) DO UPDATE SET "
                "content_hash = excluded.content_hash, paper_rev = excluded.paper_rev, "
                "vector = excluded.vector, rev = excluded.rev",
                [
                    (model, pk, digest, paper_rev, vector, rev)
                    for pk, paper_rev, digest, vector in rows
                    if vector is not None
                ],
            )
            conn.executemany(
                "UPDATE embeddings SET paper_rev = ? WHERE model = ? AND paper_pk = ?",
                [(paper_rev, model, pk) for pk, paper_rev, _, vector in rows if vector is None],
            )
            conn.executemany(
                "DELETE FROM embed_claims WHERE model = ? AND paper_pk = ?",
                [(model, pk) for pk, *_ in rows],
            )
        return len(rows)

    def embeddings_since(
        self, model: str, after: tuple[int, int], limit: int
    ) -> list[tuple[int, int, bytes]]:
        """(rev, pk, float16 vector bytes) of vectors stored after `after` = (rev, pk)."""
        rows = self.conn.execute(
            "SELECT rev, paper_pk, vector FROM embeddings "
            "WHERE model = ? AND (rev, paper_pk) > (?, ?) ORDER BY rev, paper_pk LIMIT ?",
            (model, *after, limit),
        )
        return [(int(row[0]), int(row[1]), bytes(row[2])) for row in rows]

    def count_embeddings(self, model: str) -> int:
        row = self.conn.execute("SELECT count(*) FROM embeddings WHERE model = ?", (model,))
        return int(row.fetchone()[0])


def _lease_time(moment: datetime) -> str:
    """Lease ends as sortable text (microseconds, so short test leases compare right)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
