"""Choose what goes in a digest: the period's trending papers, then each topic's matches.

Trending order: the stored trending rank (local votes and imported Hugging Face upvotes,
decayed by age). Papers nobody voted for follow in the documented default order: the newest
listing day first, then papers cross-listed in more categories (of wider interest), then by
arXiv id. So a fresh instance with no votes still sends each day's papers.

A topic is a hybrid search over the period's papers; a hit counts when its meaning is close
(cosine >= embeddings.min_similarity of the model) or every word of the topic occurs in its
title, abstract or authors (so exact names, "LLaMA" or "Yann LeCun", work as topics).
No paper is sent to the same subscriber twice, across sections and across digests.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from paperfeed.digest.schedule import DigestPeriod
from paperfeed.embeddings import min_similarity, strong_similarity
from paperfeed.models import ListedPaper, Paper, SearchFilters, Subscriber
from paperfeed.search.followed import for_you
from paperfeed.search.searcher import Searcher
from paperfeed.storage import Store

TOPIC_CANDIDATES = 60
_POOL_LIMIT = 50_000


@dataclass(frozen=True)
class Entry:
    """One paper in a digest and the one line that says why it is there."""

    paper: ListedPaper
    why: str


@dataclass(frozen=True)
class DigestPlan:
    """What one subscriber gets for one period."""

    subscriber: Subscriber
    period: DigestPeriod
    trending: tuple[Entry, ...]
    topics: tuple[tuple[str, tuple[Entry, ...]], ...]
    for_you: tuple[Entry, ...] = ()  # from the reader's library and follows

    @property
    def entries(self) -> list[Entry]:
        topical = (e for _, entries in self.topics for e in entries)
        return [*self.trending, *self.for_you, *topical]

    @property
    def pks(self) -> tuple[int, ...]:
        return tuple(e.paper.pk for e in self.entries)


class PeriodPapers:
    """The papers of one period, in trending order, loaded once for every subscriber."""

    def __init__(self, store: Store, since: date, until: date) -> None:
        ranked = store.trending_papers(since, until, _POOL_LIMIT)
        voted = [p for p in ranked if p.upvotes > 0]
        rest = sorted(
            (p for p in ranked if p.upvotes <= 0),
            key=lambda p: (
                -(p.day.toordinal() if p.day else 0),
                -len(p.paper.categories),
                p.paper.id,
            ),
        )
        self.ordered: list[ListedPaper] = voted + rest
        self.by_pk = {p.pk: p for p in self.ordered}
        self.pk_by_id = {p.paper.id: p.pk for p in self.ordered}
        self.categories = {p.pk: frozenset(p.paper.categories) for p in self.ordered}

        self._words: dict[int, frozenset[str]] = {}
        self._by_categories: dict[frozenset[str], list[ListedPaper]] = {}

    def in_categories(self, categories: frozenset[str]) -> list[ListedPaper]:
        """The papers in any of `categories`, in trending order (all of them for none)."""
        if not categories:
            return self.ordered
        found = self._by_categories.get(categories)
        if found is None:
            found = self._by_categories[categories] = [
                p for p in self.ordered if categories & self.categories[p.pk]
            ]
        return found

    def papers(self, pks: Iterable[int]) -> dict[int, Paper]:
        """The period's papers among `pks` (what the rerank stage reads)."""
        by_pk = self.by_pk
        return {pk: by_pk[pk].paper for pk in pks if pk in by_pk}

    def words(self, pk: int) -> frozenset[str]:
        found = self._words.get(pk)
        if found is None:
            found = self._words[pk] = paper_words(self.by_pk[pk].paper)
        return found

    def __len__(self) -> int:
        return len(self.ordered)


def _key(topic: str) -> str:
    return " ".join(topic.split())


class TopicMatcher:
    """Topic -> matching papers of the period, searched once per distinct topic (subscribers'
    categories are applied to the shared answer, so they cost no extra search)."""

    def __init__(self, searcher: Searcher, period: DigestPeriod, pool: PeriodPapers) -> None:
        self.searcher = searcher
        self.period = period
        self.pool = pool
        self._cache: dict[str, list[int]] = {}

    def matches(self, topic: str) -> list[int]:
        """The period's papers matching `topic`, best first."""
        key = _key(topic)
        if key not in self._cache:
            self.prefetch([topic])
        return self._cache[key]

    def prefetch(self, topics: Iterable[str]) -> None:
        """Search every topic not searched yet, all in one batch (Pipeline.rank_many)."""
        todo = list(dict.fromkeys(_key(t) for t in topics if _key(t) not in self._cache))
        if not todo:
            return
        filters = SearchFilters(since=self.period.since, until=self.period.until)
        by_pk = self.pool.by_pk
        rankings = self.searcher.pipeline.rank_many(
            todo, filters, TOPIC_CANDIDATES, self.pool.papers
        )
        embedder = self.searcher.embedder
        threshold = min_similarity(embedder.model_id) if embedder is not None else 1.0
        for topic, ranking in zip(todo, rankings, strict=True):
            words = topic_words(topic)
            self._cache[topic] = [
                c.pk
                for c in ranking
                if c.pk in by_pk
                and (
                    (c.cosine is not None and c.cosine >= threshold)
                    or (c.keyword_rank is not None and _mentions(self.pool.words(c.pk), words))
                )
            ]

    def __len__(self) -> int:
        return len(self._cache)


_STOPWORDS = frozenset(["a", "an", "and", "at", "by", "for", "from", "in", "of", "on", "or", "the"])


def topic_words(topic: str) -> list[str]:
    """The words of a topic that must all occur (or their plurals) for a keyword match."""
    return [w for w in re.findall(r"\w+", topic.casefold()) if w not in _STOPWORDS]


def paper_words(paper: Paper) -> frozenset[str]:
    """The words of a paper's title, abstract and authors, as topic_words reads them."""
    text = " ".join((paper.title, paper.abstract, *paper.authors)).casefold()
    return frozenset(re.findall(r"\w+", text))


def _mentions(vocabulary: frozenset[str], words: list[str]) -> bool:
    """Every word occurs (or its plural: "system" matches "systems")."""
    return bool(words) and all(
        w in vocabulary or w + "s" in vocabulary or w + "es" in vocabulary for w in words
    )


def trending_why(paper: ListedPaper) -> str:
    if paper.upvotes > 0:
        return f"trending: {paper.upvotes} upvote{'s' if paper.upvotes != 1 else ''}"
    primary = paper.paper.categories[0] if paper.paper.categories else None
    return f"new in {primary}" if primary else "new this period"


def _take_trending(
    pool: PeriodPapers,
    wanted: frozenset[str],
    fits: Callable[[int], bool],
    taken: set[int],
    limit: int,
) -> list[Entry]:
    chosen: list[Entry] = []
    for paper in pool.in_categories(wanted):
        if len(chosen) >= limit:
            break
        if fits(paper.pk):
            chosen.append(Entry(paper, trending_why(paper)))
            taken.add(paper.pk)
    return chosen


def personal_papers(
    store: Store, searcher: Searcher, subscriber: Subscriber, period: DigestPeriod, limit: int
) -> list[tuple[int, str]]:
    """(pk, reason) of the period's papers for a reader with a library or follows: what they
    follow first, then papers like what they saved and upvoted, strong matches only (no weak
    match fills space; the bar is embeddings.strong_similarity). [] for anyone else."""
    if not subscriber.is_account:
        return []
    embedder = searcher.embedder
    bar = strong_similarity(embedder.model_id) if embedder is not None else None
    found = for_you(searcher, subscriber.id, None, period.since, limit, min_score=bar)
    return [(f.pk, f.reason) for f in found]


def plan_digest(
    subscriber: Subscriber,
    period: DigestPeriod,
    pool: PeriodPapers,
    matcher: TopicMatcher,
    sent_before: set[int],
    trending_count: int,
    personal: Sequence[tuple[int, str]] = (),
) -> DigestPlan | None:
    """The digest for `subscriber`, or None when there is nothing new to send. `personal`:
    (pk, reason) of the period's papers for this reader ("for you": followed, then like what
    they saved, strong matches only), best first; they get up to half of what trending leaves
    (all of it without topics)."""
    preferences = subscriber.preferences
    budget = preferences.max_papers
    wanted = frozenset(preferences.categories)
    taken: set[int] = set(sent_before)

    def fits(pk: int) -> bool:
        return pk not in taken and (not wanted or bool(wanted & pool.categories[pk]))

    topics = preferences.topics
    # With topics or "for you", trending takes at most half the mail (and
    # PAPERFEED_DIGEST_TRENDING).
    own = bool(topics or personal)
    limit = min(trending_count, budget - budget // 2) if own else budget
    trending = _take_trending(pool, wanted, fits, taken, limit)
    remaining = budget - len(trending)
    share = remaining - remaining // 2 if topics else remaining
    for_you: list[Entry] = []
    for pk, why in personal:
        if len(for_you) >= share:
            break
        if pk in pool.by_pk and fits(pk):
            for_you.append(Entry(pool.by_pk[pk], why))
            taken.add(pk)
    remaining -= len(for_you)
    sections: list[tuple[str, tuple[Entry, ...]]] = []
    for index, topic in enumerate(topics):
        if remaining <= 0:
            break
        share = math.ceil(remaining / (len(topics) - index))
        chosen: list[Entry] = []
        for pk in matcher.matches(topic):
            if len(chosen) >= share:
                break
            if fits(pk):
                chosen.append(Entry(pool.by_pk[pk], f'matches your topic "{topic}"'))
                taken.add(pk)
        remaining -= len(chosen)
        if chosen:
            sections.append((topic, tuple(chosen)))
    if own and remaining > 0:
        # Topics and "for you" found less than their share: more trending papers fill it.
        trending += _take_trending(pool, wanted, fits, taken, remaining)
    if not trending and not sections and not for_you:
        return None
    return DigestPlan(subscriber, period, tuple(trending), tuple(sections), tuple(for_you))
