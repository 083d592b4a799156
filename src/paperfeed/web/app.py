"""create_app(): the FastAPI application, its shared state, and the one error handler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from paperfeed.authors import AuthorNotFound
from paperfeed.config import Settings
from paperfeed.listings import BadPeriod
from paperfeed.people.secret_key import ensure_secret_key
from paperfeed.people.subscriptions import RateLimited
from paperfeed.search.searcher import BadQuery, Searcher, open_searcher
from paperfeed.storage import (
    CollectionNotFound,
    CommentNotFound,
    PaperNotFound,
    Store,
    StoreBusy,
    SubscriberNotFound,
    open_store,
)
from paperfeed.web.api_schema import api_schema
from paperfeed.web.assets import mount_static
from paperfeed.web.caching import GZIP_LEVEL, MINIMUM_GZIP, HttpCaching
from paperfeed.web.head import HeadAsGet
from paperfeed.web.headers import SecurityHeaders
from paperfeed.web.hosts import UNKNOWN_HOST, BadHost, allowed_hosts, host_allowed
from paperfeed.web.kept_lists import KeptLists
from paperfeed.web.limits import BodyLimit
from paperfeed.web.params import BadRequest
from paperfeed.web.rendering import STATIC, make_templates
from paperfeed.web.security import (
    SESSION_COOKIE,
    CsrfCookie,
    CsrfFailed,
    OperatorsOnly,
    SignInNeeded,
    reader_token,
)

log = logging.getLogger("paperfeed.web")
BUSY_RETRY_AFTER_S = 5


@dataclass
class AppState:
    """What every request handler needs, built once per process."""

    settings: Settings
    store: Store
    searcher: Searcher
    templates: Jinja2Templates
    lists: KeptLists  # what pages are built from, while the lists stand still


def state_of(request: Request) -> AppState:
    state: AppState = request.app.state.paperfeed
    return state


def create_app(
    settings: Settings, store: Store | None = None, searcher: Searcher | None = None
) -> FastAPI:
    """The application; opens the store and the searcher from `settings` unless given them."""
    from paperfeed.web import (
        api,
        discussion,
        discussion_feed,
        feeds,
        library,
        library_api,
        moderation,
        outbox,
        pages,
        people,
        submit,
        thumbnails,
        votes,
    )

    settings = ensure_secret_key(settings, store)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_store = store is None
        the_store = store or open_store(
            settings.database_url,
            pool_size=settings.database_pool_size,
            busy_timeout_s=settings.database_busy_timeout_s,
        )
        the_searcher = searcher or open_searcher(settings, the_store)
        await run_in_threadpool(the_searcher.refresh)
        await run_in_threadpool(the_store.set_trend_half_life, settings.trending_half_life_hours)
        app.state.paperfeed = AppState(
            settings,
            the_store,
            the_searcher,
            make_templates(settings),
            KeptLists(the_store, lambda: the_searcher.generation),
        )
        task = asyncio.create_task(_keep_fresh(the_searcher, settings.refresh_interval_s))
        try:
            yield
        finally:
            task.cancel()
            if own_store:
                the_store.close()

    app = FastAPI(
        title=f"{settings.site_name} API",
        description="Research papers: daily lists, trending, hybrid search. "
        "Paths, parameters and fields follow the Hugging Face Papers API.",
        version="1",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.openapi = lambda: api_schema(app)  # type: ignore[method-assign]
    mount_static(app, STATIC)
    app.include_router(people.router)
    app.include_router(votes.router)
    app.include_router(library.router)
    app.include_router(library_api.router)
    app.include_router(moderation.router)
    app.include_router(discussion.router)
    app.include_router(discussion_feed.router)
    app.include_router(discussion_feed.api_router)
    app.include_router(submit.router)
    app.include_router(api.router)
    app.include_router(feeds.router)
    app.include_router(thumbnails.router)
    if settings.dev:
        app.include_router(outbox.router)
    app.include_router(pages.router)

    # Innermost first. Pure ASGI throughout: a kept answer costs little more than the
    # framework itself (BaseHTTPMiddleware cost ~0.2 ms a request each).
    app.add_middleware(BodyLimit)
    app.add_middleware(CsrfCookie, settings=settings)
    # Compresses what HttpCaching does not answer itself (anything but GET).
    app.add_middleware(GZipMiddleware, minimum_size=MINIMUM_GZIP, compresslevel=GZIP_LEVEL)
    app.add_middleware(
        HttpCaching,
        versions=_versions,
        fill=reader_token(settings),
        session_cookie=SESSION_COOKIE,
    )
    app.add_middleware(CheckHost, hosts=allowed_hosts(settings))
    app.add_middleware(HeadAsGet)
    # Outermost: every answer carries the headers, refusals and errors included.
    app.add_middleware(SecurityHeaders, https=settings.base_url.startswith("https://"))

    for error in (
        PaperNotFound,
        AuthorNotFound,
        CollectionNotFound,
        CommentNotFound,
        SubscriberNotFound,
        BadPeriod,
        BadQuery,
        BadRequest,
        CsrfFailed,
        SignInNeeded,
        OperatorsOnly,
        RateLimited,
        StoreBusy,
        RequestValidationError,
        HTTPException,
        Exception,
    ):
        app.add_exception_handler(error, _handle_error)
    return app


async def _versions(scope: Scope) -> tuple[int, ...] | None:
    """What kept answers are built from, now: the store's lists and the search indexes (None
    before start-up, or when the store cannot say: nothing is kept then)."""
    state: AppState | None = getattr(scope["app"].state, "paperfeed", None)
    if state is None:
        return None
    try:
        return (state.store.list_version(), state.searcher.generation)
    except Exception:  # the handler meets the same trouble and answers it
        log.exception("reading the list version failed")
        return None


class CheckHost:
    """ASGI middleware: a Host header that is not one of ours is answered 400 at once."""

    def __init__(self, app: ASGIApp, hosts: tuple[str, ...]) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = next((v for k, v in scope.get("headers", ()) if k == b"host"), None)
            if not host_allowed(host.decode("latin-1") if host is not None else None, self.hosts):
                response = await _handle_error(Request(scope), BadHost(UNKNOWN_HOST))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app_from_environment() -> FastAPI:
    """The application with settings from PAPERFEED_* (for uvicorn's worker processes)."""
    import os

    from paperfeed.config import load_settings

    return create_app(load_settings(os.environ))


async def _keep_fresh(searcher: Searcher, interval_s: float) -> None:
    """Pick up papers and vectors written by other processes (ingest, embed) as they come."""
    if interval_s <= 0:
        return
    while True:
        await asyncio.sleep(interval_s)
        try:
            await run_in_threadpool(searcher.refresh)
        except Exception:  # a failed refresh is retried next time; the server keeps serving
            log.exception("refreshing the search indexes failed")


def _status_and_message(exc: Exception) -> tuple[int, str]:
    if isinstance(
        exc,
        PaperNotFound | SubscriberNotFound | AuthorNotFound | CollectionNotFound | CommentNotFound,
    ):
        return 404, str(exc)
    if isinstance(exc, BadPeriod | BadQuery | BadRequest | BadHost | CsrfFailed):
        return 400, str(exc)
    if isinstance(exc, OperatorsOnly):
        return 403, str(exc)
    if isinstance(exc, RateLimited):
        return 429, str(exc)
    if isinstance(exc, StoreBusy):
        log.warning("answered 503: %s", exc)
        return 503, "the database is busy (another process is writing); try again in a moment"
    if isinstance(exc, RequestValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error.get('loc', ())[1:])}: {error.get('msg')}"
            for error in exc.errors()
        )
        return 400, problems or "invalid request"
    if isinstance(exc, HTTPException):
        message = {404: "not found", 405: "method not allowed"}.get(exc.status_code)
        return exc.status_code, message or str(exc.detail)
    log.error("unhandled error", exc_info=exc)
    return 500, "internal error"


async def _handle_error(request: Request, exc: Exception) -> Response:
    """One place turns errors into responses: JSON under /api, an HTML page elsewhere."""
    if isinstance(exc, SignInNeeded):
        if exc.json or request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, status_code=401)
        return RedirectResponse("/signin", status_code=303)
    if isinstance(exc, OperatorsOnly) and exc.json:
        return JSONResponse({"error": str(exc)}, status_code=403)
    status, message = _status_and_message(exc)
    # A 405 says which methods the path has (Allow), as RFC 9110 asks; a busy database is a
    # moment's wait: say when to come back.
    headers = exc.headers if isinstance(exc, HTTPException) else None
    if status == 503:
        headers = {**(headers or {}), "Retry-After": str(BUSY_RETRY_AFTER_S)}
    if request.url.path.startswith("/api/") or request.url.path == "/openapi.json":
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    state = getattr(request.app.state, "paperfeed", None)
    if state is None:
        return HTMLResponse(f"<h1>{status}</h1>", status_code=status, headers=headers)
    return state.templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "message": message, "path": request.url.path},
        status_code=status,
        headers=headers,
    )
