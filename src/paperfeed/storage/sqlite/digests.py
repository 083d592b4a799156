"""Digests: who is due, what they were sent before, and saving a composed digest with its mail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from paperfeed.models import DigestRecord, Subscriber
from paperfeed.storage.sqlite.database import Database, chunks
from paperfeed.storage.sqlite.people import (
    SUBSCRIBER_COLUMNS,
    insert_mail,
    stamp,
    subscriber_row,
)


class DigestQueries(Database):
    """A digest row, its papers and its queued message are written in one transaction, so a
    subscriber gets one digest per period however often (or however many) senders run."""

    def active_subscribers(self) -> list[Subscriber]:
        rows = self.conn.execute(
            f"SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE status = 'active' "
            "AND frequency != 'paused' ORDER BY id"
        )
        return [subscriber_row(row) for row in rows]

    def digested(self, period: str) -> set[int]:
        """Subscribers who have a digest for `period` already."""
        rows = self.conn.execute("SELECT subscriber_id FROM digests WHERE period = ?", (period,))
        return {int(row[0]) for row in rows}

    def papers_sent(self, paper_pks: Sequence[int]) -> dict[int, set[int]]:
        """For each subscriber, which of `paper_pks` a digest has brought them already."""
        sent: dict[int, set[int]] = {}
        for chunk in chunks(list(paper_pks)):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT subscriber_id, paper_pk FROM digest_papers WHERE paper_pk IN ({marks})",
                chunk,
            ):
                sent.setdefault(int(row[0]), set()).add(int(row[1]))
        return sent

    def save_digests(self, records: Sequence[DigestRecord], now: datetime) -> int:
        """Save digests with their queued messages; one that exists for its subscriber and
        period already is left as it was. Returns how many were new."""
        if not records:
            return 0
        when = stamp(now)
        with self._write() as conn:
            # Each insert decides by the primary key whether its digest is new, so two senders
            # saving the same subscriber and period at once keep one (no check, then write).
            new = [
                record
                for record in records
                if conn.execute(
                    "INSERT INTO digests (subscriber_id, period, message_id, papers, created_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING subscriber_id",
                    (
                        record.subscriber_id,
                        record.period,
                        record.mail.message_id,
                        len(record.paper_pks),
                        when,
                    ),
                ).fetchone()
                is not None
            ]
            for record in new:
                insert_mail(conn, record.mail, now)
            conn.executemany(
                "INSERT INTO digest_papers (subscriber_id, paper_pk, period) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [(r.subscriber_id, pk, r.period) for r in new for pk in r.paper_pks],
            )
        return len(new)
