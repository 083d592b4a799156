"""Papers' discussions (storage/base.py Discussions) held against every backend: one level of
replies, edits and deletes by the author only, counts that leave out what operators hid, and
who is due mail about new comments."""

import dataclasses
import threading
from datetime import UTC, datetime, timedelta

import pytest

from conftest import make_paper
from paperfeed.models import OutgoingMail, Preferences
from paperfeed.storage import CommentNotFound, PaperNotFound, open_store

NOW = datetime(2026, 6, 26, 8, 0, tzinfo=UTC)


def _at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def _reader(store, email: str, name: str | None = None) -> int:
    made = store.create_subscriber(email, Preferences(), NOW)
    store.save_subscriber(dataclasses.replace(made, status="active", confirmed_at=NOW), NOW)
    if name:
        store.set_public_name(made.id, name, NOW)
    return made.id


def _paper(store, paper_id: str = "2606.00001") -> int:
    store.upsert_papers([make_paper(paper_id)])
    return store.pks_for_ids([paper_id])[paper_id]


def _count(store, pk: int) -> int:
    return store.listed_by_pk([pk])[pk].num_comments


def _mail(key: str) -> OutgoingMail:
    return OutgoingMail("discussion", "ada@example.org", f"<{key}@x>", b"x", None, key)


def test_replies_are_one_level_deep_and_show_public_names(store):
    pk = _paper(store)
    ada, bob = _reader(store, "ada@example.org", "ada.l"), _reader(store, "bob@example.org")
    top = store.add_comment(pk, ada, None, "  First *thought*  ", NOW)
    reply = store.add_comment(pk, bob, top.id, "A reply", _at(1))
    deeper = store.add_comment(pk, ada, reply.id, "A reply to the reply", _at(2))

    assert (top.text, top.author_name, top.parent_id, top.created_at) == (
        "First *thought*",
        "ada.l",
        None,
        NOW,
    )
    assert reply.parent_id == top.id and deeper.parent_id == top.id  # attached to the top
    assert reply.author_name is None  # no public name yet: never the address
    assert [c.id for c in store.comments_of(pk)] == [top.id, reply.id, deeper.id]
    assert _count(store, pk) == 3
    other = _paper(store, "2606.00002")
    with pytest.raises(CommentNotFound):
        store.add_comment(other, ada, top.id, "a parent from another paper", NOW)
    with pytest.raises(CommentNotFound):
        store.add_comment(pk, ada, 10_000, "no such parent", NOW)
    with pytest.raises(PaperNotFound):
        store.add_comment(10_000, ada, None, "no such paper", NOW)
    with pytest.raises(ValueError):
        store.add_comment(pk, ada, None, "   ", NOW)


def test_only_the_author_edits_or_deletes_and_replies_keep_their_place(store):
    pk = _paper(store)
    ada, bob = _reader(store, "ada@example.org"), _reader(store, "bob@example.org")
    top = store.add_comment(pk, ada, None, "original", NOW)
    reply = store.add_comment(pk, bob, top.id, "answer", _at(1))
    with pytest.raises(CommentNotFound):
        store.edit_comment(top.id, bob, "not mine", _at(2))
    with pytest.raises(CommentNotFound):
        store.delete_comment(top.id, bob, _at(2))
    edited = store.edit_comment(top.id, ada, "better", _at(3))
    assert (edited.text, edited.edited_at, edited.created_at) == ("better", _at(3), NOW)

    store.delete_comment(top.id, ada, _at(4))  # it has a reply: kept as deleted
    kept = store.get_comment(top.id)
    assert (kept.deleted, kept.text, kept.visible) == (True, "", False)
    assert [c.id for c in store.comments_of(pk)] == [top.id, reply.id]
    assert _count(store, pk) == 1
    with pytest.raises(CommentNotFound):
        store.edit_comment(top.id, ada, "back from the dead", _at(5))
    with pytest.raises(CommentNotFound):
        store.add_comment(pk, ada, top.id, "a reply to a deleted comment", _at(5))
    reply_again = store.add_comment(pk, ada, reply.id, "replies to its replies go on", _at(6))
    assert reply_again.parent_id == top.id

    store.delete_comment(reply.id, bob, _at(7))
    store.delete_comment(reply_again.id, ada, _at(8))  # the last reply: the top goes too
    assert store.comments_of(pk) == []
    lone = store.add_comment(pk, ada, None, "alone", _at(9))
    store.delete_comment(lone.id, ada, _at(10))
    with pytest.raises(CommentNotFound):
        store.get_comment(lone.id)
    assert _count(store, pk) == 0


def test_counts_leave_out_hidden_comments_and_hidden_readers(store):
    pk = _paper(store)
    ada, troll = _reader(store, "ada@example.org"), _reader(store, "troll@example.org")
    kept = store.add_comment(pk, ada, None, "useful", NOW)
    spam = store.add_comment(pk, ada, None, "oops, spam", NOW)
    for n in range(3):
        store.add_comment(pk, troll, kept.id, f"noise {n}", NOW)
    assert _count(store, pk) == 5
    before = store.list_version()

    store.hide("comment", str(spam.id), None, "spam", _at(1))
    store.hide("reader", str(troll), None, "troll", _at(1))

    assert store.list_version() > before  # kept cards show the new count
    assert _count(store, pk) == 1
    shown = {c.id: c.hidden for c in store.comments_of(pk)}
    assert shown[kept.id] is False and shown[spam.id] is True
    assert sum(shown.values()) == 4
    store.unhide("reader", str(troll))
    assert _count(store, pk) == 4


def test_a_new_comment_moves_the_list_version(store):
    pk = _paper(store)
    ada = _reader(store, "ada@example.org")
    before = store.list_version()
    made = store.add_comment(pk, ada, None, "hello", NOW)
    after_add = store.list_version()
    store.edit_comment(made.id, ada, "hello again", NOW)
    after_edit = store.list_version()
    store.delete_comment(made.id, ada, NOW)
    assert before < after_add < after_edit < store.list_version()


def test_comments_posted_at_once_are_all_kept(store):
    pk = _paper(store)
    readers = [_reader(store, f"r{n}@example.org") for n in range(4)]
    errors: list[BaseException] = []

    def post(reader: int) -> None:
        other = open_store(store.url)
        try:
            for n in range(5):
                other.add_comment(pk, reader, None, f"comment {n} by {reader}", NOW)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            other.close()

    threads = [threading.Thread(target=post, args=(reader,)) for reader in readers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    comments = store.comments_of(pk)
    assert len(comments) == 20 and len({c.id for c in comments}) == 20
    assert _count(store, pk) == 20


def test_mail_is_due_for_new_comments_by_others_at_most_once_an_hour(store):
    pk = _paper(store)
    ada, bob = _reader(store, "ada@example.org"), _reader(store, "bob@example.org")
    before = store.add_comment(pk, bob, None, "before ada followed", NOW)
    store.set_discussion_mail(ada, pk, True, NOW)
    assert store.discussion_mail_on(ada, pk) and not store.discussion_mail_on(bob, pk)
    assert store.discussion_mail_due(_at(1), 3600) == []  # history is not mailed
    own = store.add_comment(pk, ada, before.id, "ada's own reply", _at(1))
    assert store.discussion_mail_due(_at(2), 3600) == []  # nor one's own comments
    first = store.add_comment(pk, bob, None, "new", _at(2))
    hidden = store.add_comment(pk, bob, None, "hidden before it was mailed", _at(2))
    store.hide("comment", str(hidden.id), None, "", _at(2))

    due = store.discussion_mail_due(_at(3), 3600)
    assert [(d.subscriber_id, d.paper_pk, [c.id for c in d.comments]) for d in due] == [
        (ada, pk, [first.id])
    ]
    assert due[0].through_id == first.id and due[0].last_mailed_at is None
    assert store.record_discussion_mail(ada, pk, first.id, _mail("d1"), _at(3)) is True
    assert store.record_discussion_mail(ada, pk, first.id, _mail("d1"), _at(3)) is False
    assert store.mail_status().counts.get("queued") == 1

    second = store.add_comment(pk, bob, None, "within the hour", _at(10))
    assert store.discussion_mail_due(_at(62), 3600) == []  # mailed at +3: not before +63
    due = store.discussion_mail_due(_at(63), 3600)
    assert [[c.id for c in d.comments] for d in due] == [[second.id]]
    assert own.id not in [c.id for d in due for c in d.comments]

    store.set_discussion_mail(ada, pk, False, _at(64))
    assert store.discussion_mail_due(_at(200), 3600) == []
    assert store.record_discussion_mail(ada, pk, second.id, _mail("d2"), _at(64)) is False
    store.set_discussion_mail(ada, pk, True, _at(65))  # on again: from now on
    assert store.discussion_mail_due(_at(200), 3600) == []
