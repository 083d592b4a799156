"""An operator in real headless Chromium: hide a paper from the keyboard, find it on the list
of what is hidden (at phone width too), show it again."""

import re

from playwright.sync_api import expect
from test_ui import _sign_in


def test_an_operator_hides_a_paper_and_shows_it_again(page, phone):
    _sign_in(page, "operator@example.org")
    page.goto("/papers/date/2026-06-30")
    card = page.locator("h2.paper-title a").last
    title, href = card.inner_text(), card.get_attribute("href")
    card.click()
    page.get_by_label("Why (kept with the record, optional)").fill("duplicate <of> another")
    button = page.get_by_role("button", name="Hide this paper")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Hidden by the operators")
    expect(page.locator("h2.paper-title a", has_text=title)).to_have_count(0)
    # Readers no longer find it: not on its day, and its page is a 404.
    phone.goto("/papers/date/2026-06-30")
    expect(phone.locator("h2.paper-title a", has_text=title)).to_have_count(0)
    assert phone.goto(href).status == 404

    page.goto("/moderation")
    row = page.locator("tr", has_text=title)
    expect(row).to_contain_text("duplicate <of> another")
    expect(row).to_contain_text("operator@example.org")
    row.get_by_role("button", name="Show again").click()
    expect(page).to_have_url(re.compile(r"/moderation$"))
    expect(page.get_by_text("Nothing is hidden")).to_be_visible()
    phone.goto("/papers/date/2026-06-30")
    expect(phone.locator("h2.paper-title a", has_text=title)).to_have_count(1)


def test_the_list_of_what_is_hidden_fits_a_phone(page, phone):
    _sign_in(page, "operator@example.org")
    page.goto("/papers/2606.27372")
    expect(page.get_by_role("region", name="Moderation")).to_be_visible()
    phone.context.add_cookies(page.context.cookies())
    # Signed in, the header holds more links (For you, Library, Hidden): it wraps, too.
    for url in ("/moderation", "/", "/library", "/papers/2606.27372"):
        assert phone.goto(url).status == 200
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px (signed in)"
    phone.goto("/moderation")
    expect(phone.get_by_role("heading", level=1)).to_have_text("What is hidden")
    phone.get_by_role("navigation", name="Main").get_by_role("link", name="Hidden").click()
    expect(phone).to_have_url(re.compile(r"/moderation$"))
