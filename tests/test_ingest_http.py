import dataclasses

import pytest

from paperfeed.ingest.http import PoliteClient, SourceUnavailable, retry_after_s
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
