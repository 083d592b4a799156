"""Subscribing, confirming, signing in and unsubscribing over HTTP, with mail through a real
SMTP server (aiosmtpd)."""

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from conftest import build_web_app, fake_searcher, query_one
from paperfeed.people.subscriptions import list_links


@pytest.fixture
def client(store, mail_settings, tmp_path, fake_embedder):
    app = build_web_app(store, mail_settings, tmp_path, fake_embedder)
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def _csrf(client, url: str = "/") -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', client.get(url).text).group(1)


def _use(client, link: str, **options):
    """Press the button on a confirmation or sign-in link's page, as a browser does."""
    return client.post(link, data={"csrf": _csrf(client, link)}, **options)


def _link(inbox, address: str, kind: str) -> str:
    message = inbox.to(address)[-1]
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(rf"https://papers\.example\.org(/{kind}/\S+)", text).group(1)


def test_double_opt_in_end_to_end(client, smtp_server, store):
    _, inbox = smtp_server
    page = client.post("/subscribe", data={"email": "ada@example.org", "csrf": _csrf(client)})
    assert page.status_code == 200 and "Check your inbox" in page.text
    (confirmation,) = inbox.to("ada@example.org")
    assert confirmation["Subject"] == "Confirm your subscription to Paper Féed"
    assert [p.get_content_type() for p in confirmation.iter_parts()] == ["text/plain", "text/html"]
    link = _link(inbox, "ada@example.org", "confirm")

    opened = client.get(link)  # what a link scanner does: nothing changes
    assert opened.status_code == 200 and "Confirm my subscription" in opened.text
    assert store.subscriber_by_email("ada@example.org").status == "pending"

    done = _use(client, link, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/preferences?welcome=1"
    cookie = done.headers["set-cookie"]
    assert "pf_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" in cookie  # the base URL is https
    assert store.subscriber_by_email("ada@example.org").status == "active"
    preferences = client.get("/preferences?welcome=1")
    assert "ada@example.org" in preferences.text and "You are subscribed" in preferences.text
    assert len(inbox.to("ada@example.org")) == 1  # nothing but the confirmation

    again = _use(client, link, follow_redirects=False)
    assert again.status_code == 400 and "used already" in again.text


def test_forms_need_their_csrf_token(client, smtp_server):
    _, inbox = smtp_server
    assert client.post("/subscribe", data={"email": "ada@example.org"}).status_code == 400
    assert (
        client.post("/subscribe", data={"email": "ada@example.org", "csrf": "0" * 64}).status_code
        == 400
    )
    fresh = TestClient(client.app, base_url="https://testserver")
    token = _csrf(client)
    stolen = fresh.post("/subscribe", data={"email": "ada@example.org", "csrf": token})
    assert stolen.status_code == 400  # a token without its cookie is worthless
    assert inbox.received == []


def test_the_api_answers_the_same_whether_or_not_an_address_is_subscribed(
    client, smtp_server, store
):
    _, inbox = smtp_server
    body = {"email": "bo@example.org", "topics": ["dynamical systems"], "frequency": "weekly"}
    first = client.post("/api/subscribe", json=body)
    assert first.status_code == 202
    _use(client, _link(inbox, "bo@example.org", "confirm"))
    active = store.subscriber_by_email("bo@example.org")
    assert (active.status, active.preferences.frequency, active.preferences.topics) == (
        "active",
        "weekly",
        ("dynamical systems",),
    )
    second = client.post("/api/subscribe", json=body)
    assert (second.status_code, second.json()) == (first.status_code, first.json())
    assert [m["Subject"] for m in inbox.to("bo@example.org")] == [
        "Confirm your subscription to Paper Féed",
        "You are already subscribed to Paper Féed",
    ]
    form = client.post("/api/subscribe", data={"email": "cy@example.org", "frequency": "daily"})
    assert form.status_code == 202


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"email": "a@b.c\r\nBcc: x@y.z"}, "not a single email address"),
        ({"email": "a@b.org, c@d.org"}, "not a single email address"),
        ({"email": ""}, "please give an email address"),
        ({"email": "a@b.org", "frequency": "hourly"}, "frequency must be one of"),
        ({"email": "a@b.org", "topics": 5}, "topics must be"),
        ({"email": "a@b.org", "timezone": "Mars/Olympus"}, "time zone must be a name like"),
        ({"email": "a@b.org", "timezone": "../../etc/passwd"}, "time zone must be a name like"),
    ],
)
def test_the_api_refuses_bad_input_with_json_400s(client, smtp_server, payload, message):
    _, inbox = smtp_server
    response = client.post("/api/subscribe", json=payload)
    assert response.status_code == 400 and message in response.json()["error"]
    assert inbox.received == []
    assert (
        client.post(
            "/api/subscribe", content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )


def test_rate_limits_stop_mail_bombing(client, smtp_server):
    _, inbox = smtp_server
    answers = [
        client.post("/api/subscribe", json={"email": "victim@example.org"}).status_code
        for _ in range(8)
    ]
    assert answers == [202] * 8  # the same answer, so nothing is revealed...
    assert len(inbox.to("victim@example.org")) == 5  # ...but only five mails went out
    for n in range(12):
        client.post("/api/subscribe", json={"email": f"other{n}@example.org"})
    limited = client.post("/api/subscribe", json={"email": "one-more@example.org"})
    assert limited.status_code == 429 and "try again" in limited.json()["error"]


def test_one_click_unsubscribe_needs_no_cookie_and_get_changes_nothing(
    client, smtp_server, store, mail_settings
):
    _, inbox = smtp_server
    client.post("/api/subscribe", json={"email": "dee@example.org"})
    _use(client, _link(inbox, "dee@example.org", "confirm"))
    subscriber = store.subscriber_by_email("dee@example.org")
    url = list_links(mail_settings, subscriber, datetime.now(UTC)).unsubscribe
    path = url.removeprefix("https://papers.example.org")

    scanned = TestClient(client.app).get(path)
    assert scanned.status_code == 200 and "Unsubscribe" in scanned.text
    assert store.subscriber_by_email("dee@example.org").status == "active"

    provider = TestClient(client.app)  # a mail provider: no cookies, RFC 8058 body
    one_click = provider.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert (one_click.status_code, one_click.text) == (200, "unsubscribed")
    assert store.subscriber_by_email("dee@example.org").status == "unsubscribed"
    assert provider.post(path, content=b"List-Unsubscribe=One-Click").status_code == 200
    forged = provider.post(path[:-3] + "abc", content=b"List-Unsubscribe=One-Click")
    assert forged.status_code == 400


def test_preferences_by_signed_link_and_signed_in(client, smtp_server, store, mail_settings):
    _, inbox = smtp_server
    client.post("/api/subscribe", json={"email": "eve@example.org"})
    _use(client, _link(inbox, "eve@example.org", "confirm"))
    subscriber = store.subscriber_by_email("eve@example.org")
    link = list_links(mail_settings, subscriber, datetime.now(UTC)).preferences
    path = link.removeprefix("https://papers.example.org")
    other = TestClient(client.app, base_url="https://testserver")
    page = other.get(path)
    assert page.status_code == 200 and "eve@example.org" in page.text
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    saved = other.post(
        path,
        data={
            "csrf": token,
            "frequency": "weekly",
            "topics": "graph neural networks\nrobot grasping",
            "categories": "cs.LG cs.RO",
            "max_papers": "7",
            "weekdays_only": "1",
        },
    )
    assert saved.status_code == 200 and "Saved." in saved.text
    prefs = store.subscriber_by_email("eve@example.org").preferences
    assert (prefs.frequency, prefs.topics, prefs.categories, prefs.max_papers) == (
        "weekly",
        ("graph neural networks", "robot grasping"),
        ("cs.LG", "cs.RO"),
        7,
    )
    bad = other.post(path, data={"csrf": token, "max_papers": "500"})
    assert bad.status_code == 400 and "between 1 and 50" in bad.text
    stop = client.post("/preferences", data={"csrf": _csrf(client, "/preferences"), "stop": "1"})
    assert "You are unsubscribed" in stop.text
    assert store.subscriber_by_email("eve@example.org").status == "unsubscribed"


def test_passwordless_sign_in_and_sign_out(client, smtp_server, store):
    _, inbox = smtp_server
    asked = client.post(
        "/signin", data={"email": "fay@example.org", "csrf": _csrf(client, "/signin")}
    )
    assert "Check your inbox" in asked.text
    (mail,) = inbox.to("fay@example.org")
    assert mail["Subject"] == "Your sign-in link for Paper Féed"
    link = _link(inbox, "fay@example.org", "signin")
    assert "Sign in" in client.get(link).text
    assert not store.subscriber_by_email("fay@example.org").is_account  # opening it did nothing
    assert "fay" not in link  # the link names a row, not the address
    signed = _use(client, link, follow_redirects=False)
    assert signed.status_code == 303
    page = client.get("/preferences")
    assert "fay@example.org" in page.text and 'value="paused" checked' in page.text
    assert "fay@example.org" in client.get("/").text  # shown in the header
    session = client.cookies["pf_session"]
    out = client.post("/signout", data={"csrf": _csrf(client)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/preferences", follow_redirects=False).status_code == 303
    assert _use(client, link).status_code == 400  # single use
    # A copy of the old cookie (a shared computer, a stolen cookie) is signed out too.
    copy = TestClient(client.app, base_url="https://testserver", cookies={"pf_session": session})
    assert copy.get("/preferences", follow_redirects=False).status_code == 303


def _signed_in(client, inbox, address: str) -> TestClient:
    """A second browser, signed in to `address` through its own sign-in link."""
    browser = TestClient(client.app, base_url="https://testserver")
    browser.post("/signin", data={"email": address, "csrf": _csrf(browser, "/signin")})
    link = _link(inbox, address, "signin")
    _use(browser, link)
    assert browser.get("/preferences", follow_redirects=False).status_code == 200
    return browser


def test_sign_out_everywhere_ends_every_session_of_the_account(client, smtp_server, store):
    _, inbox = smtp_server
    laptop = _signed_in(client, inbox, "gus@example.org")
    phone = _signed_in(client, inbox, "gus@example.org")
    other = _signed_in(client, inbox, "hal@example.org")
    page = laptop.get("/preferences")
    assert "Sign out everywhere" in page.text
    laptop.post("/signout/everywhere", data={"csrf": _csrf(laptop, "/preferences")})
    for browser in (laptop, phone):
        assert browser.get("/preferences", follow_redirects=False).status_code == 303
    assert other.get("/preferences", follow_redirects=False).status_code == 200  # not theirs
    assert store.subscriber_by_email("gus@example.org").is_account  # the account stays


def test_the_dev_outbox_shows_what_was_sent(store, settings, tmp_path, fake_embedder):
    dev = dataclasses.replace(
        settings, dev=True, secret_key="secret-for-the-outbox-test-0123456789"
    )
    app = build_web_app(store, dev, tmp_path, fake_embedder)
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        client.post("/api/subscribe", json={"email": "gil@example.org"})
        listing = client.get("/outbox")
        assert listing.status_code == 200 and "gil@example.org" in listing.text
        name = re.search(r'href="/outbox/([^"]+)"', listing.text).group(1)
        shown = client.get(f"/outbox/{name}")
        assert "Confirm your subscription" in shown.text and "<iframe" in shown.text
        assert client.get("/outbox/../../etc/passwd").status_code in (400, 404)
    # A client on another machine (a dev server behind a proxy, say) never sees the outbox.
    with TestClient(app, client=("203.0.113.9", 50000)) as stranger:
        assert stranger.get("/outbox").status_code == 404
        assert stranger.get(f"/outbox/{name}").status_code == 404
    plain = dataclasses.replace(settings, secret_key=dev.secret_key)
    with TestClient(build_web_app(store, plain, tmp_path / "b", fake_embedder)) as client:
        assert client.get("/outbox").status_code == 404


def test_a_subscription_by_api_with_topics_brings_a_digest_with_those_topics(
    client, smtp_server, store, mail_settings, tmp_path, fake_embedder
):
    from datetime import date

    from paperfeed.digest.send import send_digests

    _, inbox = smtp_server
    answer = client.post(
        "/api/subscribe",
        json={
            "email": "topical@example.org",
            "topics": ["dynamical systems"],
            "frequency": "daily",
            "max_papers": 2,
            "timezone": "Europe/Paris",
        },
    )
    assert answer.status_code == 202
    assert _use(client, _link(inbox, "topical@example.org", "confirm")).status_code == 200
    subscriber = store.subscriber_by_email("topical@example.org")
    assert subscriber.preferences.topics == ("dynamical systems",)
    assert subscriber.preferences.timezone == "Europe/Paris"
    searcher = fake_searcher(store, tmp_path / "digest-keyword", fake_embedder)
    now = datetime(2026, 6, 25, 6, tzinfo=UTC)
    send_digests(store, searcher, mail_settings, now, date(2026, 6, 25))
    digest = inbox.to("topical@example.org")[-1]
    assert digest["Subject"].startswith("Trending papers — 25 Jun 2026: Learning nonlinear")
    text = digest.get_body(("plain",)).get_content()
    assert "trending: 12 upvotes" in text
    assert "== Your topic: dynamical systems ==" in text
    assert "Koopman operators for dynamical systems" in text
    assert 'matches your topic "dynamical systems"' in text


def test_a_form_on_another_site_cannot_sign_a_visitor_in(client, smtp_server, store):
    """Login CSRF: the attacker's own links, posted from their page without our cookie."""
    _, inbox = smtp_server
    attacker = TestClient(client.app, base_url="https://testserver")
    attacker.post("/signin", data={"email": "mal@example.org", "csrf": _csrf(attacker, "/signin")})
    signin = _link(inbox, "mal@example.org", "signin")
    attacker.post("/api/subscribe", json={"email": "mal2@example.org"})
    confirm = _link(inbox, "mal2@example.org", "confirm")
    victim = TestClient(client.app, base_url="https://testserver")
    for link in (signin, confirm):
        forged = victim.post(link, follow_redirects=False)  # no CSRF token: a cross-site form
        assert forged.status_code == 400 and "pf_session" not in forged.headers.get(
            "set-cookie", ""
        )
        stolen = victim.post(link, data={"csrf": _csrf(attacker, link)}, follow_redirects=False)
        assert stolen.status_code == 400  # the attacker's token is tied to the attacker's cookie
    assert store.subscriber_by_email("mal2@example.org").status == "pending"
    assert store.subscriber_by_email("mal@example.org") is None or not (
        store.subscriber_by_email("mal@example.org").is_account
    )


@pytest.mark.parametrize("smtputf8", [True, False])
def test_internationalised_addresses_subscribe_and_get_their_mail(
    store, mail_settings, tmp_path, fake_embedder, smtputf8
):
    """`user@bücher.de` is mailed as user@xn--bcher-kva.de; `ü@example.com` needs a server
    with SMTPUTF8 and, without one, fails as undeliverable: never a 500."""
    from aiosmtpd.controller import Controller

    from conftest import free_port
    from paperfeed.mail.mailer import deliver_due, transport_for
    from smtp_sink import Inbox

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=smtputf8)
    controller.start()
    try:
        settings = dataclasses.replace(
            mail_settings, smtp_url=f"smtp://127.0.0.1:{controller.port}"
        )
        app = build_web_app(store, settings, tmp_path, fake_embedder)
        with TestClient(app, base_url="https://testserver") as client:
            for address in ("ü@example.com", "user@bücher.de", "Ünïcode@bücher.de"):
                response = client.post("/api/subscribe", json={"email": address})
                assert response.status_code == 202, response.text
            signin = client.post(
                "/signin", data={"email": "ü@example.com", "csrf": _csrf(client, "/signin")}
            )
            assert signin.status_code == 200
        deliver_due(store, transport_for(settings), datetime.now(UTC) + timedelta(minutes=1))
        assert store.subscriber_by_email("user@bücher.de").email == "user@bücher.de"  # as typed
        (punycode,) = inbox.to("user@xn--bcher-kva.de")
        assert punycode["To"] == "user@xn--bcher-kva.de"
        unicode_mail = inbox.to("ü@example.com") + inbox.to("Ünïcode@xn--bcher-kva.de")
        assert len(unicode_mail) == (3 if smtputf8 else 0)
        if not smtputf8:  # refused for good, said why, and not retried forever
            failed = query_one(store, "SELECT count(*) FROM outgoing_mail WHERE status = 'bounced'")
            assert failed == 3
    finally:
        controller.stop()


HOSTILE_ADDRESSES = [
    "<script>alert(1)</script>@example.org",
    '"><img src=x onerror=alert(1)>@example.org',
    "ev\u202elive@example.org",  # a bidi override
    "nul\x00l@example.org",
    "a@example.org\r\nBcc: victim@example.org",
    "=?utf-8?b?YWRtaW4=?=@example.org",  # would show as "admin@..." in some mail clients
    "x" * 1_000 + "@example.org",
    "javascript:alert(1)//@example.org",
]


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES)
def test_hostile_addresses_get_a_clear_400_and_are_never_shown_raw(
    client, smtp_server, store, address
):
    _, inbox = smtp_server
    api = client.post("/api/subscribe", json={"email": address})
    assert api.status_code == 400 and api.json()["error"]
    form = client.post("/subscribe", data={"email": address, "csrf": _csrf(client)})
    signin = client.post("/signin", data={"email": address, "csrf": _csrf(client, "/signin")})
    for page in (form, signin):
        assert page.status_code == 400
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "\u202e" not in page.text and "\x00" not in page.text
    assert inbox.received == []
    assert store.subscriber_by_email(address.replace("\x00", "")[:300]) is None
