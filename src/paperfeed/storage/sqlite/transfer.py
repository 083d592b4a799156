"""Every table's rows out of and into SQLite in the portable form, with the import's progress."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from paperfeed.storage.errors import StorageError
from paperfeed.storage.portable import (
    ImportProgress,
    Key,
    Row,
    Table,
    key_from_text,
    key_to_text,
    table,
)
from paperfeed.storage.sqlite.database import Database, chunks, now_iso

# Where an import records how far it got (made by the first import: other stores never have
# it). One row per table, written in the same transaction as the rows it counts.
_PROGRESS_TABLE = (
    "CREATE TABLE IF NOT EXISTS migrate_progress (table_name TEXT PRIMARY KEY, "
    "source TEXT NOT NULL, after_key TEXT, rows INTEGER NOT NULL, done INTEGER NOT NULL, "
    "updated_at TEXT NOT NULL)"
)
# A vector is current while its paper has not changed since (search.py's papers_to_embed
# re-embeds those with paper_rev < rev).
_EXPORT_EXPRESSIONS = {
    ("embeddings", "current"): "paper_rev >= (SELECT p.rev FROM papers p WHERE p.pk = paper_pk)"
}


def _parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# How a stored value becomes portable, by kind (the rest are as sqlite3 returns them).
_FROM_SQLITE: dict[str, Callable[[Any], Any]] = {
    "time": _parse_time,
    "time_ms": _parse_time,
    "date": date.fromisoformat,
    "list": json.loads,
    "json": json.loads,
    "bool": bool,
    "bytes": bytes,
    "float": float,
}


def _to_sqlite(kind: str, value: Any) -> Any:
    """A portable value as this schema stores it: times as the queries write them (to the
    second, or the millisecond), finer only when the value has more precision."""
    if value is None:
        return None
    if kind in ("time", "time_ms"):
        moment = value.astimezone(UTC)
        if moment.microsecond == 0 and kind == "time":
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        if moment.microsecond % 1000 == 0:
            return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if kind == "date":
        return value.isoformat()
    if kind == "list":
        return json.dumps(list(value), ensure_ascii=False)
    if kind == "json":
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if kind == "bool":
        return int(value)
    if kind == "bytes":
        return bytes(value)
    return value


def _portable(spec: Table, rows: list[sqlite3.Row]) -> list[Row]:
    readers = [_FROM_SQLITE.get(kind) for kind in spec.kinds]
    out: list[Row] = []
    for row in rows:
        try:
            out.append(
                tuple(
                    value if value is None or read is None else read(value)
                    for read, value in zip(readers, row, strict=True)
                )
            )
        except (TypeError, ValueError) as exc:
            raise StorageError(
                f"{spec.name}: cannot read the row {tuple(row)[:3]!r}: {exc}"
            ) from exc
    return out


class TransferQueries(Database):
    """The Transfers half of the contract (storage/base.py) on SQLite."""

    def applied_migrations(self) -> list[str]:
        if not self._has_table("schema_migrations"):
            return []
        rows = self.conn.execute("SELECT name FROM schema_migrations ORDER BY name")
        return [str(row[0]) for row in rows]

    def _has_table(self, name: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        return row is not None

    def count_rows(self, table_name: str) -> int:
        spec = table(table_name)
        where = f" WHERE {spec.where}" if spec.where else ""
        return int(self.conn.execute(f"SELECT count(*) FROM {spec.name}{where}").fetchone()[0])

    def export_rows(self, table_name: str, after: Key | None, limit: int) -> list[Row]:
        spec = table(table_name)
        columns = ", ".join(_EXPORT_EXPRESSIONS.get((spec.name, name), name) for name in spec.names)
        clauses = [spec.where] if spec.where else []
        params: list[Any] = []
        if after is not None:
            clauses.append(f"({', '.join(spec.key)}) > ({', '.join('?' * len(spec.key))})")
            params.extend(
                _to_sqlite(kind, value) for kind, value in zip(spec.key_kinds(), after, strict=True)
            )
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.conn.execute(
            f"SELECT {columns} FROM {spec.name}{where} ORDER BY {', '.join(spec.key)} LIMIT ?",
            (*params, limit),
        ).fetchall()
        return _portable(spec, rows)

    def import_rows(self, table_name: str, rows: Sequence[Row], progress: ImportProgress) -> None:
        spec = table(table_name)
        with self._write() as conn:
            conn.execute(_PROGRESS_TABLE)
            if rows:
                self._load_rows(conn, spec, rows)
            conn.execute(
                "INSERT INTO migrate_progress (table_name, source, after_key, rows, done, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (table_name) DO UPDATE SET "
                "source = excluded.source, after_key = excluded.after_key, rows = excluded.rows, "
                "done = excluded.done, updated_at = excluded.updated_at",
                (
                    spec.name,
                    progress.source,
                    key_to_text(spec, progress.after),
                    progress.rows,
                    int(progress.done),
                    now_iso(),
                ),
            )

    def _load_rows(self, conn: sqlite3.Connection, spec: Table, rows: Sequence[Row]) -> None:
        names = list(spec.names)
        values = [
            [_to_sqlite(kind, value) for kind, value in zip(spec.kinds, row, strict=True)]
            for row in rows
        ]
        if spec.name == "papers":
            # One new revision for the batch: the change feed hands the papers out again.
            rev = self._next_rev(conn, "papers")
            names.append("rev")
            for row_values in values:
                row_values.append(rev)
        elif spec.name == "embeddings":
            # Above every model's revisions, and paper_rev as the paper's revision here if the
            # vector was current (0 if not: it is still to be redone).
            rev = self._next_rev(conn, "embeddings")
            at = names.index("current")
            names[at] = "paper_rev"
            pk_at = spec.names.index("paper_pk")
            paper_revs = self._paper_revs(conn, [int(row[pk_at]) for row in rows])
            for row_values, row in zip(values, rows, strict=True):
                row_values[at] = paper_revs.get(int(row[pk_at]), 0) if row[at] else 0
                row_values.append(rev)
            names.append("rev")
        marks = ", ".join("?" * len(names))
        upsert = ""
        if spec.replace:
            others = [name for name in names if name not in spec.key]
            updates = ", ".join(f"{name} = excluded.{name}" for name in others)
            upsert = f" ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET {updates}"
        conn.executemany(
            f"INSERT INTO {spec.name} ({', '.join(names)}) VALUES ({marks}){upsert}", values
        )

    @staticmethod
    def _paper_revs(conn: sqlite3.Connection, pks: list[int]) -> dict[int, int]:
        found: dict[int, int] = {}
        for chunk in chunks(sorted(set(pks))):
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(f"SELECT pk, rev FROM papers WHERE pk IN ({marks})", chunk):
                found[int(row[0])] = int(row[1])
        return found

    def import_progress(self) -> dict[str, ImportProgress]:
        if not self._has_table("migrate_progress"):
            return {}
        found: dict[str, ImportProgress] = {}
        for row in self.conn.execute(
            "SELECT table_name, source, after_key, rows, done FROM migrate_progress"
        ):
            spec = table(row["table_name"])
            found[spec.name] = ImportProgress(
                source=row["source"],
                after=key_from_text(spec, row["after_key"]),
                rows=int(row["rows"]),
                done=bool(row["done"]),
            )
        return found
