import pytest

from paperfeed.search.fusion import reciprocal_rank_fusion


def test_papers_ranked_well_by_both_lists_come_first():
    fused = reciprocal_rank_fusion([1, 2, 3], [3, 1, 4], k=60)
    assert [key for key, _ in fused] == [1, 3, 2, 4]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)


def test_weights_favour_one_list_and_ties_keep_first_seen_order():
    assert [key for key, _ in reciprocal_rank_fusion([1, 2], [2, 1], weights=[2.0, 1.0])] == [1, 2]
    assert [key for key, _ in reciprocal_rank_fusion(["a", "b"], ["b", "a"])] == ["a", "b"]


def test_empty_rankings_and_bad_weights():
    assert reciprocal_rank_fusion() == []
    assert reciprocal_rank_fusion([], [7]) == [(7, 1 / 61)]
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([1], weights=[1.0, 2.0])


def test_fuse_names_each_ranking_and_keeps_its_rank_and_score():
    from paperfeed.search.fusion import fuse
    from paperfeed.search.tuning import Tuning

    tuning = Tuning(fusion="rrf", rrf_k=20.0, weights={"keyword": 1.5, "vector": 1.0})
    fused = fuse({"keyword": [(1, 9.0), (2, 4.0)], "vector": [(2, 0.8), (3, 0.5)]}, tuning)
    assert [c.pk for c in fused] == [2, 1, 3]
    two = fused[0]
    assert two.ranks == {"keyword": 2, "vector": 1}
    assert two.scores == {"keyword": 4.0, "vector": 0.8}
    assert two.keyword_rank == 2 and two.vector_rank == 1 and two.cosine == 0.8
    assert two.score == pytest.approx(1.5 / 22 + 1.0 / 21)
    assert fused[2].keyword_rank is None and fused[2].cosine == 0.5


def test_fuse_takes_any_number_of_rankings_and_unknown_names_weigh_one():
    from paperfeed.search.fusion import fuse
    from paperfeed.search.tuning import Tuning

    fused = fuse(
        {"a": [(1, 1.0)], "b": [(2, 1.0)], "c": [(2, 1.0), (1, 0.5)]},
        Tuning(fusion="rrf", rrf_k=0.0),
    )
    assert [(c.pk, c.score) for c in fused] == [(2, 2.0), (1, 1.5)]


def test_a_single_ranking_keeps_its_own_scores():
    from paperfeed.search.fusion import fuse
    from paperfeed.search.tuning import Tuning

    fused = fuse({"keyword": [(5, 12.5), (6, 3.0)], "vector": []}, Tuning())
    assert [(c.pk, c.score) for c in fused] == [(5, 12.5), (6, 3.0)]


def test_convex_fusion_sums_weighted_min_max_scores():
    from paperfeed.search.fusion import fuse, min_max
    from paperfeed.search.tuning import Tuning

    assert min_max([3.0, 1.0, 2.0]) == [1.0, 0.0, 0.5]
    assert min_max([2.0, 2.0]) == [1.0, 1.0] and min_max([]) == []
    tuning = Tuning(fusion="convex", weights={"keyword": 0.3, "vector": 0.7})
    fused = fuse(
        {"keyword": [(1, 10.0), (2, 5.0), (3, 0.0)], "vector": [(3, 0.9), (1, 0.1)]}, tuning
    )
    scores = {c.pk: c.score for c in fused}
    assert scores[1] == pytest.approx(0.3)
    assert scores[2] == pytest.approx(0.15)
    assert scores[3] == pytest.approx(0.7)
    assert [c.pk for c in fused] == [3, 1, 2]


def test_theoretical_min_max_uses_each_rankings_floor_and_known_scores():
    from paperfeed.search.fusion import fuse
    from paperfeed.search.tuning import Tuning

    tuning = Tuning(
        fusion="tmm",
        weights={"keyword": 0.2, "vector": 0.8},
        floors={"keyword": 0.0, "vector": -1.0},
    )
    rankings = {"keyword": [(1, 10.0), (2, 5.0)], "vector": [(3, 0.6), (1, 0.2)]}
    # Paper 2 was found by the keyword side only; its real cosine is known.
    fused = fuse(rankings, tuning, known={"vector": {2: 0.5, 99: 0.9}})
    scores = {c.pk: c.score for c in fused}
    assert scores[1] == pytest.approx(0.2 * 1.0 + 0.8 * 1.2 / 1.6)
    assert scores[2] == pytest.approx(0.2 * 0.5 + 0.8 * 1.5 / 1.6)
    assert scores[3] == pytest.approx(0.8 * 1.0)
    assert 99 not in scores  # a known score alone does not make a candidate
    two = next(c for c in fused if c.pk == 2)
    assert two.cosine == 0.5 and two.vector_rank is None
