"""What operators hid (comments, papers, readers) in PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from paperfeed.models import HiddenItem
from paperfeed.moderation import hidden_key, reason_text
from paperfeed.storage.postgres.database import Database


class ModerationQueries(Database):
    """The Moderation part of the contract (storage/base.py) on PostgreSQL."""

    def hide(self, kind: str, key: str, by_id: int | None, reason: str, now: datetime) -> bool:
        kind, key = hidden_key(kind, key)
        with self._write() as conn:
            done = conn.execute(
                "INSERT INTO hidden_items (kind, item_key, hidden_by, reason, hidden_at) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (kind, key, by_id, reason_text(reason), now),
            )
        return done.rowcount == 1

    def unhide(self, kind: str, key: str) -> bool:
        kind, key = hidden_key(kind, key)
        with self._write() as conn:
            done = conn.execute(
                "DELETE FROM hidden_items WHERE kind = %s AND item_key = %s", (kind, key)
            )
        return done.rowcount == 1

    def hidden_keys(self, kind: str) -> set[str]:
        with self._conn() as conn:
            rows = conn.execute("SELECT item_key FROM hidden_items WHERE kind = %s", (kind,))
            return {row["item_key"] for row in rows}

    def hidden_items(self, limit: int = 500) -> list[HiddenItem]:
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT kind, item_key, hidden_by, reason, hidden_at FROM hidden_items "
                "ORDER BY hidden_at DESC, kind, item_key LIMIT %s",
                (limit,),
            ).fetchall()
        return [
            HiddenItem(
                kind=row["kind"],
                key=row["item_key"],
                hidden_by=row["hidden_by"],
                reason=row["reason"],
                hidden_at=row["hidden_at"].astimezone(UTC),
            )
            for row in rows
        ]
