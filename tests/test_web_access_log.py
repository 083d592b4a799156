"""The access log of a real `paperfeed serve` shows which link page was used, never its token."""

import httpx

from conftest import start_server
from paperfeed.web.access_log import redact


def test_link_tokens_stay_out_of_the_access_log(tmp_path):
    server, url = start_server(tmp_path, "--log-level", "info")
    tokens = {"confirm": "eyJwIjoiY29uZmlybSJ9.c2lnMQ", "unsubscribe": "eyJwIjoidW5zIn0.c2lnMg"}
    try:
        for kind, token in tokens.items():
            httpx.get(f"{url}/{kind}/{token}")
        httpx.post(f"{url}/unsubscribe/{tokens['unsubscribe']}", content=b"x")
        httpx.get(f"{url}/preferences/secret-prefs-token?x=1")
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert "GET /confirm/[token]" in output and "POST /unsubscribe/[token]" in output
    for secret in (*tokens.values(), "secret-prefs-token"):
        assert secret not in output


def test_only_link_tokens_are_redacted():
    assert redact("/signin/abc.def?next=1") == "/signin/[token]?next=1"
    assert redact("/preferences") == "/preferences"
    assert redact("/papers/2606.24824") == "/papers/2606.24824"
    assert redact("/api/papers/search?q=/confirm/x") == "/api/papers/search?q=/confirm/x"
