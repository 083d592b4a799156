"""Turn a reader's comment into safe HTML (pure): a Markdown subset, math kept for KaTeX.

Allowed: paragraphs, line breaks, emphasis, code and code blocks, lists, block quotes, rules,
and links to http, https and mailto addresses (written [text](url), <url>, or bare), each
with rel="nofollow ugc noopener". Nothing else: raw HTML is shown as text, images, headings,
tables and reference links are not Markdown here, so they stay the text they were written as.
Math ($...$, $$...$$, \\(...\\)) is found the way latex.py finds it for abstracts and kept
verbatim (escaped) for KaTeX in the browser, so Markdown never reads `a_1 * b_2` as emphasis.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup, escape

from paperfeed.latex import math_spans

SCHEMES = ("http:", "https:", "mailto:")
LINK_REL = "nofollow ugc noopener"
# Private-use characters mark where math was taken out; a reader's own are dropped first.
_OPEN, _CLOSE = "\ue000", "\ue001"
_PLACEHOLDER = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
_BARE_URL = re.compile(r"https?://[^\s<>\"'`]*[^\s<>\"'`.,;:!?)\]}*_]")


def _safe_link(url: str) -> bool:
    """Only web and mail addresses: no javascript:, data:, vbscript: or relative tricks."""
    cleaned = "".join(url.split()).lower()
    return cleaned.startswith(SCHEMES)


def _link_bare_urls(state: StateCore) -> None:
    """A core rule: bare http(s) addresses in text become links (not inside links or code)."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        out: list[Token] = []
        inside_link = 0
        for token in block.children:
            if token.type == "link_open":
                inside_link += 1
            elif token.type == "link_close":
                inside_link -= 1
            if token.type != "text" or inside_link or "://" not in token.content:
                out.append(token)
                continue
            position = 0
            for match in _BARE_URL.finditer(token.content):
                if match.start() > position:
                    out.append(_text(token.content[position : match.start()]))
                url = match.group(0)
                opened = Token("link_open", "a", 1)
                opened.attrs = {"href": state.md.normalizeLink(url)}
                out += [opened, _text(url), Token("link_close", "a", -1)]
                position = match.end()
            if position < len(token.content):
                out.append(_text(token.content[position:]))
        block.children = out


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def _link_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: Any, env: Any
) -> str:
    token = tokens[idx]
    token.attrs = {"href": str(token.attrs.get("href", "")), "rel": LINK_REL}
    return self.renderToken(tokens, idx, options, env)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("zero", {"html": False, "breaks": True, "typographer": False})
    md.enable(["code", "fence", "blockquote", "hr", "list", "paragraph"])
    md.enable(["newline", "escape", "backticks", "emphasis", "link", "autolink", "entity"])
    md.validateLink = _safe_link  # type: ignore[method-assign]
    md.core.ruler.after("inline", "bare_urls", _link_bare_urls)
    md.add_render_rule("link_open", _link_open)
    return md


def _take_math(text: str) -> tuple[str, list[str]]:
    """The text with each math span replaced by a placeholder, and the spans."""
    spans = math_spans(text)
    if not spans:
        return text, []
    parts: list[str] = []
    found: list[str] = []
    position = 0
    for start, end in spans:
        parts += [text[position:start], f"{_OPEN}{len(found)}{_CLOSE}"]
        found.append(text[start:end])
        position = end
    parts.append(text[position:])
    return "".join(parts), found


def render_comment(text: str) -> Markup:
    """The comment as safe HTML (see the module's docstring)."""
    cleaned = text.replace(_OPEN, "").replace(_CLOSE, "").replace("\x00", "")
    body, found = _take_math(cleaned)
    html = _parser().render(body)
    if found:
        html = _PLACEHOLDER.sub(
            lambda m: str(escape(found[int(m[1])])) if int(m[1]) < len(found) else "", html
        )
    return Markup(html)


def plain_text(text: str) -> str:
    """The comment as plain text for mail: the Markdown as written (it reads as text)."""
    return text.replace(_OPEN, "").replace(_CLOSE, "").replace("\x00", "")
