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


def test_a_clear_semantic_find_is_lifted_into_the_first_page():
    from dataclasses import replace

    tuning = replace(DEFAULT, semantic_ranks=2, semantic_place=3)
    keyword = [Candidate(i, 1.0 - i / 100, {"keyword": i}, {"vector": 0.2}) for i in range(1, 6)]
    found = Candidate(50, 0.1, {"vector": 1}, {"vector": 0.6})  # only the vector side
    weak = Candidate(51, 0.05, {"vector": 2}, {"vector": 0.3})  # below the strong cosine
    deep = Candidate(52, 0.04, {"vector": 3}, {"vector": 0.7})  # not among its best 2
    out = rerank([*keyword, found, weak, deep], parse_query("x"), tuning, strong=0.45)
    assert [c.pk for c in out][:4] == [1, 2, 50, 3]
    assert [c.pk for c in out][-2:] == [51, 52]
    scores = [c.score for c in out]
    assert scores == sorted(scores, reverse=True)
    # Without a model's strong cosine (no embedder) nothing moves.
    again = Candidate(50, 0.1, {"vector": 1}, {"vector": 0.6})
    plain = rerank([*keyword, again], parse_query("x"), tuning, strong=None)
    assert [c.pk for c in plain][-1] == 50
