"""Open the store a database URL names."""

from __future__ import annotations

from paperfeed.storage.base import PaperNotFound, StorageError, Store, SubscriberNotFound
from paperfeed.storage.sqlite import SqliteStore, sqlite_path

__all__ = [
    "PaperNotFound",
    "SqliteStore",
    "StorageError",
    "Store",
    "SubscriberNotFound",
    "open_store",
]


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open (and by default migrate) the store for `url`: sqlite:///relative.db or sqlite:////abs.db."""
    if url.startswith("sqlite:"):
        store = SqliteStore(sqlite_path(url))
    elif url.startswith(("postgresql:", "postgres:")):
        raise StorageError("PostgreSQL support is not built yet; use a sqlite:/// URL")
    else:
        raise StorageError(f"unsupported database URL {url!r}")
    if migrate:
        store.migrate()
    return store
