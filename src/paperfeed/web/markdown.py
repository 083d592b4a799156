"""A paper as Markdown (title, authors, links, abstract), for /papers/{id}.md (pure)."""

from __future__ import annotations

from paperfeed.models import MAX_ABSTRACT_CHARS, MAX_COMMENT_CHARS, MAX_TITLE_CHARS, Paper, clip


def paper_markdown(paper: Paper, page_url: str) -> str:
    """The paper in Markdown; `page_url` is its page on this server. Fields are cut at the caps
    ingest applies, whatever a database written before them holds."""
    lines = [f"# {_inline(clip(paper.title, MAX_TITLE_CHARS)) or paper.id}", ""]
    if paper.authors:
        lines += [f"**Authors:** {_inline(', '.join(paper.authors))}", ""]
    facts = [f"arXiv: [{paper.id}]({paper.abs_url})" if paper.abs_url else f"id: {paper.id}"]
    if paper.pdf_url:
        facts.append(f"[PDF]({paper.pdf_url})")
    facts.append(f"[page]({page_url})")
    if paper.listed:
        facts.append(f"listed {paper.listed.isoformat()}")
    if paper.categories:
        facts.append(_inline(" ".join(paper.categories)))
    lines += [" · ".join(facts), ""]
    if paper.comment:
        lines += [f"*{_inline(clip(paper.comment, MAX_COMMENT_CHARS))}*", ""]
    # Escaped like the rest: a renderer would pass raw HTML (<script>) and make links of it.
    lines += ["## Abstract", "", _inline(clip(paper.abstract, MAX_ABSTRACT_CHARS)), ""]
    return "\n".join(lines)


def _inline(text: str) -> str:
    """Text safe inside one Markdown line: no line breaks, no HTML, no emphasis, code or links
    (every character that could start one is backslash-escaped)."""
    out = " ".join(text.split())
    for char in "\\`*_[]<>":
        out = out.replace(char, "\\" + char)
    return out
