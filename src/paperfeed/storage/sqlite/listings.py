"""The lists readers browse: papers of a day range, newest first, and the days around them."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import date
from typing import Any

from paperfeed.models import ListedPaper
from paperfeed.storage.discussions import COUNT_SQL
from paperfeed.storage.sqlite.database import Database, chunks
from paperfeed.storage.sqlite.rows import (
    DAY_SQL,
    P_COLUMNS,
    UPVOTES_SQL,
    parse_date,
    row_to_paper,
    shown_sql,
)

LISTED_COLUMNS = (
    f"p.pk, {DAY_SQL} AS day, {UPVOTES_SQL} AS upvotes, "
    f"{COUNT_SQL} AS num_comments, "
    "(SELECT max(num_comments) FROM featured f WHERE f.paper_pk = p.pk) AS hf_comments, "
    "(SELECT submitted_by FROM featured f WHERE f.paper_pk = p.pk AND submitted_by IS NOT NULL "
    " ORDER BY day LIMIT 1) AS submitted_by, "
    "(SELECT min(day) FROM featured f WHERE f.paper_pk = p.pk) AS featured_on, "
    # A reader an operator hid is no longer named (moderation.py).
    "(SELECT r.public_name FROM submissions s JOIN subscribers r ON r.id = s.subscriber_id "
    " WHERE s.paper_pk = p.pk AND NOT EXISTS (SELECT 1 FROM hidden_items h "
    " WHERE h.kind = 'reader' AND h.item_key = CAST(s.subscriber_id AS TEXT))) "
    "AS submitted_here_by, "
    f"{P_COLUMNS}"
)
_ORDERS = {
    # Within a day by votes, as Hugging Face orders its daily lists.
    "upvotes": "upvotes DESC, day DESC, p.pk DESC",
    "date": "day DESC, upvotes DESC, p.pk DESC",
}


def listed_row(row: sqlite3.Row) -> ListedPaper:
    return ListedPaper(
        pk=int(row["pk"]),
        paper=row_to_paper(row),
        day=parse_date(row["day"]),
        upvotes=int(row["upvotes"] or 0),
        num_comments=int(row["num_comments"] or 0),
        hf_comments=int(row["hf_comments"] or 0),
        submitted_by=row["submitted_by"],
        featured_on=parse_date(row["featured_on"]),
        submitted_here_by=row["submitted_here_by"],
    )


class ListingQueries(Database):
    """Day-range lists and their neighbours; one query each."""

    def listed_papers(
        self,
        since: date,
        until: date,
        order: str = "upvotes",
        limit: int = 50,
        offset: int = 0,
        has_code: bool = False,
    ) -> list[ListedPaper]:
        """Papers whose day is in [since, until], ordered by `order` (upvotes or date)."""
        rows = self.conn.execute(
            f"SELECT {LISTED_COLUMNS} FROM papers p WHERE {DAY_SQL} BETWEEN ? AND ? "
            f"{shown_sql(has_code)} ORDER BY {_ORDERS[order]} LIMIT ? OFFSET ?",
            (since.isoformat(), until.isoformat(), limit, offset),
        )
        return [listed_row(row) for row in rows]

    def count_listed(self, since: date, until: date, has_code: bool = False) -> int:
        row = self.conn.execute(
            f"SELECT count(*) FROM papers p WHERE {DAY_SQL} BETWEEN ? AND ?{shown_sql(has_code)}",
            (since.isoformat(), until.isoformat()),
        ).fetchone()
        return int(row[0])

    def listed_by_pk(self, pks: Sequence[int]) -> dict[int, ListedPaper]:
        # In slices, as papers_by_pk: search's rerank stage reads every paper an author
        # ranking put in its head here (up to a page of 1,000 and more).
        found: dict[int, ListedPaper] = {}
        for chunk in chunks(list(pks)):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT {LISTED_COLUMNS} FROM papers p WHERE p.pk IN ({marks}){shown_sql()}",
                chunk,
            )
            found.update((int(row["pk"]), listed_row(row)) for row in rows)
        return found

    def day_before(self, day: date) -> date | None:
        """The last day before `day` that has papers."""
        return self._day(f"SELECT max({DAY_SQL}) FROM papers p WHERE {DAY_SQL} < ?", day)

    def day_after(self, day: date) -> date | None:
        """The first day after `day` that has papers."""
        return self._day(f"SELECT min({DAY_SQL}) FROM papers p WHERE {DAY_SQL} > ?", day)

    def latest_day(self) -> date | None:
        return self._day(f"SELECT max({DAY_SQL}) FROM papers p WHERE {DAY_SQL} IS NOT NULL")

    def list_version(self) -> int:
        row = self.conn.execute("SELECT version FROM list_version WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    def _day(self, sql: str, *params: Any) -> date | None:
        value = self.conn.execute(sql, [p.isoformat() for p in params]).fetchone()[0]
        return parse_date(value)

    def newest_papers(self, before: tuple[date, int] | None, limit: int) -> list[ListedPaper]:
        """Papers newest day first (then newest pk), after the (day, pk) cursor if given."""
        where, params = f"{DAY_SQL} IS NOT NULL{shown_sql()}", []
        if before is not None:
            where += f" AND ({DAY_SQL}, p.pk) < (?, ?)"
            params = [before[0].isoformat(), before[1]]
        rows = self.conn.execute(
            f"SELECT {LISTED_COLUMNS} FROM papers p WHERE {where} "
            f"ORDER BY {DAY_SQL} DESC, p.pk DESC LIMIT ?",
            (*params, limit),
        )
        return [listed_row(row) for row in rows]
