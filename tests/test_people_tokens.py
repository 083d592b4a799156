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
