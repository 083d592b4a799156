"""Votes, the upvote count every list shows, and the stored trending rank on PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from paperfeed.models import ListedPaper
from paperfeed.storage.errors import PaperNotFound
from paperfeed.storage.postgres.database import Connection, Database, lock_key
from paperfeed.storage.postgres.rows import LISTED_COLUMNS, listed_row, shown_sql
from paperfeed.trending import HALF_LIFE_HOURS, trend_key

# The day a paper's age counts from: first featured on Hugging Face, else listed/published.
_SINCE_SQL = "coalesce((SELECT min(day) FROM featured f WHERE f.paper_pk = p.pk), p.day)"
# A full re-rank holds this transaction-level advisory lock exclusively; every recount holds
# it shared (before it reads the half-life or locks a paper), so a recount never writes a rank
# made with a half-life that a re-rank running meanwhile replaces, and two re-ranks never run
# at once. Recounts do not wait for each other on it, only for a re-rank.
_RERANK_LOCK = lock_key("trending-rerank")
_RERANK_ATTEMPTS = 8
_RERANK_LOCK_TIMEOUT_MS = 250  # below PostgreSQL's default deadlock_timeout (1 s)
_RETRY_STATES = {"40P01", "55P03"}  # deadlock_detected, lock_not_available


class VoteQueries(Database):
    """Local votes and imported counts become papers.upvotes and papers.trend_key, updated in
    the same transaction as the vote or import that changes them."""

    def set_vote(self, subscriber_id: int, pk: int, on: bool, now: datetime) -> int:
        """Vote for paper `pk` (on) or take the vote back; returns its new upvote count."""
        with self._write() as conn:
            share_ranks(conn)  # before the row lock, in the same order as a re-rank
            # The paper's row lock: concurrent votes on it recount one after the other, each
            # seeing the votes committed before it.
            if (
                conn.execute(
                    "SELECT pk FROM papers WHERE pk = %s FOR NO KEY UPDATE", (pk,)
                ).fetchone()
                is None
            ):
                raise PaperNotFound(str(pk))
            if on:
                conn.execute(
                    "INSERT INTO votes (subscriber_id, paper_pk, created_at) "
                    "VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                    (subscriber_id, pk, now),
                )
            else:
                conn.execute(
                    "DELETE FROM votes WHERE subscriber_id = %s AND paper_pk = %s",
                    (subscriber_id, pk),
                )
            count_upvotes(conn, [pk])
            row = conn.execute("SELECT upvotes FROM papers WHERE pk = %s", (pk,)).fetchone()
            return int(row["upvotes"])

    def voted(self, subscriber_id: int, paper_ids: Iterable[str]) -> set[str]:
        """Which of `paper_ids` the subscriber has voted for."""
        ids = list(paper_ids)
        if not ids:
            return set()
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT p.id FROM votes v JOIN papers p ON p.pk = v.paper_pk "
                "WHERE v.subscriber_id = %s AND p.id = ANY(%s)",
                (subscriber_id, ids),
            ).fetchall()
        return {row["id"] for row in rows}

    def voted_pks(self, subscriber_id: int) -> set[int]:
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT paper_pk FROM votes WHERE subscriber_id = %s", (subscriber_id,)
            ).fetchall()
        return {int(row["paper_pk"]) for row in rows}

    def trend_half_life(self) -> float:
        with self._conn() as conn:
            return _half_life(conn)

    def set_trend_half_life(self, hours: float, force: bool = False) -> int:
        """Use `hours` as the trending half-life; recomputes every stored rank when it changes
        (or with `force`). Returns how many papers were re-ranked."""
        if hours <= 0:
            raise ValueError("the trending half-life must be positive")
        if not force:
            with self._conn() as conn:
                if _stored_half_life(conn) == hours:
                    return 0  # the usual case, every worker cycle: no write transaction
        if getattr(self._local, "conn", None) is not None:
            with self._write() as conn:  # inside the caller's transaction: no retries
                return _rerank(conn, hours, force, patient=True)
        # The re-rank touches every voted paper, in pk order, while ingests lock papers in id
        # order: it can meet one in a deadlock. It gives up a row lock it waits on for long,
        # before PostgreSQL would pick a victim (maybe the ingest), and starts again; the last
        # attempt waits as long as it takes.
        for attempt in range(_RERANK_ATTEMPTS):
            patient = attempt == _RERANK_ATTEMPTS - 1
            try:
                with self._write() as conn:
                    return _rerank(conn, hours, force, patient)
            except Exception as exc:
                if patient or getattr(exc, "sqlstate", None) not in _RETRY_STATES:
                    raise
            time.sleep(min(0.05 * 2**attempt, 2.0))
        raise AssertionError("unreachable")  # pragma: no cover

    def trending_papers(
        self, since: date, until: date, limit: int, offset: int = 0, has_code: bool = False
    ) -> list[ListedPaper]:
        """Papers of days [since, until] by trending rank (voted ones first), then newest."""
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT {LISTED_COLUMNS} FROM papers p WHERE p.day BETWEEN %s AND %s "
                f"{shown_sql(has_code)} "
                "ORDER BY p.trend_key IS NULL, p.trend_key DESC, p.day DESC, p.pk DESC "
                "LIMIT %s OFFSET %s",
                (since, until, limit, offset),
            ).fetchall()
        return [listed_row(row) for row in rows]


def count_upvotes(conn: Connection, pks: Sequence[int]) -> None:
    """Recount papers.upvotes (latest imported count + local votes) and their trending rank,
    inside the caller's write transaction."""
    pks = sorted({int(pk) for pk in pks})
    if not pks:
        return
    share_ranks(conn)
    # Row locks first (in pk order, so two recounts cannot deadlock), then the recount: each
    # statement after the lock sees every vote and import committed by the holder before us.
    # NO KEY UPDATE, not UPDATE: it does not wait for the key-share locks that inserting a
    # vote or featured row takes on its paper, yet still excludes another recount.
    conn.execute(
        "SELECT pk FROM papers WHERE pk = ANY(%s) ORDER BY pk FOR NO KEY UPDATE", (pks,)
    ).fetchall()
    conn.execute(
        "UPDATE papers SET upvotes = "
        "coalesce((SELECT max(upvotes) FROM featured f WHERE f.paper_pk = papers.pk), 0) "
        "+ (SELECT count(*) FROM votes v WHERE v.paper_pk = papers.pk) "
        "WHERE pk = ANY(%s)",
        (pks,),
    )
    _rank(conn, pks, _half_life(conn))


def _rerank(conn: Connection, hours: float, force: bool, patient: bool) -> int:
    """Store the half-life and re-rank every paper with it, in one transaction."""
    # One re-rank at a time (in any process); it waits for recounts under way, and new ones
    # wait for it. A process that waited here finds the half-life set already.
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_RERANK_LOCK,))
    if not force and _stored_half_life(conn) == hours:
        return 0
    if not patient:
        conn.execute(f"SET LOCAL lock_timeout = '{_RERANK_LOCK_TIMEOUT_MS}ms'")
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('trend_half_life', %s) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (repr(float(hours)),),
    )
    # One pass in pk order: voted papers get a new rank, stale ranks of unvoted ones go (as
    # SQLite's clear-then-rank does); the count is of the voted ones.
    rows = conn.execute(
        f"SELECT p.pk, p.upvotes, {_SINCE_SQL} AS since FROM papers p "
        "WHERE p.upvotes > 0 OR p.trend_key IS NOT NULL ORDER BY p.pk"
    ).fetchall()
    _store_ranks(conn, rows, hours)
    return sum(1 for row in rows if row["upvotes"] > 0)


def share_ranks(conn: Connection) -> None:
    """Wait for a full re-rank under way, and keep one from starting until we commit.

    count_upvotes takes it; a transaction that locks papers before it calls count_upvotes
    (an ingest) should take it first too, or it can deadlock with a re-rank."""
    conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", (_RERANK_LOCK,))


def _half_life(conn: Connection) -> float:
    stored = _stored_half_life(conn)
    return HALF_LIFE_HOURS if stored is None else stored


def _stored_half_life(conn: Connection) -> float | None:
    """The half-life the stored ranks were made with; None before any is set."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'trend_half_life'").fetchone()
    return float(row["value"]) if row else None


def _rank(conn: Connection, pks: Sequence[int], half_life: float) -> None:
    rows = conn.execute(
        f"SELECT p.pk, p.upvotes, {_SINCE_SQL} AS since FROM papers p WHERE p.pk = ANY(%s) "
        "ORDER BY p.pk",
        (list(pks),),
    ).fetchall()
    _store_ranks(conn, rows, half_life)


def _store_ranks(conn: Connection, rows: list[dict[str, Any]], half_life: float) -> None:
    """Write trend_key for rows of (pk, upvotes, since), in their order."""
    if not rows:
        return
    conn.cursor().executemany(
        "UPDATE papers SET trend_key = %s WHERE pk = %s",
        [
            (
                trend_key(int(row["upvotes"]), row["since"], half_life)
                if row["since"] is not None
                else None,
                int(row["pk"]),
            )
            for row in rows
        ],
    )
