"""Recommendations: rank papers for a reader from the papers they liked (saved, upvoted) and
the ones they are not interested in, over the papers' embeddings (pure, but for the vectors).

A reader's interests are kept apart, not blended into one centroid: the liked papers are grouped
into interests (spherical k-means, about INTEREST_SIZE papers each, at most MAX_INTERESTS), and
a candidate scores by its best interest: half its cosine to the interest's centre, half its
best cosine to one of the interest's papers (the centre finds what the interest is about, the
papers keep its particular corners). "Not interested" moves the centre of the interest nearest
to each dismissed paper away from it (Rocchio, PUSH_DOWN times their mean), so papers like the
dismissed ones go down while the reader's other interests stay as they were. Every
recommendation names the liked paper it is most like (its reason).

Measured on simulated readers (bench/recommend_eval.py, README): better than one centroid and
than the best cosine to a single liked paper, with and without "not interested". Cost: a
nearest-neighbour search per interest (the HNSW graph at scale) picks SHORTLIST candidates,
scored exactly: milliseconds, never a model trained over the whole corpus per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np

from paperfeed.models import SearchFilters
from paperfeed.storage import Store

INTEREST_SIZE = 10
# The least cosine to an interest's centre that makes a paper part of it (0.3 beat 0.45 and
# 0.6 on CACM and Cranfield, bench/recommend_eval.py).
JOIN = 0.3
MAX_INTERESTS = 16
MIX = 0.5  # the centre's share of an interest's score (the rest: its nearest paper)
PUSH_DOWN = 0.5
SHORTLIST = 600  # candidates scored exactly, found near the interests' centres
PER_INTEREST_MIN = 60
_CHUNK = 4096  # candidate rows scored at a time (the bench scores whole corpora)
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
    """A reader's interests: their centres (moved away from dismissed papers), and the liked
    papers with the interest each belongs to."""

    centres: np.ndarray  # (k, d), unit rows
    liked: np.ndarray  # (n, d), unit rows
    interest_of: np.ndarray  # (n,), the interest of each liked paper
    examples: tuple[int, ...]  # the pk of each liked paper

    @property
    def empty(self) -> bool:
        return len(self.examples) == 0


def profile(
    vectors: Vectors, liked: Sequence[int], disliked: Sequence[int] = (), seed: int = 7
) -> Profile:
    """The interests of the liked papers that have vectors (see the module doc)."""
    liked_pks, liked_rows = vectors.matrix_for(dict.fromkeys(liked))
    _, disliked_rows = vectors.matrix_for(dict.fromkeys(disliked))
    if not liked_pks:
        nothing = np.zeros((0, 1), np.float32)
        return Profile(nothing, nothing, np.zeros(0, np.int64), ())
    rows = _unit(np.asarray(liked_rows, dtype=np.float32))
    centres = _interests(rows, seed)
    interest_of = np.argmax(rows @ centres.T, axis=1)
    if len(disliked_rows):
        dislikes = _unit(np.asarray(disliked_rows, dtype=np.float32).reshape(-1, rows.shape[1]))
        nearest = np.argmax(dislikes @ centres.T, axis=1)
        for interest in range(len(centres)):
            mine = dislikes[nearest == interest]
            if len(mine):
                centres[interest] -= PUSH_DOWN * mine.mean(axis=0)
        centres = _unit(centres)
    return Profile(centres, rows, interest_of, tuple(liked_pks))


def recommend(
    reader: Profile,
    candidates: np.ndarray,
    matrix: np.ndarray,
    exclude: Iterable[int] = (),
    limit: int = 50,
    min_score: float | None = None,
) -> list[Recommendation]:
    """The `limit` best of `candidates` (pks, with their vectors as the rows of `matrix`) for
    `reader`, best first; none of `exclude`, none scoring under `min_score`."""
    if reader.empty or limit <= 0 or len(candidates) == 0:
        return []
    skip = np.isin(candidates, np.fromiter(set(exclude), dtype=np.int64))
    scores = np.full(len(candidates), -np.inf, dtype=np.float32)
    because = np.zeros(len(candidates), dtype=np.int64)
    for start in range(0, len(candidates), _CHUNK):
        block = np.asarray(matrix[start : start + _CHUNK], dtype=np.float32)
        to_centres = block @ reader.centres.T  # (b, k)
        to_liked = block @ reader.liked.T  # (b, n)
        rows = np.arange(len(block))
        for interest in range(len(reader.centres)):
            members = np.flatnonzero(reader.interest_of == interest)
            if len(members) == 0:
                continue
            nearest = members[np.argmax(to_liked[:, members], axis=1)]
            part = MIX * to_centres[:, interest] + (1 - MIX) * to_liked[rows, nearest]
            window = slice(start, start + len(block))
            better = part > scores[window]
            scores[window][better] = part[better]
            because[window][better] = nearest[better]
    scores[skip] = -np.inf
    if min_score is not None:
        scores[scores < min_score] = -np.inf
    order = np.lexsort((candidates, -scores))[:limit]  # ties: lower pk first
    return [
        Recommendation(int(candidates[i]), float(scores[i]), reader.examples[because[i]])
        for i in order
        if np.isfinite(scores[i])
    ]


def neighbourhood(
    vectors: Vectors, reader: Profile, allowed: Iterable[int] | None = None
) -> list[int]:
    """The papers nearest each interest's centre (SHORTLIST in all, among `allowed` when
    given), through the vector index: its graph at scale, so no request reads every vector."""
    each = max(PER_INTEREST_MIN, SHORTLIST // max(1, len(reader.centres)))
    allowed_list = None if allowed is None else list(allowed)
    found: dict[int, None] = {}
    for centre in reader.centres:
        for pk, _ in vectors.search(centre, each, allowed_list):
            found[pk] = None
    return list(found)


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, 1e-12)


def _interests(rows: np.ndarray, seed: int) -> np.ndarray:
    """Centres of the interests in unit `rows`: as many as the papers need (a paper joins an
    interest whose centre it is at least JOIN like, or starts one), at least one per
    INTEREST_SIZE papers, at most MAX_INTERESTS; then refined by spherical k-means."""
    leaders = np.zeros_like(rows)  # unit centres so far, one per row
    sums = np.zeros_like(rows)
    found = 0
    for row in rows:
        if found:
            likeness = leaders[:found] @ row
            best = int(np.argmax(likeness))
            if likeness[best] >= JOIN:
                sums[best] += row
                leaders[best] = sums[best] / np.linalg.norm(sums[best])
                continue
        leaders[found] = sums[found] = row
        found += 1
    count = min(MAX_INTERESTS, max(found, -(-len(rows) // INTEREST_SIZE)))
    if count == 1:
        return _unit(rows.mean(axis=0, keepdims=True))
    return _spherical_kmeans(rows, count, seed)


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
        sums = np.zeros_like(centres)
        np.add.at(sums, assignment, rows)
        empty = ~sums.any(axis=1)
        sums[empty] = centres[empty]  # a centre nothing joined stays where it was
        centres = _unit(sums)
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
    allowed = store.filtered_pks(SearchFilters(since=since)) if since is not None else None
    near = neighbourhood(vectors, reader, allowed)
    found, matrix = vectors.matrix_for(near)
    candidates = np.asarray(found, dtype=np.int64)
    skipped = {*liked, *disliked, *exclude}
    return recommend(reader, candidates, matrix, skipped, limit, min_score)
