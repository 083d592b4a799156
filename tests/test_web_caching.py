"""HTTP caching over the real app: ETags and 304s, Cache-Control that keeps anything personal
private, and gzip that decodes to the same body."""

import pytest

from paperfeed.web.caching import cache_control, etag_of, matches


def test_the_policy_is_public_only_for_cookieless_api_and_feed_answers():
    public = "public, max-age=60"
    assert cache_control("/api/daily_papers", "application/json", False, False) == public
    assert cache_control("/feeds/date/2026-06-24", "application/atom+xml", False, False) == public
    private = "private, no-cache"
    assert cache_control("/", "text/html; charset=utf-8", False, False) == private
    assert cache_control("/api/daily_papers", "application/json", True, False) == private
    assert cache_control("/api/daily_papers", "application/json", False, True) == private
    assert cache_control("/papers/2606.1", "application/json", False, False) == private


def test_if_none_match_compares_weakly_and_takes_lists_and_a_star():
    tag = etag_of(b"body")
    assert tag.startswith('W/"') and tag != etag_of(b"other")
    assert matches(tag, tag) and matches(tag.removeprefix("W/"), tag)
    assert matches(f'"x", {tag}', tag) and matches("*", tag)
    assert not matches('"x"', tag)


@pytest.mark.parametrize("path", ["/api/daily_papers", "/feeds/date/2026-06-24", "/"])
def test_a_client_with_the_etag_gets_a_304_without_a_body(web_client, path):
    web_client.cookies.clear()
    # A page carries the reader's CSRF token, so its body (and ETag) is the same only for the
    # same reader: the reader's cookie comes along.
    cookie = web_client.get("/").headers["set-cookie"].split(";")[0]
    headers = {"Cookie": cookie}
    first = web_client.get(path, headers=headers)
    assert first.status_code == 200
    etag = first.headers["etag"]
    again = web_client.get(path, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert "content-type" not in again.headers
    stale = web_client.get(path, headers={**headers, "If-None-Match": 'W/"stale"'})
    assert stale.status_code == 200


def test_public_lists_may_be_kept_by_a_proxy_and_pages_may_not(web_client):
    web_client.cookies.clear()
    api = web_client.get("/api/daily_papers")
    assert api.headers["cache-control"] == "public, max-age=60"
    page = web_client.get("/")
    assert page.headers["cache-control"] == "private, no-cache"
    assert "set-cookie" in page.headers  # the page's CSRF cookie: personal
    # With a cookie (a signed-in reader's, say), even the API answer is private.
    personal = web_client.get("/api/daily_papers", headers={"Cookie": "pf_session=x"})
    assert personal.headers["cache-control"] == "private, no-cache"


def test_a_vote_changes_the_lists_etag(web_client, store):
    web_client.cookies.clear()
    day = "/api/daily_papers?date=2026-06-24"
    before = web_client.get(day).headers["etag"]
    from paperfeed.models import Featured

    store.upsert_featured(
        [Featured("2606.10001", __import__("datetime").date(2026, 6, 24), "hf-daily", 99)]
    )
    after = web_client.get(day, headers={"If-None-Match": before})
    assert after.status_code == 200 and after.headers["etag"] != before


@pytest.mark.parametrize(
    "path", ["/api/daily_papers", "/", "/feeds/date/2026-06-24", "/search?q=dynamics"]
)
def test_gzip_and_plain_bodies_are_the_same(web_client, path):
    web_client.cookies.clear()
    cookie = web_client.get("/").headers["set-cookie"].split(";")[0]  # the same reader twice
    plain = web_client.get(path, headers={"Accept-Encoding": "identity", "Cookie": cookie})
    assert "content-encoding" not in plain.headers
    packed = web_client.get(path, headers={"Accept-Encoding": "gzip", "Cookie": cookie})
    assert packed.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in packed.headers["vary"].lower()
    assert int(packed.headers["content-length"]) < len(packed.content)  # smaller on the wire
    assert packed.content == plain.content  # httpx decoded it
    assert packed.headers["etag"] == plain.headers["etag"]


def test_static_assets_keep_their_own_validators(web_client):
    asset = web_client.get("/static/style.css")
    assert asset.status_code == 200 and "etag" in asset.headers and "last-modified" in asset.headers


def test_pages_load_assets_by_content_hashed_paths_kept_for_a_year(web_client):
    import re

    page = web_client.get("/").text
    links = re.findall(r'(?:href|src)="(/static/[0-9a-f]{12}/[^"]+)"', page)
    assert any(link.endswith("/style.css") for link in links)
    assert any(link.endswith("/vote.js") for link in links)
    for link in links:
        asset = web_client.get(link)
        assert asset.status_code == 200, link
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    # The plain path still answers, revalidated as before.
    plain = web_client.get("/static/style.css")
    assert "immutable" not in plain.headers.get("cache-control", "")
    style = next(link for link in links if link.endswith("/style.css"))
    assert plain.content == web_client.get(style).content


def test_any_change_to_an_asset_changes_the_version(tmp_path):
    from paperfeed.web.assets import static_url, static_version

    (tmp_path / "a.css").write_text("body { color: red }")
    (tmp_path / "fonts").mkdir()
    (tmp_path / "fonts" / "f.woff2").write_bytes(b"\0font")
    first = static_version(tmp_path)
    assert static_url(tmp_path, "a.css") == f"/static/{first}/a.css"
    static_version.cache_clear()
    (tmp_path / "fonts" / "f.woff2").write_bytes(b"\0font2")
    assert static_version(tmp_path) != first
