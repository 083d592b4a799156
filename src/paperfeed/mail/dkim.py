"""Sign outgoing messages with DKIM, covering the one-click unsubscribe headers."""

from __future__ import annotations

from pathlib import Path

from paperfeed.config import Settings

# Receivers only offer one-click unsubscribe if the signature covers both List-* headers.
SIGNED_HEADERS = (
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"MIME-Version",
    b"Content-Type",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
)


class DkimError(ValueError):
    """DKIM is configured but cannot sign (missing or unreadable key)."""


def dkim_enabled(settings: Settings) -> bool:
    return bool(settings.dkim_domain and settings.dkim_selector and settings.dkim_key_file)


def dkim_sign(data: bytes, settings: Settings) -> bytes:
    """`data` with a DKIM-Signature header in front (unchanged when DKIM is not configured)."""
    if not dkim_enabled(settings):
        return data
    import dkim  # type: ignore[import-untyped]  # optional: only when a key is configured

    try:
        key = Path(settings.dkim_key_file).read_bytes()
    except OSError as exc:
        raise DkimError(f"cannot read the DKIM key {settings.dkim_key_file}: {exc}") from None
    present = [h for h in SIGNED_HEADERS if h.lower() + b":" in data.lower()]
    signature = dkim.sign(
        data,
        settings.dkim_selector.encode("ascii"),
        settings.dkim_domain.encode("ascii"),
        key,
        include_headers=present,
    )
    return bytes(signature) + data
