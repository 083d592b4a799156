"""Sign and verify the tokens in links and cookies: HMAC-SHA256, a purpose, a subject, an expiry.

A token is `payload.signature`, both unpadded base64url, decoded strictly (one spelling per
token). The payload names what the token is for (confirm, signin, unsubscribe, prefs,
session), whom (a subscriber id), until when, and a random nonce; single use is enforced by the
caller recording the nonce. Each purpose signs with its own key derived from the secret, so a
value signed for one use (a CSRF field, whose input the client chooses) never verifies as
another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

MAX_TOKEN_CHARS = 1024
# Unsubscribe links mailed before keys were derived per purpose keep working: they can only
# stop mail, and a sender must honour them. No other purpose accepts the old signatures.
LEGACY_PURPOSES = frozenset({"unsubscribe"})
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


class BadToken(ValueError):
    """The token is malformed, forged, for another purpose, or expired."""


@dataclass(frozen=True)
class Claims:
    """What a verified token says."""

    purpose: str
    subject: str
    expires: int  # Unix seconds; 0 for never
    nonce: str
    version: int = 0  # the subscriber's session version when signed (sessions, prefs links)
    bound: str = ""  # what the token was issued for (a digest of requested preferences)


def derive_key(secret: str, purpose: str) -> bytes:
    """The key for one use of the secret (a token purpose, or "csrf")."""
    return hmac.new(
        secret.encode(), f"paperfeed key v2:{purpose}".encode(), hashlib.sha256
    ).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    """Strict: only the base64url alphabet, no padding, and the canonical spelling."""
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        raise ValueError("not base64url") from None
    if _b64(data) != text:
        raise ValueError("not the canonical spelling")
    return data


def _signature(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest())


def sign_token(
    secret: str,
    purpose: str,
    subject: str,
    now: datetime,
    ttl_s: float | None,
    version: int = 0,
    nonce: str | None = None,
    bound: str = "",
) -> str:
    """A token for `purpose` and `subject`, valid for `ttl_s` seconds (None: no expiry)."""
    expires = 0 if ttl_s is None else int(now.timestamp() + ttl_s)
    body: dict[str, object] = {
        "p": purpose,
        "s": subject,
        "e": expires,
        "n": nonce or secrets.token_urlsafe(12),
    }
    if version:
        body["v"] = version
    if bound:
        body["b"] = bound
    payload = _b64(json.dumps(body, separators=(",", ":")).encode("utf-8"))
    return f"{payload}.{_signature(derive_key(secret, purpose), payload)}"


def verify_token(secret: str, token: str, purpose: str, now: datetime) -> Claims:
    """The token's claims if it is ours, for `purpose` and not expired; BadToken otherwise."""
    damaged = BadToken("this link is incomplete or damaged")
    if not token or len(token) > MAX_TOKEN_CHARS or not token.isascii() or token.count(".") != 1:
        raise damaged
    payload, signature = token.split(".")
    try:
        _unb64(signature)
        body = json.loads(_unb64(payload))
        claims = Claims(
            purpose=str(body["p"]),
            subject=str(body["s"]),
            expires=int(body["e"]),
            nonce=str(body["n"]),
            version=int(body.get("v", 0)),
            bound=str(body.get("b", "")),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise damaged from None
    if claims.purpose != purpose:
        raise BadToken("this link is meant for something else")
    expected = _signature(derive_key(secret, purpose), payload)
    legacy = purpose in LEGACY_PURPOSES and hmac.compare_digest(
        signature, _signature(secret.encode("utf-8"), payload)
    )
    if not hmac.compare_digest(signature, expected) and not legacy:
        raise damaged
    if claims.expires and now.timestamp() > claims.expires:
        raise BadToken("this link has expired")
    return claims


def token_id(claims: Claims) -> str:
    """What records a single-use token as spent."""
    return f"{claims.purpose}:{claims.nonce}"
