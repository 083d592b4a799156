"""Requests for a host the site does not answer to get a 400; links never echo the Host."""

import dataclasses
import re

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import build_web_app
from paperfeed.config import ConfigError, Settings, load_settings
from paperfeed.web.hosts import UNKNOWN_HOST, allowed_hosts, host_allowed, host_name


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("papers.example.org", "papers.example.org"),
        ("Papers.Example.ORG.:443", "papers.example.org"),
        ("127.0.0.1:8000", "127.0.0.1"),
        ("[::1]:8000", "::1"),
        ("[::1]", "::1"),
        ("", None),
        ("evil.example:80:80", None),
        ("evil.example/path", None),
        ("user@evil.example", None),
        ("evil example", None),
        ("evil.example:99999999", None),
        ("::1", None),
    ],
)
def test_host_headers_are_read_as_names(header, name):
    assert host_name(header) == name


def test_the_site_answers_to_its_base_url_loopback_and_what_is_configured():
    default = allowed_hosts(Settings(base_url="https://papers.example.org/app"))
    assert default == ("papers.example.org", "localhost", "127.0.0.1", "::1")
    for ok in ("papers.example.org", "papers.example.org:443", "localhost:8000", "[::1]:8000"):
        assert host_allowed(ok, default), ok
    for bad in ("evil.example", "papers.example.org.evil.example", "www.papers.example.org", ""):
        assert not host_allowed(bad, default), bad
    assert host_allowed(None, default)  # HTTP/1.0: URLs then come from the server's address
    more = allowed_hosts(
        Settings(base_url="https://papers.example.org", allowed_hosts="www.example.org, .lab.org")
    )
    for ok in ("www.example.org", "lab.org", "a.b.lab.org:80"):
        assert host_allowed(ok, more), ok
    assert not host_allowed("evillab.org", more)
    assert host_allowed("anything.example", allowed_hosts(Settings(allowed_hosts="*")))


@pytest.mark.parametrize(
    "value", ["http://example.org", "example.org:8000", "*.example.org", "exa mple/org"]
)
def test_unusable_allowed_hosts_are_refused_at_start(value):
    with pytest.raises(ConfigError, match="PAPERFEED_ALLOWED_HOSTS"):
        load_settings({"PAPERFEED_ALLOWED_HOSTS": value})


def test_a_base_url_without_a_host_is_refused_at_start():
    with pytest.raises(ConfigError, match="PAPERFEED_BASE_URL"):
        load_settings({"PAPERFEED_BASE_URL": "https://"})


@pytest.mark.parametrize("host", ["evil.example", "papers.example.org.evil.example", "a b"])
def test_a_foreign_host_is_a_400_as_json_under_api_and_a_page_elsewhere(web_client, host):
    api = web_client.get("/api/papers", headers={"host": host})
    assert api.status_code == 400
    assert api.json() == {"error": UNKNOWN_HOST}
    page = web_client.get("/", headers={"host": host})
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert "does not answer to that host" in page.text
    assert host not in page.text
    head = web_client.head("/", headers={"host": host})
    assert (head.status_code, head.content) == (400, b"")


@pytest.mark.parametrize(
    "host", ["papers.example.org", "PAPERS.example.org.:443", "localhost:8000"]
)
def test_the_own_and_loopback_hosts_are_served(web_client, host):
    assert web_client.get("/api/papers", headers={"host": host}).status_code == 200


def test_without_configuration_the_test_client_host_is_foreign(
    store, settings, tmp_path, fake_embedder
):
    plain = dataclasses.replace(
        settings, allowed_hosts="", secret_key="k" * 20 + "abcdefghijklmnop"
    )
    with TestClient(build_web_app(store, plain, tmp_path, fake_embedder)) as client:
        assert client.get("/api/papers").status_code == 400  # Host: testserver
        assert client.get("/api/papers", headers={"host": "127.0.0.1:8000"}).status_code == 200


def test_links_come_from_the_base_url_not_the_host_header(web_client):
    papers = web_client.get("/api/papers", params={"limit": 2}, headers={"host": "localhost"})
    assert re.fullmatch(
        r'<https://papers\.example\.org/api/papers\?cursor=[\w-]+&limit=2>; rel="next"',
        papers.headers["link"],
    )
    docs = web_client.get("/docs", headers={"host": "localhost"}).text
    assert 'HfApi(endpoint="https://papers.example.org")' in docs
    assert "localhost" not in docs
    search = web_client.get(
        "/search",
        params={"q": "dynamics", "mode": "keyword", "p": 0},
        headers={"host": "localhost"},
    )
    assert "localhost" not in search.text


def test_search_pages_link_to_each_other_relatively(store, settings, tmp_path, fake_embedder):
    from conftest import make_paper

    store.upsert_papers(
        [make_paper(f"2607.{n:05d}", title=f"Dynamics number {n}") for n in range(45)]
    )
    with TestClient(build_web_app(store, settings, tmp_path, fake_embedder)) as client:
        page = client.get("/search", params={"q": "dynamics", "p": 1, "category": "cs.LG"})
    links = dict(re.findall(r'<a rel="(prev|next)" href="([^"]+)"', page.text))
    assert links == {
        "prev": "/search?q=dynamics&amp;category=cs.LG&amp;p=0",
        "next": "/search?q=dynamics&amp;category=cs.LG&amp;p=2",
    }


def test_a_foreign_host_over_real_http(live_server):
    assert httpx.get(f"{live_server}/api/papers?limit=1", timeout=10).status_code == 200
    refused = httpx.get(
        f"{live_server}/api/papers?limit=1", headers={"host": "evil.example"}, timeout=10
    )
    assert refused.status_code == 400
    assert refused.json() == {"error": UNKNOWN_HOST}
