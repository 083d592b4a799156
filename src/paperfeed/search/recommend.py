"""Recommendations: rank papers for a reader from the papers they liked (saved, upvoted) and
the ones they are not interested in, over the papers' embeddings (pure, but for the vectors).

A reader's interests are kept apart, not blended into one centroid: each liked paper is a
prototype of its own (up to MAX_PROTOTYPES; more are grouped by spherical k-means, each group
answering with its most typical paper). A candidate scores its best cosine to a prototype, so a
robotics paper is judged against the robotics papers liked, not against the average of robotics
and reinforcement learning; then loses `push_down` times its best cosine to a disliked paper
(when positive). Every recommendation names the liked paper it is most like (its reason).

Cost: one matrix product of the candidates (74,728 x 384 at most) by the prototypes (16 x
384), in chunks: milliseconds, never a model trained over the whole corpus per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np

from paperfeed.models import SearchFilters
from paperfeed.storage import Store

MAX_PROTOTYPES = 16
PUSH_DOWN = 0.5
_CHUNK = 16_384  # candidate rows scored at a time (16 x 16,384 floats of scores)
_KMEANS_ROUNDS = 8


class Vectors(Protocol):
    """What recommendations need of a vector index (VectorIndex, SharedVectorIndex)."""

    def matrix_for(self, pks: Iterable[int]) -> tuple[list[int], np.ndarray]: ...

    def search(
        self,
        query: np.ndarray,
        limit: int,
        allowed: Iterable[int] | None = None,
        exclude: int | None = None,
    ) -> list[tuple[int, float]]: ...


@dataclass(frozen=True)
class Recommendation:
    """A paper for the reader, its score, and the liked paper it is most like."""

    pk: int
    score: float
    because: int


@dataclass(frozen=True)
class Profile:
    """A reader's interests as prototype vectors, each with the liked paper it stands for."""

    prototypes: np.ndarray  # (k, d), unit rows
    examples: tuple[int, ...]  # the liked pk each prototype names
    dislikes: np.ndarray  # (m, d), unit rows (m may be 0)

    @property
    def empty(self) -> bool:
        return len(self.examples) == 0


def profile(
    vectors: Vectors, liked: Sequence[int], disliked: Sequence[int] = (), seed: int = 7
) -> Profile:
    """The prototypes of the liked papers that have vectors (see the module doc)."""
    liked_pks, liked_rows = vectors.matrix_for(dict.fromkeys(liked))
    _, disliked_rows = vectors.matrix_for(dict.fromkeys(disliked))
    dimensions = liked_rows.shape[1] if liked_rows.ndim == 2 else 0
    dislikes = np.asarray(disliked_rows, dtype=np.float32).reshape(-1, dimensions or 1)
    if not liked_pks:
        return Profile(np.zeros((0, dimensions or 1), np.float32), (), dislikes)
    rows = _unit(np.asarray(liked_rows, dtype=np.float32))
    if len(liked_pks) <= MAX_PROTOTYPES:
        return Profile(rows, tuple(liked_pks), dislikes)
    centres = _spherical_kmeans(rows, MAX_PROTOTYPES, seed)
    # Each centre answers with its most typical member: the paper named as the reason.
    members = np.argmax(rows @ centres.T, axis=0)
    return Profile(centres, tuple(liked_pks[int(m)] for m in members), dislikes)


def recommend(
    vectors: Vectors,
    reader: Profile,
    candidates: np.ndarray,
    matrix: np.ndarray,
    exclude: Iterable[int] = (),
    limit: int = 50,
    push_down: float = PUSH_DOWN,
    min_score: float | None = None,
) -> list[Recommendation]:
    """The `limit` best of `candidates` (pks, with their vectors as the rows of `matrix`) for
    `reader`, best first; none of `exclude`, none scoring under `min_score`."""
    if reader.empty or limit <= 0 or len(candidates) == 0:
        return []
    skip = np.isin(candidates, np.fromiter(set(exclude), dtype=np.int64))
    best_scores: list[np.ndarray] = []
    best_rows: list[np.ndarray] = []
    best_because: list[np.ndarray] = []
    for start in range(0, len(candidates), _CHUNK):
        block = np.asarray(matrix[start : start + _CHUNK], dtype=np.float32)
        likes = block @ reader.prototypes.T  # (n, k)
        because = np.argmax(likes, axis=1)
        scores = likes[np.arange(len(block)), because]
        if len(reader.dislikes):
            worst = (block @ reader.dislikes.T).max(axis=1)
            scores = scores - push_down * np.maximum(worst, 0.0)
        scores[skip[start : start + _CHUNK]] = -np.inf
        if min_score is not None:
            scores[scores < min_score] = -np.inf
        take = min(limit, len(scores))
        top = np.argpartition(-scores, take - 1)[:take]
        top = top[np.isfinite(scores[top])]
        best_scores.append(scores[top])
        best_rows.append(top + start)
        best_because.append(because[top])
    scores = np.concatenate(best_scores)
    rows = np.concatenate(best_rows)
    because = np.concatenate(best_because)
    order = np.lexsort((candidates[rows], -scores))[:limit]  # ties: lower pk first
    return [
        Recommendation(int(candidates[rows[i]]), float(scores[i]), reader.examples[because[i]])
        for i in order
    ]


def neighbourhood(vectors: Vectors, reader: Profile, per_prototype: int = 400) -> list[int]:
    """Candidates near the reader's prototypes (for an index that keeps its vectors in the
    database, where scoring every paper would mean reading them all)."""
    found: dict[int, None] = {}
    for prototype in reader.prototypes:
        for pk, _ in vectors.search(prototype, per_prototype):
            found[pk] = None
    return list(found)


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, 1e-12)


def _spherical_kmeans(rows: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k unit centres of unit `rows` (cosine k-means), started from far-apart rows."""
    rng = np.random.default_rng(seed)
    chosen = [int(rng.integers(len(rows)))]
    nearest = rows @ rows[chosen[0]]
    for _ in range(1, k):  # farthest-first: each next start is the row least like the others
        chosen.append(int(np.argmin(nearest)))
        nearest = np.maximum(nearest, rows @ rows[chosen[-1]])
    centres = rows[chosen].copy()
    for _ in range(_KMEANS_ROUNDS):
        assignment = np.argmax(rows @ centres.T, axis=1)
        for j in range(k):
            members = rows[assignment == j]
            if len(members):
                centres[j] = members.sum(axis=0)
        centres = _unit(centres)
    return centres


def rank_for(
    store: Store,
    vectors: Vectors,
    liked: Sequence[int],
    disliked: Sequence[int] = (),
    since: date | None = None,
    exclude: Iterable[int] = (),
    limit: int = 50,
    min_score: float | None = None,
) -> list[Recommendation]:
    """Papers for a reader who liked `liked` and not `disliked` (pks), listed on or after
    `since` when given; never one of those, nor of `exclude` (read, saved, dismissed). The
    function the "for you" feed, the digest and `paperfeed recommend` share."""
    liked = [int(pk) for pk in liked]
    disliked = [int(pk) for pk in disliked]
    reader = profile(vectors, liked, disliked)
    if reader.empty:
        return []
    snapshot = getattr(vectors, "snapshot", None)
    if snapshot is not None:  # the vectors are in memory: score them all
        candidates, matrix = snapshot()
        if since is not None:
            allowed = np.fromiter(store.filtered_pks(SearchFilters(since=since)), dtype=np.int64)
            keep = np.isin(candidates, allowed)
            candidates, matrix = candidates[keep], matrix[keep]
    else:  # in the database: the neighbourhood of each interest
        near = neighbourhood(vectors, reader)
        if since is not None:
            allowed_set = set(store.filtered_pks(SearchFilters(since=since)))
            near = [pk for pk in near if pk in allowed_set]
        found, matrix = vectors.matrix_for(near)
        candidates = np.asarray(found, dtype=np.int64)
    skipped = {*liked, *disliked, *exclude}
    return recommend(vectors, reader, candidates, matrix, skipped, limit, min_score=min_score)
