"""What every source's parser yields, and the field parsers they share (dates, names, lists)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from paperfeed.ids import BadIdentifier, parse_arxiv_id, parse_paper_id
from paperfeed.models import (
    MAX_ABSTRACT_CHARS,
    MAX_AUTHOR_CHARS,
    MAX_AUTHORS,
    MAX_AUTHORS_CHARS,
    MAX_CATEGORIES,
    MAX_COMMENT_CHARS,
    MAX_FIELD_CHARS,
    MAX_TITLE_CHARS,
    Featured,
    Paper,
    clip,
)
from paperfeed.text import clean_optional, clean_text


class BadRecord(ValueError):
    """A record that cannot become a paper; the message says why."""


@dataclass(frozen=True)
class Item:
    """One good record: a paper, and the featured day it came with (Hugging Face daily papers)."""

    paper: Paper
    featured: Featured | None = None
    where: str = ""  # file:line or record id, for reports about it


@dataclass(frozen=True)
class Rejected:
    """A record that was skipped: where it was (file:line or record id) and why."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


Outcome = Item | Rejected


def cap_paper(paper: Paper) -> tuple[Paper, list[str]]:
    """`paper` with every field within its MAX_* cap, and what was cut, in words."""
    notes: list[str] = []
    changes: dict[str, object] = {}

    def text(field: str, value: str | None, limit: int, label: str) -> None:
        if value is not None and len(value) > limit:
            changes[field] = clip(value, limit)
            notes.append(f"{label} cut to {limit:,} characters (it had {len(value):,})")

    text("title", paper.title, MAX_TITLE_CHARS, "title")
    text("abstract", paper.abstract, MAX_ABSTRACT_CHARS, "abstract")
    text("comment", paper.comment, MAX_COMMENT_CHARS, "comment")
    for field in ("doi", "journal_ref", "license"):
        text(field, getattr(paper, field), MAX_FIELD_CHARS, field.replace("_", " "))
    authors = paper.authors
    if len(authors) > MAX_AUTHORS:
        notes.append(f"authors cut to the first {MAX_AUTHORS:,} (it had {len(authors):,})")
        authors = authors[:MAX_AUTHORS]
    if any(len(name) > MAX_AUTHOR_CHARS for name in authors):
        notes.append(f"author names cut to {MAX_AUTHOR_CHARS:,} characters")
        authors = tuple(clip(n, MAX_AUTHOR_CHARS) for n in authors)
    if sum(map(len, authors)) > MAX_AUTHORS_CHARS:
        total, count = 0, 0
        while total + len(authors[count]) <= MAX_AUTHORS_CHARS:
            total += len(authors[count])
            count += 1
        notes.append(
            f"authors cut to the first {count:,} ({MAX_AUTHORS_CHARS:,} characters; "
            f"it had {len(authors):,})"
        )
        authors = authors[:count]
    if authors is not paper.authors:
        changes["authors"] = authors
    categories = paper.categories
    if len(categories) > MAX_CATEGORIES or any(len(c) > MAX_FIELD_CHARS for c in categories):
        # A category is a name, not text: one that long is dropped, not cut.
        kept = tuple(c for c in categories if len(c) <= MAX_FIELD_CHARS)[:MAX_CATEGORIES]
        notes.append(f"categories cut to {len(kept)} (it had {len(categories)})")
        changes["categories"] = kept
    if not changes:
        return paper, notes
    return replace(paper, **changes), notes  # type: ignore[arg-type]


def record_id(value: object, arxiv_only: bool = True) -> tuple[str, int | None]:
    """(id, version) of a record's id field; BadRecord when it is missing or unusable.

    With arxiv_only=False a non-arXiv id (a BEIR document id) is accepted as it is.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise BadRecord("missing id")
    try:
        if arxiv_only:
            if not isinstance(value, str):
                raise BadIdentifier(f"not an arXiv identifier: {value!r}")
            return parse_arxiv_id(value)
        return parse_paper_id(value)
    except BadIdentifier as exc:
        raise BadRecord(str(exc)) from None


def parse_datetime(value: object) -> datetime | None:
    """A UTC datetime from ISO 8601 (`2026-06-25T17:59:00.000Z`, `2026-06-25`) or RFC 2822
    (`Mon, 2 Apr 2007 19:18:42 GMT`); None when missing; BadRecord when unreadable."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadRecord(f"expected a date string, got {type(value).__name__}")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise BadRecord(f"unreadable date {text[:40]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_day(value: object) -> date | None:
    """The calendar day (UTC) of a date or timestamp string."""
    parsed = parse_datetime(value)
    return parsed.date() if parsed else None


def require_text(record: Mapping[str, Any], *keys: str) -> str:
    """The first of `keys` present in `record`, cleaned; BadRecord if it is not text."""
    for key in keys:
        if key in record and record[key] is not None:
            value = record[key]
            if not isinstance(value, str | int | float):
                raise BadRecord(f"{key!r} must be text, got {type(value).__name__}")
            return clean_text(value)
    return ""


def optional_text(record: Mapping[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise BadRecord(f"{key!r} must be text, got {type(value).__name__}")
    return clean_optional(value)


def name_list(value: object, field: str = "authors") -> tuple[str, ...]:
    """A tuple of cleaned, non-empty names from a list of strings (or of {"name": ...})."""
    if value is None:
        return ()
    if isinstance(value, str):
        return split_author_string(value)
    if not isinstance(value, list):
        raise BadRecord(f"{field!r} must be a list, got {type(value).__name__}")
    names = []
    for entry in value:
        raw = entry.get("name") if isinstance(entry, Mapping) else entry
        if raw is None:
            continue
        if not isinstance(raw, str):
            raise BadRecord(f"{field!r} holds a {type(raw).__name__}, expected names")
        name = clean_text(raw)
        if name:
            names.append(name)
    return tuple(names)


def split_author_string(value: str) -> tuple[str, ...]:
    """Split arXiv's author string (`A. One, B. Two and C. Three`) into names."""
    text = clean_text(value)
    if not text:
        return ()
    parts = []
    for chunk in text.replace(" and ", ", ").split(","):
        name = chunk.strip()
        if name:
            parts.append(name)
    return tuple(parts)


def category_list(value: object) -> tuple[str, ...]:
    """Categories from a list or a space-separated string (arXiv's form), cleaned like all text,
    order kept, no repeats."""
    if value is None:
        return ()
    if isinstance(value, str):
        raw = value.split()
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        raw = value
    else:
        raise BadRecord("'categories' must be a list of strings or a space-separated string")
    return tuple(dict.fromkeys(c for c in map(clean_text, raw) if c))


def int_field(record: Mapping[str, Any], key: str, default: int = 0) -> int:
    value = record.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadRecord(f"{key!r} must be a number")
    try:
        return int(value)
    except ValueError:
        raise BadRecord(f"{key!r} must be a number, got {value!r}") from None
