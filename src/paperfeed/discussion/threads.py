"""What a discussion shows a viewer (pure): threads of a top comment and its replies, with
deleted and hidden comments left out, or kept as a placeholder when replies hang from them;
an operator also sees what was hidden, marked, so they can show it again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from markupsafe import Markup

from paperfeed.discussion.markdown import render_comment
from paperfeed.models import Comment


@dataclass(frozen=True)
class Shown:
    """A comment as shown: its safe HTML, or only a placeholder ("deleted", "hidden") where
    it keeps its replies' place."""

    comment: Comment
    html: Markup
    placeholder: str | None = None


@dataclass(frozen=True)
class Thread:
    top: Shown
    replies: list[Shown] = field(default_factory=list)


def _sees(comment: Comment, operator: bool) -> bool:
    return comment.visible or (operator and comment.hidden and not comment.deleted)


def _shown(comment: Comment) -> Shown:
    return Shown(comment, render_comment(comment.text))


def threads(comments: Iterable[Comment], operator: bool = False) -> list[Thread]:
    """The threads a viewer sees, oldest first (replies oldest first under their top)."""
    tops: list[Comment] = []
    replies: dict[int, list[Shown]] = {}
    for comment in comments:
        if comment.parent_id is None:
            tops.append(comment)
        elif _sees(comment, operator):
            replies.setdefault(comment.parent_id, []).append(_shown(comment))
    out: list[Thread] = []
    for top in tops:
        under = replies.get(top.id, [])
        if _sees(top, operator):
            out.append(Thread(_shown(top), under))
        elif under:
            kept = "deleted" if top.deleted else "hidden"
            out.append(Thread(Shown(top, Markup(""), kept), under))
    return out


def visible_count(comments: Iterable[Comment]) -> int:
    """How many comments anyone may read (what numComments says)."""
    return sum(1 for comment in comments if comment.visible)
