"""Operators' pages: hide a paper or a reader (comments are hidden from their discussion),
show it again, and /moderation, the list of what is hidden, by whom, why and when.

Operators are the addresses in PAPERFEED_OPERATORS (moderation.py), signed in; anyone else
gets a 403. Nothing is deleted: a hidden paper leaves lists, search and feeds, and its page
and API answer are a 404 to readers; showing it again brings it all back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from paperfeed.ids import paper_path
from paperfeed.models import HiddenItem, Subscriber
from paperfeed.moderation import is_operator, reason_text
from paperfeed.storage import CommentNotFound, Store, SubscriberNotFound
from paperfeed.text import shorten
from paperfeed.web.app import AppState, state_of
from paperfeed.web.forms import ReaderForm, form_answer, reader_form
from paperfeed.web.pages import render
from paperfeed.web.params import BadRequest, form_text, local_path, paper_id_param
from paperfeed.web.security import OperatorsOnly, SignInNeeded, current_subscriber

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class HiddenRow:
    """One line of /moderation: what was hidden, as an operator reads it."""

    item: HiddenItem
    label: str  # the paper's title, the reader's public name, "comment 17"
    link: str | None  # where it is (a paper's page)
    hidden_by: str  # the operator's public name or address


def operator(request: Request) -> tuple[AppState, Subscriber]:
    """The state and the signed-in operator: SignInNeeded, or OperatorsOnly (403)."""
    state = state_of(request)
    account = current_subscriber(request, state.store, state.settings, datetime.now(UTC))
    if account is None:
        raise SignInNeeded(message="sign in as an operator")
    if not is_operator(state.settings, account):
        raise OperatorsOnly()
    return state, account


async def operator_form(request: Request) -> ReaderForm:
    """The post, checked (web/forms.reader_form), from an operator: OperatorsOnly (403)
    for anyone else."""
    posted = await reader_form(request, "moderate")
    if not is_operator(posted.state.settings, posted.account):
        raise OperatorsOnly(posted.wants_json)
    return posted


def moderate(posted: ReaderForm, kind: str, key: str, hide: bool) -> bool:
    """Hide (with the form's `reason`) or show again `kind` `key`; whether anything changed.
    BadRequest for a reason too long, or an operator hiding themselves."""
    store = posted.state.store
    if not hide:
        return store.unhide(kind, key)
    if kind == "reader" and key == str(posted.account.id):
        raise BadRequest("an operator cannot hide themselves")
    try:
        reason = reason_text(form_text(posted.form.get("reason")))
        return store.hide(kind, key, posted.account.id, reason, posted.now)
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc


def _target(store: Store, kind: str | None, raw: str | None) -> tuple[str, str]:
    """(kind, key) a form names, checked: a paper in the catalog, a reader who exists."""
    key = (raw or "").strip()
    if kind == "paper":
        normalised = paper_id_param(key)
        store.get_paper(normalised)  # PaperNotFound (404) for one not in the catalog
        return kind, normalised
    if kind == "reader":
        if not key.isdigit() or len(key) > 18:
            raise SubscriberNotFound(key[:40])
        store.get_subscriber(int(key))
        return kind, key
    if kind == "comment":
        if not key.isdigit() or len(key) > 18:
            raise BadRequest("a comment is named by its number")
        return kind, key
    raise BadRequest("one hides a paper, a reader or a comment")


@router.post("/moderation/hide", response_model=None)
async def hide(request: Request) -> Response:
    """Hide `kind` (paper, reader, comment) `key`, with an optional `reason`."""
    posted = await operator_form(request)
    kind, key = _target(
        posted.state.store, form_text(posted.form.get("kind")), form_text(posted.form.get("key"))
    )
    hidden = moderate(posted, kind, key, hide=True)
    back = local_path(posted.form.get("next"), "/moderation")
    return form_answer(posted, back, {"hidden": True, "new": hidden, "kind": kind, "key": key})


@router.post("/moderation/unhide", response_model=None)
async def unhide(request: Request) -> Response:
    """Show `kind` `key` again."""
    posted = await operator_form(request)
    kind = form_text(posted.form.get("kind")) or ""
    key = (form_text(posted.form.get("key")) or "").strip()
    try:
        shown = moderate(posted, kind, key, hide=False)
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    back = local_path(posted.form.get("next"), "/moderation")
    return form_answer(posted, back, {"hidden": False, "was_hidden": shown})


@router.get("/moderation", response_class=HTMLResponse)
def moderation_page(request: Request) -> HTMLResponse:
    """What is hidden, most recently hidden first, each with Show again."""
    state, _ = operator(request)
    items = state.store.hidden_items()
    return render(
        request,
        "moderation.html",
        keep=False,
        rows=_rows(state.store, items),
        active="moderation",
    )


def _rows(store: Store, items: list[HiddenItem]) -> list[HiddenRow]:
    papers = store.get_papers([i.key for i in items if i.kind == "paper"])
    people: dict[int, Subscriber | None] = {}

    def person(subscriber_id: int | None) -> Subscriber | None:
        if subscriber_id is None:
            return None
        if subscriber_id not in people:
            try:
                people[subscriber_id] = store.get_subscriber(subscriber_id)
            except SubscriberNotFound:
                people[subscriber_id] = None
        return people[subscriber_id]

    rows = []
    for item in items:
        link = None
        if item.kind == "paper":
            found = papers.get(item.key)
            label = found.title if found and found.title else item.key
            link = paper_path(item.key)
        elif item.kind == "reader":
            who = person(int(item.key)) if item.key.isdigit() else None
            label = _who(who) if who else f"reader {item.key} (gone)"
        else:
            label, link = _comment_label(store, item.key)
        by = person(item.hidden_by)
        rows.append(HiddenRow(item, label, link, _who(by) if by else "an operator no longer here"))
    return rows


def _comment_label(store: Store, key: str) -> tuple[str, str | None]:
    """A hidden comment as /moderation shows it: its first words, by whom, where it is."""
    try:
        comment = store.get_comment(int(key))
    except (CommentNotFound, ValueError):
        return f"comment {key} (gone)", None
    papers = store.papers_by_pk([comment.paper_pk])
    paper = papers.get(comment.paper_pk)
    words = shorten(comment.text, 80) if comment.text else "(deleted)"
    by = comment.author_name or "a reader no longer here"
    where = f" on {paper.title or paper.id}" if paper else ""
    link = f"{paper_path(paper.id)}#comment-{comment.id}" if paper else None
    return f"“{words}” by {by}{where}", link


def _who(person: Subscriber) -> str:
    """A reader as operators see them: public name and address (operators may contact)."""
    if person.public_name:
        return f"{person.public_name} <{person.email}>"
    return person.email
