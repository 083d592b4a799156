"""Papers' discussions in SQLite: comments and replies, and who wants mail about them."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import datetime, timedelta

from paperfeed.models import Comment, DiscussionMail, OutgoingMail
from paperfeed.storage.discussions import (
    COMMENT_COLUMNS,
    COMMENT_FROM,
    VISIBLE_SQL,
    comment_text,
)
from paperfeed.storage.errors import CommentNotFound, PaperNotFound, SubscriberNotFound
from paperfeed.storage.sqlite.database import Database
from paperfeed.storage.sqlite.people import insert_mail, stamp
from paperfeed.storage.sqlite.rows import parse_datetime


def _comment(row: sqlite3.Row) -> Comment:
    deleted = row["deleted_at"] is not None
    return Comment(
        id=int(row["id"]),
        paper_pk=int(row["paper_pk"]),
        author_id=row["author_id"],
        author_name=row["author_name"],
        parent_id=row["parent_id"],
        text="" if deleted else row["body"],
        created_at=parse_datetime(row["created_at"]) or datetime.min,
        edited_at=parse_datetime(row["edited_at"]),
        deleted=deleted,
        hidden=bool(row["hidden"]),
    )


def _get(conn: sqlite3.Connection, comment_id: int) -> Comment:
    row = conn.execute(
        f"SELECT {COMMENT_COLUMNS} FROM {COMMENT_FROM} WHERE c.id = ?", (comment_id,)
    ).fetchone()
    if row is None:
        raise CommentNotFound(comment_id)
    return _comment(row)


class DiscussionQueries(Database):
    """The Discussions part of the contract (storage/base.py) on SQLite."""

    def add_comment(
        self, paper_pk: int, author_id: int, parent_id: int | None, text: str, now: datetime
    ) -> Comment:
        body = comment_text(text)
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM papers WHERE pk = ?", (paper_pk,)).fetchone() is None:
                raise PaperNotFound(str(paper_pk))
            found = conn.execute("SELECT 1 FROM subscribers WHERE id = ?", (author_id,))
            if found.fetchone() is None:
                raise SubscriberNotFound(author_id)
            if parent_id is not None:
                parent = conn.execute(
                    "SELECT id, parent_id, deleted_at FROM comments WHERE id = ? AND paper_pk = ?",
                    (parent_id, paper_pk),
                ).fetchone()
                if parent is None or parent["deleted_at"] is not None:
                    raise CommentNotFound(parent_id)
                # One level of replies: a reply to a reply joins its top comment's.
                parent_id = parent["parent_id"] or parent["id"]
            made = conn.execute(
                "INSERT INTO comments (paper_pk, author_id, parent_id, body, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (paper_pk, author_id, parent_id, body, stamp(now)),
            )
            return _get(conn, int(made.lastrowid or 0))

    def edit_comment(self, comment_id: int, author_id: int, text: str, now: datetime) -> Comment:
        body = comment_text(text)
        with self._write() as conn:
            done = conn.execute(
                "UPDATE comments SET body = ?, edited_at = ? "
                "WHERE id = ? AND author_id = ? AND deleted_at IS NULL",
                (body, stamp(now), comment_id, author_id),
            )
            if done.rowcount == 0:
                raise CommentNotFound(comment_id)
            return _get(conn, comment_id)

    def delete_comment(self, comment_id: int, author_id: int, now: datetime) -> None:
        with self._write() as conn:
            row = conn.execute(
                "SELECT parent_id FROM comments WHERE id = ? AND author_id = ? "
                "AND deleted_at IS NULL",
                (comment_id, author_id),
            ).fetchone()
            if row is None:
                raise CommentNotFound(comment_id)
            replies = conn.execute("SELECT 1 FROM comments WHERE parent_id = ?", (comment_id,))
            if replies.fetchone() is not None:
                conn.execute(
                    "UPDATE comments SET body = '', deleted_at = ? WHERE id = ?",
                    (stamp(now), comment_id),
                )
                return
            conn.execute("DELETE FROM comments WHERE id = ?", (comment_id,))
            if row["parent_id"] is not None:  # its top comment, deleted, may now go too
                conn.execute(
                    "DELETE FROM comments WHERE id = ? AND deleted_at IS NOT NULL "
                    "AND NOT EXISTS (SELECT 1 FROM comments r WHERE r.parent_id = ?)",
                    (row["parent_id"], row["parent_id"]),
                )

    def get_comment(self, comment_id: int) -> Comment:
        return _get(self.conn, comment_id)

    def comments_of(self, paper_pk: int) -> list[Comment]:
        rows = self.conn.execute(
            f"SELECT {COMMENT_COLUMNS} FROM {COMMENT_FROM} WHERE c.paper_pk = ? ORDER BY c.id",
            (paper_pk,),
        )
        return [_comment(row) for row in rows]

    def set_discussion_mail(
        self, subscriber_id: int, paper_pk: int, on: bool, now: datetime
    ) -> None:
        with self._write() as conn:
            if not on:
                conn.execute(
                    "UPDATE discussion_follows SET mail = 0 "
                    "WHERE subscriber_id = ? AND paper_pk = ?",
                    (subscriber_id, paper_pk),
                )
                return
            try:
                conn.execute(
                    "INSERT INTO discussion_follows (subscriber_id, paper_pk, mail, "
                    "mailed_through, since) VALUES (?, ?, 1, (SELECT coalesce(max(id), 0) "
                    "FROM comments WHERE paper_pk = ?), ?) "
                    "ON CONFLICT (subscriber_id, paper_pk) DO UPDATE SET "
                    "mail = 1, since = CASE WHEN mail = 1 THEN since ELSE excluded.since END, "
                    "mailed_through = CASE WHEN mail = 1 THEN mailed_through "
                    "ELSE excluded.mailed_through END",
                    (subscriber_id, paper_pk, paper_pk, stamp(now)),
                )
            except sqlite3.IntegrityError as exc:
                raise SubscriberNotFound(subscriber_id) from exc

    def discussion_mail_on(self, subscriber_id: int, paper_pk: int) -> bool:
        row = self.conn.execute(
            "SELECT mail FROM discussion_follows WHERE subscriber_id = ? AND paper_pk = ?",
            (subscriber_id, paper_pk),
        ).fetchone()
        return bool(row and row["mail"])

    def discussion_mail_due(self, now: datetime, every_s: float) -> list[DiscussionMail]:
        rows = self.conn.execute(
            f"SELECT f.subscriber_id AS recipient, f.last_mailed_at, {COMMENT_COLUMNS} "
            "FROM discussion_follows f JOIN subscribers r ON r.id = f.subscriber_id "
            "JOIN comments c ON c.paper_pk = f.paper_pk AND c.id > f.mailed_through "
            "LEFT JOIN subscribers s ON s.id = c.author_id "
            "WHERE f.mail = 1 AND (f.last_mailed_at IS NULL OR f.last_mailed_at <= ?) "
            "AND r.confirmed_at IS NOT NULL AND r.status <> 'suppressed' "
            f"AND (c.author_id IS NULL OR c.author_id <> f.subscriber_id) AND {VISIBLE_SQL} "
            "ORDER BY f.subscriber_id, f.paper_pk, c.id",
            (stamp(now - timedelta(seconds=every_s)),),
        )
        grouped: dict[tuple[int, int], list[Comment]] = defaultdict(list)
        last: dict[tuple[int, int], datetime | None] = {}
        for row in rows:
            key = (int(row["recipient"]), int(row["paper_pk"]))
            grouped[key].append(_comment(row))
            last[key] = parse_datetime(row["last_mailed_at"])
        return [
            DiscussionMail(subscriber_id, paper_pk, tuple(found), last[(subscriber_id, paper_pk)])
            for (subscriber_id, paper_pk), found in grouped.items()
        ]

    def record_discussion_mail(
        self, subscriber_id: int, paper_pk: int, through_id: int, mail: OutgoingMail, now: datetime
    ) -> bool:
        with self._write() as conn:
            done = conn.execute(
                "UPDATE discussion_follows SET mailed_through = ?, last_mailed_at = ? "
                "WHERE subscriber_id = ? AND paper_pk = ? AND mail = 1 AND mailed_through < ?",
                (through_id, stamp(now), subscriber_id, paper_pk, through_id),
            )
            if done.rowcount == 0:
                return False
            insert_mail(conn, mail, now)
            return True
