from datetime import UTC, datetime

import pytest

from conftest import FIXTURES
from paperfeed.ingest.atom import AtomError, parse_feed


def test_parses_a_real_id_list_response():
    page = parse_feed((FIXTURES / "atom_id_list.xml").read_bytes())
    assert (page.total_results, page.start_index) == (3, 0)
    papers = [o.paper for o in page.outcomes]
    assert [(p.id, p.version) for p in papers] == [
        ("2005.14124", 2),
        ("astro-ph/0601001", 1),
        ("1605.08386", 1),
    ]
    fuzzing = papers[0]
    assert fuzzing.title == "Active Fuzzing for Testing and Securing Cyber-Physical Systems"
    assert fuzzing.authors[:3] == ("Yuqi Chen", "Bohan Xuan", "Christopher M. Poskitt")
    assert fuzzing.categories == ("cs.SE", "cs.CR", "cs.LG")
    assert fuzzing.published == datetime(2020, 5, 28, 16, 19, 50, tzinfo=UTC)
    assert fuzzing.updated == datetime(2020, 7, 16, 8, 15, 48, tzinfo=UTC)
    assert fuzzing.doi == "10.1145/3395363.3397376"
    assert fuzzing.comment.startswith("Accepted by the ACM SIGSOFT")
    assert fuzzing.source == "arxiv-api"
    assert papers[1].abs_url == "https://arxiv.org/abs/astro-ph/0601001"


def test_parses_the_2016_feed_layout_too():
    paper = parse_feed((FIXTURES / "atom_id_list_legacy2016.xml").read_bytes()).outcomes[0].paper
    assert (paper.id, paper.version) == ("1111.2011", 2)
    assert paper.categories == ("cond-mat.str-el", "cond-mat.stat-mech")
    assert paper.doi == "10.1103/PhysRevB.85.115117"


def test_empty_result_and_errors():
    empty = parse_feed((FIXTURES / "atom_empty.xml").read_bytes())
    assert (empty.total_results, empty.outcomes) == (0, [])
    with pytest.raises(AtomError, match="incorrect id format for abc"):
        parse_feed((FIXTURES / "atom_error.xml").read_bytes())
    with pytest.raises(AtomError, match="expected an Atom feed"):
        parse_feed(b"<html><body>busy</body></html>")
