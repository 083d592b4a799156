"""Locate the bundled sample of real arXiv papers that `make run` serves."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SAMPLE_FILE = "arxiv-cs-latest.jsonl.gz"
VECTORS_FILE = "arxiv-cs-latest.vectors.npz"
FEATURED_FILE = "hf-daily.json.gz"
KEYWORDS_FILE = "arxiv-cs-latest.keywords.json.gz"


def sample_path() -> Path:
    """The gzipped JSONL file of the sample (paperfeed's own schema)."""
    return Path(str(resources.files("paperfeed.sample") / SAMPLE_FILE))


def sample_vectors_path() -> Path:
    """Precomputed vectors of the sample (`paperfeed embed --export`): searchable at once."""
    return Path(str(resources.files("paperfeed.sample") / VECTORS_FILE))


def sample_featured_path() -> Path:
    """The Hugging Face daily-papers items of the sample's papers (their real featured days,
    upvotes and comment counts), so `make run` shows a real trending order."""
    return Path(str(resources.files("paperfeed.sample") / FEATURED_FILE))


def sample_keywords_path() -> Path:
    """Precomputed keyphrases of the sample (`paperfeed keywords --export`): computing them
    takes minutes (keywords/job.py), loading them a second."""
    return Path(str(resources.files("paperfeed.sample") / KEYWORDS_FILE))
