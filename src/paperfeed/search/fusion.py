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


def fuse(
    rankings: Mapping[str, Ranking],
    tuning: Tuning,
    known: Mapping[str, Mapping[int, float]] | None = None,
) -> list[Candidate]:
    """One candidate per paper found by any ranking, best first, with its rank and score in each.

    `known` holds scores a ranking gives papers outside its own list (the real cosine of a
    paper only the keyword side found): they count in the fusion and in Candidate.scores, with
    no rank. A single non-empty ranking keeps its own scores (BM25, cosine); several are fused
    by `tuning.fusion`:
    - "tmm": sum of weight * (score - floor) / (best score - floor), the theoretical min-max
      normalisation (Bruch et al. 2023), floors from `tuning.floors` (BM25 0, cosine -1); a
      paper with no score from a ranking gets 0 there;
    - "convex": the same with the list's own minimum as floor;
    - "rrf": sum of weight / (k + rank).
    Ties keep first-met order.
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
    for name, scores in (known or {}).items():
        for pk, score in scores.items():
            candidate = found.get(pk)
            if candidate is not None:
                candidate.scores.setdefault(name, score)
    if len(present) == 1:
        for candidate in found.values():
            candidate.score = candidate.scores[next(iter(present))]
    elif tuning.fusion in ("tmm", "convex"):
        for name, ranking in present.items():
            weight = tuning.weight(name)
            if weight == 0:
                continue
            extra = (known or {}).get(name, {})
            scored = [(pk, s) for pk, s in ranking]
            scored += [
                (pk, s) for pk, s in extra.items() if pk in found and name not in found[pk].ranks
            ]
            values = [s for _, s in scored]
            high = max(values)
            low = tuning.floors.get(name, 0.0) if tuning.fusion == "tmm" else min(values)
            scale = weight / max(high - low, 1e-9)
            seen: set[int] = set()
            for pk, score in scored:
                if pk not in seen:
                    seen.add(pk)
                    found[pk].score += scale * (max(score, low) - low)
    else:
        for candidate in found.values():
            candidate.score = sum(
                tuning.weight(name) / (tuning.rrf_k + rank)
                for name, rank in candidate.ranks.items()
            )
    return sorted(found.values(), key=lambda c: -c.score)
