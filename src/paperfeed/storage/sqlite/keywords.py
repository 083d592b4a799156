"""Papers' keyphrases in SQLite: which papers need them, saving and reading them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from paperfeed.models import Paper
from paperfeed.storage.sqlite.database import Database, chunks
from paperfeed.storage.sqlite.rows import P_COLUMNS, row_to_paper


class KeywordQueries(Database):
    """The Keywords part of the contract (storage/base.py) on SQLite."""

    def papers_for_keywords(
        self, model: str, method: str, after_pk: int, limit: int
    ) -> list[tuple[int, str, Paper, bytes]]:
        # A vector is current while paper_rev has caught up with the paper (search.py).
        rows = self.conn.execute(
            f"SELECT p.pk, e.content_hash, e.vector, {P_COLUMNS} FROM papers p "
            "JOIN embeddings e ON e.model = ? AND e.paper_pk = p.pk AND e.paper_rev >= p.rev "
            "LEFT JOIN paper_keywords k ON k.paper_pk = p.pk "
            "WHERE p.pk > ? AND (k.paper_pk IS NULL OR k.method <> ? "
            "OR k.content_hash <> e.content_hash) ORDER BY p.pk LIMIT ?",
            (model, after_pk, method, limit),
        )
        return [
            (int(row["pk"]), str(row["content_hash"]), row_to_paper(row), bytes(row["vector"]))
            for row in rows
        ]

    def save_keywords(self, method: str, rows: Sequence[tuple[int, str, Sequence[str]]]) -> int:
        if not rows:
            return 0
        with self._write() as conn:
            existing: set[int] = set()
            for chunk in chunks([pk for pk, *_ in rows]):
                marks = ",".join("?" * len(chunk))
                found = conn.execute(f"SELECT pk FROM papers WHERE pk IN ({marks})", chunk)
                existing.update(int(row[0]) for row in found)
            kept = [row for row in rows if row[0] in existing]
            conn.executemany(
                "INSERT INTO paper_keywords (paper_pk, keywords, method, content_hash) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (paper_pk) DO UPDATE SET "
                "keywords = excluded.keywords, method = excluded.method, "
                "content_hash = excluded.content_hash",
                [
                    (pk, json.dumps(list(phrases), ensure_ascii=False), method, digest)
                    for pk, digest, phrases in kept
                ],
            )
        return len(kept)

    def keywords_for_ids(self, paper_ids: Iterable[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for chunk in chunks(list(dict.fromkeys(paper_ids))):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                "SELECT p.id, k.keywords FROM papers p JOIN paper_keywords k "
                f"ON k.paper_pk = p.pk WHERE p.id IN ({marks})",
                chunk,
            ):
                phrases = json.loads(row["keywords"])
                if phrases:
                    found[str(row["id"])] = [str(phrase) for phrase in phrases]
        return found

    def stored_keywords(
        self, method: str, after_pk: int, limit: int
    ) -> list[tuple[int, str, str, list[str]]]:
        rows = self.conn.execute(
            "SELECT k.paper_pk, p.id, k.content_hash, k.keywords FROM paper_keywords k "
            "JOIN papers p ON p.pk = k.paper_pk WHERE k.method = ? AND k.paper_pk > ? "
            "ORDER BY k.paper_pk LIMIT ?",
            (method, after_pk, limit),
        )
        return [
            (int(row[0]), str(row[1]), str(row[2]), [str(p) for p in json.loads(row[3])])
            for row in rows
        ]

    def count_keywords(self, method: str) -> int:
        row = self.conn.execute("SELECT count(*) FROM paper_keywords WHERE method = ?", (method,))
        return int(row.fetchone()[0])
