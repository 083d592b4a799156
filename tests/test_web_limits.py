"""Large request bodies are refused before they are read, over a real `paperfeed serve`."""

import httpx
import pytest

from conftest import start_server
from paperfeed.web.limits import MAX_BODY_BYTES


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    server, url = start_server(tmp_path_factory.mktemp("limits"))
    yield url, server.pid
    server.terminate()
    server.wait(timeout=10)


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))


@pytest.mark.parametrize("path", ["/api/subscribe", "/unsubscribe/anything", "/subscribe"])
def test_a_declared_body_over_the_limit_is_refused_unread(server_url, path):
    url, _ = server_url
    body = b"x" * (MAX_BODY_BYTES + 1)
    response = httpx.post(url + path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    if path.startswith("/api/"):
        assert "larger than" in response.json()["error"]


def test_a_streamed_body_is_cut_off_at_the_limit_and_memory_stays_flat(server_url):
    url, pid = server_url
    before = _rss_kb(pid)
    sent = 0

    def chunks():  # no Content-Length: chunked, 200 MB if the server kept reading
        nonlocal sent
        block = b"y" * 65536
        for _ in range(3200):
            sent += len(block)
            yield block

    try:
        response = httpx.post(
            url + "/api/subscribe", content=chunks(), headers={"content-type": "application/json"}
        )
        status = response.status_code
    except httpx.TransportError:  # the server may close the connection while we still send
        status = None
    assert status in (413, None)
    assert sent < 50_000_000  # we were stopped long before 200 MB
    assert _rss_kb(pid) - before < 50_000  # KB: the server did not hold the body
    assert httpx.get(url + "/api/papers?limit=1").status_code == 200


def test_a_small_body_still_works(server_url):
    url, _ = server_url
    response = httpx.post(url + "/api/subscribe", json={"email": "ada@example.org"})
    assert response.status_code == 202
