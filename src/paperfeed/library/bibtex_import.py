"""Read the arXiv ids a .bib file names (exported by arXiv, Google Scholar, Zotero, Mendeley,
JabRef, ADS), forgivingly: a malformed entry is reported with its line and skipped, hostile
input returns quickly (pure)."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

from paperfeed.ids import BadIdentifier, parse_arxiv_id
from paperfeed.library.export import _MONTHS, _clean, bibtex_text

# ----------------------------------------------------------------------------------- import


@dataclass(frozen=True)
class BibEntry:
    """One entry of a .bib file: its key and type (lowercased), its fields (names lowercased;
    values without their outer braces or quotes, macros expanded, whitespace collapsed) and
    the 1-based line where it starts."""

    key: str
    entry_type: str
    fields: dict[str, str] = field(hash=False)
    line: int


class _Malformed(ValueError):
    """Why an entry cannot be read (parse_bibtex reports it and moves on)."""


MAX_VALUE_CHARS = 100_000  # a field longer than this is refused: @string doubling is a bomb
MAX_FIELDS = 500  # real entries have dozens of fields

# An entry starts at an "@" not inside a word (an address such as ada@x.org is text) ...
_ENTRY_START = re.compile(
    r"(?<![\w@.])@[ \t\r\n]*([A-Za-z][\w:.+-]*)[ \t\r\n]*([{(])"
    r"(?:[ \t\r\n]*([^\s\"#%'(),={}]+)[ \t\r\n]*([,})]))?"  # and the key, in most entries
)
# ... and cannot run past a line that starts another: that is how a broken entry is recovered.
_LINE_START = re.compile(r"^[ \t]*(@)[ \t]*[A-Za-z][\w:.+-]*[ \t]*[{(]", re.M)
_SPACE = re.compile(r"(?:\s|%[^\n]*)*")
# A field in its commonest form (`name = {no inner braces}` or a number, then "," or the end)
# is read in one match; anything else goes the long way.
_PLAIN_FIELD = re.compile(r'\s*([^\s"#%\'(),={}]+)\s*=\s*(?:\{([^{}]*)\}|(\d+))[ \t\r\n]*(?=[,})])')
_NAME = re.compile(r"[^\s\"#%'(),={}]+")
_NUMBER = re.compile(r"\d+")
_BRACE = re.compile(r"[{}]")
_QUOTE_OR_BRACE = re.compile(r'[{}"]')
_MONTH_NAMES = (
    "January February March April May June July August September October November December"
)


class _Reader:
    """Reads one entry's insides, from just after its opening delimiter up to `limit`."""

    __slots__ = ("closer", "limit", "pos", "text")

    def __init__(self, text: str, position: int, limit: int, closer: str) -> None:
        self.text, self.pos, self.limit, self.closer = text, position, limit, closer

    def _space(self) -> None:
        self.pos = _SPACE.match(self.text, self.pos, self.limit).end()  # type: ignore[union-attr]

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < self.limit else ""

    def _what(self) -> str:
        """What stands at the reading position, for a problem's message."""
        word = _NAME.match(self.text, self.pos, min(self.limit, self.pos + 30))
        if word is not None:
            return repr(word.group())
        char = self._peek()
        return repr(char) if char else "the end of the entry"

    def name(self) -> str:
        self._space()
        match = _NAME.match(self.text, self.pos, self.limit)
        if match is None:
            return ""
        self.pos = match.end()
        return match.group()

    def key(self) -> str:
        """The key of an entry without fields (`@misc{key}`): the rest is refused."""
        key = self.name()
        if not key:
            raise _Malformed(f"expected a citation key, found {self._what()}")
        self._space()
        if self._peek() != self.closer:
            raise _Malformed(f"expected ',' after the key, found {self._what()}")
        self.pos += 1
        return key

    def fields(self, macros: dict[str, str]) -> dict[str, str]:
        """`name = value, ...` up to and including the closing delimiter."""
        found: dict[str, str] = {}
        for _ in range(MAX_FIELDS):
            plain = _PLAIN_FIELD.match(self.text, self.pos, self.limit)
            if plain is not None:
                name, braced, number = plain.groups()
                value = number if braced is None else braced
                after = self.text[plain.end()]
                if after in (",", self.closer) and len(value) <= MAX_VALUE_CHARS:
                    found.setdefault(name.lower(), " ".join(value.split()))
                    self.pos = plain.end() + 1
                    if after == self.closer:
                        return found
                    continue
            self._space()
            if self._peek() == self.closer:
                self.pos += 1
                return found
            name = self.name()
            if not name:
                raise _Malformed(f"expected a field name, found {self._what()}")
            self._space()
            if self._peek() != "=":
                raise _Malformed(f"expected '=' after {name}, found {self._what()}")
            self.pos += 1
            found.setdefault(name.lower(), " ".join(self._value(name, macros).split()))
            self._space()
            if self._peek() == ",":
                self.pos += 1
            elif self._peek() != self.closer:
                raise _Malformed(
                    f"expected ',' or {self.closer!r} after {name}, found {self._what()}"
                )
        raise _Malformed(f"more than {MAX_FIELDS} fields")

    def _value(self, name: str, macros: dict[str, str]) -> str:
        parts: list[str] = []
        size = 0
        while True:
            self._space()
            char = self._peek()
            if char in ("{", '"'):
                part = self._delimited(name)
            elif (number := _NUMBER.match(self.text, self.pos, self.limit)) is not None:
                part, self.pos = number.group(), number.end()
            elif macro := self.name():
                part = macros.get(macro.lower(), macro)
            else:
                raise _Malformed(f"expected a value for {name}, found {self._what()}")
            size += len(part)
            if size > MAX_VALUE_CHARS:
                raise _Malformed(f"{name} is longer than {MAX_VALUE_CHARS} characters")
            parts.append(part)
            self._space()
            if self._peek() != "#":
                return "".join(parts)
            self.pos += 1

    def _delimited(self, name: str) -> str:
        """A {braced} or "quoted" value without its delimiters; braces inside must balance
        (BibTeX counts every brace, a backslash before one included)."""
        opener = self.text[self.pos]
        pattern = _BRACE if opener == "{" else _QUOTE_OR_BRACE
        depth = 1 if opener == "{" else 0
        start = self.pos + 1
        position = start
        while (match := pattern.search(self.text, position, self.limit)) is not None:
            char = match.group()
            position = match.end()
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth < 0:
                    break
            if depth == 0 and (opener == "{" or char == '"'):
                self.pos = position
                return self.text[start : position - 1]
        raise _Malformed(f"unbalanced braces or quotes in {name}")

    def skip_group(self) -> None:
        """Past the balanced text up to the closing delimiter (@comment, @preamble)."""
        depth = 0
        closer = self.closer
        pattern = _BRACE if closer == "}" else re.compile(r"[{}()]")
        while (match := pattern.search(self.text, self.pos, self.limit)) is not None:
            char = match.group()
            self.pos = match.end()
            if char == closer and depth == 0:
                return
            depth += 1 if char in "{(" else -1
        raise _Malformed("not closed")


def parse_bibtex(text: str) -> tuple[list[BibEntry], list[tuple[int, str]]]:
    """The entries of a .bib file, in order, and (line, problem) for each one that could not be
    read: it is skipped, and reading goes on at the next line starting with "@". Never raises;
    linear in the text (each character is scanned a bounded number of times)."""
    entries: list[BibEntry] = []
    problems: list[tuple[int, str]] = []
    macros = dict(zip(_MONTHS, _MONTH_NAMES.split(), strict=True))
    boundaries = [match.start(1) for match in _LINE_START.finditer(text)]
    line, counted = 1, 0
    position = 0
    while (start := _ENTRY_START.search(text, position)) is not None:
        at = start.start()
        line += text.count("\n", counted, at)
        counted = at
        kind = start.group(1).lower()
        following = bisect_right(boundaries, at)
        limit = boundaries[following] if following < len(boundaries) else len(text)
        reader = _Reader(text, start.end(2), limit, "}" if start.group(2) == "{" else ")")
        key = ""
        try:
            if kind in ("comment", "preamble"):
                reader.skip_group()
            elif kind == "string":
                for name, value in reader.fields(macros).items():
                    macros[name] = value
            elif start.group(4) == ",":
                key, reader.pos = start.group(3), start.end()
                entries.append(BibEntry(key, kind, reader.fields(macros), line))
            elif start.group(4) == reader.closer:
                entries.append(BibEntry(start.group(3), kind, {}, line))
                reader.pos = start.end()
            else:
                entries.append(BibEntry(key := reader.key(), kind, {}, line))
            position = reader.pos
        except _Malformed as problem:
            if kind != "comment":
                where = f"@{kind}{{{key}" if key else f"@{kind}"
                problems.append((line, f"{where}: {problem}"))
            position = limit
    return entries, problems


# ------------------------------------------------------------------------------- arXiv ids

_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/([\w.\-/]+)", re.IGNORECASE)
_ARXIV_MENTION = re.compile(
    r"arxiv(?:\s+preprint)?(?:\s*:\s*|\s+)(?:arxiv\s*:\s*)?([\w.\-/]+)", re.IGNORECASE
)
_ARXIV_DOI = re.compile(r"10\.48550/arxiv\.([\w.\-/]+)", re.IGNORECASE)
# After eprint: the fields that hold an arXiv link, then a mention, then arXiv's own DOI.
_ID_PLACES = (
    (("url", "howpublished", "note", "pdf", "eprint"), _ARXIV_URL),
    (("journal", "note", "howpublished", "number", "eid", "pages", "publisher"), _ARXIV_MENTION),
    (("doi",), _ARXIV_DOI),
)


def _arxiv_id(candidate: str) -> str | None:
    try:
        return parse_arxiv_id(candidate.rstrip(".,;:/"))[0]
    except BadIdentifier:
        return None


def _first_id(pattern: re.Pattern[str], value: str | None) -> str | None:
    for match in pattern.finditer(value or ""):
        if found := _arxiv_id(match.group(1)):
            return found
    return None


def entry_arxiv_id(entry: BibEntry) -> str | None:
    """The arXiv id (no version) an entry names, looked for where arXiv, Google Scholar,
    Zotero, Mendeley and JabRef put it, in that order of trust."""
    fields = entry.fields
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "").lower()
    for name in ("eprint", "arxivid", "arxiv"):
        trusted = prefix in ("", "arxiv") or name != "eprint"
        if trusted and name in fields and (found := _arxiv_id(fields[name])):
            return found
    for names, pattern in _ID_PLACES:
        for name in names:
            if name in fields and (found := _first_id(pattern, fields[name])):
                return found
    return None


def arxiv_ids_from_bibtex(
    entries: Iterable[BibEntry],
) -> tuple[list[str], list[tuple[int, str]]]:
    """The arXiv ids the entries name, in file order and each once, and (line, problem) for
    each entry that names none (the caller may look those up by DOI or title)."""
    found: dict[str, None] = {}
    problems: list[tuple[int, str]] = []
    for entry in entries:
        arxiv_id = entry_arxiv_id(entry)
        if arxiv_id is None:
            title = _clean(bibtex_text(entry.fields.get("title", "")))
            problems.append((entry.line, f"no arXiv id: {title[:120] or entry.key}"))
        else:
            found[arxiv_id] = None
    return list(found), problems
