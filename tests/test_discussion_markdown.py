"""A reader's comment as HTML (discussion/markdown.py) and what a viewer sees of a discussion
(discussion/threads.py): the safe subset, hostile links and HTML inert, math kept verbatim."""

from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from paperfeed.discussion.markdown import render_comment
from paperfeed.discussion.threads import threads, visible_count
from paperfeed.models import Comment

REL = 'rel="nofollow ugc noopener"'


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("Hello *world* and **bold**", "<p>Hello <em>world</em> and <strong>bold</strong></p>"),
        ("line one\nline two", "<p>line one<br>\nline two</p>"),
        ("`x < y`", "<p><code>x &lt; y</code></p>"),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
        ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"),
        ("1. a\n2. b", "<ol>\n<li>a</li>\n<li>b</li>\n</ol>"),
        ("```\n<b>code</b>\n```", "<pre><code>&lt;b&gt;code&lt;/b&gt;\n</code></pre>"),
        (
            "[x](https://a.example/?b=1&c=2)",
            f'<p><a href="https://a.example/?b=1&amp;c=2" {REL}>x</a></p>',
        ),
        ("[mail](mailto:a@b.org)", f'<p><a href="mailto:a@b.org" {REL}>mail</a></p>'),
        (
            "see https://a.example/x.",
            f'<p>see <a href="https://a.example/x" {REL}>https://a.example/x</a>.</p>',
        ),
        ("<https://a.example>", f'<p><a href="https://a.example" {REL}>https://a.example</a></p>'),
        # Math stays as written (escaped) for KaTeX: no emphasis made of its * and _.
        ("$a_1 * b_2$ and $$\\sum_i x_i$$", "<p>$a_1 * b_2$ and $$\\sum_i x_i$$</p>"),
        ("$x<y$", "<p>$x&lt;y$</p>"),
        ("# not a heading", "<p># not a heading</p>"),
        ("a | b\n--|--\n1 | 2", "<p>a | b<br>\n--|--<br>\n1 | 2</p>"),
    ],
)
def test_the_subset_renders_as_html(text, html):
    assert render_comment(text).strip() == html


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](  javascript:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](java&#x09;script:alert(1))",
        "[x](<javascript:alert(1)>)",
        "<javascript:alert(1)>",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html,<script>alert(1)</script>)",
        "[x]: javascript:alert(1)\n\n[x]",
        "![i](https://a.example/i.png)",
        '[a](https://x.example "t<script>")',
        'https://a.example/"onmouseover=alert(1)',
        '```js" onload="x\ncode\n```',
    ],
)
def test_hostile_text_stays_text(text):
    found = _Elements()
    found.feed(str(render_comment(text)))
    assert found.tags <= {"p", "a", "br", "pre", "code"}, found.tags
    for name, value in found.attributes:
        assert name in {"href", "rel", "class"}, (name, value)
        if name == "href":
            assert value.startswith(("https://", "http://", "mailto:")), value


class _Elements(HTMLParser):
    """The tags and attributes a browser would make of some HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes += [(name, value or "") for name, value in attrs]


def test_placeholders_a_reader_types_cannot_pull_in_math():
    assert render_comment("x\ue0000\ue001y $a$").strip() == "<p>x0y $a$</p>"


NOW = datetime(2026, 6, 26, tzinfo=UTC)


def _c(id_, parent=None, deleted=False, hidden=False, text="t"):
    return Comment(id_, 1, 7, "ada", parent, "" if deleted else text, NOW, None, deleted, hidden)


def test_threads_keep_a_removed_top_only_as_its_replies_place():
    comments = [
        _c(1),
        _c(2, 1),
        _c(3, deleted=True),
        _c(4, 3),
        _c(5, hidden=True),
        _c(6, 5, hidden=True),
        _c(7, deleted=True),
        _c(8, hidden=True),
    ]
    shown = threads(comments)
    assert [
        (t.top.comment.id, t.top.placeholder, [r.comment.id for r in t.replies]) for t in shown
    ] == [
        (1, None, [2]),
        (3, "deleted", [4]),
    ]
    assert visible_count(comments) == 3
    operator = threads(comments, operator=True)
    assert [(t.top.comment.id, t.top.placeholder) for t in operator] == [
        (1, None),
        (3, "deleted"),
        (5, None),
        (8, None),
    ]
    assert [r.comment.id for r in operator[2].replies] == [6]
