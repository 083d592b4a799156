"""A reader's library (storage/base.py Library) held against every backend: collections, their
papers, notes, read and dismissed papers, follows and private feed tokens."""

import hashlib
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest

from conftest import make_paper, query_one
from paperfeed.models import Collection, Follow, Preferences
from paperfeed.storage import CollectionNotFound, PaperNotFound, SubscriberNotFound, open_store

NOW = datetime(2026, 6, 26, 8, 0, tzinfo=UTC)


def _later(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def _reader(store, email: str = "ada@example.org") -> int:
    return store.create_subscriber(email, Preferences(), NOW).id


def _papers(store, count: int = 4) -> list[int]:
    ids = [f"2606.{n:05d}" for n in range(1, count + 1)]
    store.upsert_papers([make_paper(paper_id, title=f"Paper {paper_id}") for paper_id in ids])
    pks = store.pks_for_ids(ids)
    return [pks[paper_id] for paper_id in ids]


def _execute(store, sql: str, *params: object) -> None:
    """Run a write (with ? placeholders) straight on the store's database, committed: for
    what no store method does (deleting a subscriber or a paper)."""
    if store.url.startswith("sqlite:"):
        store.conn.execute(sql, params)
        return
    import psycopg

    with psycopg.connect(store.url) as conn:
        conn.execute(sql.replace("?", "%s"), params)


# -- collections ---------------------------------------------------------------------------


def test_the_reading_list_is_made_on_first_use_and_comes_first(store):
    ada = _reader(store)
    assert store.collections_of(ada) == []
    later = store.create_collection(ada, "Koopman", _later(1))

    reading = store.reading_list(ada, _later(2))

    assert reading == Collection(reading.id, ada, "Reading list", _later(2), None, 0, True)
    assert store.reading_list(ada, _later(3)) == reading
    assert store.create_collection(ada, "  READING list ", _later(4)) == reading
    assert [c.id for c in store.collections_of(ada)] == [reading.id, later.id]


def test_the_reading_list_can_be_deleted_and_is_made_again(store):
    ada = _reader(store)
    (pk, *_) = _papers(store)
    first = store.reading_list(ada, NOW)
    store.save_papers(first.id, [pk], NOW)

    assert store.delete_collection(first.id)
    again = store.reading_list(ada, _later(1))

    assert again.id != first.id and again.is_reading_list
    assert (again.size, again.created_at) == (0, _later(1))


def test_a_collection_named_like_the_reading_list_becomes_it_when_there_is_none(store):
    ada = _reader(store)
    store.delete_collection(store.reading_list(ada, NOW).id)
    other = store.create_collection(ada, "Other", NOW)
    store.rename_collection(other.id, "reading LIST")

    reading = store.reading_list(ada, _later(1))

    assert (reading.id, reading.name, reading.is_reading_list) == (other.id, "reading LIST", True)
    assert len(store.collections_of(ada)) == 1


def test_names_are_trimmed_and_unique_per_reader_ignoring_case(store):
    ada, bob = _reader(store), _reader(store, "bob@example.org")

    made = store.create_collection(ada, "  Graph Networks\t", NOW)
    again = store.create_collection(ada, "graph networks", _later(1))
    bobs = store.create_collection(bob, "GRAPH NETWORKS", _later(2))

    assert made == Collection(made.id, ada, "Graph Networks", NOW, None, 0, False)
    assert again == made
    assert bobs.id != made.id and bobs.owner_id == bob and bobs.name == "GRAPH NETWORKS"
    assert store.get_collection(made.id) == made


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "a collection needs a name"),
        ("   \n", "a collection needs a name"),
        ("x" * 101, "at most 100 characters (this one has 101)"),
    ],
)
def test_a_bad_name_is_refused_clearly(store, name, message):
    ada = _reader(store)
    made = store.create_collection(ada, "Kept", NOW)

    with pytest.raises(ValueError, match=re.escape(message)):
        store.create_collection(ada, name, NOW)
    with pytest.raises(ValueError, match=r"a collection needs a name|at most 100"):
        store.rename_collection(made.id, name)

    assert [c.name for c in store.collections_of(ada)] == ["Kept"]
    assert store.create_collection(ada, "y" * 100, NOW).name == "y" * 100


def test_collections_are_listed_with_their_sizes_oldest_first(store):
    ada, bob = _reader(store), _reader(store, "bob@example.org")
    pks = _papers(store)
    newer = store.create_collection(ada, "Newer", _later(5))
    older = store.create_collection(ada, "Older", _later(1))
    store.create_collection(bob, "Bob's", NOW)
    reading = store.reading_list(ada, _later(9))
    store.save_papers(newer.id, pks[:3], NOW)
    store.save_papers(reading.id, pks[:1], NOW)

    listed = store.collections_of(ada)

    assert [(c.name, c.size) for c in listed] == [("Reading list", 1), ("Older", 0), ("Newer", 3)]
    assert listed[1] == older
    assert store.get_collection(newer.id).size == 3


def test_renaming_keeps_names_unique(store):
    ada = _reader(store)
    first = store.create_collection(ada, "First", NOW)
    store.create_collection(ada, "Second", NOW)

    assert store.rename_collection(first.id, " FIRST ").name == "FIRST"  # its own name, recased
    with pytest.raises(ValueError, match="there is a collection named 'Second' already"):
        store.rename_collection(first.id, "second")
    renamed = store.rename_collection(first.id, "Third")

    assert renamed == Collection(first.id, ada, "Third", NOW, None, 0, False)
    assert store.create_collection(ada, "first", _later(1)).id != first.id


def test_an_unknown_collection_is_collection_not_found(store):
    ada = _reader(store)
    (pk, *_) = _papers(store)
    missing = store.create_collection(ada, "Gone", NOW).id
    store.delete_collection(missing)

    for call in (
        lambda: store.get_collection(missing),
        lambda: store.rename_collection(missing, "New"),
        lambda: store.share_collection(missing, "tok"),
        lambda: store.save_papers(missing, [pk], NOW),
        lambda: store.remove_paper(missing, pk),
        lambda: store.collection_entries(missing, 10, 0),
    ):
        with pytest.raises(CollectionNotFound, match=f"no collection {missing}"):
            call()
    assert store.delete_collection(missing) is False
    assert issubclass(CollectionNotFound, LookupError)


def test_deleting_a_collection_takes_its_entries_and_leaves_notes_and_other_collections(store):
    ada = _reader(store)
    pks = _papers(store)
    doomed = store.create_collection(ada, "Doomed", NOW)
    kept = store.create_collection(ada, "Kept", NOW)
    store.save_papers(doomed.id, pks[:3], NOW)
    store.save_papers(kept.id, pks[:1], NOW)
    store.set_note(ada, pks[1], "still mine", NOW)

    assert store.delete_collection(doomed.id) is True

    assert (
        query_one(
            store, "SELECT count(*) FROM collection_entries WHERE collection_id = ?", doomed.id
        )
        == 0
    )
    assert store.saved_in(ada, pks) == {pks[0]: {kept.id}}
    assert store.saved_pks(ada) == {pks[0]}
    assert store.notes_for(ada, pks) == {pks[1]: "still mine"}


def test_sharing_sets_and_clears_a_unique_token(store):
    ada, bob = _reader(store), _reader(store, "bob@example.org")
    mine = store.create_collection(ada, "Mine", NOW)
    bobs = store.create_collection(bob, "Bob's", NOW)

    shared = store.share_collection(mine.id, "s3cr3t-link")

    assert shared.share_token == "s3cr3t-link"
    assert store.collection_by_share_token("s3cr3t-link") == shared
    with pytest.raises(ValueError, match="another collection is shared under that token"):
        store.share_collection(bobs.id, "s3cr3t-link")
    assert store.get_collection(bobs.id).share_token is None
    assert store.share_collection(mine.id, "s3cr3t-link") == shared  # again: unchanged
    assert store.share_collection(mine.id, None).share_token is None
    assert store.collection_by_share_token("s3cr3t-link") is None
    assert store.share_collection(bobs.id, "s3cr3t-link").share_token == "s3cr3t-link"
    with pytest.raises(ValueError, match="cannot be empty"):
        store.share_collection(mine.id, "")


# -- entries -------------------------------------------------------------------------------


def test_saving_counts_new_papers_and_saving_twice_changes_nothing(store):
    ada = _reader(store)
    pks = _papers(store)
    reading = store.reading_list(ada, NOW)

    assert store.save_papers(reading.id, [pks[0], pks[1], pks[0]], NOW) == 2
    assert store.save_papers(reading.id, [pks[1], pks[2]], _later(1)) == 1
    assert store.save_papers(reading.id, pks[:3], _later(2)) == 0
    assert store.save_papers(reading.id, [], _later(3)) == 0

    entries = store.collection_entries(reading.id, 10, 0)
    assert [(e.pk, e.added_at) for e in entries] == [
        (pks[2], _later(1)),
        (pks[1], NOW),  # saving again kept the first time
        (pks[0], NOW),
    ]


def test_an_unknown_paper_saves_nothing(store):
    ada = _reader(store)
    pks = _papers(store)
    reading = store.reading_list(ada, NOW)
    missing = max(pks) + 100

    with pytest.raises(PaperNotFound, match=str(missing)):
        store.save_papers(reading.id, [pks[0], missing, pks[1]], NOW)

    assert store.collection_entries(reading.id, 10, 0) == []
    assert store.get_collection(reading.id).size == 0


def test_removing_a_paper(store):
    ada = _reader(store)
    pks = _papers(store)
    reading = store.reading_list(ada, NOW)
    store.save_papers(reading.id, pks[:2], NOW)

    assert store.remove_paper(reading.id, pks[0]) is True
    assert store.remove_paper(reading.id, pks[0]) is False
    assert store.remove_paper(reading.id, pks[3]) is False
    assert [e.pk for e in store.collection_entries(reading.id, 10, 0)] == [pks[1]]


def test_entries_come_newest_first_in_pages_with_papers_and_notes(store):
    ada, bob = _reader(store), _reader(store, "bob@example.org")
    pks = _papers(store)
    reading = store.reading_list(ada, NOW)
    for minutes, pk in enumerate(pks):
        store.save_papers(reading.id, [pk], _later(minutes))
    store.set_note(ada, pks[2], "Read section 3.", NOW)
    store.set_note(bob, pks[3], "Bob's note, not Ada's", NOW)

    first, second = (store.collection_entries(reading.id, 2, offset) for offset in (0, 2))

    assert [(e.pk, e.note) for e in first] == [(pks[3], None), (pks[2], "Read section 3.")]
    assert [e.pk for e in second] == [pks[1], pks[0]]
    assert first[0].paper == store.get_paper("2606.00004")
    assert first[0].added_at == _later(3)
    assert store.collection_entries(reading.id, 10, 4) == []


def test_the_same_second_keeps_the_order_papers_were_saved_in(store):
    ada = _reader(store)
    pks = _papers(store)
    reading = store.reading_list(ada, NOW)
    for step, pk in enumerate(reversed(pks)):
        store.save_papers(reading.id, [pk], NOW + timedelta(milliseconds=step * 10))

    assert [e.pk for e in store.collection_entries(reading.id, 10, 0)] == pks


def test_saved_in_and_saved_pks_cover_every_collection_of_the_reader_only(store):
    ada, bob = _reader(store), _reader(store, "bob@example.org")
    pks = _papers(store)
    reading = store.reading_list(ada, NOW)
    koopman = store.create_collection(ada, "Koopman", NOW)
    bobs = store.reading_list(bob, NOW)
    store.save_papers(reading.id, pks[:2], NOW)
    store.save_papers(koopman.id, pks[1:3], NOW)
    store.save_papers(bobs.id, [pks[3]], NOW)

    assert store.saved_in(ada, pks) == {
        pks[0]: {reading.id},
        pks[1]: {reading.id, koopman.id},
        pks[2]: {koopman.id},
    }
    assert store.saved_in(ada, [pks[3]]) == {}
    assert store.saved_in(ada, []) == {}
    assert store.saved_pks(ada) == set(pks[:3])
    assert store.saved_pks(bob) == {pks[3]}


# -- notes, read and dismissed -------------------------------------------------------------


def test_one_note_per_reader_and_paper_in_no_collection(store):
    ada, bob = _reader(store), _reader(store, "bob@example.org")
    pks = _papers(store)

    store.set_note(ada, pks[0], "  First thoughts.\n", NOW)
    store.set_note(ada, pks[0], "Second thoughts.", _later(1))
    store.set_note(ada, pks[1], "On another paper.", NOW)
    store.set_note(bob, pks[0], "Bob's.", NOW)

    assert store.notes_for(ada, pks) == {pks[0]: "Second thoughts.", pks[1]: "On another paper."}
    assert store.notes_for(bob, pks) == {pks[0]: "Bob's."}
    assert store.notes_for(ada, []) == {}
    assert store.saved_pks(ada) == set()
    # The same note shows in every collection that holds the paper.
    one, two = store.create_collection(ada, "One", NOW), store.create_collection(ada, "Two", NOW)
    for collection in (one, two):
        store.save_papers(collection.id, [pks[0]], NOW)
        assert store.collection_entries(collection.id, 5, 0)[0].note == "Second thoughts."


def test_a_blank_or_missing_note_deletes_it_and_a_long_one_is_refused(store):
    ada = _reader(store)
    pks = _papers(store)
    store.set_note(ada, pks[0], "a", NOW)
    store.set_note(ada, pks[1], "b", NOW)

    store.set_note(ada, pks[0], "  \n ", NOW)
    store.set_note(ada, pks[1], None, NOW)
    store.set_note(ada, pks[2], None, NOW)  # none to delete

    assert store.notes_for(ada, pks) == {}
    with pytest.raises(ValueError, match="at most 10,000 characters"):
        store.set_note(ada, pks[0], "x" * 10_001, NOW)
    store.set_note(ada, pks[0], "x" * 10_000, NOW)
    assert len(store.notes_for(ada, pks)[pks[0]]) == 10_000


def test_read_and_dismissed_papers_are_marks_one_can_take_back(store):
    ada, bob = _reader(store), _reader(store, "bob@example.org")
    pks = _papers(store)

    store.mark_read(ada, pks[0], True, NOW)
    store.mark_read(ada, pks[0], True, _later(1))
    store.mark_read(ada, pks[1], True, NOW)
    store.dismiss(ada, pks[2], True, NOW)
    store.dismiss(bob, pks[3], True, NOW)
    assert store.read_pks(ada) == {pks[0], pks[1]}
    assert store.dismissed_pks(ada) == {pks[2]}
    assert store.read_pks(bob) == set() and store.dismissed_pks(bob) == {pks[3]}

    store.mark_read(ada, pks[1], False, NOW)
    store.mark_read(ada, pks[3], False, NOW)  # never read: nothing to do
    store.dismiss(ada, pks[2], False, NOW)

    assert store.read_pks(ada) == {pks[0]}
    assert store.dismissed_pks(ada) == set()


def test_an_unknown_paper_or_reader_is_refused_and_writes_nothing(store):
    ada = _reader(store)
    pks = _papers(store)
    missing_pk, nobody = max(pks) + 100, ada + 100

    for call in (
        lambda: store.set_note(ada, missing_pk, "note", NOW),
        lambda: store.mark_read(ada, missing_pk, True, NOW),
        lambda: store.dismiss(ada, missing_pk, True, NOW),
    ):
        with pytest.raises(PaperNotFound):
            call()
    for call in (
        lambda: store.reading_list(nobody, NOW),
        lambda: store.create_collection(nobody, "Mine", NOW),
        lambda: store.set_note(nobody, pks[0], "note", NOW),
        lambda: store.mark_read(nobody, pks[0], True, NOW),
        lambda: store.dismiss(nobody, pks[0], True, NOW),
        lambda: store.follow(nobody, "author", "Ada Lovelace", NOW),
        lambda: store.set_feed_token(nobody, "token"),
    ):
        with pytest.raises(SubscriberNotFound):
            call()
    for table in ("collections", "paper_notes", "papers_read", "papers_dismissed", "follows"):
        assert query_one(store, f"SELECT count(*) FROM {table}") == 0, table
    assert query_one(store, "SELECT count(*) FROM feed_tokens") == 0


# -- follows -------------------------------------------------------------------------------


def test_follows_are_kept_trimmed_oldest_first_and_found_by_value(store):
    ada, bob = _reader(store), _reader(store, "bob@example.org")

    assert store.follow(ada, "category", " cs.LG ", _later(2)) is True
    assert store.follow(ada, "category", "cs.LG", _later(3)) is False
    assert store.follow(ada, "author", "Ada Lovelace", _later(1)) is True
    assert store.follow(ada, "search", "koopman operators", _later(4)) is True
    assert store.follow(bob, "category", "cs.LG", NOW) is True

    assert store.follows_of(ada) == [
        Follow("author", "Ada Lovelace", _later(1)),
        Follow("category", "cs.LG", _later(2)),
        Follow("search", "koopman operators", _later(4)),
    ]
    assert store.followers_of("category", "cs.LG ") == sorted([ada, bob])
    assert store.followers_of("author", "Ada Lovelace") == [ada]
    assert store.followers_of("author", "cs.LG") == []

    assert store.unfollow(ada, "category", "cs.LG") is True
    assert store.unfollow(ada, "category", "cs.LG") is False
    assert store.followers_of("category", "cs.LG") == [bob]
    assert [f.kind for f in store.follows_of(ada)] == ["author", "search"]


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("venue", "NeurIPS", "an author, a category or a search, not 'venue'"),
        ("author", "   ", "a followed author cannot be empty"),
        ("search", "x" * 301, "a followed search has at most 300 characters"),
    ],
)
def test_a_bad_follow_is_refused_clearly(store, kind, value, message):
    ada = _reader(store)

    with pytest.raises(ValueError, match=message):
        store.follow(ada, kind, value, NOW)

    assert store.follows_of(ada) == []
    assert store.follow(ada, "search", "y" * 300, NOW) is True


# -- private feed tokens -------------------------------------------------------------------


def test_a_feed_token_is_kept_as_its_digest_and_a_new_one_revokes_the_old(store):
    ada, bob = _reader(store), _reader(store, "bob@example.org")
    assert store.feed_token(ada) is None
    assert store.owner_of_feed_token("first-token") is None

    store.set_feed_token(ada, "first-token")
    store.set_feed_token(bob, "bobs-token")

    digest = hashlib.sha256(b"first-token").hexdigest()
    assert store.feed_token(ada) == digest
    assert query_one(store, "SELECT digest FROM feed_tokens WHERE owner_id = ?", ada) == digest
    assert (
        query_one(store, "SELECT count(*) FROM feed_tokens WHERE digest LIKE ?", "%first-token%")
        == 0
    )
    assert store.owner_of_feed_token("first-token") == ada
    assert store.owner_of_feed_token("bobs-token") == bob
    assert store.owner_of_feed_token(digest) is None  # the stored value opens nothing

    with pytest.raises(ValueError, match="another reader's feed has that token"):
        store.set_feed_token(ada, "bobs-token")
    assert store.owner_of_feed_token("first-token") == ada  # unchanged
    store.set_feed_token(ada, "second-token")

    assert store.owner_of_feed_token("first-token") is None
    assert store.owner_of_feed_token("second-token") == ada
    store.set_feed_token(ada, None)
    assert store.feed_token(ada) is None
    assert store.owner_of_feed_token("second-token") is None
    assert store.owner_of_feed_token("") is None
    assert store.owner_of_feed_token("bobs-token") == bob


# -- what goes with a reader or a paper, units of work, other processes ----------------------


def _fill_library(store, reader: int, pks: list[int]) -> Collection:
    reading = store.reading_list(reader, NOW)
    store.save_papers(reading.id, pks, NOW)
    store.share_collection(reading.id, f"share-{reader}")
    store.set_note(reader, pks[0], "note", NOW)
    store.mark_read(reader, pks[0], True, NOW)
    store.dismiss(reader, pks[1], True, NOW)
    store.follow(reader, "author", "Ada Lovelace", NOW)
    store.set_feed_token(reader, f"feed-{reader}")
    return reading


LIBRARY_TABLES = (
    "collections",
    "collection_entries",
    "paper_notes",
    "papers_read",
    "papers_dismissed",
    "follows",
    "feed_tokens",
)


def _counts(store) -> dict[str, int]:
    return {name: query_one(store, f"SELECT count(*) FROM {name}") for name in LIBRARY_TABLES}


def test_deleting_a_reader_takes_their_whole_library(store):
    ada, bob = _reader(store), _reader(store, "bob@example.org")
    pks = _papers(store, 2)
    _fill_library(store, ada, pks)
    bobs = _fill_library(store, bob, pks)

    _execute(store, "DELETE FROM subscribers WHERE id = ?", ada)

    assert _counts(store) == {
        "collections": 1,
        "collection_entries": 2,
        "paper_notes": 1,
        "papers_read": 1,
        "papers_dismissed": 1,
        "follows": 1,
        "feed_tokens": 1,
    }
    assert store.collections_of(ada) == [] and store.followers_of("author", "Ada Lovelace") == [bob]
    assert store.owner_of_feed_token(f"feed-{ada}") is None
    assert store.collection_by_share_token(f"share-{bob}") == store.get_collection(bobs.id)


def test_deleting_a_paper_takes_it_out_of_every_library(store):
    ada, bob = _reader(store), _reader(store, "bob@example.org")
    pks = _papers(store, 2)
    reading = _fill_library(store, ada, pks)
    _fill_library(store, bob, pks)

    _execute(store, "DELETE FROM papers WHERE pk = ?", pks[0])

    assert _counts(store) == {
        "collections": 2,
        "collection_entries": 2,
        "paper_notes": 0,
        "papers_read": 0,
        "papers_dismissed": 2,
        "follows": 2,
        "feed_tokens": 2,
    }
    assert [e.pk for e in store.collection_entries(reading.id, 10, 0)] == [pks[1]]


def test_library_writes_join_a_transaction_and_roll_back_with_it(store):
    ada = _reader(store)
    pks = _papers(store)
    reading = store.reading_list(ada, NOW)

    with pytest.raises(RuntimeError), store.transaction():
        store.save_papers(reading.id, pks, NOW)
        store.create_collection(ada, "Half made", NOW)
        store.set_note(ada, pks[0], "lost", NOW)
        store.mark_read(ada, pks[0], True, NOW)
        store.follow(ada, "category", "cs.LG", NOW)
        store.set_feed_token(ada, "lost-token")
        assert store.get_collection(reading.id).size == 4  # seen inside the transaction
        raise RuntimeError("stop")

    assert [c.name for c in store.collections_of(ada)] == ["Reading list"]
    assert store.saved_pks(ada) == set() and store.notes_for(ada, pks) == {}
    assert store.read_pks(ada) == set() and store.follows_of(ada) == []
    assert store.feed_token(ada) is None


def test_library_writes_do_not_move_the_list_version(store):
    ada = _reader(store)
    pks = _papers(store)
    version = store.list_version()

    _fill_library(store, ada, pks)
    store.rename_collection(store.reading_list(ada, NOW).id, "Later")
    store.delete_collection(store.create_collection(ada, "Gone", NOW).id)

    assert store.list_version() == version


def test_another_process_sees_every_write(store, database_url):
    ada = _reader(store)
    pks = _papers(store)
    reading = _fill_library(store, ada, pks[:2])
    koopman = store.create_collection(ada, "Koopman", _later(1))
    store.save_papers(koopman.id, pks[2:], _later(2))
    store.rename_collection(koopman.id, "Koopman operators")

    other = open_store(database_url, migrate=False)
    try:
        assert other.collections_of(ada) == store.collections_of(ada)
        assert [c.size for c in other.collections_of(ada)] == [2, 2]
        assert other.collection_entries(koopman.id, 10, 0) == store.collection_entries(
            koopman.id, 10, 0
        )
        assert other.collection_by_share_token(f"share-{ada}") == other.get_collection(reading.id)
        assert other.saved_in(ada, pks) == store.saved_in(ada, pks)
        assert other.saved_pks(ada) == set(pks)
        assert other.notes_for(ada, pks) == {pks[0]: "note"}
        assert (other.read_pks(ada), other.dismissed_pks(ada)) == ({pks[0]}, {pks[1]})
        assert other.follows_of(ada) == [Follow("author", "Ada Lovelace", NOW)]
        assert other.owner_of_feed_token(f"feed-{ada}") == ada
        # ...and writes of its own come back.
        other.remove_paper(koopman.id, pks[2])
        other.set_note(ada, pks[0], None, NOW)
        other.set_feed_token(ada, "rotated")
        assert store.get_collection(koopman.id).size == 1
        assert store.notes_for(ada, pks) == {}
        assert store.owner_of_feed_token(f"feed-{ada}") is None
    finally:
        other.close()


def test_readers_making_the_same_collection_at_once_get_one(store, database_url):
    ada = _reader(store)
    stores = [open_store(database_url, migrate=False, pool_size=2) for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    made: list[int] = []

    def make(writer) -> None:
        barrier.wait()
        made.append(writer.create_collection(ada, "Same name", NOW).id)
        made.append(writer.reading_list(ada, NOW).id)

    threads = [threading.Thread(target=make, args=(writer,)) for writer in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for writer in stores:
        writer.close()

    assert len(set(made)) == 2
    assert [c.name for c in store.collections_of(ada)] == ["Reading list", "Same name"]
