"""Fetch URLs politely: a minimum gap between requests, retries with backoff, Retry-After."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from paperfeed.config import Settings

log = logging.getLogger("paperfeed.ingest")

# Statuses that mean "try again later" rather than "this request is wrong".
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class SourceUnavailable(Exception):
    """A source could not be fetched, even after retrying; `response` is the last answer, if any."""

    def __init__(self, message: str, response: httpx.Response | None = None) -> None:
        super().__init__(message)
        self.response = response


class SourceTooLarge(SourceUnavailable):
    """An answer is larger than PAPERFEED_MAX_DOWNLOAD_BYTES, or grows past
    PAPERFEED_MAX_DECOMPRESSED_BYTES when decompressed; it is not asked for again."""


# Headers about the body as it travelled; the answer handed on holds the decoded bytes.
_TRANSFER_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class PoliteClient:
    """An HTTP client that waits `request_delay_s` after each answer before asking again, and
    retries failures.

    A 503/429 with Retry-After waits as long as asked (up to `max_retry_after_s`); other
    transient failures back off exponentially from the request delay.
    """

    def __init__(
        self,
        settings: Settings,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        answer_within_s: float | None = None,
    ) -> None:
        """`answer_within_s`: the longest one answer may take from request to last byte (a
        server that drips bytes never trips the per-read timeout); past it, SourceUnavailable
        at once. None: no limit but the per-read one."""
        self.settings = settings
        self._sleep = sleep
        self._answer_within_s = answer_within_s
        self._last_request: float | None = None
        self._client = httpx.Client(
            transport=transport,
            timeout=settings.request_timeout_s,
            follow_redirects=True,
            headers={"User-Agent": settings.user_agent},
        )

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def _wait_turn(self) -> None:
        if self._last_request is not None:
            gap = self.settings.request_delay_s - (time.monotonic() - self._last_request)
            if gap > 0:
                self._sleep(gap)

    def get(self, url: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        """GET `url`, retrying transient failures; SourceUnavailable when it cannot be had."""
        attempts = self.settings.max_retries + 1
        problem = ""
        for attempt in range(attempts):
            self._wait_turn()
            try:
                response = self._fetch(url, params)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
                wait = self._backoff_s(attempt)
            else:
                # The gap counts from the end of a request, so a slow server gets more rest.
                self._last_request = time.monotonic()
                if response.status_code < 400:
                    return response
                problem = f"HTTP {response.status_code}"
                if response.status_code not in _RETRY_STATUSES:
                    raise SourceUnavailable(f"{url}: {problem}", response)
                asked = retry_after_s(response.headers.get("Retry-After"))
                if asked is not None and asked > self.settings.max_retry_after_s:
                    raise SourceUnavailable(
                        f"{url}: {problem}, asked to retry after {asked:.0f} s, more than "
                        f"PAPERFEED_MAX_RETRY_AFTER_S={self.settings.max_retry_after_s:.0f}"
                    )
                wait = (
                    max(asked, self.settings.request_delay_s)
                    if asked is not None
                    else self._backoff_s(attempt)
                )
            if attempt + 1 < attempts:
                log.warning("%s: %s; retrying in %.1f s", url, problem, wait)
                self._sleep(wait)
                self._last_request = None  # the wait above already kept the gap
        raise SourceUnavailable(f"{url}: {problem} after {attempts} attempts")

    def _fetch(self, url: str, params: Mapping[str, str] | None) -> httpx.Response:
        """One GET with its body read, no more than the size caps allow."""
        limit = self.settings.max_download_bytes
        decoded_limit = self.settings.max_decompressed_bytes
        started = time.monotonic()
        with self._client.stream("GET", url, params=params) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise SourceTooLarge(f"{url}: {_too_large(int(declared), limit, 'DOWNLOAD')}")
            body = bytearray()
            try:
                for chunk in response.iter_bytes():
                    body += chunk
                    if response.num_bytes_downloaded > limit:
                        raise SourceTooLarge(f"{url}: {_too_large(None, limit, 'DOWNLOAD')}")
                    if len(body) > decoded_limit:
                        raise SourceTooLarge(
                            f"{url}: {_too_large(None, decoded_limit, 'DECOMPRESSED')}"
                        )
                    within = self._answer_within_s
                    if within is not None and time.monotonic() - started > within:
                        raise SourceUnavailable(f"{url}: the answer took longer than {within:g} s")
            except httpx.DecodingError as exc:
                raise SourceUnavailable(f"{url}: the answer cannot be decoded ({exc})") from None
            headers = [
                (name, value)
                for name, value in response.headers.multi_items()
                if name.lower() not in _TRANSFER_HEADERS
            ]
            return httpx.Response(
                response.status_code, headers=headers, content=bytes(body), request=response.request
            )

    def _backoff_s(self, attempt: int) -> float:
        base = max(self.settings.request_delay_s, 0.1)
        return min(base * 2**attempt, 300.0)


def _too_large(size: int | None, limit: int, setting: str) -> str:
    what = "the answer" + (f" ({size:,} bytes)" if size is not None else "")
    how = "once decompressed " if setting == "DECOMPRESSED" else ""
    return f"{what} is larger {how}than PAPERFEED_MAX_{setting}_BYTES={limit:,}"
