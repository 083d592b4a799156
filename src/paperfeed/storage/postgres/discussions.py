"""Papers' discussions in PostgreSQL: comments and replies, and who wants mail about them."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from paperfeed.models import Comment, DiscussionMail, OutgoingMail
from paperfeed.storage.discussions import COMMENT_COLUMNS, COMMENT_FROM, VISIBLE_SQL, comment_text
from paperfeed.storage.errors import CommentNotFound, PaperNotFound, SubscriberNotFound
from paperfeed.storage.postgres.database import Connection, Database
from paperfeed.storage.postgres.people import insert_mail


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def _comment(row: dict[str, Any]) -> Comment:
    deleted = row["deleted_at"] is not None
    return Comment(
        id=int(row["id"]),
        paper_pk=int(row["paper_pk"]),
        author_id=row["author_id"],
        author_name=row["author_name"],
        parent_id=row["parent_id"],
        text="" if deleted else row["body"],
        created_at=row["created_at"].astimezone(UTC),
        edited_at=_utc(row["edited_at"]),
        deleted=deleted,
        hidden=bool(row["hidden"]),
    )


def _get(conn: Connection, comment_id: int) -> Comment:
    row = conn.execute(
        f"SELECT {COMMENT_COLUMNS} FROM {COMMENT_FROM} WHERE c.id = %s", (comment_id,)
    ).fetchone()
    if row is None:
        raise CommentNotFound(comment_id)
    return _comment(row)


class DiscussionQueries(Database):
    """The Discussions part of the contract (storage/base.py) on PostgreSQL."""

    def add_comment(
        self, paper_pk: int, author_id: int, parent_id: int | None, text: str, now: datetime
    ) -> Comment:
        body = comment_text(text)
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM papers WHERE pk = %s", (paper_pk,)).fetchone() is None:
                raise PaperNotFound(str(paper_pk))
            found = conn.execute("SELECT 1 FROM subscribers WHERE id = %s", (author_id,))
            if found.fetchone() is None:
                raise SubscriberNotFound(author_id)
            if parent_id is not None:
                # Locked: a delete of the parent waits, so no reply lands on a removed row.
                parent = conn.execute(
                    "SELECT id, parent_id, deleted_at FROM comments "
                    "WHERE id = %s AND paper_pk = %s FOR UPDATE",
                    (parent_id, paper_pk),
                ).fetchone()
                if parent is None or parent["deleted_at"] is not None:
                    raise CommentNotFound(parent_id)
                # One level of replies: a reply to a reply joins its top comment's.
                parent_id = parent["parent_id"] or parent["id"]
            made = conn.execute(
                "INSERT INTO comments (paper_pk, author_id, parent_id, body, created_at) "
                "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                (paper_pk, author_id, parent_id, body, now),
            ).fetchone()
            return _get(conn, int(made["id"]))

    def edit_comment(self, comment_id: int, author_id: int, text: str, now: datetime) -> Comment:
        body = comment_text(text)
        with self._write() as conn:
            done = conn.execute(
                "UPDATE comments SET body = %s, edited_at = %s "
                "WHERE id = %s AND author_id = %s AND deleted_at IS NULL",
                (body, now, comment_id, author_id),
            )
            if done.rowcount == 0:
                raise CommentNotFound(comment_id)
            return _get(conn, comment_id)

    def delete_comment(self, comment_id: int, author_id: int, now: datetime) -> None:
        with self._write() as conn:
            row = conn.execute(
                "SELECT parent_id FROM comments WHERE id = %s AND author_id = %s "
                "AND deleted_at IS NULL FOR UPDATE",
                (comment_id, author_id),
            ).fetchone()
            if row is None:
                raise CommentNotFound(comment_id)
            replies = conn.execute("SELECT 1 FROM comments WHERE parent_id = %s", (comment_id,))
            if replies.fetchone() is not None:
                conn.execute(
                    "UPDATE comments SET body = '', deleted_at = %s WHERE id = %s",
                    (now, comment_id),
                )
                return
            conn.execute("DELETE FROM comments WHERE id = %s", (comment_id,))
            if row["parent_id"] is not None:  # its top comment, deleted, may now go too
                conn.execute(
                    "DELETE FROM comments WHERE id = %s AND deleted_at IS NOT NULL "
                    "AND NOT EXISTS (SELECT 1 FROM comments r WHERE r.parent_id = %s)",
                    (row["parent_id"], row["parent_id"]),
                )

    def get_comment(self, comment_id: int) -> Comment:
        with self._conn() as conn:
            return _get(conn, comment_id)

    def comments_of(self, paper_pk: int) -> list[Comment]:
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT {COMMENT_COLUMNS} FROM {COMMENT_FROM} WHERE c.paper_pk = %s ORDER BY c.id",
                (paper_pk,),
            ).fetchall()
        return [_comment(row) for row in rows]

    def set_discussion_mail(
        self, subscriber_id: int, paper_pk: int, on: bool, now: datetime
    ) -> None:
        with self._write() as conn:
            if not on:
                conn.execute(
                    "UPDATE discussion_follows SET mail = false "
                    "WHERE subscriber_id = %s AND paper_pk = %s",
                    (subscriber_id, paper_pk),
                )
                return
            found = conn.execute("SELECT 1 FROM subscribers WHERE id = %s", (subscriber_id,))
            if found.fetchone() is None:
                raise SubscriberNotFound(subscriber_id)
            conn.execute(
                "INSERT INTO discussion_follows AS f (subscriber_id, paper_pk, mail, "
                "mailed_through, since) VALUES (%s, %s, true, (SELECT coalesce(max(id), 0) "
                "FROM comments WHERE paper_pk = %s), %s) ON CONFLICT (subscriber_id, paper_pk) "
                "DO UPDATE SET mail = true, "
                "since = CASE WHEN f.mail THEN f.since ELSE excluded.since END, "
                "mailed_through = CASE WHEN f.mail THEN f.mailed_through "
                "ELSE excluded.mailed_through END",
                (subscriber_id, paper_pk, paper_pk, now),
            )

    def discussion_mail_on(self, subscriber_id: int, paper_pk: int) -> bool:
        with self._conn() as conn:
            row = conn.execute(
                "SELECT mail FROM discussion_follows WHERE subscriber_id = %s AND paper_pk = %s",
                (subscriber_id, paper_pk),
            ).fetchone()
        return bool(row and row["mail"])

    def discussion_mail_due(self, now: datetime, every_s: float) -> list[DiscussionMail]:
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT f.subscriber_id AS recipient, f.last_mailed_at, {COMMENT_COLUMNS} "
                "FROM discussion_follows f JOIN subscribers r ON r.id = f.subscriber_id "
                "JOIN comments c ON c.paper_pk = f.paper_pk AND c.id > f.mailed_through "
                "LEFT JOIN subscribers s ON s.id = c.author_id "
                "WHERE f.mail AND (f.last_mailed_at IS NULL OR f.last_mailed_at <= %s) "
                "AND r.confirmed_at IS NOT NULL AND r.status <> 'suppressed' "
                f"AND (c.author_id IS NULL OR c.author_id <> f.subscriber_id) AND {VISIBLE_SQL} "
                "ORDER BY f.subscriber_id, f.paper_pk, c.id",
                (now - timedelta(seconds=every_s),),
            ).fetchall()
        grouped: dict[tuple[int, int], list[Comment]] = defaultdict(list)
        last: dict[tuple[int, int], datetime | None] = {}
        for row in rows:
            key = (int(row["recipient"]), int(row["paper_pk"]))
            grouped[key].append(_comment(row))
            last[key] = _utc(row["last_mailed_at"])
        return [
            DiscussionMail(subscriber_id, paper_pk, tuple(found), last[(subscriber_id, paper_pk)])
            for (subscriber_id, paper_pk), found in grouped.items()
        ]

    def record_discussion_mail(
        self, subscriber_id: int, paper_pk: int, through_id: int, mail: OutgoingMail, now: datetime
    ) -> bool:
        with self._write() as conn:
            done = conn.execute(
                "UPDATE discussion_follows SET mailed_through = %s, last_mailed_at = %s "
                "WHERE subscriber_id = %s AND paper_pk = %s AND mail AND mailed_through < %s",
                (through_id, now, subscriber_id, paper_pk, through_id),
            )
            if done.rowcount == 0:
                return False
            insert_mail(conn, mail, now)
            return True
