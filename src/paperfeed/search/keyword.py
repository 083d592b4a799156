"""Keyword search: a tantivy BM25 index of title, abstract and authors, in step with the store.

Besides the ranked text it indexes each author's name (names.author_key) for author filters and
name lookups, and each paper's id and DOI, so a DOI finds its paper on either storage backend.

Measured on the 74,728 arXiv papers, SQLite FTS5's bm25 over OR-ed query terms took 35 ms p50 and
103 ms p95 per query, more than the whole hybrid budget (30 ms p95); tantivy answers the same
queries in about a millisecond with the same SciFact quality, and keeps its index on disk, updated
incrementally. The store stays the source of truth: the index records the last paper revision it
has seen and catches up from there, so it can be deleted and rebuilt at any time.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import tantivy

from paperfeed.code_links import paper_links
from paperfeed.models import NO_FILTERS, Paper, SearchFilters
from paperfeed.search.names import author_key, initials_keys
from paperfeed.search.query import ParsedQuery, with_authors
from paperfeed.search.refs import normalise_doi
from paperfeed.storage import Store

log = logging.getLogger("paperfeed.search")

SCHEMA_VERSION = 3  # 2: author_key, author_initials, author and ref fields; 3: has_code
ANALYZER = "paperfeed_en"
NAMES_ANALYZER = "paperfeed_names"
STATE_FILE = "paperfeed-state.json"
_SYNC_BATCH = 2000
_COMMIT_EVERY = 20_000  # documents between commits while catching up on a large backlog
_RELOAD_EVERY_S = 1.0
_WRITER_HEAP_BYTES = 64_000_000
_NAME_WORDS = 12  # query words looked at for author names
_NAME_LENGTHS = (4, 3, 2)  # words in a name, longest tried first


def _analyzer(stem: bool) -> tantivy.TextAnalyzer:
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
    )
    return (builder.filter(tantivy.Filter.stemmer("english")) if stem else builder).build()


_ANALYZER = _analyzer(stem=True)
_NAMES_ANALYZER = _analyzer(stem=False)  # names unstemmed: "Williams" is not "William"


@lru_cache(maxsize=200_000)
def analyze_word(word: str) -> tuple[str, ...]:
    """The index terms one word becomes (lowercased, folded, stemmed); cached."""
    return tuple(_ANALYZER.analyze(word))


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("pk", indexed=True, fast=True)
    builder.add_text_field("text", tokenizer_name=ANALYZER, index_option="position")
    builder.add_text_field("category", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("day", indexed=True, fast=True)
    # 1 when the paper's text links to its code (code_links.py), for the "has code" filter.
    builder.add_integer_field("has_code", indexed=True)
    # One term per author: the whole name as names.author_key makes it ("tailin wu"), and
    # cited with initials ("t wu", "wu t"); the names' words, for one-word author filters.
    builder.add_text_field("author_key", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("author_initials", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("author", tokenizer_name=NAMES_ANALYZER, index_option="position")
    # The paper's id and DOI, lowercased: what a query that names a paper is looked up by.
    builder.add_text_field("ref", tokenizer_name="raw", index_option="basic")
    return builder.build()


def _day_number(paper: Paper) -> int:
    return _day_value(paper.day) or 0


def _document(pk: int, paper: Paper) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_integer("pk", pk)
    # The title twice: BM25 over one field with the title repeated ranked SciFact best
    # (nDCG@10 0.707 against 0.676 for separately scored fields).
    doc.add_text(
        "text", " ".join((paper.title, paper.title, paper.abstract, " ".join(paper.authors)))
    )
    for category in paper.categories:
        doc.add_text("category", category)
    doc.add_integer("day", _day_number(paper))
    doc.add_integer("has_code", 1 if paper_links(paper).code else 0)
    for name in paper.authors:
        key = author_key(name)
        if not key:
            continue
        doc.add_text("author_key", key)
        for short in initials_keys(key):
            doc.add_text("author_initials", short)
        doc.add_text("author", name)
    doc.add_text("ref", paper.id.lower())
    if paper.doi:
        doc.add_text("ref", normalise_doi(paper.doi))
    return doc


@dataclass(frozen=True)
class _State:
    instance: str
    rev: int
    pk: int


@contextmanager
def _folder_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes, on a file beside `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class KeywordIndex:
    """The tantivy index in `path` (or in memory when path is None)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.schema = _schema()
        self._memory_state: _State | None = None
        self._lock = threading.Lock()
        self._last_reload = 0.0
        self._index = self._open()

    def _open(self) -> tantivy.Index:
        if self.path is None:
            index = tantivy.Index(self.schema)
        else:
            # Two processes may open a new index at once (two `digest send`s, a server and a
            # worker): one decides, under a lock, whether an old index must go.
            with _folder_lock(self.path):
                state = self._read_raw_state()
                if state is not None and state.get("schema") != SCHEMA_VERSION:
                    # An index of another layout is only a cache: start over.
                    shutil.rmtree(self.path)
                self.path.mkdir(parents=True, exist_ok=True)
                try:
                    index = tantivy.Index(self.schema, path=str(self.path))
                except ValueError:  # "the schema does not match": an old layout too
                    shutil.rmtree(self.path)
                    self.path.mkdir(parents=True)
                    index = tantivy.Index(self.schema, path=str(self.path))
                # A half-made index (no state yet) is kept: its first sync starts it over.
        index.register_tokenizer(ANALYZER, _ANALYZER)
        index.register_tokenizer(NAMES_ANALYZER, _NAMES_ANALYZER)
        return index

    # -- state -------------------------------------------------------------------------

    def _read_raw_state(self) -> dict | None:
        if self.path is None:
            return None
        try:
            data = json.loads((self.path / STATE_FILE).read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _state(self) -> _State | None:
        if self.path is None:
            return self._memory_state
        data = self._read_raw_state()
        if data is None:
            return None
        return _State(str(data.get("instance")), int(data.get("rev", 0)), int(data.get("pk", 0)))

    def _save_state(self, state: _State) -> None:
        if self.path is None:
            self._memory_state = state
            return
        data = {
            "schema": SCHEMA_VERSION,
            "instance": state.instance,
            "rev": state.rev,
            "pk": state.pk,
        }
        tmp = self.path / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.path / STATE_FILE)

    # -- writing -------------------------------------------------------------------------

    def sync(self, store: Store, progress: Callable[[int], None] | None = None) -> int:
        """Index every paper changed since the last sync; returns how many were (re)indexed.

        Safe to kill at any point: a paper indexed twice replaces itself, and the saved
        revision only moves after a commit.
        """
        with self._lock:
            instance = store.instance_id()
            state = self._state()
            try:
                writer = self._index.writer(_WRITER_HEAP_BYTES, 1)
            except ValueError as exc:
                log.warning("keyword index is being written by another process (%s)", exc)
                return 0
            try:
                if state is None or state.instance != instance:
                    writer.delete_all_documents()
                    state = _State(instance, 0, 0)
                done = pending = 0
                while True:
                    batch = store.changed_papers((state.rev, state.pk), _SYNC_BATCH)
                    if not batch:
                        break
                    for _, pk, paper in batch:
                        writer.delete_documents_by_term("pk", pk)
                        writer.add_document(_document(pk, paper))
                    rev, pk, _ = batch[-1]
                    state = _State(instance, rev, pk)
                    done += len(batch)
                    pending += len(batch)
                    if pending >= _COMMIT_EVERY:
                        writer.commit()
                        self._save_state(state)
                        pending = 0
                    if progress is not None:
                        progress(done)
                writer.commit()
                writer.wait_merging_threads()
                self._save_state(state)
            except BaseException:
                writer.rollback()
                raise
            self._index.reload()
            return done

    def rebuild(self, store: Store, progress: Callable[[int], None] | None = None) -> int:
        """Forget everything and index the whole catalog again."""
        if self.path is None:
            self._memory_state = None
        else:
            (self.path / STATE_FILE).unlink(missing_ok=True)
        return self.sync(store, progress)

    # -- reading -------------------------------------------------------------------------

    def _searcher(self) -> tantivy.Searcher:
        now = time.monotonic()
        if now - self._last_reload > _RELOAD_EVERY_S:
            # Another process (an ingest) may have committed since.
            self._index.reload()
            self._last_reload = now
        return self._index.searcher()

    def count(self) -> int:
        return int(self._searcher().num_docs)

    def search(
        self, parsed: ParsedQuery, limit: int, filters: SearchFilters = NO_FILTERS
    ) -> list[tuple[int, float]]:
        """(pk, BM25 score) of the best `limit` papers for the query, best first; the query's
        authors (author:Name) filter as SearchFilters.authors do."""
        query = self._query(parsed, with_authors(filters, parsed))
        if query is None or limit <= 0:
            return []
        searcher = self._searcher()
        result = searcher.search(query, limit, count=False)
        addresses = [address for _, address in result.hits]
        pks = searcher.fast_field_values("pk", addresses)
        return [
            (int(pk), float(score))
            for (score, _), pk in zip(result.hits, pks, strict=True)
            if isinstance(pk, int)
        ]

    def matching_pks(
        self, parsed: ParsedQuery, filters: SearchFilters, cap: int
    ) -> list[int] | None:
        """The pks (at most `cap`) of papers that meet the query's must-haves (phrases,
        required and excluded words, authors) and the filters; None when nothing is required."""
        clauses = self._text_constraints(parsed) + [
            (tantivy.Occur.Must, q) for q in self.filter_queries(with_authors(filters, parsed))
        ]
        if not clauses:
            return None
        if all(occur == tantivy.Occur.MustNot for occur, _ in clauses):
            clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
        searcher = self._searcher()
        result = searcher.search(tantivy.Query.boolean_query(clauses), cap, count=False)
        pks = searcher.fast_field_values("pk", [address for _, address in result.hits])
        return [int(pk) for pk in pks if isinstance(pk, int)]

    def _query(self, parsed: ParsedQuery, filters: SearchFilters) -> tantivy.Query | None:
        Occur = tantivy.Occur
        terms: dict[str, None] = {}
        for word in ranking_words(parsed.words):
            terms.update(dict.fromkeys(analyze_word(word)))
        ranked = [(Occur.Should, self._term(t)) for t in terms]
        for prefix in parsed.prefixes:
            folded = "".join(analyze_word(prefix)) if analyze_word(prefix) else prefix.lower()
            # Stemming may shorten the prefix ("transformer*" -> "transform"): match either.
            pattern = f"({re.escape(prefix.lower())}|{re.escape(folded)}).*"
            ranked.append((Occur.Should, tantivy.Query.regex_query(self.schema, "text", pattern)))
        text = self._text_constraints(parsed)
        required = [clause for clause in text if clause[0] == Occur.Must]
        if not ranked and not required:
            return None  # nothing to rank by: exclusions and filters alone match everything
        if ranked and not required:
            # Beside a Must clause (a filter), Should clauses turn optional: nest them so that
            # a paper has to match at least one of the words.
            ranked = [(Occur.Must, tantivy.Query.boolean_query(ranked))]
        filtering = [clause for clause in text if clause[0] == Occur.MustNot]
        filtering += [(Occur.Must, q) for q in self.filter_queries(filters)]
        return tantivy.Query.boolean_query(ranked + required + filtering)

    def _text_constraints(self, parsed: ParsedQuery) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        """Must clauses for phrases and required words, MustNot for excluded ones."""
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for occur, groups in (
            (tantivy.Occur.Must, [(w,) for w in parsed.required] + list(parsed.phrases)),
            (
                tantivy.Occur.MustNot,
                [(w,) for w in parsed.excluded] + list(parsed.excluded_phrases),
            ),
        ):
            for words in groups:
                phrase = self._phrase(words)
                if phrase is not None:
                    clauses.append((occur, phrase))
        return clauses

    def filter_queries(self, filters: SearchFilters) -> list[tantivy.Query]:
        """One query per filter, each of which a paper must match."""
        queries = []
        if filters.categories:
            queries.append(
                tantivy.Query.term_set_query(self.schema, "category", list(filters.categories))
            )
        if filters.since or filters.until:
            low = _day_value(filters.since)
            high = _day_value(filters.until)
            queries.append(
                tantivy.Query.range_query(self.schema, "day", tantivy.FieldType.Integer, low, high)
            )
        queries.extend(self._author_query(key) for key in filters.authors)
        if filters.has_code:
            queries.append(
                tantivy.Query.range_query(self.schema, "has_code", tantivy.FieldType.Integer, 1, 1)
            )
        return queries

    def _author_query(self, key: str) -> tantivy.Query:
        """Papers with an author of this key: the whole name, the name cited with initials
        ("wu t"), or for one word ("wu") any author with that word in their name."""
        if " " in key:
            return tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Should, self._raw("author_key", key)),
                    (tantivy.Occur.Should, self._raw("author_initials", key)),
                ]
            )
        terms: list[str | tuple[int, str]] = list(_NAMES_ANALYZER.analyze(key))
        if not terms:
            return tantivy.Query.empty_query()
        if len(terms) == 1:
            return tantivy.Query.term_query(self.schema, "author", terms[0])
        return tantivy.Query.phrase_query(self.schema, "author", terms)

    # -- authors and references ----------------------------------------------------------

    def author_pks(self, names: Sequence[str], filters: SearchFilters, limit: int) -> list[int]:
        """Pks of papers (newest first, at most `limit`) with an author whose key is one of
        `names` (names.author_key keys, as author_names_in gives them), within `filters`."""
        keys = [name for name in names if name]
        if not keys or limit <= 0:
            return []
        clauses = [
            (tantivy.Occur.Must, tantivy.Query.term_set_query(self.schema, "author_key", keys))
        ]
        clauses += [(tantivy.Occur.Must, q) for q in self.filter_queries(filters)]
        searcher = self._searcher()
        result = searcher.search(
            tantivy.Query.boolean_query(clauses), limit, count=False, order_by_field="day"
        )
        pks = searcher.fast_field_values("pk", [address for _, address in result.hits])
        return [int(pk) for pk in pks if isinstance(pk, int)]

    def newest_pks(self, filters: SearchFilters, limit: int) -> list[int]:
        """Pks of the newest papers (at most `limit`) within `filters` (an author's papers, for
        a query that is only `author:...`); [] without filters."""
        clauses = [(tantivy.Occur.Must, q) for q in self.filter_queries(filters)]
        if not clauses or limit <= 0:
            return []
        searcher = self._searcher()
        result = searcher.search(
            tantivy.Query.boolean_query(clauses), limit, count=False, order_by_field="day"
        )
        return [
            int(pk)
            for pk in searcher.fast_field_values("pk", [address for _, address in result.hits])
            if isinstance(pk, int)
        ]

    def author_names_in(self, words: Sequence[str]) -> list[str]:
        """The author keys that runs of 2-4 consecutive query words spell in full ("tailin wu"
        in "Tailin Wu diffusion", also from "Wu Tailin"), longest first, left to right.

        Cheap enough for every query: the first _NAME_WORDS words, a term lookup per run.
        """
        tokens = [t for word in words[:_NAME_WORDS] for t in author_key(word).split()]
        tokens = tokens[:_NAME_WORDS]
        searcher = self._searcher()
        found: list[str] = []
        start = 0
        while start < len(tokens) - 1:
            for length in _NAME_LENGTHS:
                run = tokens[start : start + length]
                if len(run) < length:
                    continue
                key = self._indexed_author(searcher, run)
                if key is not None:
                    if key not in found:
                        found.append(key)
                    start += length
                    break
            else:
                start += 1
        return found

    def _indexed_author(self, searcher: tantivy.Searcher, run: list[str]) -> str | None:
        """The author key the words spell (in order, or for two words reversed), if indexed."""
        candidates = [" ".join(run)]
        if len(run) == 2:
            candidates.append(f"{run[1]} {run[0]}")
        for key in candidates:
            # doc_freq still counts deleted documents (a paper whose authors changed) until
            # their segment merges: confirm the rare hit with a search.
            if (
                searcher.doc_freq("author_key", key)
                and searcher.search(self._raw("author_key", key), 1, count=False).hits
            ):
                return key
        return None

    def ref_pks(self, arxiv_ids: Sequence[str], dois: Sequence[str]) -> dict[str, int]:
        """The pk of each paper named by a normalised arXiv id or a DOI (as refs.find_refs
        gives them), keyed by the id or DOI; the ones not in the index are left out."""
        searcher = self._searcher()
        found: dict[str, int] = {}
        for ref in dict.fromkeys([*arxiv_ids, *dois]):
            result = searcher.search(self._raw("ref", ref.lower()), 1, count=False)
            pks = searcher.fast_field_values("pk", [address for _, address in result.hits])
            if pks and isinstance(pks[0], int):
                found[ref] = int(pks[0])
        return found

    def _raw(self, field: str, value: str) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, field, value)

    def _term(self, term: str) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, "text", term)

    def _phrase(self, words: tuple[str, ...]) -> tantivy.Query | None:
        """The analysed words as a phrase (a term if only one is left); None if none is."""
        terms: list[str | tuple[int, str]] = [t for word in words for t in analyze_word(word)]
        if not terms:
            return None
        if len(terms) == 1:
            return self._term(str(terms[0]))
        return tantivy.Query.phrase_query(self.schema, "text", terms)


# Lucene's English stop words. Their BM25 weight is next to nothing (they occur in nearly every
# abstract), but their posting lists are the longest: ranking by them costs time and adds noise.
# They stay in the index, so phrases ("state of the art") still match them.
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    ]
)


def ranking_words(words: Sequence[str]) -> list[str]:
    """The words BM25 ranks by: all but stop words (all of them if nothing else is left)."""
    kept = [w for w in words if w.lower() not in STOP_WORDS]
    return kept or list(words)


def _day_value(day: date | None) -> int | None:
    return day.year * 10000 + day.month * 100 + day.day if day else None
