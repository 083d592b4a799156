"""A paper's discussion as others read it without the page: an Atom feed of its comments
(/papers/{id}/discussion.atom) and JSON (GET /api/papers/{id}/comments). Both leave out what
operators hid and what authors deleted, and are kept until a comment changes (list_version)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from paperfeed.discussion.threads import Shown, threads, visible_count
from paperfeed.ids import paper_path
from paperfeed.models import MAX_TITLE_CHARS, Comment, clip
from paperfeed.web.api import ApiJson
from paperfeed.web.api_schema import BAD_REQUEST, NOT_FOUND, Discussion, PaperId
from paperfeed.web.app import state_of
from paperfeed.web.caching import share_header
from paperfeed.web.discussion import comment_json
from paperfeed.web.feeds import MEDIA_TYPE, add, new_feed, stamp
from paperfeed.web.params import paper_pk

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["papers"])

FEED_SIZE = 50
ANONYMOUS = "a reader"  # an author without a public name (or whose account is gone)


def discussion_atom(
    title: str,
    self_url: str,
    page_url: str,
    comments: list[Comment],
    html: dict[int, str],
    quiet_since: datetime | None = None,
) -> bytes:
    """An Atom 1.0 document of `comments` (newest first), each entry's content its safe HTML
    (`html` by comment id); ElementTree escapes every text and attribute. Without comments
    the feed was last updated `quiet_since` (the paper's date: the same answer every time)."""
    newest = max((c.edited_at or c.created_at for c in comments), default=quiet_since)
    feed = new_feed(title, self_url, page_url, newest)
    for comment in comments:
        entry = add(feed, "entry")
        url = f"{page_url}#comment-{comment.id}"
        name = comment.author_name or ANONYMOUS
        add(entry, "id", url)
        add(entry, "title", f"{'Reply' if comment.parent_id else 'Comment'} by {name}")
        add(entry, "link", rel="alternate", href=url, type="text/html")
        add(entry, "published", stamp(comment.created_at))
        add(entry, "updated", stamp(comment.edited_at or comment.created_at))
        add(add(entry, "author"), "name", name)
        add(entry, "content", html[comment.id], type="html")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


@router.get("/papers/{paper_id:path}/discussion.atom")
def discussion_feed(request: Request, paper_id: str) -> Response:
    """The newest visible comments of a paper's discussion, as Atom."""
    state = state_of(request)
    normalised, pk = paper_pk(state.store, paper_id)
    paper = state.store.get_paper(normalised)
    shown = [
        item
        for thread in threads(state.store.comments_of(pk))
        for item in (thread.top, *thread.replies)
        if item.placeholder is None
    ]
    shown.sort(key=lambda item: item.comment.id, reverse=True)
    shown = shown[:FEED_SIZE]
    base = state.settings.base_url.rstrip("/")
    name = clip(paper.title, MAX_TITLE_CHARS) or paper.id
    body = discussion_atom(
        f"{state.settings.site_name}: discussion of {name}",
        base + request.url.path,
        base + paper_path(paper.id),
        [item.comment for item in shown],
        {item.comment.id: str(item.html) for item in shown},
        paper.updated or paper.published,
    )
    return Response(body, media_type=MEDIA_TYPE, headers=share_header("public"))


def _reply_json(item: Shown) -> dict[str, Any]:
    data = comment_json(item.comment)
    data["html"] = str(item.html)
    data["removed"] = item.placeholder
    if item.placeholder:
        data.update(author=None, text="", editedAt=None)
    return data


@api_router.get(
    "/papers/{paper_id:path}/comments",
    summary="A paper's discussion on this site",
    response_model=Discussion,
    responses={**BAD_REQUEST, **NOT_FOUND},
)
def comments(request: Request, paper_id: PaperId) -> ApiJson:
    """The paper's visible comments, oldest first, each with its replies; `numComments`
    counts them (replies included). 404 {"error": ...} for an unknown paper."""
    state = state_of(request)
    normalised, pk = paper_pk(state.store, paper_id)
    found = state.store.comments_of(pk)
    data = {
        "paperId": normalised,
        "numComments": visible_count(found),
        "comments": [
            {**_reply_json(thread.top), "replies": [_reply_json(r) for r in thread.replies]}
            for thread in threads(found)
        ],
    }
    return ApiJson(data, headers=share_header("public"))
