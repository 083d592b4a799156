import numpy as np
import pytest

from conftest import make_paper
from paperfeed.search.vector import VectorIndex, decode_vector, encode_vector

MODEL = "test-model"


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


@pytest.fixture
def stored(store):
    store.upsert_papers([make_paper(f"2606.0000{n}") for n in range(1, 5)])
    pks = store.pks_for_ids([f"2606.0000{n}" for n in range(1, 5)])
    vectors = {
        "2606.00001": _unit(1, 0, 0),
        "2606.00002": _unit(0.9, 0.1, 0),
        "2606.00003": _unit(0, 1, 0),
        "2606.00004": _unit(0, 0, 1),
    }
    store.save_embeddings(
        MODEL, [(pks[i], 1, f"hash-{i}", encode_vector(v)) for i, v in vectors.items()]
    )
    return pks


def test_vectors_round_trip_as_float16():
    vector = _unit(1, 2, 3)
    assert np.allclose(decode_vector(encode_vector(vector)), vector, atol=1e-3)


def test_finds_nearest_vectors_and_respects_allowed_and_exclude(store, stored):
    index = VectorIndex(MODEL, 3)
    assert index.sync(store) == 4
    assert index.sync(store) == 0
    hits = index.search(_unit(1, 0.05, 0), 2)
    assert [pk for pk, _ in hits] == [stored["2606.00001"], stored["2606.00002"]]
    assert hits[0][1] == pytest.approx(0.9987, abs=1e-3)
    allowed = [stored["2606.00003"], stored["2606.00004"]]
    assert sorted(pk for pk, _ in index.search(_unit(1, 0, 0), 5, allowed=allowed)) == allowed
    near = index.search(_unit(1, 0, 0), 1, exclude=stored["2606.00001"])
    assert [pk for pk, _ in near] == [stored["2606.00002"]]


def test_changed_vectors_replace_their_rows_and_the_index_grows(store, stored):
    index = VectorIndex(MODEL, 3)
    index.sync(store)
    store.save_embeddings(MODEL, [(stored["2606.00004"], 2, "new", encode_vector(_unit(1, 0, 0)))])
    assert index.sync(store) == 1
    assert len(index) == 4
    assert [pk for pk, _ in index.search(_unit(1, 0, 0), 1, exclude=stored["2606.00001"])] == [
        stored["2606.00004"]
    ]
    many = [make_paper(f"2607.{n:05d}") for n in range(3000)]
    store.upsert_papers(many)
    pks = store.pks_for_ids(p.id for p in many)
    rng = np.random.default_rng(7)
    rows = [(pk, 1, "h", encode_vector(_unit(*rng.normal(size=3)))) for pk in pks.values()]
    store.save_embeddings(MODEL, rows)
    assert index.sync(store) == 3000
    assert len(index) == 3004
    assert len(index.search(_unit(0, 0, 1), 10)) == 10


def test_empty_index_and_empty_allowed_set(store):
    index = VectorIndex(MODEL, 3)
    index.sync(store)
    assert index.search(_unit(1, 0, 0), 5) == []
    assert index.search(_unit(1, 0, 0), 5, allowed=[]) == []


def _random_store(store, count: int, seed: int = 1):
    papers = [make_paper(f"2608.{n:05d}") for n in range(count)]
    store.upsert_papers(papers)
    pks = store.pks_for_ids(p.id for p in papers)
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(count, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ordered = [pks[p.id] for p in papers]
    store.save_embeddings(
        MODEL, [(pk, 1, "h", encode_vector(v)) for pk, v in zip(ordered, vectors, strict=True)]
    )
    return ordered, vectors


def test_large_indexes_search_a_saved_graph_with_high_recall(store, tmp_path):
    pks, vectors = _random_store(store, 3000)
    folder = tmp_path / "vectors"
    index = VectorIndex(MODEL, 16, folder=folder, graph_min_size=1000)
    index.sync(store)
    assert index.uses_graph
    assert len(list(folder.glob("hnsw-*.usearch"))) == 1
    exact = VectorIndex(MODEL, 16)  # no graph: below its threshold
    exact.sync(store)
    assert not exact.uses_graph
    rng = np.random.default_rng(2)
    found = total = 0
    for _ in range(50):
        query = _unit(*rng.normal(size=16))
        truth = {pk for pk, _ in exact.search(query, 10)}
        found += len(truth & {pk for pk, _ in index.search(query, 10)})
        total += 10
    assert found / total >= 0.95

    reopened = VectorIndex(MODEL, 16, folder=folder, graph_min_size=1000)
    reopened.sync(store)  # loads the saved graph instead of building it again
    assert reopened.uses_graph
    query = vectors[5]
    assert reopened.search(query, 10) == index.search(query, 10)
    assert pks[5] not in {pk for pk, _ in reopened.search(query, 10, exclude=pks[5])}


def test_graph_follows_changed_vectors_and_filters(store, tmp_path):
    pks, vectors = _random_store(store, 2000)
    index = VectorIndex(MODEL, 16, folder=tmp_path / "v", graph_min_size=1000)
    index.sync(store)
    store.save_embeddings(MODEL, [(pks[0], 2, "new", encode_vector(vectors[1]))])
    index.sync(store)
    near = {pk for pk, _ in index.search(vectors[1], 2)}
    assert near == {pks[0], pks[1]}
    few = pks[100:110]
    assert sorted(pk for pk, _ in index.search(vectors[100], 20, allowed=few)) == sorted(few)
    # A filter over half the papers still searches the graph: compare it with exact search.
    # (HNSW is approximate, and its multithreaded build is not deterministic, so one query can
    # miss; the target is recall@10 >= 0.95.)
    half = pks[:1000]
    exact = VectorIndex(MODEL, 16)
    exact.sync(store)
    found = total = 0
    for n in range(2, 52):
        hits = index.search(vectors[n * 19], 10, allowed=half)
        assert len(hits) == 10
        assert all(pk in set(half) for pk, _ in hits)
        truth = {pk for pk, _ in exact.search(vectors[n * 19], 10, allowed=half)}
        found += len(truth & {pk for pk, _ in hits})
        total += 10
    assert found / total >= 0.95


def test_the_graph_library_and_the_model_runtime_load_together():
    # usearch 2.26.3+ crashed the interpreter when onnxruntime was imported after it.
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import usearch.index; import onnxruntime; print('ok')"],
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "ok")
