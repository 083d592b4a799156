"""Answer a search: run the keyword and vector rankings, fuse them, sort, page, highlight."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from paperfeed.config import Settings, files_dir
from paperfeed.embeddings import Embedder, EmbedderUnavailable, load_embedder
from paperfeed.models import NO_FILTERS, Paper, SearchFilters
from paperfeed.search.fusion import reciprocal_rank_fusion
from paperfeed.search.highlight import Highlighter, Span
from paperfeed.search.keyword import KeywordIndex
from paperfeed.search.query import ParsedQuery, parse_query
from paperfeed.search.shared_vectors import SharedVectorIndex
from paperfeed.search.vector import VectorIndex
from paperfeed.storage import PaperNotFound, StorageError, Store
from paperfeed.storage.base import SharedVectors
from paperfeed.storage.urls import database_name

log = logging.getLogger("paperfeed.search")

MODES = ("hybrid", "keyword", "vector")
SORTS = ("relevance", "date", "upvotes")
CANDIDATES = 100  # papers each ranking contributes to the fusion
MAX_RESULTS = 1000  # how deep paging may go
MAX_CONSTRAINED = 50_000  # papers a phrase or filter may keep for the vector ranking
# Fusion, tuned on the SciFact train queries (bench/search_quality.py --tune): every k from 5 to
# 100 did best with keyword weighted over vector; k=20, 1.5:1 scored 0.725 against the best 0.730
# (k=5, 2:1) and held up better on CACM and Cranfield (0.486 and 0.421 against 0.455 and 0.415).
RRF_K = 20.0
RRF_WEIGHTS = (1.5, 1.0)  # (keyword, vector)


class BadQuery(ValueError):
    """A search parameter is out of range (mode, sort, limit, offset)."""


# (pk, fused score, keyword rank, vector rank, cosine of query and paper)
Ranked = tuple[int, float, int | None, int | None, float | None]


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
        rrf_k: float = RRF_K,
        weights: tuple[float, float] = RRF_WEIGHTS,
        unavailable: str | None = None,
    ) -> None:
        self.store = store
        self.keyword = keyword
        self.vectors = vectors if embedder is not None else None
        self.embedder = embedder
        self.rrf_k = rrf_k
        self.weights = weights
        self._unavailable = unavailable or "semantic search is not set up"

    def refresh(self, rebuild: bool = False) -> tuple[int, int]:
        """Catch the indexes up with the store (or rebuild the keyword index from scratch);
        returns (papers indexed, vectors loaded)."""
        papers = self.keyword.rebuild(self.store) if rebuild else self.keyword.sync(self.store)
        vectors = self.vectors.sync(self.store) if self.vectors is not None else 0
        return papers, vectors

    @property
    def semantic(self) -> bool:
        return self.vectors is not None and len(self.vectors) > 0

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
        if parsed.is_empty:
            return SearchResults(parsed, mode, [], (*notes, "type a few words to search"))
        if mode != "keyword" and not self.semantic:
            notes.append(f"{self._unavailable}; showing keyword matches")
            mode = "keyword"
        depth = min(max(CANDIDATES, offset + limit + 1), MAX_RESULTS + 1)
        ranked = self._rank(parsed, mode, filters, depth)
        if sort != "relevance":
            ranked = self._sort(ranked, sort)
        page = ranked[offset : offset + limit]
        hits = self._hits(page, parsed if highlight else None)
        return SearchResults(parsed, mode, hits, tuple(notes), more=len(ranked) > offset + limit)

    def _rank(
        self, parsed: ParsedQuery, mode: str, filters: SearchFilters, depth: int
    ) -> list[Ranked]:
        """(pk, score, keyword rank, vector rank, cosine), best first."""
        keyword = self.keyword.search(parsed, depth, filters) if mode != "vector" else []
        if mode == "keyword" or self.vectors is None or self.embedder is None:
            return [(pk, score, rank, None, None) for rank, (pk, score) in enumerate(keyword, 1)]
        allowed = self.keyword.matching_pks(parsed, filters, MAX_CONSTRAINED)
        query_vector = self.embedder.embed([parsed.semantic_text])[0]
        vector = self.vectors.search(query_vector, depth, allowed=allowed)
        if mode == "vector":
            return [(pk, score, None, rank, score) for rank, (pk, score) in enumerate(vector, 1)]
        return self._fuse(keyword, vector)

    def _fuse(
        self, keyword: list[tuple[int, float]], vector: list[tuple[int, float]]
    ) -> list[Ranked]:
        keyword_ranks = {pk: rank for rank, (pk, _) in enumerate(keyword, 1)}
        vector_ranks = {pk: rank for rank, (pk, _) in enumerate(vector, 1)}
        cosines = dict(vector)
        fused = reciprocal_rank_fusion(
            [pk for pk, _ in keyword], [pk for pk, _ in vector], k=self.rrf_k, weights=self.weights
        )
        return [
            (pk, score, keyword_ranks.get(pk), vector_ranks.get(pk), cosines.get(pk))
            for pk, score in fused
        ]

    def rank_many(
        self, texts: Sequence[str], filters: SearchFilters, depth: int = CANDIDATES
    ) -> list[list[Ranked]]:
        """Hybrid rankings of many queries over the papers `filters` keep (the digest's topics
        over a day's papers): one embedding batch and one matrix product for all of them, and
        no papers fetched. Each ranking lists (pk, fused score, keyword rank, vector rank,
        cosine), best first."""
        parsed = [parse_query(text) for text in texts]
        vectors: list[list[tuple[int, float]]] = [[] for _ in parsed]
        allowed = self.keyword.matching_pks(parse_query(""), filters, MAX_CONSTRAINED)
        if self.vectors is not None and self.embedder is not None and allowed is not None:
            wanted = [i for i, p in enumerate(parsed) if not p.is_empty]
            if wanted:
                matrix = self.embedder.embed([parsed[i].semantic_text for i in wanted])
                for i, found in zip(
                    wanted, self.vectors.search_many(matrix, depth, allowed), strict=True
                ):
                    vectors[i] = found
        out: list[list[Ranked]] = []
        for query, vector in zip(parsed, vectors, strict=True):
            keyword = self.keyword.search(query, depth, filters) if not query.is_empty else []
            out.append(self._fuse(keyword, vector))
        return out

    def _sort(self, ranked: list[Ranked], sort: str) -> list[Ranked]:
        pks = [row[0] for row in ranked]
        if sort == "upvotes":
            votes = self.store.upvotes_for(pks)
            return sorted(ranked, key=lambda row: -votes.get(row[0], 0))
        papers = self.store.papers_by_pk(pks)
        return sorted(ranked, key=lambda row: _day_key(papers.get(row[0])), reverse=True)

    def _hits(
        self,
        page: Sequence[Ranked],
        parsed: ParsedQuery | None,
    ) -> list[Hit]:
        pks = [row[0] for row in page]
        papers = self.store.papers_by_pk(pks)
        votes = self.store.upvotes_for(pks)
        highlighter = Highlighter(parsed) if parsed is not None else None
        hits = []
        for pk, score, keyword_rank, vector_rank, _ in page:
            paper = papers.get(pk)
            if paper is None:
                continue  # gone from the store since the index saw it
            hits.append(
                Hit(
                    paper=paper,
                    score=score,
                    keyword_rank=keyword_rank,
                    vector_rank=vector_rank,
                    title_spans=highlighter.spans(paper.title) if highlighter else (),
                    abstract_spans=highlighter.spans(paper.abstract) if highlighter else (),
                    upvotes=votes.get(pk, 0),
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
        if vector is None or self.vectors is None:
            paper = self.store.papers_by_pk([pk])[pk]
            ranked = [
                row
                for row in self._rank(parse_query(paper.title), "keyword", filters, limit + 1)
                if row[0] != pk
            ]
            return self._hits(ranked[:limit], None)
        allowed = None
        if filters.active:
            allowed = self.keyword.matching_pks(parse_query(""), filters, MAX_CONSTRAINED)
        found = self.vectors.search(vector, limit, allowed=allowed, exclude=pk)
        return self._hits(
            [(pk_, score, None, rank, score) for rank, (pk_, score) in enumerate(found, 1)], None
        )


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
    if paper is None:
        return ""
    day = paper.listed or (paper.published.date() if paper.published else None)
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
