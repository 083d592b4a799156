"""Papers' keyphrases in PostgreSQL: which papers need them, saving and reading them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from paperfeed.models import Paper
from paperfeed.storage.postgres.database import Database
from paperfeed.storage.postgres.rows import P_COLUMNS, row_to_paper


class KeywordQueries(Database):
    """The Keywords part of the contract (storage/base.py) on PostgreSQL."""

    def papers_for_keywords(
        self, model: str, method: str, after_pk: int, limit: int
    ) -> list[tuple[int, str, Paper, bytes]]:
        # A vector is current while its paper_rev is the paper's rev (search.py).
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT p.pk, e.content_hash, e.vector, {P_COLUMNS} FROM papers p "
                "JOIN embeddings e ON e.model = %s AND e.paper_pk = p.pk AND e.paper_rev = p.rev "
                "LEFT JOIN paper_keywords k ON k.paper_pk = p.pk "
                "WHERE p.pk > %s AND (k.paper_pk IS NULL OR k.method <> %s "
                "OR k.content_hash <> e.content_hash) ORDER BY p.pk LIMIT %s",
                (model, after_pk, method, limit),
            ).fetchall()
        return [
            (int(row["pk"]), str(row["content_hash"]), row_to_paper(row), bytes(row["vector"]))
            for row in rows
        ]

    def save_keywords(self, method: str, rows: Sequence[tuple[int, str, Sequence[str]]]) -> int:
        if not rows:
            return 0
        with self._write() as conn:
            found = conn.execute(
                "SELECT pk FROM papers WHERE pk = ANY(%s)", ([pk for pk, *_ in rows],)
            ).fetchall()
            existing = {int(row["pk"]) for row in found}
            kept = [row for row in rows if row[0] in existing]
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO paper_keywords (paper_pk, keywords, method, content_hash) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (paper_pk) DO UPDATE SET "
                    "keywords = excluded.keywords, method = excluded.method, "
                    "content_hash = excluded.content_hash",
                    [(pk, list(phrases), method, digest) for pk, digest, phrases in kept],
                )
        return len(kept)

    def keywords_for_ids(self, paper_ids: Iterable[str]) -> dict[str, list[str]]:
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT p.id, k.keywords FROM papers p JOIN paper_keywords k "
                "ON k.paper_pk = p.pk WHERE p.id = ANY(%s) AND cardinality(k.keywords) > 0",
                (list(dict.fromkeys(paper_ids)),),
            ).fetchall()
        return {str(row["id"]): [str(phrase) for phrase in row["keywords"]] for row in rows}

    def stored_keywords(
        self, method: str, after_pk: int, limit: int
    ) -> list[tuple[int, str, str, list[str]]]:
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT k.paper_pk, p.id, k.content_hash, k.keywords FROM paper_keywords k "
                "JOIN papers p ON p.pk = k.paper_pk WHERE k.method = %s AND k.paper_pk > %s "
                "ORDER BY k.paper_pk LIMIT %s",
                (method, after_pk, limit),
            ).fetchall()
        return [
            (int(row["paper_pk"]), str(row["id"]), str(row["content_hash"]), list(row["keywords"]))
            for row in rows
        ]

    def count_keywords(self, method: str) -> int:
        with self._conn() as conn:
            row = conn.execute(
                "SELECT count(*) AS n FROM paper_keywords WHERE method = %s", (method,)
            ).fetchone()
        return int(row["n"])
