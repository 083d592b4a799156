"""One PostgreSQL database: a connection pool, units of work, job locks and the migrations."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from paperfeed.storage.errors import StorageError, StoreBusy
from paperfeed.storage.postgres.halfvec import register_halfvec
from paperfeed.storage.urls import redact

try:  # an optional extra: pip install 'paperfeed[postgres]'
    import psycopg
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool, PoolTimeout
except ImportError:  # pragma: no cover - reported when a postgresql:// URL is opened
    psycopg = None  # type: ignore[assignment]


def unique_violation() -> type[Exception]:
    """psycopg's UniqueViolation (psycopg is an optional extra, imported only when used)."""
    from psycopg import errors

    return errors.UniqueViolation


Connection = Any  # psycopg.Connection[dict[str, Any]]; psycopg is optional, so not imported here

# Every migrator takes this transaction-level advisory lock first, so two processes starting
# at once apply each migration once.
_MIGRATION_LOCK = 7_315_001
# The change feed hands out a revision only once every transaction that could still commit
# an older one has ended: revisions below the oldest transaction id still running. Transaction
# ids are cluster-wide, so a transaction left open in another database on the same server would
# hold every feed here still; one that pg_stat_activity shows in another database is passed over.
# Anything it cannot place (committed since the snapshot, a prepared transaction, a background
# worker) still holds the horizon: a late horizon only delays the feed, an early one loses rows.
REV_SQL = "pg_current_xact_id()::text::bigint"
HORIZON_SQL = (
    "(SELECT COALESCE((SELECT MIN(running::text::bigint) FROM pg_snapshot_xip(snap) AS running"
    " WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity AS other"
    " WHERE other.datname <> current_database()"
    " AND other.backend_xid::text::bigint = mod(running::text::bigint, 4294967296))),"
    " pg_snapshot_xmax(snap)::text::bigint) FROM pg_current_snapshot() AS snap)"
)


def now_utc() -> datetime:
    return datetime.now(UTC)


def lock_key(name: str) -> int:
    """A stable 64-bit advisory-lock key for a job's name."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


def _fill_code_links(conn: Connection) -> None:
    """Give the papers already stored their code and project links (013_code_links.sql)."""
    from paperfeed.code_links import links_in

    rows = conn.execute("SELECT pk, abstract, comment FROM papers").fetchall()
    updates = []
    for row in rows:
        links = links_in(row["abstract"], row["comment"])
        if links.code is not None or links.project is not None:
            updates.append((links.code, links.project, row["pk"]))
    conn.cursor().executemany(
        "UPDATE papers SET code_url = %s, project_url = %s WHERE pk = %s", updates
    )


# Work a migration needs Python for, done in its transaction after its SQL.
AFTER_SCRIPTS: dict[str, Callable[[Connection], None]] = {
    "013_code_links.sql": _fill_code_links,
}


class Database:
    """The pool (one per process: a forked child opens its own) and the schema.

    Outside a transaction each call borrows a connection in autocommit mode; inside
    `transaction()` every call on the thread uses the transaction's connection.
    """

    def __init__(self, url: str, pool_size: int = 10, busy_timeout_s: float = 30.0) -> None:
        if psycopg is None:
            raise StorageError(
                "PostgreSQL needs psycopg: pip install 'paperfeed[postgres]' (make does it)"
            )
        self.url = url
        self._pool_size = pool_size
        self.busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._pid = os.getpid()
        self._pool = self._open_pool()

    def _open_pool(self) -> Any:
        pool = ConnectionPool(
            self.url,
            min_size=1,
            max_size=self._pool_size,
            kwargs={"autocommit": True, "row_factory": dict_row},
            configure=register_halfvec,
            open=False,
            name="paperfeed",
        )
        try:
            pool.open(wait=True, timeout=15)
        except Exception as exc:
            pool.close()
            raise StorageError(f"cannot connect to {redact(self.url)}: {exc}") from exc
        return pool

    # -- connections and transactions -------------------------------------------------

    def _check_process(self) -> None:
        if os.getpid() != self._pid:
            # A forked child must not use the parent's sockets; it gets a pool of its own.
            self._pid = os.getpid()
            self._local = threading.local()
            self._pool = self._open_pool()

    @contextmanager
    def _pooled(self) -> Iterator[Connection]:
        """A connection from the pool; StoreBusy when none is free within the busy timeout."""
        self._check_process()
        try:
            with self._pool.connection(timeout=self.busy_timeout_s) as conn:
                yield conn
        except PoolTimeout as exc:
            raise StoreBusy(
                f"the database is busy: no free connection for {self.busy_timeout_s:g} s "
                f"(PAPERFEED_DATABASE_POOL_SIZE={self._pool_size}); try again"
            ) from exc

    @contextmanager
    def _conn(self) -> Iterator[Connection]:
        """A connection for reads: the thread's transaction's, else one from the pool."""
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        with self._pooled() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One transaction; inside `transaction()` it joins that one."""
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        with self._pooled() as conn, conn.transaction():
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A unit of work: every call on this thread inside the block joins one transaction."""
        with self._write():
            yield

    @contextmanager
    def job_lock(self, name: str) -> Iterator[bool]:
        """A session-level advisory lock, held on a connection of its own for the block; the
        value is False when another process (anywhere) holds it. PostgreSQL lets go when the
        holder's connection drops."""
        with self._pooled() as conn:
            key = lock_key(name)
            row = conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (key,)).fetchone()
            taken = bool(row["ok"])
            try:
                yield taken
            finally:
                if taken:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def close(self) -> None:
        if os.getpid() == self._pid:
            self._pool.close()

    # -- schema --------------------------------------------------------------------------

    def migrate(self) -> list[str]:
        folder = resources.files("paperfeed.storage") / "migrations" / "postgres"
        migrations = sorted(
            (entry.name, entry.read_text(encoding="utf-8"))
            for entry in folder.iterdir()
            if entry.name.endswith(".sql")
        )
        applied: list[str] = []
        for name, script in migrations:
            with self._write() as conn:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(name text PRIMARY KEY, applied_at timestamptz NOT NULL)"
                )
                if conn.execute(
                    "SELECT 1 FROM schema_migrations WHERE name = %s", (name,)
                ).fetchone():
                    continue
                try:
                    conn.execute(script)
                    if name in AFTER_SCRIPTS:
                        AFTER_SCRIPTS[name](conn)
                except psycopg.Error as exc:
                    raise StorageError(f"migration {name} failed: {exc}") from exc
                conn.execute(
                    "INSERT INTO schema_migrations (name, applied_at) VALUES (%s, now())", (name,)
                )
                applied.append(name)
        return applied

    @staticmethod
    def _pks(conn: Connection, ids: list[str]) -> dict[str, int]:
        rows = conn.execute("SELECT id, pk FROM papers WHERE id = ANY(%s)", (ids,))
        return {row["id"]: int(row["pk"]) for row in rows}
