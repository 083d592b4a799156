"""Static assets under a path named by their content, `/static/<version>/...`, served as
immutable: a browser or proxy keeps them for a year, and any change to any asset changes the
version, so pages never load a stale one. `/static/...` keeps working, revalidated."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

IMMUTABLE = "public, max-age=31536000, immutable"


@lru_cache(maxsize=4)
def static_version(folder: Path) -> str:
    """A digest of every file under `folder` (names and contents): the assets' version."""
    digest = hashlib.blake2b(digest_size=6)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def static_url(folder: Path, name: str) -> str:
    """The versioned URL of the asset `name` (a path under `folder`)."""
    return f"/static/{static_version(folder)}/{name.lstrip('/')}"


class Immutable:
    """ASGI wrapper: successful answers get a year-long, immutable Cache-Control."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 304):
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"cache-control"]
                headers.append((b"cache-control", IMMUTABLE.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_policy)


def mount_static(app: FastAPI, folder: Path) -> str:
    """Serve `folder` at /static/<version>/ (immutable) and at /static/; returns the version."""
    version = static_version(folder)
    app.mount(f"/static/{version}", Immutable(StaticFiles(directory=str(folder))), name="assets")
    app.mount("/static", StaticFiles(directory=str(folder)), name="static")
    return version
