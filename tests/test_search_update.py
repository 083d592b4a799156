import numpy as np

from conftest import make_paper
from paperfeed.search.update import embed_new_papers
from paperfeed.vector_files import export_vectors, import_vectors


def test_embedding_is_incremental_by_content(store, fake_embedder):
    store.upsert_papers([make_paper(f"2606.{n:05d}", title=f"Paper {n}") for n in range(300)])
    first = embed_new_papers(store, fake_embedder)
    assert (first.embedded, first.unchanged) == (300, 0)
    assert embed_new_papers(store, fake_embedder).embedded == 0
    store.upsert_papers([make_paper("2606.00007", version=2, title="New title")])
    store.upsert_papers(
        [make_paper("2606.00008", version=2, title="Paper 8", comment="only the comment")]
    )
    again = embed_new_papers(store, fake_embedder)
    assert (again.embedded, again.unchanged) == (1, 1)
    assert fake_embedder.texts_embedded == 301


def test_an_interrupted_run_resumes_where_it_stopped(store, fake_embedder):
    store.upsert_papers([make_paper(f"2606.{n:05d}") for n in range(600)])
    assert embed_new_papers(store, fake_embedder, limit=256).embedded == 256
    assert store.count_embeddings(fake_embedder.model_id) == 256
    assert embed_new_papers(store, fake_embedder).embedded == 344
    assert fake_embedder.texts_embedded == 600


def test_vector_files_round_trip_only_for_the_same_model_and_text(store, fake_embedder, tmp_path):
    store.upsert_papers([make_paper("2606.00001"), make_paper("2606.00002", title="Other")])
    embed_new_papers(store, fake_embedder)
    path = tmp_path / "vectors.npz"
    assert export_vectors(store, fake_embedder.model_id, path) == 2

    fresh = __import__("paperfeed.storage", fromlist=["open_store"]).open_store(
        f"sqlite:///{tmp_path / 'fresh.db'}"
    )
    fresh.upsert_papers([make_paper("2606.00001"), make_paper("2606.00002", title="Changed")])
    assert import_vectors(fresh, path, "another-model") == (0, 2)
    assert import_vectors(fresh, path, fake_embedder.model_id) == (1, 1)
    rows = fresh.embeddings_since(fake_embedder.model_id, (0, 0), 10)
    assert len(rows) == 1
    expected = fake_embedder.embed(
        ["Denoising Attention for Visual Tasks. We propose denoising attention."]
    )
    assert np.allclose(np.frombuffer(rows[0][2], dtype="<f2"), expected[0], atol=1e-3)
    fresh.close()
