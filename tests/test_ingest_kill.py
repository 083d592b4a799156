"""SIGKILL a real `paperfeed ingest` mid-run; the rerun loses nothing and repeats nothing."""

import json
import os
import signal
import subprocess
import sys
import time

from conftest import query_one

TOTAL = 20_000


def _count(store) -> int:
    return query_one(store, "SELECT count(*) FROM papers")


def _ingest(store, path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PAPERFEED_DATABASE_URL": store.url,
        "PAPERFEED_DATA_DIR": str(path.parent),
        "PAPERFEED_INGEST_BATCH_SIZE": "250",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "ingest", "--no-embed", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_killing_an_ingest_midway_loses_nothing_and_duplicates_nothing(tmp_path, store):
    path = tmp_path / "big.jsonl"
    with path.open("w") as handle:
        for n in range(TOTAL):
            record = {
                "id": f"2606.{n:05d}",
                "title": f"Paper {n}",
                "abstract": f"Abstract of paper {n}. " * 10,
                "authors": ["A. Author"],
                "categories": ["cs.LG"],
                "published": "2026-06-26",
            }
            handle.write(json.dumps(record) + "\n")
    counts_at_kill = []
    for _ in range(3):
        before = _count(store)
        process = _ingest(store, path)
        deadline = time.monotonic() + 60
        while _count(store) <= before and time.monotonic() < deadline:
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait()
        counts_at_kill.append(_count(store))
    assert 0 < counts_at_kill[0] < TOTAL, counts_at_kill
    assert counts_at_kill[-1] < TOTAL, "the ingest finished before it could be killed"
    final = _ingest(store, path)
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err
    added = TOTAL - counts_at_kill[-1]
    summary = f"added {added}, updated 0, unchanged {TOTAL - added}, skipped 0"
    assert out.splitlines()[0] == summary
    assert _count(store) == query_one(store, "SELECT count(DISTINCT id) FROM papers") == TOTAL
    if store.url.startswith("sqlite:"):
        assert query_one(store, "PRAGMA integrity_check") == "ok"
