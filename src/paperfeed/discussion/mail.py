"""Mail participants about new comments in the discussions they follow: `paperfeed
discussion-mail`, and a step of the worker's cycle.

Batched: one message per participant and discussion listing the new comments by others since
their last one, never more than one an hour (MAIL_EVERY_S). Idempotent: a discussion's
comments are noted as mailed and the message queued in one transaction (the queue's dedupe
key names the participant, the paper and the last comment), so a rerun, or a second worker,
queues nothing twice and a run killed half-way loses nothing. Each message carries a one-click
unsubscribe for that discussion alone (RFC 8058); every text a reader wrote is escaped in the
HTML part and never reaches a header (the Subject holds the paper's title, made one line).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from paperfeed.config import Settings
from paperfeed.digest.render import latex_to_text
from paperfeed.discussion.markdown import plain_text
from paperfeed.ids import paper_path
from paperfeed.mail.messages import ListLinks, build_message, new_message_id, outgoing, render
from paperfeed.models import MAX_TITLE_CHARS, DiscussionMail, OutgoingMail, Paper, clip
from paperfeed.people.tokens import sign_token, verify_token
from paperfeed.storage import Store, SubscriberNotFound

log = logging.getLogger("paperfeed.discussion")
MAIL_EVERY_S = 3600.0
KIND = "discussion"
UNSUBSCRIBE = "discussion-unsubscribe"  # the token purpose of a discussion's unsubscribe link
SUBJECT_TITLE_CHARS = 120
ANONYMOUS = "a reader"


@dataclass
class DiscussionMailReport:
    due: int = 0
    queued: int = 0
    done_before: int = 0  # another run (or process) queued it first

    def summary(self) -> str:
        return f"discussion mail: {self.due} due, queued {self.queued}" + (
            f", {self.done_before} queued before" if self.done_before else ""
        )


def unsubscribe_token(settings: Settings, subscriber_id: int, paper_id: str, now: datetime) -> str:
    """The token of a discussion's one-click unsubscribe link (it never lapses: it can only
    stop mail)."""
    return sign_token(settings.secret_key, UNSUBSCRIBE, f"{subscriber_id} {paper_id}", now, None)


def unsubscribe_subject(settings: Settings, token: str, now: datetime) -> tuple[int, str]:
    """(subscriber id, paper id) a link names; BadToken when it is not one of ours."""
    claims = verify_token(settings.secret_key, token, UNSUBSCRIBE, now)
    subscriber, _, paper_id = claims.subject.partition(" ")
    return int(subscriber), paper_id


def one_line(text: str, limit: int = SUBJECT_TITLE_CHARS) -> str:
    """Text fit for a header: LaTeX made readable, every line break and control character
    gone, at most `limit` characters."""
    cleaned = "".join(c if c.isprintable() else " " for c in latex_to_text(text))
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


def _readable(text: str) -> str:
    """A comment for mail: the Markdown as written, its math as readable text."""
    return "\n".join(latex_to_text(line) for line in plain_text(text).splitlines())


def compose(
    settings: Settings, due: DiscussionMail, email: str, paper: Paper, now: datetime
) -> OutgoingMail:
    """The message for one participant and discussion (text and HTML, autoescaped)."""
    base = settings.base_url.rstrip("/")
    page = base + paper_path(paper.id)
    unsubscribe = f"{base}/discussions/unsubscribe/" + unsubscribe_token(
        settings, due.subscriber_id, paper.id, now
    )
    comments = [
        {
            "author": c.author_name or ANONYMOUS,
            "reply": c.parent_id is not None,
            "text": _readable(c.text),
            "url": f"{page}#comment-{c.id}",
            "when": f"{c.created_at:%d %b %Y %H:%M} UTC",
        }
        for c in due.comments
    ]
    title = one_line(clip(paper.title, MAX_TITLE_CHARS) or paper.id)
    subject, text, html = render(
        "discussion",
        site_name=one_line(settings.site_name, 60),
        base_url=base,
        title=title,
        page_url=page,
        comments=comments,
        unsubscribe_url=unsubscribe,
    )
    key = f"discussion-{due.subscriber_id}-{due.paper_pk}-{due.through_id}"
    message = build_message(
        settings,
        to=email,
        subject=subject,
        text=text,
        html=html,
        message_id=new_message_id(settings, key),
        now=now,
        links=ListLinks(unsubscribe=unsubscribe, preferences=page),
    )
    return outgoing(message, KIND, due.subscriber_id, key)


def send_discussion_mail(store: Store, settings: Settings, now: datetime) -> DiscussionMailReport:
    """Queue every discussion mail due at `now` (the worker or `paperfeed mail send`
    delivers the queue)."""
    report = DiscussionMailReport()
    for due in store.discussion_mail_due(now, MAIL_EVERY_S):
        report.due += 1
        try:
            subscriber = store.get_subscriber(due.subscriber_id)
        except SubscriberNotFound:  # gone since: their follow went with them
            continue
        paper = store.papers_by_pk([due.paper_pk]).get(due.paper_pk)
        if paper is None:
            continue
        mail = compose(settings, due, subscriber.email, paper, now)
        if store.record_discussion_mail(due.subscriber_id, due.paper_pk, due.through_id, mail, now):
            report.queued += 1
        else:
            report.done_before += 1
    return report
