"""The lists readers browse on PostgreSQL: papers of a day range and the days around them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from paperfeed.models import ListedPaper
from paperfeed.storage.postgres.database import Database
from paperfeed.storage.postgres.rows import LISTED_COLUMNS, listed_row, shown_sql

_ORDERS = {
    # Within a day by votes, as Hugging Face orders its daily lists. p.day is never NULL here
    # (the WHERE clause keeps a day range), so PostgreSQL's NULLS FIRST on DESC cannot differ
    # from SQLite.
    "upvotes": "p.upvotes DESC, p.day DESC, p.pk DESC",
    "date": "p.day DESC, p.upvotes DESC, p.pk DESC",
}


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
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT {LISTED_COLUMNS} FROM papers p WHERE p.day BETWEEN %s AND %s "
                f"{shown_sql(has_code)} ORDER BY {_ORDERS[order]} LIMIT %s OFFSET %s",
                (since, until, limit, offset),
            ).fetchall()
        return [listed_row(row) for row in rows]

    def count_listed(self, since: date, until: date, has_code: bool = False) -> int:
        with self._conn() as conn:
            row = conn.execute(
                "SELECT count(*) AS n FROM papers p WHERE p.day BETWEEN %s AND %s"
                + shown_sql(has_code),
                (since, until),
            ).fetchone()
        return int(row["n"])

    def listed_by_pk(self, pks: Sequence[int]) -> dict[int, ListedPaper]:
        if not pks:
            return {}
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT {LISTED_COLUMNS} FROM papers p WHERE p.pk = ANY(%s){shown_sql()}",
                ([int(pk) for pk in pks],),
            ).fetchall()
        return {int(row["pk"]): listed_row(row) for row in rows}

    def day_before(self, day: date) -> date | None:
        """The last day before `day` that has papers."""
        return self._day("SELECT max(p.day) AS day FROM papers p WHERE p.day < %s", day)

    def day_after(self, day: date) -> date | None:
        """The first day after `day` that has papers."""
        return self._day("SELECT min(p.day) AS day FROM papers p WHERE p.day > %s", day)

    def latest_day(self) -> date | None:
        return self._day("SELECT max(p.day) AS day FROM papers p WHERE p.day IS NOT NULL")

    def list_version(self) -> int:
        with self._conn() as conn:
            row = conn.execute("SELECT version FROM list_version WHERE id = 1").fetchone()
        return int(row["version"]) if row else 0

    def _day(self, sql: str, *params: Any) -> date | None:
        with self._conn() as conn:
            value: date | None = conn.execute(sql, params).fetchone()["day"]
        return value

    def newest_papers(self, before: tuple[date, int] | None, limit: int) -> list[ListedPaper]:
        """Papers newest day first (then newest pk), after the (day, pk) cursor if given."""
        where = "p.day IS NOT NULL" + shown_sql()
        params: list[Any] = []
        if before is not None:
            where += " AND (p.day, p.pk) < (%s, %s)"
            params = [before[0], before[1]]
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT {LISTED_COLUMNS} FROM papers p WHERE {where} "
                "ORDER BY p.day DESC, p.pk DESC LIMIT %s",
                (*params, limit),
            ).fetchall()
        return [listed_row(row) for row in rows]
