"""The digest: schedule, selection, rendering, and sending through a real SMTP server."""

import dataclasses
import re
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.policy import default

import pytest

from conftest import fake_searcher, make_paper
from paperfeed.digest.render import latex_to_text
from paperfeed.digest.schedule import due_day, period_for
from paperfeed.digest.send import compose_digests, send_digests
from paperfeed.mail.messages import ListLinks, assemble
from paperfeed.models import Featured, Preferences

NOW = datetime(2026, 6, 26, 7, 0, tzinfo=UTC)
DAY = date(2026, 6, 26)

# (id, title, listed, categories, imported upvotes)
PAPERS = [
    ("2606.20001", "Koopman operators for dynamical systems", date(2026, 6, 24), ("math.DS",), 0),
    ("2606.20002", "Attention is all you need, again", date(2026, 6, 25), ("cs.CL", "cs.LG"), 30),
    (
        "2606.20003",
        "Fast $\\mathcal{O}(n)$ attention with \\emph{sparse} kernels",
        DAY,
        ("cs.LG",),
        12,
    ),
    ("2606.20004", "Chaotic dynamical systems and their attractors", DAY, ("math.DS",), 0),
    ("2606.20005", "Graph neural networks for molecules", DAY, ("cs.LG", "q-bio.BM"), 0),
    ("2606.20006", "A survey of retrieval augmented generation", DAY, ("cs.CL", "cs.IR"), 0),
    ("2606.20007", "Vision transformers at scale", DAY, ("cs.CV",), 0),
    ("2606.20008", "Robot grasping with tactile sensing", DAY, ("cs.RO",), 0),
    ("2606.19999", "An old paper outside every window", date(2026, 6, 20), ("cs.LG",), 99),
]


@pytest.fixture
def world(store, mail_settings, tmp_path, fake_embedder):
    """A catalog of PAPERS, a searcher with the fake embedder, and a helper to subscribe."""
    store.upsert_papers(
        [
            make_paper(
                pid,
                title=title,
                abstract=f"{title}. We show that 50% of $\\alpha$-mixing cases improve.",
                listed=day,
                categories=cats,
            )
            for pid, title, day, cats, _ in PAPERS
        ]
    )
    store.upsert_featured(
        [Featured(pid, day, "hf-daily", votes) for pid, _, day, _, votes in PAPERS if votes]
    )
    searcher = fake_searcher(store, tmp_path / "keyword", fake_embedder)

    def subscribe(email, status="active", **preferences):
        subscriber = store.create_subscriber(email, Preferences(**preferences), NOW)
        return store.save_subscriber(
            dataclasses.replace(subscriber, status=status, confirmed_at=NOW), NOW
        )

    return mail_settings, searcher, subscribe


def test_daily_weekly_weekdays_only_and_paused_periods():
    saturday = date(2026, 6, 27)
    daily = period_for(Preferences(), DAY)
    assert (daily.key, daily.since, daily.until) == ("2026-06-26", date(2026, 6, 24), DAY)
    assert period_for(Preferences(weekdays_only=True), saturday) is None
    assert period_for(Preferences(weekdays_only=True), DAY).key == "2026-06-26"
    assert period_for(Preferences(frequency="weekly"), DAY) is None  # a Friday
    weekly = period_for(Preferences(frequency="weekly"), DAY, "friday")
    assert (weekly.key, weekly.since) == ("2026-W26", date(2026, 6, 20))
    assert period_for(Preferences(frequency="paused"), DAY) is None


def test_the_digest_day_is_the_subscribers_own_after_the_hour():
    late = datetime(2026, 6, 26, 23, 30, tzinfo=UTC)
    assert due_day(Preferences(timezone="Asia/Tokyo"), late, 7) == date(2026, 6, 27)  # 08:30
    assert due_day(Preferences(timezone="America/New_York"), late, 7) == DAY  # 19:30
    assert due_day(Preferences(timezone="America/Los_Angeles"), NOW, 7) is None  # 00:00 there
    assert due_day(Preferences(), NOW, 7) == DAY
    assert due_day(Preferences(timezone="Not/AZone"), NOW, None) == DAY  # UTC


def test_latex_becomes_readable_text():
    assert latex_to_text("Fast $\\mathcal{O}(n)$ attention") == "Fast 𝒪(n) attention"
    assert latex_to_text("\\emph{sparse} $\\alpha$-mixing") == "sparse α-mixing"
    assert latex_to_text("50% of cases, 3\\% of others") == "50% of cases, 3% of others"
    assert latex_to_text("plain text") == "plain text"
    assert "$" not in latex_to_text("unbalanced $x^2 math")


def test_assembled_messages_parse_as_multipart_with_list_headers(mail_settings):
    data = assemble(
        mail_settings,
        to="ada@example.org",
        subject="Trending papers — 26 Jun 2026: Über α",
        text="Hello\n.\nA line that is long " + "x" * 200,
        html="<p>Héllo</p>",
        message_id="<digest-1-2026-06-26@papers.example.org>",
        now=NOW,
        links=ListLinks("https://p.example/unsubscribe/t", "https://p.example/preferences/t"),
    )
    assert b"\r\n" in data and all(byte < 128 for byte in data)
    message = message_from_bytes(data, policy=default)
    assert message["Subject"] == "Trending papers — 26 Jun 2026: Über α"
    assert message["From"] == "Paper Féed <digest@papers.example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    text = message.get_body(("plain",)).get_content()
    assert text.replace("\r\n", "\n") == "Hello\n.\nA line that is long " + "x" * 200
    # HTML travels as 7-bit ASCII: non-ASCII as character references, which HTML reads alike.
    html_part = message.get_body(("html",))
    assert html_part["Content-Transfer-Encoding"] == "7bit"
    assert html_part.get_content().strip() == "<p>H&#233;llo</p>"
    with pytest.raises(ValueError):
        assemble(
            mail_settings,
            to="a@b.org\r\nBcc: x@y.z",
            subject="s",
            text="t",
            html="h",
            message_id="<m@x>",
            now=NOW,
        )


def _bodies(message):
    return (
        message.get_body(("plain",)).get_content().replace("\r\n", "\n"),
        message.get_body(("html",)).get_content(),
    )


def test_a_digest_has_trending_then_topics_each_with_a_reason(world, smtp_server):
    settings, searcher, subscribe = world
    _, inbox = smtp_server
    subscribe("ada@example.org", topics=("dynamical systems",), max_papers=5)
    report = send_digests(searcher.store, searcher, settings, NOW, DAY)
    assert (report.composed, report.saved, report.delivery.sent) == (1, 1, 1)
    (message,) = inbox.to("ada@example.org")
    assert message["Subject"] == "Trending papers — 26 Jun 2026: Attention is all you need, again"
    assert message["Message-ID"] == "<digest-1-2026-06-26@papers.example.org>"
    assert message["List-Unsubscribe"].startswith("<https://papers.example.org/unsubscribe/")
    text, html = _bodies(message)
    # Trending: imported upvotes first, then the day's other papers; then the topic.
    assert text.index("Attention is all you need") < text.index("Fast 𝒪(n) attention")
    assert "trending: 30 upvotes" in text and "trending: 12 upvotes" in text
    topic = text[text.index("== Your topic: dynamical systems ==") :]
    assert "Koopman operators" in topic and "Chaotic dynamical systems" in topic
    assert 'matches your topic "dynamical systems"' in topic
    assert "An old paper" not in text  # outside the period
    assert "$" not in text and "\\mathcal" not in text and "\\emph" not in html
    assert "https://papers.example.org/papers/2606.20002" in text
    assert "https://arxiv.org/pdf/2606.20002" in text
    assert "Unsubscribe: https://papers.example.org/unsubscribe/" in text
    assert "<table" in html and 'style="' in html
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert 'href="https://papers.example.org/papers/2606.20004"' in html
    assert len(html.encode()) < 100_000


def test_without_votes_or_topics_a_subscriber_gets_the_days_papers(world, smtp_server, store):
    settings, searcher, subscribe = world
    _, inbox = smtp_server
    subscribe("bob@example.org", max_papers=4, categories=("cs.LG", "cs.CV"))
    send_digests(store, searcher, settings, NOW, DAY)
    text, _ = _bodies(inbox.to("bob@example.org")[0])
    titles = re.findall(r"^\d+\. (.+)$", text, flags=re.M)
    # Voted first; then the documented default: newest day, more categories, then id.
    assert titles == [
        "Attention is all you need, again",
        "Fast 𝒪(n) attention with sparse kernels",
        "Graph neural networks for molecules",
        "Vision transformers at scale",
    ]
    assert "new in cs.LG" in text


def test_never_the_same_paper_twice_and_no_empty_digest(world, smtp_server, store):
    settings, searcher, subscribe = world
    _, inbox = smtp_server
    subscribe("cy@example.org", topics=("attention",), max_papers=4)
    seen: list[str] = []
    for day in (date(2026, 6, 26), date(2026, 6, 27), date(2026, 6, 28)):
        now = datetime.combine(day, NOW.timetz())
        send_digests(store, searcher, settings, now, day)
    messages = inbox.to("cy@example.org")
    for message in messages:
        text, _ = _bodies(message)
        seen += re.findall(r"^https://papers\.example\.org/papers/(\S+)$", text, flags=re.M)
    # 24 June's paper left the 3-day window before its turn came; every other paper came once.
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == {pid for pid, *_ in PAPERS} - {"2606.20001", "2606.19999"}
    assert len(messages) == 2  # the third day had nothing new: no mail
    again = send_digests(store, searcher, settings, NOW, DAY)
    assert again.done_before == 1 and again.delivery.sent == 0


def test_only_active_subscribers_get_digests_and_dry_runs_send_nothing(world, smtp_server, store):
    settings, searcher, subscribe = world
    _, inbox = smtp_server
    subscribe("pending@example.org", status="pending")
    subscribe("gone@example.org", status="unsubscribed")
    subscribe("paused@example.org", frequency="paused")
    subscribe("weekly@example.org", frequency="weekly")  # weekly on Mondays by default
    subscribe("dan@example.org")
    dry = compose_digests(store, searcher, settings, NOW, DAY, dry_run=True)
    assert [p.subscriber.email for p in dry.plans] == ["dan@example.org"]
    assert store.digested("2026-06-26") == set() and inbox.received == []
    send_digests(store, searcher, settings, NOW, DAY)
    assert [r.rcpt_tos for r in inbox.received] == [["dan@example.org"]]


def test_text_with_non_ascii_goes_8bit_and_is_re_encoded_for_servers_without_8bitmime(
    mail_settings,
):
    from paperfeed.mail.mailer import seven_bit

    data = assemble(
        mail_settings,
        to="ada@example.org",
        subject="s",
        text="Fast 𝒪(n) attention, α-mixing",
        html="<p>α</p>",
        message_id="<m@papers.example.org>",
        now=NOW,
    )
    message = message_from_bytes(data, policy=default)
    text_part = message.get_body(("plain",))
    assert text_part["Content-Transfer-Encoding"] == "8bit"
    assert text_part.get_content().strip() == "Fast 𝒪(n) attention, α-mixing"
    converted = seven_bit(data)
    assert converted.isascii()
    again = message_from_bytes(converted, policy=default)
    assert again.get_body(("plain",))["Content-Transfer-Encoding"] == "base64"
    assert again.get_body(("plain",)).get_content().strip() == "Fast 𝒪(n) attention, α-mixing"
    assert again["Message-ID"] == "<m@papers.example.org>"


def test_composing_in_two_processes_gives_everyone_one_digest(world, smtp_server, store):
    settings, searcher, subscribe = world
    _, inbox = smtp_server
    for n in range(12):
        subscribe(
            f"p{n:02d}@example.org", topics=("dynamical systems",) if n % 2 else (), max_papers=3
        )
    report = compose_digests(store, searcher, settings, NOW, DAY, processes=2, parallel_min=1)
    assert (report.composed, report.saved) == (12, 12)
    assert any("2 processes" in name for name in report.seconds)
    again = compose_digests(store, searcher, settings, NOW, DAY, processes=2, parallel_min=1)
    assert (again.done_before, again.saved) == (12, 0)
    send_digests(store, searcher, settings, NOW, DAY)
    assert sorted(r.rcpt_tos[0] for r in inbox.received) == [
        f"p{n:02d}@example.org" for n in range(12)
    ]
    topic_mail = inbox.to("p01@example.org")[0].get_body(("plain",)).get_content()
    assert 'matches your topic "dynamical systems"' in topic_mail


def test_a_period_another_process_is_composing_is_left_to_it(world, smtp_server, store):
    from paperfeed.storage import open_store

    settings, searcher, subscribe = world
    subscribe("ada@example.org")
    other = open_store(settings.database_url, migrate=False, pool_size=2)  # another worker
    try:
        with other.job_lock(f"digest-compose:{DAY.isoformat()}") as held:
            assert held
            busy = compose_digests(store, searcher, settings, NOW, DAY)
            assert (busy.due, busy.elsewhere, busy.composed) == (1, 1, 0)
            assert "1 left to the process composing their period" in busy.summary()
            assert compose_digests(store, searcher, settings, NOW, DAY, dry_run=True).composed
    finally:
        other.close()
    done = compose_digests(store, searcher, settings, NOW, DAY)
    assert (done.composed, done.saved, done.elsewhere) == (1, 1, 0)


def test_catalog_text_cannot_pass_for_the_reasons_marker(world, smtp_server, store, backend):
    settings, searcher, subscribe = world
    _, inbox = smtp_server
    # The marker itself, NUL-delimited, as only SQLite can store it (PostgreSQL refuses NULs).
    marker = "\x00why\x00" if backend == "sqlite" else "why"
    title = f"Marker @@why@@ and {marker} in a title"
    store.upsert_papers([make_paper("2606.20009", title=title, abstract="@@why@@", listed=DAY)])
    store.upsert_featured([Featured("2606.20009", DAY, "hf-daily", 99)])
    subscribe("eve@example.org", max_papers=1)
    send_digests(store, searcher, settings, NOW, DAY)
    text, html = _bodies(inbox.to("eve@example.org")[0])
    block = text[text.index("1. ") :].splitlines()
    assert block[0] == "1. Marker @@why@@ and why in a title"
    assert block[2] == "trending: 99 upvotes"
    assert block[3] == "@@why@@"  # the abstract, as it is
    assert html.count("trending: 99 upvotes") == 1
    assert ">Marker @@why@@ and why in a title</a>" in html


def test_a_reader_with_a_library_and_follows_gets_a_for_you_section(world, smtp_server, store):
    settings, searcher, subscribe = world
    _, inbox = smtp_server
    ada = subscribe("ada@example.org", max_papers=6)
    pks = store.pks_for_ids(["2606.20001", "2606.20007"])
    shelf = store.reading_list(ada.id, NOW)
    store.save_papers(shelf.id, [pks["2606.20001"]], NOW)  # Koopman operators, two days ago
    store.follow(ada.id, "category", "cs.RO", NOW)
    store.dismiss(ada.id, pks["2606.20007"], True, NOW)
    subscribe("bob@example.org", max_papers=6)  # nothing saved, nothing followed
    report = send_digests(searcher.store, searcher, settings, NOW, DAY)
    assert report.saved == 2
    text, html = _bodies(inbox.to("ada@example.org")[0])
    section = text[text.index("== For you ==") :]
    assert "Robot grasping with tactile sensing" in section
    assert "in cs.RO, which you follow" in section
    assert "Chaotic dynamical systems" in section  # like the Koopman paper she saved
    assert "like “Koopman operators for dynamical systems”" in section
    assert "Vision transformers at scale" not in section  # dismissed
    assert text.count("papers.example.org/papers/2606.20008") == 1  # each paper once
    assert "For you" in html
    bob_text, _ = _bodies(inbox.to("bob@example.org")[0])
    assert "== For you ==" not in bob_text
