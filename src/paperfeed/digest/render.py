"""Turn a DigestPlan into a message: HTML for mail clients (table layout, inline CSS, no
scripts, no remote images) and a text part that reads well on its own.

Each paper's block is rendered once per reason and reused for every subscriber who gets it,
so composing a hundred thousand digests costs little more than joining strings.
"""

from __future__ import annotations

import re
import textwrap
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from paperfeed.config import Settings
from paperfeed.digest.content import DigestPlan, Entry
from paperfeed.mail.messages import ListLinks, assemble, new_message_id
from paperfeed.models import OutgoingMail

ABSTRACT_CHARS = 420
SUBJECT_TITLE_CHARS = 90
_ENV = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")


def latex_to_text(value: str) -> str:
    """Readable text from a title or abstract with LaTeX: $\\alpha$ -> α, \\emph{x} -> x."""
    if "\\" not in value and "$" not in value and "{" not in value:
        return value
    from pylatexenc.latex2text import LatexNodes2Text

    try:
        # A bare % starts a LaTeX comment, but in abstracts it means per cent.
        text = LatexNodes2Text(math_mode="text", strict_latex_spaces=True).latex_to_text(
            _UNESCAPED_PERCENT.sub(r"\\%", value)
        )
    except Exception:
        text = value.replace("$", "")
    return " ".join(text.split())


def shorten(text: str, limit: int = ABSTRACT_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:.") + "…"


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
        self._frame_html = _ENV.get_template("digest.html")
        self._frame_text = _ENV.get_template("digest.txt")
        self._titles: dict[int, str] = {}
        self._blocks: dict[tuple[int, str], tuple[str, str]] = {}

    def title(self, entry: Entry) -> str:
        pk = entry.paper.pk
        found = self._titles.get(pk)
        if found is None:
            found = self._titles[pk] = (
                latex_to_text(entry.paper.paper.title) or entry.paper.paper.id
            )
        return found

    def block(self, entry: Entry) -> tuple[str, str]:
        """(html, text) of one paper with its reason."""
        key = (entry.paper.pk, entry.why)
        found = self._blocks.get(key)
        if found is None:
            paper = entry.paper.paper
            context = {
                "title": self.title(entry),
                "byline": _byline(entry),
                "why": entry.why,
                "abstract": shorten(latex_to_text(paper.abstract)),
                "page_url": f"{self.base_url}/papers/{paper.id}",
                "abs_url": paper.abs_url,
                "pdf_url": paper.pdf_url,
                "upvotes": entry.paper.upvotes,
                "site_name": self.settings.site_name,
            }
            html = self._html.render(**context)
            text = self._text.render(**{**context, "abstract": _wrap(context["abstract"])})
            found = self._blocks[key] = (html, text)
        return found

    def subject(self, plan: DigestPlan) -> str:
        day = plan.period.day
        what = "Trending papers" if plan.period.kind == "daily" else "This week's trending papers"
        top = shorten(self.title(plan.entries[0]), SUBJECT_TITLE_CHARS)
        return f"{what} — {day.day} {day:%b %Y}: {top}"

    def message(self, plan: DigestPlan, links: ListLinks, now: datetime) -> OutgoingMail:
        """The digest as queued mail; its Message-ID is the same however often it is made."""
        subscriber, period = plan.subscriber, plan.period
        html_sections, text_sections = [], []
        if plan.trending:
            title = "Trending" if any(e.paper.upvotes for e in plan.trending) else "New papers"
            html_sections.append((title, self._join(plan.trending, 0)))
            text_sections.append((title, self._join(plan.trending, 1)))
        number = len(plan.trending) + 1
        for topic, entries in plan.topics:
            html_sections.append((f"Your topic: {topic}", self._join(entries, 0)))
            text_sections.append((f"Your topic: {topic}", self._join(entries, 1, number)))
            number += len(entries)
        count = len(plan.entries)
        heading = f"{count} paper{'s' if count != 1 else ''} for " + (
            f"{period.day:%A} {period.day.day} {period.day:%B %Y}"
            if period.kind == "daily"
            else f"the week to {period.day.day} {period.day:%B %Y}"
        )
        subject = self.subject(plan)
        common = {
            "site_name": self.settings.site_name,
            "base_url": self.base_url,
            "heading": heading,
            "links": links,
            "cadence": "daily" if period.kind == "daily" else "weekly",
            "subject": subject,
        }
        html = self._frame_html.render(sections=html_sections, **common)
        text = self._frame_text.render(sections=text_sections, **common)
        key = f"digest-{subscriber.id}-{period.key}"
        message_id = new_message_id(self.settings, key)
        data = assemble(
            self.settings,
            to=subscriber.email,
            subject=subject,
            text=text,
            html=html,
            message_id=message_id,
            now=now,
            links=links,
        )
        return OutgoingMail(
            kind="digest",
            recipient=subscriber.email,
            message_id=message_id,
            data=data,
            subscriber_id=subscriber.id,
            dedupe_key=key,
        )

    def _join(self, entries: tuple[Entry, ...], part: int, first: int = 1) -> Markup | str:
        if part == 0:
            return Markup("".join(self.block(e)[0] for e in entries))
        return "\n\n".join(
            f"{number}. {self.block(e)[1].strip()}" for number, e in enumerate(entries, first)
        )


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=76) if text else ""
