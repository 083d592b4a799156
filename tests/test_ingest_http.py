import dataclasses
import gzip

import pytest

from paperfeed.ingest.http import PoliteClient, SourceTooLarge, SourceUnavailable, retry_after_s
from replay import Reply


def test_waits_the_configured_gap_between_requests(replay, settings):
    replay.route("/x", Reply(b"ok"))
    with PoliteClient(dataclasses.replace(settings, request_delay_s=0.3)) as client:
        for _ in range(3):
            assert client.get(f"{replay.url}/x").text == "ok"
    gaps = [b.at - a.at for a, b in zip(replay.requests, replay.requests[1:], strict=False)]
    assert len(gaps) == 2
    assert all(gap >= 0.29 for gap in gaps), gaps


def test_default_gap_is_arxivs_three_seconds():
    from paperfeed.config import Settings

    assert Settings().request_delay_s == 3.0


def test_honours_503_retry_after(replay, settings):
    replay.route(
        "/oai",
        Reply(b"busy", status=503, headers={"Retry-After": "1"}),
        Reply(b"<ok/>"),
    )
    with PoliteClient(settings) as client:
        assert client.get(f"{replay.url}/oai").text == "<ok/>"
    first, second = replay.requests
    assert second.at - first.at >= 0.99


def test_gives_up_when_retry_after_is_longer_than_allowed(replay, settings):
    replay.route("/oai", Reply(b"", status=503, headers={"Retry-After": "86400"}))
    with PoliteClient(settings) as client, pytest.raises(SourceUnavailable, match="86400"):
        client.get(f"{replay.url}/oai")
    assert len(replay.requests) == 1


def test_retries_server_errors_and_dropped_connections_with_backoff(replay, settings):
    replay.route("/flaky", Reply(status=500), Reply(drop=True), Reply(b"finally"))
    with PoliteClient(settings) as client:
        assert client.get(f"{replay.url}/flaky").text == "finally"
    assert len(replay.requests) == 3


def test_client_errors_fail_at_once_and_persistent_failures_give_up(replay, settings):
    replay.route("/missing", Reply(b"nope", status=404))
    replay.route("/down", Reply(status=502))
    with PoliteClient(settings) as client:
        with pytest.raises(SourceUnavailable, match="HTTP 404") as caught:
            client.get(f"{replay.url}/missing")
        assert caught.value.response.status_code == 404
        with pytest.raises(SourceUnavailable, match="HTTP 502 after 4 attempts"):
            client.get(f"{replay.url}/down")
    assert len(replay.requests) == 1 + 4


def test_retry_after_accepts_seconds_and_http_dates():
    from datetime import UTC, datetime

    now = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)
    assert retry_after_s("120", now) == 120.0
    assert retry_after_s("Sun, 29 Nov 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_s("Sun, 29 Nov 2026 11:00:00 GMT", now) == 0.0
    assert retry_after_s("soon", now) is None
    assert retry_after_s(None, now) is None


def test_an_answer_larger_than_the_download_cap_fails_at_once(replay, settings):
    replay.route("/big", Reply(b"x" * 5_000))
    small = dataclasses.replace(settings, max_download_bytes=4_096)
    with PoliteClient(small) as client:
        with pytest.raises(SourceTooLarge, match="PAPERFEED_MAX_DOWNLOAD_BYTES=4,096"):
            client.get(f"{replay.url}/big")
        replay.route("/fits", Reply(b"x" * 4_096))
        assert len(client.get(f"{replay.url}/fits").content) == 4_096
    assert len(replay.requests) == 2  # never retried


def test_a_compressed_answer_is_capped_once_decompressed(replay, settings):
    bomb = gzip.compress(b"\0" * 50_000_000)  # 49 KB that grow to 50 MB
    replay.route("/bomb", Reply(bomb, headers={"Content-Encoding": "gzip"}))
    replay.route("/ok", Reply(gzip.compress(b"fine"), headers={"Content-Encoding": "gzip"}))
    capped = dataclasses.replace(settings, max_decompressed_bytes=1_000_000)
    with PoliteClient(capped) as client:
        with pytest.raises(SourceTooLarge, match="PAPERFEED_MAX_DECOMPRESSED_BYTES=1,000,000"):
            client.get(f"{replay.url}/bomb")
        assert client.get(f"{replay.url}/ok").text == "fine"
