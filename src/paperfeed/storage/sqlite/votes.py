"""Votes, the upvote count every list shows, and the stored trending rank."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from paperfeed.models import ListedPaper
from paperfeed.storage.errors import PaperNotFound
from paperfeed.storage.sqlite.database import Database, chunks
from paperfeed.storage.sqlite.listings import LISTED_COLUMNS, listed_row
from paperfeed.storage.sqlite.rows import DAY_SQL, iso_datetime, parse_date, shown_sql
from paperfeed.trending import HALF_LIFE_HOURS, trend_key

# The day a paper's age counts from: first featured on Hugging Face, else listed/published.
_SINCE_SQL = f"coalesce((SELECT min(day) FROM featured f WHERE f.paper_pk = p.pk), {DAY_SQL})"


class VoteQueries(Database):
    """Local votes and imported counts become papers.upvotes and papers.trend_key, updated in
    the same transaction as the vote or import that changes them."""

    def set_vote(self, subscriber_id: int, pk: int, on: bool, now: datetime) -> int:
        """Vote for paper `pk` (on) or take the vote back; returns its new upvote count."""
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM papers WHERE pk = ?", (pk,)).fetchone() is None:
                raise PaperNotFound(str(pk))
            if on:
                conn.execute(
                    "INSERT INTO votes (subscriber_id, paper_pk, created_at) VALUES (?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (subscriber_id, pk, iso_datetime(now)),
                )
            else:
                conn.execute(
                    "DELETE FROM votes WHERE subscriber_id = ? AND paper_pk = ?",
                    (subscriber_id, pk),
                )
            count_upvotes(conn, [pk])
            return int(conn.execute("SELECT upvotes FROM papers WHERE pk = ?", (pk,)).fetchone()[0])

    def voted(self, subscriber_id: int, paper_ids: Iterable[str]) -> set[str]:
        """Which of `paper_ids` the subscriber has voted for."""
        found: set[str] = set()
        for chunk in chunks(list(paper_ids)):
            marks = ",".join("?" * len(chunk))
            found.update(
                row[0]
                for row in self.conn.execute(
                    "SELECT p.id FROM votes v JOIN papers p ON p.pk = v.paper_pk "
                    f"WHERE v.subscriber_id = ? AND p.id IN ({marks})",
                    (subscriber_id, *chunk),
                )
            )
        return found

    def voted_pks(self, subscriber_id: int) -> set[int]:
        rows = self.conn.execute(
            "SELECT paper_pk FROM votes WHERE subscriber_id = ?", (subscriber_id,)
        )
        return {int(row[0]) for row in rows}

    def trend_half_life(self) -> float:
        return _half_life(self.conn)

    def set_trend_half_life(self, hours: float, force: bool = False) -> int:
        """Use `hours` as the trending half-life; recomputes every stored rank when it changes
        (or with `force`). Returns how many papers were re-ranked."""
        if hours <= 0:
            raise ValueError("the trending half-life must be positive")
        if not force and _stored_half_life(self.conn) == hours:
            return 0  # the usual case, every worker cycle: no write transaction
        with self._write() as conn:
            if not force and _stored_half_life(conn) == hours:
                return 0
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('trend_half_life', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (repr(float(hours)),),
            )
            conn.execute("UPDATE papers SET trend_key = NULL WHERE trend_key IS NOT NULL")
            pks = [int(r[0]) for r in conn.execute("SELECT pk FROM papers WHERE upvotes > 0")]
            for chunk in chunks(pks):
                _rank(conn, chunk, hours)
            return len(pks)

    def trending_papers(
        self, since: date, until: date, limit: int, offset: int = 0, has_code: bool = False
    ) -> list[ListedPaper]:
        """Papers of days [since, until] by trending rank (voted ones first), then newest."""
        rows = self.conn.execute(
            f"SELECT {LISTED_COLUMNS} FROM papers p WHERE {DAY_SQL} BETWEEN ? AND ? "
            f"{shown_sql(has_code)} "
            f"ORDER BY p.trend_key IS NULL, p.trend_key DESC, {DAY_SQL} DESC, p.pk DESC "
            "LIMIT ? OFFSET ?",
            (since.isoformat(), until.isoformat(), limit, offset),
        )
        return [listed_row(row) for row in rows]


def count_upvotes(conn: sqlite3.Connection, pks: Sequence[int]) -> None:
    """Recount papers.upvotes (latest imported count + local votes) and their trending rank,
    inside the caller's write transaction."""
    half_life = _half_life(conn)
    for chunk in chunks(list(pks)):
        marks = ",".join("?" * len(chunk))
        conn.execute(
            "UPDATE papers SET upvotes = "
            "coalesce((SELECT max(upvotes) FROM featured f WHERE f.paper_pk = papers.pk), 0) "
            "+ (SELECT count(*) FROM votes v WHERE v.paper_pk = papers.pk) "
            f"WHERE pk IN ({marks})",
            chunk,
        )
        _rank(conn, chunk, half_life)


def _half_life(conn: sqlite3.Connection) -> float:
    stored = _stored_half_life(conn)
    return HALF_LIFE_HOURS if stored is None else stored


def _stored_half_life(conn: sqlite3.Connection) -> float | None:
    """The half-life the stored ranks were made with; None before any (after migration 005,
    papers with imported votes have no rank until one is set)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'trend_half_life'").fetchone()
    return float(row[0]) if row else None


def _rank(conn: sqlite3.Connection, pks: Sequence[int], half_life: float) -> None:
    marks = ",".join("?" * len(pks))
    rows = conn.execute(
        f"SELECT p.pk, p.upvotes, {_SINCE_SQL} AS since FROM papers p WHERE p.pk IN ({marks})",
        list(pks),
    ).fetchall()
    conn.executemany(
        "UPDATE papers SET trend_key = ? WHERE pk = ?",
        [
            (
                trend_key(int(r["upvotes"]), parse_date(r["since"]) or date.min, half_life)
                if r["since"]
                else None,
                int(r["pk"]),
            )
            for r in rows
        ],
    )
