"""How papers and subscribers map to PostgreSQL rows, and the SQL fragments queries share."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from paperfeed.models import ListedPaper, Paper, Preferences, SearchFilters, Subscriber

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
P_COLUMNS = ", ".join("p." + name for name in PAPER_FIELDS)
LISTED_COLUMNS = (
    "p.pk, p.upvotes, "
    "(SELECT max(num_comments) FROM featured f WHERE f.paper_pk = p.pk) AS num_comments, "
    "(SELECT submitted_by FROM featured f WHERE f.paper_pk = p.pk AND submitted_by IS NOT NULL "
    " ORDER BY day LIMIT 1) AS submitted_by, "
    "(SELECT min(day) FROM featured f WHERE f.paper_pk = p.pk) AS featured_on, "
    "(SELECT r.public_name FROM submissions s JOIN subscribers r ON r.id = s.subscriber_id "
    " WHERE s.paper_pk = p.pk) AS submitted_here_by, "
    f"{P_COLUMNS}"
)
SUBSCRIBER_COLUMNS = (
    "id, email, status, frequency, weekdays_only, topics, categories, max_papers, requested, "
    "bounces, session_version, created_at, confirmed_at, timezone, public_name"
)


def paper_day(paper: Paper) -> date | None:
    """The day a paper belongs to in lists and filters: listed, else published (UTC)."""
    if paper.listed is not None:
        return paper.listed
    return paper.published.astimezone(UTC).date() if paper.published else None


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
        paper_day(paper),
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
    return " AND ".join(clauses), params


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
