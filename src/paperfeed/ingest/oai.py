"""arXiv OAI-PMH: fetch one ListRecords page (metadataPrefix=arXiv), and parse it (pure)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, datetime

from paperfeed.ingest.http import PoliteClient
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

SOURCE = "arxiv-oai"
_NS = {"oai": "http://www.openarchives.org/OAI/2.0/", "arxiv": "http://arxiv.org/OAI/arXiv/"}


class OaiError(Exception):
    """The repository answered with an OAI-PMH error (other than noRecordsMatch)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"OAI-PMH error {code}: {message}")
        self.code = code


@dataclass
class OaiPage:
    """One ListRecords response: its records, and the token for the next page (None at the end)."""

    outcomes: list[Outcome] = field(default_factory=list)
    resumption_token: str | None = None
    complete_list_size: int | None = None
    response_date: datetime | None = None


def list_records_params(
    set_spec: str | None, from_day: date | None, until_day: date | None, token: str | None
) -> dict[str, str]:
    """The query of a ListRecords request: the first page, or the one a token names."""
    if token:
        # A resumptionToken is exclusive: no other argument may go with it.
        return {"verb": "ListRecords", "resumptionToken": token}
    params = {"verb": "ListRecords", "metadataPrefix": "arXiv"}
    if set_spec:
        params["set"] = set_spec
    if from_day:
        params["from"] = from_day.isoformat()
    if until_day:
        params["until"] = until_day.isoformat()
    return params


def fetch_page(client: PoliteClient, base_url: str, params: dict[str, str]) -> bytes:
    """The raw XML of one ListRecords request."""
    return client.get(base_url, params=params).content


def parse_page(xml: bytes | str) -> OaiPage:
    """Parse a ListRecords response; OaiError for protocol errors and unreadable XML."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise OaiError("badXML", f"response is not well-formed XML ({exc})") from None
    page = OaiPage(response_date=_maybe_datetime(root.findtext("oai:responseDate", None, _NS)))
    for error in root.findall("oai:error", _NS):
        code = error.get("code", "unknown")
        if code == "noRecordsMatch":
            return page
        raise OaiError(code, clean_text(error.text))
    for record in root.iterfind("oai:ListRecords/oai:record", _NS):
        page.outcomes.append(_parse_record(record))
    token = root.find("oai:ListRecords/oai:resumptionToken", _NS)
    if token is not None:
        page.resumption_token = clean_optional(token.text)
        size = token.get("completeListSize")
        page.complete_list_size = int(size) if size and size.isdigit() else None
    return page


def _parse_record(record: ET.Element) -> Outcome:
    header = record.find("oai:header", _NS)
    identifier = (
        clean_text(header.findtext("oai:identifier", "", _NS)) if header is not None else ""
    )
    where = identifier or "record without identifier"
    if header is not None and header.get("status") == "deleted":
        return Rejected(where, "deleted at the source")
    meta = record.find("oai:metadata/arxiv:arXiv", _NS)
    if meta is None:
        return Rejected(where, "no arXiv metadata in the record")
    try:
        return Item(_paper(meta), where=where)
    except BadRecord as exc:
        return Rejected(where, str(exc))


def _paper(meta: ET.Element) -> Paper:
    def text(tag: str) -> str | None:
        return clean_optional(meta.findtext(f"arxiv:{tag}", None, _NS))

    paper_id, version = record_id(text("id"))
    authors = []
    for author in meta.iterfind("arxiv:authors/arxiv:author", _NS):
        parts = [
            clean_text(author.findtext(f"arxiv:{tag}", "", _NS))
            for tag in ("forenames", "keyname", "suffix")
        ]
        name = " ".join(part for part in parts if part)
        if name:
            authors.append(name)
    return Paper(
        id=paper_id,
        title=text("title") or "",
        abstract=text("abstract") or "",
        authors=tuple(authors),
        categories=category_list(text("categories")),
        version=version,
        published=parse_datetime(text("created")),
        updated=parse_datetime(text("updated")),
        comment=text("comments"),
        doi=text("doi"),
        journal_ref=text("journal-ref"),
        license=text("license"),
        source=SOURCE,
    )


def _maybe_datetime(value: str | None) -> datetime | None:
    try:
        return parse_datetime(value)
    except BadRecord:
        return None
