"""The thumbnails job: fetch papers' PDFs, render their first pages, store them; failures back off.

Safe to kill at any point and to run again: each paper's result is one write (its image, or
its failure with when to try again), keyed by the paper, so a rerun repeats nothing that was
saved and redoes the paper it was killed on. One run at a time holds the job lock (a second
returns at once). A PDF that cannot be had or rendered is a failure of that paper, never of
the run: it is tried again after 1 h, then 4 h, 16 h, ... up to 30 days apart, and given up
after MAX_ATTEMPTS tries.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from paperfeed.config import Settings
from paperfeed.ingest.http import PoliteClient, SourceTooLarge, SourceUnavailable
from paperfeed.models import Paper, Thumbnail, ThumbnailTask
from paperfeed.storage import Store
from paperfeed.thumbnails.render import Rendered, RenderFailed, render_isolated

log = logging.getLogger("paperfeed.thumbnails")

LOCK = "thumbnails"
BATCH = 50
RETRY_FIRST = timedelta(hours=1)
RETRY_FACTOR = 4
RETRY_LONGEST = timedelta(days=30)
MAX_ATTEMPTS = 8  # about four months of tries
MAX_ERROR_CHARS = 500

Render = Callable[[bytes, float], Rendered]


class ThumbnailsOff(Exception):
    """PAPERFEED_THUMBNAILS is off: no PDF is fetched."""


@dataclass
class ThumbnailReport:
    """What one run did."""

    made: int = 0
    failed: int = 0
    skipped: int = 0  # not arXiv papers: no PDF to fetch
    locked: bool = False  # another run held the job lock; this one did nothing
    errors: list[tuple[str, str]] = field(default_factory=list)  # (paper id, why)

    def summary(self) -> str:
        if self.locked:
            return "thumbnails: another run is making them; skipped"
        return f"thumbnails: made {self.made}, failed {self.failed}, skipped {self.skipped}"


def retry_delay(attempts: int) -> timedelta | None:
    """How long after its `attempts`-th failed try a paper is tried again (None: never)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return min(RETRY_FIRST * RETRY_FACTOR ** max(attempts - 1, 0), RETRY_LONGEST)


def pdf_url(settings: Settings, paper: Paper) -> str:
    """Where the paper's PDF is: PAPERFEED_THUMBNAIL_PDF_URL/<arXiv id>."""
    return f"{settings.thumbnail_pdf_url.rstrip('/')}/{paper.id}"


def image_digest(image: bytes) -> str:
    """The image's name for caches: its ETag and the ?v= of its URL."""
    return hashlib.blake2b(image, digest_size=10).hexdigest()


def pdf_client(settings: Settings, transport: httpx.BaseTransport | None = None) -> PoliteClient:
    """The polite arXiv client, reading at most PAPERFEED_THUMBNAIL_MAX_PDF_BYTES an answer,
    whole within PAPERFEED_REQUEST_TIMEOUT_S, and retrying once (the next run's back-off is the
    real retry)."""
    limited = dataclasses.replace(
        settings,
        max_download_bytes=settings.thumbnail_max_pdf_bytes,
        max_decompressed_bytes=settings.thumbnail_max_pdf_bytes,
        max_retries=min(settings.max_retries, 1),
    )
    return PoliteClient(limited, transport=transport, answer_within_s=settings.request_timeout_s)


def make_thumbnails(
    store: Store,
    settings: Settings,
    now: datetime,
    limit: int | None = None,
    client: PoliteClient | None = None,
    render: Render = render_isolated,
) -> ThumbnailReport:
    """Make thumbnails for up to `limit` papers (all that need one when None): never tried,
    newest day first, then failures that are due. ThumbnailsOff unless PAPERFEED_THUMBNAILS."""
    if not settings.thumbnails:
        raise ThumbnailsOff(
            "thumbnails are off: set PAPERFEED_THUMBNAILS=1 (they fetch each paper's PDF)"
        )
    report = ThumbnailReport()
    with store.job_lock(LOCK) as held:
        if not held:
            report.locked = True
            return report
        own_client = client is None
        http = client or pdf_client(settings)
        try:
            _run(store, settings, now, limit, http, render, report)
        finally:
            if own_client:
                http.close()
    return report


def _run(
    store: Store,
    settings: Settings,
    now: datetime,
    limit: int | None,
    http: PoliteClient,
    render: Render,
    report: ThumbnailReport,
) -> None:
    done = 0
    while limit is None or done < limit:
        size = BATCH if limit is None else min(BATCH, limit - done)
        tasks = store.papers_needing_thumbnails(now, size)
        if not tasks:
            return
        for task in tasks:
            _one(store, settings, now, http, render, task, report)
            done += 1


def _one(
    store: Store,
    settings: Settings,
    now: datetime,
    http: PoliteClient,
    render: Render,
    task: ThumbnailTask,
    report: ThumbnailReport,
) -> None:
    """Try one paper and record how it went."""
    if not task.paper.is_arxiv:
        report.skipped += 1
        store.thumbnail_failed(task.pk, "not an arXiv paper: no PDF", task.attempts + 1, None, now)
        return
    try:
        pdf = _fetch(http, settings, task.paper)
        rendered = render(pdf, settings.thumbnail_render_timeout_s)
    except (SourceUnavailable, RenderFailed) as exc:
        attempts = task.attempts + 1
        delay = retry_delay(attempts)
        error = str(exc)[:MAX_ERROR_CHARS]
        log.warning("thumbnail of %s failed (try %d): %s", task.paper.id, attempts, error)
        store.thumbnail_failed(task.pk, error, attempts, now + delay if delay else None, now)
        report.failed += 1
        report.errors.append((task.paper.id, error))
        return
    thumbnail = Thumbnail(
        task.paper.id,
        rendered.mime_type,
        rendered.width,
        rendered.height,
        image_digest(rendered.image),
        rendered.image,
    )
    store.save_thumbnail(task.pk, thumbnail, len(pdf), now)
    report.made += 1


def _fetch(http: PoliteClient, settings: Settings, paper: Paper) -> bytes:
    url = pdf_url(settings, paper)
    try:
        return http.get(url).content
    except SourceTooLarge:
        raise SourceUnavailable(
            f"{url}: the PDF is larger than PAPERFEED_THUMBNAIL_MAX_PDF_BYTES="
            f"{settings.thumbnail_max_pdf_bytes:,}"
        ) from None
