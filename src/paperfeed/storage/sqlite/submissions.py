"""Papers readers submit to the day's list, in SQLite: once each, a few a reader a day."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from typing import Any

from paperfeed.models import ListedPaper, Submission
from paperfeed.people.names import name_key
from paperfeed.storage.errors import (
    AlreadySubmitted,
    PaperNotFound,
    SubmissionLimit,
    SubscriberNotFound,
)
from paperfeed.storage.sqlite.database import Database
from paperfeed.storage.sqlite.listings import LISTED_COLUMNS, listed_row
from paperfeed.storage.sqlite.rows import DAY_SQL, iso_datetime, parse_datetime
from paperfeed.storage.sqlite.votes import count_upvotes

SOURCE = "paperfeed"  # the featured rows submissions make
_SUBMISSION_SQL = (
    "SELECT p.id, s.subscriber_id, r.public_name, s.day, s.submitted_at FROM submissions s "
    "JOIN papers p ON p.pk = s.paper_pk JOIN subscribers r ON r.id = s.subscriber_id"
)
# Papers a reader (their name key: ?) submitted here.
_SUBMITTED_HERE_SQL = (
    "SELECT s.paper_pk FROM submissions s JOIN subscribers r ON r.id = s.subscriber_id "
    "WHERE r.public_name_key = ?"
)
# ...and those that no reader here submitted and Hugging Face says ? (as spelled) did.
_SUBMITTED_ON_HF_SQL = (
    "SELECT f.paper_pk FROM featured f WHERE f.submitted_by = ? "
    "AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.paper_pk = f.paper_pk)"
)


def _submission(row: sqlite3.Row) -> Submission:
    submitted_at = parse_datetime(row[4])
    return Submission(
        paper_id=row[0],
        subscriber_id=int(row[1]),
        submitter=row[2],
        day=date.fromisoformat(row[3]),
        submitted_at=submitted_at or datetime.min.replace(tzinfo=UTC),
    )


class SubmissionQueries(Database):
    """submit_paper checks and writes in one BEGIN IMMEDIATE transaction: SQLite has one
    writer at a time, so the count it reads stays true until it commits; the primary key on
    paper_pk keeps a paper submitted once whatever happens."""

    def submit_paper(
        self, paper_id: str, subscriber_id: int, now: datetime, per_day: int
    ) -> Submission:
        day = now.astimezone(UTC).date()
        with self._write() as conn:
            found = conn.execute("SELECT pk FROM papers WHERE id = ?", (paper_id,)).fetchone()
            if found is None:
                raise PaperNotFound(paper_id)
            pk = int(found[0])
            reader = conn.execute(
                "SELECT 1 FROM subscribers WHERE id = ?", (subscriber_id,)
            ).fetchone()
            if reader is None:
                raise SubscriberNotFound(subscriber_id)
            before = self._submission_of(conn, pk)
            if before is not None:
                raise AlreadySubmitted(before)
            done = conn.execute(
                "SELECT count(*) FROM submissions WHERE subscriber_id = ? AND day = ?",
                (subscriber_id, day.isoformat()),
            ).fetchone()[0]
            if int(done) >= per_day:
                raise SubmissionLimit(per_day, day)
            conn.execute(
                "INSERT INTO submissions (paper_pk, subscriber_id, day, submitted_at) "
                "VALUES (?, ?, ?, ?)",
                (pk, subscriber_id, day.isoformat(), iso_datetime(now)),
            )
            conn.execute(
                "INSERT INTO featured (paper_pk, source, day, upvotes, num_comments, "
                "submitted_by, observed_at) VALUES (?, ?, ?, 0, 0, NULL, ?) "
                "ON CONFLICT (paper_pk, source, day) DO NOTHING",
                (pk, SOURCE, day.isoformat(), iso_datetime(now)),
            )
            count_upvotes(conn, [pk])  # its age now counts from the day it was submitted
            made = self._submission_of(conn, pk)
        if made is None:  # cannot happen: written above in this transaction
            raise PaperNotFound(paper_id)
        return made

    def _submission_of(self, conn: sqlite3.Connection, pk: int) -> Submission | None:
        row = conn.execute(f"{_SUBMISSION_SQL} WHERE s.paper_pk = ?", (pk,)).fetchone()
        return _submission(row) if row else None

    def submission_of(self, paper_id: str) -> Submission | None:
        row = self.conn.execute(f"{_SUBMISSION_SQL} WHERE p.id = ?", (paper_id,)).fetchone()
        return _submission(row) if row else None

    def submissions_on(self, subscriber_id: int, day: date) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM submissions WHERE subscriber_id = ? AND day = ?",
            (subscriber_id, day.isoformat()),
        ).fetchone()
        return int(row[0])

    def submitted_papers(
        self,
        submitter: str,
        since: date | None = None,
        until: date | None = None,
        limit: int = 50,
        offset: int = 0,
        imported: bool = True,
    ) -> list[ListedPaper]:
        if "\x00" in submitter:  # no name holds one (PostgreSQL text cannot)
            return []
        if imported:
            where = [f"p.pk IN ({_SUBMITTED_HERE_SQL} UNION {_SUBMITTED_ON_HF_SQL})"]
            params: list[Any] = [name_key(submitter), submitter]
        else:
            where, params = [f"p.pk IN ({_SUBMITTED_HERE_SQL})"], [name_key(submitter)]
        if since is not None:
            where.append(f"{DAY_SQL} >= ?")
            params.append(since.isoformat())
        if until is not None:
            where.append(f"{DAY_SQL} <= ?")
            params.append(until.isoformat())
        rows = self.conn.execute(
            f"SELECT {LISTED_COLUMNS} FROM papers p WHERE {' AND '.join(where)} "
            f"ORDER BY {DAY_SQL} DESC, p.upvotes DESC, p.pk DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [listed_row(row) for row in rows]
