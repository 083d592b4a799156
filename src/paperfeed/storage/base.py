"""The storage interface every backend implements, and the errors it raises."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from paperfeed.models import CatalogStats, Featured, HarvestState, Paper, UpsertCounts


class StorageError(Exception):
    """The database cannot be used (bad URL, unreadable file, failed migration)."""


class PaperNotFound(LookupError):
    """No paper has the requested id."""

    def __init__(self, paper_id: str) -> None:
        super().__init__(f"no paper with id {paper_id!r}")
        self.paper_id = paper_id


class Store(Protocol):
    """All reads and writes of paperfeed's data; only implementations of this write SQL."""

    def migrate(self) -> list[str]:
        """Apply pending schema migrations; return the names applied (none when up to date)."""
        ...

    def close(self) -> None: ...

    def upsert_papers(self, papers: Sequence[Paper]) -> UpsertCounts:
        """Insert or merge papers by id in one transaction (see merge.merge_paper)."""
        ...

    def upsert_featured(self, entries: Sequence[Featured]) -> int:
        """Record featured days; the latest observation of (paper, source, day) wins."""
        ...

    def get_paper(self, paper_id: str) -> Paper:
        """The paper with this id; raises PaperNotFound."""
        ...

    def get_papers(self, paper_ids: Iterable[str]) -> dict[str, Paper]:
        """The papers among `paper_ids` that exist, by id."""
        ...

    def featured_for(self, paper_id: str) -> list[Featured]:
        """Every day this paper was featured, oldest first."""
        ...

    def count_papers(self) -> int: ...

    def catalog_stats(self) -> CatalogStats: ...

    def get_harvest_state(self, key: str) -> HarvestState | None: ...

    def save_harvest_state(self, state: HarvestState) -> None: ...
