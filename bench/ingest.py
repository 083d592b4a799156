"""Benchmark: ingest the 74,728-paper arxiv-cs-daily dump into a fresh SQLite store, twice.

Run with `make bench-ingest` (or `.venv/bin/python bench/ingest.py [PATH]`). Prints the time of the
first ingest (all inserts) and of the second (all unchanged), papers/s, peak memory and DB size.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from machine import describe
from paperfeed.config import Settings
from paperfeed.ingest.pipeline import ingest_sources
from paperfeed.storage import open_store

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/arxiv-cs-daily/papers.jsonl.gz"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    if not args.path.exists():
        print(f"skipped: {args.path} not found (the shared data set is not on this machine)")
        return 0
    print(f"machine: {describe(f'SQLite {sqlite3.sqlite_version}')}")
    print(f"input:   {args.path} ({args.path.stat().st_size / 1e6:.1f} MB)")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        settings = Settings(database_url=f"sqlite:///{db}")
        store = open_store(settings.database_url)
        for label in ("first ingest (inserts)", "second ingest (unchanged)"):
            start = time.perf_counter()
            report = ingest_sources(store, [str(args.path)], settings)
            elapsed = time.perf_counter() - start
            rate = report.read / elapsed if elapsed else 0.0
            print(f"{label:<26} {elapsed:6.1f} s  {rate:8,.0f} papers/s  {report.summary()}")
        print(f"papers in store: {store.count_papers():,}")
        store.close()
        print(f"database size:   {db.stat().st_size / 1e6:.1f} MB")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory:     {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
