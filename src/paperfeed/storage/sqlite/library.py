"""A reader's library in SQLite: collections and their papers, notes, read and dismissed
papers, follows and private feed tokens."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime

from paperfeed.models import Collection, Follow, LibraryEntry
from paperfeed.storage.errors import CollectionNotFound, PaperNotFound, SubscriberNotFound
from paperfeed.storage.library import (
    READING_LIST,
    READING_LIST_KEY,
    collection_name,
    follow_value,
    name_key,
    note_text,
    token_digest,
)
from paperfeed.storage.sqlite.database import Database, chunks
from paperfeed.storage.sqlite.people import queue_stamp, stamp
from paperfeed.storage.sqlite.rows import P_COLUMNS, parse_datetime, row_to_paper

_COLLECTION_SQL = (
    "SELECT c.id, c.owner_id, c.name, c.created_at, c.share_token, c.is_reading_list, "
    "(SELECT count(*) FROM collection_entries e WHERE e.collection_id = c.id) AS size "
    "FROM collections c"
)
# The reading list first, then oldest first.
_COLLECTION_ORDER = "ORDER BY c.is_reading_list DESC, c.created_at, c.id"
# Per reader and paper, a mark: when it was set (papers_read, papers_dismissed).
_MARKS = {"read": ("papers_read", "read_at"), "dismissed": ("papers_dismissed", "dismissed_at")}


def _collection(row: sqlite3.Row) -> Collection:
    return Collection(
        id=int(row["id"]),
        owner_id=int(row["owner_id"]),
        name=row["name"],
        created_at=parse_datetime(row["created_at"]) or datetime.min,
        share_token=row["share_token"],
        size=int(row["size"]),
        is_reading_list=bool(row["is_reading_list"]),
    )


def _check_owner(conn: sqlite3.Connection, owner_id: int) -> None:
    if conn.execute("SELECT 1 FROM subscribers WHERE id = ?", (owner_id,)).fetchone() is None:
        raise SubscriberNotFound(owner_id)


def _check_papers(conn: sqlite3.Connection, pks: Sequence[int]) -> None:
    """PaperNotFound for the first of `pks` that is no paper."""
    for chunk in chunks(sorted(set(pks))):
        marks = ",".join("?" * len(chunk))
        found = {
            int(row[0])
            for row in conn.execute(f"SELECT pk FROM papers WHERE pk IN ({marks})", chunk)
        }
        for pk in chunk:
            if pk not in found:
                raise PaperNotFound(str(pk))


class LibraryQueries(Database):
    """The Library part of the contract (storage/base.py) on SQLite."""

    # -- collections ---------------------------------------------------------------------

    def reading_list(self, owner_id: int, now: datetime) -> Collection:
        found = self._reading_list(self.conn, owner_id)
        if found is not None:
            return found
        with self._write() as conn:
            return self._make_reading_list(conn, owner_id, now)

    def _reading_list(self, conn: sqlite3.Connection, owner_id: int) -> Collection | None:
        row = conn.execute(
            f"{_COLLECTION_SQL} WHERE c.owner_id = ? AND c.is_reading_list = 1", (owner_id,)
        ).fetchone()
        return _collection(row) if row else None

    def _make_reading_list(
        self, conn: sqlite3.Connection, owner_id: int, now: datetime
    ) -> Collection:
        """Inside a write: the reading list, made now (or a collection of its name made one)."""
        found = self._reading_list(conn, owner_id)
        if found is not None:
            return found
        _check_owner(conn, owner_id)
        conn.execute(
            "UPDATE collections SET is_reading_list = 1 WHERE owner_id = ? AND name_key = ?",
            (owner_id, READING_LIST_KEY),
        )
        conn.execute(
            "INSERT INTO collections (owner_id, name, name_key, is_reading_list, created_at) "
            "VALUES (?, ?, ?, 1, ?) ON CONFLICT DO NOTHING",
            (owner_id, READING_LIST, READING_LIST_KEY, stamp(now)),
        )
        made = self._reading_list(conn, owner_id)
        if made is None:  # pragma: no cover - made or found just now
            raise CollectionNotFound(0)
        return made

    def create_collection(self, owner_id: int, name: str, now: datetime) -> Collection:
        cleaned = collection_name(name)
        key = name_key(cleaned)
        with self._write() as conn:
            if key == READING_LIST_KEY:
                return self._make_reading_list(conn, owner_id, now)
            _check_owner(conn, owner_id)
            conn.execute(
                "INSERT INTO collections (owner_id, name, name_key, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (owner_id, cleaned, key, stamp(now)),
            )
            row = conn.execute(
                f"{_COLLECTION_SQL} WHERE c.owner_id = ? AND c.name_key = ?", (owner_id, key)
            ).fetchone()
        return _collection(row)

    def collections_of(self, owner_id: int) -> list[Collection]:
        rows = self.conn.execute(
            f"{_COLLECTION_SQL} WHERE c.owner_id = ? {_COLLECTION_ORDER}", (owner_id,)
        )
        return [_collection(row) for row in rows]

    def get_collection(self, collection_id: int) -> Collection:
        return self._get_collection(self.conn, collection_id)

    @staticmethod
    def _get_collection(conn: sqlite3.Connection, collection_id: int) -> Collection:
        row = conn.execute(f"{_COLLECTION_SQL} WHERE c.id = ?", (collection_id,)).fetchone()
        if row is None:
            raise CollectionNotFound(collection_id)
        return _collection(row)

    def rename_collection(self, collection_id: int, name: str) -> Collection:
        cleaned = collection_name(name)
        key = name_key(cleaned)
        with self._write() as conn:
            current = self._get_collection(conn, collection_id)
            taken = conn.execute(
                "SELECT name FROM collections WHERE owner_id = ? AND name_key = ? AND id <> ?",
                (current.owner_id, key, collection_id),
            ).fetchone()
            if taken is not None:
                raise ValueError(f"there is a collection named {taken['name']!r} already")
            conn.execute(
                "UPDATE collections SET name = ?, name_key = ? WHERE id = ?",
                (cleaned, key, collection_id),
            )
            return self._get_collection(conn, collection_id)

    def delete_collection(self, collection_id: int) -> bool:
        with self._write() as conn:
            cursor = conn.execute("DELETE FROM collections WHERE id = ?", (collection_id,))
            return cursor.rowcount > 0

    def share_collection(self, collection_id: int, token: str | None) -> Collection:
        if token is not None and not token:
            raise ValueError("a share token cannot be empty")
        with self._write() as conn:
            self._get_collection(conn, collection_id)
            if token is not None:
                other = conn.execute(
                    "SELECT 1 FROM collections WHERE share_token = ? AND id <> ?",
                    (token, collection_id),
                ).fetchone()
                if other is not None:
                    raise ValueError("another collection is shared under that token")
            conn.execute(
                "UPDATE collections SET share_token = ? WHERE id = ?", (token, collection_id)
            )
            return self._get_collection(conn, collection_id)

    def collection_by_share_token(self, token: str) -> Collection | None:
        row = self.conn.execute(f"{_COLLECTION_SQL} WHERE c.share_token = ?", (token,)).fetchone()
        return _collection(row) if row else None

    # -- entries -------------------------------------------------------------------------

    def save_papers(self, collection_id: int, pks: Sequence[int], now: datetime) -> int:
        wanted = list(dict.fromkeys(int(pk) for pk in pks))
        with self._write() as conn:
            self._get_collection(conn, collection_id)
            _check_papers(conn, wanted)
            added = queue_stamp(now)
            new = 0
            for pk in wanted:
                cursor = conn.execute(
                    "INSERT INTO collection_entries (collection_id, paper_pk, added_at) "
                    "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (collection_id, pk, added),
                )
                new += cursor.rowcount
            return new

    def remove_paper(self, collection_id: int, pk: int) -> bool:
        with self._write() as conn:
            self._get_collection(conn, collection_id)
            cursor = conn.execute(
                "DELETE FROM collection_entries WHERE collection_id = ? AND paper_pk = ?",
                (collection_id, pk),
            )
            return cursor.rowcount > 0

    def collection_entries(
        self, collection_id: int, limit: int = 50, offset: int = 0
    ) -> list[LibraryEntry]:
        conn = self.conn
        owner_id = self._get_collection(conn, collection_id).owner_id
        rows = conn.execute(
            f"SELECT e.paper_pk, e.added_at, n.text AS note, {P_COLUMNS} "
            "FROM collection_entries e JOIN papers p ON p.pk = e.paper_pk "
            "LEFT JOIN paper_notes n ON n.owner_id = ? AND n.paper_pk = e.paper_pk "
            "WHERE e.collection_id = ? ORDER BY e.added_at DESC, e.paper_pk DESC "
            "LIMIT ? OFFSET ?",
            (owner_id, collection_id, limit, offset),
        )
        return [
            LibraryEntry(
                pk=int(row["paper_pk"]),
                paper=row_to_paper(row),
                added_at=parse_datetime(row["added_at"]) or datetime.min,
                note=row["note"],
            )
            for row in rows
        ]

    def saved_in(self, owner_id: int, pks: Iterable[int]) -> dict[int, set[int]]:
        found: dict[int, set[int]] = {}
        for chunk in chunks(sorted({int(pk) for pk in pks})):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                "SELECT e.paper_pk, e.collection_id FROM collection_entries e "
                "JOIN collections c ON c.id = e.collection_id "
                f"WHERE c.owner_id = ? AND e.paper_pk IN ({marks})",
                (owner_id, *chunk),
            ):
                found.setdefault(int(row[0]), set()).add(int(row[1]))
        return found

    def saved_pks(self, owner_id: int) -> set[int]:
        rows = self.conn.execute(
            "SELECT DISTINCT e.paper_pk FROM collection_entries e "
            "JOIN collections c ON c.id = e.collection_id WHERE c.owner_id = ?",
            (owner_id,),
        )
        return {int(row[0]) for row in rows}

    # -- notes, read and dismissed -------------------------------------------------------

    def set_note(self, owner_id: int, pk: int, text: str | None, now: datetime) -> None:
        kept = note_text(text)
        with self._write() as conn:
            if kept is None:
                conn.execute(
                    "DELETE FROM paper_notes WHERE owner_id = ? AND paper_pk = ?", (owner_id, pk)
                )
                return
            _check_owner(conn, owner_id)
            _check_papers(conn, [pk])
            conn.execute(
                "INSERT INTO paper_notes (owner_id, paper_pk, text, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (owner_id, paper_pk) DO UPDATE SET "
                "text = excluded.text, updated_at = excluded.updated_at",
                (owner_id, pk, kept, stamp(now)),
            )

    def notes_for(self, owner_id: int, pks: Iterable[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        for chunk in chunks(sorted({int(pk) for pk in pks})):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                "SELECT paper_pk, text FROM paper_notes "
                f"WHERE owner_id = ? AND paper_pk IN ({marks})",
                (owner_id, *chunk),
            ):
                found[int(row[0])] = row[1]
        return found

    def mark_read(self, owner_id: int, pk: int, read: bool, now: datetime) -> None:
        self._mark("read", owner_id, pk, read, now)

    def read_pks(self, owner_id: int) -> set[int]:
        return self._marked("read", owner_id)

    def dismiss(self, owner_id: int, pk: int, on: bool, now: datetime) -> None:
        self._mark("dismissed", owner_id, pk, on, now)

    def dismissed_pks(self, owner_id: int) -> set[int]:
        return self._marked("dismissed", owner_id)

    def _mark(self, mark: str, owner_id: int, pk: int, on: bool, now: datetime) -> None:
        table, column = _MARKS[mark]
        with self._write() as conn:
            if not on:
                conn.execute(
                    f"DELETE FROM {table} WHERE owner_id = ? AND paper_pk = ?", (owner_id, pk)
                )
                return
            _check_owner(conn, owner_id)
            _check_papers(conn, [pk])
            conn.execute(
                f"INSERT INTO {table} (owner_id, paper_pk, {column}) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (owner_id, pk, stamp(now)),
            )

    def _marked(self, mark: str, owner_id: int) -> set[int]:
        table, _ = _MARKS[mark]
        rows = self.conn.execute(f"SELECT paper_pk FROM {table} WHERE owner_id = ?", (owner_id,))
        return {int(row[0]) for row in rows}

    # -- follows ---------------------------------------------------------------------------

    def follow(self, owner_id: int, kind: str, value: str, now: datetime) -> bool:
        cleaned = follow_value(kind, value)
        with self._write() as conn:
            _check_owner(conn, owner_id)
            cursor = conn.execute(
                "INSERT INTO follows (owner_id, kind, value, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (owner_id, kind, cleaned, queue_stamp(now)),
            )
            return cursor.rowcount > 0

    def unfollow(self, owner_id: int, kind: str, value: str) -> bool:
        cleaned = follow_value(kind, value)
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM follows WHERE owner_id = ? AND kind = ? AND value = ?",
                (owner_id, kind, cleaned),
            )
            return cursor.rowcount > 0

    def follows_of(self, owner_id: int) -> list[Follow]:
        rows = self.conn.execute(
            "SELECT kind, value, created_at FROM follows WHERE owner_id = ? "
            "ORDER BY created_at, kind, value",
            (owner_id,),
        )
        return [
            Follow(row["kind"], row["value"], parse_datetime(row["created_at"]) or datetime.min)
            for row in rows
        ]

    def followers_of(self, kind: str, value: str) -> list[int]:
        rows = self.conn.execute(
            "SELECT owner_id FROM follows WHERE kind = ? AND value = ? ORDER BY owner_id",
            (kind, follow_value(kind, value)),
        )
        return [int(row[0]) for row in rows]

    # -- private feed tokens ---------------------------------------------------------------

    def feed_token(self, owner_id: int) -> str | None:
        row = self.conn.execute(
            "SELECT digest FROM feed_tokens WHERE owner_id = ?", (owner_id,)
        ).fetchone()
        return str(row[0]) if row else None

    def set_feed_token(self, owner_id: int, token: str | None) -> None:
        with self._write() as conn:
            if token is None:
                conn.execute("DELETE FROM feed_tokens WHERE owner_id = ?", (owner_id,))
                return
            _check_owner(conn, owner_id)
            digest = token_digest(token)
            other = conn.execute(
                "SELECT 1 FROM feed_tokens WHERE digest = ? AND owner_id <> ?", (digest, owner_id)
            ).fetchone()
            if other is not None:
                raise ValueError("another reader's feed has that token")
            conn.execute(
                "INSERT INTO feed_tokens (owner_id, digest) VALUES (?, ?) "
                "ON CONFLICT (owner_id) DO UPDATE SET digest = excluded.digest",
                (owner_id, digest),
            )

    def owner_of_feed_token(self, token: str) -> int | None:
        if not token:
            return None
        row = self.conn.execute(
            "SELECT owner_id FROM feed_tokens WHERE digest = ?", (token_digest(token),)
        ).fetchone()
        return int(row[0]) if row else None
