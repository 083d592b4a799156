"""Hostile LaTeX in real Chromium: KaTeX keeps it in its box and runs none of it, and the pages
work under a Content-Security-Policy that allows no inline script or style."""

import html
import re

from playwright.sync_api import expect

CSP = "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'"
PAPER = "/papers/2606.16688"  # a sample paper with math in its title
HOSTILE = (
    r"$\rule{300em}{300em}$ $\href{javascript:alert(1)}{click me}$ $\url{javascript:alert(2)}$ "
    r"$\def\a{\a\a}\a$ $\htmlClass{x}{y}$ $\includegraphics{/x.png}$ $x^2$"
)


def _serve(page, title: str | None = None) -> list[str]:
    """Open the paper page with the CSP header added (and its title replaced); returns what
    the browser complained about (console errors, dialogs)."""
    complaints: list[str] = []
    page.on("console", lambda m: complaints.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda d: (complaints.append(f"dialog: {d.message}"), d.dismiss()))

    def handle(route):
        response = route.fetch()
        body = response.text()
        if title is not None:
            new = f'<h1 class="tex">{html.escape(title)}</h1>'
            body = re.sub(r'<h1 class="tex">.*?</h1>', lambda _: new, body, count=1, flags=re.S)
        route.fulfill(
            response=response,
            body=body,
            headers={**response.headers, "content-security-policy": CSP},
        )

    page.route(re.compile(re.escape(PAPER) + "$"), handle)
    page.goto(PAPER)
    return complaints


def test_katex_limits_hold_against_hostile_math(page):
    complaints = _serve(page, HOSTILE)
    heading = page.get_by_role("heading", level=1)
    expect(heading.locator(".katex").first).to_be_visible()
    box = heading.bounding_box()
    assert box is not None and box["height"] < 300, box  # 300em would be ~9,600 px
    assert page.locator("a[href^='javascript:' i]").count() == 0
    assert page.locator("img").count() == 0
    assert heading.locator(".x").count() == 0  # \htmlClass needs trust
    # What KaTeX refuses stays as the text it was written as (KaTeX's red error spans carry a
    # style attribute, which the policy would block); nothing complains.
    assert heading.locator(".katex-error").count() == 0
    expect(heading).to_contain_text(r"\href{javascript:alert(1)}{click me}")
    assert complaints == [], complaints


def test_pages_work_under_a_csp_without_inline_scripts(page):
    complaints = _serve(page)
    expect(page.locator("h1 .katex").first).to_be_visible()  # math.js ran: a 'self' script
    assert complaints == [], complaints
