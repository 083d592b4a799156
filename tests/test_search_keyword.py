import gzip
import json
from datetime import date

import pytest

from conftest import make_paper
from paperfeed.ingest.jsonl import parse_record
from paperfeed.models import SearchFilters
from paperfeed.sample import sample_path
from paperfeed.search.keyword import STATE_FILE, KeywordIndex
from paperfeed.search.query import parse_query
from paperfeed.search.refs import find_refs
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


def test_an_index_of_an_older_layout_is_rebuilt(store, indexed, tmp_path):
    state = tmp_path / "keyword" / STATE_FILE
    state.write_text(json.dumps({**json.loads(state.read_text()), "schema": 1}))
    again = KeywordIndex(tmp_path / "keyword")
    assert again.count() == 0
    assert again.sync(store) == 3


# -- authors and references, on the bundled sample of real papers --------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The bundled sample in a SQLite store, and its keyword index."""
    folder = tmp_path_factory.mktemp("sample")
    store = open_store(f"sqlite:///{folder / 'sample.db'}")
    with gzip.open(sample_path(), "rt", encoding="utf-8") as lines:
        store.upsert_papers([parse_record(json.loads(line)).paper for line in lines])
    index = KeywordIndex(folder / "keyword")
    index.sync(store)
    yield store, index
    store.close()


def _sample_ids(store, pks) -> list[str]:
    papers = store.papers_by_pk(pks)
    return [papers[pk].id for pk in pks]


def test_author_names_in_a_query_are_found(sample):
    _, index = sample
    assert index.author_names_in(["tailin", "wu"]) == ["tailin wu"]
    assert index.author_names_in(["Tailin", "Wu", "diffusion"]) == ["tailin wu"]
    assert index.author_names_in(["chaotic", "Wu", "Tailin"]) == ["tailin wu"]  # reversed
    assert index.author_names_in(["Zhi", "Ming", "Ma", "flow"]) == ["zhi ming ma"]
    assert index.author_names_in(["graph", "neural", "networks"]) == []
    assert index.author_names_in(["wu"]) == []
    assert index.author_names_in([]) == []
    # Only the first words are looked at.
    assert index.author_names_in(["x"] * 12 + ["tailin", "wu"]) == []


def test_author_pks_lists_an_authors_papers_newest_first(sample):
    store, index = sample
    assert _sample_ids(store, index.author_pks(["tailin wu"], SearchFilters(), 10)) == [
        "2606.29379",
        "2606.24824",
    ]
    cv = SearchFilters(categories=("cs.CV",))
    assert _sample_ids(store, index.author_pks(["tailin wu"], cv, 10)) == ["2606.29379"]
    assert index.author_pks(["tailin wu"], SearchFilters(), 1) != []
    assert index.author_pks(["nobody at all"], SearchFilters(), 10) == []
    assert index.author_pks([], SearchFilters(), 10) == []


def test_author_filters_need_every_author(sample):
    store, index = sample
    both = SearchFilters(authors=("tailin wu", "jiaxin li"))
    assert _sample_ids(store, index.matching_pks(parse_query(""), both, 100)) == ["2606.29379"]
    # One word matches any author with that word in their name; initials work too.
    for key in ("wu", "wu t", "t wu"):
        with_wu = index.matching_pks(
            parse_query(""), SearchFilters(authors=("tailin wu", key)), 100
        )
        assert sorted(_sample_ids(store, with_wu)) == ["2606.24824", "2606.29379"]
    nobody = SearchFilters(authors=("tailin wu", "nobody at all"))
    assert index.matching_pks(parse_query(""), nobody, 100) == []


def test_author_syntax_in_a_query_filters_the_ranking(sample):
    store, index = sample
    hits = index.search(parse_query('author:"Tailin Wu" flow'), 10)
    assert _sample_ids(store, [pk for pk, _ in hits]) == ["2606.24824"]
    by_initial = index.search(parse_query('author:"Wu, T." flow'), 10)
    assert [pk for pk, _ in by_initial] == [pk for pk, _ in hits]
    allowed = index.matching_pks(parse_query("author:Wu author:Jiaxin"), SearchFilters(), 100)
    papers = store.papers_by_pk(allowed)
    assert "2606.29379" in [paper.id for paper in papers.values()]
    for paper in papers.values():
        words = " ".join(paper.authors).lower().split()
        assert "wu" in words and "jiaxin" in words


@pytest.mark.parametrize(
    "query", ["2606.24824", "arXiv:2606.24824", "https://arxiv.org/abs/2606.24824v2"]
)
def test_ref_pks_finds_the_paper_of_each_spelling(sample, query):
    store, index = sample
    refs = find_refs(query)
    found = index.ref_pks(refs.arxiv_ids, refs.dois)
    assert list(found) == ["2606.24824"]
    assert _sample_ids(store, list(found.values())) == ["2606.24824"]


def test_ref_pks_finds_old_style_ids_and_dois(store, tmp_path):
    store.upsert_papers(
        [
            make_paper("hep-th/9901001", title="Old style"),
            make_paper("2606.00002", title="Published", doi="10.1103/PhysRevLett.116.061102"),
            make_paper("2606.00003", title="Linked", doi="https://doi.org/10.1038/Nature14539"),
        ]
    )
    index = KeywordIndex(tmp_path / "keyword")
    index.sync(store)
    refs = find_refs(
        "https://arxiv.org/abs/hep-th/9901001v2 doi:10.1103/physrevlett.116.061102 "
        "10.1038/NATURE14539 10.1000/unknown 2606.99999"
    )
    found = index.ref_pks(refs.arxiv_ids, refs.dois)
    pks = store.pks_for_ids(["hep-th/9901001", "2606.00002", "2606.00003"])
    assert found == {
        "hep-th/9901001": pks["hep-th/9901001"],
        "10.1103/physrevlett.116.061102": pks["2606.00002"],
        "10.1038/nature14539": pks["2606.00003"],
    }
    assert index.ref_pks([], []) == {}


def test_an_author_removed_from_a_paper_is_no_longer_found(store, indexed):
    assert indexed.author_names_in(["Ada", "Lovelace"]) == ["ada lovelace"]
    store.upsert_papers([make_paper("2606.00003", version=2, authors=("Grace Hopper",))])
    indexed.sync(store)
    assert indexed.author_names_in(["Ada", "Lovelace"]) == []
    assert indexed.author_names_in(["Grace", "Hopper"]) == ["grace hopper"]


def test_stop_words_do_not_rank_but_phrases_and_all_stop_word_queries_still_match(store, indexed):
    from paperfeed.search.keyword import ranking_words

    assert ranking_words(["the", "State", "of", "art"]) == ["State", "art"]
    assert ranking_words(["to", "be", "or", "not"]) == ["to", "be", "or", "not"]

    def pks(text):
        return [pk for pk, _ in indexed.search(parse_query(text), 10)]

    # "of the" would match every paper; only "vision" ranks.
    assert pks("vision of the") == pks("vision")
    assert len(pks("of the a")) == 2  # nothing but stop words: they rank after all
    assert len(pks('"the state of the art"')) == 1  # a phrase keeps its stop words
