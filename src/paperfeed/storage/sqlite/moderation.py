"""What operators hid (comments, papers, readers) in SQLite."""

from __future__ import annotations

from datetime import datetime

from paperfeed.models import HiddenItem
from paperfeed.moderation import hidden_key, reason_text
from paperfeed.storage.sqlite.database import Database
from paperfeed.storage.sqlite.people import stamp
from paperfeed.storage.sqlite.rows import parse_datetime


class ModerationQueries(Database):
    """The Moderation part of the contract (storage/base.py) on SQLite."""

    def hide(self, kind: str, key: str, by_id: int | None, reason: str, now: datetime) -> bool:
        kind, key = hidden_key(kind, key)
        with self._write() as conn:
            done = conn.execute(
                "INSERT INTO hidden_items (kind, item_key, hidden_by, reason, hidden_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (kind, key, by_id, reason_text(reason), stamp(now)),
            )
        return done.rowcount == 1

    def unhide(self, kind: str, key: str) -> bool:
        kind, key = hidden_key(kind, key)
        with self._write() as conn:
            done = conn.execute(
                "DELETE FROM hidden_items WHERE kind = ? AND item_key = ?", (kind, key)
            )
        return done.rowcount == 1

    def hidden_keys(self, kind: str) -> set[str]:
        rows = self.conn.execute("SELECT item_key FROM hidden_items WHERE kind = ?", (kind,))
        return {row[0] for row in rows}

    def hidden_items(self, limit: int = 500) -> list[HiddenItem]:
        rows = self.conn.execute(
            "SELECT kind, item_key, hidden_by, reason, hidden_at FROM hidden_items "
            "ORDER BY hidden_at DESC, kind, item_key LIMIT ?",
            (limit,),
        )
        return [
            HiddenItem(
                kind=row["kind"],
                key=row["item_key"],
                hidden_by=row["hidden_by"],
                reason=row["reason"],
                hidden_at=parse_datetime(row["hidden_at"]) or datetime.min,
            )
            for row in rows
        ]
