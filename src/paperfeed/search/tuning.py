"""How search ranks, in one place: the rankings fused, their weights, and each stage's depth.

Every figure here was chosen by `bench/search_quality.py` on public sets (SciFact train, CACM,
Cranfield; never on SciFact test), and the README's search quality table shows each step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

# The rankings a search can fuse, by name.
KEYWORD = "keyword"  # BM25 over title, abstract and authors (tantivy)
VECTOR = "vector"  # cosine of the query's and the paper's embedding
REF = "ref"  # the papers an id, URL or DOI in the query names
AUTHOR = "author"  # the papers of an author the query names in full
QUERY = "query"  # cosine to the query as typed, before feedback (weight 0: it informs, not ranks)

FUSIONS = ("rrf", "convex")


def _weights(**weights: float) -> Mapping[str, float]:
    return MappingProxyType(dict(weights))


@dataclass(frozen=True)
class Tuning:
    """The knobs of the ranking pipeline (see the README's search quality section)."""

    # Theoretical min-max fusion with each paper's real cosine (also for papers only the
    # keyword side found): SciFact train 0.743 against 0.725 for the weighted RRF before it.
    fusion: str = "tmm"
    weights: Mapping[str, float] = field(
        default_factory=lambda: _weights(keyword=0.2, vector=0.8, query=0.0)
    )
    # The lowest score each ranking can give (BM25 0, cosine -1), for "tmm".
    floors: Mapping[str, float] = field(default_factory=lambda: _weights(keyword=0.0, vector=-1.0))
    rrf_k: float = 20.0  # for fusion="rrf" (k=20, keyword 1.5 : vector 1 was tuned for it)
    candidates: int = 200  # papers each ranking contributes to the fusion
    # Vector-side pseudo-relevance feedback (Rocchio): the query's vector plus feedback_weight
    # times the mean vector of the first pass's best feedback_papers, searched again. The first
    # pass fuses with first_weights. 0 papers turns it off.
    feedback_papers: int = 3
    feedback_weight: float = 0.5
    first_depth: int = 50  # how deep the first vector search goes (only its best few matter)
    first_weights: Mapping[str, float] = field(
        default_factory=lambda: _weights(keyword=0.25, vector=0.75, query=0.0)
    )
    rerank_depth: int = 30  # fused papers the rerank stage reads (with their text)
    # Semantic finds survive fusion: a paper among the vector side's best `semantic_ranks`
    # whose cosine to the query reaches the model's strong similarity (embeddings.py) is
    # placed no lower than `semantic_place`, whatever the keyword side thought of it.
    semantic_ranks: int = 3
    semantic_place: int = 10

    def weight(self, ranking: str) -> float:
        return self.weights.get(ranking, 1.0)

    def first_pass(self) -> Tuning:
        """The tuning of the first pass before feedback."""
        return replace(self, weights=self.first_weights, feedback_papers=0)


DEFAULT = Tuning()
RRF = Tuning(  # the fusion before this one, kept for comparison (bench/search_quality.py)
    fusion="rrf",
    weights=_weights(keyword=1.5, vector=1.0),
    candidates=100,
    feedback_papers=0,
    semantic_ranks=0,
)
