"""Serve papers' thumbnails: content-addressed, so a browser keeps one for a year."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from paperfeed.web.app import state_of
from paperfeed.web.assets import IMMUTABLE
from paperfeed.web.caching import matches

router = APIRouter(include_in_schema=False)

# Asked for without the current ?v= (an old link, or none): kept a day, then asked again.
UNVERSIONED = "public, max-age=86400"
SUFFIX = ".webp"


@router.get("/thumbnails/{name:path}")
def thumbnail(request: Request, name: str, v: str = "") -> Response:
    """A paper's thumbnail (`/thumbnails/<id>.webp?v=<digest>`, as pages and the API link to
    it) with a strong ETag; 304 when the client has it; 404 when the paper has none."""
    found = None
    if name.endswith(SUFFIX):
        found = state_of(request).store.get_thumbnail(name.removesuffix(SUFFIX))
    if found is None:
        raise HTTPException(404)
    etag = f'"{found.digest}"'
    headers = {
        "ETag": etag,
        "Cache-Control": IMMUTABLE if v == found.digest else UNVERSIONED,
    }
    if matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    return Response(found.image, media_type=found.mime_type, headers=headers)
