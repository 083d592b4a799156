"""How search ranks, in one place: the rankings fused, their weights, and each stage's depth.

Every figure here was chosen by `bench/search_quality.py` on public sets (SciFact train, CACM,
Cranfield; never on SciFact test), and the README's search quality table shows each step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# The rankings a search can fuse, by name.
KEYWORD = "keyword"  # BM25 over title, abstract and authors (tantivy)
VECTOR = "vector"  # cosine of the query's and the paper's embedding
REF = "ref"  # the papers an id, URL or DOI in the query names
AUTHOR = "author"  # the papers of an author the query names in full

FUSIONS = ("rrf", "convex")


def _weights(**weights: float) -> Mapping[str, float]:
    return MappingProxyType(dict(weights))


@dataclass(frozen=True)
class Tuning:
    """The knobs of the ranking pipeline (see the README's search quality section)."""

    fusion: str = "rrf"
    # Weighted RRF: every k from 5 to 100 did best with keyword weighted over vector on SciFact
    # train; k=20, 1.5:1 scored 0.725 against the best 0.730 (k=5, 2:1) and held up better on
    # CACM and Cranfield (0.486 and 0.421 against 0.455 and 0.415).
    rrf_k: float = 20.0
    weights: Mapping[str, float] = field(default_factory=lambda: _weights(keyword=1.5, vector=1.0))
    candidates: int = 100  # papers each ranking contributes to the fusion
    rerank_depth: int = 100  # fused papers the rerank stage reads (with their text)

    def weight(self, ranking: str) -> float:
        return self.weights.get(ranking, 1.0)


DEFAULT = Tuning()
