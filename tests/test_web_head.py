"""HEAD answers wherever GET does (pages, API, feeds, static files), with no body."""

import dataclasses
import re

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

from conftest import build_web_app

# A value for each path parameter of the app's GET routes, so every route can be asked.
PATH_VALUES = {
    "paper_id": "2606.10002",
    "day": "2026-06-24",
    "week": "2026-W26",
    "month": "2026-06",
    "token": "not-a-token",
    "name": "nothing.eml",
    "collection_id": "1",
}


def _get_paths(routes) -> list[str]:
    """The path of every GET route, with sample values for its parameters (FastAPI keeps an
    included router's routes on the router)."""
    paths = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            paths += _get_paths(included.routes)
        elif isinstance(route, APIRoute | Route) and "GET" in (route.methods or ()):
            paths.append(re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m[1]], route.path_format))
    return paths


@pytest.fixture
def dev_client(store, settings, tmp_path, fake_embedder):
    """The web_client's app in development mode, so /outbox is among the routes too."""
    dev = dataclasses.replace(
        settings,
        dev=True,
        base_url="https://papers.example.org",
        secret_key="secret-for-the-head-test-0123456789abc",
    )
    with TestClient(build_web_app(store, dev, tmp_path, fake_embedder)) as client:
        yield client


def test_every_get_route_answers_head_with_the_get_headers_and_no_body(dev_client):
    paths = _get_paths(dev_client.app.routes)
    assert {"/", "/api/papers", "/feeds/latest", "/docs", "/outbox", "/openapi.json"} <= set(paths)
    for path in [*paths, "/static/style.css", "/papers/2606.10002.md", "/api/papers?limit=2"]:
        got = dev_client.get(path)
        head = dev_client.head(path)
        assert (path, head.status_code) == (path, got.status_code)
        assert head.content == b"", path
        assert head.headers.get("content-type") == got.headers.get("content-type"), path
        if "content-length" in got.headers and "csrf" not in got.text:
            assert head.headers["content-length"] == got.headers["content-length"], path


def test_head_where_there_is_no_get_is_still_a_405(web_client):
    response = web_client.head("/api/subscribe")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.content == b""


@pytest.mark.parametrize(
    "path", ["/", "/api/papers?limit=1", "/feeds/latest", "/static/style.css", "/docs"]
)
def test_head_over_real_http(live_server, path):
    got = httpx.get(live_server + path, timeout=10)
    head = httpx.head(live_server + path, timeout=10)
    assert (head.status_code, got.status_code) == (200, 200)
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
