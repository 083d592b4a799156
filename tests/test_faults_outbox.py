"""A full disk under the outbox (mail as .eml files, no PAPERFEED_SMTP_URL): a real 64 KB
tmpfs. The message stays queued, nothing half-written is left, the next run delivers it."""

import dataclasses
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from paperfeed.mail.mailer import deliver_due, transport_for
from paperfeed.models import OutgoingMail

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
PAGE = 4096


@pytest.fixture
def backend():
    return "sqlite"  # the disk under the outbox is the fault; the database is not on it


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KB tmpfs, mounted for the test (needs root, as `make test` runs)."""
    folder = tmp_path / "outbox"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}): needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def _fill(folder, leave_bytes: int):
    """A file that takes all the space but `leave_bytes`."""
    filler = folder / "filler.bin"
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * PAGE)
        except OSError:
            pass
    filler.write_bytes(b"\0" * (filler.stat().st_size - leave_bytes))
    return filler


def _queue(store, n: int) -> tuple[int, bytes]:
    data = (f"Subject: message {n}\r\n\r\n" + f"line {n} " * 800 + "\r\n").encode()
    assert 5000 < len(data) < 2 * PAGE
    mail_id = store.enqueue_mail(
        OutgoingMail("notice", f"r{n}@example.org", f"<m{n}@x>", data, None), NOW
    )
    return mail_id, data


def test_a_full_outbox_disk_keeps_the_mail_queued_and_the_next_run_delivers_it(
    store, settings, tiny_disk
):
    settings = dataclasses.replace(settings, outbox_dir=str(tiny_disk))
    filler = _fill(tiny_disk, leave_bytes=2 * PAGE)  # room for one message
    queued = [_queue(store, n) for n in range(3)]
    report = deliver_due(store, transport_for(settings), NOW)
    assert (report.sent, report.deferred, report.left) == (1, 1, 1)
    names = sorted(p.name for p in tiny_disk.iterdir())
    # Nothing half-written: no partial .tmp taking the space, no .eml that is not whole.
    assert names == ["00000001-notice.eml", "filler.bin"]
    assert (tiny_disk / "00000001-notice.eml").read_bytes() == queued[0][1]
    status = store.mail_status()
    assert status.counts == {"sent": 1, "queued": 2}
    assert "No space left on device" in status.problems[0][3]

    filler.unlink()  # the operator frees some space
    assert deliver_due(store, transport_for(settings), NOW).sent == 1  # the one never tried
    later = deliver_due(store, transport_for(settings), NOW + timedelta(seconds=61))
    assert later.sent == 1  # the one that failed, after its backoff
    assert deliver_due(store, transport_for(settings), NOW + timedelta(hours=7)).sent == 0
    files = sorted(tiny_disk.glob("*.eml"))
    assert [f.read_bytes() for f in files] == [data for _, data in queued]
    assert list(tiny_disk.glob("*.tmp")) == []
    assert store.mail_status().counts == {"sent": 3}
