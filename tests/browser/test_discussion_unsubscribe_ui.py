"""Leaving a discussion's mail in real headless Chromium: the link a discussion mail carries
opens a page that works by keyboard at phone width, without console errors."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from conftest import SECRET, _page, start_server
from paperfeed.config import Settings
from paperfeed.discussion.mail import unsubscribe_token
from paperfeed.models import Preferences
from paperfeed.storage import open_store

PAPER = "2606.27372"


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory):
    """A server over the sample whose secret the test knows, and a reader who follows a
    discussion by mail; yields (URL, the store, the reader's id, the paper's pk)."""
    folder = tmp_path_factory.mktemp("unsubscribe")
    server, url = start_server(folder, "--dev", sample=True, PAPERFEED_SECRET_KEY=SECRET)
    store = open_store(f"sqlite:///{folder / 'paperfeed.db'}")
    now = datetime.now(UTC)
    reader = store.create_subscriber("follower@example.org", Preferences(), now)
    pk = store.pks_for_ids([PAPER])[PAPER]
    store.set_discussion_mail(reader.id, pk, True, now)
    yield url, store, reader.id, pk
    store.close()
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def narrow(request, chromium, mail_server):
    yield from _page(request, chromium, mail_server[0], {"width": 375, "height": 740})


def test_the_unsubscribe_link_of_a_discussion_mail_works_by_keyboard_on_a_phone(
    narrow, mail_server
):
    _, store, reader_id, pk = mail_server
    token = unsubscribe_token(Settings(secret_key=SECRET), reader_id, PAPER, datetime.now(UTC))
    narrow.goto(f"/discussions/unsubscribe/{token}")
    expect(narrow.get_by_role("heading", level=1)).to_have_text("Stop mail about this discussion")
    overflow = narrow.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the unsubscribe page scrolls sideways by {overflow}px"
    narrow.get_by_role("button", name="Stop this mail").focus()
    narrow.keyboard.press("Enter")
    expect(narrow.get_by_role("status")).to_contain_text("No more mail about the discussion")
    assert store.discussion_mail_on(reader_id, pk) is False
    assert narrow.goto("/discussions/unsubscribe/not-a-token").status == 400
