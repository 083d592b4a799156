"""Papers' keyphrases (storage/base.py Keywords) held against every backend: which papers need
them, saving and reading them, and the list version they move."""

import numpy as np

from conftest import make_paper, query_one

MODEL = "test/model-4"
METHOD = "test/model-4+keyphrases-1"


def _vector(n: int) -> bytes:
    return np.full(4, n / 10, dtype="<f2").tobytes()


def _embedded(store, count: int = 3) -> dict[str, int]:
    """`count` papers with a current vector each (content hash "hash-N")."""
    ids = [f"2606.{n:05d}" for n in range(1, count + 1)]
    store.upsert_papers([make_paper(paper_id, title=f"Paper {paper_id}") for paper_id in ids])
    todo = store.papers_to_embed(MODEL, 0, 100)
    store.save_embeddings(MODEL, [(pk, rev, f"hash-{pk}", _vector(pk)) for pk, rev, _, _ in todo])
    return store.pks_for_ids(ids)


def _todo(store, method: str = METHOD) -> list[tuple[int, str]]:
    return [(pk, digest) for pk, digest, _, _ in store.papers_for_keywords(MODEL, method, 0, 100)]


def test_papers_with_a_current_vector_and_no_keyphrases_are_handed_out(store):
    pks = _embedded(store)
    store.upsert_papers([make_paper("2606.00009", title="No vector yet")])
    rows = store.papers_for_keywords(MODEL, METHOD, 0, 100)
    assert [(pk, digest) for pk, digest, _, _ in rows] == [
        (pk, f"hash-{pk}") for pk in sorted(pks.values())
    ]
    pk, _, paper, vector = rows[0]
    assert paper.title == "Paper 2606.00001" and vector == _vector(pk)
    # Paged by pk, in pk order.
    first = store.papers_for_keywords(MODEL, METHOD, 0, 2)
    rest = store.papers_for_keywords(MODEL, METHOD, first[-1][0], 2)
    assert [r[0] for r in first + rest] == sorted(pks.values())
    assert store.papers_for_keywords("other/model", METHOD, 0, 100) == []


def test_saved_keyphrases_are_read_by_id_and_the_paper_is_done(store):
    pks = _embedded(store)
    one, two = pks["2606.00001"], pks["2606.00002"]
    phrases = ["Koopman operators", "<b>bold</b> & 'quotes'", "Ünïcode ∑"]
    assert (
        store.save_keywords(METHOD, [(one, f"hash-{one}", phrases), (two, f"hash-{two}", [])]) == 2
    )
    assert store.keywords_for_ids(["2606.00001", "2606.00002", "2606.00003", "nope"]) == {
        "2606.00001": phrases
    }
    assert [pk for pk, _ in _todo(store)] == [pks["2606.00003"]]
    assert store.count_keywords(METHOD) == 2 and store.count_keywords("other") == 0
    assert store.stored_keywords(METHOD, 0, 10) == [
        (one, "2606.00001", f"hash-{one}", phrases),
        (two, "2606.00002", f"hash-{two}", []),
    ]
    assert store.stored_keywords(METHOD, one, 10)[0][0] == two
    # Saving again replaces them.
    store.save_keywords(METHOD, [(one, f"hash-{one}", ["Spectral analysis"])])
    assert store.keywords_for_ids(["2606.00001"]) == {"2606.00001": ["Spectral analysis"]}
    assert query_one(store, "SELECT count(*) FROM paper_keywords") == 2


def test_another_method_or_a_changed_text_hands_a_paper_out_again(store):
    pks = _embedded(store, 2)
    one, two = pks["2606.00001"], pks["2606.00002"]
    store.save_keywords(METHOD, [(one, f"hash-{one}", ["a"]), (two, f"hash-{two}", ["b"])])
    assert _todo(store) == []
    assert [pk for pk, _ in _todo(store, "test/model-4+keyphrases-2")] == [one, two]

    store.upsert_papers([make_paper("2606.00002", title="A new title")])
    assert _todo(store) == []  # its vector is stale: it waits for the new one
    todo = store.papers_to_embed(MODEL, 0, 100)
    store.save_embeddings(MODEL, [(pk, rev, "hash-new", _vector(9)) for pk, rev, _, _ in todo])
    assert _todo(store) == [(two, "hash-new")]
    # Until then the old phrases are still what is shown.
    assert store.keywords_for_ids(["2606.00002"]) == {"2606.00002": ["b"]}


def test_keyphrases_of_a_paper_that_is_gone_are_not_saved(store):
    pks = _embedded(store, 1)
    pk = pks["2606.00001"]
    assert store.save_keywords(METHOD, [(pk, "h", ["a"]), (pk + 1000, "h", ["b"])]) == 1
    assert store.save_keywords(METHOD, []) == 0
    assert query_one(store, "SELECT count(*) FROM paper_keywords") == 1


def test_keyphrase_writes_move_the_list_version(store):
    pks = _embedded(store, 1)
    pk = pks["2606.00001"]
    version = store.list_version()
    store.save_keywords(METHOD, [(pk, "h", ["a"])])
    assert store.list_version() > version
    version = store.list_version()
    store.save_keywords(METHOD, [(pk, "h", ["b"])])
    assert store.list_version() > version
