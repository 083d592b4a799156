"""A paper's discussion in a real browser: pick a public name where the comment box will be,
reach and submit the comment form with the keyboard, math typeset by the local KaTeX, hostile
text shown as text, a reply and an edit through plain forms; readable at 375 px; no console
errors (the fixtures check)."""

import re

import pytest
from playwright.sync_api import expect

from conftest import _page

PAPER = "/papers/2606.27372"


@pytest.fixture
def narrow(request, chromium, live_server):
    yield from _page(request, chromium, live_server, {"width": 375, "height": 812})


def _sign_in(page, address: str) -> None:
    page.goto("/signin")
    page.get_by_label("Email address").fill(address)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.goto("/outbox")
    mail = page.locator("tr", has_text=address).get_by_role("link", name=re.compile("sign-in"))
    mail.first.click()
    page.goto(page.locator("a[href*='/signin/']").first.get_attribute("href"))
    page.get_by_role("button", name=re.compile("Sign in")).click()


def _tab_to(page, selector: str, limit: int = 300) -> None:
    """Press Tab until the element `selector` names has the focus (as a keyboard user)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    pytest.fail(f"Tab never reached {selector}")


def test_comment_with_the_keyboard_math_typeset_hostile_text_inert(page):
    _sign_in(page, "commenter@example.org")
    page.goto(PAPER)
    page.get_by_label(re.compile("Public name")).fill("kbd.reader")
    page.get_by_role("button", name="Use this name").click()
    expect(page).to_have_url(re.compile(r"#discussion$"))

    _tab_to(page, "#comment-text")
    page.keyboard.type("Typeset $e^{i\\pi} + 1 = 0$ and <img src=x onerror=alert(1)> *kept*")
    _tab_to(page, "form.comment-form button[type=submit]")
    page.keyboard.press("Enter")  # a plain form post, back to the comment's anchor

    expect(page).to_have_url(re.compile(r"#comment-\d+$"))
    comment = page.locator("article.comment", has_text="Typeset").last
    expect(comment.locator(".comment-author")).to_have_text("kbd.reader")
    expect(comment.locator(".comment-body .katex").first).to_be_visible()
    expect(comment.locator(".comment-body em")).to_have_text("kept")
    expect(comment.locator(".comment-body img")).to_have_count(0)
    expect(comment.locator(".comment-body")).to_contain_text("<img src=x onerror=alert(1)>")

    thread = page.locator("div.thread", has=comment)
    thread.locator("summary", has_text="Reply").click()
    thread.get_by_label(re.compile("Your reply")).fill("A reply, [linked](https://example.org)")
    thread.get_by_role("button", name="Post reply").click()
    reply = page.locator("article.comment.reply", has_text="A reply").last
    expect(reply.get_by_role("link", name="linked")).to_have_attribute(
        "rel", "nofollow ugc noopener"
    )
    reply.locator("summary", has_text="Edit").click()
    reply.get_by_label(re.compile("Your comment")).fill("A reply, edited")
    reply.get_by_role("button", name="Save").click()
    expect(page.locator("article.comment.reply", has_text="A reply, edited")).to_contain_text(
        "edited"
    )


def test_the_discussion_reads_at_375_px(narrow, live_server):
    _sign_in(narrow, "phone-reader@example.org")
    narrow.goto(PAPER)
    narrow.get_by_label(re.compile("Public name")).fill("phone.reader")
    narrow.get_by_role("button", name="Use this name").click()
    long_text = "x" * 300 + " https://example.org/" + "a" * 200 + "\n\n```\n" + "y" * 300 + "\n```"
    narrow.get_by_label(re.compile("Add a comment")).fill(long_text)
    narrow.get_by_role("button", name="Post comment").click()
    expect(narrow.locator("article.comment", has_text="xxxx").last).to_be_visible()
    overflow = narrow.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{PAPER} scrolls sideways by {overflow}px"
    feed = narrow.request.get(f"{live_server}{PAPER}/discussion.atom")
    assert feed.ok and feed.headers["content-type"].startswith("application/atom+xml")
