"""Shared fixtures: a real SQLite store on tmp_path, test settings, paper factories."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from paperfeed.config import Settings
from paperfeed.models import Paper
from paperfeed.storage import SqliteStore, open_store

FIXTURES = Path(__file__).parent / "fixtures"
# The exported embedding model (`make model` writes it; `make test` runs after it).
MODEL_DIR = Path(
    os.environ.get("PAPERFEED_TEST_MODEL_DIR")
    or Path(__file__).resolve().parents[1] / "data/models/all-minilm-l6-v2"
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for tests: a database in tmp_path and short (but real) waits between requests."""
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'paperfeed.db'}",
        request_delay_s=0.05,
        max_retries=3,
        ingest_batch_size=50,
    )


@pytest.fixture
def store(settings: Settings):
    store = open_store(settings.database_url)
    assert isinstance(store, SqliteStore)
    yield store
    store.close()


def make_paper(paper_id: str = "2606.00001", **changes: object) -> Paper:
    """A plausible paper; pass fields to change."""
    paper = Paper(
        id=paper_id,
        title="Denoising Attention for Visual Tasks",
        abstract="We propose denoising attention.",
        authors=("Ron Campos", "Xin Li"),
        categories=("cs.CV", "cs.LG"),
        version=1,
        published=datetime(2026, 6, 25, 17, 59, tzinfo=UTC),
        listed=date(2026, 6, 26),
        source="jsonl",
    )
    return dataclasses.replace(paper, **changes)  # type: ignore[arg-type]


@pytest.fixture
def replay():
    """A running ReplayServer; add routes with `replay.route(path, Reply(...), **query)`."""
    from replay import ReplayServer

    server = ReplayServer().start()
    yield server
    server.stop()


class FakeEmbedder:
    """A deterministic bag-of-words embedder that implements the Embedder protocol.

    Texts sharing words get similar vectors, which is all the search tests need of meaning.
    """

    model_id = "fake/bag-of-words-64"
    dimensions = 64

    def __init__(self) -> None:
        self.texts_embedded = 0

    def embed(self, texts):
        import re
        import zlib

        import numpy as np

        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, zlib.crc32(word.encode()) % self.dimensions] += 1.0
            norm = np.linalg.norm(out[row])
            if norm == 0:
                out[row, 0], norm = 1.0, 1.0
            out[row] /= norm
        self.texts_embedded += len(texts)
        return out


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


# A small catalog for the web tests: real-looking papers on three days, one hostile.
WEB_PAPERS = [
    (
        "2606.10001",
        "Koopman operators for dynamical systems",
        date(2026, 6, 24),
        ("math.DS", "cs.LG"),
    ),
    ("2606.10002", "Learning nonlinear dynamics from data", date(2026, 6, 24), ("cs.LG",)),
    (
        "2606.10003",
        "LLaMA-3 fine-tuning recipes with $\\mathcal{O}(n)$ memory",
        date(2026, 6, 25),
        ("cs.CL",),
    ),
    (
        "2606.10004",
        "<script>alert(1)</script> \\emph{Chaotic} systems",
        date(2026, 6, 25),
        ("math.DS",),
    ),
    ("2606.10005", "Vision transformers at scale", date(2026, 6, 29), ("cs.CV",)),
    ("hep-th/9901001", "An old-style identifier paper", date(2026, 6, 29), ("hep-th",)),
]


@pytest.fixture
def web_client(store, settings, tmp_path, fake_embedder):
    """The real ASGI app (lifespan included) over the test store, with the fake embedder."""
    from fastapi.testclient import TestClient

    from paperfeed.models import Featured
    from paperfeed.search.keyword import KeywordIndex
    from paperfeed.search.searcher import Searcher
    from paperfeed.search.update import update_search
    from paperfeed.search.vector import VectorIndex
    from paperfeed.web.app import create_app

    store.upsert_papers(
        [
            make_paper(
                paper_id,
                title=title,
                abstract=f"{title}. We study <b>bold</b> claims & 'quotes' on {day}.",
                listed=day,
                categories=categories,
                authors=("Ada Lovelace", 'Robert "Bobby" Tables'),
            )
            for paper_id, title, day, categories in WEB_PAPERS
        ]
    )
    store.upsert_featured(
        [
            Featured("2606.10002", date(2026, 6, 24), "hf-daily", 12, 3, "akhaliq"),
            Featured("2606.10005", date(2026, 6, 29), "hf-daily", 4, 0, None),
        ]
    )
    searcher = Searcher(
        store,
        KeywordIndex(tmp_path / "keyword"),
        VectorIndex(fake_embedder.model_id, fake_embedder.dimensions),
        fake_embedder,
    )
    update_search(searcher)
    settings = dataclasses.replace(settings, base_url="https://papers.example.org")
    with TestClient(create_app(settings, store, searcher)) as client:
        yield client
