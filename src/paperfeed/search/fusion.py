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
    """One candidate per paper found by any ranking, best first, with its rank and score in
    each (`known` scores too, with no rank) and its fused score (fused_scores)."""
    # Each paper's ranks and scores are gathered in plain dicts, and its Candidate made once
    # with them: ~400 papers a search, so every pass and object counts.
    ranks: dict[int, dict[str, int]] = {}
    scores: dict[int, dict[str, float]] = {}
    for name, ranking in rankings.items():
        for rank, (pk, score) in enumerate(ranking, start=1):
            own = ranks.get(pk)
            if own is None:
                ranks[pk] = {name: rank}
                scores[pk] = {name: score}
            elif name not in own:
                own[name] = rank
                scores[pk][name] = score
    for name, extra in (known or {}).items():
        for pk, score in extra.items():
            found = scores.get(pk)
            if found is not None:
                found.setdefault(name, score)
    fused = fused_scores(rankings, tuning, known)
    candidates = [Candidate(pk, fused[pk], own, scores[pk]) for pk, own in ranks.items()]
    candidates.sort(key=lambda c: -c.score)
    return candidates


def fused_scores(
    rankings: Mapping[str, Ranking],
    tuning: Tuning,
    known: Mapping[str, Mapping[int, float]] | None = None,
) -> dict[int, float]:
    """The fused score of every paper any ranking found, in first-met order.

    `known` holds scores a ranking gives papers outside its own list (the real cosine of a
    paper only the keyword side found): they count as that ranking's score. A single non-empty
    ranking keeps its own scores (BM25, cosine); several are fused by `tuning.fusion`:
    - "tmm": sum of weight * (score - floor) / (best score - floor), the theoretical min-max
      normalisation (Bruch et al. 2023), floors from `tuning.floors` (BM25 0, cosine -1); a
      paper with no score from a ranking gets 0 there;
    - "convex": the same with the lowest score as floor;
    - "rrf": sum of weight / (k + rank).
    A ranking of weight 0 informs (its ranks and scores are kept) but does not count.
    """
    present = {name: ranking for name, ranking in rankings.items() if ranking}
    fused = dict.fromkeys((pk for ranking in present.values() for pk, _ in ranking), 0.0)
    if len(present) == 1:
        ((_, ranking),) = present.items()
        seen: set[int] = set()
        for pk, score in ranking:
            if pk not in seen:
                seen.add(pk)
                fused[pk] = score
        return fused
    for name, ranking in present.items():
        weight = tuning.weight(name)
        if weight == 0:
            continue
        if tuning.fusion == "rrf":
            seen = set()
            for rank, (pk, _) in enumerate(ranking, start=1):
                if pk not in seen:
                    seen.add(pk)
                    fused[pk] += weight / (tuning.rrf_k + rank)
            continue
        own = dict(reversed(ranking))  # each paper's first (best) score
        extra = (known or {}).get(name, {})
        scored = own | {pk: s for pk, s in extra.items() if pk in fused and pk not in own}
        high = max(scored.values())
        low = tuning.floors.get(name, 0.0) if tuning.fusion == "tmm" else min(scored.values())
        scale = weight / max(high - low, 1e-9)
        for pk, score in scored.items():
            # max(score, low), without the call (~800 papers a search, twice with feedback)
            fused[pk] += scale * ((low if low > score else score) - low)
    return fused
