"""Render pages: the Jinja environment, and the filters that escape, mark and format text."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from paperfeed.code_links import paper_links
from paperfeed.config import Settings
from paperfeed.ids import paper_path, thumbnail_path
from paperfeed.latex import math_spans
from paperfeed.models import MAX_ABSTRACT_CHARS, clip
from paperfeed.text import shorten
from paperfeed.web.assets import static_url

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

# Text-mode LaTeX that KaTeX leaves alone: turned into HTML on the server.
_TEXT_COMMANDS = re.compile(r"\\(emph|textit|textbf|texttt|underline)\{([^{}]*)\}")
_TAGS = {"emph": "em", "textit": "em", "textbf": "strong", "texttt": "code", "underline": "u"}


def marked(text: str, spans: Sequence[tuple[int, int]] = ()) -> Markup:
    """`text` escaped, its spans in <mark>, and text-mode LaTeX (\\emph{}) as HTML.

    Math ($...$) is left for KaTeX, and spans inside it are not marked. No field ingest keeps
    is longer than MAX_ABSTRACT_CHARS; a database written before the caps may hold longer
    ones, which are cut there, so no page renders more.
    """
    text = clip(text, MAX_ABSTRACT_CHARS)
    # Math is left to KaTeX in the browser; a <mark> inside it would break it.
    math = math_spans(text)
    math_ends = [end for _, end in math]
    kept = [
        (a, b)
        for a, b in sorted(spans)
        if 0 <= a < b <= len(text) and not _in_math(a, b, math, math_ends)
    ]
    parts: list[str] = []
    position = 0
    for a, b in kept:
        if a < position:
            continue
        parts.append(str(escape(text[position:a])))
        parts.append(f"<mark>{escape(text[a:b])}</mark>")
        position = b
    parts.append(str(escape(text[position:])))
    html = "".join(parts)
    html = _TEXT_COMMANDS.sub(lambda m: f"<{_TAGS[m[1]]}>{m[2]}</{_TAGS[m[1]]}>", html)
    return Markup(html)


def _in_math(a: int, b: int, math: list[tuple[int, int]], ends: list[int]) -> bool:
    """Whether [a, b) overlaps a math span (sorted, not overlapping): the first one ending
    after `a` is the only one that can."""
    index = bisect_right(ends, a)
    return index < len(math) and math[index][0] < b


def sentence(text: str) -> str:
    """`text` with a capital first letter (Jinja's capitalize would lowercase the rest)."""
    return text[:1].upper() + text[1:]


def day_label(value: date | datetime | None) -> str:
    """26 Jun 2026."""
    if value is None:
        return ""
    return f"{value.day} {value:%b %Y}"


def _account(request: Request) -> dict[str, Any]:
    """Every page knows who is signed in, and can make a CSRF token for its forms."""
    from paperfeed.moderation import is_operator
    from paperfeed.web.security import csrf_token, current_subscriber

    state = getattr(request.app.state, "paperfeed", None)
    if state is None:
        return {"account": None, "csrf": lambda: ""}
    now = datetime.now(UTC)
    account = current_subscriber(request, state.store, state.settings, now)
    return {
        "account": account,
        "is_operator": is_operator(state.settings, account),
        "csrf": lambda: csrf_token(request, state.settings),
        "dev": state.settings.dev,
    }


def make_templates(settings: Settings) -> Jinja2Templates:
    """The templates with paperfeed's filters and globals (autoescaping on for .html)."""
    templates = Jinja2Templates(directory=str(TEMPLATES), context_processors=[_account])
    env = templates.env
    env.filters.update(
        marked=marked,
        day=day_label,
        shorten=shorten,
        sentence=sentence,
        paper_path=paper_path,
    )
    env.globals.update(
        site_name=settings.site_name,
        katex=(STATIC / "vendor" / "katex" / "katex.min.js").exists(),
        static=lambda name: static_url(STATIC, name),
        code_links=paper_links,
        thumbnail_path=thumbnail_path,
    )
    return templates
