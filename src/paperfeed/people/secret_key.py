"""Find the key that signs links and cookies: PAPERFEED_SECRET_KEY, or one made once and kept
in the database, so every process that opens the database (web nodes, workers, on any
machine) signs with the same key."""

from __future__ import annotations

import dataclasses
import logging
import secrets
from pathlib import Path

from paperfeed.config import Settings, files_dir
from paperfeed.storage import open_store
from paperfeed.storage.base import Secrets
from paperfeed.storage.urls import sqlite_path

KEY_FILE = "secret.key"
log = logging.getLogger("paperfeed.people")


def key_file(settings: Settings) -> Path:
    """Where a generated key used to be kept (config.files_dir); still read first, so links
    in mail sent before keys moved into the database keep working."""
    return files_dir(settings) / KEY_FILE


def _keep_private(path: Path) -> None:
    """A key file others can read is a key others may have: made private, and said."""
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
        log.warning(
            "%s was readable by other users: it is private now; if they may have read it, "
            "set a new PAPERFEED_SECRET_KEY (links already mailed stop working)",
            path,
        )


def ensure_secret_key(settings: Settings, store: Secrets | None = None) -> Settings:
    """`settings` with a secret key: the configured one, an older key file's, or the one the
    database keeps (made on first use). Opens the store briefly when not given one."""
    if settings.secret_key:
        return settings
    path = key_file(settings)
    if path.exists():
        _keep_private(path)
        key = path.read_text().strip()
    elif store is not None:
        key = store.shared_secret(secrets.token_urlsafe(48))
    elif settings.database_url.startswith("sqlite:") and sqlite_path(settings.database_url) is None:
        key = secrets.token_urlsafe(48)  # an in-memory database lives as long as the process
    else:
        opened = open_store(
            settings.database_url, pool_size=1, busy_timeout_s=settings.database_busy_timeout_s
        )
        try:
            key = opened.shared_secret(secrets.token_urlsafe(48))
        finally:
            opened.close()
    return dataclasses.replace(settings, secret_key=key)
