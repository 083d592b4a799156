"""Who may hide things, and what can be hidden (pure): operators are the addresses named in
PAPERFEED_OPERATORS; they hide a comment, a paper or a reader, and show it again.

A hidden comment leaves its discussion, a hidden paper leaves every list, search and feed
(its page says it was hidden), a hidden reader's comments and submissions leave with them.
Nothing is deleted: the store keeps what was hidden, by whom and why (storage `Moderation`),
and /moderation lists it for operators.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paperfeed.models import Subscriber, address_key

if TYPE_CHECKING:
    from paperfeed.config import Settings

KINDS = ("comment", "paper", "reader")
MAX_REASON_CHARS = 500


def operator_addresses(settings: Settings) -> frozenset[str]:
    """The operators' addresses, compared as addresses are (address_key)."""
    return frozenset(address_key(part) for part in settings.operators.split(",") if part.strip())


def is_operator(settings: Settings, reader: Subscriber | None) -> bool:
    """Whether `reader` (a signed-in account) is one of the operators."""
    return (
        reader is not None
        and reader.is_account
        and address_key(reader.email) in operator_addresses(settings)
    )


def hidden_key(kind: str, key: str) -> tuple[str, str]:
    """(kind, key) checked: ValueError for an unknown kind or an empty or overlong key."""
    if kind not in KINDS:
        raise ValueError(f"one hides a comment, a paper or a reader, not {kind!r}")
    cleaned = key.strip()
    if not cleaned or len(cleaned) > 200:
        raise ValueError(f"a hidden {kind} needs a key of 1 to 200 characters")
    return kind, cleaned


def reason_text(reason: str | None) -> str:
    """The reason as kept: trimmed, at most MAX_REASON_CHARS (ValueError beyond)."""
    cleaned = (reason or "").strip()
    if len(cleaned) > MAX_REASON_CHARS:
        raise ValueError(f"a reason has at most {MAX_REASON_CHARS} characters")
    return cleaned
