"""Forwarded headers over a real `paperfeed serve`: believed only from the trusted proxies."""

import os
import subprocess
import sys
import time

import httpx
import pytest

from conftest import MODEL_DIR, free_port

LIMIT = 4


def _serve(tmp_path, *args: str, **environ: str):
    if not (MODEL_DIR / "manifest.json").exists():
        pytest.skip(f"no exported model at {MODEL_DIR}: run `make model`")
    port = free_port()
    env = {
        **os.environ,
        "PAPERFEED_DATABASE_URL": f"sqlite:///{tmp_path / 'paperfeed.db'}",
        "PAPERFEED_MODEL_DIR": str(MODEL_DIR),
        "PAPERFEED_IP_LIMIT_PER_HOUR": str(LIMIT),
        **environ,
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "paperfeed",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
            *args,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{url}/api/papers?limit=1", timeout=2)
            return server, url
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"the server did not start:\n{server.communicate()[0]}")
        time.sleep(0.2)


def _subscribe(url: str, n: int, forwarded: str) -> int:
    response = httpx.post(
        f"{url}/api/subscribe",
        json={"email": f"reader{n}@example.org"},
        headers={"X-Forwarded-For": forwarded},
    )
    return response.status_code


def test_a_forged_forwarded_for_does_not_pick_the_client_address(tmp_path):
    server, url = _serve(tmp_path)
    try:
        answers = [_subscribe(url, n, f"198.51.100.{n}") for n in range(LIMIT + 3)]
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert answers == [202] * LIMIT + [429] * 3


def test_a_trusted_proxy_names_the_client_and_ipv6_counts_per_64(tmp_path):
    server, url = _serve(tmp_path, PAPERFEED_TRUSTED_PROXIES="127.0.0.1")
    try:
        distinct = [_subscribe(url, n, f"198.51.100.{n}") for n in range(LIMIT + 3)]
        same_64 = [_subscribe(url, 100 + n, f"2001:db8:5:5::{n + 1:x}") for n in range(LIMIT + 2)]
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert distinct == [202] * (LIMIT + 3)  # each client has its own bucket
    assert same_64 == [202] * LIMIT + [429] * 2
