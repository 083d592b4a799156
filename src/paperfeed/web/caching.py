"""HTTP caching, and the shared answers that make a spike cheap: what every reader gets alike
is built once per change and served from memory.

Every successful GET answer passes through `HttpCaching`, which gives it:

- an ETag (a digest of the body; weak, so it holds for the gzipped and the plain body alike)
  and, for kept answers, a Last-Modified; a client that has it gets a 304 with no body;
- a Cache-Control that lets a proxy keep what is the same for every reader and nothing else.
  Public: JSON API answers and feeds requested without cookies: `public, max-age=PUBLIC_MAX_AGE`.
  Private: HTML pages (they carry the reader's CSRF token and signed-in state), any answer to a
  request with cookies, and any answer that sets one: `private, no-cache` (a browser may keep
  it, and revalidates it with its ETag). Static assets and thumbnails keep their own policy
  (assets.py, thumbnails.py);
- gzip when the client takes it and the body is over MINIMUM_GZIP bytes of text.

Kept answers. A handler whose answer is the same for every reader says so in a SHARE_HEADER
(`public`: the same for everyone, the API and feeds; `anonymous`: the same for every reader who
is not signed in, a page), with how long it may be kept at most (`max-age=N`, for what changes
with the clock, like trending). The answer is kept under its path and query with the versions it
was built from (the store's list_version and the search indexes' generation, read before
building: see `Versions`), compressed once, and served until either version moves, in this
process and every other (each reads the versions itself). A page is rendered for "anyone not
signed in", with MARKER where the reader's CSRF token goes; each reader's token replaces it as
the answer is sent (`fill`), and a first visit gets its CSRF cookie. A request that carries a
session cookie never gets a kept page: its handler renders it for that reader. Concurrent misses
for one path wait for the first one's build instead of building it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PUBLIC_MAX_AGE = 60  # seconds a shared cache may serve a list without asking again
PUBLIC_PREFIXES = ("/api/", "/feeds/")
# Answers that carry their own validators and policy, named by their content: passed through.
OWN_CACHING = ("/static/", "/thumbnails/")
MAX_BUFFERED = 8 * 1024 * 1024  # larger bodies pass through without an ETag
MINIMUM_GZIP = 1000
GZIP_LEVEL = 1  # a 237 KB day of JSON: 94 KB in 2.6 ms (level 6: 78 KB in 10 ms)
_COMPRESSIBLE = ("text/", "application/json", "application/atom+xml", "application/xml")

SHARE_HEADER = b"x-paperfeed-share"
SHARED_SCOPE_KEY = "paperfeed.shared"  # in the scope of a request rendered for anyone
# Where a kept page has the reader's CSRF token: random per process, so no text can forge it,
# and as long as a token (64 hex digits), so putting the token in keeps every length.
MARKER = "pf-reader-token-" + secrets.token_hex(24)
DEFAULT_KEEP_S = 600.0  # the longest anything is kept without its versions moving
TRENDING_KEEP_S = 60.0  # trending moves with the clock as well as with votes
MAX_ENTRIES = 512  # lists, pages and feeds
MAX_BYTES = 96 * 1024 * 1024
MAX_SEARCH_ENTRIES = 256  # search answers, on a shelf of their own
MAX_SEARCH_BYTES = 32 * 1024 * 1024
MAX_ENTRY_BYTES = 4 * 1024 * 1024

# (versions of what answers are built from) for a request's app; None: keep nothing.
Versions = Callable[[Scope], Awaitable[tuple[int, ...] | None]]
# The reader's token for MARKER, and headers to add (the CSRF cookie of a first visit).
Fill = Callable[[Scope], tuple[str, list[tuple[bytes, bytes]]]]
_DROPPED = {b"content-length", b"etag", b"last-modified", b"content-encoding", SHARE_HEADER}
_CONDITIONAL = {b"accept-encoding", b"if-none-match", b"if-modified-since"}


def cache_control(path: str, content_type: str, has_cookies: bool, sets_cookie: bool) -> str:
    """The Cache-Control of a successful GET answer (pure)."""
    public = (
        path.startswith(PUBLIC_PREFIXES)
        and not content_type.startswith("text/html")
        and not has_cookies
        and not sets_cookie
    )
    return f"public, max-age={PUBLIC_MAX_AGE}" if public else "private, no-cache"


def etag_of(body: bytes) -> str:
    return 'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def matches(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (weak comparison, as RFC 9110 asks)."""
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in if_none_match.split(","))


def share_header(kind: str, max_age_s: float | None = None, search: bool = False) -> dict[str, str]:
    """The header a handler sets to have its answer kept: kind "public" or "anonymous";
    `search`: kept among search answers, which have room of their own (distinct queries
    never push the lists out)."""
    value = kind if max_age_s is None else f"{kind}; max-age={max_age_s:g}"
    return {SHARE_HEADER.decode(): value + ("; search" if search else "")}


def rendered_for_anyone(scope: Scope) -> bool:
    """Whether this request is rendered as the page anyone not signed in gets (MARKER for the
    CSRF token, no account), to be kept."""
    return bool(scope.get(SHARED_SCOPE_KEY))


@dataclass
class Answer:
    """A 200 answer, ready to send to any reader (kept, or made for one request)."""

    headers: list[tuple[bytes, bytes]]  # without length, validators and encoding
    content_type: str
    body: bytes
    etag: str
    last_modified: str | None
    modified_at: float | None  # epoch seconds of last_modified
    compressible: bool
    gzipped: bytes | None  # made once for an answer without MARKER
    personal: bool  # has MARKER
    versions: tuple[int, ...] | None = None
    expires: float = 0.0
    kind: str = ""
    search: bool = False

    @property
    def size(self) -> int:
        """What it holds when kept (a gzipped copy made later adds at most about half)."""
        return len(self.body) + len(self.gzipped or b"")


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _parse_share(value: bytes) -> tuple[str, float, bool]:
    """(kind, seconds it may be kept, whether it is a search answer)."""
    kind, *options = (part.strip() for part in value.decode("latin-1").split(";"))
    keep = DEFAULT_KEEP_S
    for option in options:
        if option.startswith("max-age="):
            with contextlib.suppress(ValueError):
                keep = min(DEFAULT_KEEP_S, float(option.removeprefix("max-age=")))
    return kind, keep, "search" in options


class Shelf:
    """Kept answers by (path, query), least recently used out first past either limit."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.answers: OrderedDict[tuple[str, bytes], Answer] = OrderedDict()
        self.size = 0

    def get(self, key: tuple[str, bytes]) -> Answer | None:
        answer = self.answers.get(key)
        if answer is not None:
            self.answers.move_to_end(key)
        return answer

    def put(self, key: tuple[str, bytes], answer: Answer) -> None:
        old = self.answers.pop(key, None)
        if old is not None:
            self.size -= old.size
        self.answers[key] = answer
        self.size += answer.size
        while self.answers and (len(self.answers) > self.max_entries or self.size > self.max_bytes):
            _, evicted = self.answers.popitem(last=False)
            self.size -= evicted.size


class HttpCaching:
    """ASGI middleware: validators, Cache-Control, gzip and kept answers (see the module doc).

    It answers every GET itself from the whole body, so the app below it sees GETs without
    Accept-Encoding or validators; other methods pass through untouched.
    """

    def __init__(
        self,
        app: ASGIApp,
        versions: Versions | None = None,
        fill: Fill | None = None,
        session_cookie: str = "pf_session",
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.app = app
        self.versions = versions
        self.fill = fill
        self.session_cookie = session_cookie.encode() + b"="
        self.lists = Shelf(max_entries, max_bytes)
        self.searches = Shelf(MAX_SEARCH_ENTRIES, MAX_SEARCH_BYTES)
        self.building: dict[tuple[str, bytes], asyncio.Future[Answer | None]] = {}
        self.hits = 0
        self.misses = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] != "GET" or path.startswith(OWN_CACHING):
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        cookies = _header(headers, b"cookie") or b""
        signed_in = self.session_cookie in cookies
        key = (path, scope.get("query_string", b""))
        versions = await self.versions(scope) if self.versions is not None else None
        kept = self._kept(key)
        if kept is not None and self._current(kept, versions, signed_in):
            self.hits += 1
            await self._send(scope, send, kept, headers, bool(cookies))
            return
        pending = self.building.get(key)
        if pending is not None and not signed_in:
            answer = await asyncio.shield(pending)
            if answer is not None and self._current(answer, versions, signed_in):
                await self._send(scope, send, answer, headers, bool(cookies))
                return
        self.misses += 1
        future: asyncio.Future[Answer | None] | None = None
        if versions is not None and not signed_in and key not in self.building:
            future = asyncio.get_running_loop().create_future()
            self.building[key] = future
        answer = None
        try:
            answer = await self._build(scope, receive, send, headers, signed_in, versions)
        finally:
            if future is not None:
                del self.building[key]
                future.set_result(answer if answer is not None and answer.kind else None)
        if answer is None:
            return  # passed through as it came (not a 200, or too large)
        if answer.kind and versions is not None and answer.size <= MAX_ENTRY_BYTES:
            (self.searches if answer.search else self.lists).put(key, answer)
        await self._send(scope, send, answer, headers, bool(cookies))

    @staticmethod
    def _current(answer: Answer, versions: tuple[int, ...] | None, signed_in: bool) -> bool:
        if versions is None or answer.versions != versions or time.monotonic() >= answer.expires:
            return False
        return not (signed_in and answer.kind != "public")

    async def _build(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: list[tuple[bytes, bytes]],
        signed_in: bool,
        versions: tuple[int, ...] | None,
    ) -> Answer | None:
        """Run the app for the whole plain body; None when the answer went out as it came."""
        inner = {
            **scope,
            "headers": [(k, v) for k, v in headers if k not in _CONDITIONAL],
            SHARED_SCOPE_KEY: versions is not None and not signed_in,
        }
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0
        passing = False

        async def buffered(message: Message) -> None:
            nonlocal start, size, passing
            if passing:
                await send(message)
                return
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > MAX_BUFFERED:  # too large to hold: send what there is, as it is
                passing = True
                await send({**start, "headers": _without(start.get("headers", []), SHARE_HEADER)})
                await send(
                    {"type": "http.response.body", "body": b"".join(chunks), "more_body": True}
                )
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})

        await self.app(inner, receive, buffered)
        if passing or start is None:
            return None
        body = b"".join(chunks)
        if start["status"] != 200:  # an error page or a redirect: as it is, with its token
            await self._send_other(scope, send, start, body)
            return None
        key = (scope.get("path", ""), scope.get("query_string", b""))
        return self._answer(start, body, versions, self._kept(key))

    def _answer(
        self,
        start: Message,
        body: bytes,
        versions: tuple[int, ...] | None,
        previous: Answer | None,
    ) -> Answer:
        raw = list(start.get("headers", []))
        share = _header(raw, SHARE_HEADER)
        kept_headers = [(k, v) for k, v in raw if k.lower() not in _DROPPED]
        content_type = (_header(raw, b"content-type") or b"").decode("latin-1")
        compressible = content_type.startswith(_COMPRESSIBLE) and len(body) >= MINIMUM_GZIP
        personal = MARKER.encode() in body
        # Over the body with a fixed token where MARKER is (MARKER differs between processes):
        # every worker gives the same page the same ETag.
        etag = etag_of(body.replace(MARKER.encode(), b"0" * len(MARKER)) if personal else body)
        if share is None or versions is None:
            return Answer(
                kept_headers, content_type, body, etag, None, None, compressible, None, personal
            )
        kind, keep_s, search = _parse_share(share)
        modified_at = time.time()
        if previous is not None and previous.etag == etag and previous.modified_at is not None:
            modified_at = previous.modified_at  # the same body as before: not modified since
        gzipped = None  # made when a client first takes gzip (most distinct searches never do)
        return Answer(
            kept_headers,
            content_type,
            body,
            etag,
            formatdate(modified_at, usegmt=True),
            modified_at,
            compressible,
            gzipped,
            personal,
            versions,
            time.monotonic() + keep_s,
            kind,
            search,
        )

    def _kept(self, key: tuple[str, bytes]) -> Answer | None:
        return self.lists.get(key) or self.searches.get(key)

    async def _send_other(self, scope: Scope, send: Send, start: Message, body: bytes) -> None:
        """An answer other than 200, as the app made it, with the reader's token for MARKER
        (the same length: Content-Length holds)."""
        headers = _without(start.get("headers", []), SHARE_HEADER)
        if self.fill is not None and MARKER.encode() in body:
            token, extra = self.fill(scope)
            body = body.replace(MARKER.encode(), token.encode())
            headers += extra
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _send(
        self,
        scope: Scope,
        send: Send,
        answer: Answer,
        request_headers: list[tuple[bytes, bytes]],
        has_cookies: bool,
    ) -> None:
        body = answer.body
        etag = answer.etag
        headers = list(answer.headers)
        if answer.personal and self.fill is not None:
            token, extra = self.fill(scope)
            body = body.replace(MARKER.encode(), token.encode())
            reader = hashlib.blake2b(token.encode(), digest_size=6).hexdigest()
            etag = etag[:-1] + "-" + reader + '"'
            headers += extra
        names = {k.lower() for k, _ in headers}
        if b"cache-control" not in names:
            policy = cache_control(
                scope.get("path", ""), answer.content_type, has_cookies, b"set-cookie" in names
            )
            headers.append((b"cache-control", policy.encode()))
        headers.append((b"etag", etag.encode()))
        if answer.last_modified:
            headers.append((b"last-modified", answer.last_modified.encode()))
        if answer.compressible:
            headers.append((b"vary", b"Accept-Encoding"))
        if _not_modified(request_headers, etag, answer.modified_at):
            kept = {b"cache-control", b"etag", b"vary", b"set-cookie", b"last-modified"}
            await send(
                {
                    "type": "http.response.start",
                    "status": 304,
                    "headers": [(k, v) for k, v in headers if k.lower() in kept],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        accept = _header(request_headers, b"accept-encoding") or b""
        if answer.compressible and b"gzip" in accept:
            if answer.personal:
                body = gzip.compress(body, GZIP_LEVEL, mtime=0)
            else:
                if answer.gzipped is None:  # once for a kept answer: every reader gets it
                    answer.gzipped = gzip.compress(body, GZIP_LEVEL, mtime=0)
                body = answer.gzipped
            headers.append((b"content-encoding", b"gzip"))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _without(headers: list[tuple[bytes, bytes]], name: bytes) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in headers if k.lower() != name]


def _not_modified(
    request_headers: list[tuple[bytes, bytes]], etag: str, modified_at: float | None
) -> bool:
    """RFC 9110: If-None-Match decides when present; else If-Modified-Since, when known."""
    if_none_match = _header(request_headers, b"if-none-match")
    if if_none_match is not None:
        return matches(if_none_match.decode("latin-1"), etag)
    since = _header(request_headers, b"if-modified-since")
    if since is None or modified_at is None:
        return False
    try:
        return int(modified_at) <= parsedate_to_datetime(since.decode("latin-1")).timestamp()
    except (TypeError, ValueError):
        return False
