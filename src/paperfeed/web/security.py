"""Browser security: the signed session cookie, and CSRF tokens for every form that changes state.

CSRF uses a double-submit token: a random cookie, and in each form an HMAC of it that only the
server can make. Links from mail (confirm, unsubscribe, preferences) carry their own signed
token, so the RFC 8058 one-click POST, which comes with no cookies, needs nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime

from fastapi import Request, Response
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperfeed.config import Settings
from paperfeed.models import Subscriber
from paperfeed.people.tokens import BadToken, derive_key, sign_token, token_id, verify_token
from paperfeed.storage import Store, SubscriberNotFound
from paperfeed.web.caching import MARKER, rendered_for_anyone

SESSION_COOKIE = "pf_session"
CSRF_COOKIE = "pf_csrf"
CSRF_FIELD = "csrf"


class SignInNeeded(Exception):
    """A page or action that is a signed-in reader's, asked for by someone who is not: the
    error handler sends a browser to sign in, and answers a script (`json`) with a 401."""

    def __init__(self, json: bool = False, message: str = "sign in to keep a library") -> None:
        super().__init__(message)
        self.json = json


class OperatorsOnly(Exception):
    """An action or page for the site's operators (PAPERFEED_OPERATORS), asked for by a
    signed-in reader who is not one: a 403 (JSON for a script, `json`)."""

    def __init__(
        self,
        json: bool = False,
        message: str = "only operators (PAPERFEED_OPERATORS) may hide or show things",
    ) -> None:
        super().__init__(message)
        self.json = json


class CsrfFailed(ValueError):
    """A state-changing form came without a valid CSRF token."""


def _secure(settings: Settings) -> bool:
    return settings.base_url.startswith("https://")


def current_subscriber(
    request: Request, store: Store, settings: Settings, now: datetime
) -> Subscriber | None:
    """The signed-in account, if the session cookie is valid and current; looked up once per
    request (a page asks for it in its handler and again in its templates)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    known = getattr(request.state, "pf_account", None)
    if known is not None and known[0] == cookie:
        return known[1]
    subscriber: Subscriber | None
    try:
        claims = verify_token(settings.secret_key, cookie, "session", now)
        subscriber = store.get_subscriber(int(claims.subject))
    except (BadToken, SubscriberNotFound, ValueError):
        subscriber = None
    else:
        if claims.version != subscriber.session_version or not subscriber.is_account:
            subscriber = None  # signed out everywhere since, or no longer an account
        elif store.token_spent(token_id(claims)):
            subscriber = None  # this session was signed out
    request.state.pf_account = (cookie, subscriber)
    return subscriber


def start_session(
    response: Response, settings: Settings, subscriber: Subscriber, now: datetime
) -> None:
    ttl_s = settings.session_days * 86_400
    token = sign_token(
        settings.secret_key,
        "session",
        str(subscriber.id),
        now,
        ttl_s,
        version=subscriber.session_version,
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(ttl_s),
        httponly=True,
        samesite="lax",
        secure=_secure(settings),
        path="/",
    )


def end_session(
    request: Request, response: Response, store: Store, settings: Settings, now: datetime
) -> None:
    """Sign this browser out: its session token is revoked (a copy of the cookie no longer
    works), and the cookie is deleted."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        try:
            claims = verify_token(settings.secret_key, cookie, "session", now)
        except BadToken:
            pass  # nothing to revoke
        else:
            store.spend_token(token_id(claims), now)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(settings)
    )


def _csrf_value(settings: Settings, cookie: str) -> str:
    """The form value for a CSRF cookie, under a key of its own (the cookie is the client's
    choice: nothing signed here may ever pass for a token)."""
    key = derive_key(settings.secret_key, "csrf")
    return hmac.new(key, cookie.encode("utf-8", "replace"), hashlib.sha256).hexdigest()


def csrf_token(request: Request, settings: Settings) -> str:
    """The value for a form's hidden CSRF field; the cookie it belongs to is set on the
    response (CsrfCookie) when the browser has none yet. A page rendered for anyone, to be
    kept, gets the marker each reader's token replaces (web/caching.py)."""
    if rendered_for_anyone(request.scope):
        return MARKER
    cookie = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not cookie:
        cookie = secrets.token_urlsafe(24)
        request.state.new_csrf = cookie
    return _csrf_value(settings, cookie)


def _csrf_cookie_header(settings: Settings, cookie: str) -> tuple[bytes, bytes]:
    response = Response()
    response.set_cookie(
        CSRF_COOKIE, cookie, httponly=True, samesite="lax", secure=_secure(settings), path="/"
    )
    return response.raw_headers[-1]


def reader_token(settings: Settings) -> Callable[[Scope], tuple[str, list[tuple[bytes, bytes]]]]:
    """For kept pages: the reader's CSRF token (from their cookie, or a new cookie, set)."""

    def fill(scope: Scope) -> tuple[str, list[tuple[bytes, bytes]]]:
        raw = b""
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                raw = value
                break
        cookie = cookie_parser(raw.decode("latin-1")).get(CSRF_COOKIE) if raw else None
        if cookie:
            return _csrf_value(settings, cookie), []
        cookie = secrets.token_urlsafe(24)
        return _csrf_value(settings, cookie), [_csrf_cookie_header(settings, cookie)]

    return fill


class CsrfCookie:
    """ASGI middleware: sets the CSRF cookie that csrf_token made for a first visit."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def with_cookie(message: Message) -> None:
            cookie = state.get("new_csrf")
            if message["type"] == "http.response.start" and cookie:
                headers = [*message.get("headers", []), _csrf_cookie_header(self.settings, cookie)]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_cookie)


def check_csrf(request: Request, settings: Settings, submitted: str | None) -> None:
    """CsrfFailed unless the form's token matches this browser's cookie."""
    cookie = request.cookies.get(CSRF_COOKIE)
    if (
        not cookie
        or not submitted
        or not hmac.compare_digest(submitted, _csrf_value(settings, cookie))
    ):
        raise CsrfFailed(
            "this form has expired or came from another site; reload the page and try again"
        )
