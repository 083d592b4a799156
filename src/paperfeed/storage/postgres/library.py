"""A reader's library in PostgreSQL: collections and their papers, notes, read and dismissed
papers, follows and private feed tokens."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

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
from paperfeed.storage.postgres.database import Connection, Database, unique_violation
from paperfeed.storage.postgres.rows import P_COLUMNS, row_to_paper

_COLLECTION_SQL = (
    "SELECT c.id, c.owner_id, c.name, c.created_at, c.share_token, c.is_reading_list, "
    "(SELECT count(*) FROM collection_entries e WHERE e.collection_id = c.id) AS size "
    "FROM collections c"
)
# The reading list first, then oldest first.
_COLLECTION_ORDER = "ORDER BY c.is_reading_list DESC, c.created_at, c.id"
# Per reader and paper, a mark: when it was set (papers_read, papers_dismissed).
_MARKS = {"read": ("papers_read", "read_at"), "dismissed": ("papers_dismissed", "dismissed_at")}


def _collection(row: dict[str, Any]) -> Collection:
    return Collection(
        id=int(row["id"]),
        owner_id=int(row["owner_id"]),
        name=row["name"],
        created_at=row["created_at"].astimezone(UTC),
        share_token=row["share_token"],
        size=int(row["size"]),
        is_reading_list=bool(row["is_reading_list"]),
    )


def _check_owner(conn: Connection, owner_id: int, lock: bool = False) -> None:
    """SubscriberNotFound unless the reader exists; with `lock`, their collections change one
    transaction at a time (a name checked free stays free until we commit). NO KEY UPDATE:
    rows that only refer to the reader (votes, notes) do not wait for it."""
    row = conn.execute(
        "SELECT id FROM subscribers WHERE id = %s" + (" FOR NO KEY UPDATE" if lock else ""),
        (owner_id,),
    ).fetchone()
    if row is None:
        raise SubscriberNotFound(owner_id)


def _check_papers(conn: Connection, pks: Sequence[int]) -> None:
    """PaperNotFound for the first of `pks` that is no paper."""
    wanted = sorted(set(pks))
    rows = conn.execute("SELECT pk FROM papers WHERE pk = ANY(%s)", (wanted,)).fetchall()
    found = {int(row["pk"]) for row in rows}
    for pk in wanted:
        if pk not in found:
            raise PaperNotFound(str(pk))


def _get_collection(conn: Connection, collection_id: int) -> Collection:
    row = conn.execute(f"{_COLLECTION_SQL} WHERE c.id = %s", (collection_id,)).fetchone()
    if row is None:
        raise CollectionNotFound(collection_id)
    return _collection(row)


def _reading_list(conn: Connection, owner_id: int) -> Collection | None:
    row = conn.execute(
        f"{_COLLECTION_SQL} WHERE c.owner_id = %s AND c.is_reading_list", (owner_id,)
    ).fetchone()
    return _collection(row) if row else None


def _make_reading_list(conn: Connection, owner_id: int, now: datetime) -> Collection:
    """Inside a write: the reading list, made now (or a collection of its name made one)."""
    _check_owner(conn, owner_id, lock=True)
    found = _reading_list(conn, owner_id)
    if found is not None:
        return found
    conn.execute(
        "UPDATE collections SET is_reading_list = true WHERE owner_id = %s AND name_key = %s",
        (owner_id, READING_LIST_KEY),
    )
    conn.execute(
        "INSERT INTO collections (owner_id, name, name_key, is_reading_list, created_at) "
        "VALUES (%s, %s, %s, true, %s) ON CONFLICT DO NOTHING",
        (owner_id, READING_LIST, READING_LIST_KEY, now),
    )
    made = _reading_list(conn, owner_id)
    if made is None:  # pragma: no cover - made or found just now
        raise CollectionNotFound(0)
    return made


class LibraryQueries(Database):
    """The Library part of the contract (storage/base.py) on PostgreSQL."""

    # -- collections ---------------------------------------------------------------------

    def reading_list(self, owner_id: int, now: datetime) -> Collection:
        with self._conn() as conn:
            found = _reading_list(conn, owner_id)
        if found is not None:
            return found
        with self._write() as conn:
            return _make_reading_list(conn, owner_id, now)

    def create_collection(self, owner_id: int, name: str, now: datetime) -> Collection:
        cleaned = collection_name(name)
        key = name_key(cleaned)
        with self._write() as conn:
            if key == READING_LIST_KEY:
                return _make_reading_list(conn, owner_id, now)
            _check_owner(conn, owner_id, lock=True)
            conn.execute(
                "INSERT INTO collections (owner_id, name, name_key, created_at) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (owner_id, cleaned, key, now),
            )
            row = conn.execute(
                f"{_COLLECTION_SQL} WHERE c.owner_id = %s AND c.name_key = %s", (owner_id, key)
            ).fetchone()
        return _collection(row)

    def collections_of(self, owner_id: int) -> list[Collection]:
        with self._conn() as conn:
            rows = conn.execute(
                f"{_COLLECTION_SQL} WHERE c.owner_id = %s {_COLLECTION_ORDER}", (owner_id,)
            ).fetchall()
        return [_collection(row) for row in rows]

    def get_collection(self, collection_id: int) -> Collection:
        with self._conn() as conn:
            return _get_collection(conn, collection_id)

    def rename_collection(self, collection_id: int, name: str) -> Collection:
        cleaned = collection_name(name)
        key = name_key(cleaned)
        with self._write() as conn:
            current = _get_collection(conn, collection_id)
            _check_owner(conn, current.owner_id, lock=True)
            taken = conn.execute(
                "SELECT name FROM collections WHERE owner_id = %s AND name_key = %s AND id <> %s",
                (current.owner_id, key, collection_id),
            ).fetchone()
            if taken is not None:
                raise ValueError(f"there is a collection named {taken['name']!r} already")
            conn.execute(
                "UPDATE collections SET name = %s, name_key = %s WHERE id = %s",
                (cleaned, key, collection_id),
            )
            return _get_collection(conn, collection_id)

    def delete_collection(self, collection_id: int) -> bool:
        with self._write() as conn:
            cursor = conn.execute("DELETE FROM collections WHERE id = %s", (collection_id,))
            return bool(cursor.rowcount > 0)

    def share_collection(self, collection_id: int, token: str | None) -> Collection:
        if token is not None and not token:
            raise ValueError("a share token cannot be empty")
        with self._write() as conn:
            _get_collection(conn, collection_id)
            try:
                conn.execute(
                    "UPDATE collections SET share_token = %s WHERE id = %s",
                    (token, collection_id),
                )
            except unique_violation() as exc:  # raised in the block: it rolls back
                raise ValueError("another collection is shared under that token") from exc
            return _get_collection(conn, collection_id)

    def collection_by_share_token(self, token: str) -> Collection | None:
        with self._conn() as conn:
            row = conn.execute(f"{_COLLECTION_SQL} WHERE c.share_token = %s", (token,)).fetchone()
        return _collection(row) if row else None

    # -- entries -------------------------------------------------------------------------

    def save_papers(self, collection_id: int, pks: Sequence[int], now: datetime) -> int:
        wanted = list(dict.fromkeys(int(pk) for pk in pks))
        with self._write() as conn:
            _get_collection(conn, collection_id)
            _check_papers(conn, wanted)
            cursor = conn.execute(
                "INSERT INTO collection_entries (collection_id, paper_pk, added_at) "
                "SELECT %s, pk, %s FROM unnest(%s::bigint[]) AS pk ON CONFLICT DO NOTHING",
                (collection_id, now, wanted),
            )
            return int(cursor.rowcount)

    def remove_paper(self, collection_id: int, pk: int) -> bool:
        with self._write() as conn:
            _get_collection(conn, collection_id)
            cursor = conn.execute(
                "DELETE FROM collection_entries WHERE collection_id = %s AND paper_pk = %s",
                (collection_id, pk),
            )
            return bool(cursor.rowcount > 0)

    def collection_entries(
        self, collection_id: int, limit: int = 50, offset: int = 0
    ) -> list[LibraryEntry]:
        with self._conn() as conn:
            owner_id = _get_collection(conn, collection_id).owner_id
            rows = conn.execute(
                f"SELECT e.paper_pk, e.added_at, n.text AS note, {P_COLUMNS} "
                "FROM collection_entries e JOIN papers p ON p.pk = e.paper_pk "
                "LEFT JOIN paper_notes n ON n.owner_id = %s AND n.paper_pk = e.paper_pk "
                "WHERE e.collection_id = %s ORDER BY e.added_at DESC, e.paper_pk DESC "
                "LIMIT %s OFFSET %s",
                (owner_id, collection_id, limit, offset),
            ).fetchall()
        return [
            LibraryEntry(
                pk=int(row["paper_pk"]),
                paper=row_to_paper(row),
                added_at=row["added_at"].astimezone(UTC),
                note=row["note"],
            )
            for row in rows
        ]

    def saved_in(self, owner_id: int, pks: Iterable[int]) -> dict[int, set[int]]:
        wanted = sorted({int(pk) for pk in pks})
        if not wanted:
            return {}
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT e.paper_pk, e.collection_id FROM collection_entries e "
                "JOIN collections c ON c.id = e.collection_id "
                "WHERE c.owner_id = %s AND e.paper_pk = ANY(%s)",
                (owner_id, wanted),
            ).fetchall()
        found: dict[int, set[int]] = {}
        for row in rows:
            found.setdefault(int(row["paper_pk"]), set()).add(int(row["collection_id"]))
        return found

    def saved_pks(self, owner_id: int) -> set[int]:
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT DISTINCT e.paper_pk FROM collection_entries e "
                "JOIN collections c ON c.id = e.collection_id WHERE c.owner_id = %s",
                (owner_id,),
            ).fetchall()
        return {int(row["paper_pk"]) for row in rows}

    # -- notes, read and dismissed -------------------------------------------------------

    def set_note(self, owner_id: int, pk: int, text: str | None, now: datetime) -> None:
        kept = note_text(text)
        with self._write() as conn:
            if kept is None:
                conn.execute(
                    "DELETE FROM paper_notes WHERE owner_id = %s AND paper_pk = %s",
                    (owner_id, pk),
                )
                return
            _check_owner(conn, owner_id)
            _check_papers(conn, [pk])
            conn.execute(
                "INSERT INTO paper_notes (owner_id, paper_pk, text, updated_at) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (owner_id, paper_pk) DO UPDATE SET "
                "text = excluded.text, updated_at = excluded.updated_at",
                (owner_id, pk, kept, now),
            )

    def notes_for(self, owner_id: int, pks: Iterable[int]) -> dict[int, str]:
        wanted = sorted({int(pk) for pk in pks})
        if not wanted:
            return {}
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT paper_pk, text FROM paper_notes WHERE owner_id = %s AND paper_pk = ANY(%s)",
                (owner_id, wanted),
            ).fetchall()
        return {int(row["paper_pk"]): row["text"] for row in rows}

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
                    f"DELETE FROM {table} WHERE owner_id = %s AND paper_pk = %s", (owner_id, pk)
                )
                return
            _check_owner(conn, owner_id)
            _check_papers(conn, [pk])
            conn.execute(
                f"INSERT INTO {table} (owner_id, paper_pk, {column}) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (owner_id, pk, now),
            )

    def _marked(self, mark: str, owner_id: int) -> set[int]:
        table, _ = _MARKS[mark]
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT paper_pk FROM {table} WHERE owner_id = %s", (owner_id,)
            ).fetchall()
        return {int(row["paper_pk"]) for row in rows}

    # -- follows ---------------------------------------------------------------------------

    def follow(self, owner_id: int, kind: str, value: str, now: datetime) -> bool:
        cleaned = follow_value(kind, value)
        with self._write() as conn:
            _check_owner(conn, owner_id)
            cursor = conn.execute(
                "INSERT INTO follows (owner_id, kind, value, created_at) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (owner_id, kind, cleaned, now),
            )
            return bool(cursor.rowcount > 0)

    def unfollow(self, owner_id: int, kind: str, value: str) -> bool:
        cleaned = follow_value(kind, value)
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM follows WHERE owner_id = %s AND kind = %s AND value = %s",
                (owner_id, kind, cleaned),
            )
            return bool(cursor.rowcount > 0)

    def follows_of(self, owner_id: int) -> list[Follow]:
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT kind, value, created_at FROM follows WHERE owner_id = %s "
                "ORDER BY created_at, kind, value",
                (owner_id,),
            ).fetchall()
        return [
            Follow(row["kind"], row["value"], row["created_at"].astimezone(UTC)) for row in rows
        ]

    def followers_of(self, kind: str, value: str) -> list[int]:
        cleaned = follow_value(kind, value)
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT owner_id FROM follows WHERE kind = %s AND value = %s ORDER BY owner_id",
                (kind, cleaned),
            ).fetchall()
        return [int(row["owner_id"]) for row in rows]

    # -- private feed tokens ---------------------------------------------------------------

    def feed_token(self, owner_id: int) -> str | None:
        with self._conn() as conn:
            row = conn.execute(
                "SELECT digest FROM feed_tokens WHERE owner_id = %s", (owner_id,)
            ).fetchone()
        return str(row["digest"]) if row else None

    def set_feed_token(self, owner_id: int, token: str | None) -> None:
        with self._write() as conn:
            if token is None:
                conn.execute("DELETE FROM feed_tokens WHERE owner_id = %s", (owner_id,))
                return
            _check_owner(conn, owner_id)
            try:
                conn.execute(
                    "INSERT INTO feed_tokens (owner_id, digest) VALUES (%s, %s) "
                    "ON CONFLICT (owner_id) DO UPDATE SET digest = excluded.digest",
                    (owner_id, token_digest(token)),
                )
            except unique_violation() as exc:  # raised in the block: it rolls back
                raise ValueError("another reader's feed has that token") from exc

    def owner_of_feed_token(self, token: str) -> int | None:
        if not token:
            return None
        with self._conn() as conn:
            row = conn.execute(
                "SELECT owner_id FROM feed_tokens WHERE digest = %s", (token_digest(token),)
            ).fetchone()
        return int(row["owner_id"]) if row else None
