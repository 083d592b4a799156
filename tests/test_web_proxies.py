"""Forwarded headers over a real `paperfeed serve`: believed only from the trusted proxies."""

import httpx

from conftest import start_server

LIMIT = 4


def _subscribe(url: str, n: int, forwarded: str) -> int:
    response = httpx.post(
        f"{url}/api/subscribe",
        json={"email": f"reader{n}@example.org"},
        headers={"X-Forwarded-For": forwarded},
    )
    return response.status_code


def test_a_forged_forwarded_for_does_not_pick_the_client_address(tmp_path):
    server, url = start_server(tmp_path, PAPERFEED_IP_LIMIT_PER_HOUR=str(LIMIT))
    try:
        answers = [_subscribe(url, n, f"198.51.100.{n}") for n in range(LIMIT + 3)]
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert answers == [202] * LIMIT + [429] * 3


def test_a_trusted_proxy_names_the_client_and_ipv6_counts_per_64(tmp_path):
    server, url = start_server(
        tmp_path, PAPERFEED_IP_LIMIT_PER_HOUR=str(LIMIT), PAPERFEED_TRUSTED_PROXIES="127.0.0.1"
    )
    try:
        distinct = [_subscribe(url, n, f"198.51.100.{n}") for n in range(LIMIT + 3)]
        same_64 = [_subscribe(url, 100 + n, f"2001:db8:5:5::{n + 1:x}") for n in range(LIMIT + 2)]
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert distinct == [202] * (LIMIT + 3)  # each client has its own bucket
    assert same_64 == [202] * LIMIT + [429] * 2
