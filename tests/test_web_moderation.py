"""Operators over HTTP: hide a paper (it leaves lists, search, feeds and the API; its page is
a 404 to readers), a reader, a comment; /moderation lists what is hidden; Show again; anyone
else gets a 403."""

import dataclasses

import pytest
from fastapi.testclient import TestClient

from conftest import build_web_app, csrf_token, sign_in

PAPER = "2606.10002"  # "Learning nonlinear dynamics from data", listed 2026-06-24
TITLE = "Learning nonlinear dynamics from data"


@pytest.fixture
def app(store, mail_settings, tmp_path, fake_embedder):
    settings = dataclasses.replace(mail_settings, operators="Op@example.org, other@example.org")
    return build_web_app(store, settings, tmp_path, fake_embedder)


@pytest.fixture
def clients(app, smtp_server):
    _, inbox = smtp_server
    with (
        TestClient(app, base_url="https://testserver") as op,
        TestClient(app, base_url="https://testserver") as reader,
        TestClient(app, base_url="https://testserver") as anonymous,
    ):
        sign_in(op, inbox, "op@example.org")
        sign_in(reader, inbox, "reader@example.org")
        yield op, reader, anonymous


def _post(client, path, **data):
    data = {"csrf": csrf_token(client), **data}
    return client.post(path, data=data, follow_redirects=False)


def _everywhere(client) -> dict[str, bool]:
    """Where the paper shows, for this client."""
    client.app.state.paperfeed.searcher.refresh()
    return {
        "day": TITLE in client.get("/papers/date/2026-06-24").text,
        "week": TITLE in client.get("/papers/week/2026-W26").text,
        "trending": TITLE in client.get("/papers/trending").text,
        "search": f'href="/papers/{PAPER}"' in client.get("/search?q=nonlinear+dynamics").text,
        "api daily": PAPER
        in [i["paper"]["id"] for i in client.get("/api/daily_papers?date=2026-06-24").json()],
        "api search": PAPER
        in [i["paper"]["id"] for i in client.get("/api/papers/search?q=nonlinear").json()],
        "api paper": client.get(f"/api/papers/{PAPER}").status_code == 200,
        "page": client.get(f"/papers/{PAPER}").status_code == 200,
        "feed": TITLE in client.get("/feeds/date/2026-06-24").text,
    }


def test_a_hidden_paper_leaves_every_list_and_comes_back_when_shown_again(clients):
    op, reader, anonymous = clients
    assert all(_everywhere(anonymous).values())
    page = op.get(f"/papers/{PAPER}").text
    assert "Hide this paper" in page
    assert "Hide this paper" not in reader.get(f"/papers/{PAPER}").text
    hidden = _post(
        op,
        "/moderation/hide",
        kind="paper",
        key=PAPER,
        reason="<b>spam</b>",
        next=f"/papers/{PAPER}",
    )
    assert hidden.status_code == 303 and hidden.headers["location"] == f"/papers/{PAPER}"
    for client in (anonymous, reader):
        assert not any(_everywhere(client).values())
    gone = anonymous.get(f"/api/papers/{PAPER}")
    assert gone.status_code == 404 and "hidden" in gone.json()["error"]
    assert "hidden by this site" in anonymous.get(f"/papers/{PAPER}").text
    assert _post(reader, f"/papers/{PAPER}/vote", on="1").status_code == 404
    # The operator still sees its page, marked, with Show again; and the list of what is hidden.
    page = op.get(f"/papers/{PAPER}").text
    assert "Hidden by the operators" in page and "Show this paper again" in page
    listing = op.get("/moderation").text
    assert TITLE in listing and "&lt;b&gt;spam&lt;/b&gt;" in listing and "op@example.org" in listing
    shown = _post(op, "/moderation/unhide", kind="paper", key=PAPER)
    assert shown.status_code == 303 and shown.headers["location"] == "/moderation"
    assert all(_everywhere(anonymous).values())
    assert "Nothing is hidden" in op.get("/moderation").text


def test_hiding_a_reader_is_recorded_with_their_public_name(clients, store):
    op, _, _ = clients
    who = store.subscriber_by_email("reader@example.org")
    store.set_public_name(who.id, "Mallory", who.created_at)
    answer = op.post(
        "/moderation/hide",
        data={"csrf": csrf_token(op), "kind": "reader", "key": str(who.id), "reason": "trolling"},
        headers={"Accept": "application/json"},
    )
    assert answer.json() == {"hidden": True, "new": True, "kind": "reader", "key": str(who.id)}
    assert store.hidden_keys("reader") == {str(who.id)}
    assert "Mallory &lt;reader@example.org&gt;" in op.get("/moderation").text
    again = _post(op, "/moderation/hide", kind="reader", key=str(who.id))
    assert again.status_code == 303 and len(store.hidden_items()) == 1


def test_only_operators_may_hide_or_see_what_is_hidden(clients):
    op, reader, anonymous = clients
    assert reader.get("/moderation").status_code == 403
    refused = _post(reader, "/moderation/hide", kind="paper", key=PAPER)
    assert refused.status_code == 403
    assert _post(reader, "/moderation/unhide", kind="paper", key=PAPER).status_code == 403
    signin = anonymous.get("/moderation", follow_redirects=False)
    assert signin.status_code == 303 and signin.headers["location"] == "/signin"
    assert _post(anonymous, "/moderation/hide", kind="paper", key=PAPER).status_code == 303
    forged = op.post("/moderation/hide", data={"csrf": "0" * 32, "kind": "paper", "key": PAPER})
    assert forged.status_code == 400
    assert op.app.state.paperfeed.store.hidden_items() == []


@pytest.mark.parametrize(
    ("kind", "key", "status"),
    [
        ("paper", "2606.99999", 404),
        ("paper", "not an id", 404),
        ("reader", "999999", 404),
        ("reader", "x", 404),
        ("comment", "x", 400),
        ("post", "1", 400),
        ("", "", 400),
    ],
)
def test_hiding_what_does_not_exist_says_so(clients, kind, key, status):
    op, _, _ = clients
    assert _post(op, "/moderation/hide", kind=kind, key=key).status_code == status
    too_long = _post(op, "/moderation/hide", kind="paper", key=PAPER, reason="r" * 501)
    assert too_long.status_code == 400


def test_a_hidden_comment_is_listed_with_its_words_author_and_place(clients, store):
    op, _, anonymous = clients
    who = store.subscriber_by_email("reader@example.org")
    store.set_public_name(who.id, "Mallory", who.created_at)
    pk = store.pks_for_ids([PAPER])[PAPER]
    comment = store.add_comment(
        pk, who.id, None, "Buy <cheap> pills at example.org", who.created_at
    )
    assert "cheap" in anonymous.get(f"/papers/{PAPER}").text
    assert _post(op, "/moderation/hide", kind="comment", key=str(comment.id)).status_code == 303
    assert "cheap" not in anonymous.get(f"/papers/{PAPER}").text
    listing = op.get("/moderation").text
    assert "“Buy &lt;cheap&gt; pills at example.org” by Mallory on " + TITLE in listing
    assert f'href="/papers/{PAPER}#comment-{comment.id}"' in listing


def test_a_hidden_reader_is_no_longer_named_beside_what_they_submitted(clients, store):
    op, _, anonymous = clients
    who = store.subscriber_by_email("reader@example.org")
    store.set_public_name(who.id, "Mallory", who.created_at)
    store.submit_paper(PAPER, who.id, who.created_at, 5)
    assert "submitted by <a" in anonymous.get(f"/papers/{PAPER}").text
    assert _post(op, "/moderation/hide", kind="reader", key=str(who.id)).status_code == 303
    page = anonymous.get(f"/papers/{PAPER}").text
    assert "Mallory" not in page and TITLE in page
    pk = store.pks_for_ids([PAPER])[PAPER]
    assert store.listed_by_pk([pk])[pk].submitted_here_by is None
