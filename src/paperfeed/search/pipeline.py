"""The ranking pipeline: gather named rankings, fuse them, read the best papers and rerank them.

Search, similar papers, the digest's topics and the TREC batch mode all rank through here, so a
change to ranking shows in every one of them and in `bench/search_quality.py`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

import numpy as np

from paperfeed.embeddings import Embedder, strong_similarity
from paperfeed.models import NO_FILTERS, Paper, SearchFilters
from paperfeed.search.candidates import Candidate, Ranking
from paperfeed.search.fusion import fuse, fused_scores
from paperfeed.search.keyword import KeywordIndex
from paperfeed.search.query import ParsedQuery, parse_query, with_authors
from paperfeed.search.refs import find_refs
from paperfeed.search.rerank import may_promote, rerank
from paperfeed.search.resolve import lookup_ref
from paperfeed.search.shared_vectors import SharedVectorIndex
from paperfeed.search.tuning import AUTHOR, DEFAULT, KEYWORD, QUERY, REF, VECTOR, Tuning
from paperfeed.search.vector import VectorIndex
from paperfeed.storage import Store

MAX_CONSTRAINED = 50_000  # papers a phrase or filter may keep for the vector ranking

# Reads papers by pk (the store's papers_by_pk, or papers the caller already holds).
ReadPapers = Callable[[Iterable[int]], Mapping[int, Paper]]


def _unreached(pks: list[int], cosines: np.ndarray, vector: Ranking) -> dict[int, float]:
    """The cosines of those of `pks` that the vector ranking did not reach."""
    reached = {pk for pk, _ in vector}
    return {pk: c for pk, c in zip(pks, cosines.tolist(), strict=True) if pk not in reached}


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
        known: dict[str, dict[int, float]] = {}
        named = lookup_ref(self.store, self.keyword, refs) if refs.count else []
        if named:
            rankings[REF] = [(pk, 1.0) for pk in named]
        if not query.is_empty:
            text, known = self._text_rankings(query, mode, filters, depth)
            rankings.update(text)
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
        return self.finish(fuse(rankings, self.tuning, known), query, read)

    def _text_rankings(
        self, parsed: ParsedQuery, mode: str, filters: SearchFilters, depth: int
    ) -> tuple[dict[str, Ranking], dict[str, dict[int, float]]]:
        """The keyword and vector rankings of the query's text, as `mode` asks, and the
        cosines of the keyword side's papers that the vector ranking did not reach."""
        rankings: dict[str, Ranking] = {}
        if mode != "vector":
            rankings[KEYWORD] = self.keyword.search(parsed, depth, filters)
        if mode == "keyword" or self.vectors is None or self.embedder is None:
            return rankings, {}
        vectors = self.vectors
        allowed = self.keyword.matching_pks(parsed, filters, MAX_CONSTRAINED)
        query_vector = self.embedder.embed([parsed.semantic_text])[0]
        tuning = self.tuning
        feedback = mode == "hybrid" and tuning.feedback_papers > 0
        # With feedback the first search only picks the feedback papers and the query's own
        # best matches; the second one goes deep.
        first = min(depth, tuning.first_depth) if feedback else depth
        rankings[VECTOR] = vectors.search(query_vector, first, allowed=allowed)
        if mode == "vector":
            return rankings, {}
        return self._hybrid(
            rankings[KEYWORD],
            rankings[VECTOR],
            query_vector,
            lambda moved: vectors.search(moved, depth, allowed=allowed),
            self.tuning,
        )

    def _hybrid(
        self,
        keyword: Ranking,
        vector: Ranking,
        query: np.ndarray,
        search: Callable[[np.ndarray], Ranking],
        tuning: Tuning,
    ) -> tuple[dict[str, Ranking], dict[str, dict[int, float]]]:
        """Both rankings and the real cosine of every paper only the keyword side found; with
        feedback (tuning.feedback_papers), the vector side searched again with the query's
        vector moved towards the first pass's best papers (Rocchio)."""
        rankings = {KEYWORD: keyword, VECTOR: vector}
        if self.vectors is None:
            return rankings, {}
        # The keyword side's vectors are gathered once, for both passes.
        pks, matrix = self.vectors.matrix_for(pk for pk, _ in keyword)
        known = {VECTOR: _unreached(pks, matrix @ query, vector)}
        if tuning.feedback_papers <= 0 or not (keyword or vector):
            return rankings, known
        first = fused_scores(rankings, tuning.first_pass(), known)
        top = heapq.nlargest(tuning.feedback_papers, first, key=lambda pk: first[pk])
        best = self.vectors.vectors_for(top)
        if not best:
            return rankings, known
        moved = query + tuning.feedback_weight * np.mean(np.stack(list(best.values())), axis=0)
        moved = (moved / np.linalg.norm(moved)).astype(np.float32)
        rankings[QUERY] = rankings[VECTOR]
        rankings[VECTOR] = moved_vector = search(moved)
        return rankings, {
            VECTOR: _unreached(pks, matrix @ moved, moved_vector),
            QUERY: known[VECTOR],
        }

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
        query_rows: dict[int, int] = {}  # query number -> its row in `matrix`
        matrix = np.zeros((0, 0), dtype=np.float32)
        allowed = self.keyword.matching_pks(parse_query(""), filters, MAX_CONSTRAINED)
        if self.vectors is not None and self.embedder is not None and allowed is not None:
            wanted = [i for i, p in enumerate(parsed) if not p.is_empty]
            if wanted:
                query_rows = {i: row for row, i in enumerate(wanted)}
                matrix = self.embedder.embed([parsed[i].semantic_text for i in wanted])
                for i, found in zip(
                    wanted, self.vectors.search_many(matrix, depth, allowed), strict=True
                ):
                    vectors[i] = found
        # Topics are short and exact, and their matches are judged by the topic's own cosine:
        # no feedback, which would move the query.
        tuning = replace(self.tuning, feedback_papers=0)
        out: list[list[Candidate]] = []
        for i, (query, vector) in enumerate(zip(parsed, vectors, strict=True)):
            keyword = self.keyword.search(query, depth, filters) if not query.is_empty else []
            known: dict[str, dict[int, float]] = {}
            if i in query_rows and self.vectors is not None:
                pks, rows = self.vectors.matrix_for(pk for pk, _ in keyword)
                known = {VECTOR: _unreached(pks, rows @ matrix[query_rows[i]], vector)}
            fused = fuse({KEYWORD: keyword, VECTOR: vector}, tuning, known)
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
        tuning = self.tuning
        strong = strong_similarity(self.embedder.model_id) if self.embedder is not None else None
        head, tail = fused[: tuning.rerank_depth], fused[tuning.rerank_depth :]
        if tail:
            promotable = [may_promote(c, tuning, strong) for c in tail]
            head += [c for c, promote in zip(tail, promotable, strict=True) if promote]
            tail = [c for c, promote in zip(tail, promotable, strict=True) if not promote]
        papers = (read or self.store.papers_by_pk)([c.pk for c in head])
        kept = []
        for candidate in head:
            candidate.paper = papers.get(candidate.pk)
            if candidate.paper is not None:
                kept.append(candidate)
        return rerank(kept, parsed, tuning, strong) + tail
