"""How papers and subscribers map to PostgreSQL rows, and the SQL fragments queries share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from paperfeed.code_links import paper_links
from paperfeed.models import ListedPaper, Paper, Preferences, SearchFilters, Subscriber
from paperfeed.storage.discussions import COUNT_SQL

PAPER_FIELDS = (
    "id",
    "version",
    "title",
    "abstract",
    "authors",
    "categories",
    "published",
    "updated",
    "listed",
    "day",
    "comment",
    "doi",
    "journal_ref",
    "license",
    "source",
)
PAPER_COLUMNS = ", ".join(PAPER_FIELDS)
# What a write stores besides: the code and project links found in the paper's text
# (code_links.py), so lists and searches can keep to papers with code.
WRITE_FIELDS = (*PAPER_FIELDS, "code_url", "project_url")
P_COLUMNS = ", ".join("p." + name for name in PAPER_FIELDS)
LISTED_COLUMNS = (
    "p.pk, p.upvotes, "
    f"{COUNT_SQL} AS num_comments, "
    "(SELECT max(num_comments) FROM featured f WHERE f.paper_pk = p.pk) AS hf_comments, "
    "(SELECT submitted_by FROM featured f WHERE f.paper_pk = p.pk AND submitted_by IS NOT NULL "
    " ORDER BY day LIMIT 1) AS submitted_by, "
    "(SELECT min(day) FROM featured f WHERE f.paper_pk = p.pk) AS featured_on, "
    # A reader an operator hid is no longer named (moderation.py).
    "(SELECT r.public_name FROM submissions s JOIN subscribers r ON r.id = s.subscriber_id "
    " WHERE s.paper_pk = p.pk AND NOT EXISTS (SELECT 1 FROM hidden_items h "
    " WHERE h.kind = 'reader' AND h.item_key = CAST(s.subscriber_id AS TEXT))) "
    "AS submitted_here_by, "
    f"{P_COLUMNS}"
)
SUBSCRIBER_COLUMNS = (
    "id, email, status, frequency, weekdays_only, topics, categories, max_papers, requested, "
    "bounces, session_version, created_at, confirmed_at, timezone, public_name"
)


def paper_values(paper: Paper) -> tuple[Any, ...]:
    return (
        paper.id,
        paper.version,
        paper.title,
        paper.abstract,
        list(paper.authors),
        list(paper.categories),
        paper.published,
        paper.updated,
        paper.listed,
        paper.day,
        paper.comment,
        paper.doi,
        paper.journal_ref,
        paper.license,
        paper.source,
    )


def row_to_paper(row: dict[str, Any]) -> Paper:
    return Paper(
        id=row["id"],
        version=row["version"],
        title=row["title"],
        abstract=row["abstract"],
        authors=tuple(row["authors"]),
        categories=tuple(row["categories"]),
        published=_utc(row["published"]),
        updated=_utc(row["updated"]),
        listed=row["listed"],
        comment=row["comment"],
        doi=row["doi"],
        journal_ref=row["journal_ref"],
        license=row["license"],
        source=row["source"],
    )


def listed_row(row: dict[str, Any]) -> ListedPaper:
    return ListedPaper(
        pk=int(row["pk"]),
        paper=row_to_paper(row),
        day=row["day"],
        upvotes=int(row["upvotes"] or 0),
        num_comments=int(row["num_comments"] or 0),
        hf_comments=int(row["hf_comments"] or 0),
        submitted_by=row["submitted_by"],
        featured_on=row["featured_on"],
        submitted_here_by=row["submitted_here_by"],
    )


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def filter_sql(filters: SearchFilters) -> tuple[str, list[Any]]:
    """A WHERE clause (over papers AS p) and its parameters for `filters`."""
    clauses: list[str] = ["true"]
    params: list[Any] = []
    if filters.categories:
        clauses.append("p.pk IN (SELECT paper_pk FROM paper_categories WHERE category = ANY(%s))")
        params.append(list(filters.categories))
    if filters.since:
        clauses.append("p.day >= %s")
        params.append(filters.since)
    if filters.until:
        clauses.append("p.day <= %s")
        params.append(filters.until)
    if filters.has_code:
        clauses.append("p.code_url IS NOT NULL")
    return " AND ".join(clauses), params


def write_values(paper: Paper) -> tuple[Any, ...]:
    """The values of WRITE_FIELDS for `paper`."""
    links = paper_links(paper)
    return (*paper_values(paper), links.code, links.project)


def preference_values(preferences: Preferences) -> tuple[object, ...]:
    return (
        preferences.frequency,
        preferences.weekdays_only,
        list(preferences.topics),
        list(preferences.categories),
        preferences.max_papers,
        preferences.timezone,
    )


def subscriber_row(row: dict[str, Any]) -> Subscriber:
    return Subscriber(
        id=int(row["id"]),
        email=row["email"],
        status=row["status"],
        preferences=Preferences(
            frequency=row["frequency"],
            weekdays_only=bool(row["weekdays_only"]),
            topics=tuple(row["topics"]),
            categories=tuple(row["categories"]),
            max_papers=int(row["max_papers"]),
            timezone=row["timezone"],
        ),
        requested=Preferences.from_dict(row["requested"]) if row["requested"] else None,
        bounces=int(row["bounces"]),
        session_version=int(row["session_version"]),
        created_at=_utc(row["created_at"]),
        confirmed_at=_utc(row["confirmed_at"]),
        public_name=row["public_name"],
    )


# Papers a list shows (over papers AS p): none an operator hid (moderation.py).
_NOT_HIDDEN = (
    " AND NOT EXISTS (SELECT 1 FROM hidden_items h WHERE h.kind = 'paper' AND h.item_key = p.id)"
)


def shown_sql(has_code: bool = False) -> str:
    """What a list adds to its WHERE clause: hidden papers left out, and with `has_code` only
    papers whose text links to their code."""
    return _NOT_HIDDEN + (" AND p.code_url IS NOT NULL" if has_code else "")
