"""A paper as Markdown: whatever the catalog holds, a Markdown renderer shows it as text."""

from markdown_it import MarkdownIt

from conftest import make_paper
from paperfeed.web.markdown import paper_markdown

HOSTILE = (
    '<script>alert(1)</script> "><img src=x onerror=alert(1)> [click](javascript:alert(1)) '
    "![x](javascript:alert(2)) <https://evil.example> `code` <b>bold</b>"
)


def _html(markdown: str) -> str:
    # html=True: raw HTML passes through, as on GitHub and most renderers before sanitising.
    return MarkdownIt("commonmark", {"html": True}).render(markdown)


def test_no_field_can_bring_html_or_links():
    paper = make_paper(
        title=HOSTILE, abstract=HOSTILE, authors=(HOSTILE,), comment=HOSTILE, categories=(HOSTILE,)
    )
    markdown = paper_markdown(paper, "https://papers.example.org/papers/2606.00001")
    html = _html(markdown)
    for markup in ("<script", "<img", "<b>", "<code>", '="javascript:', 'href="https://evil'):
        assert markup not in html, markup
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 5  # shown, as text
    assert html.count("<a href=") == 3  # arXiv, PDF and the page: ours only


def test_the_abstract_reads_as_it_is():
    paper = make_paper(abstract="We prove $a < b$ for all & any.")
    markdown = paper_markdown(paper, "https://papers.example.org/papers/2606.00001")
    assert "<p>We prove $a &lt; b$ for all &amp; any.</p>" in _html(markdown)
