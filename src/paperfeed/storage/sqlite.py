"""SqliteStore: the embedded catalog in one SQLite file (WAL), with versioned migrations."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from paperfeed.merge import merge_paper
from paperfeed.models import (
    CatalogStats,
    Featured,
    HarvestState,
    Paper,
    SearchFilters,
    UpsertCounts,
)
from paperfeed.storage.base import PaperNotFound, StorageError

_PAPER_COLUMNS = (
    "id, version, title, abstract, authors, categories, published, updated, listed, "
    "comment, doi, journal_ref, license, source"
)
_P_COLUMNS = ", ".join("p." + name.strip() for name in _PAPER_COLUMNS.split(","))
# SQLite's default limit on host parameters is 32766 since 3.32; stay far below it.
_CHUNK = 900


def sqlite_path(url: str) -> Path | None:
    """The file a sqlite URL names (None for an in-memory database).

    `sqlite:///data/x.db` is relative to the working directory, `sqlite:////srv/x.db` absolute.
    """
    if not url.startswith("sqlite:///"):
        raise StorageError(f"not a sqlite URL: {url!r} (expected sqlite:///path.db)")
    rest = url[len("sqlite:///") :].split("?", 1)[0]
    if rest in ("", ":memory:"):
        return None
    return Path(rest)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_datetime(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _parse_datetime(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _parse_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _split_statements(script: str) -> list[str]:
    """Split a migration into statements, so they run inside our own transaction.

    (`executescript` would commit first and run outside it.)
    """
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    leftover = [ln for ln in current.splitlines() if ln.strip() and not ln.strip().startswith("--")]
    if leftover:
        raise StorageError(f"incomplete SQL statement in migration: {current.strip()[:80]!r}")
    return statements


class SqliteStore:
    """The Store for one SQLite file; safe to share between threads (one connection each)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._memory_conn: sqlite3.Connection | None = None
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    # -- connections and transactions -------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        target = str(self.path) if self.path is not None else ":memory:"
        try:
            conn = sqlite3.connect(
                target, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            if self.path is not None:
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot open SQLite database {target}: {exc}") from exc
        with self._lock:
            self._connections.append(conn)
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (an in-memory database has exactly one, shared)."""
        if self.path is None:
            if self._memory_conn is None:
                self._memory_conn = self._connect()
            return self._memory_conn
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; BEGIN IMMEDIATE so two writers queue instead of deadlocking."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()
        self._memory_conn = None

    # -- schema --------------------------------------------------------------------------

    def migrate(self) -> list[str]:
        folder = resources.files("paperfeed.storage") / "migrations" / "sqlite"
        migrations = sorted(
            (entry.name, entry.read_text(encoding="utf-8"))
            for entry in folder.iterdir()
            if entry.name.endswith(".sql")
        )
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        applied: list[str] = []
        for name, script in migrations:
            with self._write() as conn:
                # Checked inside the transaction: another process may have just applied it.
                if conn.execute(
                    "SELECT 1 FROM schema_migrations WHERE name = ?", (name,)
                ).fetchone():
                    continue
                try:
                    for statement in _split_statements(script):
                        conn.execute(statement)
                except sqlite3.DatabaseError as exc:
                    raise StorageError(f"migration {name} failed: {exc}") from exc
                conn.execute(
                    "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", (name, _now())
                )
                applied.append(name)
        return applied

    # -- papers --------------------------------------------------------------------------

    def upsert_papers(self, papers: Sequence[Paper]) -> UpsertCounts:
        counts = UpsertCounts()
        if not papers:
            return counts
        now = _now()
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

    @staticmethod
    def _next_rev(conn: sqlite3.Connection, table: str, where: str = "", *params: Any) -> int:
        """The revision for this write: one more than any so far (writes are serialised)."""
        row = conn.execute(f"SELECT coalesce(max(rev), 0) + 1 FROM {table} {where}", params)
        return int(row.fetchone()[0])

    def _insert(self, conn: sqlite3.Connection, paper: Paper, now: str, rev: int) -> int:
        row = conn.execute(
            f"INSERT INTO papers ({_PAPER_COLUMNS}, created_at, modified_at, rev) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING pk",
            (*_paper_values(paper), now, now, rev),
        ).fetchone()
        pk = int(row[0])
        self._write_categories(conn, pk, paper.categories)
        return pk

    def _update(self, conn: sqlite3.Connection, pk: int, paper: Paper, now: str, rev: int) -> None:
        assignments = ", ".join(f"{name.strip()} = ?" for name in _PAPER_COLUMNS.split(","))
        conn.execute(
            f"UPDATE papers SET {assignments}, modified_at = ?, rev = ? WHERE pk = ?",
            (*_paper_values(paper), now, rev, pk),
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
    def _pks(conn: sqlite3.Connection, ids: Iterable[str]) -> Iterator[tuple[str, int]]:
        id_list = list(ids)
        for chunk in _chunks(id_list):
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(f"SELECT id, pk FROM papers WHERE id IN ({marks})", chunk):
                yield row["id"], int(row["pk"])

    @staticmethod
    def _fetch(conn: sqlite3.Connection, ids: Iterable[str]) -> dict[str, tuple[int, Paper]]:
        """(pk, paper) by id, for the ids that exist."""
        id_list = list(ids)
        found: dict[str, tuple[int, Paper]] = {}
        for chunk in _chunks(id_list):
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(
                f"SELECT pk, {_PAPER_COLUMNS} FROM papers WHERE id IN ({marks})", chunk
            ):
                found[row["id"]] = (int(row["pk"]), _row_to_paper(row))
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
            first_listed=_parse_date(first),
            last_listed=_parse_date(last),
        )

    def instance_id(self) -> str:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'instance'").fetchone()
        return str(row[0])

    def changed_papers(self, after: tuple[int, int], limit: int) -> list[tuple[int, int, Paper]]:
        rows = self.conn.execute(
            f"SELECT rev, pk, {_PAPER_COLUMNS} FROM papers WHERE (rev, pk) > (?, ?) "
            "ORDER BY rev, pk LIMIT ?",
            (*after, limit),
        )
        return [(int(row["rev"]), int(row["pk"]), _row_to_paper(row)) for row in rows]

    def papers_by_pk(self, pks: Iterable[int]) -> dict[int, Paper]:
        found: dict[int, Paper] = {}
        for chunk in _chunks(list(pks)):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT pk, {_PAPER_COLUMNS} FROM papers WHERE pk IN ({marks})", chunk
            ):
                found[int(row["pk"])] = _row_to_paper(row)
        return found

    def pks_for_ids(self, paper_ids: Iterable[str]) -> dict[str, int]:
        return dict(self._pks(self.conn, paper_ids))

    def filtered_pks(self, filters: SearchFilters) -> list[int]:
        clauses, params = _filter_sql(filters)
        rows = self.conn.execute(f"SELECT pk FROM papers p WHERE {clauses} ORDER BY pk", params)
        return [int(row[0]) for row in rows]

    # -- embeddings ----------------------------------------------------------------------

    def papers_to_embed(
        self, model: str, after_pk: int, limit: int
    ) -> list[tuple[int, int, Paper, str | None]]:
        """(pk, rev, paper, stored content hash) of papers with no vector from `model`, or
        changed since theirs was made, in pk order after `after_pk`."""
        rows = self.conn.execute(
            f"SELECT p.pk, p.rev, e.content_hash, {_P_COLUMNS} "
            "FROM papers p LEFT JOIN embeddings e ON e.model = ? AND e.paper_pk = p.pk "
            "WHERE p.pk > ? AND (e.paper_pk IS NULL OR e.paper_rev < p.rev) "
            "ORDER BY p.pk LIMIT ?",
            (model, after_pk, limit),
        )
        return [
            (int(row["pk"]), int(row["rev"]), _row_to_paper(row), row["content_hash"])
            for row in rows
        ]

    def save_embeddings(
        self, model: str, rows: Sequence[tuple[int, int, str, bytes | None]]
    ) -> int:
        """Store (pk, paper_rev, content_hash, float16 vector bytes) rows in one transaction.

        A row whose vector is None only records that the paper's text is unchanged.
        """
        if not rows:
            return 0
        with self._write() as conn:
            rev = self._next_rev(conn, "embeddings", "WHERE model = ?", model)
            conn.executemany(
                "INSERT INTO embeddings (model, paper_pk, content_hash, paper_rev, vector, rev) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (model, paper_pk) DO UPDATE SET "
                "content_hash = excluded.content_hash, paper_rev = excluded.paper_rev, "
                "vector = excluded.vector, rev = excluded.rev",
                [
                    (model, pk, digest, paper_rev, vector, rev)
                    for pk, paper_rev, digest, vector in rows
                    if vector is not None
                ],
            )
            conn.executemany(
                "UPDATE embeddings SET paper_rev = ? WHERE model = ? AND paper_pk = ?",
                [(paper_rev, model, pk) for pk, paper_rev, _, vector in rows if vector is None],
            )
        return len(rows)

    def embeddings_since(
        self, model: str, after: tuple[int, int], limit: int
    ) -> list[tuple[int, int, bytes]]:
        """(rev, pk, float16 vector bytes) of vectors stored after `after` = (rev, pk)."""
        rows = self.conn.execute(
            "SELECT rev, paper_pk, vector FROM embeddings "
            "WHERE model = ? AND (rev, paper_pk) > (?, ?) ORDER BY rev, paper_pk LIMIT ?",
            (model, *after, limit),
        )
        return [(int(row[0]), int(row[1]), bytes(row[2])) for row in rows]

    def count_embeddings(self, model: str) -> int:
        row = self.conn.execute("SELECT count(*) FROM embeddings WHERE model = ?", (model,))
        return int(row.fetchone()[0])

    def embedding_of(self, model: str, pk: int) -> bytes | None:
        row = self.conn.execute(
            "SELECT vector FROM embeddings WHERE model = ? AND paper_pk = ?", (model, pk)
        ).fetchone()
        return bytes(row[0]) if row else None

    # -- featured days -------------------------------------------------------------------

    def upsert_featured(self, entries: Sequence[Featured]) -> int:
        if not entries:
            return 0
        now = _now()
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
        return len(rows)

    def upvotes_for(self, pks: Iterable[int]) -> dict[int, int]:
        found: dict[int, int] = {}
        for chunk in _chunks(list(pks)):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT paper_pk, max(upvotes) FROM featured WHERE paper_pk IN ({marks}) "
                "GROUP BY paper_pk",
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
            completed_until=_parse_date(row["completed_until"]),
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
                    _now(),
                ),
            )


def _filter_sql(filters: SearchFilters) -> tuple[str, list[Any]]:
    """A WHERE clause (over papers AS p) and its parameters for `filters`."""
    clauses: list[str] = ["1"]
    params: list[Any] = []
    if filters.categories:
        marks = ",".join("?" * len(filters.categories))
        clauses.append(
            f"p.pk IN (SELECT paper_pk FROM paper_categories WHERE category IN ({marks}))"
        )
        params.extend(filters.categories)
    day = "coalesce(p.listed, substr(p.published, 1, 10))"
    if filters.since:
        clauses.append(f"{day} >= ?")
        params.append(filters.since.isoformat())
    if filters.until:
        clauses.append(f"{day} <= ?")
        params.append(filters.until.isoformat())
    return " AND ".join(clauses), params


def _paper_values(paper: Paper) -> tuple[Any, ...]:
    return (
        paper.id,
        paper.version,
        paper.title,
        paper.abstract,
        json.dumps(list(paper.authors), ensure_ascii=False),
        json.dumps(list(paper.categories), ensure_ascii=False),
        _iso_datetime(paper.published),
        _iso_datetime(paper.updated),
        paper.listed.isoformat() if paper.listed else None,
        paper.comment,
        paper.doi,
        paper.journal_ref,
        paper.license,
        paper.source,
    )


def _row_to_paper(row: sqlite3.Row) -> Paper:
    return Paper(
        id=row["id"],
        version=row["version"],
        title=row["title"],
        abstract=row["abstract"],
        authors=tuple(json.loads(row["authors"])),
        categories=tuple(json.loads(row["categories"])),
        published=_parse_datetime(row["published"]),
        updated=_parse_datetime(row["updated"]),
        listed=_parse_date(row["listed"]),
        comment=row["comment"],
        doi=row["doi"],
        journal_ref=row["journal_ref"],
        license=row["license"],
        source=row["source"],
    )
