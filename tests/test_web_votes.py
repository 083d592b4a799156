"""Upvotes over HTTP: signed-in readers vote once and can take it back; counts show everywhere
a paper does, imported Hugging Face counts included, and trending follows."""

import re

import pytest
from fastapi.testclient import TestClient

from conftest import build_web_app, csrf_token, sign_in


@pytest.fixture
def client(store, mail_settings, tmp_path, fake_embedder):
    app = build_web_app(store, mail_settings, tmp_path, fake_embedder)
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def _vote(client, paper_id: str, on: str = "1", **extra):
    data = {"csrf": csrf_token(client), "on": on, **extra}
    return client.post(f"/papers/{paper_id}/vote", data=data, follow_redirects=False)


def _api_upvotes(client, paper_id: str) -> int:
    return client.get(f"/api/papers/{paper_id}").json()["upvotes"]


def test_anonymous_readers_see_counts_and_are_asked_tosign_in(client, smtp_server):
    page = client.get("/papers/2606.10002").text
    assert 'href="/signin"' in page and "▲ 12" in page  # the imported Hugging Face count
    assert '<form class="vote"' not in page
    answer = _vote(client, "2606.10002")
    assert answer.status_code == 303 and answer.headers["location"] == "/signin"
    asked = client.post(
        "/papers/2606.10002/vote",
        data={"csrf": csrf_token(client), "on": "1"},
        headers={"Accept": "application/json"},
    )
    assert asked.status_code == 401 and asked.json() == {"error": "sign in to upvote"}
    assert _api_upvotes(client, "2606.10002") == 12


def test_a_vote_counts_once_everywhere_and_can_be_taken_back(client, smtp_server, store):
    _, inbox = smtp_server
    sign_in(client, inbox, "ada@example.org")
    answer = _vote(client, "2606.10002", next="/papers/date/2026-06-24?p=0")
    assert answer.status_code == 303 and answer.headers["location"] == "/papers/date/2026-06-24?p=0"
    assert _api_upvotes(client, "2606.10002") == 13  # 12 from Hugging Face + 1 here
    assert _vote(client, "2606.10002").status_code == 303
    assert _api_upvotes(client, "2606.10002") == 13  # once per reader

    day = client.get("/papers/date/2026-06-24").text
    assert re.search(r'aria-pressed="true"[^>]*>▲ <span class="count">13</span>', day)
    daily = client.get("/api/daily_papers", params={"date": "2026-06-24"}).json()
    assert {i["paper"]["id"]: i["paper"]["upvotes"] for i in daily}["2606.10002"] == 13
    found = client.get("/api/papers/search", params={"q": "nonlinear dynamics"}).json()
    assert {i["paper"]["id"]: i["paper"]["upvotes"] for i in found}["2606.10002"] == 13

    taken = client.post(
        "/papers/2606.10002/vote",
        data={"csrf": csrf_token(client), "on": "0"},
        headers={"Accept": "application/json"},
    )
    assert taken.json() == {"upvotes": 12, "voted": False}
    assert 'aria-pressed="false"' in client.get("/papers/2606.10002").text


def test_votes_move_trending_which_explains_itself(client, smtp_server, store):
    _, inbox = smtp_server
    for name in ("ada", "bob", "cy"):
        client.cookies.clear()
        sign_in(client, inbox, f"{name}@example.org")
        _vote(client, "2606.10005")
    trending = client.get("/api/daily_papers", params={"sort": "trending"}).json()
    top = trending[0]
    assert top["paper"]["id"] == "2606.10005" and top["paper"]["upvotes"] == 7
    assert top["trending"]["upvotes"] == 7 and top["trending"]["score"] > 0
    assert top["trending"]["ageHours"] >= 0
    page = client.get("/papers/trending").text
    assert re.search(r'title="7 upvotes, \d+ hours old: trending score [0-9.]+"', page)


def test_votes_need_csrf_a_known_paper_and_a_local_redirect(client, smtp_server):
    _, inbox = smtp_server
    sign_in(client, inbox, "dan@example.org")
    forged = client.post("/papers/2606.10001/vote", data={"on": "1"}, follow_redirects=False)
    assert forged.status_code in (400, 403)
    assert _api_upvotes(client, "2606.10001") == 0
    assert _vote(client, "2699.99999").status_code == 404
    away = _vote(client, "2606.10001", next="//evil.example/phish")
    assert away.headers["location"] == "/papers/2606.10001"
    assert _api_upvotes(client, "2606.10001") == 1
