"""Find where a query's terms occur in a title or abstract, for highlighting (pure)."""

from __future__ import annotations

from paperfeed.search.keyword import analyze_word
from paperfeed.search.query import WORD, ParsedQuery

Span = tuple[int, int]

# Marking "of" and "the" in every abstract helps no reader; they still count for ranking.
_STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "in",
    "into", "is", "it", "its", "of", "on", "or", "that", "the", "their", "this", "to", "was",
    "were", "will", "with", "we", "our", "via"
})  # fmt: skip


def query_terms(parsed: ParsedQuery) -> frozenset[str]:
    """The index terms of every word the query looks for (not of what it excludes)."""
    words = [*parsed.words, *parsed.required, *(w for phrase in parsed.phrases for w in phrase)]
    return frozenset(
        term for word in words if word.lower() not in _STOPWORDS for term in analyze_word(word)
    )


def highlight_spans(
    text: str, terms: frozenset[str], prefixes: tuple[str, ...] = ()
) -> tuple[Span, ...]:
    """(start, end) character offsets of the words in `text` that match a term or prefix.

    Words match by their analysed form, so "networks" highlights for the query "network".
    """
    if not terms and not prefixes:
        return ()
    lowered = tuple(p.lower() for p in prefixes)
    spans = []
    for match in WORD.finditer(text):
        word = match.group()
        analysed = analyze_word(word)
        if any(t in terms for t in analysed) or (lowered and word.lower().startswith(lowered)):
            spans.append((match.start(), match.end()))
    return tuple(spans)
