"""Read what a user typed into words, quoted phrases, required and excluded parts (pure, total).

Every string is a valid query: operators that make no sense are read as words or dropped, never
an error. Understood: `"exact phrase"`, `-word` / `NOT word` (exclude), `+word` and `a AND b`
(require), `OR` (the default anyway), `word*` (prefix), `author:Wu` / `author:"Tailin Wu"` /
`author:"Wu, T."` (only papers by that author: a filter, neither ranked nor embedded). Anything
else is text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from paperfeed.models import SearchFilters
from paperfeed.search.names import author_key

MAX_QUERY_CHARS = 2000  # enough for a pasted abstract; the rest of a 10 kB paste is cut
MAX_WORDS = 64
MAX_PHRASES = 8
MIN_PREFIX_CHARS = 3

# author:"a name" or author:name, a quoted phrase (closed or running to the end), or a run of
# non-space characters.
_PIECE = re.compile(
    r'(?<!\S)(?P<author_sign>[+-]?)(?:author|au):(?:"(?P<author_quoted>[^"]*)"?|(?P<author>[^\s"]+))'
    r'|(?P<sign>[+-]?)"(?P<quoted>[^"]*)"?|(?P<bare>\S+)',
    re.IGNORECASE,
)
# What counts as a word inside a piece: letters and digits, as tantivy's simple tokenizer sees it.
WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class ParsedQuery:
    """A user's query, taken apart. `words` rank results; `required` and `phrases` must match."""

    text: str
    words: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    excluded_phrases: tuple[tuple[str, ...], ...] = ()
    prefixes: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()  # author keys (names.author_key): a paper must have them all
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def is_empty(self) -> bool:
        return not (self.words or self.required or self.phrases or self.prefixes)

    @property
    def constrained(self) -> bool:
        """True when results must contain something (a phrase, a required word, an author)."""
        return bool(
            self.required or self.phrases or self.excluded or self.excluded_phrases or self.authors
        )

    @property
    def semantic_text(self) -> str:
        """The text to embed: what the user typed, minus operators."""
        parts = [*self.words, *self.required, *(" ".join(p) for p in self.phrases), *self.prefixes]
        return " ".join(parts)


def parse_query(text: str) -> ParsedQuery:
    """Take a query apart; total: any input gives a ParsedQuery."""
    notes: list[str] = []
    if len(text) > MAX_QUERY_CHARS:
        notes.append(f"query cut to its first {MAX_QUERY_CHARS} characters")
        text = text[:MAX_QUERY_CHARS]
    words: list[str] = []
    required: list[str] = []
    excluded: list[str] = []
    phrases: list[tuple[str, ...]] = []
    excluded_phrases: list[tuple[str, ...]] = []
    prefixes: list[str] = []
    authors: list[str] = []
    pending: str | None = None  # "NOT" or "AND" waiting for the next piece
    for match in _PIECE.finditer(text):
        name = match.group("author_quoted") or match.group("author")
        if name is not None:
            if match.group("author_sign") == "-" or pending == "NOT":
                # No index of excluded authors: leave out papers that mention the name.
                if WORD.search(name):
                    excluded_phrases.append(tuple(WORD.findall(name)))
            elif author_key(name):
                authors.append(author_key(name))
            pending = None
            continue
        sign, quoted, bare = match.group("sign"), match.group("quoted"), match.group("bare")
        if quoted is not None:
            phrase = tuple(WORD.findall(quoted))
            if not phrase:
                continue
            if sign == "-" or pending == "NOT":
                excluded_phrases.append(phrase)
            elif len(phrase) == 1 and sign != "+":
                (words if pending != "AND" else required).append(phrase[0])
            else:
                phrases.append(phrase)
            pending = None
            continue
        token = bare or ""
        if token in ("NOT", "AND", "OR", "&&", "||"):
            if token in ("NOT", "AND", "&&"):
                pending = "NOT" if token == "NOT" else "AND"
                if pending == "AND" and words:
                    required.append(words.pop())
            continue
        mode = pending
        pending = None
        if token.startswith("-") and len(token) > 1:
            mode, token = "NOT", token[1:]
        elif token.startswith("+") and len(token) > 1:
            mode, token = "AND", token[1:]
        if token.endswith("*"):
            stem = WORD.findall(token.rstrip("*"))
            if len(stem) == 1 and len(stem[0]) >= MIN_PREFIX_CHARS and mode != "NOT":
                prefixes.append(stem[0].lower())
                continue
        pieces = WORD.findall(token)
        if len(pieces) > 1 and re.search(r"\w[-/.']\w", token):
            # "state-of-the-art", "cs.CL", "don't": a hyphenated or dotted term reads as a phrase
            target = {"NOT": excluded_phrases, "AND": phrases}.get(mode or "")
            if target is not None:
                target.append(tuple(pieces))
                continue
        bucket = {"NOT": excluded, "AND": required}.get(mode or "", words)
        bucket.extend(pieces)
    if len(words) > MAX_WORDS:
        notes.append(f"only the first {MAX_WORDS} words were used")
    return ParsedQuery(
        text=text,
        words=tuple(_unique(words)[:MAX_WORDS]),
        required=tuple(_unique(required)[:MAX_WORDS]),
        excluded=tuple(_unique(excluded)[:MAX_WORDS]),
        phrases=tuple(phrases[:MAX_PHRASES]),
        excluded_phrases=tuple(excluded_phrases[:MAX_PHRASES]),
        prefixes=tuple(_unique(prefixes)[:MAX_PHRASES]),
        authors=tuple(_unique(authors)[:MAX_PHRASES]),
        notes=tuple(notes),
    )


def _unique(items: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item.lower(), item)
    return list(seen.values())


def with_authors(filters: SearchFilters, parsed: ParsedQuery) -> SearchFilters:
    """`filters` with the query's own author filters added."""
    if not parsed.authors:
        return filters
    return replace(filters, authors=tuple(dict.fromkeys([*filters.authors, *parsed.authors])))
