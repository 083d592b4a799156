from datetime import date
from pathlib import Path

import pytest

from conftest import make_paper
from paperfeed.models import Featured, SearchFilters
from paperfeed.search.keyword import KeywordIndex
from paperfeed.search.searcher import BadQuery, Searcher, index_dir
from paperfeed.search.update import update_search
from paperfeed.search.vector import VectorIndex
from paperfeed.storage import PaperNotFound

PAPERS = [
    make_paper(
        "2606.00001",
        title="Koopman operators for dynamical systems",
        abstract="Linear embeddings of nonlinear dynamics.",
        categories=("math.DS",),
        listed=date(2026, 6, 1),
    ),
    make_paper(
        "2606.00002",
        title="Learning nonlinear dynamics from data",
        abstract="Neural networks learn the dynamics of chaotic systems.",
        categories=("cs.LG",),
        listed=date(2026, 6, 2),
    ),
    make_paper(
        "2606.00003",
        title="LLaMA-3 fine-tuning recipes",
        abstract="Instruction tuning of large language models.",
        categories=("cs.CL",),
        listed=date(2026, 6, 3),
    ),
    make_paper(
        "2606.00004",
        title="Chaotic systems and their dynamics",
        abstract="A survey of chaos in dynamical systems.",
        categories=("math.DS",),
        listed=date(2026, 6, 4),
    ),
]


@pytest.fixture
def searcher(store, fake_embedder, tmp_path):
    store.upsert_papers(PAPERS)
    searcher = Searcher(
        store,
        KeywordIndex(tmp_path / "keyword"),
        VectorIndex(fake_embedder.model_id, fake_embedder.dimensions),
        fake_embedder,
    )
    report = update_search(searcher)
    assert (report.embed.embedded, report.indexed, report.vectors) == (4, 4, 4)
    return searcher


def _ids(results) -> list[str]:
    return [hit.paper.id for hit in results.hits]


def test_hybrid_fuses_keyword_and_semantic_ranks(searcher):
    results = searcher.search("dynamics of chaotic systems")
    assert results.mode == "hybrid"
    assert set(_ids(results)[:2]) == {"2606.00002", "2606.00004"}
    top = next(hit for hit in results.hits if hit.paper.id == "2606.00002")
    assert top.keyword_rank is not None and top.vector_rank is not None
    assert [top.paper.abstract[a:b] for a, b in top.abstract_spans] == [
        "dynamics",
        "chaotic",
        "systems",
    ]


def test_exact_terms_still_win(searcher):
    assert _ids(searcher.search("LLaMA-3"))[0] == "2606.00003"
    assert _ids(searcher.search("llama", mode="keyword")) == ["2606.00003"]


def test_vector_mode_ranks_by_meaning_only(searcher):
    results = searcher.search("chaotic systems dynamics", mode="vector")
    assert results.mode == "vector"
    assert all(hit.keyword_rank is None for hit in results.hits)
    assert len(results.hits) == 4


def test_phrases_and_filters_constrain_both_rankings(searcher):
    assert _ids(searcher.search('"dynamical systems"')) == ["2606.00001", "2606.00004"]
    only_ds = searcher.search("dynamics", filters=SearchFilters(categories=("math.DS",)))
    assert sorted(_ids(only_ds)) == ["2606.00001", "2606.00004"]
    june_two = SearchFilters(since=date(2026, 6, 2), until=date(2026, 6, 3))
    assert sorted(_ids(searcher.search("dynamics models", filters=june_two))) == [
        "2606.00002",
        "2606.00003",
    ]
    assert "2606.00004" not in _ids(searcher.search("dynamics -survey"))


def test_sorting_and_paging(searcher, store):
    pks = store.pks_for_ids(["2606.00001"])
    store.upsert_featured([Featured("2606.00001", date(2026, 6, 2), "hf-daily", 50)])
    by_date = searcher.search("dynamics systems", sort="date")
    assert _ids(by_date) == sorted(_ids(by_date), reverse=True)
    by_votes = searcher.search("dynamics systems", sort="upvotes")
    assert by_votes.hits[0].paper.id == "2606.00001" and by_votes.hits[0].upvotes == 50
    assert pks  # the paper exists
    first = searcher.search("dynamics systems", limit=2)
    second = searcher.search("dynamics systems", limit=2, offset=2)
    assert first.more
    assert set(_ids(first)).isdisjoint(_ids(second))


def test_bad_parameters_are_refused_and_empty_queries_explained(searcher):
    for kwargs in ({"mode": "magic"}, {"sort": "random"}, {"limit": 0}, {"offset": -1}):
        with pytest.raises(BadQuery):
            searcher.search("x", **kwargs)
    empty = searcher.search("  ")
    assert empty.hits == [] and "type a few words" in empty.notes[0]


@pytest.mark.parametrize(
    "text", ['"', "AND", "*", "-", "((]", "🚀", "x" * 10_000, 'a "b', "title:x", "\x00"]
)
def test_any_text_searches_without_error(searcher, text):
    results = searcher.search(text)
    assert isinstance(results.hits, list)


def test_similar_papers_exclude_the_paper_itself(searcher):
    hits = searcher.similar("2606.00002", limit=3)
    assert [h.paper.id for h in hits][2:] == ["2606.00003"]  # the language model paper is last
    assert {h.paper.id for h in hits[:2]} == {"2606.00001", "2606.00004"}
    with pytest.raises(PaperNotFound):
        searcher.similar("2606.99999")


def test_without_a_model_search_falls_back_to_keywords(store, tmp_path):
    store.upsert_papers(PAPERS)
    plain = Searcher(store, KeywordIndex(None), unavailable="no model here")
    plain.refresh()
    results = plain.search("chaotic dynamics")
    assert results.mode == "keyword"
    assert results.notes == ("no model here; showing keyword matches",)
    assert plain.similar("2606.00002", 2)[0].paper.id in {"2606.00001", "2606.00004"}


def test_derived_files_follow_one_rule_on_every_backend(tmp_path):
    from paperfeed.config import Settings
    from paperfeed.mail.mailer import outbox_dir
    from paperfeed.people.secret_key import key_file

    beside = Settings(database_url=f"sqlite:///{tmp_path / 'pf.db'}")
    assert index_dir(beside) == tmp_path / "pf.search"
    assert outbox_dir(beside) == tmp_path / "outbox"
    assert key_file(beside) == tmp_path / "secret.key"
    remote = Settings(database_url="postgresql://pf:secret@db.internal:5432/papers")
    assert index_dir(remote) == Path("data/papers.search")
    assert outbox_dir(remote) == Path("data/outbox")
    chosen = Settings(database_url=remote.database_url, data_dir=str(tmp_path / "node"))
    assert index_dir(chosen) == tmp_path / "node" / "papers.search"
    assert key_file(chosen) == tmp_path / "node" / "secret.key"
    assert index_dir(Settings(database_url="sqlite:///:memory:")) is None
