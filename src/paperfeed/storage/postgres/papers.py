"""Papers, the days they were featured, and harvest state on PostgreSQL: writes and lookups."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from paperfeed.merge import merge_paper
from paperfeed.models import CatalogStats, Featured, HarvestState, Paper, UpsertCounts
from paperfeed.storage.errors import PaperNotFound
from paperfeed.storage.postgres.database import REV_SQL, Connection, Database, now_utc
from paperfeed.storage.postgres.rows import (
    PAPER_COLUMNS,
    WRITE_FIELDS,
    row_to_paper,
    write_values,
)
from paperfeed.storage.postgres.votes import count_upvotes, share_ranks

_WRITE_COLUMNS = ", ".join(WRITE_FIELDS)
_MARKS = ", ".join(["%s"] * len(WRITE_FIELDS))
_ASSIGNMENTS = ", ".join(f"{name} = %s" for name in WRITE_FIELDS)


class PaperQueries(Database):
    """The catalog itself."""

    def upsert_papers(self, papers: Sequence[Paper]) -> UpsertCounts:
        counts = UpsertCounts()
        if not papers:
            return counts
        now = now_utc()
        with self._write() as conn:
            # The re-rank lock before any row lock, in the order every writer takes them.
            share_ranks(conn)
            ids = sorted({p.id for p in papers})
            # Lock the rows being merged (in id order, so two ingests cannot deadlock): the
            # merge reads the stored paper, and another writer must not change it meanwhile.
            rows = self._fetch(conn, ids, lock=True)
            known = {paper_id: paper for paper_id, (_, paper) in rows.items()}
            pks = {paper_id: pk for paper_id, (pk, _) in rows.items()}
            # Merge in memory first (a batch may hold one paper twice), then write each
            # changed paper once, every statement of a kind in one pipelined executemany.
            changed: dict[str, Paper] = {}
            added: set[str] = set()
            for incoming in papers:
                merged = merge_paper(known.get(incoming.id), incoming)
                if merged is None:
                    counts.unchanged += 1
                    continue
                if incoming.id in pks or incoming.id in added:
                    counts.updated += 1
                else:
                    added.add(incoming.id)
                    counts.added += 1
                known[incoming.id] = changed[incoming.id] = merged
            inserted = self._insert_many(conn, [changed[i] for i in sorted(added)], now)
            for paper_id in sorted(added - inserted.keys()):
                # Another ingest inserted it since we looked: merge into theirs.
                counts.added -= 1
                found_pk, found = self._fetch(conn, [paper_id], lock=True)[paper_id]
                merged = merge_paper(found, changed.pop(paper_id))
                if merged is None:
                    counts.unchanged += 1
                    continue
                counts.updated += 1
                pks[paper_id] = found_pk
                changed[paper_id] = merged
            self._update_many(
                conn, [(pks[i], changed[i]) for i in sorted(changed) if i not in inserted], now
            )
        return counts

    def _insert_many(self, conn: Connection, papers: list[Paper], now: Any) -> dict[str, int]:
        """Insert new papers; pk by id of those inserted (one another writer added is not)."""
        if not papers:
            return {}
        cursor = conn.cursor()
        cursor.executemany(
            f"INSERT INTO papers ({_WRITE_COLUMNS}, created_at, modified_at, rev) "
            f"VALUES ({_MARKS}, %s, %s, {REV_SQL}) ON CONFLICT (id) DO NOTHING RETURNING pk",
            [(*write_values(paper), now, now) for paper in papers],
            returning=True,
        )
        inserted: dict[str, int] = {}
        for paper in papers:
            row = cursor.fetchone()
            if row is not None:
                inserted[paper.id] = int(row["pk"])
            cursor.nextset()
        self._write_categories(
            conn, [(inserted[p.id], p.categories) for p in papers if p.id in inserted]
        )
        return inserted

    def _update_many(self, conn: Connection, rows: list[tuple[int, Paper]], now: Any) -> None:
        if not rows:
            return
        cursor = conn.cursor()
        cursor.executemany(
            f"UPDATE papers SET {_ASSIGNMENTS}, modified_at = %s, rev = {REV_SQL} WHERE pk = %s",
            [(*write_values(paper), now, pk) for pk, paper in rows],
        )
        conn.execute(
            "DELETE FROM paper_categories WHERE paper_pk = ANY(%s)", ([pk for pk, _ in rows],)
        )
        self._write_categories(conn, [(pk, paper.categories) for pk, paper in rows])

    @staticmethod
    def _write_categories(conn: Connection, rows: Iterable[tuple[int, Sequence[str]]]) -> None:
        """Category rows of papers (pk, categories in order); a repeated one keeps its first."""
        values = []
        for pk, categories in rows:
            seen: dict[str, int] = {}
            for position, category in enumerate(categories):
                seen.setdefault(category, position)
            values += [(pk, category, position) for category, position in seen.items()]
        if values:
            conn.cursor().executemany(
                "INSERT INTO paper_categories (paper_pk, category, position) VALUES (%s, %s, %s)",
                values,
            )

    @staticmethod
    def _fetch(
        conn: Connection, ids: Iterable[str], lock: bool = False
    ) -> dict[str, tuple[int, Paper]]:
        """(pk, paper) by id, for the ids that exist."""
        rows = conn.execute(
            f"SELECT pk, {PAPER_COLUMNS} FROM papers WHERE id = ANY(%s) ORDER BY id"
            + (" FOR UPDATE" if lock else ""),
            (list(ids),),
        )
        return {row["id"]: (int(row["pk"]), row_to_paper(row)) for row in rows}

    def get_paper(self, paper_id: str) -> Paper:
        with self._conn() as conn:
            found = self._fetch(conn, [paper_id])
        if paper_id not in found:
            raise PaperNotFound(paper_id)
        return found[paper_id][1]

    def get_papers(self, paper_ids: Iterable[str]) -> dict[str, Paper]:
        with self._conn() as conn:
            found = self._fetch(conn, paper_ids)
        return {paper_id: paper for paper_id, (_, paper) in found.items()}

    def count_papers(self) -> int:
        with self._conn() as conn:
            return int(conn.execute("SELECT count(*) AS n FROM papers").fetchone()["n"])

    def catalog_stats(self) -> CatalogStats:
        with self._conn() as conn:
            total = int(conn.execute("SELECT count(*) AS n FROM papers").fetchone()["n"])
            by_category = {
                row["category"]: int(row["n"])
                for row in conn.execute(
                    "SELECT category, count(*) AS n FROM paper_categories "
                    "GROUP BY category ORDER BY n DESC, category"
                )
            }
            by_month = {
                row["month"]: int(row["n"])
                for row in conn.execute(
                    "SELECT to_char(coalesce(listed, (published AT TIME ZONE 'UTC')::date), "
                    "'YYYY-MM') AS month, count(*) AS n FROM papers "
                    "WHERE coalesce(listed, published::date) IS NOT NULL "
                    "GROUP BY month ORDER BY month"
                )
            }
            span = conn.execute("SELECT min(listed) AS a, max(listed) AS b FROM papers").fetchone()
            featured = conn.execute("SELECT count(*) AS n FROM featured").fetchone()["n"]
        return CatalogStats(
            papers=total,
            by_category=by_category,
            by_month=by_month,
            featured=int(featured),
            first_listed=span["a"],
            last_listed=span["b"],
        )

    # -- featured days -------------------------------------------------------------------

    def upsert_featured(self, entries: Sequence[Featured]) -> int:
        if not entries:
            return 0
        now = now_utc()
        with self._write() as conn:
            pks = self._pks(conn, sorted({e.paper_id for e in entries}))
            # Sorted, so two imports of the same rows take their locks in one order.
            rows = sorted(
                (_featured_row(pks[e.paper_id], e, now) for e in entries if e.paper_id in pks),
                key=lambda row: row[:3],
            )
            conn.cursor().executemany(
                "INSERT INTO featured (paper_pk, source, day, upvotes, num_comments, "
                "submitted_by, observed_at) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (paper_pk, source, day) DO UPDATE SET upvotes = excluded.upvotes, "
                "num_comments = excluded.num_comments, "
                "submitted_by = coalesce(excluded.submitted_by, featured.submitted_by), "
                "observed_at = excluded.observed_at",
                rows,
            )
            count_upvotes(conn, sorted({row[0] for row in rows}))
        return len(rows)

    def upvotes_for(self, pks: Iterable[int]) -> dict[int, int]:
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT pk, upvotes FROM papers WHERE pk = ANY(%s) AND upvotes > 0", (list(pks),)
            )
            return {int(row["pk"]): int(row["upvotes"]) for row in rows}

    def featured_for(self, paper_id: str) -> list[Featured]:
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT f.source, f.day, f.upvotes, f.num_comments, f.submitted_by "
                "FROM featured f JOIN papers p ON p.pk = f.paper_pk WHERE p.id = %s "
                "ORDER BY f.day",
                (paper_id,),
            ).fetchall()
        return [
            Featured(
                paper_id=paper_id,
                day=row["day"],
                source=row["source"],
                upvotes=row["upvotes"],
                num_comments=row["num_comments"],
                submitted_by=row["submitted_by"],
            )
            for row in rows
        ]

    # -- harvest state -------------------------------------------------------------------

    def get_harvest_state(self, key: str) -> HarvestState | None:
        with self._conn() as conn:
            row = conn.execute(
                "SELECT key, params, resumption_token, pages, records, completed_until "
                "FROM harvests WHERE key = %s",
                (key,),
            ).fetchone()
        if row is None:
            return None
        return HarvestState(
            key=row["key"],
            params=row["params"],
            resumption_token=row["resumption_token"],
            pages=row["pages"],
            records=row["records"],
            completed_until=row["completed_until"],
        )

    def save_harvest_state(self, state: HarvestState) -> None:
        from psycopg.types.json import Jsonb

        with self._write() as conn:
            conn.execute(
                "INSERT INTO harvests (key, params, resumption_token, pages, records, "
                "completed_until, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (key) DO UPDATE SET params = excluded.params, "
                "resumption_token = excluded.resumption_token, pages = excluded.pages, "
                "records = excluded.records, completed_until = excluded.completed_until, "
                "updated_at = excluded.updated_at",
                (
                    state.key,
                    Jsonb(state.params),
                    state.resumption_token,
                    state.pages,
                    state.records,
                    state.completed_until,
                    now_utc(),
                ),
            )


def _featured_row(pk: int, entry: Featured, now: Any) -> tuple[Any, ...]:
    return (
        pk,
        entry.source,
        entry.day,
        entry.upvotes,
        entry.num_comments,
        entry.submitted_by,
        now,
    )
