"""Candidate keyphrases and their picking by meaning (keywords/phrases.py), and the job that
gives every embedded paper its keyphrases (keywords/job.py) on each backend."""

import dataclasses
import gzip
import json

import numpy as np
import pytest

from conftest import MODEL_DIR, make_paper, query_one
from paperfeed.config import Settings
from paperfeed.embeddings import content_hash, paper_text
from paperfeed.keywords.files import BadKeywordFile, load_keywords, write_keywords
from paperfeed.keywords.job import compute_keywords, keyphrases_for, keyword_method
from paperfeed.keywords.phrases import Candidate, candidates, pick_keyphrases
from paperfeed.sample import sample_keywords_path, sample_path
from paperfeed.search.update import embed_new_papers
from paperfeed.storage import open_store
from paperfeed.text import clean_text


def _texts(title: str, abstract: str) -> list[str]:
    return [c.text for c in candidates(title, abstract)]


def test_candidates_are_runs_without_stopwords_or_filler_at_their_ends():
    found = _texts(
        "Mixture of Experts for Large Language Models",
        "We propose a novel mixture of experts. Results show 3.5% gains on 2024 data.",
    )
    assert found == [
        "Mixture",
        "Mixture of Experts",
        "Experts",
        "Large Language",
        "Large Language Models",
        "Language",
        "Language Models",
        "gains",
    ]


def test_latex_links_and_punctuation_break_runs_and_numbers_are_not_phrases():
    found = _texts(
        "Denoising $\\mathcal{O}(n)$ attention",
        "We study \\emph{chaotic} dynamical systems, e.g. the Lorenz system (see "
        "https://github.com/lab/code), in 2026 with 128 Koopman operators.",
    )
    assert found == [
        "attention",
        "dynamical systems",
        "Lorenz",
        "Lorenz system",
        "Koopman",
        "Koopman operators",
        "operators",
    ]
    assert not any("mathcal" in phrase or "github" in phrase for phrase in found)


def test_a_phrase_keeps_its_first_spelling_and_appears_once():
    found = candidates("Retrieval-Augmented Generation", "Uses retrieval-augmented generation.")
    assert found == [
        Candidate("Retrieval-Augmented Generation", "retrieval-augmented generation"),
        Candidate("Generation", "generation"),
    ]


def test_verb_like_starts_adjective_ends_and_generic_words_are_left_out():
    found = _texts(
        "", "Translating sequential programs into efficient models yields significantly pre-trained"
    )
    assert found == ["sequential programs", "programs"]


def test_candidates_stop_at_the_limit():
    abstract = " ".join(f"word{n}x, " for n in range(400))
    assert len(candidates("", abstract, limit=25)) == 25


def test_picking_takes_the_nearest_first_then_trades_closeness_for_difference():
    paper = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    phrases = ["near", "near again", "different"]
    vectors = np.array([[0.95, 0.31, 0.0], [0.94, 0.34, 0.0], [0.8, 0.0, 0.6]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    assert pick_keyphrases(phrases, vectors, paper, count=2) == ["near", "different"]
    # With all weight on closeness, the near duplicate wins.
    assert pick_keyphrases(phrases, vectors, paper, 2, diversity_lambda=1.0) == [
        "near",
        "near again",
    ]
    assert pick_keyphrases(phrases, vectors, paper, count=9) == ["near", "different", "near again"]
    assert pick_keyphrases([], np.zeros((0, 3), np.float32), paper) == []


def test_keyphrases_of_several_papers_embed_each_distinct_phrase_once(fake_embedder):
    papers = [
        make_paper("2606.00001", title="Koopman operators", abstract="Koopman operators again."),
        make_paper("2606.00002", title="koopman operators", abstract="For chaotic flows."),
    ]
    vectors = fake_embedder.embed([p.title for p in papers])
    found = keyphrases_for(fake_embedder, list(zip(papers, vectors, strict=True)))
    phrases = {"koopman", "koopman operators", "operators", "chaotic", "chaotic flows", "flows"}
    assert fake_embedder.texts_embedded == 2 + len(phrases)
    assert set(found[0]) == {"Koopman", "Koopman operators", "operators"}
    assert {phrase.lower() for phrase in found[1]} <= phrases and len(found[1]) == 5


def test_the_job_gives_each_embedded_paper_keyphrases_once(store, fake_embedder):
    store.upsert_papers(
        [
            make_paper(
                f"2606.{n:05d}",
                title=f"Koopman operators for chaotic flows, part {n}",
                abstract="We learn Koopman eigenfunctions of turbulent channel flows.",
            )
            for n in range(1, 8)
        ]
    )
    store.upsert_papers([make_paper("2606.00009", title="Not embedded yet")])
    embed_new_papers(store, fake_embedder, limit=7)
    method = keyword_method(fake_embedder.model_id)

    first = compute_keywords(store, fake_embedder, batch=3)
    assert (first.papers, store.count_keywords(method)) == (7, 7)
    found = store.keywords_for_ids(["2606.00001", "2606.00009"])
    assert list(found) == ["2606.00001"]
    paper = store.get_paper("2606.00001")
    offered = {c.text for c in candidates(paper.title, paper.abstract)}
    assert len(found["2606.00001"]) == 5 and set(found["2606.00001"]) <= offered
    again = compute_keywords(store, fake_embedder)
    assert again.papers == 0
    assert query_one(store, "SELECT count(*) FROM paper_keywords") == 7
    # The last paper gets its vector: the next run does it alone.
    embed_new_papers(store, fake_embedder)
    assert compute_keywords(store, fake_embedder).papers == 1


def test_a_changed_text_gets_new_keyphrases_once_it_is_embedded_again(store, fake_embedder):
    paper = make_paper(title="Koopman operators", abstract="Spectral analysis of chaotic flows.")
    store.upsert_papers([paper])
    embed_new_papers(store, fake_embedder)
    compute_keywords(store, fake_embedder)
    before = store.keywords_for_ids([paper.id])[paper.id]
    assert set(before) <= {c.text for c in candidates(paper.title, paper.abstract)}

    changed = dataclasses.replace(
        paper, title="Graph neural networks", abstract="Message passing on molecular graphs."
    )
    store.upsert_papers([changed])
    # Until the new text has its vector, the old keyphrases stay and nothing is redone.
    assert compute_keywords(store, fake_embedder).papers == 0
    embed_new_papers(store, fake_embedder)
    assert compute_keywords(store, fake_embedder).papers == 1
    after = store.keywords_for_ids([paper.id])[paper.id]
    assert set(after) <= {c.text for c in candidates(changed.title, changed.abstract)}
    assert after and not set(after) & set(before)
    # Another picking method (or model) redoes every paper.
    assert store.papers_for_keywords(fake_embedder.model_id, "other+method", 0, 10)[0][0] > 0


def test_a_keyphrase_file_loads_only_what_fits_the_method_and_the_text(
    store, fake_embedder, tmp_path
):
    papers = [
        make_paper(f"2606.{n:05d}", title=f"Koopman operators, part {n}", abstract="Chaos.")
        for n in range(1, 4)
    ]
    store.upsert_papers(papers)
    embed_new_papers(store, fake_embedder)
    compute_keywords(store, fake_embedder)
    method = keyword_method(fake_embedder.model_id)
    path = tmp_path / "keywords.json.gz"
    assert write_keywords(path, method, store) == 3

    other = open_store(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        other.upsert_papers(
            [papers[0], papers[1], dataclasses.replace(papers[2], abstract="A new text.")]
        )
        embed_new_papers(other, fake_embedder)
        assert load_keywords(other, path, fake_embedder.model_id, "another+method") == (0, 3)
        assert load_keywords(other, path, fake_embedder.model_id, method) == (2, 1)
        ids = [paper.id for paper in papers]
        assert other.keywords_for_ids(ids) == {
            paper_id: phrases
            for paper_id, phrases in store.keywords_for_ids(ids).items()
            if paper_id != "2606.00003"
        }
        # The changed paper is left to the job; loading again changes nothing.
        assert [
            p.id for _, _, p, _ in other.papers_for_keywords(fake_embedder.model_id, method, 0, 9)
        ] == ["2606.00003"]
        assert load_keywords(other, path, fake_embedder.model_id, method) == (0, 3)
    finally:
        other.close()
    path.write_bytes(b"not gzip")
    with pytest.raises(BadKeywordFile):
        load_keywords(store, path, fake_embedder.model_id, method)


def test_the_sample_ships_current_keyphrases_of_every_paper():
    with gzip.open(sample_keywords_path(), "rt", encoding="utf-8") as handle:
        document = json.load(handle)
    if (MODEL_DIR / "manifest.json").exists():
        manifest = json.loads((MODEL_DIR / "manifest.json").read_text())
        model = f"{manifest['model']}/{manifest['variant']}/{Settings().embedding_max_tokens}"
        assert document["method"] == keyword_method(model)
    entries = {entry["id"]: entry for entry in document["papers"]}
    with gzip.open(sample_path(), "rt", encoding="utf-8") as lines:
        sample = [json.loads(line) for line in lines]
    assert len(entries) == len(sample) == 3292
    for n, record in enumerate(sample):
        entry = entries[record["id"]]
        text = paper_text(clean_text(record["title"]), clean_text(record["abstract"]))
        assert entry["content_hash"] == content_hash(text), record["id"]
        if n % 10:
            continue  # a tenth of them is check enough that the picking has not changed
        offered = {
            c.text for c in candidates(clean_text(record["title"]), clean_text(record["abstract"]))
        }
        assert 1 <= len(entry["keywords"]) <= 5 and set(entry["keywords"]) <= offered, record["id"]


def test_of_joins_a_phrase_only_after_a_word_that_names_something():
    found = _texts("", "The idea of ClaimPKG, a mixture of experts, and large language models.")
    assert "idea of ClaimPKG" not in found and "mixture of experts" in found
    assert "large language models" in found
