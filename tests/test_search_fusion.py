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
