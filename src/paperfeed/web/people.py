"""Pages for people: subscribe, confirm, sign in and out, preferences, unsubscribe (and the API
to subscribe). The rules live in people/subscriptions.py; this turns them into HTTP."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)

from paperfeed.config import Settings
from paperfeed.mail.mailer import deliver_due, transport_for
from paperfeed.models import Preferences, Subscriber
from paperfeed.people import subscriptions as subs
from paperfeed.people.addresses import BadAddress, shown_address
from paperfeed.people.names import BadName, public_name
from paperfeed.people.tokens import BadToken
from paperfeed.storage import NameTaken, Store, StoreBusy
from paperfeed.web import api_schema
from paperfeed.web.app import state_of
from paperfeed.web.forms import form_answer, reader_form
from paperfeed.web.params import BadRequest, form_text, local_path
from paperfeed.web.security import (
    CSRF_FIELD,
    check_csrf,
    current_subscriber,
    end_session,
    start_session,
)

router = APIRouter()
log = logging.getLogger("paperfeed.web")
ONE_CLICK_BODY = "List-Unsubscribe=One-Click"


def _now() -> datetime:
    return datetime.now(UTC)


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _send_soon(background: BackgroundTasks, store: Store, settings: Settings) -> None:
    """Deliver what a request queued once the response is out (the queue keeps it if not)."""

    def deliver() -> None:
        try:
            deliver_due(store, transport_for(settings), _now(), lease_s=settings.mail_lease_s)
        except StoreBusy as exc:  # the mail stays queued for the next sender
            log.warning("mail not sent after a request, the database was busy: %s", exc)

    background.add_task(deliver)


def _page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    response: HTMLResponse = state_of(request).templates.TemplateResponse(
        request, template, context, status_code=status
    )
    return response


async def _form(request: Request) -> dict[str, Any]:
    form = await request.form()
    return {
        key: form.getlist(key) if key in ("topics", "categories") else form.get(key) for key in form
    }


def _preferences_from(form: dict[str, Any]) -> Preferences:
    topics = form.get("topics") or []
    topics = (
        "\n".join(t for t in topics if isinstance(t, str)) if isinstance(topics, list) else topics
    )
    categories = form.get("categories") or []
    categories = (
        " ".join(c for c in categories if isinstance(c, str))
        if isinstance(categories, list)
        else categories
    )
    return subs.parse_preferences(
        frequency=form.get("frequency"),
        weekdays_only=form.get("weekdays_only"),
        topics=topics,
        categories=categories,
        max_papers=form.get("max_papers"),
        timezone=form.get("timezone"),
    )


# -- subscribing ---------------------------------------------------------------------------


@router.post("/subscribe", response_class=HTMLResponse, include_in_schema=False)
async def subscribe_form(request: Request, background: BackgroundTasks) -> HTMLResponse:
    """The sign-up form: the same answer whether or not the address is subscribed already."""
    state = state_of(request)
    form = await _form(request)
    check_csrf(request, state.settings, form.get(CSRF_FIELD))
    try:
        preferences = _preferences_from(form)
        subs.request_subscription(
            state.store, state.settings, form.get("email"), preferences, _ip(request), _now()
        )
    except (BadAddress, subs.BadPreferences) as exc:
        return _page(
            request, "subscribe.html", 400, error=str(exc), email=shown_address(form.get("email"))
        )
    _send_soon(background, state.store, state.settings)
    return _page(request, "inbox.html", what="subscription")


@router.post(
    "/api/subscribe",
    status_code=202,
    tags=["people"],
    summary="Subscribe an address to the digest (double opt-in)",
    response_model=api_schema.SubscribeAccepted,
    responses={**api_schema.BAD_REQUEST, **api_schema.RATE_LIMITED},
    openapi_extra=api_schema.SUBSCRIBE_BODY,
)
async def subscribe_api(request: Request, background: BackgroundTasks) -> JSONResponse:
    """JSON `{"email", "topics": [...], "frequency": "daily"|"weekly", "categories": [...],
    "max_papers", "timezone": "Europe/Paris"}` or the same as a form. A confirmation mail goes
    out; nothing else is sent until its link is used. The answer never says whether the address
    was subscribed."""
    state = state_of(request)
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return JSONResponse({"error": "the body is not JSON"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "send a JSON object"}, status_code=400)
        try:
            preferences = subs.parse_preferences(
                frequency=body.get("frequency"),
                weekdays_only=body.get("weekdays_only", False),
                topics=body.get("topics"),
                categories=body.get("categories"),
                max_papers=body.get("max_papers"),
                timezone=body.get("timezone"),
            )
        except subs.BadPreferences as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        address = body.get("email")
    else:
        form = await _form(request)
        try:
            preferences = _preferences_from(form)
        except subs.BadPreferences as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        address = form.get("email")
    try:
        subs.request_subscription(
            state.store, state.settings, address, preferences, _ip(request), _now()
        )
    except BadAddress as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    _send_soon(background, state.store, state.settings)
    return JSONResponse(
        {
            "status": "pending",
            "message": "If this address can receive mail, a confirmation link is on its way.",
        },
        status_code=202,
    )


@router.get("/confirm/{token}", response_class=HTMLResponse, include_in_schema=False)
def confirm_page(request: Request, token: str) -> HTMLResponse:
    """A page with a button: mail scanners open links, so opening one must change nothing."""
    settings = state_of(request).settings
    try:
        subs.check_token(settings, token, "confirm", _now())
    except BadToken as exc:
        return _page(request, "link_problem.html", 400, problem=str(exc))
    return _page(request, "confirm.html", action=f"/confirm/{token}")


@router.post("/confirm/{token}", include_in_schema=False, response_model=None)
async def confirm(request: Request, token: str) -> Response:
    """Starts a session, so it needs the page's CSRF token: a form on another site must not
    sign a visitor into an account of its choosing."""
    state = state_of(request)
    form = await _form(request)
    check_csrf(request, state.settings, form.get(CSRF_FIELD))
    try:
        subscriber = subs.confirm_subscription(
            state.store, state.settings, token, _ip(request), _now()
        )
    except BadToken as exc:
        return _page(request, "link_problem.html", 400, problem=str(exc))
    response = RedirectResponse("/preferences?welcome=1", status_code=303)
    start_session(response, state.settings, subscriber, _now())
    return response


# -- signing in ----------------------------------------------------------------------------


@router.get("/signin", response_class=HTMLResponse, include_in_schema=False)
def signin_page(request: Request) -> HTMLResponse:
    return _page(request, "signin.html", email="")


@router.post("/signin", response_class=HTMLResponse, include_in_schema=False)
async def signin_request(request: Request, background: BackgroundTasks) -> HTMLResponse:
    state = state_of(request)
    form = await _form(request)
    check_csrf(request, state.settings, form.get(CSRF_FIELD))
    try:
        subs.request_sign_in(state.store, state.settings, form.get("email"), _ip(request), _now())
    except BadAddress as exc:
        return _page(
            request, "signin.html", 400, error=str(exc), email=shown_address(form.get("email"))
        )
    _send_soon(background, state.store, state.settings)
    return _page(request, "inbox.html", what="sign-in")


@router.get("/signin/{token}", response_class=HTMLResponse, include_in_schema=False)
def signin_link(request: Request, token: str) -> HTMLResponse:
    try:
        subs.check_token(state_of(request).settings, token, "signin", _now())
    except BadToken as exc:
        return _page(request, "link_problem.html", 400, problem=str(exc))
    return _page(request, "signin_confirm.html", action=f"/signin/{token}")


@router.post("/signin/{token}", include_in_schema=False, response_model=None)
async def signin(request: Request, token: str) -> Response:
    """Like confirming: a session starts, so the page's CSRF token is needed."""
    state = state_of(request)
    form = await _form(request)
    check_csrf(request, state.settings, form.get(CSRF_FIELD))
    try:
        subscriber = subs.complete_sign_in(state.store, state.settings, token, _ip(request), _now())
    except BadToken as exc:
        return _page(request, "link_problem.html", 400, problem=str(exc))
    response = RedirectResponse("/preferences", status_code=303)
    start_session(response, state.settings, subscriber, _now())
    return response


@router.post("/signout", include_in_schema=False)
async def signout(request: Request) -> RedirectResponse:
    state = state_of(request)
    form = await _form(request)
    check_csrf(request, state.settings, form.get(CSRF_FIELD))
    response = RedirectResponse("/", status_code=303)
    end_session(request, response, state.store, state.settings, _now())
    return response


@router.post("/signout/everywhere", include_in_schema=False)
async def signout_everywhere(request: Request) -> RedirectResponse:
    """End every session of this account, on every device, and retire the preferences links
    in mail sent so far."""
    state = state_of(request)
    form = await _form(request)
    check_csrf(request, state.settings, form.get(CSRF_FIELD))
    subscriber = current_subscriber(request, state.store, state.settings, _now())
    if subscriber is not None:
        subs.sign_out_everywhere(state.store, subscriber, _now())
    response = RedirectResponse("/", status_code=303)
    end_session(request, response, state.store, state.settings, _now())
    return response


# -- preferences and unsubscribing ---------------------------------------------------------


def _preferences_page(
    request: Request, subscriber: Subscriber, action: str, status: int = 200, **context: Any
) -> HTMLResponse:
    return _page(
        request,
        "preferences.html",
        status,
        person=subscriber,
        action=action,
        described=subs.describe(subscriber.preferences),
        **context,
    )


@router.get("/preferences", include_in_schema=False, response_model=None)
def preferences_signed_in(request: Request, welcome: str | None = None) -> Response:
    state = state_of(request)
    subscriber = current_subscriber(request, state.store, state.settings, _now())
    if subscriber is None:
        return RedirectResponse("/signin", status_code=303)
    return _preferences_page(request, subscriber, "/preferences", welcome=bool(welcome))


@router.get("/preferences/{token}", response_class=HTMLResponse, include_in_schema=False)
def preferences_by_link(request: Request, token: str) -> HTMLResponse:
    state = state_of(request)
    try:
        subscriber = subs.subscriber_for_link(state.store, state.settings, token, "prefs", _now())
    except BadToken as exc:
        return _page(request, "link_problem.html", 400, problem=str(exc))
    return _preferences_page(request, subscriber, f"/preferences/{token}")


async def _save_preferences(request: Request, subscriber: Subscriber, action: str) -> HTMLResponse:
    state = state_of(request)
    form = await _form(request)
    check_csrf(request, state.settings, form.get(CSRF_FIELD))
    if form.get("stop"):
        saved = subs.stop_mail(state.store, subscriber, _ip(request), _now())
        return _page(request, "unsubscribed.html", person=saved)
    try:
        preferences = _preferences_from(form)
    except subs.BadPreferences as exc:
        return _preferences_page(request, subscriber, action, 400, error=str(exc))
    saved = subs.save_preferences(state.store, subscriber, preferences, _ip(request), _now())
    return _preferences_page(request, saved, action, saved_now=True)


@router.post("/preferences", include_in_schema=False, response_model=None)
async def preferences_save_signed_in(request: Request) -> Response:
    state = state_of(request)
    subscriber = current_subscriber(request, state.store, state.settings, _now())
    if subscriber is None:
        return RedirectResponse("/signin", status_code=303)
    return await _save_preferences(request, subscriber, "/preferences")


@router.post("/preferences/{token}", response_class=HTMLResponse, include_in_schema=False)
async def preferences_save_by_link(request: Request, token: str) -> HTMLResponse:
    state = state_of(request)
    try:
        subscriber = subs.subscriber_for_link(state.store, state.settings, token, "prefs", _now())
    except BadToken as exc:
        return _page(request, "link_problem.html", 400, problem=str(exc))
    return await _save_preferences(request, subscriber, f"/preferences/{token}")


@router.get("/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe_page(request: Request, token: str) -> HTMLResponse:
    """Shows a button; only the POST unsubscribes (link scanners prefetch GETs)."""
    state = state_of(request)
    try:
        subscriber = subs.subscriber_for_link(
            state.store, state.settings, token, "unsubscribe", _now()
        )
    except BadToken as exc:
        return _page(request, "link_problem.html", 400, problem=str(exc))
    return _page(request, "unsubscribe.html", person=subscriber, action=f"/unsubscribe/{token}")


@router.post("/unsubscribe/{token}", include_in_schema=False, response_model=None)
async def unsubscribe(request: Request, token: str) -> Response:
    """RFC 8058 one-click (body List-Unsubscribe=One-Click, no cookies) or the page's button:
    either way the token alone decides, and it takes effect at once."""
    state = state_of(request)
    one_click = (await request.body()).decode("utf-8", "replace").strip() == ONE_CLICK_BODY
    try:
        subscriber = subs.unsubscribe(state.store, state.settings, token, _ip(request), _now())
    except BadToken as exc:
        if one_click:
            return PlainTextResponse(str(exc), status_code=400)
        return _page(request, "link_problem.html", 400, problem=str(exc))
    if one_click:
        return PlainTextResponse("unsubscribed")
    return _page(request, "unsubscribed.html", person=subscriber)


# -- public name ---------------------------------------------------------------------------


@router.post("/account/name", include_in_schema=False, response_model=None)
async def set_public_name(request: Request) -> Response:
    """Pick or change the reader's public name (people/names.py); 400 with the reason when it
    cannot be used or another reader has it."""
    posted = await reader_form(request, "name")
    try:
        name = public_name(form_text(posted.form.get("public_name")) or "")
        saved = posted.state.store.set_public_name(posted.account.id, name, posted.now)
    except (BadName, NameTaken) as exc:
        raise BadRequest(str(exc)) from exc
    back = local_path(posted.form.get("next"), "/preferences")
    return form_answer(posted, back, {"public_name": saved.public_name})
