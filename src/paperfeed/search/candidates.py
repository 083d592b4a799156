"""A search candidate: one paper with what each ranking said about it, as it moves through the
pipeline (gathered, fused, reranked, paged)."""

from __future__ import annotations

from dataclasses import dataclass, field

from paperfeed.models import Paper
from paperfeed.search.tuning import KEYWORD, QUERY, VECTOR

# A ranking: (pk, that ranking's own score), best first.
Ranking = list[tuple[int, float]]


@dataclass(slots=True)
class Candidate:
    """A paper in the running: its score so far, its rank and raw score in each ranking it
    appeared in (rank from 1), why it was put first (if it was), and its text once read."""

    pk: int
    score: float = 0.0
    ranks: dict[str, int] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    pinned: str | None = None  # "id" or "author": placed above the rest, and why
    paper: Paper | None = None

    def rank(self, ranking: str) -> int | None:
        return self.ranks.get(ranking)

    @property
    def keyword_rank(self) -> int | None:
        return self.ranks.get(KEYWORD)

    @property
    def vector_rank(self) -> int | None:
        return self.ranks.get(VECTOR)

    @property
    def cosine(self) -> float | None:
        """The cosine of the query as typed and the paper, when it is known."""
        return self.scores.get(QUERY, self.scores.get(VECTOR))

    @property
    def query_rank(self) -> int | None:
        """Its rank by cosine to the query as typed (before feedback moved the query)."""
        return self.ranks.get(QUERY, self.ranks.get(VECTOR))
