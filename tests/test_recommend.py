"""Recommendations (search/recommend.py): interests kept apart, "not interested" pushes similar
papers down, nothing excluded comes back, each with its reason; and `paperfeed recommend`."""

import json

import numpy as np
import pytest

from paperfeed.search.recommend import INTEREST_SIZE, profile, recommend

# The CLI over the bundled sample, with the real model: test_cli_search's fixtures.
from test_cli_search import run, sample  # noqa: F401


class Vectors:
    """An index of fixed vectors by pk (the parts recommend needs)."""

    def __init__(self, rows: dict[int, np.ndarray]) -> None:
        self.rows = {pk: v / np.linalg.norm(v) for pk, v in rows.items()}

    def matrix_for(self, pks):
        wanted = [pk for pk in pks if pk in self.rows]
        matrix = np.zeros((len(wanted), 16), dtype=np.float32)
        for row, pk in enumerate(wanted):
            matrix[row] = self.rows[pk]
        return wanted, matrix

    def search(self, query, limit, allowed=None, exclude=None):
        scores = sorted(((float(v @ query), pk) for pk, v in self.rows.items()), reverse=True)
        return [(pk, s) for s, pk in scores if pk != exclude][:limit]

    def all(self):
        pks = sorted(self.rows)
        return np.array(pks, dtype=np.int64), np.array([self.rows[p] for p in pks], np.float32)


def _world(seed: int = 1) -> Vectors:
    """Two topics far apart (pks 1-50: robotics, 51-100: RL) and their midpoint (101-110)."""
    rng = np.random.default_rng(seed)
    robotics, rl = np.eye(16)[0], np.eye(16)[1]
    rows = {}
    for pk in range(1, 51):
        rows[pk] = robotics + 0.08 * rng.standard_normal(16)
    for pk in range(51, 101):
        rows[pk] = rl + 0.08 * rng.standard_normal(16)
    for pk in range(101, 111):
        rows[pk] = (robotics + rl) / 2 + 0.05 * rng.standard_normal(16)
    return Vectors(rows)


def _run(vectors: Vectors, liked, disliked=(), exclude=(), limit=20, **options):
    pks, matrix = vectors.all()
    reader = profile(vectors, liked, disliked)
    skipped = {*liked, *disliked, *exclude}
    return recommend(reader, pks, matrix, skipped, limit, **options)


def test_two_interests_stay_apart_instead_of_blurring_into_their_midpoint():
    vectors = _world()
    found = _run(vectors, liked=[1, 2, 51, 52], limit=20)
    pks = [r.pk for r in found]
    assert not set(pks) & set(range(101, 111))  # a centroid would have put these first
    assert any(pk <= 50 for pk in pks) and any(51 <= pk <= 100 for pk in pks)
    for r in found:  # each names the liked paper of its own topic
        assert (r.because <= 50) == (r.pk <= 50)
    assert [r.score for r in found] == sorted((r.score for r in found), reverse=True)


def test_not_interested_puts_papers_like_the_dismissed_one_below_equally_liked_ones():
    e = np.eye(16)
    # 2 and 3 are as like the liked paper 1 as each other; 4, dismissed, is like 2.
    rows = {1: e[0], 2: e[0] + 0.5 * e[2], 3: e[0] + 0.5 * e[3], 4: 0.3 * e[0] + e[2], 5: e[4]}
    vectors = Vectors(rows)
    plain = _run(vectors, liked=[1], limit=10)
    assert plain[0].score == pytest.approx(plain[1].score)
    pushed = _run(vectors, liked=[1], disliked=[4], limit=10)
    assert [r.pk for r in pushed][:2] == [3, 2]
    assert pushed[1].score < plain[0].score - 0.05


def test_nothing_liked_dismissed_or_excluded_comes_back():
    vectors = _world()
    found = _run(vectors, liked=[1, 51], disliked=[52], exclude=[3, 4, 53], limit=200)
    assert len(found) == 110 - 6
    assert not {1, 51, 52, 3, 4, 53} & {r.pk for r in found}


def test_a_cutoff_leaves_out_weak_matches():
    vectors = _world()
    found = _run(vectors, liked=[1], min_score=0.9, limit=200)
    assert found and all(r.score >= 0.9 for r in found)
    assert all(r.pk <= 50 for r in found)


def test_liked_papers_are_grouped_into_interests_one_per_topic_at_least():
    vectors = _world()
    liked = list(range(1, 31)) + list(range(51, 81))
    reader = profile(vectors, liked)
    assert len(reader.centres) == len(liked) // INTEREST_SIZE
    robotics, rl = np.eye(16)[0], np.eye(16)[1]
    topics = {int(c @ rl > c @ robotics) for c in reader.centres}
    assert topics == {0, 1}  # both topics have interests of their own
    for centre_index, pk in zip(reader.interest_of, reader.examples, strict=True):
        centre = reader.centres[centre_index]
        assert (centre @ rl > centre @ robotics) == (pk > 50)  # each paper in its topic's
    found = _run(vectors, liked=liked, limit=30)
    assert {r.pk for r in found} <= set(range(31, 51)) | set(range(81, 111))
    assert all(r.because in liked for r in found)


def test_a_reader_with_no_known_paper_gets_nothing():
    vectors = _world()
    assert _run(vectors, liked=[999]) == []


def test_recommend_ranks_the_catalog_for_a_list_and_reports_bad_lines(sample, tmp_path):  # noqa: F811
    liked = tmp_path / "liked.txt"
    liked.write_text(
        "# robots on the edge\n2606.14716\nhttps://arxiv.org/abs/2606.17406v1\n\n"
        "not an id at all\n9999.99999\n"
    )
    disliked = tmp_path / "disliked.txt"
    disliked.write_text("2606.17241\n")
    result = sample(
        "recommend", "--liked", str(liked), "--disliked", str(disliked), "--json", "--limit", "8"
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 8 and [r["rank"] for r in rows] == list(range(1, 9))
    ids = {r["id"] for r in rows}
    assert not ids & {"2606.14716", "2606.17406", "2606.17241"}  # liked and disliked left out
    assert {r["because"]["id"] for r in rows} <= {"2606.14716", "2606.17406"}
    assert "liked.txt:5: skipped" in result.stderr
    assert "9999.99999" in result.stderr
    text = sample("recommend", "--liked", str(liked), "--since", "2026-06-30")
    assert text.exit_code == 0 and 'like "' in text.stdout
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    refused = sample("recommend", "--liked", str(empty))
    assert refused.exit_code == 1 and "names no paper" in refused.output
