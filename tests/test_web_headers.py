"""Security headers on pages, the API, feeds, static files and errors."""

import dataclasses

from fastapi.testclient import TestClient

from conftest import build_web_app

PATHS = ["/", "/api/papers?limit=1", "/rss", "/static/style.css", "/no/such/page", "/docs"]


def test_every_response_carries_the_security_headers(web_client):
    for path in PATHS:
        response = web_client.get(path)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy, path
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"


def test_only_https_deployments_ask_for_https_from_then_on(
    store, settings, tmp_path, fake_embedder
):
    for base_url, hsts in (("https://papers.example.org", True), ("http://127.0.0.1:8000", False)):
        served = dataclasses.replace(settings, base_url=base_url)
        app = build_web_app(store, served, tmp_path / base_url[:5], fake_embedder)
        with TestClient(app) as client:
            headers = client.get("/").headers
        assert ("strict-transport-security" in headers) == hsts
        if hsts:
            assert headers["strict-transport-security"].startswith("max-age=")


def test_refusals_carry_the_headers_too(web_client):
    refused_host = web_client.get("/", headers={"host": "evil.example"})
    too_big = web_client.post("/api/subscribe", content=b"x" * 70_000)
    head = web_client.head("/")
    for response, status in ((refused_host, 400), (too_big, 413), (head, 200)):
        assert response.status_code == status
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
