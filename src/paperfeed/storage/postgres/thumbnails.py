"""Papers' thumbnails in PostgreSQL: what the job is to try next, its results, what pages show."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from paperfeed.models import Thumbnail, ThumbnailTask
from paperfeed.storage.errors import PaperNotFound
from paperfeed.storage.postgres.database import Connection, Database
from paperfeed.storage.postgres.rows import P_COLUMNS, row_to_paper

_SHOWN = "t.mime_type, t.width, t.height, t.digest"


def _thumbnail(row: dict[str, Any], image: bytes = b"") -> Thumbnail:
    return Thumbnail(
        row["id"], row["mime_type"], int(row["width"]), int(row["height"]), row["digest"], image
    )


def _check_paper(conn: Connection, pk: int) -> None:
    # KEY SHARE: the paper cannot be deleted before we commit, and writers of it do not wait.
    row = conn.execute("SELECT 1 FROM papers WHERE pk = %s FOR KEY SHARE", (pk,)).fetchone()
    if row is None:
        raise PaperNotFound(str(pk))


class ThumbnailQueries(Database):
    """The Thumbnails part of the contract (storage/base.py) on PostgreSQL."""

    def papers_needing_thumbnails(self, now: datetime, limit: int) -> list[ThumbnailTask]:
        with self._conn() as conn:
            # papers_day (001_init.sql) walked backwards: newest day first, no sort.
            rows = conn.execute(
                f"SELECT p.pk, {P_COLUMNS} FROM papers p "
                "WHERE NOT EXISTS (SELECT 1 FROM thumbnails t WHERE t.paper_pk = p.pk) "
                "ORDER BY p.day DESC NULLS LAST, p.pk DESC LIMIT %s",
                (limit,),
            ).fetchall()
            tasks = [ThumbnailTask(int(row["pk"]), row_to_paper(row)) for row in rows]
            if len(tasks) < limit:
                due = conn.execute(
                    f"SELECT p.pk, t.attempts, {P_COLUMNS} FROM thumbnails t "
                    "JOIN papers p ON p.pk = t.paper_pk WHERE t.status = 'failed' "
                    "AND t.retry_at <= %s ORDER BY t.retry_at, p.pk LIMIT %s",
                    (now, limit - len(tasks)),
                ).fetchall()
                tasks += [
                    ThumbnailTask(int(row["pk"]), row_to_paper(row), int(row["attempts"]))
                    for row in due
                ]
        return tasks

    def save_thumbnail(self, pk: int, thumbnail: Thumbnail, pdf_bytes: int, now: datetime) -> None:
        with self._write() as conn:
            _check_paper(conn, pk)
            conn.execute(
                "INSERT INTO thumbnails (paper_pk, status, mime_type, width, height, image, "
                "digest, pdf_bytes, error, attempts, fetched_at, retry_at) "
                "VALUES (%s, 'ok', %s, %s, %s, %s, %s, %s, NULL, 1, %s, NULL) "
                "ON CONFLICT (paper_pk) DO UPDATE SET status = 'ok', "
                "mime_type = excluded.mime_type, width = excluded.width, "
                "height = excluded.height, image = excluded.image, digest = excluded.digest, "
                "pdf_bytes = excluded.pdf_bytes, error = NULL, "
                "attempts = thumbnails.attempts + 1, fetched_at = excluded.fetched_at, "
                "retry_at = NULL",
                (
                    pk,
                    thumbnail.mime_type,
                    thumbnail.width,
                    thumbnail.height,
                    thumbnail.image,
                    thumbnail.digest,
                    pdf_bytes,
                    now,
                ),
            )

    def thumbnail_failed(
        self, pk: int, error: str, attempts: int, retry_at: datetime | None, now: datetime
    ) -> None:
        with self._write() as conn:
            _check_paper(conn, pk)
            # WHERE: a thumbnail made meanwhile (another run) is not undone by a late failure.
            conn.execute(
                "INSERT INTO thumbnails (paper_pk, status, error, attempts, fetched_at, "
                "retry_at) VALUES (%s, 'failed', %s, %s, %s, %s) "
                "ON CONFLICT (paper_pk) DO UPDATE SET error = excluded.error, "
                "attempts = excluded.attempts, fetched_at = excluded.fetched_at, "
                "retry_at = excluded.retry_at WHERE thumbnails.status = 'failed'",
                (pk, error, attempts, now, retry_at),
            )

    def thumbnails_for(self, paper_ids: Iterable[str]) -> dict[str, Thumbnail]:
        ids = sorted(set(paper_ids))
        if not ids:
            return {}
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT p.id, {_SHOWN} FROM papers p JOIN thumbnails t ON t.paper_pk = p.pk "
                "WHERE p.id = ANY(%s) AND t.status = 'ok'",
                (ids,),
            ).fetchall()
        return {row["id"]: _thumbnail(row) for row in rows}

    def get_thumbnail(self, paper_id: str) -> Thumbnail | None:
        with self._conn() as conn:
            row = conn.execute(
                f"SELECT p.id, {_SHOWN}, t.image FROM papers p "
                "JOIN thumbnails t ON t.paper_pk = p.pk WHERE p.id = %s AND t.status = 'ok'",
                (paper_id,),
            ).fetchone()
        return _thumbnail(row, bytes(row["image"])) if row else None

    def thumbnail_counts(self) -> dict[str, int]:
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT CASE WHEN status = 'failed' AND retry_at IS NULL THEN 'given up' "
                "ELSE status END AS kind, count(*) AS n FROM thumbnails GROUP BY kind"
            ).fetchall()
        return {row["kind"]: int(row["n"]) for row in rows}
