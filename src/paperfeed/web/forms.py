"""A signed-in reader's form posts: the CSRF token checked, the reader required, a rate per
reader and action, and the answer a browser (redirect) or a script (JSON) wants.

Library marks, submissions, comments and the public name all go through `reader_form`, so
each is rate limited the same way (store.take_rate, a bucket per reader and action)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from paperfeed.models import Subscriber
from paperfeed.people.subscriptions import RateLimited
from paperfeed.web.app import AppState, state_of
from paperfeed.web.params import form_text
from paperfeed.web.security import CSRF_FIELD, SignInNeeded, check_csrf, current_subscriber

HOUR_S = 3600.0
# Posts a reader may make an hour, per action (a bucket each): generous for clicks (saving,
# marking), tighter for what others read.
RATES = {
    "library": 600,
    "name": 20,
    "comment": 30,
    "comment-edit": 60,
    "comment-delete": 60,
    "discussion-follow": 60,
    "moderate": 300,
    "submit": 30,
}


@dataclass(frozen=True)
class ReaderForm:
    """A checked post: the app's state, the reader, the form's fields, and whether JSON is
    wanted (a script's fetch) rather than a redirect (a browser without JavaScript)."""

    state: AppState
    account: Subscriber
    form: dict[str, Any]
    wants_json: bool
    now: datetime


async def reader_form(request: Request, action: str, per_hour: int | None = None) -> ReaderForm:
    """The post, checked: CsrfFailed without a valid token, SignInNeeded without a reader,
    RateLimited once the reader has made `per_hour` (RATES[action] by default) such posts in
    the last hour."""
    state = state_of(request)
    form = await request.form()
    check_csrf(request, state.settings, form_text(form.get(CSRF_FIELD)))
    now = datetime.now(UTC)
    account = current_subscriber(request, state.store, state.settings, now)
    wants_json = "application/json" in request.headers.get("accept", "")
    if account is None:
        raise SignInNeeded(wants_json)
    limit = per_hour if per_hour is not None else RATES[action]
    if not state.store.take_rate(f"form:{action}:{account.id}", now, HOUR_S, limit):
        raise RateLimited(f"too many of these in an hour (at most {limit}); try again later")
    return ReaderForm(state, account, dict(form), wants_json, now)


def form_answer(posted: ReaderForm, back: str, data: dict[str, Any]) -> Response:
    """JSON for a script, else a redirect (303) to `back`."""
    if posted.wants_json:
        return JSONResponse(data)
    return RedirectResponse(back, status_code=303)
