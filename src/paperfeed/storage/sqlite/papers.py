"""Papers, the days they were featured, and harvest state: writes and lookups."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import date

from paperfeed.merge import merge_paper
from paperfeed.models import CatalogStats, Featured, HarvestState, Paper, UpsertCounts
from paperfeed.storage.errors import PaperNotFound
from paperfeed.storage.sqlite.database import Database, chunks, now_iso
from paperfeed.storage.sqlite.rows import (
    PAPER_COLUMNS,
    WRITE_COLUMNS,
    parse_date,
    row_to_paper,
    write_values,
)
from paperfeed.storage.sqlite.votes import count_upvotes

_WRITE_NAMES = [name.strip() for name in WRITE_COLUMNS.split(",")]
_MARKS = ", ".join("?" * len(_WRITE_NAMES))
_ASSIGNMENTS = ", ".join(f"{name} = ?" for name in _WRITE_NAMES)


class PaperQueries(Database):
    """The catalog itself."""

    def upsert_papers(self, papers: Sequence[Paper]) -> UpsertCounts:
        counts = UpsertCounts()
        if not papers:
            return counts
        now = now_iso()
        with self._write() as conn:
            rev = self._next_rev(conn, "papers")
            rows = self._fetch(conn, {p.id for p in papers})
            known = {paper_id: paper for paper_id, (_, paper) in rows.items()}
            pks = {paper_id: pk for paper_id, (pk, _) in rows.items()}
            for incoming in papers:
                merged = merge_paper(known.get(incoming.id), incoming)
                if merged is None:
                    counts.unchanged += 1
                    continue
                if incoming.id in pks:
                    self._update(conn, pks[incoming.id], merged, now, rev)
                    counts.updated += 1
                else:
                    pks[incoming.id] = self._insert(conn, merged, now, rev)
                    counts.added += 1
                known[incoming.id] = merged
        return counts

    def _insert(self, conn: sqlite3.Connection, paper: Paper, now: str, rev: int) -> int:
        row = conn.execute(
            f"INSERT INTO papers ({WRITE_COLUMNS}, created_at, modified_at, rev) "
            f"VALUES ({_MARKS}, ?, ?, ?) RETURNING pk",
            (*write_values(paper), now, now, rev),
        ).fetchone()
        pk = int(row[0])
        self._write_categories(conn, pk, paper.categories)
        return pk

    def _update(self, conn: sqlite3.Connection, pk: int, paper: Paper, now: str, rev: int) -> None:
        conn.execute(
            f"UPDATE papers SET {_ASSIGNMENTS}, modified_at = ?, rev = ? WHERE pk = ?",
            (*write_values(paper), now, rev, pk),
        )
        conn.execute("DELETE FROM paper_categories WHERE paper_pk = ?", (pk,))
        self._write_categories(conn, pk, paper.categories)

    @staticmethod
    def _write_categories(conn: sqlite3.Connection, pk: int, categories: Sequence[str]) -> None:
        seen: dict[str, int] = {}
        for position, category in enumerate(categories):
            seen.setdefault(category, position)
        conn.executemany(
            "INSERT INTO paper_categories (paper_pk, category, position) VALUES (?, ?, ?)",
            [(pk, category, position) for category, position in seen.items()],
        )

    @staticmethod
    def _fetch(conn: sqlite3.Connection, ids: Iterable[str]) -> dict[str, tuple[int, Paper]]:
        """(pk, paper) by id, for the ids that exist."""
        id_list = list(ids)
        found: dict[str, tuple[int, Paper]] = {}
        for chunk in chunks(id_list):
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(
                f"SELECT pk, {PAPER_COLUMNS} FROM papers WHERE id IN ({marks})", chunk
            ):
                found[row["id"]] = (int(row["pk"]), row_to_paper(row))
        return found

    def get_paper(self, paper_id: str) -> Paper:
        found = self._fetch(self.conn, [paper_id])
        if paper_id not in found:
            raise PaperNotFound(paper_id)
        return found[paper_id][1]

    def get_papers(self, paper_ids: Iterable[str]) -> dict[str, Paper]:
        return {
            paper_id: paper for paper_id, (_, paper) in self._fetch(self.conn, paper_ids).items()
        }

    def count_papers(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM papers").fetchone()[0])

    def catalog_stats(self) -> CatalogStats:
        conn = self.conn
        total = self.count_papers()
        by_category = {
            row[0]: row[1]
            for row in conn.execute(
                "SELECT category, count(*) AS n FROM paper_categories "
                "GROUP BY category ORDER BY n DESC, category"
            )
        }
        by_month = {
            row[0]: row[1]
            for row in conn.execute(
                "SELECT substr(coalesce(listed, published), 1, 7) AS month, count(*) "
                "FROM papers WHERE coalesce(listed, published) IS NOT NULL "
                "GROUP BY month ORDER BY month"
            )
        }
        first, last = conn.execute("SELECT min(listed), max(listed) FROM papers").fetchone()
        featured = conn.execute("SELECT count(*) FROM featured").fetchone()[0]
        return CatalogStats(
            papers=total,
            by_category=by_category,
            by_month=by_month,
            featured=int(featured),
            first_listed=parse_date(first),
            last_listed=parse_date(last),
        )

    # -- featured days -------------------------------------------------------------------

    def upsert_featured(self, entries: Sequence[Featured]) -> int:
        if not entries:
            return 0
        now = now_iso()
        with self._write() as conn:
            pks = dict(self._pks(conn, {e.paper_id for e in entries}))
            rows = [
                (
                    pks[e.paper_id],
                    e.source,
                    e.day.isoformat(),
                    e.upvotes,
                    e.num_comments,
                    e.submitted_by,
                    now,
                )
                for e in entries
                if e.paper_id in pks
            ]
            conn.executemany(
                "INSERT INTO featured (paper_pk, source, day, upvotes, num_comments, "
                "submitted_by, observed_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (paper_pk, source, day) DO UPDATE SET upvotes = excluded.upvotes, "
                "num_comments = excluded.num_comments, "
                "submitted_by = coalesce(excluded.submitted_by, submitted_by), "
                "observed_at = excluded.observed_at",
                rows,
            )
            count_upvotes(conn, sorted({row[0] for row in rows}))
        return len(rows)

    def upvotes_for(self, pks: Iterable[int]) -> dict[int, int]:
        found: dict[int, int] = {}
        for chunk in chunks(list(pks)):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT pk, upvotes FROM papers WHERE pk IN ({marks}) AND upvotes > 0",
                chunk,
            ):
                found[int(row[0])] = int(row[1])
        return found

    def featured_for(self, paper_id: str) -> list[Featured]:
        rows = self.conn.execute(
            "SELECT f.source, f.day, f.upvotes, f.num_comments, f.submitted_by "
            "FROM featured f JOIN papers p ON p.pk = f.paper_pk WHERE p.id = ? ORDER BY f.day",
            (paper_id,),
        )
        return [
            Featured(
                paper_id=paper_id,
                day=date.fromisoformat(row["day"]),
                source=row["source"],
                upvotes=row["upvotes"],
                num_comments=row["num_comments"],
                submitted_by=row["submitted_by"],
            )
            for row in rows
        ]

    # -- harvest state -------------------------------------------------------------------

    def get_harvest_state(self, key: str) -> HarvestState | None:
        row = self.conn.execute(
            "SELECT key, params, resumption_token, pages, records, completed_until "
            "FROM harvests WHERE key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        return HarvestState(
            key=row["key"],
            params=json.loads(row["params"]),
            resumption_token=row["resumption_token"],
            pages=row["pages"],
            records=row["records"],
            completed_until=parse_date(row["completed_until"]),
        )

    def save_harvest_state(self, state: HarvestState) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO harvests (key, params, resumption_token, pages, records, "
                "completed_until, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET params = excluded.params, "
                "resumption_token = excluded.resumption_token, pages = excluded.pages, "
                "records = excluded.records, completed_until = excluded.completed_until, "
                "updated_at = excluded.updated_at",
                (
                    state.key,
                    json.dumps(state.params, sort_keys=True),
                    state.resumption_token,
                    state.pages,
                    state.records,
                    state.completed_until.isoformat() if state.completed_until else None,
                    now_iso(),
                ),
            )
