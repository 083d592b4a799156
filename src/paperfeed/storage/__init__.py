"""Open the store a database URL names."""

from __future__ import annotations

from paperfeed.storage.base import Store
from paperfeed.storage.errors import (
    AlreadySubmitted,
    CollectionNotFound,
    CommentNotFound,
    NameTaken,
    PaperHidden,
    PaperNotFound,
    StorageError,
    StoreBusy,
    SubmissionLimit,
    SubscriberNotFound,
)
from paperfeed.storage.sqlite import SqliteStore
from paperfeed.storage.urls import is_postgres, sqlite_path

__all__ = [
    "AlreadySubmitted",
    "CollectionNotFound",
    "CommentNotFound",
    "NameTaken",
    "PaperHidden",
    "PaperNotFound",
    "SqliteStore",
    "StorageError",
    "Store",
    "StoreBusy",
    "SubmissionLimit",
    "SubscriberNotFound",
    "open_store",
]


def open_store(
    url: str, *, migrate: bool = True, pool_size: int = 10, busy_timeout_s: float = 30.0
) -> Store:
    """Open (and by default migrate) the store for `url`: sqlite:///relative.db,
    sqlite:////abs.db, or postgresql://user:password@host:5432/dbname (with a pool of at most
    `pool_size` connections). A write that cannot start within `busy_timeout_s` raises
    StoreBusy."""
    store: Store
    if url.startswith("sqlite:"):
        store = SqliteStore(sqlite_path(url), busy_timeout_s=busy_timeout_s)
    elif is_postgres(url):
        # Imported here: psycopg is an optional extra.
        from paperfeed.storage.postgres import PostgresStore

        store = PostgresStore(url, pool_size=pool_size, busy_timeout_s=busy_timeout_s)
    else:
        raise StorageError(f"unsupported database URL {url!r}")
    if migrate:
        store.migrate()
    return store
