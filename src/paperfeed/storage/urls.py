"""What a database URL names: its backend, a SQLite file, a short name for derived files."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from paperfeed.storage.errors import StorageError

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(url: str) -> bool:
    return url.startswith(POSTGRES_SCHEMES)


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


def database_name(url: str) -> str | None:
    """A short name for the database, for files derived from it: the SQLite file's stem, or
    the PostgreSQL database's name (None for an in-memory database)."""
    if is_postgres(url):
        name = urlsplit(url).path.lstrip("/") or "postgres"
        return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
    path = sqlite_path(url)
    return None if path is None else path.stem


def redact(url: str) -> str:
    """`url` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
