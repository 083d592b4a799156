"""PAPERFEED_VECTOR_INDEX=pgvector: one HNSW index inside PostgreSQL answers as the in-memory
index does (PostgreSQL only; on SQLite the setting is refused)."""

import dataclasses
import random

import numpy as np
import pytest

from conftest import make_paper, query_one
from paperfeed.config import ConfigError, load_settings
from paperfeed.models import NO_FILTERS
from paperfeed.search.query import parse_query
from paperfeed.search.searcher import open_searcher
from paperfeed.search.shared_vectors import SharedVectorIndex
from paperfeed.search.update import embed_new_papers
from paperfeed.search.vector import VectorIndex

TOPICS = ["graph neural networks", "protein folding", "diffusion models", "sparse attention"]


@pytest.fixture
def pg_store(backend, store):
    if backend != "postgres":
        pytest.skip("the shared vector index lives in PostgreSQL")
    return store


@pytest.fixture
def embedded(pg_store, fake_embedder):
    rng = random.Random(4)
    words = [
        "kernel",
        "spectral",
        "bound",
        "proof",
        "sample",
        "noise",
        "field",
        "graph",
        "code",
        "loss",
        "token",
        "scale",
    ]
    pg_store.upsert_papers(
        [
            make_paper(
                f"2606.{n:05d}",
                title=f"{TOPICS[n % 4]} paper {n}",
                abstract=" ".join(rng.choices(words, k=6)),
            )
            for n in range(400)
        ]
    )
    embed_new_papers(pg_store, fake_embedder)
    return pg_store


def _local(store, embedder) -> VectorIndex:
    index = VectorIndex(embedder.model_id, embedder.dimensions)
    index.sync(store)
    return index


def test_the_shared_index_is_built_once_and_answers_as_exact_search(embedded, fake_embedder):
    shared = SharedVectorIndex(embedded, fake_embedder.model_id, fake_embedder.dimensions)
    assert not shared.uses_graph
    assert shared.sync(embedded) == 400
    assert shared.uses_graph and len(shared) == 400
    assert not embedded.build_shared_vector_index(fake_embedder.model_id, 64)  # there already
    exact = _local(embedded, fake_embedder)
    query = fake_embedder.embed(["protein folding paper"])[0]
    ours, theirs = shared.search(query, 10), exact.search(query, 10)
    # The same neighbours: as good, cosine for cosine (bag-of-words vectors tie a lot, and
    # ties may come in either order).
    assert np.allclose([s for _, s in ours], [s for _, s in theirs], atol=2e-3)
    assert [s for _, s in ours] == sorted((s for _, s in ours), reverse=True)
    # Filters and exclusions, as the searcher and "similar papers" use them.
    allowed = [pk for pk, _ in exact.search(query, 400)][100:140]
    filtered = shared.search(query, 5, allowed=allowed)
    assert {pk for pk, _ in filtered} <= set(allowed) and len(filtered) == 5
    expected = exact.search(query, 5, allowed=allowed)
    assert np.allclose([s for _, s in filtered], [s for _, s in expected], atol=2e-3)
    top = ours[0][0]
    assert top not in {pk for pk, _ in shared.search(query, 10, exclude=top)}
    assert np.allclose(shared.vector_of(top), exact.vector_of(top))
    assert shared.vector_of(10**9) is None
    many = shared.search_many(fake_embedder.embed(TOPICS), 3, allowed)
    expected_many = exact.search_many(fake_embedder.embed(TOPICS), 3, allowed)
    assert np.allclose(
        [[s for _, s in row] for row in many], [[s for _, s in row] for row in expected_many]
    )


def test_vectors_saved_before_pgvector_are_filled_in_when_the_index_is_built(
    embedded, fake_embedder
):
    embedded_pk = query_one(embedded, "SELECT min(paper_pk) FROM embeddings")
    with __import__("psycopg").connect(embedded.url, autocommit=True) as conn:
        conn.execute("UPDATE embeddings SET embedding = NULL")
    assert embedded.build_shared_vector_index(fake_embedder.model_id, 64)
    assert query_one(embedded, "SELECT count(*) FROM embeddings WHERE embedding IS NULL") == 0
    vector = embedded.vectors_of(fake_embedder.model_id, [embedded_pk])[embedded_pk]
    nearest = embedded.nearest_vectors(
        fake_embedder.model_id, 64, np.frombuffer(vector, "<f2").astype(np.float32), 1
    )
    assert nearest[0][0] == embedded_pk and nearest[0][1] == pytest.approx(1.0, abs=1e-3)


def test_search_runs_on_the_shared_index(embedded, settings, fake_embedder):
    settings = dataclasses.replace(settings, vector_index="pgvector")
    searcher = open_searcher(settings, embedded, fake_embedder)
    assert isinstance(searcher.vectors, SharedVectorIndex)
    searcher.refresh()
    results = searcher.search("diffusion models", limit=5)
    assert results.mode == "hybrid" and len(results.hits) == 5
    assert all("diffusion models" in hit.paper.title for hit in results.hits)
    assert any(hit.vector_rank for hit in results.hits)
    similar = searcher.similar("2606.00002", 3)
    assert len(similar) == 3 and "2606.00002" not in {hit.paper.id for hit in similar}


def test_pgvector_needs_postgresql():
    with pytest.raises(ConfigError, match="needs a postgresql:// database"):
        load_settings(
            {"PAPERFEED_VECTOR_INDEX": "pgvector", "PAPERFEED_DATABASE_URL": "sqlite:///x.db"}
        )
    with pytest.raises(ConfigError, match="VECTOR_INDEX must be one of local, pgvector"):
        load_settings({"PAPERFEED_VECTOR_INDEX": "faiss"})


def test_both_indexes_hand_out_the_same_vectors_for_the_pipelines_cosines(embedded, fake_embedder):
    shared = SharedVectorIndex(embedded, fake_embedder.model_id, fake_embedder.dimensions)
    shared.sync(embedded)
    local = _local(embedded, fake_embedder)
    pks = [row[0] for row in local.search(fake_embedder.embed(["protein folding"])[0], 20)]
    pks.append(10**9)  # no such paper: left out
    from_db, in_memory = shared.vectors_for(pks), local.vectors_for(pks)
    assert set(from_db) == set(in_memory) == set(pks[:-1])
    for pk in pks[:-1]:
        np.testing.assert_allclose(from_db[pk], in_memory[pk], atol=1e-6)
    assert shared.vectors_for([]) == {}


def test_hybrid_search_knows_the_cosine_of_keyword_finds_on_the_shared_index(
    embedded, settings, fake_embedder
):
    searcher = open_searcher(
        dataclasses.replace(settings, vector_index="pgvector"), embedded, fake_embedder
    )
    searcher.refresh()
    candidates = searcher.pipeline.rank(
        parse_query("spectral kernel proof"), "hybrid", NO_FILTERS, 20
    )
    keyword_only = [c for c in candidates if c.vector_rank is None]
    assert keyword_only and all(c.cosine is not None for c in candidates)
