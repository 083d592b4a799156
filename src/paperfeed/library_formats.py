"""Write saved papers as BibTeX, CSV or JSON, and read arXiv ids back from a .bib file (pure).

BibTeX is what readers paste into their papers, so it has to be right: authors in the paper's
order as "Surname, Given", the arXiv id as `eprint` (no version), stable readable keys, and every
field value brace-balanced so that no title can end its field early or reach the document.

Decisions, in one place:
- Keys are surname + year + first significant title word (`lovelace2026denoising`). The surname
  is the BibTeX "Last" part without its particles ("Ludwig van Beethoven" -> `beethoven`, as
  BibTeX's own alpha style and Google Scholar do), folded to ASCII letters; a name with none
  (CJK, empty) gives `anon`. Clashes get a, b, c... in order of first publication, then id.
- Titles keep arXiv's single braces; words with a capital after their first letter (LLM,
  ImageNet, GPT-4) are protected as `{LLM}` so styles that lowercase titles keep them. Other
  capitals (proper nouns) are left to the reader: protecting every word would freeze the case.
- Text is LaTeX-escaped; math in `$...$`, `$$...$$` or `\\(...\\)` is kept when it is
  brace-balanced and safe (no %, #, &, line breaks, or commands such as \\input, \\end, \\def),
  else escaped like text. A title's `\\&`, `\\%`, `\\$`, `\\#`, `\\_`, `\\{`, `\\}` are read as the
  characters they escape. Braces are escaped as `\\textbraceleft{}` because BibTeX counts `\\{`.
- Non-ASCII letters stay UTF-8: biber and BibTeX 0.99d read it (with inputenc or fontspec).
"""

from __future__ import annotations

import csv
import io
import json
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from paperfeed.ids import BadIdentifier, parse_arxiv_id
from paperfeed.models import Paper
from paperfeed.search.names import author_key

# ---------------------------------------------------------------------------------- escaping

_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
}
# An author's own escape (read as the character), a word (letters and digits, maybe hyphenated),
# a character to escape, or a run of anything else.
_TEXT_TOKEN = re.compile(r"\\([&%$#_{}])|([^\W_]+(?:-[^\W_]+)*)|([\\{}~^&%$#_])|([^\w\\{}~^&%$#]+)")
# Where math may start (or an escape that keeps a "$" or "(" from starting it).
_MATH_MARK = re.compile(r"\\\(|\\.|\$", re.S)
_DOLLAR_OR_ESCAPE = re.compile(r"\\.|\$", re.S)
_MATH_TOKEN = re.compile(r"\\([A-Za-z@]+|.)|([{}%#&$])", re.S)
# Commands that would leave the bibliography's paragraph, read or write files, or change how
# TeX reads what follows: a title's math may not use them. Not a sandbox, a guard rail.
_UNSAFE_MACRO_WORDS = (
    "begin end input include includeonly InputIfFileExists endinput write write18 immediate "
    "openout openin closeout closein read readline def edef gdef xdef let futurelet global "
    "long outer catcode lccode uccode sfcode mathcode delcode csname endcsname expandafter "
    "noexpand afterassignment aftergroup newcommand renewcommand providecommand "
    "DeclareRobustCommand usepackage RequirePackage documentclass special shipout output "
    "everypar everymath everydisplay everyhbox everyvbox everyjob everyeof everycr dump "
    "errmessage message batchmode scrollmode nonstopmode errorstopmode makeatletter "
    "makeatother directlua latelua scantokens verb par item bibitem newpage clearpage ( ) [ "
    "] \\"
)
_UNSAFE_MACROS = frozenset(_UNSAFE_MACRO_WORDS.split())
_UNESCAPES = {value: key for key, value in _TEXT_ESCAPES.items()}
_UNESCAPE_TOKEN = re.compile(
    r"\\text(?:backslash|braceleft|braceright|asciitilde|asciicircum)\{\}|\\[&%$#_{}]|[{}~]"
)


def _clean(text: str) -> str:
    """One line: whitespace runs (arXiv titles wrap) collapsed, control characters dropped."""
    return "".join(ch for ch in " ".join(text.split()) if ch >= " " and ch != "\x7f")


def _escape_text(text: str, protect: bool = False) -> str:
    """`text` as LaTeX that prints it; with `protect`, words with inner capitals braced."""
    out: list[str] = []
    for match in _TEXT_TOKEN.finditer(text):
        escaped, word, special, other = match.groups()
        if escaped is not None:
            out.append(_TEXT_ESCAPES[escaped])
        elif word is not None:
            inner_capital = protect and any(ch.isupper() for ch in word[1:])
            out.append("{" + word + "}" if inner_capital else word)
        elif special is not None:
            out.append(_TEXT_ESCAPES[special])
        else:
            out.append(other)
    return "".join(out)


def _split_math(text: str) -> list[tuple[str, bool]]:
    """`text` cut into (piece, is_math) in order. Linear: once no closing delimiter of a kind is
    left, openers of that kind are not looked for again."""
    pieces: list[tuple[str, bool]] = []
    start = position = 0
    dollars = displays = parens = True  # whether a closing $, $$ or \) may still follow
    while (mark := _MATH_MARK.search(text, position)) is not None:
        opener = mark.start()
        end = -1
        if mark.group() == "\\(":
            if parens:
                close = text.find("\\)", mark.end())
                parens = close != -1
                end = close + 2 if parens else -1
        elif mark.group() == "$":
            if displays and text.startswith("$$", opener):
                close = _closing_dollar(text, opener + 2)
                while close != -1 and not text.startswith("$$", close):
                    close = _closing_dollar(text, close + 1)
                displays = close != -1
                end = close + 2 if displays else -1
            if end == -1 and dollars:
                close = _closing_dollar(text, opener + 1)
                dollars = close != -1
                end = close + 1 if close > opener + 1 else -1
        if end == -1:
            position = mark.end() if mark.group() != "$" else opener + 1
            continue
        if opener > start:
            pieces.append((text[start:opener], False))
        pieces.append((text[opener:end], True))
        start = position = end
    if start < len(text):
        pieces.append((text[start:], False))
    return pieces


def _closing_dollar(text: str, position: int) -> int:
    """Where the next "$" not escaped by a backslash is, or -1."""
    while (match := _DOLLAR_OR_ESCAPE.search(text, position)) is not None:
        if match.group() == "$":
            return match.start()
        position = match.end()
    return -1


def _safe_math(span: str) -> bool:
    """Whether a math span can go into a field as it is: brace-balanced, nothing that ends a
    line or a group early, and none of the commands in _UNSAFE_MACROS."""
    inner = span[2:-2] if span.startswith(("$$", "\\(")) else span[1:-1]
    if not inner.strip() or (len(inner) - len(inner.rstrip("\\"))) % 2:
        return False
    depth = 0
    for match in _MATH_TOKEN.finditer(inner):
        macro, char = match.groups()
        if macro is not None:
            if macro in _UNSAFE_MACROS:
                return False
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return False
        else:
            return False
    return depth == 0


def bibtex_title(title: str) -> str:
    """A title as a BibTeX field value: math kept, everything else escaped, acronyms braced."""
    return "".join(
        piece if is_math and _safe_math(piece) else _escape_text(piece, protect=True)
        for piece, is_math in _split_math(_clean(title))
    )


def bibtex_text(value: str) -> str:
    """A field value as plain text: the escapes to_bibtex writes undone and protective braces
    dropped (math kept as written), for showing an imported entry or comparing titles."""

    def unescape(match: re.Match[str]) -> str:
        token = match.group()
        if token in "{}":
            return ""
        return " " if token == "~" else _UNESCAPES.get(token, token[1:])

    return "".join(
        piece if is_math else _UNESCAPE_TOKEN.sub(unescape, piece)
        for piece, is_math in _split_math(value)
    )


# ------------------------------------------------------------------------------------ names

_PARTICLE_START = re.compile(r"[^\W\d_]")
_CORPORATE = re.compile(
    r"\b(?:collaboration|consortium|group|team|project|collective|initiative|committee|"
    r"society|institute|association|organi[sz]ation|network|et al)\b",
    re.IGNORECASE,
)
_AND = re.compile(r"\band\b", re.IGNORECASE)
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        if ch in "{}":
            depth += 1 if ch == "{" else -1
            if depth < 0:
                return False
    return depth == 0


def _name_parts(name: str) -> tuple[list[str], list[str], list[str], list[str]] | None:
    """(given, von, last, jr) words of a "Given von Last Jr." name as BibTeX splits them (von:
    the words from the first lowercase one to the last, never the last word), or None when the
    name should be kept whole (one word, a group, already "Surname, Given")."""
    words = name.split()
    if len(words) < 2 or "," in name or _CORPORATE.search(name):
        return None
    jr: list[str] = []
    if len(words) > 2 and words[-1].rstrip(".").lower() in _SUFFIXES:
        jr = [words.pop()]
    lowercase = [
        i
        for i, word in enumerate(words[1:-1], start=1)
        if (letter := _PARTICLE_START.search(word)) and letter.group().islower()
    ]
    if not lowercase:
        return words[:-1], [], words[-1:], jr
    return (
        words[: lowercase[0]],
        words[lowercase[0] : lowercase[-1] + 1],
        words[lowercase[-1] + 1 :],
        jr,
    )


def bibtex_name(name: str) -> str:
    """An author as BibTeX reads one: "Ada Lovelace" -> "Lovelace, Ada", "Ludwig van Beethoven"
    -> "van Beethoven, Ludwig"; "Surname, Given", single words and names already braced kept as
    written; groups ("ATLAS Collaboration") and names with "and" braced whole so they stay one
    author. Escaped; "" for a blank name."""
    clean = _clean(name)
    if not clean:
        return ""
    if ("{" in clean or "}" in clean) and _balanced(clean):
        kept = "}".join(
            "{".join(_escape_text(part) for part in chunk.split("{")) for chunk in clean.split("}")
        )
        return "{" + kept + "}" if _AND.search(clean) else kept
    if _AND.search(clean) or clean.count(",") > 2 or (_CORPORATE.search(clean) and " " in clean):
        return "{" + _escape_text(clean) + "}"
    parts = _name_parts(clean)
    if parts is None:
        return _escape_text(clean)
    given, von, last, jr = parts
    surname = _escape_text(" ".join(von + last))
    tail = [_escape_text(" ".join(jr))] if jr else []
    return ", ".join([surname, *tail, _escape_text(" ".join(given))])


def _surname_key(name: str) -> str:
    """The ASCII letters of an author's surname, without particles, for a citation key."""
    clean = _clean(name)
    braced = clean.startswith("{") and clean.endswith("}")  # BibTeX's one-piece name
    clean = clean.strip("{} ")
    if braced or _CORPORATE.search(clean) or _AND.search(clean):
        words = clean.split()[:1]
    elif "," in clean:
        words = clean.split(",", 1)[0].split()
        capitalised = [w for w in words if w[:1].isupper()]
        words = words[words.index(capitalised[0]) :] if capitalised else words
    else:
        parts = _name_parts(clean)
        words = parts[2] if parts else clean.split()
    return re.sub(r"[^a-z]", "", author_key(" ".join(words)))


# ------------------------------------------------------------------------------------- keys

_STOP_WORD_LIST = (
    "a an the on of in for to and or with without towards toward via from by at is are be "
    "do does can could should what how why when where which who we our us you your beyond "
    "into using use about as its it not no new all one two three this that these those "
    "through under over between vs versus"
)
_STOP_WORDS = frozenset(_STOP_WORD_LIST.split())
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _first_day(paper: Paper) -> date | None:
    """When the paper first appeared: its first version, else its listing, else its update."""
    if paper.published:
        return paper.published.date()
    return paper.listed or (paper.updated.date() if paper.updated else None)


def _title_word(title: str) -> str:
    text = " ".join(piece for piece, is_math in _split_math(_clean(title)) if not is_math)
    for word in author_key(re.sub(r"\\[A-Za-z]+", " ", text)).split():
        if word.isascii() and word.isalpha() and word not in _STOP_WORDS:
            return word
    return ""


def _suffix(n: int) -> str:
    """a, b, ..., z, aa, ab, ...: the n-th (0-based) suffix that tells clashing keys apart."""
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def bibtex_key(paper: Paper, taken: set[str]) -> str:
    """A citation key like `lovelace2026denoising` not in `taken` (lowercase keys), added to it.

    Readers cite by key, so it must not change between exports: it depends only on the paper
    and on the keys handed out before it (to_bibtex hands them out oldest paper first).
    """
    surname = _surname_key(paper.authors[0]) if paper.authors else ""
    day = _first_day(paper)
    base = f"{surname or 'anon'}{day.year if day else ''}{_title_word(paper.title)}"
    key, n = base, 0
    while key in taken:
        key, n = base + _suffix(n), n + 1
    taken.add(key)
    return key


# ----------------------------------------------------------------------------------- export

_DOI = re.compile(r"10\.\d{4,9}/[-._;()/:A-Za-z0-9<>\[\]+]+")


def _unique(papers: Iterable[Paper]) -> list[Paper]:
    """The papers in order, each id once (its first occurrence)."""
    first: dict[str, Paper] = {}
    for paper in papers:
        first.setdefault(paper.id, paper)
    return list(first.values())


def _keys(papers: Sequence[Paper]) -> dict[str, str]:
    """Each paper's key, handed out oldest first (then by id), whatever order the list has."""
    taken: set[str] = set()
    ordered = sorted(papers, key=lambda p: (_first_day(p) or date.max, p.id))
    return {paper.id: bibtex_key(paper, taken) for paper in ordered}


def _entry(paper: Paper, key: str) -> str:
    day = _first_day(paper)
    journal = _clean(paper.journal_ref or "")
    doi = _clean(paper.doi or "")
    authors = [name for name in map(bibtex_name, paper.authors) if name]
    fields: list[tuple[str, str | None]] = [
        ("title", "{" + bibtex_title(paper.title) + "}"),
        ("author", "{" + " and ".join(authors) + "}" if authors else None),
        ("journal", "{" + _escape_text(journal) + "}" if journal else None),
        ("year", f"{{{day.year}}}" if day else None),
        ("month", _MONTHS[day.month - 1] if day else None),
    ]
    if paper.is_arxiv:
        fields += [
            ("eprint", "{" + paper.id + "}"),
            ("archivePrefix", "{arXiv}"),
            ("primaryClass", "{" + _escape_text(paper.primary_category) + "}")
            if paper.primary_category
            else ("primaryClass", None),
        ]
    fields += [
        ("doi", "{" + doi + "}" if _DOI.fullmatch(doi) else None),
        ("url", "{" + paper.abs_url + "}" if paper.abs_url else None),
    ]
    body = "".join(f"  {name} = {value},\n" for name, value in fields if value is not None)
    return f"@{'article' if journal else 'misc'}{{{key},\n{body}}}\n"


def to_bibtex(papers: Sequence[Paper]) -> str:
    """The papers as a .bib file, in the given order (each once): `@misc` in the style of
    arXiv's own export, or `@article` with `journal` when the paper has a journal reference (a
    DOI alone makes no journal, and `@article` without one warns in every style)."""
    unique = _unique(papers)
    keys = _keys(unique)
    return "\n".join(_entry(paper, keys[paper.id]) for paper in unique)


def _year(paper: Paper) -> int | None:
    day = _first_day(paper)
    return day.year if day else None


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: one starting like a formula gets a leading "'"
    (OWASP's advice against CSV injection; a reader's titles and notes come from strangers)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(papers: Sequence[Paper], notes: dict[str, str] | None = None) -> str:
    """The papers as CSV (RFC 4180, CRLF rows, a header), one row each: for spreadsheets."""
    notes = notes or {}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "title", "authors", "year", "categories", "url", "doi", "note"])
    for paper in _unique(papers):
        year = _year(paper)
        row = [
            paper.id,
            _clean(paper.title),
            "; ".join(paper.authors),
            str(year) if year else "",
            " ".join(paper.categories),
            paper.abs_url or "",
            paper.doi or "",
            notes.get(paper.id, ""),
        ]
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def to_json(papers: Sequence[Paper], notes: dict[str, str] | None = None) -> str:
    """The papers as a JSON list of objects (UTF-8, keys always in the same order)."""
    notes = notes or {}
    items = [
        {
            "id": paper.id,
            "title": _clean(paper.title),
            "authors": list(paper.authors),
            "year": _year(paper),
            "published": paper.published.isoformat() if paper.published else None,
            "categories": list(paper.categories),
            "url": paper.abs_url,
            "pdf_url": paper.pdf_url,
            "doi": paper.doi,
            "journal_ref": paper.journal_ref,
            "note": notes.get(paper.id),
        }
        for paper in _unique(papers)
    ]
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


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
