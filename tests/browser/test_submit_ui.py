"""Submitting a paper in real headless Chromium, by keyboard, against a real server whose
arXiv is the replay server: pick a public name, submit an unknown paper, find it named."""

import re

import pytest
from playwright.sync_api import expect
from test_ui import _sign_in

from conftest import _page, start_server
from replay import ReplayServer, Reply
from test_web_submit import one_entry_feed

FUZZING = "2005.14124"


@pytest.fixture(scope="module")
def submit_server(tmp_path_factory):
    """A dev server over an empty catalog, asking the replay server for arXiv papers."""
    arxiv = ReplayServer().start()
    arxiv.route("/api/query", Reply(one_entry_feed(0)), id_list=FUZZING)
    server, url = start_server(
        tmp_path_factory.mktemp("submit"),
        "--dev",
        PAPERFEED_ARXIV_API_URL=f"{arxiv.url}/api/query",
        PAPERFEED_SUBMIT_WINDOW_DAYS="100000",  # the recorded paper is from 2020
        PAPERFEED_REQUEST_DELAY_S="0",
    )
    yield url
    server.terminate()
    server.wait(timeout=10)
    arxiv.stop()


@pytest.fixture
def reader(request, chromium, submit_server):
    yield from _page(request, chromium, submit_server, {"width": 1200, "height": 900})


@pytest.fixture
def narrow(request, chromium, submit_server):
    yield from _page(request, chromium, submit_server, {"width": 375, "height": 740})


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_submit_a_paper_with_the_keyboard_and_find_it_named(reader, narrow):
    _sign_in(reader, "submitter@example.org")
    reader.goto("/")
    link = reader.get_by_role("navigation", name="Main").get_by_role("link", name="Submit a paper")
    link.focus()
    reader.keyboard.press("Enter")
    expect(reader.get_by_role("heading", level=1)).to_have_text("Submit a paper")
    # No public name yet: the page asks for one first.
    reader.get_by_label(re.compile("Public name")).fill("kbd.reader")
    reader.keyboard.press("Enter")
    box = reader.get_by_label("arXiv id or URL")
    expect(box).to_be_visible()
    box.fill("not an id")
    box.press("Enter")
    expect(reader.get_by_role("alert")).to_contain_text("is not an arXiv id")
    assert _overflow(reader) <= 0
    box = reader.get_by_label("arXiv id or URL")
    box.fill(f"https://arxiv.org/abs/{FUZZING}v2")
    reader.get_by_role("button", name="Submit as kbd.reader").focus()
    reader.keyboard.press("Enter")
    expect(reader).to_have_url(re.compile(rf"/papers/{re.escape(FUZZING)}\?submitted=1$"))
    expect(reader.get_by_role("status")).to_contain_text("Submitted")
    expect(reader.get_by_role("heading", level=1)).to_contain_text("Active Fuzzing")
    reader.get_by_role("link", name="your submissions").click()
    expect(reader.get_by_role("heading", level=1)).to_have_text("Submitted by kbd.reader")
    expect(reader.locator("article.paper .submitter")).to_contain_text("kbd.reader")
    reader.set_viewport_size({"width": 375, "height": 740})  # a phone, signed in
    for url in ("/submit", f"/papers/{FUZZING}", "/submitters/kbd.reader", "/"):
        reader.goto(url)
        assert _overflow(reader) <= 0, f"{url} scrolls sideways at 375 px"
    narrow.goto("/submitters/kbd.reader")  # anyone sees who submitted what
    expect(narrow.locator("article.paper")).to_have_count(1)
    assert _overflow(narrow) <= 0
