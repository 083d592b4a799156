"""The ranking pipeline: gather named rankings, fuse them, read the best papers and rerank them.

Search, similar papers, the digest's topics and the TREC batch mode all rank through here, so a
change to ranking shows in every one of them and in `bench/search_quality.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

from paperfeed.embeddings import Embedder
from paperfeed.models import NO_FILTERS, Paper, SearchFilters
from paperfeed.search.candidates import Candidate, Ranking
from paperfeed.search.fusion import fuse
from paperfeed.search.keyword import KeywordIndex
from paperfeed.search.query import ParsedQuery, parse_query, with_authors
from paperfeed.search.refs import find_refs
from paperfeed.search.rerank import PINS, rerank
from paperfeed.search.resolve import lookup_ref
from paperfeed.search.shared_vectors import SharedVectorIndex
from paperfeed.search.tuning import AUTHOR, DEFAULT, KEYWORD, REF, VECTOR, Tuning
from paperfeed.search.vector import VectorIndex
from paperfeed.storage import Store

MAX_CONSTRAINED = 50_000  # papers a phrase or filter may keep for the vector ranking

PINNING = frozenset(name for name, _ in PINS)  # rankings whose papers the rerank stage must see

# Reads papers by pk (the store's papers_by_pk, or papers the caller already holds).
ReadPapers = Callable[[Iterable[int]], Mapping[int, Paper]]


class Pipeline:
    """Rank papers for a query over one store, its keyword index and (optionally) vectors."""

    def __init__(
        self,
        store: Store,
        keyword: KeywordIndex,
        vectors: VectorIndex | SharedVectorIndex | None,
        embedder: Embedder | None,
        tuning: Tuning = DEFAULT,
    ) -> None:
        self.store = store
        self.keyword = keyword
        self.vectors = vectors if embedder is not None else None
        self.embedder = embedder
        self.tuning = tuning

    @property
    def semantic(self) -> bool:
        return self.vectors is not None and len(self.vectors) > 0

    def rank(
        self,
        parsed: ParsedQuery,
        mode: str,
        filters: SearchFilters,
        depth: int,
        read: ReadPapers | None = None,
    ) -> list[Candidate]:
        """Candidates for `parsed`, best first: each ranking `mode` asks for reaches `depth`
        papers (at least tuning.candidates), and the first tuning.rerank_depth are reranked.

        Papers an id, URL or DOI in the query names form the "ref" ranking, and the rest of
        the query is ranked as usual (a query that is only an id lists papers like that one);
        an author named in full forms the "author" ranking; `author:` filters.
        """
        depth = max(depth, self.tuning.candidates)
        refs = find_refs(parsed.text)
        query = parse_query(refs.rest) if refs.count else parsed
        filters = with_authors(filters, query)
        rankings: dict[str, Ranking] = {}
        named = lookup_ref(self.store, self.keyword, refs) if refs.count else []
        if named:
            rankings[REF] = [(pk, 1.0) for pk in named]
        if not query.is_empty:
            rankings.update(self._text_rankings(query, mode, filters, depth))
            authors = self.keyword.author_names_in(query.words)
            if authors:
                found = self.keyword.author_pks(authors, filters, depth)
                rankings[AUTHOR] = [(pk, 1.0) for pk in found]
        elif query.authors:
            rankings[AUTHOR] = [(pk, 1.0) for pk in self.keyword.newest_pks(filters, depth)]
        elif named and self.vectors is not None:
            vector = self.vectors.vector_of(named[0])
            if vector is not None:
                rankings[VECTOR] = self._nearest(vector, depth, filters, exclude=named[0])
        return self.finish(fuse(rankings, self.tuning), query, read)

    def _text_rankings(
        self, parsed: ParsedQuery, mode: str, filters: SearchFilters, depth: int
    ) -> dict[str, Ranking]:
        """The keyword and vector rankings of the query's text, as `mode` asks."""
        rankings: dict[str, Ranking] = {}
        if mode != "vector":
            rankings[KEYWORD] = self.keyword.search(parsed, depth, filters)
        if mode != "keyword" and self.vectors is not None and self.embedder is not None:
            allowed = self.keyword.matching_pks(parsed, filters, MAX_CONSTRAINED)
            query_vector = self.embedder.embed([parsed.semantic_text])[0]
            rankings[VECTOR] = self.vectors.search(query_vector, depth, allowed=allowed)
        return rankings

    def _nearest(
        self, vector: np.ndarray, limit: int, filters: SearchFilters, exclude: int
    ) -> Ranking:
        if self.vectors is None:
            return []
        allowed = None
        if filters.active:
            allowed = self.keyword.matching_pks(parse_query(""), filters, MAX_CONSTRAINED)
        return self.vectors.search(vector, limit, allowed=allowed, exclude=exclude)

    def rank_many(
        self,
        texts: Sequence[str],
        filters: SearchFilters,
        depth: int,
        read: ReadPapers | None = None,
    ) -> list[list[Candidate]]:
        """Hybrid candidates for many queries over the papers `filters` keep (the digest's
        topics over a period's papers): one embedding batch and one matrix product for all."""
        parsed = [parse_query(text) for text in texts]
        vectors: list[Ranking] = [[] for _ in parsed]
        allowed = self.keyword.matching_pks(parse_query(""), filters, MAX_CONSTRAINED)
        if self.vectors is not None and self.embedder is not None and allowed is not None:
            wanted = [i for i, p in enumerate(parsed) if not p.is_empty]
            if wanted:
                matrix = self.embedder.embed([parsed[i].semantic_text for i in wanted])
                for i, found in zip(
                    wanted, self.vectors.search_many(matrix, depth, allowed), strict=True
                ):
                    vectors[i] = found
        out: list[list[Candidate]] = []
        for query, vector in zip(parsed, vectors, strict=True):
            keyword = self.keyword.search(query, depth, filters) if not query.is_empty else []
            fused = fuse({KEYWORD: keyword, VECTOR: vector}, self.tuning)
            out.append(self.finish(fused, query, read))
        return out

    def neighbours(
        self, pk: int, vector: np.ndarray, limit: int, filters: SearchFilters = NO_FILTERS
    ) -> list[Candidate]:
        """The papers nearest to paper `pk` (whose vector is `vector`), itself excluded."""
        found = self._nearest(vector, limit, filters, exclude=pk)
        return self.finish(fuse({VECTOR: found}, self.tuning), parse_query(""), None)

    def finish(
        self, fused: list[Candidate], parsed: ParsedQuery, read: ReadPapers | None
    ) -> list[Candidate]:
        """Read the papers of the best fused candidates (and of any the query named) and rerank
        them; a paper gone from the store since the indexes saw it is dropped."""
        depth = self.tuning.rerank_depth
        head, tail = fused[:depth], fused[depth:]
        if any(PINNING.intersection(c.ranks) for c in tail):
            head += [c for c in tail if PINNING.intersection(c.ranks)]
            tail = [c for c in tail if not PINNING.intersection(c.ranks)]
        papers = (read or self.store.papers_by_pk)([c.pk for c in head])
        kept = []
        for candidate in head:
            candidate.paper = papers.get(candidate.pk)
            if candidate.paper is not None:
                kept.append(candidate)
        return rerank(kept, parsed, self.tuning) + tail
