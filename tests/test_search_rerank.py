"""The rerank stage over fused candidates (pure)."""

from paperfeed.search.candidates import Candidate
from paperfeed.search.query import parse_query
from paperfeed.search.rerank import rerank
from paperfeed.search.tuning import DEFAULT


def test_named_papers_come_first_then_the_named_authors_papers_then_the_fused_order():
    candidates = [
        Candidate(1, 0.9, {"keyword": 1}),
        Candidate(2, 0.8, {"keyword": 2, "author": 1}),
        Candidate(3, 0.7, {"vector": 1}),
        Candidate(4, 0.1, {"ref": 1}),
        Candidate(5, 0.2, {"author": 2}),
    ]
    out = rerank(candidates, parse_query("x"), DEFAULT)
    assert [c.pk for c in out] == [4, 2, 5, 1, 3]
    assert [c.pinned for c in out] == ["id", "author", "author", None, None]
    scores = [c.score for c in out]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == len(scores)
    assert out[-1].score == 0.7  # unpinned papers keep their fused score
