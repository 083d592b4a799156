"""Find where a query's terms occur in a title or abstract, for highlighting (pure)."""

from __future__ import annotations

import re

from paperfeed.models import MAX_ABSTRACT_CHARS
from paperfeed.search.keyword import analyze_word
from paperfeed.search.query import ParsedQuery

Span = tuple[int, int]
_WORD = re.compile(r"[^\W_]+")  # letters and digits, as the keyword index splits words

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
        self._heads = tuple(sorted(heads)) if heads and (self.terms or self.prefixes) else ()
        # Each distinct word's verdict: a page's 100 texts share most of their words, and
        # analysing one costs more than looking it up.
        self._verdicts: dict[str, bool] = {}
        self._any_case_regex: re.Pattern[str] | None = None

    @property
    def _any_case(self) -> re.Pattern[str]:
        """For the rare text whose lowercase is longer than itself (offsets must stay the
        text's own): the same search as a case-blind regex. Compiled when first needed: a
        query's own regex is compiled anew (~0.2 ms), and almost no page needs it."""
        if self._any_case_regex is None:
            self._any_case_regex = re.compile(
                r"(?<![^\W_])(?:" + "|".join(re.escape(h) for h in self._heads) + r")[^\W_]*",
                re.IGNORECASE,
            )
        return self._any_case_regex

    def spans(self, text: str) -> tuple[Span, ...]:
        """(start, end) character offsets of the words in `text` that match the query (in its
        first MAX_ABSTRACT_CHARS: pages show no more of a longer text, written before the caps).

        Candidates are the words that start with a head (a query word's first letters), found
        with str.find over the lowercased text: several times faster than one regex of every
        head, which tried each head at each character."""
        if not self._heads:
            return ()
        lowered = text.lower()
        if len(lowered) != len(text):
            words = self._any_case.finditer(text, 0, MAX_ABSTRACT_CHARS)
            return tuple(m.span() for m in words if self._matches(m.group().lower()))
        limit = min(len(lowered), MAX_ABSTRACT_CHARS)
        starts = set()
        for head in self._heads:
            at = lowered.find(head, 0, limit)
            while at >= 0:
                if at == 0 or not lowered[at - 1].isalnum():
                    starts.add(at)
                at = lowered.find(head, at + 1, limit)
        found = []
        verdicts = self._verdicts
        for start in sorted(starts):
            word = _WORD.match(lowered, start, limit)
            if word is None:
                continue
            text_word = word.group()
            verdict = verdicts.get(text_word)
            if verdict is None:
                verdict = verdicts[text_word] = self._matches(text_word)
            if verdict:
                found.append(word.span())
        return tuple(found)

    def _matches(self, word: str) -> bool:
        """Whether a lowercased word is one the query looks for."""
        return bool(self.prefixes and word.startswith(self.prefixes)) or not self.terms.isdisjoint(
            analyze_word(word)
        )
