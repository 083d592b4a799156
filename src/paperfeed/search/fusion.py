"""Fuse named rankings of paper ids into one list of candidates: weighted reciprocal rank fusion
or a convex combination of normalised scores (pure)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

from paperfeed.search.candidates import Candidate, Ranking
from paperfeed.search.tuning import Tuning

K = TypeVar("K", bound=Hashable)


def reciprocal_rank_fusion(
    *rankings: Sequence[K], k: float = 60.0, weights: Sequence[float] | None = None
) -> list[tuple[K, float]]:
    """Score each id by sum(weight / (k + rank)) over the rankings it appears in (rank from 1).

    Ties keep the order in which ids were first met, so the first ranking breaks them.
    """
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[K, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])


def min_max(scores: Sequence[float]) -> list[float]:
    """Scores scaled to [0, 1] within their ranking (all 1.0 when they are all equal)."""
    if not scores:
        return []
    low, high = min(scores), max(scores)
    if high - low <= 1e-12:
        return [1.0] * len(scores)
    return [(s - low) / (high - low) for s in scores]


def fuse(rankings: Mapping[str, Ranking], tuning: Tuning) -> list[Candidate]:
    """One candidate per paper found by any ranking, best first, with its rank and score in each.

    A single non-empty ranking keeps its own scores (BM25, cosine); several are fused by
    `tuning.fusion`: "rrf" sums weight / (k + rank), "convex" sums weight * min-max normalised
    score (a paper a ranking did not reach scores 0 there). Ties keep first-met order.
    """
    found: dict[int, Candidate] = {}
    present = {name: ranking for name, ranking in rankings.items() if ranking}
    for name, ranking in present.items():
        for rank, (pk, score) in enumerate(ranking, start=1):
            candidate = found.get(pk)
            if candidate is None:
                candidate = found[pk] = Candidate(pk)
            if name not in candidate.ranks:
                candidate.ranks[name] = rank
                candidate.scores[name] = score
    if len(present) == 1:
        for candidate in found.values():
            candidate.score = next(iter(candidate.scores.values()))
    elif tuning.fusion == "convex":
        for name, ranking in present.items():
            weight = tuning.weight(name)
            for (pk, _), value in zip(ranking, min_max([s for _, s in ranking]), strict=True):
                found[pk].score += weight * value
    else:
        for candidate in found.values():
            candidate.score = sum(
                tuning.weight(name) / (tuning.rrf_k + rank)
                for name, rank in candidate.ranks.items()
            )
    return sorted(found.values(), key=lambda c: -c.score)
