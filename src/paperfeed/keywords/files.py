"""Save and load precomputed keyphrases (.json.gz), such as those shipped with the sample.

A file names the method that made them and, per paper, its id, the content hash of the text
they were picked from and the phrases. Loading keeps a paper's phrases only if the method is
this store's and the paper has a current vector of that same text, so a stale file never
installs phrases of another text; papers whose keyphrases are current are left alone.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from paperfeed.storage import Store

FILE_FORMAT = 1
_BATCH = 1000


class BadKeywordFile(ValueError):
    """The file is not a paperfeed keyphrase file."""


def write_keywords(path: Path, method: str, store: Store) -> int:
    """Write every paper's keyphrases made by `method` to `path` (gzipped JSON); how many."""
    entries = []
    after = 0
    while rows := store.stored_keywords(method, after, _BATCH):
        entries += [
            {"id": paper_id, "content_hash": digest, "keywords": phrases}
            for _, paper_id, digest, phrases in rows
        ]
        after = rows[-1][0]
    document = {"format": FILE_FORMAT, "method": method, "papers": entries}
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump(document, handle, ensure_ascii=False, separators=(",", ":"))
    return len(entries)


def _read(path: Path) -> dict[str, Any]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError) as exc:
        raise BadKeywordFile(f"{path}: not a gzipped JSON keyphrase file ({exc})") from exc
    if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
        raise BadKeywordFile(f"{path}: not a keyphrase file of format {FILE_FORMAT}")
    return document


def load_keywords(store: Store, path: Path, model: str, method: str) -> tuple[int, int]:
    """Store the file's keyphrases for the papers that need them and have a current `model`
    vector of the text they were picked from. Returns (loaded, skipped); a file made by
    another method loads nothing."""
    document = _read(path)
    entries = document.get("papers") or []
    if document.get("method") != method:
        return 0, len(entries)
    by_id = {
        str(entry["id"]): entry
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("keywords"), list)
    }
    loaded = 0
    after = 0
    while todo := store.papers_for_keywords(model, method, after, _BATCH):
        rows = []
        for pk, digest, paper, _ in todo:
            entry = by_id.get(paper.id)
            if entry is not None and entry.get("content_hash") == digest:
                rows.append((pk, digest, [str(phrase) for phrase in entry["keywords"]]))
        loaded += store.save_keywords(method, rows)
        after = todo[-1][0]
    return loaded, len(entries) - loaded
