"""Thumbnails on the web (web/thumbnails.py, the cards, the API): a real arXiv page rendered,
stored, shown lazily with its size on cards and paper pages, linked absolutely in the API, and
served content-addressed with a strong ETag, a year's Cache-Control, 304s and HEAD."""

import re

import html5lib
import pytest

from conftest import FIXTURES
from paperfeed.models import Thumbnail
from paperfeed.thumbnails.job import image_digest
from paperfeed.thumbnails.render import render_first_page

PDF = (FIXTURES / "thumbnails" / "1906.08632-page1.pdf").read_bytes()
BASE = "https://papers.example.org"


@pytest.fixture(scope="module")
def rendered():
    return render_first_page(PDF)


@pytest.fixture
def shown(web_client, store, rendered):
    """The web app with a thumbnail for 2606.10002 (listed 2026-06-24), and its URL path."""
    digest = image_digest(rendered.image)
    thumbnail = Thumbnail("2606.10002", rendered.mime_type, 300, 389, digest, rendered.image)
    store.save_thumbnail(
        store.pks_for_ids(["2606.10002"])["2606.10002"], thumbnail, len(PDF), _now()
    )
    return web_client, f"/thumbnails/2606.10002.webp?v={digest}"


def _now():
    from datetime import UTC, datetime

    return datetime(2026, 6, 26, tzinfo=UTC)


def _images(html: str) -> list[dict[str, str]]:
    tree = html5lib.parse(html, namespaceHTMLElements=False)
    return [dict(img.attrib) for img in tree.iter("img")]


def test_cards_show_the_thumbnail_lazily_with_its_size_and_only_where_there_is_one(shown):
    client, path = shown

    images = _images(client.get("/papers/date/2026-06-24").text)

    assert images == [
        {
            "class": "thumbnail",
            "src": path,
            "width": "110",
            "height": "143",
            "loading": "lazy",
            "decoding": "async",
            "alt": "First page of the PDF of 2606.10002",
        }
    ]


def test_a_kept_list_shows_a_thumbnail_made_after_it_was_kept(web_client, store, rendered):
    assert _images(web_client.get("/papers/date/2026-06-24").text) == []
    digest = image_digest(rendered.image)
    thumbnail = Thumbnail("2606.10001", rendered.mime_type, 300, 389, digest, rendered.image)
    store.save_thumbnail(store.pks_for_ids(["2606.10001"])["2606.10001"], thumbnail, 1, _now())

    images = _images(web_client.get("/papers/date/2026-06-24").text)

    assert [image["src"] for image in images] == [f"/thumbnails/2606.10001.webp?v={digest}"]


def test_the_paper_page_shows_it_larger_linking_to_the_pdf(shown):
    client, path = shown
    page = client.get("/papers/2606.10002").text

    (image,) = [i for i in _images(page) if i["src"] == path]
    assert (image["width"], image["height"], image["loading"]) == ("150", "194", "lazy")
    assert re.search(r'<a class="thumbnail-link" href="https://arxiv.org/pdf/2606.10002">', page)
    assert "thumbnail-link" not in client.get("/papers/2606.10003").text


def test_the_api_gives_the_absolute_url_of_a_thumbnail_and_none_without_one(shown):
    client, path = shown

    daily = {
        item["paper"]["id"]: item for item in client.get("/api/daily_papers?date=2026-06-24").json()
    }
    assert daily["2606.10002"]["thumbnail"] == BASE + path
    assert daily["2606.10001"]["thumbnail"] is None
    assert client.get("/api/papers/2606.10002").json()["thumbnail"] == BASE + path
    assert "thumbnail" not in client.get("/api/papers/2606.10001").json()
    newest = {item["paper"]["id"]: item["thumbnail"] for item in client.get("/api/papers").json()}
    assert newest["2606.10002"] == BASE + path
    found = client.get("/api/papers/search?q=nonlinear dynamics").json()
    assert [i["thumbnail"] for i in found if i["paper"]["id"] == "2606.10002"] == [BASE + path]


def test_the_image_is_served_content_addressed_with_a_strong_etag(shown, rendered):
    client, path = shown
    digest = image_digest(rendered.image)

    response = client.get(path)

    assert response.status_code == 200
    assert response.content == rendered.image
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["etag"] == f'"{digest}"'
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "content-encoding" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"

    again = client.get(path, headers={"If-None-Match": f'"{digest}"'})
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == f'"{digest}"'

    head = client.head(path)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len(rendered.image))

    stale = client.get("/thumbnails/2606.10002.webp?v=old")
    assert stale.content == rendered.image
    assert stale.headers["cache-control"] == "public, max-age=86400"


@pytest.mark.parametrize(
    "path",
    ["/thumbnails/2606.10001.webp", "/thumbnails/2606.10002.png", "/thumbnails/nope.webp"],
)
def test_a_missing_thumbnail_is_a_404_page(shown, path):
    client, _ = shown
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "not found" in response.text.lower()
