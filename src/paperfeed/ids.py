"""Parse and normalise paper identifiers (arXiv new- and old-style, or a source's own id)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

_NEW_STYLE = re.compile(r"^(\d{2}(?:0[1-9]|1[0-2])\.\d{4,5})(?:v(\d+))?$")
# archive(.SUBJECT)/YYMMNNN, e.g. hep-th/9901001, math.GT/0309136, cond-mat/0102536v2
_OLD_STYLE = re.compile(
    r"^([a-z]+(?:-[a-z]+)*)(?:\.[A-Za-z]+(?:-[A-Za-z]+)*)?/(\d{2}(?:0[1-9]|1[0-2])\d{3})(?:v(\d+))?$"
)
_PREFIXES = re.compile(
    r"^(?:oai:arxiv\.org:|arxiv:|https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/)",
    re.IGNORECASE,
)
# A normalised new-style id: what parse_arxiv_id returns unchanged, with no version.
_NORMAL_NEW_STYLE = re.compile(r"\d{2}(?:0[1-9]|1[0-2])\.\d{4,5}")
_OTHER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$")
# Path segments that a browser resolves away: a link to /papers/x/../../outbox opens /outbox.
_UNSAFE_SEGMENTS = frozenset({"", ".", ".."})


class BadIdentifier(ValueError):
    """A string is not a usable paper identifier."""


def parse_arxiv_id(raw: str) -> tuple[str, int | None]:
    """Split an arXiv identifier in any common spelling into (id without version, version).

    Accepts `2606.27372v2`, `arXiv:2606.27372`, `oai:arXiv.org:hep-th/9901001`,
    `https://arxiv.org/abs/math.GT/0309136v1`, `…/pdf/2606.27372v1.pdf`.
    """
    text = _PREFIXES.sub("", raw.strip())
    if text.lower().endswith(".pdf"):
        text = text[:-4]
    match = _NEW_STYLE.match(text)
    if match:
        return match.group(1), _version(match.group(2))
    match = _OLD_STYLE.match(text)
    if match:
        return f"{match.group(1)}/{match.group(2)}", _version(match.group(3))
    raise BadIdentifier(f"not an arXiv identifier: {raw[:80]!r}")


def is_arxiv_id(paper_id: str) -> bool:
    """True when `paper_id` is a normalised arXiv id (no version, no prefix)."""
    # Most ids are new-style ones, already normalised: one match says so (every paper of a
    # page of results asks twice, for its links), and parsing decides the rest.
    if _NORMAL_NEW_STYLE.fullmatch(paper_id):
        return True
    try:
        return parse_arxiv_id(paper_id) == (paper_id, None)
    except BadIdentifier:
        return False


def parse_paper_id(raw: object) -> tuple[str, int | None]:
    """Like parse_arxiv_id, but also accept a source's own id (a BEIR doc id, say) as it is."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str) or not raw.strip():
        raise BadIdentifier("missing id")
    try:
        return parse_arxiv_id(raw)
    except BadIdentifier:
        text = raw.strip()
        if not _UNSAFE_SEGMENTS.isdisjoint(text.split("/")):
            raise BadIdentifier(
                f"unusable id {text[:80]!r}: an empty, '.' or '..' segment between slashes"
            ) from None
        if not _OTHER_ID.match(text):
            raise BadIdentifier(f"unusable id {text[:80]!r}") from None
        return text, None


def paper_path(paper_id: str) -> str:
    """The path of a paper's page, `/papers/` and the id with each segment percent-encoded.

    An id with an empty, `.` or `..` segment (refused above, but a database written before may
    hold one) has its slashes encoded too: one segment, so its links cannot leave /papers/.
    """
    segments = paper_id.split("/")
    if not _UNSAFE_SEGMENTS.isdisjoint(segments):
        return "/papers/" + quote(paper_id, safe="")
    return "/papers/" + "/".join(quote(segment, safe="") for segment in segments)


def thumbnail_path(paper_id: str, digest: str) -> str:
    """The URL path of a paper's thumbnail, named by its content (`?v=` its digest): the
    paper's path under /thumbnails/ instead of /papers/, with .webp."""
    return "/thumbnails" + paper_path(paper_id).removeprefix("/papers") + f".webp?v={digest}"


def _version(digits: str | None) -> int | None:
    return int(digits) if digits else None


def ids_in_lines(lines: Iterable[str]) -> tuple[list[str], list[tuple[int, str]]]:
    """The paper ids of a list, one per line (arXiv ids, abs/pdf URLs, or a source's own ids),
    in order and each once; blank lines and `#` comments are skipped. Also (line number,
    problem) for each line that names no usable id: reported, never fatal."""
    found: dict[str, None] = {}
    problems: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            found[parse_paper_id(text)[0]] = None
        except BadIdentifier as exc:
            problems.append((number, str(exc)))
    return list(found), problems
