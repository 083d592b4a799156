"""Benchmark: search quality (nDCG@10, Recall@100) on SciFact (train split), CACM and Cranfield.

Run with `make bench-quality` (or `.venv/bin/python bench/search_quality.py`). Each corpus is
ingested into its own store under data/bench/ (kept between runs, so only the first run embeds),
on SQLite and, given a PostgreSQL server, on PostgreSQL with local vectors and with pgvector,
then every train/judged query is run in keyword, vector and hybrid mode through the same code
as `paperfeed search --queries FILE --trec`, and the runs are scored with ir-measures.
`--tune` searches the fusion parameters on the SciFact train queries (never on test); `--steps`
also scores each earlier step of the ranking pipeline (the README table).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import ir_measures
from ir_measures import R, nDCG

from paperfeed.config import Settings
from paperfeed.embeddings import load_embedder
from paperfeed.ingest.pipeline import ingest_sources
from paperfeed.search.searcher import open_searcher
from paperfeed.search.tuning import DEFAULT, KEYWORD, RRF, VECTOR, Tuning
from paperfeed.search.update import update_search
from paperfeed.storage import open_store
from paperfeed.vector_files import export_vectors, import_vectors
from search_latency import postgres_database

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
WORK = REPO / "data" / "bench"
DATASETS = {
    "scifact": ("corpus.jsonl", "queries.jsonl", "qrels_train.tsv"),
    "cacm": ("corpus.jsonl", "queries.jsonl", "qrels.tsv"),
    "cranfield": ("corpus.jsonl", "queries.jsonl", "qrels.tsv"),
}
MEASURES = [nDCG @ 10, R @ 100]


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for number, line in enumerate(path.read_text().splitlines()):
        parts = line.split("\t")
        if number == 0 and not parts[-1].strip().lstrip("-").isdigit():
            continue  # header
        query, doc, score = parts[0], parts[1], int(parts[2])
        qrels.setdefault(query, {})[doc] = score
    return qrels


def prepare(name: str, model_dir: str, postgres_url: str | None = None, vector_index="local"):
    """The dataset's store and searcher, ingested and embedded (incrementally), on SQLite or
    (given a server) on PostgreSQL. Vectors made once are kept in data/bench/<name>.vectors.npz
    and loaded by the other backend, so each corpus is embedded once."""
    corpus, queries_file, qrels_file = DATASETS[name]
    folder = DATA / name
    WORK.mkdir(parents=True, exist_ok=True)
    if postgres_url is None:
        url = f"sqlite:///{WORK / name}.db"
    else:
        url = postgres_database(postgres_url, f"paperfeed_quality_{name}")
    settings = Settings(
        database_url=url, data_dir=str(WORK), model_dir=model_dir, vector_index=vector_index
    )
    store = open_store(settings.database_url)
    report = ingest_sources(store, [str(folder / corpus)], settings)
    embedder = load_embedder(settings)
    vectors = WORK / f"{name}.vectors.npz"
    if vectors.exists() and store.count_embeddings(embedder.model_id) < store.count_papers():
        import_vectors(store, vectors, embedder.model_id)
    searcher = open_searcher(settings, store, embedder)
    started = time.perf_counter()
    update = update_search(searcher)
    if not vectors.exists():
        export_vectors(store, embedder.model_id, vectors)
    print(
        f"{name} on {store.url.split(':')[0]} ({vector_index} vectors): {report.summary()}; "
        f"{update.summary()} in {time.perf_counter() - started:.0f} s"
    )
    qrels = load_qrels(folder / qrels_file)
    queries = [json.loads(line) for line in (folder / queries_file).read_text().splitlines()]
    queries = [q for q in queries if str(q["id"]) in qrels]
    return store, searcher, queries, qrels


def run(searcher, queries, mode: str) -> dict[str, dict[str, float]]:
    """A run as {query id: {doc id: score}}, 100 deep."""
    out: dict[str, dict[str, float]] = {}
    for query in queries:
        results = searcher.search(str(query["text"]), limit=100, mode=mode, highlight=False)
        out[str(query["id"])] = {hit.paper.id: hit.score for hit in results.hits}
    return out


def score(qrels, run_) -> dict[str, float]:
    values = ir_measures.calc_aggregate(MEASURES, qrels, run_)
    return {str(measure): value for measure, value in values.items()}


# Each step of the ranking pipeline, to show what each one adds (--steps).
STEPS = {
    "rrf": RRF,  # weighted RRF, k=20, keyword 1.5 : vector 1, 100 per ranking
    "tmm": replace(
        DEFAULT,
        weights=MappingProxyType({KEYWORD: 0.25, VECTOR: 0.75}),
        candidates=100,
        feedback_papers=0,
        semantic_ranks=0,
    ),
    "tmm+feedback": replace(DEFAULT, semantic_ranks=0),
    "shipped": DEFAULT,  # + clear semantic finds lifted into the first 10
}


def with_weights(tuning: Tuning, keyword: float, vector: float, **changes) -> Tuning:
    weights = {**tuning.weights, KEYWORD: keyword, VECTOR: vector}
    return replace(tuning, weights=MappingProxyType(weights), **changes)


def tune(searcher, queries, qrels) -> Tuning:
    """Grid-search the fusion weight and the feedback weight on SciFact train."""
    best = (0.0, searcher.tuning)
    for vector in (0.6, 0.7, 0.75, 0.8, 0.85, 0.9):
        for feedback in (0.0, 0.25, 0.5, 1.0):
            searcher.tuning = with_weights(
                searcher.tuning, round(1 - vector, 2), vector, feedback_weight=feedback
            )
            value = score(qrels, run(searcher, queries, "hybrid"))["nDCG@10"]
            print(f"  vector weight {vector}, feedback {feedback}: nDCG@10 {value:.4f}")
            if value > best[0]:
                best = (value, searcher.tuning)
    print(f"best on SciFact train: {best[1]} nDCG@10 {best[0]:.4f}")
    return best[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--model-dir", default=str(REPO / "data" / "models" / "all-minilm-l6-v2"))
    parser.add_argument(
        "--tune", action="store_true", help="grid-search the fusion on SciFact train"
    )
    parser.add_argument("--rrf-k", type=float, default=None, help="fusion k (default: the app's)")
    parser.add_argument(
        "--weights", type=float, nargs=2, default=None, help="fusion weights: keyword vector"
    )
    parser.add_argument(
        "--backend", nargs="*", choices=("sqlite", "postgres"), default=["sqlite", "postgres"]
    )
    parser.add_argument(
        "--steps",
        action="store_true",
        help="also run hybrid with each earlier step of the pipeline (on SQLite): "
        + ", ".join(STEPS),
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("PAPERFEED_BENCH_POSTGRES_URL"),
        help="A PostgreSQL server for the PostgreSQL runs (scripts/bench-postgres.sh starts one).",
    )
    args = parser.parse_args()
    if not DATA.exists():
        print(f"skipped: {DATA} not found (the shared data sets are not on this machine)")
        return 0
    configurations = [("sqlite", "local")] if "sqlite" in args.backend else []
    if "postgres" in args.backend:
        if args.postgres_url:
            configurations += [("postgres", "local"), ("postgres", "pgvector")]
        else:
            print("postgres: skipped (no --postgres-url or PAPERFEED_BENCH_POSTGRES_URL)")
    table = []
    for name in args.datasets:
        for backend, vector_index in configurations:
            server = args.postgres_url if backend == "postgres" else None
            store, searcher, queries, qrels = prepare(name, args.model_dir, server, vector_index)
            if args.rrf_k is not None:
                searcher.tuning = replace(searcher.tuning, rrf_k=args.rrf_k)
            if args.weights is not None:
                searcher.tuning = with_weights(searcher.tuning, *args.weights)
            if args.tune and name == "scifact" and backend == "sqlite":
                searcher.tuning = tune(searcher, queries, qrels)
            shipped = searcher.tuning
            runs = [("keyword", "keyword", shipped), ("vector", "vector", shipped)]
            if args.steps and backend == "sqlite":
                runs += [(f"hybrid:{step}", "hybrid", tuning) for step, tuning in STEPS.items()]
            else:
                runs.append(("hybrid", "hybrid", shipped))
            for label, mode, tuning in runs:
                searcher.tuning = tuning
                started = time.perf_counter()
                values = score(qrels, run(searcher, queries, mode))
                elapsed = (time.perf_counter() - started) / max(1, len(queries)) * 1000
                table.append(
                    (
                        name,
                        f"{backend}/{vector_index}",
                        label,
                        values["nDCG@10"],
                        values["R@100"],
                        len(queries),
                        elapsed,
                    )
                )
            searcher.tuning = shipped
            store.close()
    print()
    print(
        f"{'dataset':<10} {'store/vectors':<18} {'mode':<20} {'nDCG@10':>8} {'R@100':>7} "
        f"{'queries':>8} {'ms/query':>9}"
    )
    for name, where, mode, ndcg, recall, count, ms in table:
        print(f"{name:<10} {where:<18} {mode:<20} {ndcg:8.4f} {recall:7.4f} {count:8d} {ms:9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
