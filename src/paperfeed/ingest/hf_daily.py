"""Parse Hugging Face daily-papers JSON (`/api/daily_papers`) into papers and featured days (pure).

An item is `{"paper": {"id", "title", "summary", "authors": [{"name"}], "publishedAt",
"upvotes", "submittedOnDailyAt", ...}, "publishedAt", "title", "summary", "numComments",
"submittedBy": {"name", ...}}`; the item's `publishedAt` is the day it entered the daily list.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from paperfeed.ingest.records import (
    BadRecord,
    Item,
    int_field,
    name_list,
    parse_datetime,
    parse_day,
    record_id,
    require_text,
)
from paperfeed.models import Featured, Paper
from paperfeed.text import clean_optional

SOURCE = "hf-daily"


def parse_item(item: Mapping[str, Any]) -> Item:
    """One daily-papers item as a paper plus the day (and votes) it was featured."""
    paper = item.get("paper")
    if not isinstance(paper, Mapping):
        raise BadRecord("missing 'paper' object")
    paper_id, version = record_id(paper.get("id", item.get("id")))
    day = parse_day(paper.get("submittedOnDailyAt")) or parse_day(item.get("publishedAt"))
    record = Paper(
        id=paper_id,
        title=require_text(paper, "title") or require_text(item, "title"),
        abstract=require_text(paper, "summary") or require_text(item, "summary"),
        authors=name_list(paper.get("authors")),
        version=version,
        published=parse_datetime(paper.get("publishedAt")),
        listed=day,  # the day it entered the daily list; an arXiv listing day, if earlier, wins
        source=SOURCE,
    )
    featured = None
    if day is not None:
        featured = Featured(
            paper_id=paper_id,
            day=day,
            source=SOURCE,
            upvotes=int_field(paper, "upvotes"),
            num_comments=int_field(item, "numComments"),
            submitted_by=_submitter(item.get("submittedBy") or paper.get("submittedOnDailyBy")),
        )
    return Item(record, featured)


def parse_response(text: str) -> list[Any]:
    """The items of a daily-papers response body (a JSON array); BadRecord if it is not one."""
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRecord(f"not JSON: {exc}") from None
    if not isinstance(body, list):
        raise BadRecord("expected a JSON array of daily-papers items")
    return body


def _submitter(value: object) -> str | None:
    if isinstance(value, Mapping):
        return clean_optional(value.get("name") or value.get("fullname"))
    return None
