"""The search commands end to end, with the real exported model."""

import json

import pytest
from click.testing import CliRunner

from conftest import FIXTURES, MODEL_DIR
from paperfeed.cli import cli


@pytest.fixture
def run(settings):
    if not (MODEL_DIR / "manifest.json").exists():
        pytest.skip(f"no exported model at {MODEL_DIR}: run `make model`")
    runner = CliRunner()
    env = {
        "PAPERFEED_DATABASE_URL": settings.database_url,
        "PAPERFEED_DATA_DIR": settings.data_dir,
        "PAPERFEED_MODEL_DIR": str(MODEL_DIR),
    }

    def invoke(*args: str):
        return runner.invoke(cli, list(args), env=env)

    return invoke


@pytest.fixture
def sample(run):
    result = run("ingest", "--sample")
    assert result.exit_code == 0, result.output
    # The shipped vectors fit the model: nothing had to be embedded.
    assert "embedded 0, unchanged 0" in result.stdout
    assert "indexed 3292 papers" in result.stdout
    # And their keyphrases come precomputed too.
    assert "loaded keyphrases of 3292 papers; keyphrases for 0 papers" in result.stdout
    return run


def test_search_prints_ranked_papers_with_both_rankings(sample):
    result = sample("search", "dynamical systems", "--limit", "3")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("  1. ")
    assert "keyword #" in result.stdout and "semantic #" in result.stdout
    assert sum(line[:5].strip().endswith(".") for line in lines if line[:5].strip()) == 3


def test_search_json_carries_scores_filters_and_highlights(sample):
    result = sample(
        "search",
        "video diffusion",
        "--json",
        "--limit",
        "5",
        "--category",
        "cs.CV",
        "--since",
        "2026-06-20",
    )
    data = json.loads(result.stdout)
    assert data["mode"] == "hybrid"
    assert len(data["hits"]) == 5
    for hit in data["hits"]:
        assert "cs.CV" in hit["categories"]
        assert hit["listed"] >= "2026-06-20"
    marked = [
        hit["abstract"][a:b].lower()
        for hit in data["hits"]
        for a, b in hit["highlights"]["abstract"]
    ]
    assert {"video", "diffusion"} & set(marked)


def test_modes_and_odd_queries(sample):
    for mode in ("keyword", "vector"):
        data = json.loads(sample("search", "protein folding", "--mode", mode, "--json").stdout)
        assert data["mode"] == mode
    for text in ['"', "((", "AND OR", "🚀", "x" * 10_000, "-"]:
        result = sample("search", text)
        assert result.exit_code == 0, (text, result.output)
    assert sample("search", "x", "--mode", "psychic").exit_code == 2
    assert sample("search").exit_code == 2


def test_batch_queries_write_a_trec_run(sample, tmp_path):
    queries = tmp_path / "queries.jsonl"
    queries.write_text(
        '{"id": "q1", "text": "large language model reasoning"}\n'
        "not json\n"
        '{"_id": "q2", "text": "robot grasping", "metadata": {}}\n'  # BEIR's spelling
    )
    result = sample("search", "--queries", str(queries), "--limit", "7", "--trec", "--tag", "t")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 14
    first = lines[0].split()
    assert first[0] == "q1" and first[1] == "Q0" and first[3] == "1" and first[5] == "t"
    assert lines[7].split()[0] == "q2"
    scores = [float(line.split()[4]) for line in lines[:7]]
    assert scores == sorted(scores, reverse=True)
    assert "2: skipped" in result.stderr


def test_similar_lists_neighbours_but_not_the_paper(sample):
    result = sample("similar", "2606.27372", "--json", "--limit", "5")
    hits = json.loads(result.stdout)
    assert len(hits) == 5
    assert "2606.27372" not in [hit["id"] for hit in hits]
    assert all(hit["vector_rank"] == rank for rank, hit in enumerate(hits, 1))
    assert sample("similar", "2606.99999").exit_code == 1


def test_embed_and_index_catch_up_after_an_ingest_without_embedding(run):
    result = run("ingest", "--no-embed", str(FIXTURES / "atom_id_list.xml"))
    assert "indexed 3 papers" in result.stdout
    embedded = run("embed")
    assert embedded.exit_code == 0, embedded.output
    assert embedded.stdout.startswith("embedded 3, unchanged 0")
    assert run("embed").stdout.startswith("embedded 0, unchanged 0")
    index = run("index", "--rebuild")
    assert "3 papers (re)indexed, 3 in all; vectors: 3 vectors" in index.stdout
    hits = json.loads(run("search", "fuzzing cyber-physical", "--json").stdout)["hits"]
    assert hits[0]["id"] == "2005.14124"


def test_embed_run_three_times_at_once_embeds_each_paper_once(settings, store):
    """Three `paperfeed embed` processes side by side share the work through their claims."""
    import re
    import subprocess
    import sys

    from conftest import make_paper, query_one

    if not (MODEL_DIR / "manifest.json").exists():
        pytest.skip(f"no exported model at {MODEL_DIR}: run `make model`")
    store.upsert_papers(
        [make_paper(f"2606.{n:05d}", title=f"Paper {n} on topic {n % 7}") for n in range(150)]
    )
    env = {
        **__import__("os").environ,
        "PAPERFEED_DATABASE_URL": settings.database_url,
        "PAPERFEED_DATA_DIR": settings.data_dir,
        "PAPERFEED_MODEL_DIR": str(MODEL_DIR),
    }
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "paperfeed", "embed", "--batch", "5"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    counts = [int(re.match(r"embedded (\d+)", out).group(1)) for out, _ in outputs]
    assert sum(counts) == 150, outputs
    assert sum(1 for count in counts if count) > 1, counts  # not one run doing it all
    assert query_one(store, "SELECT count(DISTINCT paper_pk) FROM embeddings") == 150
    assert query_one(store, "SELECT count(*) FROM embed_claims") == 0


def test_a_pasted_id_and_an_author_say_why_they_come_first(sample):
    result = sample("search", "arXiv:2606.24824", "--limit", "2")
    assert result.exit_code == 0, result.output
    assert "2606.24824" in result.stdout.split("\n\n")[0]
    assert "the paper you named" in result.stdout
    data = json.loads(sample("search", "Tailin Wu", "--json", "--limit", "3").stdout)
    assert [hit["pinned"] for hit in data["hits"][:2]] == ["author", "author"]
