"""Thumbnails in real headless Chromium: a card's first page loads lazily into the room kept
for it, the paper page's links to the PDF by keyboard, and a phone never scrolls sideways."""

from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import expect

from conftest import FIXTURES, _page, make_paper, start_server
from paperfeed.models import Thumbnail
from paperfeed.storage import open_store
from paperfeed.thumbnails.job import image_digest
from paperfeed.thumbnails.render import render_first_page

DAY = "/papers/date/2026-06-24"
PAPER = "/papers/2606.20002"


@pytest.fixture(scope="module")
def thumbnail_server(tmp_path_factory):
    """`paperfeed serve` over three papers of 24 June 2026, one with a thumbnail of a real
    arXiv first page."""
    folder = tmp_path_factory.mktemp("thumbnails")
    store = open_store(f"sqlite:///{folder / 'paperfeed.db'}")
    store.upsert_papers(
        [
            make_paper(
                f"2606.2000{n}",
                title=f"A paper about stochastic gradient descent, number {n}",
                abstract="We study the dynamics of SGD in two-layer networks. " * 8,
                listed=date(2026, 6, 24),
            )
            for n in (1, 2, 3)
        ]
    )
    rendered = render_first_page((FIXTURES / "thumbnails" / "1906.08632-page1.pdf").read_bytes())
    thumbnail = Thumbnail(
        "2606.20002",
        rendered.mime_type,
        rendered.width,
        rendered.height,
        image_digest(rendered.image),
        rendered.image,
    )
    pk = store.pks_for_ids(["2606.20002"])["2606.20002"]
    store.save_thumbnail(pk, thumbnail, 96_377, datetime.now(UTC))
    store.close()
    server, url = start_server(folder)
    yield url
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def desktop(request, chromium, thumbnail_server):
    yield from _page(request, chromium, thumbnail_server, {"width": 1200, "height": 900})


@pytest.fixture
def small_phone(request, chromium, thumbnail_server):
    yield from _page(request, chromium, thumbnail_server, {"width": 375, "height": 700})


def test_a_card_shows_the_first_page_in_the_room_kept_for_it(desktop):
    desktop.goto(DAY)
    image = desktop.get_by_role("img", name="First page of the PDF of 2606.20002")
    expect(image).to_have_count(1)
    box_before = image.bounding_box()
    image.scroll_into_view_if_needed()
    expect(image).to_be_visible()
    desktop.wait_for_function(
        "document.querySelector('img.thumbnail').complete"
        " && document.querySelector('img.thumbnail').naturalWidth > 0"
    )
    assert desktop.evaluate("document.querySelector('img.thumbnail').naturalWidth") == 300
    box = image.bounding_box()
    assert box is not None and box_before is not None
    assert round(box["width"]) == 110
    assert abs(box["height"] / box["width"] - 389 / 300) < 0.03  # the page's shape
    assert box_before["height"] == box["height"]  # its room was kept before it loaded
    assert desktop.locator("img.thumbnail").count() == 1  # the others have none


def test_the_paper_page_links_its_first_page_to_the_pdf_by_keyboard(desktop):
    desktop.goto(PAPER)
    link = desktop.locator("a.thumbnail-link")
    expect(link).to_have_attribute("href", "https://arxiv.org/pdf/2606.20002")
    for _ in range(40):
        desktop.keyboard.press("Tab")
        if desktop.evaluate("document.activeElement.classList.contains('thumbnail-link')"):
            break
    else:
        pytest.fail("the thumbnail's link is not reachable with Tab")
    expect(link.get_by_role("img")).to_be_visible()


def test_no_sideways_scrolling_on_a_small_phone(small_phone):
    for url in (DAY, PAPER):
        small_phone.goto(url)
        small_phone.locator("img.thumbnail").first.scroll_into_view_if_needed()
        overflow = small_phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px"
        width = small_phone.locator("img.thumbnail").first.bounding_box()["width"]
        assert width <= 0.36 * 375, width
