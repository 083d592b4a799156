"""How papers map to rows, and the SQL fragments the queries share."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime
from typing import Any

import orjson

from paperfeed.code_links import paper_links
from paperfeed.models import Paper, SearchFilters

PAPER_COLUMNS = (
    "id, version, title, abstract, authors, categories, published, updated, listed, "
    "comment, doi, journal_ref, license, source"
)
P_COLUMNS = ", ".join("p." + name.strip() for name in PAPER_COLUMNS.split(","))
# What a write stores besides: the code and project links found in the paper's text
# (code_links.py), so lists and searches can keep to papers with code.
WRITE_COLUMNS = PAPER_COLUMNS + ", code_url, project_url"
# A paper's day in lists and filters: listed, else published (003_listings.sql indexes it).
DAY_SQL = "coalesce(p.listed, substr(p.published, 1, 10))"
# Upvotes counted for a paper (papers AS p): the latest count seen on Hugging Face plus local
# votes, kept up to date by storage/sqlite/votes.py.
UPVOTES_SQL = "p.upvotes"


def iso_datetime(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def parse_datetime(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def parse_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def filter_sql(filters: SearchFilters) -> tuple[str, list[Any]]:
    """A WHERE clause (over papers AS p) and its parameters for `filters`."""
    clauses: list[str] = ["1"]
    params: list[Any] = []
    if filters.categories:
        marks = ",".join("?" * len(filters.categories))
        clauses.append(
            f"p.pk IN (SELECT paper_pk FROM paper_categories WHERE category IN ({marks}))"
        )
        params.extend(filters.categories)
    day = DAY_SQL
    if filters.since:
        clauses.append(f"{day} >= ?")
        params.append(filters.since.isoformat())
    if filters.until:
        clauses.append(f"{day} <= ?")
        params.append(filters.until.isoformat())
    if filters.has_code:
        clauses.append("p.code_url IS NOT NULL")
    return " AND ".join(clauses), params


def write_values(paper: Paper) -> tuple[Any, ...]:
    """The values of WRITE_COLUMNS for `paper`."""
    links = paper_links(paper)
    return (*paper_values(paper), links.code, links.project)


def paper_values(paper: Paper) -> tuple[Any, ...]:
    return (
        paper.id,
        paper.version,
        paper.title,
        paper.abstract,
        json.dumps(list(paper.authors), ensure_ascii=False),
        json.dumps(list(paper.categories), ensure_ascii=False),
        iso_datetime(paper.published),
        iso_datetime(paper.updated),
        paper.listed.isoformat() if paper.listed else None,
        paper.comment,
        paper.doi,
        paper.journal_ref,
        paper.license,
        paper.source,
    )


def json_names(text: str) -> tuple[str, ...]:
    """A stored JSON list (authors, categories) as a tuple. orjson reads one in a fifth of
    json's time (a page of results reads ~50 papers); json takes the rare text orjson refuses
    (a lone escaped surrogate, which json reads as it always did)."""
    try:
        return tuple(orjson.loads(text))
    except orjson.JSONDecodeError:
        return tuple(json.loads(text))


def row_to_paper(row: sqlite3.Row) -> Paper:
    return Paper(
        id=row["id"],
        version=row["version"],
        title=row["title"],
        abstract=row["abstract"],
        authors=json_names(row["authors"]),
        categories=json_names(row["categories"]),
        published=parse_datetime(row["published"]),
        updated=parse_datetime(row["updated"]),
        listed=parse_date(row["listed"]),
        comment=row["comment"],
        doi=row["doi"],
        journal_ref=row["journal_ref"],
        license=row["license"],
        source=row["source"],
    )


# Papers a list shows (over papers AS p): none an operator hid (moderation.py).
_NOT_HIDDEN = (
    " AND NOT EXISTS (SELECT 1 FROM hidden_items h WHERE h.kind = 'paper' AND h.item_key = p.id)"
)


def shown_sql(has_code: bool = False) -> str:
    """What a list adds to its WHERE clause: hidden papers left out, and with `has_code` only
    papers whose text links to their code."""
    return _NOT_HIDDEN + (" AND p.code_url IS NOT NULL" if has_code else "")
