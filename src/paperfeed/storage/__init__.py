"""Open the store a database URL names."""

from __future__ import annotations

from paperfeed.storage.base import Store
from paperfeed.storage.errors import PaperNotFound, StorageError, SubscriberNotFound
from paperfeed.storage.sqlite import SqliteStore
from paperfeed.storage.urls import is_postgres, sqlite_path

__all__ = [
    "PaperNotFound",
    "SqliteStore",
    "StorageError",
    "Store",
    "SubscriberNotFound",
    "open_store",
]


def open_store(url: str, *, migrate: bool = True, pool_size: int = 10) -> Store:
    """Open (and by default migrate) the store for `url`: sqlite:///relative.db,
    sqlite:////abs.db, or postgresql://user:password@host:5432/dbname (with a pool of at most
    `pool_size` connections)."""
    store: Store
    if url.startswith("sqlite:"):
        store = SqliteStore(sqlite_path(url))
    elif is_postgres(url):
        # Imported here: psycopg is an optional extra.
        from paperfeed.storage.postgres import PostgresStore

        store = PostgresStore(url, pool_size=pool_size)
    else:
        raise StorageError(f"unsupported database URL {url!r}")
    if migrate:
        store.migrate()
    return store
