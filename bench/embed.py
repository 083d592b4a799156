"""Benchmark: the exported embedding models' throughput, query latency (quiet and under load),
memory and quality, for each variant and token cap.

Run with `.venv/bin/python bench/embed.py` after exporting the models:
    data/models/all-minilm-l6-v2       (int8, `export_model(path)`)
    data/models/all-minilm-l6-v2-fp32  (fp32, `export_model(path, quantize=False)`)
Each (model, cap) is measured in a fresh child process, so its peak memory is its own.

- throughput: papers/s over 800 real abstracts (title + ". " + abstract), in batches of
  PAPERFEED_EMBEDDING_BATCH_SIZE's default (or --batch-size);
- query: one short query embedded alone, p50/p95 over 200 calls, on a quiet machine, while two
  `while True: pass` processes hold both cores, and while an embedding job (the same model
  embedding abstracts in a loop, in another process) runs;
- R@1: each of the 191 seed-page titles, as a query, must find its own abstract;
- vs ST: cosine to the precomputed sentence-transformers vectors (bf16 autocast, 256-token cap)
  of the first 500 of those 800 papers.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from machine import describe
from paperfeed.config import Settings
from paperfeed.embeddings import OnnxEmbedder, paper_text

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared/data"
DEFAULT_MODELS = [
    ROOT / "data/models/all-minilm-l6-v2",
    ROOT / "data/models/all-minilm-l6-v2-fp32",
]
T = TypeVar("T")
CAPS = (128, 256)
THROUGHPUT_PAPERS = 800
AGREEMENT_PAPERS = 500
QUERY_CALLS = 200
QUERIES = [
    "graph neural networks",
    "diffusion models for video generation",
    "retrieval augmented generation",
    "robot grasping with tactile sensing",
    "sparse attention long context",
    "federated learning privacy",
    "3d gaussian splatting",
    "instruction tuning of small language models",
]


def machine() -> str:
    import onnxruntime  # type: ignore[import-untyped]

    return describe(f"onnxruntime {onnxruntime.__version__}", f"numpy {np.__version__}")


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def query_latency_ms(embedder: OnnxEmbedder) -> tuple[float, float]:
    """p50 and p95 of embedding one short query, with short idle gaps as a server has."""
    times = []
    for i in range(QUERY_CALLS):
        start = time.perf_counter()
        embedder.embed([QUERIES[i % len(QUERIES)]])
        times.append((time.perf_counter() - start) * 1000)
        time.sleep(0.002)
    p50, p95 = np.percentile(times, [50, 95])
    return float(p50), float(p95)


def under_load(commands: list[list[str]], measure: Callable[[], T]) -> T:
    """Run `measure()` while `commands` run; they are killed afterwards."""
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for cmd in commands
    ]
    try:
        time.sleep(1.5)  # let them start (the embedding job loads its model)
        return measure()
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def measure_one(model_dir: Path, cap: int, batch_size: int, data: Path) -> dict:
    """Everything for one model and token cap; runs in a child process."""
    papers = read_jsonl(data / "arxiv-cs-daily/papers.sample-1000.jsonl")[:THROUGHPUT_PAPERS]
    texts = [paper_text(p["title"], p["abstract"]) for p in papers]
    embedder = OnnxEmbedder(model_dir, max_tokens=cap, batch_size=batch_size)
    embedder.embed(texts[:batch_size])  # warm up

    start = time.perf_counter()
    vectors = embedder.embed(texts)
    papers_per_s = len(texts) / (time.perf_counter() - start)

    seed = read_jsonl(data / "seed-page/papers.jsonl")
    queries = np.vstack([embedder.embed([p["title"]]) for p in seed])
    abstracts = embedder.embed([p["abstract"] for p in seed])
    recall_at_1 = float(np.mean((queries @ abstracts.T).argmax(axis=1) == np.arange(len(seed))))

    daily = data / "arxiv-cs-daily"
    rows = {
        line.strip(): i
        for i, line in enumerate((daily / "minilm-l6-v2.ids.txt").read_text().splitlines())
    }
    reference = np.load(daily / "minilm-l6-v2.f16.npy", mmap_mode="r")
    picked = [i for i, p in enumerate(papers) if p["id"] in rows][:AGREEMENT_PAPERS]
    expected = np.asarray(reference[[rows[papers[i]["id"]] for i in picked]], dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    cosines = (vectors[picked] * expected).sum(axis=1)

    quiet = query_latency_ms(embedder)
    busy = [[sys.executable, "-c", "while True: pass"]] * 2
    loaded = under_load(busy, lambda: query_latency_ms(embedder))
    job = [[sys.executable, __file__, "--job", str(model_dir), str(cap), str(data)]]
    with_job = under_load(job, lambda: query_latency_ms(embedder))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # A second session (the web server's choice on 2 cores?), measured after the peak above.
    one_thread = OnnxEmbedder(model_dir, max_tokens=cap, threads=1)
    loaded_1t = under_load(busy, lambda: query_latency_ms(one_thread))

    return {
        "model_id": embedder.model_id,
        "file_mb": (model_dir / embedder.manifest.onnx_file).stat().st_size / 1e6,
        "papers_per_s": papers_per_s,
        "quiet": quiet,
        "loaded": loaded,
        "with_job": with_job,
        "loaded_1_thread": loaded_1t,
        "recall_at_1": recall_at_1,
        "cos_mean": float(cosines.mean()),
        "cos_min": float(cosines.min()),
        "compared": len(picked),
        "peak_mb": peak_mb,
    }


def run_job(model_dir: Path, cap: int, data: Path) -> None:
    """The competing embedding job: embed abstracts until killed."""
    papers = read_jsonl(data / "arxiv-cs-daily/papers.sample-1000.jsonl")[-200:]
    texts = [paper_text(p["title"], p["abstract"]) for p in papers]
    embedder = OnnxEmbedder(model_dir, max_tokens=cap)
    while True:
        embedder.embed(texts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="*", type=Path, default=DEFAULT_MODELS)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--batch-size", type=int, default=Settings().embedding_batch_size, help="texts per call"
    )
    parser.add_argument("--one", nargs=2, metavar=("MODEL_DIR", "CAP"), help=argparse.SUPPRESS)
    parser.add_argument("--job", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job:
        run_job(Path(args.job[0]), int(args.job[1]), Path(args.job[2]))
        return 0
    if args.one:
        result = measure_one(Path(args.one[0]), int(args.one[1]), args.batch_size, args.data)
        print(json.dumps(result))
        return 0
    if not (args.data / "arxiv-cs-daily/papers.sample-1000.jsonl").exists():
        print(f"skipped: {args.data} not found (the shared data set is not on this machine)")
        return 0

    print(f"machine: {machine()}")
    print(
        f"throughput: {THROUGHPUT_PAPERS} abstracts, batch {args.batch_size}; query: p50/p95 ms of "
        f"{QUERY_CALLS} single short queries; R@1: 191 seed-page titles -> own abstract; "
        f"vs ST: cosine to sentence-transformers (bf16, 256 tokens), {AGREEMENT_PAPERS} papers"
    )
    header = (
        f"{'model_id':<32} {'MB':>4} {'papers/s':>8} {'quiet':>11} {'2 busy loops':>13} "
        f"{'embed job':>11} {'busy, 1 thr':>12} {'R@1':>6} {'vs ST mean/min':>15} {'RSS MB':>7}"
    )
    print(header)
    print("-" * len(header))
    failed = 0
    for model_dir in args.models:
        if not (model_dir / "manifest.json").exists():
            print(f"skipped {model_dir}: not exported (see this script's docstring)")
            continue
        for cap in CAPS:
            cmd = [sys.executable, __file__, "--data", str(args.data)]
            cmd += ["--batch-size", str(args.batch_size), "--one", str(model_dir)]
            done = subprocess.run([*cmd, str(cap)], capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{model_dir} cap {cap} failed:\n{done.stderr}")
                failed += 1
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])

            def pair(p: list[float]) -> str:
                return f"{p[0]:.1f}/{p[1]:.1f}"

            print(
                f"{r['model_id']:<32} {r['file_mb']:>4.0f} {r['papers_per_s']:>8.1f} "
                f"{pair(r['quiet']):>11} {pair(r['loaded']):>13} {pair(r['with_job']):>11} "
                f"{pair(r['loaded_1_thread']):>12} {r['recall_at_1']:>6.3f} "
                f"{r['cos_mean']:>8.4f}/{r['cos_min']:.4f} {r['peak_mb']:>7.0f}"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
