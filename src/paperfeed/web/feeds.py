"""Atom feeds of trending papers, each day's papers, and any search, with absolute links."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from paperfeed.ids import paper_path
from paperfeed.listings import latest_listing, parse_period, period_listing, trending_listing
from paperfeed.models import MAX_ABSTRACT_CHARS, MAX_TITLE_CHARS, Paper, clip
from paperfeed.search.followed import for_you as for_you_papers
from paperfeed.web.app import state_of
from paperfeed.web.caching import TRENDING_KEEP_S, share_header
from paperfeed.web.library import FOR_YOU_DAYS, own_collection

router = APIRouter(prefix="/feeds", include_in_schema=False)

ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 30
MEDIA_TYPE = "application/atom+xml; charset=utf-8"


def stamp(value: date | datetime | None) -> str:
    if value is None:
        value = datetime.now(UTC)
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0, 0), tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    """A child element of an Atom document (ElementTree escapes its text and attributes)."""
    child = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        child.text = text
    return child


def new_feed(
    title: str, self_url: str, page_url: str, updated: date | datetime | None
) -> ET.Element:
    """An Atom feed element with its head (id, title, updated, self and page links); entries
    go in with `add`, and ET.tostring(feed, encoding="utf-8", xml_declaration=True) writes it."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    add(feed, "id", self_url)
    add(feed, "title", title)
    add(feed, "updated", stamp(updated))
    add(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    add(feed, "link", rel="alternate", href=page_url, type="text/html")
    add(feed, "generator", "paperfeed")
    return feed


def atom_feed(
    title: str, self_url: str, page_url: str, base_url: str, papers: list[tuple[Paper, date | None]]
) -> bytes:
    """An Atom 1.0 document; `papers` pairs each paper with the day it was listed."""
    days = [day or p.day for p, day in papers]
    feed = new_feed(title, self_url, page_url, max((d for d in days if d), default=None))
    for (paper, _), day in zip(papers, days, strict=True):
        entry = add(feed, "entry")
        url = base_url + paper_path(paper.id)
        add(entry, "id", url)
        # No more than ingest keeps, whatever a database written before the caps holds.
        add(entry, "title", clip(paper.title, MAX_TITLE_CHARS) or paper.id)
        add(entry, "link", rel="alternate", href=url, type="text/html")
        if paper.abs_url:
            add(entry, "link", rel="related", href=paper.abs_url, title="arXiv")
        add(entry, "updated", stamp(day or paper.updated or paper.published))
        if paper.published:
            add(entry, "published", stamp(paper.published))
        for name in paper.authors:
            add(add(entry, "author"), "name", name)
        for category in paper.categories:
            add(entry, "category", term=category)
        add(entry, "summary", clip(paper.abstract, MAX_ABSTRACT_CHARS), type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _respond(
    request: Request,
    title: str,
    page_path: str,
    papers: list[tuple[Paper, date | None]],
    keep_s: float | None = None,
    private: bool = False,
    search: bool = False,
) -> Response:
    """The feed; the same for every reader, so kept until the lists or the indexes change (for
    at most `keep_s` when given). A reader's `private` feed is never kept, and no shared
    cache may keep it."""
    base = state_of(request).settings.base_url.rstrip("/")
    self_url = base + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if private:
        headers = {"Cache-Control": "private, no-cache"}
    else:
        headers = share_header("public", keep_s, search)
    return Response(
        atom_feed(title, self_url, base + page_path, base, papers),
        media_type=MEDIA_TYPE,
        headers=headers,
    )


@router.get("/trending")
def trending(request: Request) -> Response:
    state = state_of(request)
    listing = trending_listing(
        state.store, datetime.now(UTC), 0, FEED_SIZE, state.settings.trending_window_days
    )
    papers = [(i.paper, i.day) for i in listing.items]
    title = f"{state.settings.site_name}: trending papers"
    return _respond(request, title, "/papers/trending", papers, TRENDING_KEEP_S)


@router.get("/latest")
def latest(request: Request) -> Response:
    state = state_of(request)
    listing = latest_listing(state.store, "date", 0, 100)
    papers = [(i.paper, i.day) for i in listing.items] if listing else []
    title = f"{state.settings.site_name}: {listing.title if listing else 'daily papers'}"
    return _respond(request, title, "/", papers)


@router.get("/date/{day}")
def daily(request: Request, day: str) -> Response:
    state = state_of(request)
    period = parse_period("date", day)
    listing = period_listing(state.store, period, 0, 200)
    papers = [(i.paper, i.day) for i in listing.items]
    return _respond(
        request, f"{state.settings.site_name}: {period.label}", f"/papers/date/{period.key}", papers
    )


@router.get("/search")
def search(request: Request, q: str = "") -> Response:
    state = state_of(request)
    hits = state.searcher.search(q, limit=FEED_SIZE, highlight=False).hits if q.strip() else []
    page = "/search?" + urlencode({"q": q})
    papers = [(hit.paper, hit.paper.listed) for hit in hits]
    title = f"{state.settings.site_name}: search for {q[:80]!r}"
    return _respond(request, title, page, papers, search=True)


def _owner(request: Request, token: str) -> int:
    """The reader a private feed token belongs to; 404 for any other (revoked, made up)."""
    owner = state_of(request).store.owner_of_feed_token(token[:200])
    if owner is None:
        raise HTTPException(404)  # replaced or turned off in the library, or never made
    return owner


@router.get("/for-you/{token}")
def for_you(request: Request, token: str, interest: str | None = None) -> Response:
    """A reader's "for you" (or one collection's, `interest`), for a feed reader: the link's
    token is the key (made and revoked in the library)."""
    state = state_of(request)
    owner = _owner(request, token)
    collection = None
    if interest:
        collection = own_collection(state, owner, interest)
    latest = state.store.latest_day()
    since = None if latest is None else latest - timedelta(days=FOR_YOU_DAYS)
    chosen = collection.id if collection else None
    pks = [f.pk for f in for_you_papers(state.searcher, owner, chosen, since, FEED_SIZE)]
    listed = state.store.listed_by_pk(pks[: FEED_SIZE * 2])
    papers = [(listed[pk].paper, listed[pk].day) for pk in pks if pk in listed]
    name = f"for you: {collection.name}" if collection else "for you"
    page = "/for-you" + (f"?interest={collection.id}" if collection else "")
    return _respond(request, f"{state.settings.site_name}: {name}", page, papers, private=True)


@router.get("/collection/{token}/{collection_id}")
def collection(request: Request, token: str, collection_id: str) -> Response:
    """One of the reader's collections, the newest saved first."""
    state = state_of(request)
    owner = _owner(request, token)
    chosen = own_collection(state, owner, collection_id)
    entries = state.store.collection_entries(chosen.id, 100, 0)
    papers: list[tuple[Paper, date | None]] = [(e.paper, e.added_at.date()) for e in entries]
    title = f"{state.settings.site_name}: {chosen.name}"
    return _respond(request, title, f"/library/{chosen.id}", papers, private=True)
