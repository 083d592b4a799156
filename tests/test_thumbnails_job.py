"""The thumbnails job (thumbnails/job.py) against a real arXiv PDF served by the local replay
server: it renders and stores it once; a 404, a corrupt, an oversize, a stuck or a dripping PDF
is recorded as failed and tried again only after its back-off; it is off unless switched on."""

import dataclasses
import io
import os
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from conftest import FIXTURES, SECRET, make_paper, query_one, worker_once
from paperfeed.cli import cli
from paperfeed.thumbnails.job import (
    MAX_ATTEMPTS,
    ThumbnailsOff,
    image_digest,
    make_thumbnails,
    retry_delay,
)
from replay import Reply

NOW = datetime(2026, 6, 26, 8, 0, tzinfo=UTC)
PDF = (FIXTURES / "thumbnails" / "1906.08632-page1.pdf").read_bytes()
PDF_HEADERS = {"Content-Type": "application/pdf"}


def _on(settings, replay, **changes):
    return dataclasses.replace(
        settings,
        thumbnails=True,
        thumbnail_pdf_url=f"{replay.url}/pdf",
        request_delay_s=0.01,
        **changes,
    )


def _pdf_requests(replay, paper_id: str) -> int:
    return sum(1 for seen in replay.requests if seen.path == f"/pdf/{paper_id}")


def _row(store, paper_id: str, column: str):
    pk = store.pks_for_ids([paper_id])[paper_id]
    return query_one(store, f"SELECT {column} FROM thumbnails WHERE paper_pk = ?", pk)


def test_the_first_page_of_a_real_arxiv_pdf_is_rendered_and_stored_once(replay, settings, store):
    store.upsert_papers(
        [
            make_paper("1906.08632", title="Dynamics of stochastic gradient descent"),
            make_paper("beir-doc-7", title="A passage with no PDF"),
        ]
    )
    replay.route("/pdf/1906.08632", Reply(PDF, headers=PDF_HEADERS))
    on = _on(settings, replay)

    report = make_thumbnails(store, on, NOW)

    assert (report.made, report.failed, report.skipped) == (1, 0, 1)
    thumbnail = store.get_thumbnail("1906.08632")
    assert (thumbnail.mime_type, thumbnail.width, thumbnail.height) == ("image/webp", 300, 389)
    assert thumbnail.digest == image_digest(thumbnail.image)
    assert Image.open(io.BytesIO(thumbnail.image)).size == (300, 389)
    assert _row(store, "1906.08632", "pdf_bytes") == len(PDF)
    assert replay.requests[0].path == "/pdf/1906.08632"
    assert store.get_thumbnail("beir-doc-7") is None

    again = make_thumbnails(store, on, NOW + timedelta(days=365))

    assert (again.made, again.failed, again.skipped) == (0, 0, 0)
    assert _pdf_requests(replay, "1906.08632") == 1
    assert store.thumbnail_counts() == {"ok": 1, "given up": 1}


def test_bad_pdfs_fail_without_stopping_the_run_and_wait_their_back_off(replay, settings, store):
    ids = [f"2606.0000{n}" for n in range(1, 8)]
    store.upsert_papers([make_paper(pid, listed=date(2026, 6, 25)) for pid in ids])
    stuck = threading.Event()
    replay.route("/pdf/2606.00001", Reply(b"not found", status=404), Reply(PDF))
    replay.route("/pdf/2606.00002", Reply(b"%PDF-1.5\n" + b"\x00garbage" * 50))
    replay.route("/pdf/2606.00003", Reply(b"%PDF-1.5\n" + b"x" * 120_000))
    replay.route("/pdf/2606.00004", Reply(PDF, hold=stuck))
    replay.route("/pdf/2606.00005", Reply(b"<html>PDF unavailable</html>"))
    replay.route("/pdf/2606.00006", Reply(PDF[:40_000]))
    replay.route("/pdf/2606.00007", Reply(PDF, drip_s=0.01))  # ~1 s for the whole PDF
    on = _on(settings, replay, thumbnail_max_pdf_bytes=100_000, request_timeout_s=0.3)
    try:
        report = make_thumbnails(store, on, NOW)
    finally:
        stuck.set()

    assert (report.made, report.failed) == (0, 7)
    errors = dict(report.errors)
    assert "HTTP 404" in errors["2606.00001"]
    assert "unreadable PDF" in errors["2606.00002"]
    assert "larger than PAPERFEED_THUMBNAIL_MAX_PDF_BYTES=100,000" in errors["2606.00003"]
    assert "ReadTimeout" in errors["2606.00004"]
    assert "not a PDF" in errors["2606.00005"]
    assert "unreadable PDF" in errors["2606.00006"]
    assert "the answer took longer than 0.3 s" in errors["2606.00007"]
    assert _pdf_requests(replay, "2606.00007") == 1  # a dripping server is not asked twice
    assert _row(store, "2606.00003", "error") == errors["2606.00003"]
    assert _row(store, "2606.00003", "attempts") == 1
    assert _pdf_requests(replay, "2606.00004") == 2  # a timeout is retried once, then left

    before = len(replay.requests)
    soon = make_thumbnails(store, on, NOW + timedelta(minutes=59))
    assert (soon.made, soon.failed, len(replay.requests)) == (0, 0, before)

    later = make_thumbnails(store, on, NOW + timedelta(hours=1))
    assert (later.made, later.failed) == (2, 5)  # the 404 now answers, the stuck one in time
    assert store.get_thumbnail("2606.00001").width == store.get_thumbnail("2606.00004").width
    assert _row(store, "2606.00002", "attempts") == 2
    nothing_due = make_thumbnails(store, on, NOW + timedelta(hours=4, minutes=59))
    assert (nothing_due.made, nothing_due.failed) == (0, 0)


def test_failures_back_off_four_times_longer_each_try_and_are_given_up():
    delays = [retry_delay(attempts) for attempts in range(1, MAX_ATTEMPTS + 1)]
    assert delays == [
        timedelta(hours=1),
        timedelta(hours=4),
        timedelta(hours=16),
        timedelta(hours=64),
        timedelta(hours=256),
        timedelta(days=30),
        timedelta(days=30),
        None,
    ]


def test_a_limit_bounds_the_run_newest_papers_first(replay, settings, store):
    store.upsert_papers(
        [make_paper(f"2606.0000{day}", listed=date(2026, 6, 20 + day)) for day in range(1, 4)]
    )
    replay.route("/pdf/2606.00003", Reply(PDF))
    replay.route("/pdf/2606.00002", Reply(PDF))

    report = make_thumbnails(store, _on(settings, replay), NOW, limit=2)

    assert report.made == 2
    assert [seen.path for seen in replay.requests] == ["/pdf/2606.00003", "/pdf/2606.00002"]


def test_it_is_off_unless_switched_on(settings, store):
    store.upsert_papers([make_paper("2606.00001")])
    with pytest.raises(ThumbnailsOff, match="PAPERFEED_THUMBNAILS=1"):
        make_thumbnails(store, settings, NOW)


def test_the_cli_reports_what_it_made_and_fails_when_everything_failed(replay, settings, store):
    store.upsert_papers([make_paper("2606.00001"), make_paper("2606.00002")])
    replay.route("/pdf/2606.00001", Reply(PDF))
    replay.route("/pdf/2606.00002", Reply(b"gone", status=410))
    env = {
        "PAPERFEED_DATABASE_URL": store.url,
        "PAPERFEED_DATA_DIR": settings.data_dir,
        "PAPERFEED_THUMBNAIL_PDF_URL": f"{replay.url}/pdf",
        "PAPERFEED_REQUEST_DELAY_S": "0",
    }
    runner = CliRunner()

    off = runner.invoke(cli, ["thumbnails"], env=env)
    assert off.exit_code == 1 and "thumbnails are off" in off.output

    env["PAPERFEED_THUMBNAILS"] = "1"
    made = runner.invoke(cli, ["thumbnails", "--limit", "5"], env=env)
    assert made.exit_code == 0, made.output
    assert "thumbnails: made 1, failed 1, skipped 0" in made.output
    assert "2606.00002: " in made.output and "HTTP 410" in made.output
    assert "in all: 1 ok, 1 failed, 0 given up" in made.output

    store.thumbnail_failed(store.pks_for_ids(["2606.00002"])["2606.00002"], "x", 1, NOW, NOW)
    failed = runner.invoke(cli, ["thumbnails"], env=env)
    assert failed.exit_code == 1
    assert "thumbnails: made 0, failed 1, skipped 0" in failed.output


def test_a_worker_cycle_makes_a_batch_of_thumbnails_when_they_are_on(replay, settings, store):
    store.upsert_papers(
        [make_paper(f"2606.0000{day}", listed=date(2026, 6, 20 + day)) for day in (1, 2)]
    )
    replay.route("/pdf/2606.00002", Reply(PDF))
    env = {
        **os.environ,
        "PAPERFEED_DATABASE_URL": store.url,
        "PAPERFEED_DATA_DIR": settings.data_dir,
        "PAPERFEED_SECRET_KEY": SECRET,
        "PAPERFEED_MODEL_DIR": str(Path(settings.data_dir) / "no-model"),
        "PAPERFEED_THUMBNAILS": "1",
        "PAPERFEED_THUMBNAILS_PER_CYCLE": "1",
        "PAPERFEED_THUMBNAIL_PDF_URL": f"{replay.url}/pdf",
    }
    done = worker_once(env)

    assert "thumbnails: made 1, failed 0, skipped 0" in done.stdout.splitlines()
    assert store.thumbnails_for(["2606.00001", "2606.00002"]).keys() == {"2606.00002"}
