"""The HTML pages: daily/weekly/monthly lists, trending, search, a paper, the API docs."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from paperfeed.authors import author_page
from paperfeed.ids import paper_path
from paperfeed.listings import (
    Listing,
    latest_listing,
    parse_period,
    period_listing,
    trending_listing,
)
from paperfeed.models import ListedPaper, Paper, SearchFilters
from paperfeed.moderation import is_operator
from paperfeed.search.names import author_key
from paperfeed.search.resolve import paper_named_by
from paperfeed.search.searcher import MODES, SORTS, Hit
from paperfeed.storage import PaperHidden
from paperfeed.web.app import AppState, state_of
from paperfeed.web.caching import TRENDING_KEEP_S, rendered_for_anyone, share_header
from paperfeed.web.discussion_view import discussion_view
from paperfeed.web.markdown import paper_markdown
from paperfeed.web.params import (
    categories_param,
    choice_param,
    day_param,
    flag_param,
    int_param,
    paper_id_param,
)
from paperfeed.web.security import current_subscriber

router = APIRouter(include_in_schema=False)

LIST_PAGE = 30
SEARCH_PAGE = 20
SIMILAR = 6
_CATEGORIES_TTL_S = 300.0
_categories_cache: dict[int, tuple[float, list[str]]] = {}


@dataclass(frozen=True)
class SearchForm:
    """What the search form holds, read and checked."""

    q: str
    categories: tuple[str, ...]
    since: date | None
    until: date | None
    sort: str
    mode: str
    page: int
    has_code: bool = False


def render(
    request: Request,
    template: str,
    keep_s: float | None = None,
    keep: bool = True,
    search: bool = False,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """The page; rendered for anyone not signed in, it is kept (for at most `keep_s` when
    given) until the lists or the search indexes change (web/caching.py), unless `keep` is
    False (a page built from what those versions do not follow, such as a shared collection);
    `search` pages are kept apart from the lists (distinct queries are many).
    A signed-in reader's page marks what they upvoted, saved, dismissed and read; papers
    with a thumbnail show it; every page's papers bring their keyphrases (one query)."""
    state = state_of(request)
    context.update(_reader_marks(request, state, context))
    ids = _page_ids(context)
    context.setdefault("thumbnails", state.store.thumbnails_for(ids) if ids else {})
    context["keywords"] = state.store.keywords_for_ids(ids) if ids else {}
    kept = keep and status == 200 and rendered_for_anyone(request.scope)
    headers = share_header("anonymous", keep_s, search) if kept else None
    return state.templates.TemplateResponse(
        request, template, context, status_code=status, headers=headers
    )


def _page_ids(context: dict[str, Any]) -> list[str]:
    """The ids of the papers a page shows."""
    ids: list[str] = []
    listing = context.get("listing")
    if listing is not None:
        ids += [item.paper.id for item in listing.items]
    results = context.get("results")
    if results is not None:
        ids += [hit.paper.id for hit in results.hits]
    ids += [hit.paper.id for hit in context.get("similar") or ()]
    ids += [entry.paper.id for entry in context.get("entries") or ()]
    ids += [listed.paper.id for listed, *_ in context.get("items") or ()]
    ids += [listed.paper.id for listed in context.get("submitted") or ()]
    if context.get("paper") is not None:
        ids.append(context["paper"].id)
    return ids


NO_MARKS: dict[str, set[str]] = {
    "voted_ids": set(),
    "saved_ids": set(),
    "dismissed_ids": set(),
    "read_ids": set(),
}


def _reader_marks(
    request: Request, state: AppState, context: dict[str, Any]
) -> dict[str, set[str]]:
    """Which papers on the page the signed-in reader upvoted, saved, dismissed and read (a
    few queries for the page; nothing for anyone not signed in)."""
    account = current_subscriber(request, state.store, state.settings, datetime.now(UTC))
    ids = _page_ids(context) if account is not None else []
    if account is None or not ids:
        return NO_MARKS
    pks = state.store.pks_for_ids(ids)
    ids_of = {pk: paper_id for paper_id, pk in pks.items()}

    def named(found: set[int]) -> set[str]:
        return {ids_of[pk] for pk in found if pk in ids_of}

    on_page = set(ids_of)
    return {
        "voted_ids": state.store.voted(account.id, ids),
        "saved_ids": named(set(state.store.saved_in(account.id, on_page))),
        "dismissed_ids": named(state.store.dismissed_pks(account.id) & on_page),
        "read_ids": named(state.store.read_pks(account.id) & on_page),
    }


def _list_page(
    request: Request, listing: Listing | None, active: str, keep_s: float | None = None
) -> HTMLResponse:
    return render(request, "list.html", keep_s, listing=listing, active=active)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, p: str | None = None, has_code: str | None = None) -> HTMLResponse:
    """The latest day with papers (with has_code=1, those that link to their code)."""
    state = state_of(request)
    page = int_param("p", p, 0, 0, 10_000)
    code = flag_param("has_code", has_code)
    listing = state.lists.get(
        ("latest", page, code),
        lambda: latest_listing(state.store, "date", page, LIST_PAGE, has_code=code),
    )
    return render(request, "list.html", listing=listing, active="daily", home=True)


@router.get("/papers/trending", response_class=HTMLResponse)
def trending(request: Request, p: str | None = None, has_code: str | None = None) -> HTMLResponse:
    state = state_of(request)
    page = int_param("p", p, 0, 0, 10_000)
    code = flag_param("has_code", has_code)
    # Measured at the minute, so one list serves a whole minute of readers.
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    window = state.settings.trending_window_days
    listing = state.lists.get(
        ("trending", page, now, window, code),
        lambda: trending_listing(state.store, now, page, LIST_PAGE, window, has_code=code),
    )
    return _list_page(request, listing, "trending", TRENDING_KEEP_S)


def _period_page(
    request: Request,
    kind: str,
    value: str,
    p: str | None,
    sort: str | None,
    has_code: str | None,
) -> HTMLResponse:
    state = state_of(request)
    page = int_param("p", p, 0, 0, 10_000)
    order = choice_param("sort", sort, ("upvotes", "date"), "upvotes")
    code = flag_param("has_code", has_code)
    period = parse_period(kind, value)
    listing = state.lists.get(
        ("period", period, page, order, code),
        lambda: period_listing(state.store, period, page, LIST_PAGE, order, code),
    )
    return _list_page(request, listing, "daily")


@router.get("/papers/date/{day}", response_class=HTMLResponse)
def by_date(
    request: Request,
    day: str,
    p: str | None = None,
    sort: str | None = None,
    has_code: str | None = None,
) -> HTMLResponse:
    return _period_page(request, "date", day, p, sort, has_code)


@router.get("/papers/week/{week}", response_class=HTMLResponse)
def by_week(
    request: Request,
    week: str,
    p: str | None = None,
    sort: str | None = None,
    has_code: str | None = None,
) -> HTMLResponse:
    return _period_page(request, "week", week, p, sort, has_code)


@router.get("/papers/month/{month}", response_class=HTMLResponse)
def by_month(
    request: Request,
    month: str,
    p: str | None = None,
    sort: str | None = None,
    has_code: str | None = None,
) -> HTMLResponse:
    return _period_page(request, "month", month, p, sort, has_code)


def _top_categories(state: AppState) -> list[str]:
    """The catalog's 40 biggest categories, for the filter's suggestions (cached 5 minutes)."""
    key = id(state.store)
    cached = _categories_cache.get(key)
    if cached and time.monotonic() - cached[0] < _CATEGORIES_TTL_S:
        return cached[1]
    top = list(state.store.catalog_stats().by_category)[:40]
    _categories_cache[key] = (time.monotonic(), top)
    return top


@router.get("/search", response_model=None)
def search_page(
    request: Request,
    q: str = "",
    category: list[str] = Query(default=[]),  # noqa: B008 (FastAPI's way to read a list)
    since: str | None = None,
    until: str | None = None,
    sort: str | None = None,
    mode: str | None = None,
    p: str | None = None,
    has_code: str | None = None,
) -> Response:
    """Search results like the reference page: title, authors, date, categories, highlights.

    A query that is only a paper's reference (arXiv id or URL, DOI) opens that paper's page.
    """
    state = state_of(request)
    form = SearchForm(
        q=q,
        categories=categories_param(category),
        since=day_param("since", since),
        until=day_param("until", until),
        sort=choice_param("sort", sort, SORTS, "relevance"),
        mode=choice_param("mode", mode, MODES, "hybrid"),
        page=int_param("p", p, 0, 0, 49),
        has_code=flag_param("has_code", has_code),
    )
    results = None
    if q.strip():
        named = paper_named_by(state.store, state.searcher.keyword, q)
        if named is not None:
            return RedirectResponse(paper_path(named), status_code=303)
        results = state.searcher.search(
            q,
            limit=SEARCH_PAGE,
            offset=form.page * SEARCH_PAGE,
            mode=form.mode,
            filters=SearchFilters(form.categories, form.since, form.until, has_code=form.has_code),
            sort=form.sort,
        )
    return render(
        request,
        "search.html",
        search=True,
        form=form,
        results=results,
        page_url=lambda page: _search_page_url(request, page),
        page_size=SEARCH_PAGE,
        all_categories=_top_categories(state),
        active="search",
    )


def _search_page_url(request: Request, page: int) -> str:
    """The same search on another page, as a relative URL (nothing from the Host header)."""
    kept = [(key, value) for key, value in request.query_params.multi_items() if key != "p"]
    return "/search?" + urlencode([*kept, ("p", str(page))])


@router.get("/authors/{name:path}", response_class=HTMLResponse)
def author(request: Request, name: str, p: str | None = None) -> HTMLResponse:
    """An author's papers, newest first, and their frequent co-authors."""
    state = state_of(request)
    page = int_param("p", p, 0, 0, 1000)
    found = state.lists.get(
        ("author", author_key(name), page),
        lambda: author_page(state.store, state.searcher.keyword, name, page, LIST_PAGE),
    )
    account = current_subscriber(request, state.store, state.settings, datetime.now(UTC))
    following = account is not None and any(
        f.kind == "author" and author_key(f.value) == found.key
        for f in state.store.follows_of(account.id)
    )
    return render(
        request, "author.html", author=found, listing=found, following=following, active=""
    )


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """The JSON API, described from its OpenAPI schema."""
    base_url = state_of(request).settings.base_url.rstrip("/")
    return render(
        request, "docs.html", schema=request.app.openapi(), base_url=base_url, active="api"
    )


@router.get("/papers/{paper_id:path}", response_model=None)
def paper_page(request: Request, paper_id: str) -> Response:
    """A paper (or, with .md, the paper as Markdown); unknown ids get a 404 page with search."""
    state = state_of(request)
    as_markdown = paper_id.endswith(".md")
    raw = paper_id[:-3] if as_markdown else paper_id
    paper = state.store.get_paper(paper_id_param(raw))
    _hidden_for(request, state, paper)
    page_url = state.settings.base_url.rstrip("/") + paper_path(paper.id)
    if as_markdown:
        return PlainTextResponse(
            paper_markdown(paper, page_url), media_type="text/markdown; charset=utf-8"
        )
    return paper_response(request, paper)


def paper_response(
    request: Request, paper: Paper, status: int = 200, **context: Any
) -> HTMLResponse:
    """A paper's page with its discussion (`context` adds to it: a refused comment's draft
    and why it was refused)."""
    state = state_of(request)
    listed, similar = state.lists.get(("paper", paper.id), lambda: _paper_parts(state, paper))
    hidden, operator = _hidden_for(request, state, paper)
    account = current_subscriber(request, state.store, state.settings, datetime.now(UTC))
    pk = listed.pk if listed else state.store.pks_for_ids([paper.id])[paper.id]
    discussion = discussion_view(state, account, pk, listed.hf_comments if listed else 0)
    return render(
        request,
        "paper.html",
        status=status,
        paper=paper,
        listed=listed,
        similar=similar,
        active="",
        discussion=discussion,
        operator=operator,
        hidden=hidden,
        **context,
    )


def _hidden_for(request: Request, state: AppState, paper: Paper) -> tuple[bool, bool]:
    """(hidden, operator): whether an operator hid the paper, and whether the reader is one;
    PaperHidden (a 404) for anyone else when it is hidden."""
    hidden = paper.id in state.store.hidden_keys("paper")
    account = current_subscriber(request, state.store, state.settings, datetime.now(UTC))
    operator = is_operator(state.settings, account)
    if hidden and not operator:
        raise PaperHidden(paper.id)
    return hidden, operator


def _paper_parts(state: AppState, paper: Paper) -> tuple[ListedPaper | None, list[Hit]]:
    """What a paper's page shows besides the paper: its day and counts, and similar papers."""
    pk = state.store.pks_for_ids([paper.id])[paper.id]
    return state.store.listed_by_pk([pk]).get(pk), state.searcher.similar(paper.id, SIMILAR)
