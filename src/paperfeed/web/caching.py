"""HTTP caching: an ETag on every successful GET, 304 for a client that has it, and a
Cache-Control that lets a proxy keep what is the same for every reader and nothing else.

- Public: JSON API answers and feeds requested without cookies (they are the same for every
  reader): `public, max-age=PUBLIC_MAX_AGE`, so a reverse proxy or CDN absorbs a spike.
- Private: HTML pages (they carry the reader's CSRF token and signed-in state), any answer to a
  request with cookies, and any answer that sets one: `private, no-cache` (a browser may keep
  it, and revalidates it with its ETag).
- Static assets keep their own policy (StaticFiles sends ETag and Last-Modified).

The ETag is a digest of the body (weak, so it holds for the gzipped and the plain body alike);
a 304 carries no body.
"""

from __future__ import annotations

import hashlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PUBLIC_MAX_AGE = 60  # seconds a shared cache may serve a list without asking again
PUBLIC_PREFIXES = ("/api/", "/feeds/")
MAX_BUFFERED = 8 * 1024 * 1024  # larger bodies pass through without an ETag


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


class HttpCaching:
    """ASGI middleware: ETag, 304 and Cache-Control for GET answers (see the module doc)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] != "GET" or path.startswith("/static/"):
            await self.app(scope, receive, send)
            return
        request_headers = dict(scope.get("headers", []))
        has_cookies = b"cookie" in request_headers
        if_none_match = request_headers.get(b"if-none-match", b"").decode("latin-1")
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
                if message["status"] != 200:
                    passing = True
                    await send(message)
                else:
                    start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > MAX_BUFFERED:  # too large to hold: send what there is, as it is
                passing = True
                await send(start)
                await send(
                    {"type": "http.response.body", "body": b"".join(chunks), "more_body": True}
                )
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            if message.get("more_body", False):
                return
            await send_whole(start, b"".join(chunks))

        async def send_whole(start: Message, body: bytes) -> None:
            headers = [(k, v) for k, v in start.get("headers", [])]
            names = {k.lower() for k, _ in headers}
            content_type = dict(headers).get(b"content-type", b"").decode("latin-1")
            etag = etag_of(body)
            if b"cache-control" not in names:
                policy = cache_control(path, content_type, has_cookies, b"set-cookie" in names)
                headers.append((b"cache-control", policy.encode()))
            if b"etag" not in names:
                headers.append((b"etag", etag.encode()))
            if if_none_match and matches(if_none_match, etag):
                kept = {b"cache-control", b"etag", b"vary", b"set-cookie", b"content-location"}
                await send(
                    {
                        "type": "http.response.start",
                        "status": 304,
                        "headers": [(k, v) for k, v in headers if k.lower() in kept],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffered)
