"""A paper's discussion over HTTP: post, reply, edit and delete one's own, follow it by mail;
hostile text escaped, links nofollow ugc, math kept; CSRF, sign-in and rates; counts in lists
and the API; anonymous pages see a new comment at once."""

import dataclasses
import re

import pytest
from fastapi.testclient import TestClient

from conftest import build_web_app, csrf_token, sign_in

PAPER = "2606.10002"  # 3 comments on Hugging Face in the catalog's featured rows
PAGE = f"/papers/{PAPER}"


@pytest.fixture
def app(store, mail_settings, tmp_path, fake_embedder):
    return build_web_app(store, mail_settings, tmp_path, fake_embedder)


def _named(client: TestClient, inbox, address: str, name: str) -> None:
    sign_in(client, inbox, address)
    data = {"csrf": csrf_token(client), "public_name": name}
    assert client.post("/account/name", data=data, follow_redirects=False).status_code == 303


def _post(client: TestClient, text: str, path: str = "/comments", **fields: str):
    data = {"csrf": csrf_token(client, PAGE), "text": text, **fields}
    return client.post(PAGE + path, data=data, follow_redirects=False)


def _comment_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<article class="comment[^"]*" id="comment-(\d+)"', html)]


def test_a_reader_posts_replies_edits_and_deletes_their_own(app, smtp_server, store):
    _, inbox = smtp_server
    with (
        TestClient(app, base_url="https://testserver") as ada,
        TestClient(app, base_url="https://testserver") as bob,
    ):
        _named(ada, inbox, "ada@example.org", "ada.l")
        _named(bob, inbox, "bob@example.org", "bob")
        posted = _post(ada, "Nice *result*: $\\alpha_1 * \\beta_2$")
        assert posted.status_code == 303
        top = int(posted.headers["location"].split("#comment-")[1])
        assert posted.headers["location"] == f"{PAGE}#comment-{top}"
        reply = bob.post(
            PAGE + "/comments",
            data={"csrf": csrf_token(bob, PAGE), "text": "Agreed", "parent": str(top)},
            headers={"accept": "application/json"},
        ).json()["comment"]
        assert (reply["parentId"], reply["author"]) == (top, "bob")

        page = bob.get(PAGE).text
        assert _comment_ids(page) == [top, reply["id"]]
        assert "<em>result</em>" in page and "$\\alpha_1 * \\beta_2$" in page
        assert "ada.l" in page and "ada@example.org" not in page
        assert f'action="{PAGE}/comments/{top}/edit"' not in page  # not bob's to edit
        assert (
            bob.post(
                f"{PAGE}/comments/{top}/edit",
                data={"csrf": csrf_token(bob, PAGE), "text": "mine now"},
            ).status_code
            == 404
        )
        assert (
            bob.post(
                f"{PAGE}/comments/{top}/delete", data={"csrf": csrf_token(bob, PAGE)}
            ).status_code
            == 404
        )

        edited = _post(ada, "Nice result, **edited**", f"/comments/{top}/edit")
        assert edited.status_code == 303
        page = ada.get(PAGE).text
        assert "<strong>edited</strong>" in page and ">edited</span>" in page
        assert _post(ada, "", f"/comments/{top}/delete").status_code == 303
        page = ada.get(PAGE).text
        assert "deleted by its author" in page and "Agreed" in page  # the reply keeps its place
        assert "1 comment here" in page
        assert "3 comments on Hugging Face" in page
        assert 'href="https://huggingface.co/papers/2606.10002"' in page


def test_hostile_text_is_escaped_and_links_are_nofollow_ugc(app, smtp_server):
    _, inbox = smtp_server
    hostile = (
        "<script>alert(1)</script> <img src=x onerror=alert(2)> "
        "[x](javascript:alert(3)) [ok](https://example.org/a?b=1&c=2) "
        '<a href="javascript:alert(4)">raw</a> ![i](https://example.org/i.png) '
        "$$\\href{javascript:alert(5)}{x}$$"
    )
    with TestClient(app, base_url="https://testserver") as ada:
        _named(ada, inbox, "ada@example.org", "ada.l")
        assert _post(ada, hostile).status_code == 303
        for client in (ada, TestClient(app, base_url="https://testserver")):
            page = client.get(PAGE).text
            body = page.split('class="comment-body tex">')[1].split("</div>")[0]
            assert (
                "<script>" not in body and "<img" not in body and '<a href="javascript' not in body
            )
            assert "&lt;script&gt;" in body and "&lt;img" in body
            assert 'href="javascript' not in body.lower()
            links = re.findall(r"<a [^>]*>", body)
            assert links == [
                '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow ugc noopener">',
                '<a href="https://example.org/i.png" rel="nofollow ugc noopener">',
            ]
            assert "$$\\href{javascript:alert(5)}{x}$$" in body  # math for KaTeX (trust off)


def test_too_long_or_empty_comments_are_refused_and_the_text_is_kept(app, smtp_server, store):
    _, inbox = smtp_server
    with TestClient(app, base_url="https://testserver") as ada:
        _named(ada, inbox, "ada@example.org", "ada.l")
        long_text = "<b>x</b>" * 700  # 5,600 characters: over the 5,000 cap
        refused = _post(ada, long_text)
        assert refused.status_code == 400
        assert "at most 5,000 characters; this one has 5,600" in refused.text
        assert "&lt;b&gt;x&lt;/b&gt;" * 5 in refused.text  # the draft, escaped, to fix
        assert "<b>x</b>" not in refused.text
        assert _post(ada, "   ").status_code == 400
        as_json = ada.post(
            PAGE + "/comments",
            data={"csrf": csrf_token(ada, PAGE), "text": " "},
            headers={"accept": "application/json"},
        )
        assert as_json.status_code == 400 and "needs some text" in as_json.text
        huge = ada.post(PAGE + "/comments", data={"csrf": "x", "text": "y" * 100_000})
        assert huge.status_code == 413
        pk = store.pks_for_ids([PAPER])[PAPER]
        assert store.comments_of(pk) == []


def test_commenting_needs_a_sign_in_a_token_a_public_name_and_a_pause(app, smtp_server, store):
    _, inbox = smtp_server
    with TestClient(app, base_url="https://testserver") as ada:
        page = ada.get(PAGE).text
        assert 'href="/signin">Sign in</a> to join the discussion' in page
        data = {"csrf": csrf_token(ada), "text": "hello"}
        anonymous = ada.post(PAGE + "/comments", data=data, follow_redirects=False)
        assert anonymous.status_code == 303 and anonymous.headers["location"] == "/signin"
        sign_in(ada, inbox, "ada@example.org")
        page = ada.get(PAGE).text
        assert 'action="/account/name"' in page and 'class="comment-form"' not in page
        nameless = _post(ada, "hello")
        assert nameless.status_code == 400 and "pick a public name first" in nameless.text
        data = {"csrf": csrf_token(ada), "public_name": "ada.l"}
        ada.post("/account/name", data=data)
        forged = ada.post(PAGE + "/comments", data={"csrf": "0" * 32, "text": "hi"})
        assert forged.status_code == 400
        codes = [_post(ada, f"comment {n}").status_code for n in range(30)]
        # 30 posts an hour, the refused nameless one among them
        assert codes[:29] == [303] * 29 and codes[29] == 429
        assert len(store.comments_of(store.pks_for_ids([PAPER])[PAPER])) == 29


def test_counts_reach_cards_the_api_and_anonymous_pages_at_once(app, smtp_server):
    _, inbox = smtp_server
    with (
        TestClient(app, base_url="https://testserver") as ada,
        TestClient(app, base_url="https://testserver") as anyone,
    ):
        assert "No comments yet." in anyone.get(PAGE).text  # kept for anyone now
        day = anyone.get("/api/daily_papers?date=2026-06-24").json()
        assert {item["paper"]["id"]: item["numComments"] for item in day}[PAPER] == 0
        _named(ada, inbox, "ada@example.org", "ada.l")
        _post(ada, "first!")
        _post(ada, "second")

        page = anyone.get(PAGE).text
        assert "first!" in page and "2 comments here" in page
        day = anyone.get("/api/daily_papers?date=2026-06-24").json()
        assert {item["paper"]["id"]: item["numComments"] for item in day}[PAPER] == 2
        assert anyone.get(f"/api/papers/{PAPER}").json()["numComments"] == 2
        listed = anyone.get("/papers/date/2026-06-24").text
        assert f'href="{PAGE}#discussion"' in listed and "2 comments" in listed

        answer = anyone.get(f"/api/papers/{PAPER}/comments")
        assert answer.status_code == 200
        data = answer.json()
        assert data["paperId"] == PAPER and data["numComments"] == 2
        assert [c["text"] for c in data["comments"]] == ["first!", "second"]
        assert data["comments"][0]["html"] == "<p>first!</p>\n"
        missing = anyone.get("/api/papers/2606.99999/comments")
        assert missing.status_code == 404 and "error" in missing.json()


def test_following_by_mail_is_a_toggle(app, smtp_server, store):
    _, inbox = smtp_server
    with TestClient(app, base_url="https://testserver") as ada:
        _named(ada, inbox, "ada@example.org", "ada.l")
        ada_id = store.subscriber_by_email("ada@example.org").id
        pk = store.pks_for_ids([PAPER])[PAPER]
        assert "Follow this discussion (email)" in ada.get(PAGE).text
        data = {"csrf": csrf_token(ada, PAGE), "on": "1"}
        assert ada.post(PAGE + "/follow", data=data, follow_redirects=False).status_code == 303
        assert store.discussion_mail_on(ada_id, pk)
        assert "Stop emails about this discussion" in ada.get(PAGE).text
        data["on"] = "0"
        ada.post(PAGE + "/follow", data=data)
        assert not store.discussion_mail_on(ada_id, pk)
        _post(ada, "with mail", follow="1")
        assert store.discussion_mail_on(ada_id, pk)


@pytest.fixture
def operated(store, mail_settings, tmp_path, fake_embedder):
    settings = dataclasses.replace(mail_settings, operators="op@example.org")
    return build_web_app(store, settings, tmp_path, fake_embedder)


def test_operators_hide_and_show_comments_and_readers_others_get_403(operated, smtp_server, store):
    _, inbox = smtp_server
    with (
        TestClient(operated, base_url="https://testserver") as op,
        TestClient(operated, base_url="https://testserver") as troll,
        TestClient(operated, base_url="https://testserver") as anyone,
    ):
        _named(op, inbox, "op@example.org", "carol")
        _named(troll, inbox, "troll@example.org", "troll")
        kept = int(_post(op, "a good comment").headers["location"].split("-")[-1])
        bad = int(_post(troll, "spam one").headers["location"].split("-")[-1])
        _post(troll, "spam two", parent=str(kept))
        troll_id = store.subscriber_by_email("troll@example.org").id
        page = troll.get(PAGE).text
        assert "Moderate" not in page and "/hide" not in page
        refused = troll.post(f"{PAGE}/comments/{kept}/hide", data={"csrf": csrf_token(troll, PAGE)})
        assert refused.status_code == 403
        as_json = troll.post(
            f"/readers/{troll_id}/unhide",
            data={"csrf": csrf_token(troll, PAGE)},
            headers={"accept": "application/json"},
        )
        assert as_json.status_code == 403 and "only operators" in as_json.json()["error"]
        assert "Only operators" in refused.text

        data = {"csrf": csrf_token(op, PAGE), "reason": "spam <b>"}
        hidden = op.post(f"{PAGE}/comments/{bad}/hide", data=data, follow_redirects=False)
        assert hidden.status_code == 303 and hidden.headers["location"].endswith(f"#comment-{bad}")
        assert store.hidden_items()[0].reason == "spam <b>"
        assert "spam one" not in anyone.get(PAGE).text and "spam two" in anyone.get(PAGE).text
        seen = op.get(PAGE).text
        assert "spam one" in seen and ">hidden</span>" in seen and "Show again" in seen

        data = {"csrf": csrf_token(op, PAGE), "next": f"{PAGE}#comment-{kept}"}
        op.post(f"/readers/{troll_id}/hide", data=data)
        page = anyone.get(PAGE).text
        assert "spam two" not in page and "1 comment here" in page
        assert "spam" not in anyone.get(f"{PAGE}/discussion.atom").text
        assert anyone.get(f"/api/papers/{PAPER}/comments").json()["numComments"] == 1
        assert "Show this reader again" in op.get(PAGE).text

        op.post(f"/readers/{troll_id}/unhide", data=data)
        op.post(f"{PAGE}/comments/{bad}/unhide", data={"csrf": csrf_token(op, PAGE)})
        assert "3 comments here" in anyone.get(PAGE).text
        assert store.hidden_items() == []


def test_the_discussion_feed_lists_visible_comments_newest_first(app, smtp_server):
    import feedparser

    _, inbox = smtp_server
    with TestClient(app, base_url="https://testserver") as ada:
        _named(ada, inbox, "ada@example.org", "ada.l")
        _post(ada, "older <script>x</script> [l](https://example.org)")
        _post(ada, "newer $x^2$")
        answer = TestClient(app, base_url="https://testserver").get(f"{PAGE}/discussion.atom")
    assert answer.headers["content-type"].startswith("application/atom+xml")
    assert "<script>" not in answer.text
    feed = feedparser.parse(answer.content)
    assert feed.bozo == 0
    assert [e.title for e in feed.entries] == ["Comment by ada.l", "Comment by ada.l"]
    newest, oldest = feed.entries
    assert newest.content[0].value.strip() == "<p>newer $x^2$</p>"
    assert "&lt;script&gt;" in oldest.content[0].value
    assert 'rel="nofollow ugc noopener"' in oldest.content[0].value
    assert newest.link.startswith("https://papers.example.org/papers/2606.10002#comment-")
    assert feed.feed.title.endswith("discussion of Learning nonlinear dynamics from data")


def test_old_style_ids_have_their_discussion_too(app, smtp_server):
    _, inbox = smtp_server
    old = "/papers/hep-th/9901001"
    with TestClient(app, base_url="https://testserver") as ada:
        _named(ada, inbox, "ada@example.org", "ada.l")
        data = {"csrf": csrf_token(ada, old), "text": "an old paper"}
        posted = ada.post(old + "/comments", data=data, follow_redirects=False)
        assert posted.status_code == 303 and posted.headers["location"].startswith(
            old + "#comment-"
        )
        assert "an old paper" in ada.get(old).text
        assert "an old paper" in ada.get(old + "/discussion.atom").text
        assert ada.get("/api/papers/hep-th/9901001/comments").json()["numComments"] == 1
