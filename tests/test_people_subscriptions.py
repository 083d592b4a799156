"""Subscribing, confirming, signing in and unsubscribing, against a real store and queue."""

import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default

import pytest

from conftest import SECRET
from paperfeed.models import Preferences
from paperfeed.people import subscriptions as subs
from paperfeed.people.addresses import BadAddress
from paperfeed.people.tokens import BadToken

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
WANTS = Preferences(frequency="daily", topics=("dynamical systems",), max_papers=8)


@pytest.fixture
def people(settings):
    import dataclasses

    return dataclasses.replace(
        settings, secret_key=SECRET, base_url="https://papers.example.org", site_name="paperfeed"
    )


def _queued(store, now=NOW + timedelta(days=1)):
    """Messages waiting in the queue, parsed."""
    return [message_from_bytes(mail.data, policy=default) for mail in store.claim_mail(now, 100, 1)]


def _link(message, path: str) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(rf"https://papers\.example\.org/{path}/(\S+)", text).group(1)


def test_subscribing_sends_only_a_confirmation_until_it_is_used(store, people):
    outcome = subs.request_subscription(store, people, "Ada@Example.org", WANTS, "203.0.113.9", NOW)
    assert outcome == "confirmation"
    subscriber = store.subscriber_by_email("Ada@example.org")
    assert subscriber.status == "pending"
    assert subscriber.preferences == Preferences()  # nothing applies before confirmation
    assert subscriber.requested == WANTS
    (confirmation,) = _queued(store)
    assert confirmation["Subject"] == "Confirm your subscription to paperfeed"
    body = confirmation.get_body(("plain",)).get_content()
    assert "trending papers with new papers on 1 topic (shown once you confirm)" in body
    assert "dynamical systems" not in confirmation.as_string()  # the requester's words stay out
    assert "List-Unsubscribe" not in confirmation  # not a list mail

    confirmed = subs.confirm_subscription(
        store, people, _link(confirmation, "confirm"), "203.0.113.9", NOW + timedelta(hours=1)
    )
    assert (confirmed.status, confirmed.preferences, confirmed.requested) == ("active", WANTS, None)
    assert confirmed.confirmed_at == NOW + timedelta(hours=1)
    history = store.consent_history(confirmed.id)
    assert [(action, ip) for _, ip, action, _ in history] == [
        ("requested", "203.0.113.9"),
        ("confirmed", "203.0.113.9"),
    ]
    assert (
        history[1][3] == 'a daily email of trending papers, with new papers on "dynamical systems"'
    )


def test_confirmation_links_expire_and_work_once(store, people):
    subs.request_subscription(store, people, "ada@example.org", WANTS, None, NOW)
    token = _link(_queued(store)[0], "confirm")
    with pytest.raises(BadToken, match="expired"):
        subs.confirm_subscription(store, people, token, None, NOW + timedelta(hours=48, seconds=1))
    subs.confirm_subscription(store, people, token, None, NOW + timedelta(hours=47))
    with pytest.raises(BadToken, match="used already"):
        subs.confirm_subscription(store, people, token, None, NOW + timedelta(hours=47))


def test_an_active_subscriber_gets_a_notice_not_a_new_subscription(store, people):
    subs.request_subscription(store, people, "ada@example.org", WANTS, None, NOW)
    subs.confirm_subscription(store, people, _link(_queued(store)[0], "confirm"), None, NOW)
    changed = Preferences(frequency="weekly")
    assert (
        subs.request_subscription(store, people, "ada@example.org", changed, None, NOW) == "notice"
    )
    (notice,) = _queued(store)
    assert notice["Subject"] == "You are already subscribed to paperfeed"
    assert notice["List-Unsubscribe"].startswith("<https://papers.example.org/unsubscribe/")
    assert store.subscriber_by_email("ada@example.org").preferences == WANTS  # unchanged


def test_a_paused_account_does_not_start_mail_on_a_strangers_request(store, people):
    subs.request_sign_in(store, people, "ada@example.org", None, NOW)
    account = subs.complete_sign_in(store, people, _link(_queued(store)[0], "signin"), None, NOW)
    assert (account.status, account.preferences.frequency) == ("active", "paused")
    assert subs.request_subscription(store, people, "ada@example.org", WANTS, None, NOW) == (
        "confirmation"
    )
    assert store.subscriber_by_email("ada@example.org").preferences.frequency == "paused"


def test_rate_limits_per_address_and_per_ip(store, people):
    outcomes = [
        subs.request_subscription(store, people, "ada@example.org", WANTS, f"198.51.100.{n}", NOW)
        for n in range(7)
    ]
    assert outcomes == ["confirmation"] * 5 + ["limited"] * 2
    assert len(_queued(store)) == 5
    later = NOW + timedelta(hours=1, seconds=1)
    assert subs.request_subscription(store, people, "ada@example.org", WANTS, None, later) == (
        "confirmation"
    )
    for n in range(20):
        subs.request_sign_in(store, people, f"user{n}@example.org", "192.0.2.1", NOW)
    with pytest.raises(subs.RateLimited):
        subs.request_sign_in(store, people, "user99@example.org", "192.0.2.1", NOW)


def test_header_injection_and_junk_addresses_are_refused(store, people):
    for raw in ("a@b.c\r\nBcc: x@y.z", "a@b.org, c@d.org", "<script>@x.org", ""):
        with pytest.raises(BadAddress):
            subs.request_subscription(store, people, raw, WANTS, None, NOW)
    assert _queued(store) == []


def test_unsubscribing_by_link_is_immediate_and_idempotent(store, people):
    subs.request_subscription(store, people, "ada@example.org", WANTS, None, NOW)
    subscriber = subs.confirm_subscription(
        store, people, _link(_queued(store)[0], "confirm"), None, NOW
    )
    links = subs.list_links(people, subscriber, NOW)
    token = links.unsubscribe.rsplit("/", 1)[1]
    assert subs.unsubscribe(store, people, token, "203.0.113.1", NOW).status == "unsubscribed"
    years_later = NOW + timedelta(days=800)
    assert subs.unsubscribe(store, people, token, None, years_later).status == "unsubscribed"
    assert [a for _, _, a, _ in store.consent_history(subscriber.id)][-1] == "unsubscribed"
    with pytest.raises(BadToken):
        subs.unsubscribe(store, people, token[:-2] + "xx", None, NOW)


def test_preferences_are_checked_and_restart_mail_for_an_account(store, people):
    assert subs.parse_preferences("weekly", "on", "a\n\n b  c \na", "cs.LG, cs.CL", "12") == (
        Preferences("weekly", True, ("a", "b c"), ("cs.LG", "cs.CL"), 12)
    )
    for bad in (
        {"frequency": "hourly"},
        {"max_papers": "0"},
        {"max_papers": "x"},
        {"topics": "t\n" * 11},
        {"topics": "x" * 201},
        {"topics": 5},
    ):
        with pytest.raises(subs.BadPreferences):
            subs.parse_preferences(**bad)
    subs.request_sign_in(store, people, "ada@example.org", None, NOW)
    account = subs.complete_sign_in(store, people, _link(_queued(store)[0], "signin"), None, NOW)
    stopped = subs.stop_mail(store, account, None, NOW)
    restarted = subs.save_preferences(store, stopped, Preferences("weekly"), "203.0.113.5", NOW)
    assert (restarted.status, restarted.preferences.frequency) == ("active", "weekly")


@pytest.mark.parametrize(
    "bad",
    [
        {"frequency": 5},
        {"frequency": ["daily"]},
        {"frequency": True},
        {"frequency": {}},
        {"weekdays_only": {}},
        {"weekdays_only": 1},
        {"weekdays_only": "perhaps"},
        {"topics": {}},
        {"topics": 0},
        {"topics": ["ok", 5]},
        {"categories": {"cs.LG": 1}},
        {"categories": False},
        {"max_papers": True},
        {"max_papers": 5.0},
        {"max_papers": [5]},
        {"max_papers": "9" * 5000},
        {"timezone": 5},
        {"timezone": ["UTC"]},
        {"timezone": {}},
        {"timezone": False},
    ],
)
def test_preferences_of_the_wrong_type_are_bad_preferences(bad):
    """JSON can put any type in any field: each is a BadPreferences (a 400), not a crash."""
    with pytest.raises(subs.BadPreferences):
        subs.parse_preferences(**bad)


def test_preferences_take_json_types_and_form_text_alike():
    assert subs.parse_preferences(
        frequency=None, weekdays_only=True, topics=None, max_papers=7, timezone=None
    ) == Preferences("daily", True, (), (), 7, "UTC")
    assert subs.parse_preferences(
        frequency="Weekly", weekdays_only="", max_papers=" 7 ", timezone="Europe/Paris"
    ) == Preferences("weekly", False, (), (), 7, "Europe/Paris")


def test_sign_in_links_work_once_and_a_bounced_address_gets_nothing(store, people):
    assert subs.request_sign_in(store, people, "new@example.org", None, NOW) == "signin-new"
    token = _link(_queued(store)[0], "signin")
    account = subs.complete_sign_in(store, people, token, "203.0.113.7", NOW)
    assert account.is_account and account.email == "new@example.org"
    with pytest.raises(BadToken, match="used already"):
        subs.complete_sign_in(store, people, token, None, NOW)
    for _ in range(3):
        store.record_bounce(account.id, NOW, threshold=3)
    assert subs.request_sign_in(store, people, "new@example.org", None, NOW) == "suppressed"
    assert subs.request_subscription(store, people, "new@example.org", WANTS, None, NOW) == (
        "suppressed"
    )
    assert _queued(store) == []


def test_an_ipv6_network_is_limited_as_one_client_and_unknown_clients_share_a_bucket(store, people):
    for n in range(20):
        subs.request_sign_in(store, people, f"six{n}@example.org", f"2001:db8:7:7::{n:x}", NOW)
    with pytest.raises(subs.RateLimited):  # another address in the same /64
        subs.request_sign_in(store, people, "six99@example.org", "2001:db8:7:7:ffff::1", NOW)
    assert subs.request_sign_in(store, people, "next@example.org", "2001:db8:7:8::1", NOW)
    for n in range(20):
        subs.request_sign_in(store, people, f"anon{n}@example.org", None, NOW)
    with pytest.raises(subs.RateLimited):  # no address is not a way around the limit
        subs.request_sign_in(store, people, "anon99@example.org", None, NOW)


def test_case_variants_of_an_address_are_one_person(store, people):
    variants = [
        "".join(c.upper() if mask >> i & 1 else c for i, c in enumerate("victim")) + "@Example.org"
        for mask in range(15)
    ]
    assert len(set(variants)) == 15
    for n, address in enumerate(variants):
        subs.request_subscription(store, people, address, WANTS, f"198.51.100.{n}", NOW)
    # One row, under the address as first typed, and one address's rate limit: five mails.
    assert store.subscriber_by_email("VICTIM@example.org").email == "victim@example.org"
    confirmations = _queued(store)
    assert len(confirmations) == people.address_limit_per_hour
    first = subs.confirm_subscription(store, people, _link(confirmations[0], "confirm"), None, NOW)
    # Signing in with any variant opens the same account.
    later = NOW + timedelta(hours=2)
    subs.request_sign_in(store, people, "ViCtIm@example.org", "192.0.2.50", later)
    (signin,) = [m for m in _queued(store, later + timedelta(days=2)) if "sign-in" in m["Subject"]]
    signed_in = subs.complete_sign_in(store, people, _link(signin, "signin"), None, later)
    assert signed_in.id == first.id


def test_a_confirmation_mail_never_quotes_what_the_requester_typed(store, people):
    bait = "URGENT: your account is locked, log in at http://evil.example/login"
    wants = Preferences(topics=tuple(f"{bait} {n}" for n in range(10)), categories=("cs.LG",))
    subs.request_subscription(store, people, "ada@example.org", wants, None, NOW)
    (confirmation,) = _queued(store)
    for part in confirmation.iter_parts():
        content = part.get_content()
        assert "evil.example" not in content and "URGENT" not in content
        assert "10 topics and 1 arXiv category" in content


def test_a_confirmation_link_confirms_the_request_it_was_sent_for(store, people):
    mine = Preferences(frequency="weekly", topics=("graph neural networks",))
    theirs = Preferences(frequency="daily", topics=("casino bonus",), max_papers=50)
    subs.request_subscription(store, people, "ada@example.org", mine, "192.0.2.1", NOW)
    subs.request_subscription(store, people, "ada@example.org", theirs, "198.51.100.7", NOW)
    first, second = _queued(store)
    with pytest.raises(BadToken, match="earlier request"):
        subs.confirm_subscription(store, people, _link(first, "confirm"), None, NOW)
    assert store.subscriber_by_email("ada@example.org").status == "pending"
    confirmed = subs.confirm_subscription(store, people, _link(second, "confirm"), None, NOW)
    assert confirmed.preferences == theirs  # the newest request, which its own link confirms


def test_preferences_links_lapse_and_are_retired_by_signing_out_everywhere(store, people):
    subs.request_subscription(store, people, "ada@example.org", WANTS, None, NOW)
    ada = subs.confirm_subscription(store, people, _link(_queued(store)[0], "confirm"), None, NOW)
    links = subs.list_links(people, ada, NOW)
    prefs = links.preferences.rsplit("/", 1)[1]
    unsubscribe = links.unsubscribe.rsplit("/", 1)[1]
    later = NOW + timedelta(days=people.preferences_link_days - 1)
    assert subs.subscriber_for_link(store, people, prefs, "prefs", later).id == ada.id
    with pytest.raises(BadToken, match="expired"):
        subs.subscriber_for_link(store, people, prefs, "prefs", later + timedelta(days=2))
    subs.sign_out_everywhere(store, ada, NOW)
    with pytest.raises(BadToken, match="retired"):
        subs.subscriber_for_link(store, people, prefs, "prefs", NOW)
    # Unsubscribing from an old mail always works.
    years = NOW + timedelta(days=3650)
    assert subs.unsubscribe(store, people, unsubscribe, None, years).status == "unsubscribed"
