"""Benchmark: how well "for you" finds what a reader would like, against simpler recommenders,
and how long one recommendation takes at 74,728 papers.

Run with `make bench-recommend` (or `.venv/bin/python bench/recommend_eval.py [--datasets
scifact cacm cranfield] [--seed 7]`).

Simulated readers come from real relevance judgements: each query of SciFact (train), CACM and
Cranfield with at least 4 judged-relevant documents is a reader who likes those documents. Half
of them (at least 2), drawn at random, are what the reader saved; the other half are hidden, and
each recommender ranks every document the reader did not save. Reported: nDCG@10 and Recall@50
of the hidden documents (ir_measures), averaged over readers. The recommenders:

- popularity: documents by how many other readers like them (the reader's own judgements left
  out), the best a site with votes and no profile can do;
- centroid: cosine to the mean of the saved documents' vectors (one blended profile);
- tf-idf SVM: arxiv-sanity-lite's method, a linear SVM per reader over tf-idf of title and
  abstract (unigrams and bigrams), the saved documents against all the others;
- for you: paperfeed's (search/recommend.py): each saved paper a prototype, best cosine;
- ... + not interested: the reader dismisses the first 5 recommendations that are not among the
  hidden ones (the wrong papers they would see first); the ranking is made again with those as
  disliked (and without them), for "for you" and for the centroid (Rocchio: minus half the
  dislikes' mean).

Then the time per recommendation over the 74,728 arXiv CS papers (a copy of the store
bench-latency builds, with its HNSW graph), through the function the feed uses, for readers who
liked 1 to 300 papers (200 readers), p50 and p95.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import ir_measures
import numpy as np
from ir_measures import R, nDCG

from catalog_copy import copy_catalog
from machine import describe
from paperfeed.config import Settings
from paperfeed.search.recommend import profile, rank_for, recommend
from paperfeed.search.searcher import open_searcher
from paperfeed.storage import open_store
from search_quality import DATA, DATASETS, prepare

MEASURES = [nDCG @ 10, R @ 50]
DEPTH = 100
MIN_RELEVANT = 4
DISMISSED = 5
ARXIV = DATA / "arxiv-cs-daily"
REPO = Path(__file__).resolve().parents[1]
MODEL_DIR = REPO / "data" / "models" / "all-minilm-l6-v2"

Ranking = list[str]  # doc ids, best first


class MatrixVectors:
    """Fixed vectors by pk, with the calls search/recommend.py makes of a vector index."""

    def __init__(self, pks: np.ndarray, matrix: np.ndarray) -> None:
        self.pks = pks
        self.matrix = matrix
        self.row_of = {int(pk): row for row, pk in enumerate(pks)}

    def matrix_for(self, pks):
        wanted = [pk for pk in pks if pk in self.row_of]
        return wanted, self.matrix[[self.row_of[pk] for pk in wanted]]

    def search(self, query, limit, allowed=None, exclude=None):
        scores = self.matrix @ query
        best = np.argsort(-scores)[:limit]
        return [(int(self.pks[b]), float(scores[b])) for b in best]

    def snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        return self.pks, self.matrix


class Corpus:
    """A dataset's documents: ids, vectors (unit rows), texts, and who likes what."""

    def __init__(self, name: str, seed: int) -> None:
        settings_model = str(MODEL_DIR)
        store, searcher, _queries, qrels = prepare(name, settings_model)
        pks, matrix = searcher.vectors.snapshot()
        self.pks = np.array(pks, dtype=np.int64)
        self.matrix = np.array(matrix, dtype=np.float32)
        papers = store.papers_by_pk(int(pk) for pk in self.pks)
        self.ids = [papers[int(pk)].id for pk in self.pks]
        self.texts = [f"{papers[int(pk)].title}. {papers[int(pk)].abstract}" for pk in self.pks]
        self.row_of = {doc: row for row, doc in enumerate(self.ids)}
        self.vectors = MatrixVectors(self.pks, self.matrix)
        rng = random.Random(seed)
        self.readers: list[tuple[str, list[str], list[str]]] = []
        for query, judged in sorted(qrels.items()):
            liked = sorted(doc for doc, grade in judged.items() if grade > 0 and doc in self.row_of)
            if len(liked) < MIN_RELEVANT:
                continue
            rng.shuffle(liked)
            half = len(liked) // 2
            self.readers.append((query, liked[:half], liked[half:]))
        self.likes = {
            query: {d for d, g in judged.items() if g > 0} for query, judged in qrels.items()
        }
        store.close()


def popularity(corpus: Corpus) -> Callable[[str, list[str], list[str]], Ranking]:
    def rank(query: str, saved: list[str], disliked: list[str]) -> Ranking:
        counts = Counter(d for q, docs in corpus.likes.items() if q != query for d in docs)
        skip = {*saved, *disliked}
        order = sorted(corpus.ids, key=lambda d: (-counts.get(d, 0), corpus.row_of[d]))
        return [d for d in order if d not in skip][:DEPTH]

    return rank


def _top(corpus: Corpus, scores: np.ndarray, skip: set[str]) -> Ranking:
    for doc in skip:
        scores[corpus.row_of[doc]] = -np.inf
    best = np.argsort(-scores, kind="stable")[:DEPTH]
    return [corpus.ids[b] for b in best if np.isfinite(scores[b])]


def centroid(corpus: Corpus) -> Callable[[str, list[str], list[str]], Ranking]:
    def rank(query: str, saved: list[str], disliked: list[str]) -> Ranking:
        rows = corpus.matrix[[corpus.row_of[d] for d in saved]]
        profile_vector = rows.mean(axis=0)
        if disliked:
            profile_vector = profile_vector - 0.5 * corpus.matrix[
                [corpus.row_of[d] for d in disliked]
            ].mean(axis=0)
        return _top(corpus, corpus.matrix @ profile_vector, {*saved, *disliked})

    return rank


def svm(corpus: Corpus) -> Callable[[str, list[str], list[str]], Ranking]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    # As arxiv-sanity-lite: tf-idf of the corpus once, a linear SVM per reader.
    features = TfidfVectorizer(
        input="content",
        encoding="utf-8",
        decode_error="replace",
        strip_accents="unicode",
        lowercase=True,
        analyzer="word",
        stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",
        ngram_range=(1, 2),
        max_features=20_000,
        norm="l2",
        use_idf=True,
        smooth_idf=True,
        sublinear_tf=True,
        max_df=0.1,
        min_df=2,
    ).fit_transform(corpus.texts)

    def rank(query: str, saved: list[str], disliked: list[str]) -> Ranking:
        labels = np.zeros(len(corpus.ids))
        labels[[corpus.row_of[d] for d in saved]] = 1
        model = LinearSVC(class_weight="balanced", verbose=False, max_iter=10_000, tol=1e-6, C=0.01)
        model.fit(features, labels)
        return _top(corpus, model.decision_function(features), {*saved, *disliked})

    return rank


def for_you(corpus: Corpus) -> Callable[[str, list[str], list[str]], Ranking]:
    to_pk = {doc: int(corpus.pks[row]) for doc, row in corpus.row_of.items()}
    to_doc = {pk: doc for doc, pk in to_pk.items()}

    def rank(query: str, saved: list[str], disliked: list[str]) -> Ranking:
        liked = [to_pk[d] for d in saved]
        dislikes = [to_pk[d] for d in disliked]
        reader = profile(corpus.vectors, liked, dislikes)
        found = recommend(reader, corpus.pks, corpus.matrix, {*liked, *dislikes}, DEPTH)
        return [to_doc[r.pk] for r in found]

    return rank


def evaluate(
    corpus: Corpus, rank: Callable[[str, list[str], list[str]], Ranking], dismiss: bool
) -> dict[str, float]:
    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    for query, saved, hidden in corpus.readers:
        ranking = rank(query, saved, [])
        if dismiss:
            wrong = [d for d in ranking if d not in hidden][:DISMISSED]
            ranking = rank(query, saved, wrong)
        qrels[query] = dict.fromkeys(hidden, 1)
        run[query] = {doc: float(DEPTH - i) for i, doc in enumerate(ranking)}
    values = ir_measures.calc_aggregate(MEASURES, qrels, run)
    return {str(measure): value for measure, value in values.items()}


def timing(seed: int) -> list[tuple[int, float, float]]:
    """(papers liked, p50 ms, p95 ms) of rank_for, the function the feed uses, on a copy of
    the 74,728-paper store (bench/catalog_copy.py: its HNSW graph included), for readers who
    liked papers drawn at random (each one an interest of its own: the worst case)."""
    settings = copy_catalog("recommend")
    store = open_store(settings.database_url)
    searcher = open_searcher(settings, store)
    searcher.refresh()
    vectors = searcher.vectors
    pks = list(
        store.pks_for_ids(line.strip() for line in (ARXIV / "minilm-l6-v2.ids.txt").open()).values()
    )
    rng = random.Random(seed)
    out = []
    for size in (1, 5, 20, 60, 300):
        times = []
        for _ in range(40):
            liked = rng.sample(pks, size)
            started = time.perf_counter()
            rank_for(store, vectors, liked, liked[:1] if size > 2 else [], limit=50)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        out.append((size, times[len(times) // 2], times[int(len(times) * 0.95)]))
    store.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not (MODEL_DIR / "manifest.json").exists():
        print(f"skipped: no exported model at {MODEL_DIR} (make model)")
        return 0
    missing = [name for name in args.datasets if not (DATA / name).exists()]
    if missing or not ARXIV.exists():
        print(f"skipped: {', '.join(missing) or ARXIV} not found (the shared data set)")
        return 0
    Settings()  # fail early on a broken environment, before the long part
    print(f"machine: {describe()}")
    rows = []
    for name in args.datasets:
        corpus = Corpus(name, args.seed)
        methods = [
            ("popularity", popularity(corpus), False),
            ("centroid", centroid(corpus), False),
            ("tf-idf SVM (arxiv-sanity-lite)", svm(corpus), False),
            ("for you", for_you(corpus), False),
            ("centroid + not interested", centroid(corpus), True),
            ("for you + not interested", for_you(corpus), True),
        ]
        for label, rank, dismiss in methods:
            started = time.perf_counter()
            figures = evaluate(corpus, rank, dismiss)
            per_reader = (time.perf_counter() - started) / len(corpus.readers) * 1000
            rows.append((name, len(corpus.readers), label, figures, per_reader))
            print(
                f"{name} ({len(corpus.readers)} readers) {label}: nDCG@10 "
                f"{figures['nDCG@10']:.3f}, R@50 {figures['R@50']:.3f} "
                f"({per_reader:.1f} ms a reader)",
                flush=True,
            )
    print("\n| dataset (readers) | recommender | nDCG@10 | Recall@50 | ms a reader |")
    print("|---|---|---:|---:|---:|")
    for name, readers, label, figures, per_reader in rows:
        print(
            f"| {name} ({readers}) | {label} | {figures['nDCG@10']:.3f} | {figures['R@50']:.3f} "
            f"| {per_reader:.1f} |"
        )
    print("\ntime per recommendation at 74,728 papers (50 results):")
    print("| papers liked | p50 ms | p95 ms |\n|---:|---:|---:|")
    for size, p50, p95 in timing(args.seed):
        print(f"| {size} | {p50:.1f} | {p95:.1f} |")
    print(f"\nmachine: {describe()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
