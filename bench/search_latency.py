"""Benchmark: search latency (p50/p95 per query) at 74,728 real papers and at 1,000,000.

Run with `make bench-latency` (or `.venv/bin/python bench/search_latency.py [--scale 1000000]`).

- 74,728: the arxiv-cs-daily dump, with its precomputed all-MiniLM-L6-v2 vectors loaded as the
  configured model's (they come from the same model through sentence-transformers; embedding the
  corpus anew takes ~30 min and changes nothing about latency). Queries are embedded live.
- 1,000,000: synthetic. Papers repeat the real ones' text (so the keyword index sees real term
  statistics, 13x longer posting lists); vectors are real vectors plus Gaussian noise,
  re-normalised. The recall@10 of the approximate vector index against exact search is reported.

Each query runs through Searcher.search (embedding, both rankings, feedback and fusion, the rerank
stage reading the best papers, the page of 20 papers, highlights); the rerank stage's own time is
reported too. Stores and indexes are kept under data/bench/ between runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import os
import random
import resource
import sys
import time
from pathlib import Path

import numpy as np

from machine import describe
from paperfeed.config import Settings
from paperfeed.embeddings import content_hash, load_embedder, paper_text
from paperfeed.ingest.pipeline import ingest_sources
from paperfeed.models import Paper
from paperfeed.search.searcher import open_searcher
from paperfeed.search.vector import VectorIndex, encode_vector
from paperfeed.storage import Store, open_store

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
DUMP = SHARED / "arxiv-cs-daily"
WORK = REPO / "data" / "bench"
MODEL_DIR = REPO / "data" / "models" / "all-minilm-l6-v2"


def load_vectors(store: Store, model: str, ids: list[str], vectors: np.ndarray) -> None:
    """Store precomputed vectors (row i belongs to ids[i]) as `model`'s, batch by batch."""
    if store.count_embeddings(model) >= len(ids):
        return
    row_of = {paper_id: row for row, paper_id in enumerate(ids)}
    after = 0
    while todo := store.papers_to_embed(model, after, 5000):
        rows = []
        for pk, rev, paper, _ in todo:
            row = row_of.get(paper.id)
            if row is not None:
                digest = content_hash(paper_text(paper.title, paper.abstract))
                rows.append((pk, rev, digest, encode_vector(vectors[row])))
        store.save_embeddings(model, rows)
        after = todo[-1][0]


def synthetic_papers(count: int) -> list[Paper]:
    """`count` papers that repeat the dump's text under new ids."""
    with gzip.open(DUMP / "papers.jsonl.gz", "rt", encoding="utf-8") as lines:
        real = [json.loads(line) for line in lines]
    papers = []
    for n in range(count):
        source = real[n % len(real)]
        papers.append(
            Paper(
                id=f"syn-{n:07d}",
                title=source["title"],
                abstract=source["abstract"],
                authors=tuple(source["authors"]),
                categories=tuple(source["categories"]),
                source="synthetic",
            )
        )
    return papers


def synthetic_vectors(real: np.ndarray, count: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((count, real.shape[1]), dtype=np.float16)
    for start in range(0, count, 100_000):
        stop = min(count, start + 100_000)
        block = real[np.arange(start, stop) % len(real)].astype(np.float32)
        block += rng.normal(scale=0.04, size=block.shape).astype(np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:stop] = block
    return out


def queries(count: int, seed: int = 11) -> list[str]:
    """Short queries cut from real titles, and long ones (SciFact claims)."""
    rng = random.Random(seed)
    with gzip.open(DUMP / "papers.jsonl.gz", "rt", encoding="utf-8") as lines:
        titles = [json.loads(line)["title"] for line in lines]
    out = []
    for title in rng.sample(titles, count * 3 // 4):
        words = title.split()
        size = rng.randint(2, 6)
        start = rng.randint(0, max(0, len(words) - size))
        out.append(" ".join(words[start : start + size]))
    claims = [json.loads(line)["text"] for line in (SHARED / "scifact" / "queries.jsonl").open()]
    out += rng.sample(claims, count - len(out))
    return out


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p50 = ordered[len(ordered) // 2] * 1000
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000
    return f"p50 {p50:6.1f} ms  p95 {p95:6.1f} ms"


def measure(searcher, texts: list[str], repeat: int = 3) -> None:
    for text in texts[:10]:  # warm caches (analyzer, model session)
        searcher.search(text)
    pipeline = searcher.pipeline
    finish = pipeline.finish
    stage: list[float] = []

    def timed_finish(*args, **kwargs):
        started = time.perf_counter()
        try:
            return finish(*args, **kwargs)
        finally:
            stage.append(time.perf_counter() - started)

    for mode in ("keyword", "vector", "hybrid"):
        times = []
        pipeline.finish = timed_finish  # the rerank stage: read the best papers, rerank
        stage.clear()
        for _ in range(repeat):
            for text in texts:
                started = time.perf_counter()
                searcher.search(text, limit=20, mode=mode)
                times.append(time.perf_counter() - started)
        del pipeline.finish
        print(f"  {mode:<8} {percentiles(times)}  ({len(texts)} queries × {repeat}, page of 20)")
        if mode == "hybrid":
            print(
                f"  rerank stage (reading the best {pipeline.tuning.rerank_depth} papers, "
                f"reranking), within hybrid: {percentiles(stage)}"
            )


def exact_copy(index: VectorIndex) -> VectorIndex:
    """An index over the same rows as `index` that always searches exactly."""
    exact = VectorIndex(index.model, index.dimensions, graph_min_size=10**12)
    exact._matrix, exact._pks, exact._rows, exact._size = (  # share the rows
        index._matrix,
        index._pks,
        index._rows,
        index._size,
    )
    return exact


def recall_at_10(index, exact: VectorIndex, sample: np.ndarray) -> float:
    """How many of the true 10 nearest (exact search) `index` finds, on average."""
    found = 0
    for vector in sample:
        truth = {pk for pk, _ in exact.search(vector, 10)}
        found += len(truth & {pk for pk, _ in index.search(vector, 10)})
    return found / (10 * len(sample))


def postgres_database(server_url: str, name: str) -> str:
    """The URL of database `name` on the benchmark server, created if missing."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def build(scale: int, postgres_url: str | None = None) -> tuple:
    """The catalog of `scale` papers with vectors, on SQLite or (with a server URL) on
    PostgreSQL, made once and kept; returns (store, settings, real vectors)."""
    if postgres_url is None:
        url = f"sqlite:///{WORK / f'latency-{scale}.db'}"
    else:
        url = postgres_database(postgres_url, f"paperfeed_bench_{scale}")
    settings = Settings(database_url=url, data_dir=str(WORK), model_dir=str(MODEL_DIR))
    store = open_store(settings.database_url)
    embedder = load_embedder(settings)
    real = np.load(DUMP / "minilm-l6-v2.f16.npy")
    real_ids = (DUMP / "minilm-l6-v2.ids.txt").read_text().split()
    started = time.perf_counter()
    if scale == len(real_ids):
        if store.count_papers() < scale:
            ingest_sources(store, [str(DUMP / "papers.jsonl.gz")], settings)
        load_vectors(store, embedder.model_id, real_ids, real)
    elif store.count_papers() < scale:
        papers = synthetic_papers(scale)
        for start in range(0, scale, 50_000):
            store.upsert_papers(papers[start : start + 50_000])
        del papers
    if scale != len(real_ids):
        load_vectors(
            store,
            embedder.model_id,
            [f"syn-{n:07d}" for n in range(scale)],
            synthetic_vectors(real, scale),
        )
    print(
        f"  catalog ready: {store.count_papers():,} papers ({time.perf_counter() - started:.0f} s)"
    )
    return store, settings, embedder, real


def ready_searcher(settings: Settings, store: Store, embedder, vector_index: str):
    settings = dataclasses.replace(settings, vector_index=vector_index)
    searcher = open_searcher(settings, store, embedder)
    started = time.perf_counter()
    indexed, vectors = searcher.refresh()
    where = "in the database" if vector_index == "pgvector" else "in memory"
    print(
        f"  indexes ready: {indexed:,} papers indexed, {vectors:,} vectors {where}, "
        f"graph {'on' if searcher.vectors.uses_graph else 'off'} "
        f"({time.perf_counter() - started:.0f} s)"
    )
    return searcher


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, nargs="*", default=[74_728, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--backend", nargs="*", choices=("sqlite", "postgres"), default=["sqlite", "postgres"]
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("PAPERFEED_BENCH_POSTGRES_URL"),
        help="A PostgreSQL server to create the benchmark databases on "
        "(default: $PAPERFEED_BENCH_POSTGRES_URL; scripts/bench-postgres.sh starts one).",
    )
    parser.add_argument("--ef-search", type=int, nargs="*", default=[40, 100, 200])
    args = parser.parse_args()
    if not DUMP.exists():
        print(f"skipped: {DUMP} not found (the shared data set is not on this machine)")
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"machine: {describe()}")
    texts = queries(args.queries)
    rng = np.random.default_rng(3)
    for scale in args.scale:
        for backend in args.backend:
            if backend == "postgres" and not args.postgres_url:
                print("postgres: skipped (no --postgres-url or PAPERFEED_BENCH_POSTGRES_URL)")
                continue
            print(f"{scale:,} papers on {backend}:")
            store, settings, embedder, real = build(
                scale, args.postgres_url if backend == "postgres" else None
            )
            sample = real[rng.choice(len(real), 200, replace=False)].astype(np.float32)
            local = ready_searcher(settings, store, embedder, "local")
            print(" local vectors (each process holds them; usearch graph from 20,000):")
            measure(local, texts)
            exact = exact_copy(local.vectors)
            if local.vectors.uses_graph:
                print(
                    f"  vector graph recall@10 against exact search: "
                    f"{recall_at_10(local.vectors, exact, sample):.3f}"
                )
            if backend == "postgres":
                shared = ready_searcher(settings, store, embedder, "pgvector")
                for ef in args.ef_search:
                    shared.vectors.ef_search = ef
                    print(
                        f" pgvector HNSW in PostgreSQL (m 16, ef_construction 64, ef_search {ef}):"
                    )
                    measure(shared, texts)
                    print(
                        f"  pgvector recall@10 against exact search: "
                        f"{recall_at_10(shared.vectors, exact, sample):.3f}"
                    )
            del local, exact
            store.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak_mb:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
