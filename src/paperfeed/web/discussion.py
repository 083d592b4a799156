"""The discussion's forms on a paper's page: post a comment or a reply, edit or delete one's
own, follow the discussion by mail; and, for operators, hide a comment or a reader and show
them again.

Every form is a plain post (it works without JavaScript) with its CSRF token and a rate per
reader (web/forms.py); a browser is sent back to the comment's anchor, a script asking for
JSON gets JSON. A comment refused (too long, empty, no public name yet) brings the page back
with the reason and the text as written, so nothing typed is lost."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from paperfeed.discussion.mail import unsubscribe_subject
from paperfeed.ids import paper_path
from paperfeed.models import Comment
from paperfeed.people.tokens import BadToken
from paperfeed.storage import CommentNotFound
from paperfeed.web.app import state_of
from paperfeed.web.forms import ReaderForm, form_answer, reader_form
from paperfeed.web.moderation import moderate, operator_form
from paperfeed.web.pages import paper_response, render
from paperfeed.web.params import BadRequest, form_text, local_path, paper_pk
from paperfeed.web.people import ONE_CLICK_BODY

router = APIRouter(include_in_schema=False)

MAX_ID = 2**63 - 1


def comment_json(comment: Comment) -> dict[str, Any]:
    """A comment for scripts (the text as written: escape it where you show it)."""
    return {
        "id": comment.id,
        "parentId": comment.parent_id,
        "author": comment.author_name,
        "text": comment.text,
        "createdAt": comment.created_at.isoformat(),
        "editedAt": comment.edited_at.isoformat() if comment.edited_at else None,
    }


def _id(raw: object, what: str = "comment") -> int:
    text = str(raw).strip() if raw is not None else ""
    if not text.isdigit() or int(text) > MAX_ID:
        raise BadRequest(f"{what} must be a number, not {text[:20]!r}")
    return int(text)


def _anchor(paper_id: str, comment_id: int | None = None) -> str:
    return paper_path(paper_id) + (f"#comment-{comment_id}" if comment_id else "#discussion")


def _checked_text(posted: ReaderForm) -> str:
    """The comment's text: BadRequest when empty or over PAPERFEED_COMMENT_MAX_CHARS."""
    text = (form_text(posted.form.get("text")) or "").strip()
    limit = posted.state.settings.comment_max_chars
    if not text:
        raise BadRequest("a comment needs some text")
    if len(text) > limit:
        raise BadRequest(
            f"a comment holds at most {limit:,} characters; this one has {len(text):,}"
        )
    return text


def _refused(
    request: Request, posted: ReaderForm, paper_id: str, exc: Exception, **draft: Any
) -> Response:
    """The paper page again, with the reason and the text as written (JSON: a 400)."""
    if posted.wants_json:
        raise BadRequest(str(exc))
    paper = posted.state.store.get_paper(paper_id)
    return paper_response(request, paper, 400, comment_error=str(exc), **draft)


@router.post("/papers/{paper_id:path}/comments", response_model=None)
async def post_comment(request: Request, paper_id: str) -> Response:
    """A new comment, or a reply (`parent`); `follow`=1 also asks for mail about new ones."""
    posted = await reader_form(request, "comment")
    state, account, form = posted.state, posted.account, posted.form
    normalised, pk = paper_pk(state.store, paper_id)
    parent = _id(form.get("parent"), "parent") if form.get("parent") else None
    draft = {"draft": form_text(form.get("text")) or "", "draft_parent": parent}
    try:
        if not account.public_name:
            raise BadRequest("pick a public name first: it is shown beside your comments")
        text = _checked_text(posted)
        made = state.store.add_comment(pk, account.id, parent, text, posted.now)
    except (BadRequest, CommentNotFound, ValueError) as exc:
        message = "that comment was deleted" if isinstance(exc, CommentNotFound) else exc
        return _refused(request, posted, normalised, Exception(message), **draft)
    if form_text(form.get("follow")) == "1":
        state.store.set_discussion_mail(account.id, pk, True, posted.now)
    return form_answer(posted, _anchor(normalised, made.id), {"comment": comment_json(made)})


def _own(posted: ReaderForm, pk: int, comment_id: int) -> Comment:
    comment = posted.state.store.get_comment(comment_id)
    if comment.paper_pk != pk or comment.author_id != posted.account.id or comment.deleted:
        raise CommentNotFound(comment_id)  # another reader's: as if it did not exist
    return comment


@router.post("/papers/{paper_id:path}/comments/{comment_id}/edit", response_model=None)
async def edit_comment(request: Request, paper_id: str, comment_id: str) -> Response:
    """The reader's own comment, with new text (shown as edited)."""
    posted = await reader_form(request, "comment-edit")
    normalised, pk = paper_pk(posted.state.store, paper_id)
    own = _own(posted, pk, _id(comment_id))
    try:
        text = _checked_text(posted)
        edited = posted.state.store.edit_comment(own.id, posted.account.id, text, posted.now)
    except (BadRequest, ValueError) as exc:
        draft = {"draft_edit": own.id, "draft": form_text(posted.form.get("text")) or ""}
        return _refused(request, posted, normalised, exc, **draft)
    return form_answer(posted, _anchor(normalised, own.id), {"comment": comment_json(edited)})


@router.post("/papers/{paper_id:path}/comments/{comment_id}/delete", response_model=None)
async def delete_comment(request: Request, paper_id: str, comment_id: str) -> Response:
    """Delete the reader's own comment (one with replies stays as "deleted")."""
    posted = await reader_form(request, "comment-delete")
    normalised, pk = paper_pk(posted.state.store, paper_id)
    own = _own(posted, pk, _id(comment_id))
    posted.state.store.delete_comment(own.id, posted.account.id, posted.now)
    return form_answer(posted, _anchor(normalised, own.parent_id), {"deleted": own.id})


@router.post("/papers/{paper_id:path}/follow", response_model=None)
async def follow(request: Request, paper_id: str) -> Response:
    """Mail about new comments in this discussion (on=1, the default), or no more (on=0)."""
    posted = await reader_form(request, "discussion-follow")
    normalised, pk = paper_pk(posted.state.store, paper_id)
    on = form_text(posted.form.get("on")) != "0"
    posted.state.store.set_discussion_mail(posted.account.id, pk, on, posted.now)
    return form_answer(posted, _anchor(normalised), {"following": on})


@router.post("/papers/{paper_id:path}/comments/{comment_id}/hide", response_model=None)
async def hide_comment(request: Request, paper_id: str, comment_id: str) -> Response:
    """An operator hides a comment (with an optional reason): it leaves the discussion, its
    feed, counts and mail."""
    return await _comment_moderation(request, paper_id, comment_id, True)


@router.post("/papers/{paper_id:path}/comments/{comment_id}/unhide", response_model=None)
async def unhide_comment(request: Request, paper_id: str, comment_id: str) -> Response:
    """An operator shows a hidden comment again."""
    return await _comment_moderation(request, paper_id, comment_id, False)


async def _comment_moderation(
    request: Request, paper_id: str, comment_id: str, hide: bool
) -> Response:
    posted = await operator_form(request)
    normalised, pk = paper_pk(posted.state.store, paper_id)
    comment = posted.state.store.get_comment(_id(comment_id))
    if comment.paper_pk != pk:
        raise CommentNotFound(comment.id)
    changed = moderate(posted, "comment", str(comment.id), hide)
    data = {"comment": comment.id, "hidden": hide, "changed": changed}
    return form_answer(posted, _anchor(normalised, comment.id), data)


@router.post("/readers/{reader_id}/hide", response_model=None)
async def hide_reader(request: Request, reader_id: str) -> Response:
    """An operator hides a reader: all their comments leave every discussion and feed."""
    return await _reader_moderation(request, reader_id, True)


@router.post("/readers/{reader_id}/unhide", response_model=None)
async def unhide_reader(request: Request, reader_id: str) -> Response:
    """An operator shows a hidden reader's comments again."""
    return await _reader_moderation(request, reader_id, False)


async def _reader_moderation(request: Request, reader_id: str, hide: bool) -> Response:
    posted = await operator_form(request)
    reader = posted.state.store.get_subscriber(_id(reader_id, "reader"))
    changed = moderate(posted, "reader", str(reader.id), hide)
    back = local_path(posted.form.get("next"), "/")
    return form_answer(posted, back, {"reader": reader.id, "hidden": hide, "changed": changed})


# -- one-click unsubscribe from a discussion's mail (RFC 8058) -----------------------------


def _unsubscribe_target(request: Request, token: str) -> tuple[int, int, str]:
    """(subscriber id, paper pk, paper id) an unsubscribe link names; BadToken otherwise."""
    state = state_of(request)
    subscriber_id, paper_id = unsubscribe_subject(state.settings, token, datetime.now(UTC))
    pk = state.store.pks_for_ids([paper_id]).get(paper_id)
    if pk is None:
        raise BadToken("this link names a paper that is no longer here")
    return subscriber_id, pk, paper_id


@router.get("/discussions/unsubscribe/{token}", response_model=None)
def discussion_unsubscribe_page(request: Request, token: str) -> Response:
    """A button; only the POST unsubscribes (link scanners prefetch GETs)."""
    try:
        _, _, paper_id = _unsubscribe_target(request, token)
    except BadToken as exc:
        return render(request, "link_problem.html", keep=False, status=400, problem=str(exc))
    paper = state_of(request).store.get_paper(paper_id)
    action = f"/discussions/unsubscribe/{token}"
    return render(request, "discussion_unsubscribe.html", keep=False, paper=paper, action=action)


@router.post("/discussions/unsubscribe/{token}", response_model=None)
async def discussion_unsubscribe(request: Request, token: str) -> Response:
    """RFC 8058 one-click (body List-Unsubscribe=One-Click, no cookies) or the page's button:
    the token alone decides, at once, and only for this discussion."""
    one_click = (await request.body()).decode("utf-8", "replace").strip() == ONE_CLICK_BODY
    try:
        subscriber_id, pk, paper_id = _unsubscribe_target(request, token)
    except BadToken as exc:
        if one_click:
            return PlainTextResponse(str(exc), status_code=400)
        return render(request, "link_problem.html", keep=False, status=400, problem=str(exc))
    state = state_of(request)
    state.store.set_discussion_mail(subscriber_id, pk, False, datetime.now(UTC))
    if one_click:
        return PlainTextResponse("unsubscribed")
    paper = state.store.get_paper(paper_id)
    return render(request, "discussion_unsubscribe.html", keep=False, paper=paper, done=True)
