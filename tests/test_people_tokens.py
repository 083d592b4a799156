from datetime import UTC, datetime, timedelta

import pytest

from paperfeed.people.tokens import BadToken, sign_token, token_id, verify_token

SECRET = "k" * 8 + "test-secret-for-tokens-0123456789"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_a_token_round_trips_its_claims():
    token = sign_token(SECRET, "confirm", "42", NOW, 3600, nonce="abc")
    claims = verify_token(SECRET, token, "confirm", NOW + timedelta(minutes=59))
    assert (claims.purpose, claims.subject, claims.nonce) == ("confirm", "42", "abc")
    assert token_id(claims) == "confirm:abc"
    assert sign_token(SECRET, "confirm", "42", NOW, 3600) != sign_token(
        SECRET, "confirm", "42", NOW, 3600
    )


def test_expired_forged_or_misused_tokens_are_refused():
    token = sign_token(SECRET, "confirm", "42", NOW, 3600)
    with pytest.raises(BadToken, match="expired"):
        verify_token(SECRET, token, "confirm", NOW + timedelta(hours=1, seconds=1))
    with pytest.raises(BadToken, match="something else"):
        verify_token(SECRET, token, "unsubscribe", NOW)
    with pytest.raises(BadToken, match="damaged"):
        verify_token("another-secret-of-sufficient-length!!", token, "confirm", NOW)
    _, signature = token.split(".")
    forged = sign_token(SECRET, "confirm", "43", NOW, 3600).split(".")[0] + "." + signature
    with pytest.raises(BadToken):
        verify_token(SECRET, forged, "confirm", NOW)


@pytest.mark.parametrize("junk", ["", ".", "a.b", "x" * 10_000, "abc", "é.é", "a.b.c"])
def test_junk_is_refused_cleanly(junk):
    with pytest.raises(BadToken):
        verify_token(SECRET, junk, "confirm", NOW)


def test_tokens_without_expiry_keep_working():
    token = sign_token(SECRET, "unsubscribe", "7", NOW, None)
    assert verify_token(SECRET, token, "unsubscribe", NOW + timedelta(days=3650)).subject == "7"


def _old_style(purpose: str, subject: str) -> str:
    """A token as signed before keys were derived per purpose: HMAC under the raw secret."""
    import base64
    import hashlib
    import hmac
    import json

    body = json.dumps({"p": purpose, "s": subject, "e": 0, "n": "x"}, separators=(",", ":"))
    payload = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
    digest = hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).digest()
    return payload + "." + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def test_each_purpose_signs_with_its_own_key():
    for purpose in ("confirm", "signin", "prefs", "session"):
        with pytest.raises(BadToken, match="damaged"):
            verify_token(SECRET, _old_style(purpose, "7"), purpose, NOW)
    # Unsubscribe links already in people's mailboxes keep working.
    assert verify_token(SECRET, _old_style("unsubscribe", "7"), "unsubscribe", NOW).subject == "7"


def test_a_token_has_exactly_one_spelling():
    token = sign_token(SECRET, "confirm", "42", NOW, 3600)
    payload, signature = token.split(".")
    variants = [
        f"{payload}=.{signature}",
        f"{payload}.{signature}=",
        f"{payload}:.{signature}",
        f"{payload}\n.{signature}",
        f"{payload.replace('-', '+').replace('_', '/')}.{signature}",
        f"{payload}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
    ]
    for variant in variants:
        if variant != token:
            with pytest.raises(BadToken):
                verify_token(SECRET, variant, "confirm", NOW)


def test_a_csrf_value_never_passes_for_a_token():
    """The CSRF field is an HMAC of a value the client chooses: make that value a token's
    payload, and the field must still not be the token's signature."""
    import base64

    from paperfeed.config import Settings
    from paperfeed.web.security import _csrf_value

    payload = sign_token(SECRET, "session", "1", NOW, 3600).split(".")[0]
    field = _csrf_value(Settings(secret_key=SECRET), payload)
    forged = payload + "." + base64.urlsafe_b64encode(bytes.fromhex(field)).decode().rstrip("=")
    with pytest.raises(BadToken):
        verify_token(SECRET, forged, "session", NOW)
