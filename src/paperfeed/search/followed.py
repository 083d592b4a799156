"""A reader's "for you", each paper with its reason: what they follow (the new papers of
followed authors and categories, the best new matches of saved searches), then papers like what
they saved (search/recommend.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from paperfeed.models import Follow, SearchFilters
from paperfeed.search.names import author_key
from paperfeed.search.recommend import rank_for
from paperfeed.search.searcher import Searcher

EACH = 10  # papers a follow brings at most
LIBRARY_READ = 10_000  # the most papers of one collection an interest learns from


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


@dataclass(frozen=True)
class ForYou:
    """A paper for a reader: why (`reason`), the liked paper it is like (None when a follow
    brought it), and its score (None for follows)."""

    pk: int
    reason: str
    like_pk: int | None = None
    score: float | None = None


def for_you(
    searcher: Searcher,
    owner_id: int,
    collection_id: int | None = None,
    since: date | None = None,
    limit: int = 30,
    min_score: float | None = None,
) -> list[ForYou]:
    """A reader's "for you": what they follow first (unless one collection is asked for),
    then papers like what they saved and upvoted (or like that collection's), each once,
    never one they read, saved or dismissed. The page, its Atom feed, the API and the digest
    all come here."""
    store = searcher.store
    saved, dismissed = store.saved_pks(owner_id), store.dismissed_pks(owner_id)
    seen = store.read_pks(owner_id) | saved | dismissed
    found: dict[int, ForYou] = {}
    if collection_id is None:
        follows = store.follows_of(owner_id)
        for followed in followed_papers(searcher, follows, since):
            if followed.pk not in seen:
                found.setdefault(followed.pk, ForYou(followed.pk, followed.reason))
    if searcher.vectors is not None:
        # Learned from one collection (an interest of its own), or from all saved and upvoted.
        if collection_id is not None:
            entries = store.collection_entries(collection_id, LIBRARY_READ, 0)
            liked = [entry.pk for entry in entries]
        else:
            liked = sorted(saved | store.voted_pks(owner_id))
        ranked = rank_for(
            store, searcher.vectors, liked, sorted(dismissed), since, seen, limit, min_score
        )
        likes = store.papers_by_pk({r.because for r in ranked})
        for r in ranked:
            if r.because in likes:
                reason = f"like “{likes[r.because].title}”"
                found.setdefault(r.pk, ForYou(r.pk, reason, r.because, r.score))
    return list(found.values())
