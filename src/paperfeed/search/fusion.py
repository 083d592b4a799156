"""Fuse ranked lists of paper ids into one ranking: reciprocal rank fusion (pure)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

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
