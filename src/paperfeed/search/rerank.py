"""The rerank stage: reorder the best fused candidates, whose papers have been read (pure).

Papers an id, URL or DOI in the query names come first, then a paper whose title is the query
(a pasted title), then the papers of an author the query names in full; the rest keep the fused
order, except that a clear semantic find (among the vector side's best few, with a strong cosine
to the query) is lifted into the first page: fusion must not bury a paper only the vector side
found.
"""

from __future__ import annotations

import re
import unicodedata

from paperfeed.search.candidates import Candidate
from paperfeed.search.query import ParsedQuery
from paperfeed.search.tuning import AUTHOR, REF, Tuning

PINS = ((REF, "id"), (AUTHOR, "author"))  # rankings whose papers are put first
ORDER = {"id": 0, "title": 1, "author": 2}  # what is put first, strongest first
_NOT_WORD = re.compile(r"[\W_]+")


def rerank(
    candidates: list[Candidate], parsed: ParsedQuery, tuning: Tuning, strong: float | None = None
) -> list[Candidate]:
    """`candidates` (papers read) in their final order; `strong` is the model's cosine of a
    clear semantic match (None: no semantic lift)."""
    title = title_key(parsed.text) if len(parsed.words) >= 2 else ""
    for candidate in candidates:
        candidate.pinned = next((why for name, why in PINS if name in candidate.ranks), None)
        paper = candidate.paper
        if (
            title
            and candidate.pinned != "id"
            and paper is not None
            # Normalising drops punctuation and markup, never most of a title: a far longer
            # title cannot be the query (and is not worth normalising).
            and len(paper.title) <= 3 * len(parsed.text) + 20
            and title_key(paper.title) == title
        ):
            candidate.pinned = "title"
    last = len(ORDER)
    ranked = sorted(candidates, key=lambda c: (ORDER.get(c.pinned or "", last), -c.score))
    if strong is not None:
        ranked = _lift_semantic(ranked, tuning, strong)
    return monotone(ranked)


def title_key(text: str) -> str:
    """A title as compared with a query: case, accents, punctuation and LaTeX markup aside."""
    folded = text.casefold()
    if not folded.isascii():
        folded = unicodedata.normalize("NFKD", folded)
        folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(_NOT_WORD.split(folded)).strip()


def is_strong_semantic(candidate: Candidate, tuning: Tuning, strong: float | None) -> bool:
    """One of the vector side's best few, with a clear cosine to the query as typed."""
    if strong is None:
        return False
    rank = candidate.query_rank
    if rank is None or rank > tuning.semantic_ranks:
        return False
    cosine = candidate.cosine
    return cosine is not None and cosine >= strong


def may_promote(candidate: Candidate, tuning: Tuning, strong: float | None) -> bool:
    """Whether the rerank stage may move this candidate up (so it must be read)."""
    ranks = candidate.ranks
    return REF in ranks or AUTHOR in ranks or is_strong_semantic(candidate, tuning, strong)


def _lift_semantic(ranked: list[Candidate], tuning: Tuning, strong: float) -> list[Candidate]:
    """Move each clear semantic find found below `tuning.semantic_place` up to that place."""
    place = tuning.semantic_place
    late = [c for c in ranked[place:] if c.pinned is None and is_strong_semantic(c, tuning, strong)]
    if not late:
        return ranked
    lifted = {id(c) for c in late}
    rest = [c for c in ranked if id(c) not in lifted]
    late.sort(key=lambda c: c.query_rank or 0)
    # Each takes the last place of the first page, in the vector side's order.
    cut = max(0, min(place, len(rest)) - len(late))
    return rest[:cut] + late + rest[cut:]


def monotone(ranked: list[Candidate]) -> list[Candidate]:
    """Raise scores where needed so that they never increase down the list (a TREC run and
    its evaluation order by score, not by rank)."""
    floor: float | None = None
    for candidate in reversed(ranked):
        if floor is not None and candidate.score <= floor:
            candidate.score = floor + 1e-6
        floor = candidate.score
    return ranked
