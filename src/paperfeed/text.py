"""Normalise text fields from any source (whitespace, control characters, odd types), and cut
them for display (shorten)."""

from __future__ import annotations

import re
import unicodedata

# C0/C1 control characters and lone surrogates; tabs and newlines are folded as whitespace.
# Also bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069: an override
# turns the text after it around on screen, "gnp.exe" for "exe.png") and the noncharacters
# U+FFFE/U+FFFF (not allowed in XML, so not in feeds). Marks (U+200E/U+200F) stay.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069\ufffe\uffff]"
)


def clean_text(value: object) -> str:
    """Return `value` as one line of text: NFC, control characters dropped, whitespace collapsed.

    arXiv hard-wraps titles and abstracts at about 80 columns, so line breaks carry no meaning.
    HTML and LaTeX are kept as they are: they are escaped or rendered where they are shown.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    # The checks first: most text is already clean, and checking is ~10x cheaper than fixing.
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if not text.isprintable():
        text = _CONTROL.sub("", text)
    return " ".join(text.split())


def clean_optional(value: object) -> str | None:
    """clean_text, but None for a missing or blank value."""
    text = clean_text(value)
    return text or None


def shorten(text: str, limit: int = 320) -> str:
    """`text` cut at a word near `limit` characters, with an ellipsis (pages and digests)."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:.") + "…"
