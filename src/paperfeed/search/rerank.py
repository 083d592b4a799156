"""The rerank stage: reorder the best fused candidates, whose papers have been read (pure).

Papers an id, URL or DOI in the query names come first, then the papers of an author the query
names in full; the rest keep the fused order.
"""

from __future__ import annotations

from paperfeed.search.candidates import Candidate
from paperfeed.search.query import ParsedQuery
from paperfeed.search.tuning import AUTHOR, REF, Tuning

PINS = ((REF, "id"), (AUTHOR, "author"))  # strongest first


def rerank(candidates: list[Candidate], parsed: ParsedQuery, tuning: Tuning) -> list[Candidate]:
    """`candidates` (papers read) in their final order."""
    for candidate in candidates:
        candidate.pinned = next((why for name, why in PINS if name in candidate.ranks), None)
    order = {why: place for place, (_, why) in enumerate(PINS)}
    ranked = sorted(candidates, key=lambda c: (order.get(c.pinned or "", len(PINS)), -c.score))
    return monotone(ranked)


def monotone(ranked: list[Candidate]) -> list[Candidate]:
    """Raise scores where needed so that they never increase down the list (a TREC run and
    its evaluation order by score, not by rank)."""
    floor: float | None = None
    for candidate in reversed(ranked):
        if floor is not None and candidate.score <= floor:
            candidate.score = floor + 1e-6
        floor = candidate.score
    return ranked
