"""Submissions (storage/base.py Submissions) held against every backend: once per paper, even
when two race; a limit per reader and UTC day; who submitted shown in lists, renamed at once;
?submitter= finding readers' and Hugging Face's names without mixing them up."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from conftest import make_paper, query_one
from paperfeed.models import Featured, Preferences, Submission
from paperfeed.storage import (
    AlreadySubmitted,
    PaperNotFound,
    SubmissionLimit,
    SubscriberNotFound,
    open_store,
)

NOW = datetime(2026, 6, 26, 8, 0, tzinfo=UTC)
DAY = date(2026, 6, 26)


def _reader(store, email: str, name: str | None) -> int:
    reader = store.create_subscriber(email, Preferences(), NOW)
    if name:
        store.set_public_name(reader.id, name, NOW)
    return reader.id


def _papers(store, count: int = 8) -> list[str]:
    ids = [f"2606.{n:05d}" for n in range(1, count + 1)]
    store.upsert_papers([make_paper(paper_id, title=f"Paper {paper_id}") for paper_id in ids])
    return ids


def test_a_paper_is_submitted_once_and_lists_say_by_whom(store):
    ada = _reader(store, "ada@example.org", "ada")
    bob = _reader(store, "bob@example.org", "bob")
    first, second = _papers(store, 2)
    version = store.list_version()

    made = store.submit_paper(first, ada, NOW, per_day=5)

    assert made == Submission(first, ada, "ada", DAY, NOW)
    assert store.submission_of(first) == made
    assert store.submission_of(second) is None
    assert store.list_version() > version
    listed = store.listed_papers(DAY, DAY)
    by_id = {item.paper.id: item for item in listed}
    assert (by_id[first].submitted_here_by, by_id[first].submitter) == ("ada", "ada")
    assert by_id[first].featured_on == DAY
    assert (by_id[second].submitted_here_by, by_id[second].featured_on) == (None, None)
    assert [f.source for f in store.featured_for(first)] == ["paperfeed"]
    with pytest.raises(
        AlreadySubmitted, match=f"{first} was already submitted by ada on 2026-06-26"
    ):
        store.submit_paper(first, bob, NOW + timedelta(hours=1), per_day=5)
    assert store.submissions_on(bob, DAY) == 0
    assert store.submission_of(first).subscriber_id == ada


def test_unknown_papers_and_readers_write_nothing(store):
    ada = _reader(store, "ada@example.org", "ada")
    (paper,) = _papers(store, 1)
    with pytest.raises(PaperNotFound):
        store.submit_paper("2606.99999", ada, NOW, 5)
    with pytest.raises(SubscriberNotFound):
        store.submit_paper(paper, ada + 100, NOW, 5)
    assert query_one(store, "SELECT count(*) FROM submissions") == 0
    assert query_one(store, "SELECT count(*) FROM featured") == 0


def test_a_reader_submits_at_most_per_day_a_utc_day(store):
    ada = _reader(store, "ada@example.org", "ada")
    ids = _papers(store, 4)
    late = datetime(2026, 6, 26, 23, 59, tzinfo=UTC)
    store.submit_paper(ids[0], ada, NOW, per_day=2)
    store.submit_paper(ids[1], ada, late, per_day=2)

    with pytest.raises(SubmissionLimit) as refused:
        store.submit_paper(ids[2], ada, late, per_day=2)

    assert refused.value.resets_at == datetime(2026, 6, 27, tzinfo=UTC)
    assert "from 2026-06-27 00:00 UTC" in str(refused.value)
    assert store.submission_of(ids[2]) is None
    assert store.submissions_on(ada, DAY) == 2
    tomorrow = store.submit_paper(ids[2], ada, late + timedelta(minutes=1), per_day=2)
    assert tomorrow.day == date(2026, 6, 27)
    assert store.submissions_on(ada, date(2026, 6, 27)) == 1


def test_inside_a_transaction_a_refusal_undoes_what_came_before(store):
    ada = _reader(store, "ada@example.org", "ada")
    (known,) = _papers(store, 1)
    store.submit_paper(known, ada, NOW, 5)
    with pytest.raises(AlreadySubmitted), store.transaction():
        store.upsert_papers([make_paper("2606.00077")])
        store.submit_paper(known, ada, NOW, 5)
    assert store.get_papers(["2606.00077"]) == {}


def test_a_renamed_reader_shows_the_new_name_and_lists_move(store):
    ada = _reader(store, "ada@example.org", "ada")
    (paper,) = _papers(store, 1)
    store.submit_paper(paper, ada, NOW, 5)
    version = store.list_version()

    store.set_public_name(ada, "Ada.L", NOW)

    assert store.list_version() > version
    assert store.listed_papers(DAY, DAY)[0].submitter == "Ada.L"
    assert store.submission_of(paper).submitter == "Ada.L"
    unchanged = store.list_version()
    store.set_public_name(ada, "Ada.L", NOW)  # the same name: lists stand
    assert store.list_version() == unchanged


def test_submitted_papers_by_name_readers_first_hugging_face_apart(store):
    ada = _reader(store, "ada@example.org", "ada")
    ids = _papers(store, 4)
    store.upsert_papers([make_paper("2606.00010", listed=date(2026, 6, 20), title="Older")])
    # Hugging Face's "ada" featured ids[1] and ids[2]; our ada submitted ids[0] and ids[2].
    store.upsert_featured(
        [
            Featured(ids[1], DAY, "hf-daily", 3, 0, "ada"),
            Featured(ids[2], DAY, "hf-daily", 9, 0, "ada"),
            Featured(ids[3], DAY, "hf-daily", 1, 0, "AK"),
        ]
    )
    store.submit_paper(ids[0], ada, NOW, 5)
    store.submit_paper(ids[2], ada, NOW, 5)
    store.submit_paper("2606.00010", ada, NOW, 5)

    mine = store.submitted_papers("ADA", imported=False)
    assert [i.paper.id for i in mine] == [ids[2], ids[0], "2606.00010"]  # newest, most voted
    assert all(i.submitted_here_by == "ada" for i in mine)
    every = store.submitted_papers("ada")
    assert [i.paper.id for i in every] == [ids[2], ids[1], ids[0], "2606.00010"]
    assert {i.paper.id: (i.submitted_here_by, i.submitted_by) for i in every}[ids[1]] == (
        None,
        "ada",
    )
    assert [i.paper.id for i in store.submitted_papers("ada", DAY, DAY)] == [ids[2], ids[1], ids[0]]
    assert [i.paper.id for i in store.submitted_papers("ada", limit=2, offset=2)] == [
        ids[0],
        "2606.00010",
    ]
    assert [i.paper.id for i in store.submitted_papers("AK")] == [ids[3]]
    assert store.submitted_papers("ak") == []  # Hugging Face's names as spelled
    assert store.submitted_papers("nobody") == []


def _all_at_once(submit, stores, values) -> None:
    """submit(store, value) for each pair, each on a thread of its own; then the stores close."""
    threads = [
        threading.Thread(target=submit, args=(w, v)) for w, v in zip(stores, values, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for writer in stores:
        writer.close()


def test_two_readers_submitting_one_paper_at_once_get_one_submission(store, database_url):
    names = ["ada", "bob", "cy", "dee"]
    readers = [_reader(store, f"{n}@example.org", n) for n in names]
    (paper,) = _papers(store, 1)
    stores = [open_store(database_url, migrate=False, pool_size=2) for _ in readers]
    barrier = threading.Barrier(len(stores))
    outcomes: list[object] = []

    def submit(writer, reader: int) -> None:
        barrier.wait()
        try:
            outcomes.append(writer.submit_paper(paper, reader, NOW, 5))
        except AlreadySubmitted as exc:
            outcomes.append(exc)

    _all_at_once(submit, stores, readers)

    won = [o for o in outcomes if isinstance(o, Submission)]
    lost = [o for o in outcomes if isinstance(o, AlreadySubmitted)]
    assert (len(won), len(lost)) == (1, 3)
    assert all(exc.submission == won[0] for exc in lost)
    assert f"already submitted by {won[0].submitter} on 2026-06-26" in str(lost[0])
    assert query_one(store, "SELECT count(*) FROM submissions") == 1


def test_one_reader_racing_past_the_limit_gets_no_more_than_it(store, database_url):
    ada = _reader(store, "ada@example.org", "ada")
    ids = _papers(store, 6)
    stores = [open_store(database_url, migrate=False, pool_size=2) for _ in ids]
    barrier = threading.Barrier(len(stores))
    refused: list[SubmissionLimit] = []

    def submit(writer, paper: str) -> None:
        barrier.wait()
        try:
            writer.submit_paper(paper, ada, NOW, 3)
        except SubmissionLimit as exc:
            refused.append(exc)

    _all_at_once(submit, stores, ids)

    assert store.submissions_on(ada, DAY) == 3 and len(refused) == 3
