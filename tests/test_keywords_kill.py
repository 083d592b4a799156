"""SIGKILL a real `paperfeed keywords` mid-run (the exported model, sample papers with their
shipped vectors); the rerun does the rest, and nothing is done twice or lost."""

import gzip
import itertools
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import MODEL_DIR, query_one
from paperfeed.config import Settings
from paperfeed.embeddings import read_manifest
from paperfeed.ingest.pipeline import ingest_sources
from paperfeed.keywords.job import keyword_method
from paperfeed.sample import sample_path, sample_vectors_path
from paperfeed.vector_files import import_vectors

PAPERS = 40


def _run(store, tmp_path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PAPERFEED_DATABASE_URL": store.url,
        "PAPERFEED_DATA_DIR": str(tmp_path),
        "PAPERFEED_MODEL_DIR": str(MODEL_DIR),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "keywords", "--batch", "8"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_killing_the_keyword_job_midway_loses_nothing_and_repeats_nothing(
    tmp_path, store, settings
):
    if not (MODEL_DIR / "manifest.json").exists():
        pytest.skip(f"no exported model at {MODEL_DIR}: run `make model`")
    manifest = read_manifest(MODEL_DIR)
    model = f"{manifest.model}/{manifest.variant}/{Settings().embedding_max_tokens}"
    method = keyword_method(model)
    source = tmp_path / "some.jsonl"
    with gzip.open(sample_path(), "rt") as lines:
        source.write_text("".join(itertools.islice(lines, PAPERS)))
    ingest_sources(store, [str(source)], settings)
    assert import_vectors(store, sample_vectors_path(), model)[0] == PAPERS

    at_kill = []
    for _ in range(2):
        before = store.count_keywords(method)
        process = _run(store, tmp_path)
        deadline = time.monotonic() + 60
        while store.count_keywords(method) <= before and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        at_kill.append(store.count_keywords(method))
    assert 0 < at_kill[0] <= at_kill[1] < PAPERS, at_kill

    final = _run(store, tmp_path)
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err
    assert out.startswith(f"keyphrases for {PAPERS - at_kill[1]} papers")
    assert store.count_keywords(method) == PAPERS
    assert query_one(store, "SELECT count(*) FROM paper_keywords") == PAPERS
    ids = [paper.id for _, _, paper in store.changed_papers((0, 0), PAPERS)]
    found = store.keywords_for_ids(ids)
    assert len(found) == PAPERS and all(1 <= len(phrases) <= 5 for phrases in found.values())

    again = _run(store, tmp_path)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert out.startswith("keyphrases for 0 papers")
    assert store.keywords_for_ids(ids) == found
