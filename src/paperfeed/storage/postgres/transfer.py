"""Every table's rows out of and into PostgreSQL in the portable form, with the import's
progress."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from paperfeed.storage.portable import (
    GENERATED_KEYS,
    ImportProgress,
    Key,
    Row,
    Table,
    key_from_text,
    key_to_text,
    table,
)
from paperfeed.storage.postgres.database import REV_SQL, Connection, Database
from paperfeed.storage.postgres.halfvec import halfvec, has_halfvec_column

# Where an import records how far it got (made by the first import: other stores never have
# it). One row per table, written in the same transaction as the rows it counts.
_PROGRESS_TABLE = (
    "CREATE TABLE IF NOT EXISTS migrate_progress (table_name text PRIMARY KEY, "
    "source text NOT NULL, after_key text, rows bigint NOT NULL, done boolean NOT NULL, "
    "updated_at timestamptz NOT NULL DEFAULT now())"
)
# A vector is current while its paper has not changed since (search.py's papers_to_embed
# re-embeds those with paper_rev <> rev).
_EXPORT_EXPRESSIONS = {
    ("embeddings", "current"): "paper_rev = (SELECT p.rev FROM papers p WHERE p.pk = paper_pk)"
}


def _from_postgres(kind: str, value: Any) -> Any:
    """A stored value in its portable form."""
    if value is None:
        return None
    if kind in ("time", "time_ms"):
        return value.astimezone(UTC)
    if kind == "list":
        return list(value)
    if kind == "bytes":
        return bytes(value)
    if kind == "bool":
        return bool(value)
    if kind == "float":
        return float(value)
    if kind == "int":
        return int(value)
    return value  # text, date, json (psycopg has parsed jsonb)


def _to_postgres(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "json":
        from psycopg.types.json import Jsonb

        return Jsonb(value)
    if kind == "list":
        return list(value)
    return value


def _day(listed: Any, published: datetime | None) -> Any:
    """papers.day: listed, else the day it was published (UTC), as Paper.day has it."""
    if listed is not None:
        return listed
    return published.astimezone(UTC).date() if published is not None else None


class TransferQueries(Database):
    """The Transfers half of the contract (storage/base.py) on PostgreSQL."""

    def applied_migrations(self) -> list[str]:
        with self._conn() as conn:
            if not self._has_table(conn, "schema_migrations"):
                return []
            rows = conn.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()
        return [str(row["name"]) for row in rows]

    @staticmethod
    def _has_table(conn: Connection, name: str) -> bool:
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL AS found", (name,)).fetchone()
        return bool(row["found"])

    def count_rows(self, table_name: str) -> int:
        spec = table(table_name)
        where = f" WHERE {spec.where}" if spec.where else ""
        with self._conn() as conn:
            row = conn.execute(f"SELECT count(*) AS n FROM {spec.name}{where}").fetchone()
        return int(row["n"])

    def export_rows(self, table_name: str, after: Key | None, limit: int) -> list[Row]:
        from psycopg.rows import tuple_row

        spec = table(table_name)
        columns = ", ".join(_EXPORT_EXPRESSIONS.get((spec.name, name), name) for name in spec.names)
        clauses = [spec.where] if spec.where else []
        params: list[Any] = []
        if after is not None:
            clauses.append(f"({', '.join(spec.key)}) > ({', '.join(['%s'] * len(spec.key))})")
            params.extend(after)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._conn() as conn:
            rows = (
                conn.cursor(row_factory=tuple_row)
                .execute(
                    f"SELECT {columns} FROM {spec.name}{where} "
                    f"ORDER BY {', '.join(spec.key)} LIMIT %s",
                    (*params, limit),
                )
                .fetchall()
            )
        return [
            tuple(_from_postgres(kind, value) for kind, value in zip(spec.kinds, row, strict=True))
            for row in rows
        ]

    def import_rows(self, table_name: str, rows: Sequence[Row], progress: ImportProgress) -> None:
        spec = table(table_name)
        with self._write() as conn:
            conn.execute(_PROGRESS_TABLE)
            if rows:
                self._load_rows(conn, spec, rows)
            if progress.done:
                self._finish_table(conn, spec)
            conn.execute(
                "INSERT INTO migrate_progress (table_name, source, after_key, rows, done, "
                "updated_at) VALUES (%s, %s, %s, %s, %s, now()) ON CONFLICT (table_name) DO "
                "UPDATE SET source = excluded.source, after_key = excluded.after_key, "
                "rows = excluded.rows, done = excluded.done, updated_at = excluded.updated_at",
                (
                    spec.name,
                    progress.source,
                    key_to_text(spec, progress.after),
                    progress.rows,
                    progress.done,
                ),
            )

    @staticmethod
    def _load_rows(conn: Connection, spec: Table, rows: Sequence[Row]) -> None:
        names = list(spec.names)
        values = [
            [_to_postgres(kind, value) for kind, value in zip(spec.kinds, row, strict=True)]
            for row in rows
        ]
        if spec.name in ("papers", "embeddings"):
            # Stamped with this transaction's id, as every write is (REV_SQL): the change feed
            # hands the rows out again, below any revision written after the copy.
            rev = int(conn.execute(f"SELECT {REV_SQL} AS rev").fetchone()["rev"])
        if spec.name == "papers":
            listed, published = names.index("listed"), names.index("published")
            for row_values, row in zip(values, rows, strict=True):
                row_values += [_day(row[listed], row[published]), rev]
            names += ["day", "rev"]
        elif spec.name == "embeddings":
            # paper_rev: the paper's revision here if the vector was current (0 if not: it is
            # still to be redone).
            at, pk_at = names.index("current"), names.index("paper_pk")
            pks = sorted({int(row[pk_at]) for row in rows})
            paper_revs = {
                int(found["pk"]): int(found["rev"])
                for found in conn.execute(
                    "SELECT pk, rev FROM papers WHERE pk = ANY(%s)", (pks,)
                ).fetchall()
            }
            names[at] = "paper_rev"
            for row_values, row in zip(values, rows, strict=True):
                row_values[at] = paper_revs.get(int(row[pk_at]), 0) if row[at] else 0
                row_values.append(rev)
            names.append("rev")
        columns = ", ".join(names)
        if spec.replace:
            others = [name for name in names if name not in spec.key]
            updates = ", ".join(f"{name} = excluded.{name}" for name in others)
            conn.cursor().executemany(
                f"INSERT INTO {spec.name} ({columns}) VALUES ({', '.join(['%s'] * len(names))}) "
                f"ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET {updates}",
                values,
            )
            return
        # COPY: several times faster than INSERTs, and a duplicate key still fails the batch.
        with conn.cursor().copy(f"COPY {spec.name} ({columns}) FROM STDIN") as copy:
            for row_values in values:
                copy.write_row(row_values)
        if spec.name == "embeddings" and has_halfvec_column(conn):
            # The shared vector index (vectors.py) reads the halfvec copy of each vector.
            model_at, pk_at, vector_at = (names.index(n) for n in ("model", "paper_pk", "vector"))
            conn.cursor().executemany(
                "UPDATE embeddings SET embedding = %s::halfvec WHERE model = %s AND paper_pk = %s",
                [(halfvec(bytes(r[vector_at])), r[model_at], r[pk_at]) for r in values],
            )

    @staticmethod
    def _finish_table(conn: Connection, spec: Table) -> None:
        """A complete table: ids handed out later carry on after the copied ones, and the
        planner learns what the table holds now."""
        column = GENERATED_KEYS.get(spec.name)
        if column is not None:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{spec.name}', '{column}'), "
                f"coalesce(max({column}), 0) + 1, false) FROM {spec.name}"
            )
        conn.execute(f"ANALYZE {spec.name}")

    def import_progress(self) -> dict[str, ImportProgress]:
        with self._conn() as conn:
            if not self._has_table(conn, "migrate_progress"):
                return {}
            rows = conn.execute(
                "SELECT table_name, source, after_key, rows, done FROM migrate_progress"
            ).fetchall()
        found: dict[str, ImportProgress] = {}
        for row in rows:
            spec = table(row["table_name"])
            found[spec.name] = ImportProgress(
                source=row["source"],
                after=key_from_text(spec, row["after_key"]),
                rows=int(row["rows"]),
                done=bool(row["done"]),
            )
        return found
