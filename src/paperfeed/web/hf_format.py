"""The JSON shapes of the Hugging Face Papers API, made from paperfeed's records (pure).

Field names follow huggingface_hub's PaperInfo: `id`, `authors`, `publishedAt`, `summary`,
`upvotes` are read from the inner `paper` object, `title`, `numComments`, `submittedBy` from the
wrapper. paperfeed adds what HF does not have (categories, comment, DOI, links); clients ignore
fields they do not know.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from paperfeed.code_links import paper_links
from paperfeed.models import ListedPaper, Paper
from paperfeed.search.highlight import Span
from paperfeed.search.searcher import Hit
from paperfeed.trending import Trend


def iso_z(value: date | datetime | None) -> str | None:
    """2026-06-26T17:59:00.000Z, the timestamp format HF uses (a date is its midnight UTC)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}T00:00:00.000Z"
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:"
        f"{value.minute:02d}:{value.second:02d}.{value.microsecond // 1000:03d}Z"
    )


def _user(listed: ListedPaper) -> dict[str, Any] | None:
    """Who submitted it, as HF's user object; `via` (ours) says whether a reader here
    ("paperfeed") or on Hugging Face ("huggingface"), so the two are never confused."""
    name = listed.submitter
    if not name:
        return None
    via = "paperfeed" if listed.submitted_here_by else "huggingface"
    return {"user": name, "name": name, "fullname": name, "type": "user", "via": via}


def paper_object(
    paper: Paper, upvotes: int = 0, listed: ListedPaper | None = None, thumbnail: str | None = None
) -> dict[str, Any]:
    """The inner `paper` object, also what GET /api/papers/{id} returns (with the absolute
    URL of its `thumbnail` when it has one: HF has it on the daily item only)."""
    data: dict[str, Any] = {
        "id": paper.id,
        "authors": [{"name": name, "hidden": False} for name in paper.authors],
        "publishedAt": iso_z(paper.published or paper.listed),
        "title": paper.title,
        "summary": paper.abstract,
        "upvotes": upvotes,
        "discussionId": paper.id,
        "categories": list(paper.categories),
        "comment": paper.comment,
        "doi": paper.doi,
        "journalRef": paper.journal_ref,
        "version": paper.version,
        "listedAt": iso_z(paper.listed),
        "links": {"abs": paper.abs_url, "pdf": paper.pdf_url},
    }
    found = paper_links(paper)
    if found.code:
        data["githubRepo"] = found.code
    if found.project:
        data["projectPage"] = found.project
    if thumbnail:
        data["thumbnail"] = thumbnail
    if listed is not None:
        data["numComments"] = listed.num_comments
    if listed is not None and listed.featured_on is not None:
        data["submittedOnDailyAt"] = iso_z(listed.featured_on)
        submitter = _user(listed)
        if submitter:
            data["submittedOnDailyBy"] = submitter
    return data


def daily_item(
    listed: ListedPaper, why: Trend | None = None, thumbnail: str | None = None
) -> dict[str, Any]:
    """One item of GET /api/daily_papers (and of /api/papers): the paper and its day in lists,
    with the absolute URL of its `thumbnail` (None while it has none).

    Trending items also carry `trending` {upvotes, ageHours, score}: why they rank there (a
    field Hugging Face does not send; clients ignore it)."""
    item: dict[str, Any] = {
        "paper": paper_object(listed.paper, listed.upvotes, listed),
        # The day of the list it is in (HF: the day it was featured; here: first listed).
        "publishedAt": iso_z(listed.day or listed.featured_on),
        "title": listed.paper.title,
        "summary": listed.paper.abstract,
        "thumbnail": thumbnail,
        "numComments": listed.num_comments,
        "isAuthorParticipating": False,
    }
    submitter = _user(listed)
    if submitter:
        item["submittedBy"] = submitter
    if why is not None:
        item["trending"] = {
            "upvotes": why.upvotes,
            "ageHours": round(why.age_hours, 1),
            "score": round(why.score, 4),
        }
    return item


def add_keywords(objects: Sequence[dict[str, Any]], keywords: Mapping[str, Sequence[str]]) -> None:
    """Give each paper object (or the `paper` of each item) its keyphrases as `ai_keywords`,
    where Hugging Face puts them; papers without any get none."""
    for data in objects:
        paper = data.get("paper", data)
        phrases = keywords.get(paper["id"])
        if phrases:
            paper["ai_keywords"] = list(phrases)


def paper_ids(objects: Sequence[dict[str, Any]]) -> list[str]:
    """The ids of the papers of paper objects or items (what add_keywords looks up)."""
    return [data.get("paper", data)["id"] for data in objects]


def segments(text: str, spans: Sequence[Span]) -> list[dict[str, Any]]:
    """`text` cut into runs, each marked whether the query matched it."""
    out: list[dict[str, Any]] = []
    add = out.append  # ~15 runs an abstract, 100 texts a page of results
    position = 0
    for start, end in spans:
        if start > position:
            add({"text": text[position:start], "highlighted": False})
        add({"text": text[start:end], "highlighted": True})
        position = end
    if position < len(text):
        out.append({"text": text[position:], "highlighted": False})
    return out


def search_item(
    hit: Hit, listed: ListedPaper | None, thumbnail: str | None = None
) -> dict[str, Any]:
    """One item of GET /api/papers/search: a daily item plus scores and highlighted runs."""
    base: dict[str, Any] = (
        daily_item(listed, thumbnail=thumbnail)
        if listed is not None
        else {
            "paper": paper_object(hit.paper, hit.upvotes),
            "publishedAt": iso_z(hit.paper.listed or hit.paper.published),
            "title": hit.paper.title,
            "summary": hit.paper.abstract,
            "numComments": 0,
            "isAuthorParticipating": False,
        }
    )
    base.update(
        highlightedTitle=segments(hit.paper.title, hit.title_spans),
        highlightedSummary=segments(hit.paper.abstract, hit.abstract_spans),
        score=round(hit.score, 6),
        keywordRank=hit.keyword_rank,
        semanticRank=hit.vector_rank,
    )
    return base
