"""Find where a query's terms occur in a title or abstract, for highlighting (pure)."""

from __future__ import annotations

import re

from paperfeed.models import MAX_ABSTRACT_CHARS
from paperfeed.search.keyword import analyze_word
from paperfeed.search.query import ParsedQuery

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


class Highlighter:
    """Finds a query's words in texts; build it once per query, call `spans` per text.

    Words match by their analysed form, so "networks" is marked for the query "network". Only
    words that start like a query term are analysed: a regex finds those candidates, which is
    ~10x faster than analysing every word of every abstract on a page.
    """

    def __init__(self, parsed: ParsedQuery) -> None:
        self.terms = query_terms(parsed)
        self.prefixes = tuple(p.lower() for p in parsed.prefixes)
        surface = [*parsed.words, *parsed.required, *(w for ph in parsed.phrases for w in ph)]
        heads = {t[:3] for t in self.terms} | {w.lower()[:3] for w in surface}
        heads |= {p[:3] for p in self.prefixes}
        heads.discard("")
        pattern = (
            r"(?<![^\W_])(?:"
            + "|".join(re.escape(h) for h in sorted(heads, key=len, reverse=True))
            + r")[^\W_]*"
        )
        wanted = bool(heads and (self.terms or self.prefixes))
        # Over lowercased text (a third faster than IGNORECASE); IGNORECASE for the rare text
        # whose lowercase is longer (offsets must stay the text's own).
        self._candidates = re.compile(pattern) if wanted else None
        self._any_case = re.compile(pattern, re.IGNORECASE) if wanted else None

    def spans(self, text: str) -> tuple[Span, ...]:
        """(start, end) character offsets of the words in `text` that match the query (in its
        first MAX_ABSTRACT_CHARS: pages show no more of a longer text, written before the caps)."""
        if self._candidates is None or self._any_case is None:
            return ()
        lowered = text.lower()
        if len(lowered) == len(text):
            matches = self._candidates.finditer(lowered, 0, MAX_ABSTRACT_CHARS)
        else:
            matches = self._any_case.finditer(text, 0, MAX_ABSTRACT_CHARS)
        found = []
        for match in matches:
            word = match.group()
            if (
                self.prefixes and word.lower().startswith(self.prefixes)
            ) or not self.terms.isdisjoint(analyze_word(word)):
                found.append((match.start(), match.end()))
        return tuple(found)
