"""Turn a DigestPlan into a message: HTML for mail clients (table layout, inline CSS, no
scripts, no remote images) and a text part that reads well on its own.

Each paper's block is rendered once per reason and reused for every subscriber who gets it,
so composing a hundred thousand digests costs little more than joining strings.
"""

from __future__ import annotations

import re
import textwrap
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import escape

from paperfeed.config import Settings
from paperfeed.digest.content import DigestPlan, Entry
from paperfeed.ids import paper_path
from paperfeed.latex import latex_spans
from paperfeed.mail.messages import TEMPLATES as MAIL_TEMPLATES
from paperfeed.mail.messages import ListLinks, build_message, new_message_id, outgoing
from paperfeed.models import MAX_TITLE_CHARS, OutgoingMail
from paperfeed.text import shorten

ABSTRACT_CHARS = 420
# LaTeX longer than this is shown as it is: pylatexenc takes ~12 ms a kilobyte, and no real
# inline formula is this long.
LATEX_BIT_CHARS = 1_000
SUBJECT_TITLE_CHARS = 90
_ENV = Environment(
    # Digest templates first, then the mail layout they extend.
    loader=FileSystemLoader([str(Path(__file__).parent / "templates"), str(MAIL_TEMPLATES)]),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")
# Where each subscriber's reason goes in a cached paper block: NULs, which no value placed in
# the block may hold (ingest drops them; _unmarked drops any a database still has).
_WHY = "\x00why\x00"


def latex_to_text(value: str) -> str:
    """Readable text from a title or abstract with LaTeX: $\\alpha$ -> α, \\emph{x} -> x.

    Only the LaTeX bits (math, macros, escapes: paperfeed.latex finds them in linear time) go
    through pylatexenc, each once per run: converting whole abstracts took milliseconds each.
    """
    if "\\" not in value and "$" not in value:
        return value
    parts: list[str] = []
    position = 0
    for start, end in latex_spans(value):
        parts.append(value[position:start])
        bit = value[start:end]
        parts.append(_latex_bit(bit) if len(bit) <= LATEX_BIT_CHARS else bit.replace("$", ""))
        position = end
    parts.append(value[position:])
    return " ".join("".join(parts).replace("$", "").split())


@lru_cache(maxsize=65_536)
def _latex_bit(bit: str) -> str:
    from pylatexenc.latex2text import LatexNodes2Text  # type: ignore[import-untyped]

    try:
        # A bare % starts a LaTeX comment, but in abstracts it means per cent.
        return LatexNodes2Text(math_mode="text", strict_latex_spaces=True).latex_to_text(
            _UNESCAPED_PERCENT.sub(r"\\%", bit)
        )
    except Exception:  # a parser failure must not stop a digest
        return bit.replace("$", "")


def _byline(entry: Entry) -> str:
    paper = entry.paper.paper
    authors = list(paper.authors)
    names = ", ".join(authors[:4]) + (f" and {len(authors) - 4} more" if len(authors) > 4 else "")
    day = entry.paper.day
    parts = [names] if names else []
    if day:
        parts.append(f"{day.day} {day:%b %Y}")
    if paper.categories:
        parts.append(" ".join(paper.categories[:3]))
    return " · ".join(parts)


class DigestRenderer:
    """Renders digests for one run; caches paper blocks and converted text between them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        self._html = _ENV.get_template("paper.html")
        self._text = _ENV.get_template("paper.txt")
        self._stencils: dict[tuple[str, str], _Stencil] = {}
        self._titles: dict[int, str] = {}
        self._blocks: dict[int, tuple[tuple[str, str], tuple[str, str]]] = {}

    def title(self, entry: Entry) -> str:
        pk = entry.paper.pk
        found = self._titles.get(pk)
        if found is None:
            found = self._titles[pk] = _unmarked(
                latex_to_text(entry.paper.paper.title[:MAX_TITLE_CHARS]) or entry.paper.paper.id
            )
        return found

    def block(self, entry: Entry) -> tuple[str, str]:
        """(html, text) of one paper with its reason."""
        pk = entry.paper.pk
        parts = self._blocks.get(pk)
        if parts is None:
            parts = self._blocks[pk] = self._render_parts(entry)
        (html_head, html_tail), (text_head, text_tail) = parts
        return (
            html_head + str(escape(entry.why)) + html_tail,
            text_head + entry.why + text_tail,
        )

    def _render_parts(self, entry: Entry) -> tuple[tuple[str, str], tuple[str, str]]:
        """A paper's block rendered once, cut where each subscriber's reason goes."""
        paper = entry.paper.paper
        # Converted text is never longer than its source: a few times the shown length is
        # enough, whatever the abstract's size.
        abstract = shorten(latex_to_text(paper.abstract[: ABSTRACT_CHARS * 4]), ABSTRACT_CHARS)
        context: dict[str, object] = {
            "title": self.title(entry),
            "byline": _unmarked(_byline(entry)),
            "abstract": _unmarked(abstract),
            "page_url": self.base_url + paper_path(paper.id),
            "abs_url": paper.abs_url,
            "pdf_url": paper.pdf_url,
            "upvotes": entry.paper.upvotes,
            "site_name": self.settings.site_name,
            "why": _WHY,
        }
        html = self._html.render(**context)
        text = self._text.render(**{**context, "abstract": _wrap(abstract)})
        html_head, _, html_tail = html.partition(_WHY)
        text_head, _, text_tail = text.partition(_WHY)
        return (html_head, html_tail), (text_head, text_tail)

    def subject(self, plan: DigestPlan) -> str:
        day = plan.period.day
        what = "Trending papers" if plan.period.kind == "daily" else "This week's trending papers"
        top = shorten(self.title(plan.entries[0]), SUBJECT_TITLE_CHARS)
        return f"{what} — {day.day} {day:%b %Y}: {top}"

    def message(self, plan: DigestPlan, links: ListLinks, now: datetime) -> OutgoingMail:
        """The digest as queued mail; its Message-ID is the same however often it is made."""
        subscriber, period = plan.subscriber, plan.period
        html_sections, text_sections = [], []
        html_section, text_section = self._stencil("section.html"), self._stencil("section.txt")
        if plan.trending:
            title = "Trending" if any(e.paper.upvotes for e in plan.trending) else "New papers"
            html_sections.append(html_section(title=title, blocks=self._join(plan.trending, 0)))
            text_sections.append(text_section(title=title, blocks=self._join(plan.trending, 1)))
        number = len(plan.trending) + 1
        if plan.for_you:
            html_sections.append(html_section(title="For you", blocks=self._join(plan.for_you, 0)))
            text_sections.append(
                text_section(title="For you", blocks=self._join(plan.for_you, 1, number))
            )
            number += len(plan.for_you)
        for topic, entries in plan.topics:
            title = f"Your topic: {topic}"
            html_sections.append(html_section(title=title, blocks=self._join(entries, 0)))
            text_sections.append(text_section(title=title, blocks=self._join(entries, 1, number)))
            number += len(entries)
        count = len(plan.entries)
        heading = f"{count} paper{'s' if count != 1 else ''} for " + (
            f"{period.day:%A} {period.day.day} {period.day:%B %Y}"
            if period.kind == "daily"
            else f"the week to {period.day.day} {period.day:%B %Y}"
        )
        subject = self.subject(plan)
        cadence = "daily" if period.kind == "daily" else "weekly"
        values = {
            "heading": heading,
            "subject": subject,
            "unsubscribe": links.unsubscribe,
            "preferences": links.preferences,
        }
        html = self._stencil("digest.html", cadence)(sections="".join(html_sections), **values)
        text = self._stencil("digest.txt", cadence)(sections="".join(text_sections), **values)
        key = f"digest-{subscriber.id}-{period.key}"
        message = build_message(
            self.settings,
            to=subscriber.email,
            subject=subject,
            text=text,
            html=html,
            message_id=new_message_id(self.settings, key),
            now=now,
            links=links,
        )
        return outgoing(message, "digest", subscriber.id, dedupe_key=key)

    def _stencil(self, name: str, cadence: str = "daily") -> _Stencil:
        """Template `name` rendered once with markers where each digest's own values go."""
        key = (name, cadence)
        found = self._stencils.get(key)
        if found is None:
            markers = {field: f"@@{field}@@" for field in _Stencil.FIELDS}
            rendered = _ENV.get_template(name).render(
                site_name=self.settings.site_name,
                base_url=self.base_url,
                cadence=cadence,
                links=ListLinks(markers["unsubscribe"], markers["preferences"]),
                **markers,
            )
            found = self._stencils[key] = _Stencil(rendered, html=name.endswith(".html"))
        return found

    def _join(self, entries: tuple[Entry, ...], part: int, first: int = 1) -> str:
        if part == 0:
            return "".join(self.block(e)[0] for e in entries)
        return "\n\n".join(
            f"{number}. {self.block(e)[1].strip()}" for number, e in enumerate(entries, first)
        )


class _Stencil:
    """A rendered template with @@field@@ markers, filled by string replacement (escaped for
    HTML, except `sections` and `blocks`, which are rendered HTML already). Rendering the
    frame with Jinja for every one of 100,000 digests took a quarter of the compose time."""

    FIELDS = ("heading", "subject", "unsubscribe", "preferences", "title", "sections", "blocks")
    _RAW = ("sections", "blocks")

    def __init__(self, text: str, html: bool) -> None:
        self.text = text
        self.html = html
        self.present = [f for f in self.FIELDS if f"@@{f}@@" in text]

    def __call__(self, **values: str) -> str:
        out = self.text
        # Short values first: the big ones (sections) would make every later scan longer.
        for field in sorted(self.present, key=lambda f: f in self._RAW):
            value = values[field]
            if field not in self._RAW:
                # No value may bring a marker of its own; HTML gets escaped.
                value = str(escape(value)).replace("@", "&#64;") if self.html else value
                value = value.replace("@@", "@ @")
            out = out.replace(f"@@{field}@@", value)
        return out


def _unmarked(text: str) -> str:
    return text.replace("\x00", "")


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=76) if text else ""
