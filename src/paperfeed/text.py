"""Normalise text fields from any source: whitespace, control characters, odd types."""

from __future__ import annotations

import re
import unicodedata

# C0/C1 control characters and lone surrogates; tabs and newlines are folded as whitespace.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


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
