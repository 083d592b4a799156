"""Mail about new comments (discussion/mail.py) through the real queue and a real SMTP
server: opt-in only, one mail per discussion an hour listing what is new, none for one's own or
hidden comments, escaped everywhere, a one-click unsubscribe for that discussion alone, and a
rerun that sends nothing twice."""

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from conftest import build_web_app, make_paper
from paperfeed.discussion.mail import send_discussion_mail, unsubscribe_token
from paperfeed.mail.mailer import deliver_due, transport_for
from paperfeed.models import Preferences

NOW = datetime(2026, 6, 26, 8, 0, tzinfo=UTC)
HOSTILE_TITLE = "Attention\r\nBcc: victim@example.org <script>x</script> $\\alpha$"


def _at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


@pytest.fixture
def world(store, mail_settings):
    store.upsert_papers([make_paper("2606.00001", title=HOSTILE_TITLE), make_paper("2606.00002")])
    pks = store.pks_for_ids(["2606.00001", "2606.00002"])
    people = {}
    for name in ("ada", "bob", "eve"):
        made = store.create_subscriber(f"{name}@example.org", Preferences(), NOW)
        store.save_subscriber(dataclasses.replace(made, status="active", confirmed_at=NOW), NOW)
        store.set_public_name(made.id, name, NOW)
        people[name] = made.id
    return pks["2606.00001"], pks["2606.00002"], people


def _run(store, settings, now):
    report = send_discussion_mail(store, settings, now)
    deliver_due(store, transport_for(settings), now)
    return report


def _bodies(message):
    return (
        message.get_body(("plain",)).get_content().replace("\r\n", "\n"),
        message.get_body(("html",)).get_content(),
    )


def test_participants_who_asked_get_one_mail_an_hour_with_what_is_new(
    world, store, mail_settings, smtp_server
):
    _, inbox = smtp_server
    pk, other, people = world
    store.set_discussion_mail(people["ada"], pk, True, NOW)  # bob and eve did not ask
    store.add_comment(pk, people["ada"], None, "ada's own comment", _at(1))
    assert _run(store, mail_settings, _at(2)).due == 0 and inbox.received == []
    first = store.add_comment(
        pk, people["bob"], None, "Bob <script>alert(1)</script> $\\beta$", _at(3)
    )
    store.add_comment(pk, people["eve"], first.id, "eve's reply", _at(4))
    spam = store.add_comment(pk, people["eve"], None, "buy pills", _at(4))
    store.hide("comment", str(spam.id), None, "spam", _at(4))
    store.add_comment(other, people["bob"], None, "another discussion", _at(4))

    report = _run(store, mail_settings, _at(5))

    assert (report.due, report.queued) == (1, 1)
    (message,) = inbox.to("ada@example.org")
    assert [r.rcpt_tos for r in inbox.received] == [["ada@example.org"]]
    subject = message["Subject"]
    assert "\n" not in subject and "\r" not in subject and "Bcc" not in message
    assert subject.startswith('New comments on "Attention Bcc: victim@example.org')
    assert "α" in subject
    text, html = _bodies(message)
    assert "bob wrote" in text and "eve replied" in text and "β" in text
    assert "buy pills" not in text and "ada's own" not in text and "another discussion" not in text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "https://papers.example.org/papers/2606.00001#comment-" in text
    assert message["List-Unsubscribe"].startswith(
        "<https://papers.example.org/discussions/unsubscribe/"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Stop mail about this discussion" in html

    # Within the hour: nothing, however many comments come; after it, one mail with them all.
    store.add_comment(pk, people["bob"], None, "later one", _at(20))
    store.add_comment(pk, people["eve"], None, "later two", _at(30))
    assert _run(store, mail_settings, _at(64)).due == 0
    assert _run(store, mail_settings, _at(65)).queued == 1
    assert len(inbox.to("ada@example.org")) == 2
    text, _ = _bodies(inbox.to("ada@example.org")[1])
    assert "later one" in text and "later two" in text and "Bob " not in text


def test_a_rerun_or_a_second_worker_sends_nothing_twice(world, store, mail_settings, smtp_server):
    _, inbox = smtp_server
    pk, _, people = world
    store.set_discussion_mail(people["ada"], pk, True, NOW)
    store.add_comment(pk, people["bob"], None, "hello", _at(1))
    due = store.discussion_mail_due(_at(2), 3600)
    assert _run(store, mail_settings, _at(2)).queued == 1
    # A second process that read the same due list before the first recorded it:
    from paperfeed.discussion.mail import compose

    late = compose(mail_settings, due[0], "ada@example.org", store.get_paper("2606.00001"), _at(2))
    assert store.record_discussion_mail(people["ada"], pk, due[0].through_id, late, _at(2)) is False
    assert _run(store, mail_settings, _at(3)).due == 0
    assert _run(store, mail_settings, _at(200)).due == 0
    assert len(inbox.to("ada@example.org")) == 1


def test_one_click_unsubscribe_stops_only_that_discussion(
    world, store, mail_settings, smtp_server, tmp_path, fake_embedder
):
    _, inbox = smtp_server
    pk, other, people = world
    for paper in (pk, other):
        store.set_discussion_mail(people["ada"], paper, True, NOW)
        store.add_comment(paper, people["bob"], None, "news", _at(1))
    _run(store, mail_settings, _at(2))
    messages = inbox.to("ada@example.org")
    assert len(messages) == 2
    link = re.search(r"<https://papers\.example\.org(\S+)>", messages[0]["List-Unsubscribe"])[1]
    app = build_web_app(store, mail_settings, tmp_path, fake_embedder)
    with TestClient(app, base_url="https://papers.example.org") as mail_client:
        page = mail_client.get(link)  # a link scanner's GET changes nothing
        assert page.status_code == 200 and "Stop this mail" in page.text
        assert store.discussion_mail_on(people["ada"], pk)
        assert "<script>" not in page.text  # the hostile title, escaped
        pressed = mail_client.post(
            link,
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert (pressed.status_code, pressed.text) == (200, "unsubscribed")
        forged = mail_client.post(
            "/discussions/unsubscribe/x.y", content=b"List-Unsubscribe=One-Click"
        )
        assert forged.status_code == 400
        wrong_purpose = unsubscribe_token(mail_settings, people["ada"], "2606.00001", NOW)
        assert mail_client.post(f"/unsubscribe/{wrong_purpose}").status_code == 400
    assert not store.discussion_mail_on(people["ada"], pk)
    assert store.discussion_mail_on(people["ada"], other)
    store.add_comment(pk, people["bob"], None, "unheard", _at(100))
    store.add_comment(other, people["bob"], None, "heard", _at(100))
    _run(store, mail_settings, _at(101))
    text, _ = _bodies(inbox.to("ada@example.org")[-1])
    assert len(inbox.to("ada@example.org")) == 3 and "heard" in text and "unheard" not in text


def test_the_cli_job_takes_a_fixed_now_and_a_rerun_sends_nothing(
    world, store, mail_settings, smtp_server
):
    from click.testing import CliRunner

    from paperfeed.cli import cli

    _, inbox = smtp_server
    pk, _, people = world
    store.set_discussion_mail(people["ada"], pk, True, NOW)
    store.add_comment(pk, people["bob"], None, "hello from the CLI", _at(1))
    env = {
        "PAPERFEED_DATABASE_URL": mail_settings.database_url,
        "PAPERFEED_DATA_DIR": mail_settings.data_dir,
        "PAPERFEED_SECRET_KEY": mail_settings.secret_key,
        "PAPERFEED_SMTP_URL": mail_settings.smtp_url,
        "PAPERFEED_BASE_URL": mail_settings.base_url,
    }
    runner = CliRunner()
    first = runner.invoke(cli, ["discussion-mail", "--now", "2026-06-26T08:05"], env=env)
    assert first.exit_code == 0, first.output
    assert "1 due, queued 1" in first.output and "sent 1" in first.output
    again = runner.invoke(cli, ["discussion-mail", "--now", "2026-06-26T08:06"], env=env)
    assert again.exit_code == 0 and "0 due, queued 0" in again.output
    assert len(inbox.to("ada@example.org")) == 1
    bad = runner.invoke(cli, ["discussion-mail", "--now", "yesterday"], env=env)
    assert bad.exit_code == 2 and "not an ISO 8601 time" in bad.output
