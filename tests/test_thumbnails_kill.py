"""SIGKILL a real `paperfeed thumbnails` while it waits for a PDF; a second run meanwhile steps
aside, and the rerun fetches only what was not saved, with no duplicates."""

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime

from conftest import FIXTURES, make_paper, query_one
from paperfeed.thumbnails.job import make_thumbnails
from replay import Reply

PDF = (FIXTURES / "thumbnails" / "1906.08632-page1.pdf").read_bytes()
IDS = ("2606.00003", "2606.00002", "2606.00001")  # newest first: the order it goes in


def _run(store, settings, replay) -> subprocess.Popen:
    env = {
        **os.environ,
        "PAPERFEED_DATABASE_URL": store.url,
        "PAPERFEED_DATA_DIR": settings.data_dir,
        "PAPERFEED_THUMBNAILS": "1",
        "PAPERFEED_THUMBNAIL_PDF_URL": f"{replay.url}/pdf",
        "PAPERFEED_REQUEST_DELAY_S": "0",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "thumbnails"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _asked(replay, paper_id: str) -> int:
    return sum(1 for seen in replay.requests if seen.path == f"/pdf/{paper_id}")


def test_a_killed_run_loses_nothing_and_the_rerun_repeats_nothing(replay, settings, store):
    store.upsert_papers([make_paper(pid, listed=date(2026, 6, int(pid[-1]))) for pid in IDS])
    held = threading.Event()
    replay.route(f"/pdf/{IDS[0]}", Reply(PDF))
    replay.route(f"/pdf/{IDS[1]}", Reply(PDF, hold=held), Reply(PDF))
    replay.route(f"/pdf/{IDS[2]}", Reply(PDF))
    process = _run(store, settings, replay)
    try:
        deadline = time.monotonic() + 60
        while not _asked(replay, IDS[1]) and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.01)
        assert _asked(replay, IDS[1]) == 1, "the run never asked for the second PDF"

        on = dataclasses.replace(settings, thumbnails=True, thumbnail_pdf_url=f"{replay.url}/pdf")
        aside = make_thumbnails(store, on, datetime.now(UTC))
        assert aside.locked and aside.summary() == "thumbnails: another run is making them; skipped"

        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        held.set()
        if process.poll() is None:
            process.kill()
    assert store.thumbnails_for(IDS).keys() == {IDS[0]}
    assert store.thumbnail_counts() == {"ok": 1}

    rerun = _run(store, settings, replay)
    out, err = rerun.communicate(timeout=120)

    assert rerun.returncode == 0, err
    assert out.splitlines() == [
        "thumbnails: made 2, failed 0, skipped 0",
        "in all: 3 ok, 0 failed, 0 given up",
    ]
    assert [_asked(replay, pid) for pid in IDS] == [1, 2, 1]
    assert store.thumbnails_for(IDS).keys() == set(IDS)
    assert query_one(store, "SELECT count(*) FROM thumbnails") == 3
    assert query_one(store, "SELECT count(DISTINCT paper_pk) FROM thumbnails") == 3
