"""Digests on PostgreSQL: who is due, what they were sent, and saving digests with their mail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from paperfeed.models import DigestRecord, Subscriber
from paperfeed.storage.postgres.database import Database
from paperfeed.storage.postgres.people import insert_mail
from paperfeed.storage.postgres.rows import SUBSCRIBER_COLUMNS, subscriber_row


class DigestQueries(Database):
    """A digest row, its papers and its queued message are written in one transaction, so a
    subscriber gets one digest per period however often (or however many) senders run."""

    def active_subscribers(self) -> list[Subscriber]:
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE status = 'active' "
                "AND frequency != 'paused' ORDER BY id"
            ).fetchall()
        return [subscriber_row(row) for row in rows]

    def digested(self, period: str) -> set[int]:
        """Subscribers who have a digest for `period` already."""
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT subscriber_id FROM digests WHERE period = %s", (period,)
            ).fetchall()
        return {int(row["subscriber_id"]) for row in rows}

    def papers_sent(self, paper_pks: Sequence[int]) -> dict[int, set[int]]:
        """For each subscriber, which of `paper_pks` a digest has brought them already."""
        pks = [int(pk) for pk in paper_pks]
        if not pks:
            return {}
        sent: dict[int, set[int]] = {}
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT subscriber_id, paper_pk FROM digest_papers WHERE paper_pk = ANY(%s)",
                (pks,),
            ).fetchall()
        for row in rows:
            sent.setdefault(int(row["subscriber_id"]), set()).add(int(row["paper_pk"]))
        return sent

    def save_digests(self, records: Sequence[DigestRecord], now: datetime) -> int:
        """Save digests with their queued messages; one that exists for its subscriber and
        period already is left as it was. Returns how many were new."""
        if not records:
            return 0
        # Inserting in key order makes concurrent savers lock the digest rows in one order,
        # so two of them saving overlapping batches wait for each other instead of deadlocking.
        ordered = sorted(records, key=lambda r: (r.subscriber_id, r.period))
        with self._write() as conn:
            # Each insert decides by the primary key whether its digest is new: a second saver
            # of the same subscriber and period waits for the first to commit, then does
            # nothing (no check, then write).
            new = [
                record
                for record in ordered
                if conn.execute(
                    "INSERT INTO digests (subscriber_id, period, message_id, papers, created_at) "
                    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING subscriber_id",
                    (
                        record.subscriber_id,
                        record.period,
                        record.mail.message_id,
                        len(record.paper_pks),
                        now,
                    ),
                ).fetchone()
                is not None
            ]
            for record in new:
                insert_mail(conn, record.mail, now)
            papers = [(r.subscriber_id, pk, r.period) for r in new for pk in r.paper_pks]
            if papers:
                cur = conn.cursor()
                cur.executemany(
                    "INSERT INTO digest_papers (subscriber_id, paper_pk, period) "
                    "VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                    papers,
                )
        return len(new)
