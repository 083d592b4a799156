"""The submit page and the page of a reader's submissions (submissions.py does the work).

A signed-in reader submits an arXiv paper to the day's list there. A refusal shows the form
again with the reason (a 4xx, or 503 when arXiv did not answer); a script asking for JSON
gets {"error"} or the submission. Success goes to the paper's page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response

from paperfeed.ids import paper_path
from paperfeed.models import Subscriber
from paperfeed.people.names import BadName, public_name
from paperfeed.storage import AlreadySubmitted, SubmissionLimit
from paperfeed.submissions import SubmitRefused, Submitted, submit
from paperfeed.web.app import AppState, state_of
from paperfeed.web.forms import ReaderForm, reader_form
from paperfeed.web.pages import render
from paperfeed.web.params import form_text, int_param
from paperfeed.web.security import SignInNeeded, current_subscriber

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
SHOWN_INPUT_CHARS = 300  # what the form shows again of a refused text


@router.get("/submit", response_model=None)
def submit_page(request: Request) -> Response:
    """The form, the rules, and how many the reader may still submit today."""
    state = state_of(request)
    now = datetime.now(UTC)
    account = current_subscriber(request, state.store, state.settings, now)
    if account is None:
        raise SignInNeeded()
    return _form(request, state, account, now, "", None, 200)


def _form(
    request: Request,
    state: AppState,
    account: Subscriber,
    now: datetime,
    text: str,
    error: str | None,
    status: int,
) -> Response:
    today = now.date()
    left = max(0, state.settings.submit_per_day - state.store.submissions_on(account.id, today))
    response = render(
        request,
        "submit.html",
        keep=False,
        text=text[:SHOWN_INPUT_CHARS],
        error=error,
        left=left,
        per_day=state.settings.submit_per_day,
        window_days=state.settings.submit_window_days,
        person=account,
        next="/submit",
        active="submit",
    )
    response.status_code = status
    return response


@router.post("/submit", response_model=None)
async def submit_paper(request: Request) -> Response:
    """Submit the paper the form's `paper` names (an arXiv id or URL)."""
    posted = await reader_form(request, "submit")
    text = form_text(posted.form.get("paper")) or ""
    try:
        done = await run_in_threadpool(_submit, posted, text)
    except (SubmitRefused, AlreadySubmitted, SubmissionLimit) as exc:
        return _refused(request, posted, text, exc)
    paper_id = done.submission.paper_id
    if posted.wants_json:
        return JSONResponse(
            {
                "paper": paper_id,
                "submittedBy": done.submission.submitter,
                "day": done.submission.day.isoformat(),
                "fetched": done.fetched,
            }
        )
    return RedirectResponse(f"{paper_path(paper_id)}?submitted=1", status_code=303)


def _submit(posted: ReaderForm, text: str) -> Submitted:
    """In a worker thread: asking arXiv may take seconds, and the store's transaction is the
    thread's own."""
    state = posted.state
    done = submit(state.store, state.settings, posted.account, text, posted.now)
    if done.fetched:  # searchable at once, as an ingest makes it (vectors: the embed job)
        state.searcher.refresh()
    return done


def _status(exc: Exception) -> int:
    if isinstance(exc, SubmitRefused):
        return exc.status
    if isinstance(exc, SubmissionLimit):
        return 429
    return 409  # AlreadySubmitted


def _refused(request: Request, posted: ReaderForm, text: str, exc: Exception) -> Response:
    status = _status(exc)
    message = str(exc)
    if posted.wants_json:
        data: dict[str, Any] = {"error": message}
        if isinstance(exc, AlreadySubmitted):
            data["paper"] = exc.submission.paper_id
            data["submittedBy"] = exc.submission.submitter
            data["day"] = exc.submission.day.isoformat()
        if isinstance(exc, SubmissionLimit):
            data["resetsAt"] = exc.resets_at.isoformat()
        return JSONResponse(data, status_code=status)
    return _form(request, posted.state, posted.account, posted.now, text, message, status)


@router.get("/submitters/{name}", response_model=None)
def submitter_page(request: Request, name: str, p: str | None = None) -> Response:
    """The papers a reader submitted here, newest first (a name only Hugging Face knows has
    no page here: its papers say "via Hugging Face")."""
    state = state_of(request)
    page = int_param("p", p, 0, 0, 10_000)
    try:
        reader = state.store.subscriber_by_public_name(public_name(name))
    except BadName:  # no reader can have it
        reader = None
    if reader is None or not reader.public_name:
        raise HTTPException(404)
    items = state.store.submitted_papers(
        reader.public_name, None, None, PAGE_SIZE + 1, page * PAGE_SIZE, imported=False
    )
    return render(
        request,
        "submitter.html",
        submitter=reader.public_name,
        submitted=items[:PAGE_SIZE],
        page=page,
        more=len(items) > PAGE_SIZE,
        active="",
    )
