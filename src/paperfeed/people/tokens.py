"""Sign and verify the tokens in links and cookies: HMAC-SHA256, a purpose, a subject, an expiry.

A token is `payload.signature`, both base64url. The payload names what the token is for
(confirm, signin, unsubscribe, prefs, session, csrf), whom (a subscriber id or an address),
until when, and a random nonce; single use is enforced by the caller recording the nonce.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime

MAX_TOKEN_CHARS = 1024


class BadToken(ValueError):
    """The token is malformed, forged, for another purpose, or expired."""


@dataclass(frozen=True)
class Claims:
    """What a verified token says."""

    purpose: str
    subject: str
    expires: int  # Unix seconds; 0 for never
    nonce: str
    version: int = 0  # for sessions: the subscriber's session version when signed


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), payload.encode("ascii"), hashlib.sha256).digest()
    return _b64(digest)


def sign_token(
    secret: str,
    purpose: str,
    subject: str,
    now: datetime,
    ttl_s: float | None,
    version: int = 0,
    nonce: str | None = None,
) -> str:
    """A token for `purpose` and `subject`, valid for `ttl_s` seconds (None: no expiry)."""
    expires = 0 if ttl_s is None else int(now.timestamp() + ttl_s)
    body = {"p": purpose, "s": subject, "e": expires, "n": nonce or secrets.token_urlsafe(12)}
    if version:
        body["v"] = version
    payload = _b64(json.dumps(body, separators=(",", ":")).encode("utf-8"))
    return f"{payload}.{_signature(secret, payload)}"


def verify_token(secret: str, token: str, purpose: str, now: datetime) -> Claims:
    """The token's claims if it is ours, for `purpose` and not expired; BadToken otherwise."""
    if not token or len(token) > MAX_TOKEN_CHARS or not token.isascii() or token.count(".") != 1:
        raise BadToken("this link is incomplete or damaged")
    payload, signature = token.split(".")
    if not hmac.compare_digest(signature, _signature(secret, payload)):
        raise BadToken("this link is incomplete or damaged")
    try:
        body = json.loads(_unb64(payload))
        claims = Claims(
            purpose=str(body["p"]),
            subject=str(body["s"]),
            expires=int(body["e"]),
            nonce=str(body["n"]),
            version=int(body.get("v", 0)),
        )
    except (ValueError, KeyError, TypeError):
        raise BadToken("this link is incomplete or damaged") from None
    if claims.purpose != purpose:
        raise BadToken("this link is meant for something else")
    if claims.expires and now.timestamp() > claims.expires:
        raise BadToken("this link has expired")
    return claims


def token_id(claims: Claims) -> str:
    """What records a single-use token as spent."""
    return f"{claims.purpose}:{claims.nonce}"
