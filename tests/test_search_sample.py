"""Search quality on the bundled sample of real papers with the real model: pasted ids and URLs,
author names, and semantic finds that the keyword side misses."""

import pytest

from conftest import MODEL_DIR
from paperfeed.config import Settings
from paperfeed.embeddings import load_embedder
from paperfeed.ingest.pipeline import ingest_sources
from paperfeed.sample import sample_path, sample_vectors_path
from paperfeed.search.searcher import open_searcher
from paperfeed.search.update import update_search
from paperfeed.storage import open_store
from paperfeed.vector_files import import_vectors


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    if not (MODEL_DIR / "manifest.json").exists():
        pytest.skip(f"no exported model at {MODEL_DIR}: run `make model`")
    folder = tmp_path_factory.mktemp("sample")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'sample.db'}",
        data_dir=str(folder),
        model_dir=str(MODEL_DIR),
    )
    store = open_store(settings.database_url)
    ingest_sources(store, [str(sample_path())], settings)
    embedder = load_embedder(settings)
    import_vectors(store, sample_vectors_path(), embedder.model_id)
    searcher = open_searcher(settings, store, embedder)
    update_search(searcher)
    yield searcher
    store.close()


def ids(results, top: int = 10) -> list[str]:
    return [hit.paper.id for hit in results.hits[:top]]


# Queries whose best semantic matches share few words with them.
SEMANTIC_QUERIES = [
    "making language models reason step by step",
    "predicting the weather",
    "making large models smaller and faster",
    "teaching computers to understand pictures and text together",
    "protecting privacy of training data",
]
STRONG = 0.45  # an all-MiniLM-L6-v2 cosine that is a clear match for a short query


@pytest.mark.parametrize("query", SEMANTIC_QUERIES)
def test_strong_semantic_finds_survive_fusion(searcher, query):
    vector = searcher.search(query, mode="vector", limit=3, highlight=False).hits
    strong = [hit.paper.id for hit in vector if hit.score >= STRONG]
    assert strong, "the query should have strong semantic matches"
    hybrid = ids(searcher.search(query, limit=10, highlight=False))
    assert [paper for paper in strong if paper not in hybrid] == []


@pytest.mark.parametrize(
    "query",
    [
        "2606.24824",
        "arXiv:2606.24824",
        "https://arxiv.org/abs/2606.24824v2",
        "https://arxiv.org/pdf/2606.24824v1",
        "https://huggingface.co/papers/2606.24824",
        "chaotic systems 2606.24824",
    ],
)
def test_a_pasted_id_or_url_puts_that_paper_first(searcher, query):
    results = searcher.search(query, limit=5)
    assert ids(results)[0] == "2606.24824"
    assert results.hits[0].pinned == "id"


def test_an_id_alone_is_followed_by_papers_like_it(searcher):
    results = searcher.search("2606.24824", limit=5, highlight=False)
    similar = [hit.paper.id for hit in searcher.similar("2606.24824", limit=4)]
    assert ids(results, 5) == ["2606.24824", *similar]


def test_an_unknown_id_finds_nothing_named_and_no_error(searcher):
    results = searcher.search("2606.99999", limit=5)
    assert all(hit.pinned is None for hit in results.hits)


TAILIN_WU = {"2606.24824", "2606.29379"}  # the sample's papers with Tailin Wu among the authors


@pytest.mark.parametrize("query", ["Tailin Wu", "tailin wu", "Wu Tailin", "Tailin Wu chaotic"])
def test_an_authors_name_ranks_their_papers_first(searcher, query):
    results = searcher.search(query, limit=5)
    assert set(ids(results, 2)) == TAILIN_WU
    assert [hit.pinned for hit in results.hits[:2]] == ["author", "author"]


def test_author_filter_keeps_only_that_authors_papers(searcher):
    results = searcher.search('author:"Tailin Wu"', limit=20)
    assert set(ids(results, 20)) == TAILIN_WU
    narrowed = searcher.search('author:"Tailin Wu" chaotic', limit=20)
    assert ids(narrowed, 20)[0] == "2606.24824"
    assert set(ids(narrowed, 20)) <= TAILIN_WU
