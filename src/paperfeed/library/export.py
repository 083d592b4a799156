"""Write saved papers as BibTeX, CSV or JSON (pure); bibtex_import.py reads .bib files.

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
from collections.abc import Iterable, Sequence
from datetime import date

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
