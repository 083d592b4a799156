"""Answer HEAD wherever GET answers: the GET response's status and headers, without its body."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """ASGI middleware: a HEAD request runs as the GET it asks about, and the body is dropped.

    FastAPI routes answer only the methods they declare, so `HEAD /` was a 405 while `GET /`
    worked; RFC 9110 asks HEAD to work wherever GET does, with the same headers (Content-Length
    included). A path that has no GET still answers 405, with its Allow header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            elif message["type"] == "http.response.pathsend":  # a file, on servers that can
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)
