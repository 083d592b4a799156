"""Papers readers submit to the day's list, in PostgreSQL: once each, a few a reader a day."""

from __future__ import annotations

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
from paperfeed.storage.postgres.database import Connection, Database
from paperfeed.storage.postgres.rows import LISTED_COLUMNS, listed_row
from paperfeed.storage.postgres.votes import count_upvotes

SOURCE = "paperfeed"  # the featured rows submissions make
_SUBMISSION_SQL = (
    "SELECT p.id, s.subscriber_id, r.public_name, s.day, s.submitted_at FROM submissions s "
    "JOIN papers p ON p.pk = s.paper_pk JOIN subscribers r ON r.id = s.subscriber_id"
)
# Papers a reader (their name key: %s) submitted here.
_SUBMITTED_HERE_SQL = (
    "SELECT s.paper_pk FROM submissions s JOIN subscribers r ON r.id = s.subscriber_id "
    "WHERE r.public_name_key = %s"
)
# ...and those that no reader here submitted and Hugging Face says %s (as spelled) did.
_SUBMITTED_ON_HF_SQL = (
    "SELECT f.paper_pk FROM featured f WHERE f.submitted_by = %s "
    "AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.paper_pk = f.paper_pk)"
)


def _submission(row: dict[str, Any]) -> Submission:
    return Submission(
        paper_id=row["id"],
        subscriber_id=int(row["subscriber_id"]),
        submitter=row["public_name"],
        day=row["day"],
        submitted_at=row["submitted_at"].astimezone(UTC),
    )


class SubmissionQueries(Database):
    """submit_paper locks the reader's row (NO KEY UPDATE: rows that only refer to the reader
    do not wait) so their day's count stays true until it commits, and inserts with ON
    CONFLICT DO NOTHING: of two submits of one paper, the second waits for the first and then
    finds its row, without an error that would abort the caller's transaction."""

    def submit_paper(
        self, paper_id: str, subscriber_id: int, now: datetime, per_day: int
    ) -> Submission:
        day = now.astimezone(UTC).date()
        with self._write() as conn:
            found = conn.execute("SELECT pk FROM papers WHERE id = %s", (paper_id,)).fetchone()
            if found is None:
                raise PaperNotFound(paper_id)
            pk = int(found["pk"])
            reader = conn.execute(
                "SELECT id FROM subscribers WHERE id = %s FOR NO KEY UPDATE", (subscriber_id,)
            ).fetchone()
            if reader is None:
                raise SubscriberNotFound(subscriber_id)
            before = self._submission_of(conn, pk)
            if before is not None:
                raise AlreadySubmitted(before)
            done = conn.execute(
                "SELECT count(*) AS n FROM submissions WHERE subscriber_id = %s AND day = %s",
                (subscriber_id, day),
            ).fetchone()["n"]
            if int(done) >= per_day:
                raise SubmissionLimit(per_day, day)
            made = conn.execute(
                "INSERT INTO submissions (paper_pk, subscriber_id, day, submitted_at) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (paper_pk) DO NOTHING RETURNING paper_pk",
                (pk, subscriber_id, day, now),
            ).fetchone()
            if made is None:  # another submit of it committed while we checked
                other = self._submission_of(conn, pk)
                if other is not None:
                    raise AlreadySubmitted(other)
                raise PaperNotFound(paper_id)  # it was submitted and deleted at once
            conn.execute(
                "INSERT INTO featured (paper_pk, source, day, upvotes, num_comments, "
                "submitted_by, observed_at) VALUES (%s, %s, %s, 0, 0, NULL, %s) "
                "ON CONFLICT (paper_pk, source, day) DO NOTHING",
                (pk, SOURCE, day, now),
            )
            count_upvotes(conn, [pk])  # its age now counts from the day it was submitted
            submission = self._submission_of(conn, pk)
        if submission is None:  # cannot happen: written above in this transaction
            raise PaperNotFound(paper_id)
        return submission

    def _submission_of(self, conn: Connection, pk: int) -> Submission | None:
        row = conn.execute(f"{_SUBMISSION_SQL} WHERE s.paper_pk = %s", (pk,)).fetchone()
        return _submission(row) if row else None

    def submission_of(self, paper_id: str) -> Submission | None:
        with self._conn() as conn:
            row = conn.execute(f"{_SUBMISSION_SQL} WHERE p.id = %s", (paper_id,)).fetchone()
        return _submission(row) if row else None

    def submissions_on(self, subscriber_id: int, day: date) -> int:
        with self._conn() as conn:
            row = conn.execute(
                "SELECT count(*) AS n FROM submissions WHERE subscriber_id = %s AND day = %s",
                (subscriber_id, day),
            ).fetchone()
        return int(row["n"])

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
            where.append("p.day >= %s")
            params.append(since)
        if until is not None:
            where.append("p.day <= %s")
            params.append(until)
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT {LISTED_COLUMNS} FROM papers p WHERE {' AND '.join(where)} "
                "ORDER BY p.day DESC NULLS LAST, p.upvotes DESC, p.pk DESC LIMIT %s OFFSET %s",
                (*params, limit, offset),
            ).fetchall()
        return [listed_row(row) for row in rows]
