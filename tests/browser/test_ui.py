"""A reader's morning in real headless Chromium: the day's papers, a search, a paper, its
neighbours, other days."""

import re

from playwright.sync_api import expect


def test_home_shows_the_latest_day_with_ways_onward(page):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Wednesday 1 July 2026")
    expect(
        page.get_by_role("heading", name="Get trending papers in your email inbox once a day!")
    ).to_be_visible()
    expect(page.get_by_label("Email address")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Trending").click()
    expect(page).to_have_url(re.compile(r"/papers/trending$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Trending papers")


def test_search_open_a_paper_and_follow_a_similar_one(page):
    page.goto("/")
    box = page.get_by_role("searchbox", name="Search papers")
    box.fill("dynamical systems")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=dynamical\+systems"))
    results = page.locator("article.paper")
    expect(results.first).to_be_visible()
    assert results.count() == 20
    expect(page.locator("article.paper mark").first).to_be_visible()

    first = results.first.get_by_role("link").first
    title = first.inner_text()
    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    similar = page.get_by_role("region", name="Similar papers").get_by_role("link")
    expect(similar.first).to_be_visible()
    neighbour = similar.first.inner_text()
    similar.first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(neighbour)
    expect(page.get_by_role("link", name="PDF")).to_have_attribute(
        "href", re.compile(r"^https://arxiv\.org/pdf/")
    )


def test_navigate_days_and_weeks(page):
    page.goto("/")
    page.get_by_role("navigation", name="Other days").get_by_role(
        "link", name=re.compile("←")
    ).click()
    expect(page).to_have_url(re.compile(r"/papers/date/2026-06-30$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Tuesday 30 June 2026")
    page.get_by_role("link", name="Week", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Week 27 of 2026")
    page.get_by_role("link", name=re.compile("← Week 26")).click()
    expect(page).to_have_url(re.compile(r"/papers/week/2026-W26$"))
    page.get_by_role("link", name="Next page →").click()
    expect(page).to_have_url(re.compile(r"\?p=1$"))


def test_math_in_titles_is_typeset_by_the_local_katex(page):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto("/papers/2606.16688")  # "A Lean-Certified Proof of $K_8(4, 2) = 23$"
    expect(page.locator("h1 .katex").first).to_be_visible()
    assert all(url.startswith(page.url.split("/papers/")[0]) for url in requests)


def test_unknown_paper_page_offers_search(page):
    response = page.goto("/papers/2606.99999")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.get_by_role("searchbox", name="Search papers").last).to_have_value("2606.99999")


def test_readable_on_a_phone(phone):
    for url in ("/", "/search?q=robot+grasping", "/papers/2606.27372"):
        phone.goto(url)
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px"


def test_subscribe_from_the_home_page(page):
    page.goto("/")
    page.get_by_label("Email address").fill("reader@example.org")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    expect(page.get_by_role("status")).to_contain_text("confirmation link")


def _sign_in(page, address: str) -> None:
    page.goto("/signin")
    page.get_by_label("Email address").fill(address)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    page.goto("/outbox")  # the dev server's outbox: the mail that was "sent"
    mail = page.locator("tr", has_text=address).get_by_role("link", name=re.compile("sign-in"))
    mail.first.click()
    link = page.locator("a[href*='/signin/']").first.get_attribute("href")
    page.goto(link)
    page.get_by_role("button", name=re.compile("Sign in")).click()


def test_sign_in_by_mail_and_upvote_without_leaving_the_page(page):
    _sign_in(page, "voter@example.org")
    page.goto("/papers/trending")
    button = page.locator("form.vote button").first
    count = int(button.locator(".count").inner_text())
    url = page.url
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button.locator(".count")).to_have_text(str(count + 1))
    assert page.url == url  # vote.js updated the count in place
    page.reload()
    first = page.locator("form.vote button").first
    expect(first).to_have_attribute("aria-pressed", "true")
    first.click()  # and take it back
    expect(first).to_have_attribute("aria-pressed", "false")
    expect(first.locator(".count")).to_have_text(str(count))


def test_save_with_the_keyboard_then_find_it_in_the_library_and_for_you(page, phone):
    _sign_in(page, "reader-lib@example.org")
    page.goto("/")
    title = page.locator("h2.paper-title a").first.inner_text()
    save = page.locator("form.mark button", has_text="Save").first
    save.focus()
    page.keyboard.press("Enter")  # a plain form: the keyboard works as the mouse
    expect(page.locator("form.mark button", has_text="Saved").first).to_be_visible()
    page.get_by_role("link", name="Library").click()
    page.get_by_role("link", name="Reading list", exact=True).click()
    expect(page.locator("h2.paper-title a").first).to_have_text(title)
    page.get_by_role("link", name="For you", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("For you")
    page.goto("/for-you?all=1")
    expect(page.locator(".why", has_text="like “").first).to_be_visible()
    for url in (
        "/library",
        "/for-you?all=1",
        page.locator("p.authors a").first.get_attribute("href"),
    ):
        phone.goto(url)  # not signed in on the phone: the sign-in page, or an author page
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px"
