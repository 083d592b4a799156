"""Thumbnails (storage/base.py Thumbnails) held against every backend: what the job tries
next, what it stored, what pages show, and the list version cards follow."""

from datetime import UTC, date, datetime, timedelta

import pytest

from conftest import make_paper, query_one
from paperfeed.models import Thumbnail, ThumbnailTask
from paperfeed.storage import PaperNotFound

NOW = datetime(2026, 6, 26, 8, 0, tzinfo=UTC)


def _papers(store, *days: int) -> dict[str, int]:
    """Papers 2606.000NN listed on 2026-06-NN, by id -> pk."""
    ids = [f"2606.000{day:02d}" for day in days]
    store.upsert_papers(
        [make_paper(pid, listed=date(2026, 6, day)) for pid, day in zip(ids, days, strict=True)]
    )
    return store.pks_for_ids(ids)


def _image(paper_id: str, body: bytes = b"RIFF....WEBPVP8 ") -> Thumbnail:
    return Thumbnail(paper_id, "image/webp", 300, 388, "d1g35t", body)


def test_untried_papers_come_newest_first_then_failures_that_are_due(store):
    pks = _papers(store, 20, 24, 22, 21)
    store.thumbnail_failed(pks["2606.00021"], "HTTP 503", 1, NOW - timedelta(hours=1), NOW)
    store.thumbnail_failed(pks["2606.00020"], "HTTP 503", 2, NOW - timedelta(hours=2), NOW)
    store.thumbnail_failed(pks["2606.00022"], "HTTP 503", 1, NOW + timedelta(hours=1), NOW)

    tasks = store.papers_needing_thumbnails(NOW, 10)

    assert [(t.paper.id, t.attempts) for t in tasks] == [
        ("2606.00024", 0),
        ("2606.00020", 2),
        ("2606.00021", 1),
    ]
    assert tasks[0] == ThumbnailTask(pks["2606.00024"], store.get_paper("2606.00024"), 0)
    assert [t.paper.id for t in store.papers_needing_thumbnails(NOW, 2)] == [
        "2606.00024",
        "2606.00020",
    ]


def test_a_saved_thumbnail_is_shown_and_served_and_the_paper_is_not_tried_again(store):
    pks = _papers(store, 24, 25)
    store.save_thumbnail(pks["2606.00024"], _image("2606.00024"), 96_377, NOW)

    assert store.thumbnails_for(["2606.00024", "2606.00025", "nope"]) == {
        "2606.00024": Thumbnail("2606.00024", "image/webp", 300, 388, "d1g35t")
    }
    assert store.get_thumbnail("2606.00024") == _image("2606.00024")
    assert store.get_thumbnail("2606.00025") is None
    assert [t.paper.id for t in store.papers_needing_thumbnails(NOW, 10)] == ["2606.00025"]
    assert store.thumbnail_counts() == {"ok": 1}


def test_a_failure_is_kept_with_its_error_and_a_later_success_replaces_it(store):
    pks = _papers(store, 24)
    pk = pks["2606.00024"]
    store.thumbnail_failed(pk, "HTTP 404", 1, NOW + timedelta(hours=1), NOW)
    store.thumbnail_failed(pk, "HTTP 404", 2, NOW + timedelta(hours=4), NOW + timedelta(hours=1))

    assert store.thumbnails_for(["2606.00024"]) == {}
    assert store.get_thumbnail("2606.00024") is None
    assert query_one(store, "SELECT attempts FROM thumbnails WHERE paper_pk = ?", pk) == 2
    assert query_one(store, "SELECT error FROM thumbnails WHERE paper_pk = ?", pk) == "HTTP 404"
    assert store.papers_needing_thumbnails(NOW + timedelta(hours=3), 10) == []
    assert [t.attempts for t in store.papers_needing_thumbnails(NOW + timedelta(hours=4), 9)] == [2]

    store.save_thumbnail(pk, _image("2606.00024"), 1000, NOW + timedelta(hours=4))

    assert store.get_thumbnail("2606.00024") == _image("2606.00024")
    assert query_one(store, "SELECT error FROM thumbnails WHERE paper_pk = ?", pk) is None
    assert store.thumbnail_counts() == {"ok": 1}


def test_a_late_failure_does_not_undo_a_thumbnail(store):
    pk = _papers(store, 24)["2606.00024"]
    store.save_thumbnail(pk, _image("2606.00024"), 1000, NOW)

    store.thumbnail_failed(pk, "timed out", 1, NOW + timedelta(hours=1), NOW)

    assert store.get_thumbnail("2606.00024") == _image("2606.00024")


def test_given_up_papers_are_never_due_and_are_counted_apart(store):
    pks = _papers(store, 24, 25)
    store.thumbnail_failed(pks["2606.00024"], "no PDF", 1, None, NOW)
    store.thumbnail_failed(pks["2606.00025"], "HTTP 503", 1, NOW, NOW)

    assert [t.paper.id for t in store.papers_needing_thumbnails(NOW + timedelta(days=999), 9)] == [
        "2606.00025"
    ]
    assert store.thumbnail_counts() == {"given up": 1, "failed": 1}


def test_unknown_papers_are_refused(store):
    with pytest.raises(PaperNotFound):
        store.save_thumbnail(999, _image("x"), 1, NOW)
    with pytest.raises(PaperNotFound):
        store.thumbnail_failed(999, "no", 1, None, NOW)
    assert store.thumbnail_counts() == {}


def test_only_a_shown_thumbnail_moves_the_list_version(store):
    pks = _papers(store, 24, 25)
    before = store.list_version()
    store.thumbnail_failed(pks["2606.00024"], "HTTP 503", 1, NOW, NOW)
    store.thumbnail_failed(pks["2606.00024"], "HTTP 503", 2, NOW, NOW)
    assert store.list_version() == before

    store.save_thumbnail(pks["2606.00024"], _image("2606.00024"), 1, NOW)
    after_first = store.list_version()
    store.save_thumbnail(pks["2606.00024"], _image("2606.00024", b"other"), 1, NOW)

    assert before < after_first < store.list_version()


def test_a_deleted_paper_takes_its_thumbnail_with_it(store):
    pk = _papers(store, 24)["2606.00024"]
    store.save_thumbnail(pk, _image("2606.00024"), 1, NOW)
    if store.url.startswith("sqlite:"):
        store.conn.execute("DELETE FROM papers WHERE pk = ?", (pk,))
    else:
        import psycopg

        with psycopg.connect(store.url) as conn:
            conn.execute("DELETE FROM papers WHERE pk = %s", (pk,))

    assert store.thumbnail_counts() == {}
