"""Find the paper references in a query: arXiv ids, arXiv / alphaXiv / HF papers URLs, DOIs (pure).

Every pattern is anchored by a fixed prefix or a look-behind, so each scan position fails after
a bounded number of steps and a 2,000-character query is read in linear time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from paperfeed.search.query import MAX_QUERY_CHARS, WORD

MAX_REFS = 20  # references kept from one query; more is a pasted bibliography, not a lookup

# yymm.nnnn(n): the new-style scheme started in April 2007 (0704) with 4 digits after the dot,
# and has used 5 since January 2015 (1501).
_NEW = r"\d{2}(?:0[1-9]|1[0-2])\.\d{4,5}"
# archive(.SUBJECT)/yymmnnn, as ids.parse_arxiv_id reads it.
_OLD_TAIL = r"(?:\.[A-Za-z]{1,10}(?:-[A-Za-z]{1,10})?)?/\d{2}(?:0[1-9]|1[0-2])\d{3}"
_OLD = r"[a-z]{1,20}(?:-[a-z]{1,20})?" + _OLD_TAIL
# Old-style archives (arxiv.org/help/arxiv_identifier): a bare old-style id must name one, so
# "and/or/1234567" and the like are not read as ids; after a prefix or a URL any archive goes.
_ARCHIVES = (
    "acc-phys|adap-org|alg-geom|ao-sci|astro-ph|atom-ph|bayes-an|chao-dyn|chem-ph|cmp-lg|"
    "comp-gas|cond-mat|cs|dg-ga|funct-an|gr-qc|hep-ex|hep-lat|hep-ph|hep-th|math-ph|math|"
    "mtrl-th|nlin|nucl-ex|nucl-th|patt-sol|physics|plasm-ph|q-alg|q-bio|q-fin|quant-ph|"
    "solv-int|stat|supr-con"
)
_KNOWN_OLD = rf"(?:{_ARCHIVES}){_OLD_TAIL}"
_VERSION = r"(?:[vV]\d{1,3})?"
_END = r"(?![\w/]|\.\d)"  # not the start of a longer number or word
# Crossref's pattern (10.NNNN/ then these characters) covers nearly all DOIs; < > let in the
# old Wiley SICI ones, % a DOI percent-encoded in a URL.
_DOI = r"10\.\d{4,9}(?:/|%2[Ff])[-._;()/:A-Za-z0-9<>\[\]%]+"

_REF = re.compile(
    # A URL: the id is read from its path, and the rest of the URL (query, fragment) goes too.
    r"(?<![\w.])(?:https?://)?(?:(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)"
    r"|(?:www\.)?alphaxiv\.org/(?:abs|overview)|(?:www\.)?(?:huggingface|hf)\.co/papers)"
    rf"/(?P<url>{_NEW}|{_OLD}){_VERSION}(?:\.pdf)?(?!\w|\.\d)(?:[/?#]\S*)?"
    # A DOI, bare or as doi:, doi.org / dx.doi.org URL.
    rf"|(?<![\w.])(?:doi:\s?|(?:https?://)?(?:dx\.)?doi\.org/)?(?P<doi>{_DOI})"
    # arXiv:ID (any case), also "arXiv ID".
    rf"|(?<![\w.])arxiv(?::\s?|\s)(?P<prefixed>{_NEW}|{_OLD}){_VERSION}{_END}"
    # A bare id.
    rf"|(?<![\w./-])(?P<bare>{_NEW}|{_KNOWN_OLD}){_VERSION}{_END}",
    re.IGNORECASE,
)
_ARXIV_DOI = re.compile(rf"10\.48550/arxiv\.(?P<id>{_NEW}|{_OLD}){_VERSION}", re.IGNORECASE)
_DOI_PREFIX = re.compile(r"^(?:doi:\s?|(?:https?://)?(?:dx\.)?doi\.org/)", re.IGNORECASE)
_TRAILING = ".,;:'\"!?"


@dataclass(frozen=True)
class PaperRefs:
    """The references found in a query, and the query without them (for ordinary ranking).

    `arxiv_ids` are normalised and versionless (`2606.24824`, `hep-th/9901001`); `dois` are
    lowercased, without a `doi:` or `https://doi.org/` prefix.
    """

    arxiv_ids: tuple[str, ...] = ()
    dois: tuple[str, ...] = ()
    rest: str = ""

    @property
    def count(self) -> int:
        return len(self.arxiv_ids) + len(self.dois)

    @property
    def only_one(self) -> bool:
        """True when the query is one reference and nothing else (punctuation aside)."""
        return self.count == 1 and WORD.search(self.rest) is None


def find_refs(text: str) -> PaperRefs:
    """The arXiv ids and DOIs anywhere in `text` (its first MAX_QUERY_CHARS characters)."""
    text = text[:MAX_QUERY_CHARS]
    arxiv_ids: dict[str, None] = {}
    dois: dict[str, None] = {}
    kept: list[str] = []
    start = 0
    for match in _REF.finditer(text):
        end = match.end()
        raw_doi = match.group("doi")
        if raw_doi is not None:
            doi, cut = _clean_doi(raw_doi)
            if doi.endswith("/"):
                continue  # only punctuation after the prefix
            end -= cut
            arxiv_id = _arxiv_doi(doi)
            if arxiv_id is not None:
                arxiv_ids.setdefault(arxiv_id)
            else:
                dois.setdefault(doi)
        else:
            raw_id = match.group("url") or match.group("prefixed") or match.group("bare")
            arxiv_id = _arxiv_id(raw_id, strict=match.group("bare") is not None)
            if arxiv_id is None:
                continue  # a number that only looks like an id: it stays in the text
            arxiv_ids.setdefault(arxiv_id)
        kept.append(text[start : match.start()])
        start = end
    kept.append(text[start:])
    ids = tuple(arxiv_ids)[:MAX_REFS]
    return PaperRefs(ids, tuple(dois)[: MAX_REFS - len(ids)], " ".join(" ".join(kept).split()))


def normalise_doi(raw: str) -> str:
    """A DOI as find_refs gives it: no doi: or doi.org prefix, percent-decoded, lowercased."""
    return unquote(_DOI_PREFIX.sub("", raw.strip())).lower()


def _arxiv_id(raw: str, strict: bool) -> str | None:
    """The normalised id, or None; `strict` (a bare id) also checks the scheme's dates."""
    if "/" in raw:
        archive, number = raw.split("/", 1)
        return f"{archive.split('.', 1)[0].lower()}/{number}"
    yymm, number = raw.split(".")
    if strict:
        year_month = int(yymm)
        if year_month < 704 or (len(number) == 4) != (year_month < 1501):
            return None
    return raw


def _arxiv_doi(doi: str) -> str | None:
    """The arXiv id of arXiv's own DOI (10.48550/arXiv.2606.24824), else None."""
    match = _ARXIV_DOI.fullmatch(doi)
    return _arxiv_id(match.group("id"), strict=False) if match else None


def _clean_doi(raw: str) -> tuple[str, int]:
    """The DOI with trailing punctuation (and unmatched closing brackets) cut, and how many
    characters were cut."""
    end = len(raw)
    unmatched = {")": raw.count(")") - raw.count("("), "]": raw.count("]") - raw.count("[")}
    while end:
        last = raw[end - 1]
        if last in _TRAILING:
            end -= 1
        elif unmatched.get(last, 0) > 0:
            unmatched[last] -= 1
            end -= 1
        else:
            break
    return normalise_doi(raw[:end]), len(raw) - end
