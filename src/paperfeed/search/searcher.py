"""Answer a search: check it, rank through the pipeline, sort, page, highlight."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from paperfeed.config import Settings, files_dir
from paperfeed.embeddings import Embedder, EmbedderUnavailable, load_embedder
from paperfeed.models import NO_FILTERS, ListedPaper, Paper, SearchFilters
from paperfeed.search.candidates import Candidate
from paperfeed.search.highlight import Highlighter, Span
from paperfeed.search.keyword import KeywordIndex
from paperfeed.search.pipeline import Pipeline
from paperfeed.search.query import ParsedQuery, parse_query
from paperfeed.search.shared_vectors import SharedVectorIndex
from paperfeed.search.tuning import DEFAULT, Tuning
from paperfeed.search.vector import VectorIndex
from paperfeed.storage import PaperNotFound, StorageError, Store
from paperfeed.storage.base import SharedVectors
from paperfeed.storage.urls import database_name

log = logging.getLogger("paperfeed.search")

MODES = ("hybrid", "keyword", "vector")
SORTS = ("relevance", "date", "upvotes")
MAX_RESULTS = 1000  # how deep paging may go


class BadQuery(ValueError):
    """A search parameter is out of range (mode, sort, limit, offset)."""


@dataclass(frozen=True)
class Hit:
    """One result: the paper, its fused score and ranks, and where the query matched."""

    paper: Paper
    score: float
    keyword_rank: int | None = None
    vector_rank: int | None = None
    title_spans: tuple[Span, ...] = ()
    abstract_spans: tuple[Span, ...] = ()
    upvotes: int = 0
    pinned: str | None = None  # "id" or "author" when the query named this paper or its author
    listed: ListedPaper | None = None  # the paper as lists show it (its day, counts)


@dataclass(frozen=True)
class SearchResults:
    """A page of hits; `mode` is the ranking actually used, `notes` say what was adjusted."""

    query: ParsedQuery
    mode: str
    hits: list[Hit]
    notes: tuple[str, ...] = ()
    more: bool = False  # whether a next page may hold more


class Searcher:
    """Search over one store with its keyword index and, when a model is available, vectors."""

    def __init__(
        self,
        store: Store,
        keyword: KeywordIndex,
        vectors: VectorIndex | SharedVectorIndex | None = None,
        embedder: Embedder | None = None,
        tuning: Tuning = DEFAULT,
        unavailable: str | None = None,
    ) -> None:
        self.pipeline = Pipeline(store, keyword, vectors, embedder, tuning)
        self._unavailable = unavailable or "semantic search is not set up"
        # Moves whenever a refresh changes the indexes: answers built from search (results,
        # a paper's similar papers) are good while it stands still.
        self.generation = 0

    # The indexes and the model are the pipeline's; these name them for update.py and the CLI.
    @property
    def store(self) -> Store:
        return self.pipeline.store

    @property
    def keyword(self) -> KeywordIndex:
        return self.pipeline.keyword

    @property
    def vectors(self) -> VectorIndex | SharedVectorIndex | None:
        return self.pipeline.vectors

    @property
    def embedder(self) -> Embedder | None:
        return self.pipeline.embedder

    @property
    def tuning(self) -> Tuning:
        return self.pipeline.tuning

    @tuning.setter
    def tuning(self, tuning: Tuning) -> None:
        self.pipeline.tuning = tuning

    def refresh(self, rebuild: bool = False) -> tuple[int, int]:
        """Catch the indexes up with the store (or rebuild the keyword index from scratch);
        returns (papers indexed, vectors loaded)."""
        papers = self.keyword.rebuild(self.store) if rebuild else self.keyword.sync(self.store)
        vectors = self.vectors.sync(self.store) if self.vectors is not None else 0
        if papers or vectors or rebuild:
            self.generation += 1
        return papers, vectors

    @property
    def semantic(self) -> bool:
        return self.pipeline.semantic

    def search(
        self,
        text: str,
        *,
        limit: int = 20,
        offset: int = 0,
        mode: str = "hybrid",
        filters: SearchFilters = NO_FILTERS,
        sort: str = "relevance",
        highlight: bool = True,
    ) -> SearchResults:
        """Search for `text`; any text is a valid query (see query.py)."""
        _check(mode, sort, limit, offset)
        parsed = parse_query(text)
        notes = list(parsed.notes)
        if parsed.is_empty and not parsed.authors:
            return SearchResults(parsed, mode, [], (*notes, "type a few words to search"))
        if mode != "keyword" and not self.semantic:
            notes.append(f"{self._unavailable}; showing keyword matches")
            mode = "keyword"
        depth = min(offset + limit + 1, MAX_RESULTS + 1)
        # The rerank stage reads its papers as lists show them: most of them are on the page,
        # whose hits then need no second read of the same rows.
        listed = _ListedReads(self.store)
        ranked = self.pipeline.rank(parsed, mode, filters, depth, listed.papers)
        if sort != "relevance":
            ranked = self._sort(ranked, sort)
        page = ranked[offset : offset + limit]
        hits = self._hits(page, parsed if highlight else None, listed.read)
        return SearchResults(parsed, mode, hits, tuple(notes), more=len(ranked) > offset + limit)

    def _sort(self, ranked: list[Candidate], sort: str) -> list[Candidate]:
        if sort == "upvotes":
            votes = self.store.upvotes_for(c.pk for c in ranked)
            return sorted(ranked, key=lambda c: -votes.get(c.pk, 0))
        missing = [c.pk for c in ranked if c.paper is None]
        papers = self.store.papers_by_pk(missing) if missing else {}
        return sorted(ranked, key=lambda c: _day_key(c.paper or papers.get(c.pk)), reverse=True)

    def _hits(
        self,
        page: Sequence[Candidate],
        parsed: ParsedQuery | None,
        read: Mapping[int, ListedPaper] | None = None,
    ) -> list[Hit]:
        # One read for the page: each paper with its day and counts, as lists show it (those
        # in `read` were read by the rerank stage of this search).
        known = read or {}
        missing = [c.pk for c in page if c.pk not in known]
        listed = {**known, **self.store.listed_by_pk(missing)} if missing else known
        highlighter = Highlighter(parsed) if parsed is not None else None
        hits = []
        for candidate in page:
            item = listed.get(candidate.pk)
            if item is None:
                continue  # gone from the store since the index saw it
            paper = candidate.paper or item.paper
            hits.append(
                Hit(
                    paper=paper,
                    score=candidate.score,
                    keyword_rank=candidate.keyword_rank,
                    vector_rank=candidate.vector_rank,
                    title_spans=highlighter.spans(paper.title) if highlighter else (),
                    abstract_spans=highlighter.spans(paper.abstract) if highlighter else (),
                    upvotes=item.upvotes,
                    pinned=candidate.pinned,
                    listed=item,
                )
            )
        return hits

    def similar(
        self, paper_id: str, limit: int = 10, filters: SearchFilters = NO_FILTERS
    ) -> list[Hit]:
        """Papers nearest to `paper_id` in meaning (itself excluded); PaperNotFound if unknown.

        Without vectors (no model, or the paper not embedded yet) its title is searched.
        """
        _check("vector", "relevance", limit, 0)
        pk = self.store.pks_for_ids([paper_id]).get(paper_id)
        if pk is None:
            raise PaperNotFound(paper_id)
        vector = self.vectors.vector_of(pk) if self.vectors is not None else None
        if vector is None:
            paper = self.store.papers_by_pk([pk])[pk]
            ranked = self.pipeline.rank(parse_query(paper.title), "keyword", filters, limit + 1)
            return self._hits([c for c in ranked if c.pk != pk][:limit], None)
        return self._hits(self.pipeline.neighbours(pk, vector, limit, filters), None)


class _ListedReads:
    """The papers one search read, as lists show them (ListedPaper), kept for its page."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.read: dict[int, ListedPaper] = {}

    def papers(self, pks: Iterable[int]) -> dict[int, Paper]:
        """A pipeline.ReadPapers: the papers of `pks` that exist, read with their list data."""
        found = self.store.listed_by_pk(list(pks))
        self.read.update(found)
        return {pk: item.paper for pk, item in found.items()}


def _check(mode: str, sort: str, limit: int, offset: int) -> None:
    if mode not in MODES:
        raise BadQuery(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if sort not in SORTS:
        raise BadQuery(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    if not 1 <= limit <= MAX_RESULTS:
        raise BadQuery(f"limit must be between 1 and {MAX_RESULTS}")
    if not 0 <= offset <= MAX_RESULTS - limit:
        raise BadQuery(f"results are available up to the {MAX_RESULTS}th")


def _day_key(paper: Paper | None) -> str:
    day = paper.day if paper is not None else None
    return day.isoformat() if day else ""


def index_dir(settings: Settings) -> Path | None:
    """Where the search indexes live: PAPERFEED_INDEX_DIR, else <database name>.search/ in
    the data folder (config.files_dir); None (in memory) for an in-memory database."""
    if settings.index_dir:
        return Path(settings.index_dir)
    name = database_name(settings.database_url)
    return None if name is None else files_dir(settings) / f"{name}.search"


def open_searcher(
    settings: Settings, store: Store, embedder: Embedder | str | None = "auto"
) -> Searcher:
    """Wire a Searcher for `store`: its indexes on disk and the configured embedding model.

    With embedder="auto" the model is loaded if it has been exported; without one, searches
    fall back to keyword matching and say so. The indexes are not refreshed here.
    """
    folder = index_dir(settings)
    keyword = KeywordIndex(folder / "keyword" if folder else None)
    unavailable = None
    if embedder == "auto":
        try:
            embedder = load_embedder(settings)
        except EmbedderUnavailable as exc:
            log.info("%s", exc)
            unavailable = "semantic search is not available (no embedding model)"
            embedder = None
    model: Embedder | None = embedder if not isinstance(embedder, str) else None
    vectors: VectorIndex | SharedVectorIndex | None = None
    if model is not None and settings.vector_index == "pgvector":
        if not hasattr(store, "nearest_vectors"):
            raise StorageError("PAPERFEED_VECTOR_INDEX=pgvector needs a PostgreSQL database")
        vectors = SharedVectorIndex(cast(SharedVectors, store), model.model_id, model.dimensions)
    elif model is not None:
        slug = re.sub(r"[^A-Za-z0-9.-]+", "_", model.model_id)
        vectors = VectorIndex(
            model.model_id,
            model.dimensions,
            folder / "vectors" / slug if folder else None,
            threads=settings.embedding_threads,
        )
    return Searcher(store, keyword, vectors, model, unavailable=unavailable)
