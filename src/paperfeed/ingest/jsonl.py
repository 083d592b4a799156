"""Parse one record of paperfeed's own JSONL schema (also BEIR corpora) into a paper (pure).

Our schema is the one of the arxiv-cs-daily dump:
  {"id", "title", "abstract", "authors": [...], "categories": [...], "published", "comment"}
with optional "version", "updated", "listed", "doi", "journal_ref", "license".
In that dump `published` is the day the paper was first listed, so a record without "listed"
is taken to have been listed on its `published` day.
BEIR corpora ({"_id", "title", "text"}) parse too, so any BEIR dataset can be searched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paperfeed.ingest.records import (
    BadRecord,
    Item,
    category_list,
    name_list,
    optional_text,
    parse_datetime,
    parse_day,
    record_id,
    require_text,
)
from paperfeed.models import Paper

SOURCE = "jsonl"


def parse_record(record: Mapping[str, Any], source: str = SOURCE) -> Item:
    """Turn one decoded JSON object into an Item; BadRecord says what is wrong with it."""
    paper_id, id_version = record_id(record.get("id", record.get("_id")), arxiv_only=False)
    published = parse_datetime(record.get("published"))
    listed = parse_day(record.get("listed")) if "listed" in record else None
    if listed is None and published is not None:
        listed = published.date()
    return Item(
        Paper(
            id=paper_id,
            title=require_text(record, "title"),
            abstract=require_text(record, "abstract", "summary", "text"),
            authors=name_list(record.get("authors")),
            categories=category_list(record.get("categories")),
            version=_version(record.get("version")) or id_version,
            published=published,
            updated=parse_datetime(record.get("updated")),
            listed=listed,
            comment=optional_text(record, "comment"),
            doi=optional_text(record, "doi"),
            journal_ref=optional_text(record, "journal_ref"),
            license=optional_text(record, "license"),
            source=source,
        )
    )


def _version(value: object) -> int | None:
    if value is None or value == "":
        return None
    text = str(value).strip().lower().removeprefix("v")
    if not text.isdigit() or int(text) < 1:
        raise BadRecord(f"bad version {value!r}")
    return int(text)
