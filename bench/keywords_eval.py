"""Benchmark: how often the keyphrases paperfeed picks occur in their paper's own text, how many
each paper gets and how long picking takes, and a spot check of a few papers.

Run with `make bench-keywords` (or `.venv/bin/python bench/keywords_eval.py [--papers 500]
[--seed 7] [--spot 10]`).

Papers: a random sample of `--papers` from ../shared/data/arxiv-cs-daily (74,728 arXiv CS
papers) when it is there, else from the bundled sample (3,292). Each is embedded with the
shipped model ("title. abstract", as `paperfeed embed` does) and given its keyphrases by the
job.s own function (keywords/job.py keyphrases_for, 64 papers a call, as the job does). Reported:

- verbatim: the share of keyphrases that occur, ignoring case, in the title or the abstract;
- in the title: the share that occur in the title;
- per paper: the mean number of keyphrases, and how many papers got none;
- shared: the share of keyphrases some other paper of the sample also got;
- time per paper: picking (candidates, embedding them, MMR), the paper's own vector apart.

Then the spot check: `--spot` random papers of the sample with their keyphrases, to read.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

from machine import describe
from paperfeed.config import Settings
from paperfeed.embeddings import load_embedder, paper_text
from paperfeed.keywords.job import KEYWORDS_BATCH, keyphrases_for
from paperfeed.models import Paper
from paperfeed.sample import sample_path
from paperfeed.text import clean_text

REPO = Path(__file__).resolve().parents[1]
ARXIV = REPO.parent / "shared" / "data" / "arxiv-cs-daily" / "papers.jsonl.gz"
MODEL_DIR = REPO / "data" / "models" / "all-minilm-l6-v2"


def read_papers(path: Path) -> list[Paper]:
    """Every paper of a JSONL dump, title and abstract cleaned as ingest cleans them."""
    papers = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            papers.append(
                Paper(
                    id=str(record["id"]),
                    title=clean_text(record.get("title")),
                    abstract=clean_text(record.get("abstract")),
                )
            )
    return papers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=500, help="papers to sample")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--spot", type=int, default=10, help="papers to print for reading")
    args = parser.parse_args()
    if not (MODEL_DIR / "manifest.json").exists():
        print(f"no exported model at {MODEL_DIR}: run `make model`", file=sys.stderr)
        return 1
    source = ARXIV if ARXIV.exists() else sample_path()
    everything = read_papers(source)
    rng = random.Random(args.seed)
    papers = rng.sample(everything, min(args.papers, len(everything)))
    embedder = load_embedder(Settings(model_dir=str(MODEL_DIR)))
    print(describe(f"model {embedder.model_id}"))
    print(f"{len(papers)} papers drawn (seed {args.seed}) from {source} ({len(everything):,})")

    vectors = embedder.embed([paper_text(p.title, p.abstract) for p in papers])
    picked: list[list[str]] = []
    started = time.perf_counter()
    for start in range(0, len(papers), KEYWORDS_BATCH):
        chunk = list(
            zip(
                papers[start : start + KEYWORDS_BATCH],
                vectors[start : start + KEYWORDS_BATCH],
                strict=True,
            )
        )
        picked += keyphrases_for(embedder, chunk)
    seconds = time.perf_counter() - started

    total = sum(len(found) for found in picked)
    verbatim = in_title = 0
    for paper, found in zip(papers, picked, strict=True):
        title, abstract = paper.title.lower(), paper.abstract.lower()
        for phrase in found:
            key = phrase.lower()
            verbatim += key in title or key in abstract
            in_title += key in title
    counts = Counter(phrase.lower() for found in picked for phrase in set(found))
    shared = sum(1 for found in picked for phrase in found if counts[phrase.lower()] > 1)
    print(f"keyphrases: {total:,}, {total / len(papers):.2f} a paper")
    print(f"  occur in the title or abstract (ignoring case): {verbatim / total:.1%}")
    print(f"  occur in the title: {in_title / total:.1%}")
    print(f"  papers with none: {sum(1 for found in picked if not found)}")
    print(f"  shared with another paper of the sample: {shared / total:.1%}")
    print(f"time per paper: {1000 * seconds / len(papers):.0f} ms ({len(papers) / seconds:.1f}/s)")

    print(f"\nspot check: {args.spot} papers")
    for index in rng.sample(range(len(papers)), min(args.spot, len(papers))):
        print(f"- {papers[index].id} {papers[index].title}")
        print(f"    {' · '.join(picked[index])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
