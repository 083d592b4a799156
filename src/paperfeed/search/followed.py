"""What a reader follows, as papers: the new papers of followed authors, of followed categories,
and the best new matches of saved searches, each with its reason (for "for you" and the
digest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from paperfeed.models import Follow, SearchFilters
from paperfeed.search.names import author_key
from paperfeed.search.searcher import Searcher

EACH = 10  # papers a follow brings at most


@dataclass(frozen=True)
class Followed:
    """A paper a reader's follow brought, and why."""

    pk: int
    reason: str


def followed_papers(
    searcher: Searcher, follows: list[Follow], since: date | None, each: int = EACH
) -> list[Followed]:
    """The papers `follows` bring (listed on or after `since`), each once, with the reason of
    the first follow that brought it: authors and categories newest first, searches best
    first."""
    window = SearchFilters(since=since)
    found: dict[int, str] = {}
    for follow in follows:
        if follow.kind == "author":
            key = author_key(follow.value)
            pks = searcher.keyword.author_pks([key], window, each) if key else []
            reason = f"by {follow.value}, whom you follow"
        elif follow.kind == "category":
            filters = SearchFilters(categories=(follow.value,), since=since)
            pks = searcher.keyword.newest_pks(filters, each)
            reason = f"in {follow.value}, which you follow"
        else:
            results = searcher.search(follow.value, limit=each, filters=window, highlight=False)
            pks = [hit.listed.pk for hit in results.hits if hit.listed is not None]
            reason = f"matches your search “{follow.value}”"
        for pk in pks:
            found.setdefault(pk, reason)
    return [Followed(pk, reason) for pk, reason in found.items()]
