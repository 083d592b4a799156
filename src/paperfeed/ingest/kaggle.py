"""Parse one record of the Kaggle "arXiv metadata OAI snapshot" into a paper (pure).

Fields: id, submitter, authors, authors_parsed [[keyname, forenames, suffix]], title, comments,
journal-ref, doi, report-no, categories ("cs.CL cs.AI", primary first), license, abstract,
versions [{version: "v1", created: "Mon, 2 Apr 2007 19:18:42 GMT"}], update_date.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paperfeed.ingest.records import (
    BadRecord,
    Item,
    category_list,
    optional_text,
    parse_datetime,
    record_id,
    require_text,
    split_author_string,
)
from paperfeed.models import Paper
from paperfeed.text import clean_text

SOURCE = "kaggle"


def parse_record(record: Mapping[str, Any]) -> Item:
    """Turn one decoded snapshot line into an Item; BadRecord says what is wrong with it."""
    paper_id, _ = record_id(record.get("id"))
    versions = _versions(record.get("versions"))
    authors = _parsed_authors(record.get("authors_parsed"))
    if not authors and isinstance(record.get("authors"), str):
        authors = split_author_string(record["authors"])
    return Item(
        Paper(
            id=paper_id,
            title=require_text(record, "title"),
            abstract=require_text(record, "abstract"),
            authors=authors,
            categories=category_list(record.get("categories")),
            version=max(versions)[0] if versions else None,
            published=min(versions)[1] if versions else None,
            updated=max(versions)[1] if versions else parse_datetime(record.get("update_date")),
            comment=optional_text(record, "comments"),
            doi=optional_text(record, "doi"),
            journal_ref=optional_text(record, "journal-ref"),
            license=optional_text(record, "license"),
            source=SOURCE,
        )
    )


def _versions(value: object) -> list[tuple[int, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRecord("'versions' must be a list")
    found = []
    for entry in value:
        if not isinstance(entry, Mapping):
            raise BadRecord("'versions' entries must be objects")
        label = str(entry.get("version", "")).strip().lower().removeprefix("v")
        if not label.isdigit():
            raise BadRecord(f"bad version label {entry.get('version')!r}")
        created = parse_datetime(entry.get("created"))
        if created is not None:
            found.append((int(label), created))
    return found


def _parsed_authors(value: object) -> tuple[str, ...]:
    """ "Forenames Keyname Suffix" for each [keyname, forenames, suffix] triple."""
    if not isinstance(value, list):
        return ()
    names = []
    for triple in value:
        if not isinstance(triple, list) or not all(isinstance(p, str) for p in triple):
            raise BadRecord("'authors_parsed' entries must be lists of strings")
        keyname, forenames, suffix = ([*triple, "", "", ""])[:3]
        name = clean_text(" ".join(part for part in (forenames, keyname, suffix) if part))
        if name:
            names.append(name)
    return tuple(names)
