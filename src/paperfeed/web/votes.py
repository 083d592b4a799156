"""Upvotes: a signed-in reader votes for a paper, or takes the vote back."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from paperfeed.ids import paper_path
from paperfeed.web.app import state_of
from paperfeed.web.params import form_text, local_path, paper_pk
from paperfeed.web.security import CSRF_FIELD, check_csrf, current_subscriber

router = APIRouter()


@router.post("/papers/{paper_id:path}/vote", response_model=None, include_in_schema=False)
async def vote(request: Request, paper_id: str) -> Response:
    """Form field `on`: 1 upvotes, 0 takes the vote back. A browser without JavaScript is sent
    back to the page it came from; a script asking for JSON gets {"upvotes", "voted"}."""
    state = state_of(request)
    form = await request.form()
    check_csrf(request, state.settings, form_text(form.get(CSRF_FIELD)))
    wants_json = "application/json" in request.headers.get("accept", "")
    normalised, pk = paper_pk(state.store, paper_id)
    account = current_subscriber(request, state.store, state.settings, datetime.now(UTC))
    back = local_path(form.get("next"), paper_path(normalised))
    if account is None:
        if wants_json:
            return JSONResponse({"error": "sign in to upvote"}, status_code=401)
        return RedirectResponse("/signin", status_code=303)
    on = form_text(form.get("on")) != "0"
    upvotes = state.store.set_vote(account.id, pk, on, datetime.now(UTC))
    if wants_json:
        return JSONResponse({"upvotes": upvotes, "voted": on})
    return RedirectResponse(back, status_code=303)
