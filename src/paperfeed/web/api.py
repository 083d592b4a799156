"""The JSON API: the Hugging Face Papers paths, parameters and fields (see hf_format.py)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from paperfeed.ids import thumbnail_path
from paperfeed.listings import latest_listing, parse_period, period_listing, trending_listing
from paperfeed.models import SearchFilters
from paperfeed.storage import Store
from paperfeed.web.api_schema import (
    BAD_REQUEST,
    NEXT_PAGE_LINK,
    NOT_FOUND,
    Cursor,
    DailyItem,
    DailySort,
    Day,
    HasCode,
    Month,
    Page,
    PageLimit,
    PaperId,
    PaperObject,
    SearchItem,
    SearchLimit,
    SearchQuery,
    Submitter,
    Week,
)
from paperfeed.web.app import AppState, state_of
from paperfeed.web.caching import TRENDING_KEEP_S, share_header
from paperfeed.web.hf_format import (
    add_keywords,
    daily_item,
    paper_ids,
    paper_object,
    search_item,
)
from paperfeed.web.params import BadRequest, choice_param, flag_param, int_param, paper_pk

router = APIRouter(prefix="/api", tags=["papers"])


class ApiJson(JSONResponse):
    """JSON as JSONResponse writes it (UTF-8, compact), by orjson: a page of 50 search results
    (280 KB) takes 0.3 ms instead of 2.2."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


MAX_QUERY_CHARS = 250  # as Hugging Face caps `q`
MAX_SUBMITTER_CHARS = 100  # names are at most 32 here; HF's are short too
_MAX_KEY = 2**63 - 1
# Every answer here is the same for every reader: kept until the lists or the indexes change,
# trending for at most a minute (it moves with the clock too).
PUBLIC = share_header("public")
TRENDING = share_header("public", TRENDING_KEEP_S)
SEARCHED = share_header("public", search=True)  # kept apart: distinct queries are many


@router.get(
    "/papers/search",
    summary="Search papers (hybrid: keywords and meaning)",
    response_model=list[SearchItem],
    responses=BAD_REQUEST,
)
def search(
    request: Request, q: SearchQuery = "", limit: SearchLimit = None, has_code: HasCode = None
) -> ApiJson:
    """Items like /api/daily_papers, plus `highlightedTitle`/`highlightedSummary` runs
    ([{"text", "highlighted"}]), `score`, `keywordRank` and `semanticRank`. `limit`: 1-120;
    `has_code`: only papers that link to their code."""
    state = state_of(request)
    size = int_param("limit", limit, 50, 1, 120)
    filters = SearchFilters(has_code=flag_param("has_code", has_code))
    if not q.strip():
        return ApiJson([], headers=SEARCHED)
    results = state.searcher.search(q[:MAX_QUERY_CHARS], limit=size, filters=filters)
    thumbnails = _thumbnail_urls(state, [hit.paper.id for hit in results.hits])
    items = [search_item(hit, hit.listed, thumbnails.get(hit.paper.id)) for hit in results.hits]
    return ApiJson(with_keywords(state.store, items), headers=SEARCHED)


@router.get(
    "/daily_papers",
    summary="Daily papers of a day, an ISO week or a month",
    response_model=list[DailyItem],
    responses=BAD_REQUEST,
)
def daily_papers(
    request: Request,
    date: Day = None,
    week: Week = None,
    month: Month = None,
    submitter: Submitter = None,
    sort: DailySort = None,
    p: Page = None,
    limit: PageLimit = None,
    has_code: HasCode = None,
) -> ApiJson:
    """`date` YYYY-MM-DD, `week` YYYY-Www or `month` YYYY-MM (at most one; default: the
    latest day). `sort`: publishedAt (default; by day, then votes) or trending (votes decayed by
    age, across days when no period is given). `submitter`: only the papers that user
    submitted (within the period if one is given, else from every day), newest day first.
    `p` page from 0, `limit` 1-100 (default 50). `has_code`: only papers that link to their
    code."""
    state = state_of(request)
    code = flag_param("has_code", has_code)
    order = choice_param("sort", sort, ("publishedAt", "trending"), "publishedAt")
    page = int_param("p", p, 0, 0, 100_000)
    size = int_param("limit", limit, 50, 1, 100)
    given = [
        (kind, value) for kind, value in (("date", date), ("week", week), ("month", month)) if value
    ]
    if len(given) > 1:
        raise BadRequest("give at most one of date, week and month")
    if submitter is not None and submitter.strip():
        # In the database, a page at a time: filtering a fetched page would lose papers past it.
        period = parse_period(*given[0]) if given else None
        submitted = state.store.submitted_papers(
            submitter.strip()[:MAX_SUBMITTER_CHARS],
            period.start if period else None,
            period.end if period else None,
            size,
            page * size,
        )
        return ApiJson([daily_item(item) for item in submitted], headers=PUBLIC)
    if given:
        period = parse_period(*given[0])
        listing = period_listing(
            state.store, period, page, size, "upvotes" if order == "trending" else "date", code
        )
    elif order == "trending":
        listing = trending_listing(
            state.store,
            datetime.now(UTC),
            page,
            size,
            state.settings.trending_window_days,
            has_code=code,
        )
    else:
        latest = latest_listing(state.store, "date", page, size, "date", code)
        if latest is None:
            return ApiJson([], headers=PUBLIC)
        listing = latest
    items = listing.items
    headers = TRENDING if order == "trending" else PUBLIC
    thumbnails = _thumbnail_urls(state, [item.paper.id for item in items])
    found = [
        daily_item(item, listing.trends.get(item.pk), thumbnails.get(item.paper.id))
        for item in items
    ]
    return ApiJson(with_keywords(state.store, found), headers=headers)


def _encode_cursor(day: date, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{day.isoformat()}|{pk}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[date, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        day, pk = raw.split("|")
        # Keys are 64-bit on both backends: a bigger number would overflow the database's
        # integer (a 500), and no page of ours ever handed it out.
        if not (pk.isascii() and pk.isdigit() and int(pk) <= _MAX_KEY):
            raise ValueError(pk)
        return date.fromisoformat(day), int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("cursor is not one this server gave out") from None


@router.get(
    "/papers",
    summary="All papers, newest first, a page at a time",
    response_model=list[DailyItem],
    responses={**NEXT_PAGE_LINK, **BAD_REQUEST},
)
def papers(request: Request, cursor: Cursor = None, limit: PageLimit = None) -> ApiJson:
    """Items like /api/daily_papers, newest first. The next page's URL is in the `Link`
    header (rel="next"), with an opaque `cursor`. `limit`: 1-100 (default 50)."""
    state = state_of(request)
    size = int_param("limit", limit, 50, 1, 100)
    before = _decode_cursor(cursor) if cursor else None
    items = state.store.newest_papers(before, size)
    headers = dict(PUBLIC)
    if len(items) == size and items[-1].day is not None:
        next_cursor = _encode_cursor(items[-1].day, items[-1].pk)
        # From the configured address, never the request's Host header (a client could
        # otherwise have the server link anywhere).
        query = urlencode({"cursor": next_cursor, "limit": size})
        headers["Link"] = f'<{state.settings.base_url.rstrip("/")}/api/papers?{query}>; rel="next"'
    thumbnails = _thumbnail_urls(state, [item.paper.id for item in items])
    found = [daily_item(item, thumbnail=thumbnails.get(item.paper.id)) for item in items]
    return ApiJson(with_keywords(state.store, found), headers=headers)


@router.get(
    "/papers/{paper_id:path}",
    summary="One paper by arXiv id",
    response_model=PaperObject,
    responses={**BAD_REQUEST, **NOT_FOUND},
)
def paper(request: Request, paper_id: PaperId) -> ApiJson:
    """The paper object (the `paper` of a daily item); 404 {"error": ...} if unknown."""
    state = state_of(request)
    _, pk = paper_pk(state.store, paper_id)
    listed = state.store.listed_by_pk([pk]).get(pk)
    if listed is None:  # no day to list it under: the paper alone
        found = state.store.papers_by_pk([pk])[pk]
        data: dict[str, Any] = paper_object(
            found, thumbnail=_thumbnail_urls(state, [found.id]).get(found.id)
        )
    else:
        thumbnail = _thumbnail_urls(state, [listed.paper.id]).get(listed.paper.id)
        data = paper_object(listed.paper, listed.upvotes, listed, thumbnail)
    return ApiJson(with_keywords(state.store, [data])[0], headers=PUBLIC)


def with_keywords(store: Store, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Paper objects or items with their papers' keyphrases (`ai_keywords`), read at once."""
    ids = paper_ids(objects)
    if ids:
        add_keywords(objects, store.keywords_for_ids(ids))
    return objects


def _thumbnail_urls(state: AppState, ids: list[str]) -> dict[str, str]:
    """The absolute URLs of the thumbnails of those papers that have one (HF's are absolute;
    from the configured address, never the request's Host)."""
    base = state.settings.base_url.rstrip("/")
    return {
        paper_id: base + thumbnail_path(paper_id, found.digest)
        for paper_id, found in state.store.thumbnails_for(ids).items()
    }
