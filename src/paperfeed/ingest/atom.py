"""arXiv Atom API (`/api/query?id_list=` or `search_query=`): page through, parse (pure)."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from paperfeed.ingest.http import PoliteClient, SourceUnavailable
from paperfeed.ingest.records import (
    BadRecord,
    Item,
    Outcome,
    Rejected,
    category_list,
    parse_datetime,
    record_id,
)
from paperfeed.models import Paper
from paperfeed.text import clean_optional, clean_text

SOURCE = "arxiv-api"
PAGE_SIZE = 100  # arXiv asks for at most a few hundred results per call
_EMPTY_PAGE_RETRIES = 2
_NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
    "arxiv": "http://arxiv.org/schemas/atom",
}
log = logging.getLogger("paperfeed.ingest")


class AtomError(Exception):
    """The API answered with an error entry, or with something that is not an Atom feed."""


class AtomCutShort(AtomError):
    """The answer is not well-formed XML: most likely cut short on its way."""


@dataclass
class AtomPage:
    """One feed page: its entries and the opensearch counts used for paging."""

    outcomes: list[Outcome] = field(default_factory=list)
    total_results: int = 0
    start_index: int = 0


def parse_feed(xml: bytes | str) -> AtomPage:
    """Parse an API response; AtomError when it reports an error or is not a feed."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise AtomCutShort(f"response is not well-formed XML ({exc})") from None
    if root.tag != f"{{{_NS['atom']}}}feed":
        raise AtomError(f"expected an Atom feed, got <{root.tag}>")
    page = AtomPage(
        total_results=_int(root.findtext("opensearch:totalResults", "0", _NS)),
        start_index=_int(root.findtext("opensearch:startIndex", "0", _NS)),
    )
    for entry in root.iterfind("atom:entry", _NS):
        entry_id = clean_text(entry.findtext("atom:id", "", _NS))
        if "/api/errors" in entry_id:
            raise AtomError(clean_text(entry.findtext("atom:summary", "", _NS)) or entry_id)
        try:
            page.outcomes.append(Item(_paper(entry, entry_id), where=entry_id))
        except BadRecord as exc:
            page.outcomes.append(Rejected(entry_id or "entry without id", str(exc)))
    return page


def _paper(entry: ET.Element, entry_id: str) -> Paper:
    def text(path: str) -> str | None:
        return clean_optional(entry.findtext(path, None, _NS))

    paper_id, version = record_id(entry_id)
    primary = entry.find("arxiv:primary_category", _NS)
    categories = [primary.get("term", "")] if primary is not None else []
    categories += [c.get("term", "") for c in entry.iterfind("atom:category", _NS)]
    return Paper(
        id=paper_id,
        title=text("atom:title") or "",
        abstract=text("atom:summary") or "",
        authors=tuple(
            name
            for name in (
                clean_text(a.findtext("atom:name", "", _NS))
                for a in entry.iterfind("atom:author", _NS)
            )
            if name
        ),
        categories=category_list(categories),
        version=version,
        published=parse_datetime(text("atom:published")),
        updated=parse_datetime(text("atom:updated")),
        comment=text("arxiv:comment"),
        doi=text("arxiv:doi"),
        journal_ref=text("arxiv:journal_ref"),
        source=SOURCE,
    )


def fetch_pages(client: PoliteClient, url: str, page_size: int = PAGE_SIZE) -> Iterator[AtomPage]:
    """Every page of the query in `url`, honouring its own `start` and `max_results` if given."""
    parts = urlsplit(url)
    base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    start = _int(params.pop("start", "0"))
    wanted = _int(params.pop("max_results", "")) or None
    if wanted is None and params.get("id_list"):
        wanted = len([i for i in params["id_list"].split(",") if i.strip()])
    fetched = 0
    empty_pages = 0
    cut_pages = 0
    while wanted is None or fetched < wanted:
        size = page_size if wanted is None else min(page_size, wanted - fetched)
        query = {**params, "start": str(start), "max_results": str(size)}
        try:
            body = client.get(base, params=query).content
        except SourceUnavailable as exc:
            if exc.response is not None and exc.response.status_code == 400:
                parse_feed(exc.response.content)  # raises AtomError with arXiv's own message
            raise
        try:
            page = parse_feed(body)
        except AtomCutShort as exc:
            # Asked again, like a dropped connection (PAPERFEED_MAX_RETRIES times).
            if cut_pages >= client.settings.max_retries:
                raise
            cut_pages += 1
            log.warning("%s: %s at start=%d; asking again", base, exc, start)
            continue
        cut_pages = 0
        count = len(page.outcomes)
        if count == 0:
            # The API now and then answers an in-range page with no entries: ask again.
            if start >= page.total_results or empty_pages >= _EMPTY_PAGE_RETRIES:
                return
            empty_pages += 1
            log.warning(
                "%s: empty page at start=%d of %d; asking again", base, start, page.total_results
            )
            continue
        empty_pages = 0
        yield page
        fetched += count
        start += count
        if start >= page.total_results:
            return


def _int(value: str | None) -> int:
    text = (value or "").strip()
    return int(text) if text.isdigit() else 0
