"""What a reader's library accepts (names, notes, follows, feed tokens), checked alike by every
backend before it writes."""

from __future__ import annotations

import hashlib
import unicodedata

READING_LIST = "Reading list"
MAX_COLLECTION_NAME_CHARS = 100
MAX_NOTE_CHARS = 10_000
MAX_FOLLOW_CHARS = 300
FOLLOW_KINDS = ("author", "category", "search")


def collection_name(name: str) -> str:
    """`name` trimmed, as a collection keeps it; ValueError when empty or too long."""
    cleaned = unicodedata.normalize("NFC", name).strip()
    if not cleaned:
        raise ValueError("a collection needs a name")
    if len(cleaned) > MAX_COLLECTION_NAME_CHARS:
        raise ValueError(
            f"a collection name has at most {MAX_COLLECTION_NAME_CHARS} characters "
            f"(this one has {len(cleaned)})"
        )
    return cleaned


def name_key(name: str) -> str:
    """What makes two collection names one: `Reading List` and ` reading list` are the same."""
    return unicodedata.normalize("NFC", name).strip().casefold()


READING_LIST_KEY = name_key(READING_LIST)


def note_text(text: str | None) -> str | None:
    """A note as kept (trimmed), None for no note; ValueError when too long."""
    if text is None or not text.strip():
        return None
    cleaned = text.strip()
    if len(cleaned) > MAX_NOTE_CHARS:
        raise ValueError(
            f"a note has at most {MAX_NOTE_CHARS:,} characters (this one has {len(cleaned):,})"
        )
    return cleaned


def follow_value(kind: str, value: str) -> str:
    """`value` trimmed, for a follow of `kind`; ValueError for an unknown kind or a value that
    is empty or too long. Values compare as given: callers normalise (an author's key, a
    category's case) before they follow."""
    if kind not in FOLLOW_KINDS:
        raise ValueError(f"one follows an author, a category or a search, not {kind!r}")
    cleaned = value.strip()
    if not cleaned:
        raise ValueError(f"a followed {kind} cannot be empty")
    if len(cleaned) > MAX_FOLLOW_CHARS:
        raise ValueError(f"a followed {kind} has at most {MAX_FOLLOW_CHARS} characters")
    return cleaned


def token_digest(token: str) -> str:
    """What a store keeps of a private feed token: its SHA-256, in hex. A copy of the database
    (a backup, migrate-store) then holds no working feed link."""
    if not token:
        raise ValueError("a feed token cannot be empty")
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
