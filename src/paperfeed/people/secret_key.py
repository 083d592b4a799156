"""Find the key that signs links and cookies: PAPERFEED_SECRET_KEY, or one made once and kept."""

from __future__ import annotations

import dataclasses
import os
import secrets
from pathlib import Path

from paperfeed.config import Settings, files_dir

KEY_FILE = "secret.key"


def key_file(settings: Settings) -> Path:
    """Where a generated key is kept: in the data folder (config.files_dir). Several web
    nodes must share one key: set PAPERFEED_SECRET_KEY on every one instead."""
    return files_dir(settings) / KEY_FILE


def ensure_secret_key(settings: Settings) -> Settings:
    """`settings` with a secret key: the configured one, or a random one made on first use and
    kept (mode 0600) so links in mail already sent keep working after a restart."""
    if settings.secret_key:
        return settings
    path = key_file(settings)
    if path.exists():
        key = path.read_text().strip()
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return ensure_secret_key(settings)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(key + "\n")
    return dataclasses.replace(settings, secret_key=key)
