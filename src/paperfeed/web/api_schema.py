"""What the JSON API documents in /openapi.json: parameter types, bodies, answers and errors.

The answers themselves are built by hf_format.py (the Hugging Face Papers shapes); these types
only describe them, and tests/test_api_fuzz.py checks every answer against them. The objects
are closed (no undocumented fields), so a field added in hf_format.py must be added here too.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from fastapi import FastAPI, Path, Query
from fastapi.openapi.utils import get_openapi
from pydantic import ConfigDict, WithJsonSchema, with_config
from typing_extensions import TypedDict

from paperfeed.models import FREQUENCIES

_CLOSED = ConfigDict(extra="forbid")


@with_config(_CLOSED)
class Error(TypedDict):
    """Every 4xx answer of the API."""

    error: str


@with_config(_CLOSED)
class Author(TypedDict):
    name: str
    hidden: bool


@with_config(_CLOSED)
class User(TypedDict):
    """Who submitted a paper to the daily list (user, name and fullname are the same): a
    reader here (`via` "paperfeed", their public name) or, imported, a Hugging Face user."""

    user: str
    name: str
    fullname: str
    type: Literal["user"]
    via: Literal["paperfeed", "huggingface"]


@with_config(_CLOSED)
class Links(TypedDict):
    """arXiv's abstract page and PDF (null for papers from other sources)."""

    abs: str | None
    pdf: str | None


@with_config(_CLOSED)
class PaperObject(TypedDict):
    """A paper: GET /api/papers/{paper_id}, and the `paper` of every list item. Timestamps
    are ISO 8601 in UTC with milliseconds (2026-06-25T17:59:00.000Z)."""

    id: str
    authors: list[Author]
    publishedAt: str | None
    title: str
    summary: str
    upvotes: int
    discussionId: str
    categories: list[str]
    comment: str | None
    doi: str | None
    journalRef: str | None
    version: int | None
    listedAt: str | None
    links: Links
    submittedOnDailyAt: NotRequired[str]
    submittedOnDailyBy: NotRequired[User]
    githubRepo: NotRequired[str]  # a repository its abstract or comment links to
    projectPage: NotRequired[str]
    thumbnail: NotRequired[str]  # GET /api/papers/{paper_id} only: the first page of the PDF
    numComments: NotRequired[int]  # visible comments in this site's discussion
    ai_keywords: NotRequired[list[str]]  # keyphrases picked from its text (keywords/)


@with_config(_CLOSED)
class TrendingWhy(TypedDict):
    """Why an item ranks where it does with sort=trending: its votes, its age, their score."""

    upvotes: int
    ageHours: float
    score: float


@with_config(_CLOSED)
class DailyItem(TypedDict):
    """An item of /api/daily_papers and /api/papers: the paper and its day in the lists."""

    paper: PaperObject
    publishedAt: str | None
    title: str
    summary: str
    thumbnail: str | None
    numComments: int
    isAuthorParticipating: bool
    submittedBy: NotRequired[User]
    trending: NotRequired[TrendingWhy]


@with_config(_CLOSED)
class Run(TypedDict):
    """A piece of a title or summary, and whether the query matched it."""

    text: str
    highlighted: bool


@with_config(_CLOSED)
class SearchItem(TypedDict):
    """An item of /api/papers/search: a daily item (thumbnail and submittedBy only for listed
    papers) with the highlighted title and summary, the fused score and both ranks."""

    paper: PaperObject
    publishedAt: str | None
    title: str
    summary: str
    thumbnail: NotRequired[str | None]
    numComments: int
    isAuthorParticipating: bool
    submittedBy: NotRequired[User]
    highlightedTitle: list[Run]
    highlightedSummary: list[Run]
    score: float
    keywordRank: int | None
    semanticRank: int | None


@with_config(_CLOSED)
class SubscribeAccepted(TypedDict):
    """The answer to a subscription: the same whether or not the address was subscribed."""

    status: Literal["pending"]
    message: str


# Query parameters are read as text by the handlers (params.py words the 400s) and documented
# with their real types here.
SearchLimit = Annotated[
    str | None,
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 120}),
    Query(description="How many results, 1-120 (default 50)."),
]
PageLimit = Annotated[
    str | None,
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 100}),
    Query(description="How many items, 1-100 (default 50)."),
]
Page = Annotated[
    str | None,
    WithJsonSchema({"type": "integer", "minimum": 0, "maximum": 100_000}),
    Query(description="The page, from 0 (default 0)."),
]
Day = Annotated[
    str | None,
    WithJsonSchema({"type": "string", "format": "date"}),
    Query(description="A day, YYYY-MM-DD: the papers listed that day."),
]
Week = Annotated[
    str | None,
    WithJsonSchema({"type": "string", "pattern": r"^\d{4}-W\d{2}$"}),
    Query(description="An ISO week, YYYY-Www (Monday to Sunday), e.g. 2026-W26."),
]
Month = Annotated[
    str | None,
    WithJsonSchema({"type": "string", "pattern": r"^\d{4}-\d{2}$"}),
    Query(description="A month, YYYY-MM."),
]
DailySort = Annotated[
    str | None,
    WithJsonSchema({"type": "string", "enum": ["publishedAt", "trending"]}),
    Query(description="publishedAt (default: by day, then votes) or trending."),
]
Submitter = Annotated[
    str | None,
    WithJsonSchema({"type": "string"}),
    Query(
        description="Only papers this user submitted to the daily list: a reader's public name "
        "here (any case), or a Hugging Face user's name (as spelled) for papers no reader here "
        "submitted. With date, week or month, within it; without, from every day, newest first."
    ),
]
HasCode = Annotated[
    str | None,
    WithJsonSchema({"type": "boolean"}),
    Query(description="Only papers whose abstract or comment links to their code (true or 1)."),
]
Cursor = Annotated[
    str | None,
    WithJsonSchema({"type": "string"}),
    Query(description="Where the page starts: from the previous page's Link header."),
]
PaperId = Annotated[
    str,
    Path(
        description="An arXiv id, new or old style, with or without version: 2606.27372, "
        "arXiv:2606.27372v2, hep-th/9901001."
    ),
]
SearchQuery = Annotated[
    str,
    WithJsonSchema({"type": "string"}),
    Query(description="What to look for (the first 250 characters are used)."),
]


@with_config(_CLOSED)
class CollectionObject(TypedDict):
    """One of the signed-in reader's collections."""

    id: int
    name: str
    size: int
    readingList: bool
    createdAt: str
    shared: bool


@with_config(_CLOSED)
class LibraryEntryObject(TypedDict):
    """A paper in a collection: the paper, when it was saved, and the reader's note."""

    paper: PaperObject
    addedAt: str
    note: str | None


@with_config(_CLOSED)
class CollectionPage(TypedDict):
    collection: CollectionObject
    papers: list[LibraryEntryObject]


@with_config(_CLOSED)
class Reason(TypedDict):
    """Why a paper is "for you": the liked paper it is most like, or what the reader
    follows that brought it (then `likeId` is null)."""

    text: str
    likeId: str | None


@with_config(_CLOSED)
class ForYouItem(TypedDict):
    paper: PaperObject
    reason: Reason
    score: float | None


@with_config(_CLOSED)
class Reply(TypedDict):
    """A reply in a paper's discussion. `text` is the Markdown as written (escape it where
    you show it); `html` is it rendered safe (links rel="nofollow ugc", math left as $...$
    for KaTeX). `removed` is "deleted" or "hidden" for a comment kept only as its replies'
    place (then text, html and author are empty)."""

    id: int
    parentId: int | None
    author: str | None
    text: str
    html: str
    createdAt: str
    editedAt: str | None
    removed: str | None


@with_config(_CLOSED)
class CommentObject(Reply):
    """A top comment of a paper's discussion, with its replies (one level), oldest first."""

    replies: list[Reply]


@with_config(_CLOSED)
class Discussion(TypedDict):
    """GET /api/papers/{paper_id}/comments: a paper's discussion on this site."""

    paperId: str
    numComments: int
    comments: list[CommentObject]


def _error(description: str) -> dict[str, Any]:
    return {"model": Error, "description": description}


BAD_REQUEST: dict[int | str, dict[str, Any]] = {
    400: _error("A parameter is malformed or out of range, or the host is not this site's.")
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _error("No paper has this id.")}
SIGNED_IN: dict[int | str, dict[str, Any]] = {
    401: _error(
        "Not signed in: the library and For you are a signed-in reader's (the "
        "session cookie of the web pages)."
    ),
    404: _error("No collection of yours has this id."),
}
RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: _error("Too many requests from this address; try again later.")
}
NEXT_PAGE_LINK: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            "Link": {
                "description": 'The next page: <https://.../api/papers?cursor=...>; rel="next" '
                "(absent on the last page).",
                "schema": {"type": "string"},
            }
        }
    }
}

_SUBSCRIBE_FIELDS: dict[str, Any] = {
    "email": {"type": "string", "description": "The address; it gets a confirmation link."},
    "frequency": {"enum": [*FREQUENCIES, None], "description": "daily (default) or weekly."},
    "weekdays_only": {"type": ["boolean", "null"], "description": "Daily mail on weekdays."},
    "topics": {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": ["string", "null"]}],
        "description": "Up to 10 topics (or text, one a line) to match new papers against.",
    },
    "categories": {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": ["string", "null"]}],
        "description": "Up to 20 arXiv categories, like cs.LG.",
    },
    "max_papers": {"type": ["integer", "null"], "minimum": 1, "maximum": 50},
    "timezone": {"type": ["string", "null"], "description": "An IANA name, like Europe/Paris."},
}

# The body of POST /api/subscribe (`openapi_extra`: the handler reads the body itself, so that a
# form and JSON both work and every mistake is a 400 with a message).
SUBSCRIBE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "required": ["email"], "properties": _SUBSCRIBE_FIELDS}
            },
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["email"],
                    "properties": {
                        "email": {"type": "string"},
                        "frequency": {"type": "string", "enum": list(FREQUENCIES)},
                        "weekdays_only": {"type": "string", "enum": ["1", "on"]},
                        "topics": {"type": "array", "items": {"type": "string"}},
                        "categories": {"type": "array", "items": {"type": "string"}},
                        "max_papers": {"type": "integer", "minimum": 1, "maximum": 50},
                        "timezone": {"type": "string"},
                    },
                }
            },
        },
    }
}


def api_schema(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, made once: FastAPI's, less the 422 answers it adds to every
    operation with parameters (the one error handler answers bad input with a 400 Error)."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
        schemas = document.get("components", {}).get("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        app.openapi_schema = document
    return app.openapi_schema
