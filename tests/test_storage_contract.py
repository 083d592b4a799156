"""The storage contract (storage/base.py) held against every backend, with concurrent writers."""

import random
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from conftest import drop_postgres_database, make_paper, new_postgres_database
from paperfeed.models import DigestRecord, OutgoingMail
from paperfeed.storage import NameTaken, SubscriberNotFound, open_store

NOW = datetime(2026, 6, 26, 8, 0, tzinfo=UTC)


class Follower:
    """A reader of the change feed, as the search indexes read it: after its last cursor."""

    def __init__(self, store) -> None:
        self.store = store
        self.cursor = (0, 0)
        self.seen: dict[str, int] = {}

    def catch_up(self) -> None:
        while batch := self.store.changed_papers(self.cursor, 7):
            for rev, _pk, paper in batch:
                self.seen[paper.id] = rev
            self.cursor = (batch[-1][0], batch[-1][1])


def test_the_feed_keeps_a_transaction_that_took_its_revision_first_and_committed_last(store):
    follower = Follower(store)
    first = make_paper("2606.00001")
    with store.transaction():
        store.upsert_papers([first])  # takes its revision now, commits at the end of the block
        later = threading.Thread(target=store.upsert_papers, args=([make_paper("2606.00002")],))
        later.start()
        # PostgreSQL lets the second writer commit meanwhile (SQLite makes it wait for us).
        later.join(timeout=1.0)
        reader = threading.Thread(target=follower.catch_up)
        reader.start()
        reader.join()
    later.join()
    follower.catch_up()
    assert sorted(follower.seen) == ["2606.00001", "2606.00002"]


def test_a_transaction_left_open_in_another_database_does_not_hold_the_feed(
    store, backend, request
):
    # Transaction ids are shared by every database on a PostgreSQL server: another paperfeed
    # (or anything else) writing next door must not stall this one's search indexes.
    if backend != "postgres":
        pytest.skip("one SQLite file is one database")
    neighbour_url = new_postgres_database(request.getfixturevalue("postgres_template"))
    neighbour = open_store(neighbour_url, migrate=False, pool_size=1)
    follower = Follower(store)
    try:
        with neighbour.transaction():
            neighbour.upsert_papers([make_paper("2606.00009")])  # takes an id, stays open
            store.upsert_papers([make_paper("2606.00001")])
            follower.catch_up()
            assert sorted(follower.seen) == ["2606.00001"]
    finally:
        neighbour.close()
        drop_postgres_database(neighbour_url)


def test_a_reader_following_many_concurrent_writers_misses_nothing(store, database_url):
    ids = [f"2606.{n:05d}" for n in range(1, 121)]
    random.Random(7).shuffle(ids)
    follower = Follower(store)
    done = threading.Event()

    def write(part: list[str]) -> None:
        writer = open_store(database_url, migrate=False, pool_size=2)
        try:
            for paper_id in part:
                with writer.transaction():
                    writer.upsert_papers([make_paper(paper_id)])
                    time.sleep(random.random() / 200)  # commit in a different order than begun
        finally:
            writer.close()

    def read() -> None:
        while not done.is_set():
            follower.catch_up()

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(ids[i::4],)) for i in range(4)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    reader.join()
    follower.catch_up()
    assert sorted(follower.seen) == sorted(ids)


def test_vectors_follow_the_same_contract(store):
    store.upsert_papers([make_paper("2606.00001"), make_paper("2606.00002")])
    pks = store.pks_for_ids(["2606.00001", "2606.00002"])
    seen: list[int] = []
    with store.transaction():
        store.save_embeddings("m", [(pks["2606.00001"], 1, "h1", b"\x00\x3c")])
        later = threading.Thread(
            target=store.save_embeddings, args=("m", [(pks["2606.00002"], 1, "h2", b"\x00\x3c")])
        )
        later.start()
        later.join(timeout=1.0)
        reader = threading.Thread(
            target=lambda: seen.extend(pk for _, pk, _ in store.embeddings_since("m", (0, 0), 9))
        )
        reader.start()
        reader.join()
    later.join()
    after = (0, 0)
    for rev, pk, _ in store.embeddings_since("m", (0, 0), 9):
        if pk in seen:
            after = max(after, (rev, pk))
    rest = [pk for _, pk, _ in store.embeddings_since("m", after, 9)]
    assert sorted(set(seen) | set(rest)) == sorted(pks.values())


def test_a_unit_of_work_commits_together_or_not_at_all(store):
    with pytest.raises(RuntimeError), store.transaction():
        store.upsert_papers([make_paper("2606.00001")])
        assert store.count_papers() == 1  # reads inside see the unit's own writes
        raise RuntimeError("halfway")
    assert store.count_papers() == 0
    with store.transaction(), store.transaction():  # nested blocks join the outer one
        store.upsert_papers([make_paper("2606.00001")])
    assert store.count_papers() == 1


def _in_threads(count: int, work) -> list:
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_rate_limits_hold_under_concurrent_requests(store):
    allowed = _in_threads(12, lambda i: store.take_rate("subscribe:ip:x", NOW, 3600, 5))
    assert allowed.count(True) == 5
    assert store.take_rate("subscribe:ip:x", NOW + timedelta(minutes=13), 3600, 5)
    assert not store.take_rate("subscribe:ip:x", NOW + timedelta(minutes=13), 3600, 5)


def test_each_queued_message_is_claimed_by_one_sender(store):
    for n in range(30):
        mail = OutgoingMail("notice", f"r{n}@example.org", f"<m{n}@x>", b"data", None, f"k{n}")
        store.enqueue_mail(mail, NOW)
    claims = _in_threads(4, lambda i: [m.id for m in store.claim_mail(NOW, 10, 60)])
    claimed = [mail_id for claim in claims for mail_id in claim]
    assert len(claimed) == len(set(claimed)) == 30


def test_a_digest_saved_by_two_senders_at_once_is_kept_once(store):
    subscriber = store.create_subscriber("ada@example.org", _preferences(), NOW)
    store.upsert_papers([make_paper("2606.00001")])
    pk = store.pks_for_ids(["2606.00001"])["2606.00001"]

    def save(i: int) -> int:
        mail = OutgoingMail(
            "digest", "ada@example.org", f"<d{i}@x>", b"d", subscriber.id, f"digest-{i}"
        )
        return store.save_digests([DigestRecord(subscriber.id, "2026-06-26", (pk,), mail)], NOW)

    assert sorted(_in_threads(4, save)) == [0, 0, 0, 1]
    assert store.digested("2026-06-26") == {subscriber.id}
    assert store.mail_status().counts == {"queued": 1}


def test_a_job_lock_is_held_by_one_process_at_a_time(store, database_url):
    other = open_store(database_url, migrate=False, pool_size=2)
    try:
        with (
            store.job_lock("harvest") as mine,
            other.job_lock("harvest") as theirs,
            other.job_lock("prune") as unrelated,
        ):
            assert (mine, theirs, unrelated) == (True, False, True)
        with other.job_lock("harvest") as theirs:
            assert theirs
    finally:
        other.close()


def _preferences():
    from paperfeed.models import Preferences

    return Preferences()


def test_embedding_claims_hand_each_paper_to_one_run(store):
    store.upsert_papers([make_paper(f"2606.{n:05d}") for n in range(10)])
    first = [pk for pk, *_ in store.claim_papers_to_embed("m", 4, 60)]
    second = [pk for pk, *_ in store.claim_papers_to_embed("m", 4, 60)]
    assert len(first) == len(second) == 4 and not set(first) & set(second)
    assert store.claimed_elsewhere("m") == 8
    assert len(store.claim_papers_to_embed("other-model", 10, 60)) == 10  # claims are per model
    store.release_embed_claims("m", second)
    assert [pk for pk, *_ in store.claim_papers_to_embed("m", 4, 60)] == sorted(second)
    # Saving a batch lets go of its claims; the papers are then done, not free.
    rows = store.claim_papers_to_embed("m", 10, 60)
    assert len(rows) == 2
    store.save_embeddings("m", [(pk, rev, "h", b"\0\0") for pk, rev, *_ in rows])
    assert store.claimed_elsewhere("m") == 8
    assert store.claim_papers_to_embed("m", 10, 60) == []


def test_a_lapsed_embedding_claim_goes_to_the_next_run(store):
    store.upsert_papers([make_paper("2606.00001"), make_paper("2606.00002")])
    dead = store.claim_papers_to_embed("m", 2, 0.2)  # a run killed after claiming
    assert store.claim_papers_to_embed("m", 2, 60) == []
    time.sleep(0.3)
    assert store.claimed_elsewhere("m") == 0
    assert [row[0] for row in store.claim_papers_to_embed("m", 2, 60)] == [r[0] for r in dead]


def test_embedding_runs_side_by_side_embed_each_paper_once(store, fake_embedder):
    from paperfeed.search.update import embed_new_papers

    store.upsert_papers([make_paper(f"2606.{n:05d}", title=f"Paper {n}") for n in range(200)])
    reports = _in_threads(
        4, lambda i: embed_new_papers(store, fake_embedder, batch=9, poll_seconds=0.01)
    )
    assert sum(report.embedded for report in reports) == 200
    assert fake_embedder.texts_embedded == 200
    assert sum(1 for report in reports if report.embedded) > 1  # the work was shared
    assert store.count_embeddings(fake_embedder.model_id) == 200
    assert store.claimed_elsewhere(fake_embedder.model_id) == 0


def test_a_generated_secret_is_made_once_and_shared_by_every_process(store, settings):
    from paperfeed.people.secret_key import ensure_secret_key, key_file

    other = open_store(settings.database_url, migrate=False, pool_size=2)
    try:
        keys = _in_threads(4, lambda i: (store, other)[i % 2].shared_secret(f"candidate-{i}"))
    finally:
        other.close()
    assert len(set(keys)) == 1 and keys[0].startswith("candidate-")
    # Without PAPERFEED_SECRET_KEY every process signs with the database's key ...
    assert ensure_secret_key(settings).secret_key == keys[0]
    assert ensure_secret_key(settings, store).secret_key == keys[0]
    assert not key_file(settings).exists()
    # ... unless a key file made by an older release is there (links already mailed).
    key_file(settings).write_text("an-older-key-kept-in-the-data-folder-0123456789\n")
    key_file(settings).chmod(0o644)
    assert ensure_secret_key(settings).secret_key.startswith("an-older-key")
    assert key_file(settings).stat().st_mode & 0o777 == 0o600  # made private


def test_a_spent_token_reads_as_spent_in_every_process(store, database_url):
    assert not store.token_spent("session:abc")
    assert store.spend_token("session:abc", datetime(2026, 12, 1, tzinfo=UTC))
    other = open_store(database_url)
    try:
        assert other.token_spent("session:abc") and not other.token_spent("session:abd")
        assert not other.spend_token("session:abc", datetime(2026, 12, 2, tzinfo=UTC))
    finally:
        other.close()


def test_the_list_version_moves_with_every_write_a_list_shows_in_every_process(store, database_url):
    from paperfeed.models import Featured

    other = open_store(database_url, migrate=False)
    try:
        seen = [other.list_version()]

        def moved() -> bool:
            seen.append(other.list_version())
            return seen[-1] > seen[-2]

        store.upsert_papers([make_paper("2606.00001"), make_paper("2606.00002")])
        assert moved()  # new papers
        store.upsert_papers([make_paper("2606.00001", title="A better title")])
        assert moved()  # a changed paper
        store.upsert_featured([Featured("2606.00002", NOW.date(), "hf-daily", 9)])
        assert moved()  # a featured day, with its upvotes
        reader = store.create_subscriber("reader@example.org", _preferences(), NOW)
        assert not moved()  # people are not in lists
        pk = store.pks_for_ids(["2606.00001"])["2606.00001"]
        store.set_vote(reader.id, pk, True, NOW)
        assert moved()  # an upvote
        store.set_vote(reader.id, pk, False, NOW)
        assert moved()  # and taking it back
        store.set_trend_half_life(store.trend_half_life() * 2)
        assert moved()  # a new trending order
    finally:
        other.close()


def test_a_list_change_counts_only_once_it_is_committed(store, database_url):
    other = open_store(database_url, migrate=False)
    try:
        before = other.list_version()
        read_inside: list[int] = []
        with store.transaction():
            store.upsert_papers([make_paper(f"2606.{n:05d}") for n in range(1, 40)])
            # Another process reading now sees neither the papers nor a new version (SQLite
            # readers see the last commit; PostgreSQL counts at commit).
            reader = threading.Thread(target=lambda: read_inside.append(other.list_version()))
            reader.start()
            reader.join()
        assert read_inside == [before]
        assert other.list_version() > before
    finally:
        other.close()


def test_a_readers_votes_are_listed_by_paper(store):
    store.upsert_papers([make_paper("2606.00001"), make_paper("2606.00002")])
    reader = store.create_subscriber("voter@example.org", _preferences(), NOW)
    other = store.create_subscriber("other@example.org", _preferences(), NOW)
    pks = store.pks_for_ids(["2606.00001", "2606.00002"])
    assert store.voted_pks(reader.id) == set()
    store.set_vote(reader.id, pks["2606.00001"], True, NOW)
    store.set_vote(other.id, pks["2606.00002"], True, NOW)
    assert store.voted_pks(reader.id) == {pks["2606.00001"]}
    store.set_vote(reader.id, pks["2606.00001"], False, NOW)
    assert store.voted_pks(reader.id) == set()


def test_a_public_name_is_one_readers_case_insensitively_and_survives_a_save(store):
    ada = store.create_subscriber("ada@example.org", _preferences(), NOW)
    bob = store.create_subscriber("bob@example.org", _preferences(), NOW)
    assert ada.public_name is None
    named = store.set_public_name(ada.id, "Ada.L", NOW)
    assert named.public_name == "Ada.L"
    with pytest.raises(NameTaken):
        store.set_public_name(bob.id, "ada.l", NOW)
    assert store.get_subscriber(bob.id).public_name is None
    found = store.subscriber_by_public_name("ADA.L")
    assert found is not None and found.id == ada.id
    # Saving preferences or status leaves the name alone.
    assert store.save_subscriber(named, NOW).public_name == "Ada.L"
    # Given up, the name is free for another reader.
    store.set_public_name(ada.id, None, NOW)
    assert store.subscriber_by_public_name("ada.l") is None
    assert store.set_public_name(bob.id, "ada.l", NOW).public_name == "ada.l"
    with pytest.raises(SubscriberNotFound):
        store.set_public_name(10_000, "nobody", NOW)


def test_hidden_things_are_kept_with_who_why_and_when_and_can_be_shown_again(store):
    operator = store.create_subscriber("op@example.org", _preferences(), NOW)
    before = store.list_version()
    assert store.hide("paper", "2606.00001", operator.id, "  spam  ", NOW) is True
    assert store.list_version() > before  # a hidden paper leaves kept lists
    assert store.hide("paper", "2606.00001", None, "again", NOW + timedelta(hours=1)) is False
    store.hide("comment", "17", operator.id, "", NOW + timedelta(minutes=1))
    store.hide("reader", str(operator.id + 1), None, "troll", NOW + timedelta(minutes=2))
    assert store.hidden_keys("paper") == {"2606.00001"}
    assert store.hidden_keys("comment") == {"17"}
    items = store.hidden_items()
    assert [(i.kind, i.key) for i in items] == [
        ("reader", str(operator.id + 1)),
        ("comment", "17"),
        ("paper", "2606.00001"),
    ]
    paper = items[2]
    assert (paper.hidden_by, paper.reason, paper.hidden_at) == (operator.id, "spam", NOW)
    assert store.unhide("paper", "2606.00001") is True
    assert store.unhide("paper", "2606.00001") is False
    assert store.hidden_keys("paper") == set()
    for kind, key, reason in (("post", "1", ""), ("paper", " ", ""), ("paper", "x", "r" * 501)):
        with pytest.raises(ValueError):
            store.hide(kind, key, None, reason, NOW)
