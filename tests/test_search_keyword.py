from datetime import date

import pytest

from conftest import make_paper
from paperfeed.models import SearchFilters
from paperfeed.search.keyword import KeywordIndex
from paperfeed.search.query import parse_query
from paperfeed.storage import open_store

PAPERS = [
    make_paper(
        "2606.00001",
        title="Graph neural networks for traffic forecasting",
        abstract="We forecast traffic with message passing.",
        categories=("cs.LG",),
        listed=date(2026, 6, 1),
    ),
    make_paper(
        "2606.00002",
        title="A survey of state space models",
        abstract="State space models rival attention for long sequences.",
        categories=("cs.CL", "cs.LG"),
        listed=date(2026, 6, 2),
    ),
    make_paper(
        "2606.00003",
        title="Vision transformers at scale",
        abstract="Scaling ViT to billions of parameters; the state of the art in vision.",
        categories=("cs.CV",),
        listed=date(2026, 6, 3),
        authors=("Ada Lovelace",),
    ),
]


def _ids(store, hits) -> list[str]:
    papers = store.papers_by_pk(pk for pk, _ in hits)
    return [papers[pk].id for pk, _ in hits]


@pytest.fixture
def indexed(store, tmp_path):
    store.upsert_papers(PAPERS)
    index = KeywordIndex(tmp_path / "keyword")
    assert index.sync(store) == 3
    return index


def test_sync_is_incremental_and_idempotent(store, indexed):
    assert indexed.sync(store) == 0
    store.upsert_papers([make_paper("2606.00004", title="Traffic signal control")])
    assert indexed.sync(store) == 1
    assert indexed.count() == 4


def test_ranks_by_bm25_with_stemming(store, indexed):
    hits = indexed.search(parse_query("forecasting networks"), 10)
    assert _ids(store, hits) == ["2606.00001"]
    assert _ids(store, indexed.search(parse_query("model"), 10)) == ["2606.00002"]


def test_phrases_required_and_excluded_words(store, indexed):
    assert _ids(store, indexed.search(parse_query('"state space"'), 10)) == ["2606.00002"]
    assert _ids(store, indexed.search(parse_query('"space state"'), 10)) == []
    both = _ids(store, indexed.search(parse_query("state"), 10))
    assert sorted(both) == ["2606.00002", "2606.00003"]
    assert _ids(store, indexed.search(parse_query("state -survey"), 10)) == ["2606.00003"]
    assert _ids(store, indexed.search(parse_query("transform*"), 10)) == ["2606.00003"]
    assert _ids(store, indexed.search(parse_query("lovelace"), 10)) == ["2606.00003"]


def test_filters_by_category_and_day(store, indexed):
    query = parse_query("state traffic vision")
    by_cat = indexed.search(query, 10, SearchFilters(categories=("cs.LG",)))
    assert sorted(_ids(store, by_cat)) == ["2606.00001", "2606.00002"]
    # A filter keeps only papers it allows; it does not let in papers without the words.
    traffic = indexed.search(parse_query("traffic"), 10, SearchFilters(categories=("cs.LG",)))
    assert _ids(store, traffic) == ["2606.00001"]
    by_day = indexed.search(
        query, 10, SearchFilters(since=date(2026, 6, 2), until=date(2026, 6, 2))
    )
    assert _ids(store, by_day) == ["2606.00002"]


def test_a_changed_paper_replaces_its_document(store, indexed):
    store.upsert_papers([make_paper("2606.00001", version=2, title="Hypergraph forecasting")])
    indexed.sync(store)
    assert indexed.count() == 3
    assert _ids(store, indexed.search(parse_query("hypergraph"), 10)) == ["2606.00001"]
    assert indexed.search(parse_query("neural"), 10) == []


def test_reopened_index_keeps_its_place(store, indexed, tmp_path):
    again = KeywordIndex(tmp_path / "keyword")
    assert again.count() == 3
    assert again.sync(store) == 0


def test_an_index_of_another_database_is_rebuilt(store, indexed, tmp_path):
    other = open_store(f"sqlite:///{tmp_path / 'other.db'}")
    other.upsert_papers([make_paper("2606.00009", title="Something else")])
    assert indexed.sync(other) == 1
    assert indexed.count() == 1
    other.close()


@pytest.mark.parametrize(
    "text", ['"', "AND OR", "-only", "*", "((", "🚀", "x" * 10_000, "a" * 300, '"the"']
)
def test_odd_queries_return_lists(indexed, text):
    assert isinstance(indexed.search(parse_query(text), 10), list)
