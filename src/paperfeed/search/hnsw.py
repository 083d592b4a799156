"""An approximate nearest-neighbour graph (usearch HNSW) over paper vectors, saved in a file.

Measured on the 74,728 real MiniLM vectors: exact numpy search takes 6-15 ms a query and about
95-180 ms at 1,000,000; this graph (float16, connectivity 16, expansion 128) answers in under a
millisecond with recall@10 0.995 against exact search. Building it is the slow part (about 20-40 s
for 74,728 on 2 cores), so it is saved beside the keyword index and updated incrementally.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from usearch.index import Index

log = logging.getLogger("paperfeed.search")

CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 128


@dataclass(frozen=True, order=True)
class GraphState:
    """Which vectors a saved graph holds: those of database `instance` up to (rev, pk)."""

    rev: int
    pk: int
    instance: str

    @property
    def file_name(self) -> str:
        return f"hnsw-{self.instance}-{self.rev:012d}-{self.pk:012d}.usearch"


_FILE = re.compile(r"^hnsw-([0-9a-f]+)-(\d{12})-(\d{12})\.usearch$")


class HnswGraph:
    """The graph of one model's vectors, saved in `folder` (in memory only when it is None).

    The file name carries the state (database instance and the last revision in the graph),
    so two processes saving at once can never pair a graph with another graph's state.
    """

    def __init__(self, dimensions: int, folder: Path | None, threads: int = 0) -> None:
        self.dimensions = dimensions
        self.folder = folder
        self.threads = threads
        self.state: GraphState | None = None
        self._index = self._new()

    def _new(self) -> Index:
        return Index(
            ndim=self.dimensions,
            metric="ip",
            dtype="f16",
            connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD,
            expansion_search=EXPANSION_SEARCH,
        )

    def __len__(self) -> int:
        return len(self._index)

    def _saved(self, instance: str) -> list[tuple[GraphState, Path]]:
        if self.folder is None or not self.folder.exists():
            return []
        found = []
        for path in self.folder.iterdir():
            match = _FILE.match(path.name)
            if match and match.group(1) == instance:
                found.append((GraphState(int(match.group(2)), int(match.group(3)), instance), path))
        return sorted(found)

    def load(self, instance: str) -> GraphState | None:
        """Load the newest graph saved for database `instance`; None if there is none usable."""
        for state, path in reversed(self._saved(instance)):
            index = self._new()
            try:
                index.load(str(path))
            except (OSError, RuntimeError, ValueError) as exc:
                log.warning("vector graph %s unreadable (%s); skipped", path, exc)
                continue
            if index.ndim != self.dimensions:
                continue
            self._index, self.state = index, state
            return state
        self.reset()
        return None

    def reset(self) -> None:
        self._index = self._new()
        self.state = None

    def upsert(self, pks: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under their pks, replacing any vector a pk had."""
        if len(pks) == 0:
            return
        present = [int(pk) for pk in pks if int(pk) in self._index]
        if present:
            self._index.remove(present)
        self._index.add(pks, vectors, threads=self.threads)

    def save(self, state: GraphState) -> None:
        """Write the graph as the file `state` names, then drop older files."""
        self.state = state
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / state.file_name
        tmp = self.folder / f".{state.file_name}.{os.getpid()}.tmp"
        self._index.save(str(tmp))
        os.replace(tmp, target)
        for path in self.folder.iterdir():
            if _FILE.match(path.name) and path != target:
                path.unlink(missing_ok=True)

    def search(self, query: np.ndarray, limit: int) -> list[tuple[int, float]]:
        """(pk, cosine) of about the `limit` nearest vectors, best first."""
        if len(self._index) == 0 or limit <= 0:
            return []
        # usearch has a setter here; its type hints say otherwise.
        self._index.expansion_search = max(EXPANSION_SEARCH, limit)  # type: ignore[misc]
        matches = self._index.search(query, min(limit, len(self._index)))
        return [
            (int(key), 1.0 - float(distance))
            for key, distance in zip(matches.keys, matches.distances, strict=True)
        ]
