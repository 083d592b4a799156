"""Keep the secrets in link paths (confirm, sign-in, preferences, unsubscribe tokens) out of the
server's access log."""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

# /confirm/<token>, /signin/<token>, /preferences/<token>, /unsubscribe/<token>
_TOKEN_PATH = re.compile(r"^(/(?:confirm|signin|preferences|unsubscribe)/)[^/?#\s]+")
REDACTED = "[token]"


def redact(path: str) -> str:
    """`path` with a link's token replaced, so a log shows which page was used, not the key."""
    return _TOKEN_PATH.sub(lambda m: m.group(1) + REDACTED, path)


class RedactTokens(logging.Filter):
    """A filter for uvicorn's access logger: its third argument is the path and query."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact(args[2]), *args[3:])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with the access log redacted (for every worker)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": RedactTokens}
    config["handlers"]["access"]["filters"] = ["redact_tokens"]
    return config
