"""One SQLite file: a connection per thread, write transactions, and the schema migrations."""

from __future__ import annotations

import fcntl
import logging
import os
import re
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from paperfeed.storage.errors import StorageError, StoreBusy
from paperfeed.storage.urls import sqlite_path  # noqa: F401 - re-exported

log = logging.getLogger("paperfeed.storage")

# SQLite's default limit on host parameters is 32766 since 3.32; stay far below it.
_CHUNK = 900


def _lock_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name)[:64]


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    """`items` in slices small enough for one statement's parameters."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED: another connection holds the lock we waited for."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


MMAP_BYTES = 1 << 30  # address space, not memory: pages are the system's, shared


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


def _keep_private(path: Path) -> None:
    """The database holds people's addresses: readable by its owner only. A new file is made
    so (SQLite gives its -wal and -shm files the same mode); an existing one is tightened."""
    try:
        # Never open and close an existing database file here: closing any descriptor of a
        # file drops every POSIX lock this process holds on it, SQLite's included.
        if not path.exists():
            with suppress(FileExistsError):  # made by someone else just now: checked below
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDONLY, 0o600))
        mode = path.stat().st_mode
        if mode & 0o077 and path.stat().st_uid == os.getuid():
            log.warning("%s was readable by other users; it is now private (mode 0600)", path)
            for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                if file.exists():
                    file.chmod(0o600)
    except OSError as exc:
        raise StorageError(f"cannot open SQLite database {path}: {exc}") from exc


class _Held:
    """One thread's connection, closed when that thread ends (a web server's pool threads
    come and go: each kept its connection, and its page cache, for good)."""

    __slots__ = ("__weakref__", "conn")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __del__(self) -> None:
        with suppress(sqlite3.Error):
            self.conn.close()


def _fill_code_links(conn: sqlite3.Connection) -> None:
    """Give the papers already stored their code and project links (016_code_links.sql)."""
    from paperfeed.code_links import links_in

    rows = conn.execute("SELECT pk, abstract, comment FROM papers").fetchall()
    updates = []
    for row in rows:
        links = links_in(row[1], row[2])
        if links.code is not None or links.project is not None:
            updates.append((links.code, links.project, row[0]))
    conn.executemany("UPDATE papers SET code_url = ?, project_url = ? WHERE pk = ?", updates)


# Work a migration needs Python for, done in its transaction after its SQL.
AFTER_SCRIPTS: dict[str, Callable[[sqlite3.Connection], None]] = {
    "016_code_links.sql": _fill_code_links,
}


class Database:
    """The file, its connections (one per thread, so a web server can share it) and its schema."""

    def __init__(self, path: Path | None, busy_timeout_s: float = 30.0) -> None:
        self.path = path
        self.busy_timeout_s = busy_timeout_s
        self.url = f"sqlite:///{path}" if path is not None else "sqlite:///:memory:"
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            _keep_private(path)
        self._local = threading.local()
        self._memory_conn: sqlite3.Connection | None = None
        self._held: weakref.WeakSet[_Held] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._job_locks: dict[str, bool] = {}

    # -- connections and transactions -------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        target = str(self.path) if self.path is not None else ":memory:"
        try:
            conn = sqlite3.connect(
                target,
                timeout=self.busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.row_factory = sqlite3.Row
            if self.path is not None:
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_s * 1000)}")
            # Reads through a memory map of the file: every connection (one per thread) shares
            # the system's page cache instead of copying pages into a 2 MB cache of its own
            # with a read call each.
            conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise self._busy(exc) from exc
            raise StorageError(f"cannot open SQLite database {target}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot open SQLite database {target}: {exc}") from exc
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (an in-memory database has exactly one, shared)."""
        if self.path is None:
            if self._memory_conn is None:
                self._memory_conn = self._connect()
            return self._memory_conn
        held: _Held | None = getattr(self._local, "held", None)
        if held is None:
            held = _Held(self._connect())
            self._local.held = held
            with self._lock:
                self._held.add(held)
        return held.conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; BEGIN IMMEDIATE so two writers queue instead of deadlocking.

        Inside `transaction()` (this thread's connection has one open) it joins that one.
        """
        conn = self.conn
        if conn.in_transaction:
            yield conn
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise self._busy(exc) from exc
            raise
        try:
            yield conn
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError) and _is_busy(exc):
                raise self._busy(exc) from exc
            raise
        conn.execute("COMMIT")

    def _busy(self, exc: sqlite3.OperationalError) -> StoreBusy:
        return StoreBusy(
            f"the database is busy: another process has held its write lock for more than "
            f"{self.busy_timeout_s:g} s (PAPERFEED_DATABASE_BUSY_TIMEOUT_S); nothing was "
            f"written, try again ({exc})"
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A unit of work: every call on this thread inside the block joins one write
        transaction (taken at once, so it never has to upgrade a read lock)."""
        with self._write():
            yield

    @contextmanager
    def job_lock(self, name: str) -> Iterator[bool]:
        """An exclusive lock on a file beside the database, held for the block; the value is
        False (and the block runs without it) when another process holds it. The operating
        system lets go when the holder dies."""
        if self.path is None:
            with self._lock:
                held = self._job_locks.get(name, False)
                self._job_locks[name] = True
            try:
                yield not held
            finally:
                if not held:
                    self._job_locks[name] = False
            return
        lock_path = self.path.with_name(f"{self.path.name}.{_lock_name(name)}.lock")
        with open(lock_path, "a+b") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._lock:
            for held in list(self._held):
                held.conn.close()
            self._held.clear()
        self._local = threading.local()
        if self._memory_conn is not None:
            self._memory_conn.close()
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
        # Read first: a schema that is up to date needs no write lock, so any process can open
        # the database while another one holds that lock (an ingest, a digest run).
        done = {row[0] for row in self.conn.execute("SELECT name FROM schema_migrations")}
        applied: list[str] = []
        for name, script in migrations:
            if name in done:
                continue
            with self._write() as conn:
                # Checked inside the transaction: another process may have just applied it.
                if conn.execute(
                    "SELECT 1 FROM schema_migrations WHERE name = ?", (name,)
                ).fetchone():
                    continue
                try:
                    for statement in _split_statements(script):
                        conn.execute(statement)
                    if name in AFTER_SCRIPTS:
                        AFTER_SCRIPTS[name](conn)
                except sqlite3.DatabaseError as exc:
                    raise StorageError(f"migration {name} failed: {exc}") from exc
                conn.execute(
                    "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                    (name, now_iso()),
                )
                applied.append(name)
        return applied

    @staticmethod
    def _next_rev(conn: sqlite3.Connection, table: str, where: str = "", *params: Any) -> int:
        """The revision for this write: one more than any so far (writes are serialised)."""
        row = conn.execute(f"SELECT coalesce(max(rev), 0) + 1 FROM {table} {where}", params)
        return int(row.fetchone()[0])

    @staticmethod
    def _pks(conn: sqlite3.Connection, ids: Iterable[str]) -> Iterator[tuple[str, int]]:
        id_list = list(ids)
        for chunk in chunks(id_list):
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(f"SELECT id, pk FROM papers WHERE id IN ({marks})", chunk):
                yield row["id"], int(row["pk"])
