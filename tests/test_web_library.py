"""The library over HTTP: save, not interested, read, notes, collections (private, shared by
link), and "for you" with its reasons; other readers see none of it."""

import re

import pytest
from fastapi.testclient import TestClient

from conftest import build_web_app, csrf_token, sign_in


@pytest.fixture
def app(store, mail_settings, tmp_path, fake_embedder):
    return build_web_app(store, mail_settings, tmp_path, fake_embedder)


def _post(client: TestClient, path: str, **data: str):
    return client.post(path, data={"csrf": csrf_token(client), **data}, follow_redirects=False)


@pytest.fixture
def ada(app, smtp_server):
    _, inbox = smtp_server
    with TestClient(app, base_url="https://testserver") as client:
        sign_in(client, inbox, "ada@example.org")
        yield client


def test_saving_a_paper_puts_it_in_the_reading_list_and_marks_it_everywhere(ada):
    answer = _post(ada, "/papers/2606.10002/save", next="/papers/date/2026-06-24")
    assert answer.status_code == 303 and answer.headers["location"] == "/papers/date/2026-06-24"
    day = ada.get("/papers/date/2026-06-24").text
    assert 'aria-pressed="true">Saved</button>' in day
    library = ada.get("/library").text
    assert "Reading list" in library and "(1 paper)" in library
    reading = re.search(r'href="(/library/\d+)">Reading list', library)[1]
    page = ada.get(reading).text
    assert "Learning nonlinear dynamics from data" in page
    taken_back = ada.post(
        "/papers/2606.10002/save",
        data={"csrf": csrf_token(ada), "on": "0"},
        headers={"Accept": "application/json"},
    )
    assert taken_back.json() == {"saved": False, "collection": int(reading.rsplit("/", 1)[1])}
    assert "(0 papers)" in ada.get("/library").text


def test_collections_notes_read_marks_and_search_within(ada):
    made = _post(ada, "/library", name="Dynamics")
    assert made.status_code == 303
    collection = made.headers["location"]
    cid = collection.rsplit("/", 1)[1]
    assert _post(ada, "/library", name="  dynamics ").headers["location"] == collection
    for paper in ("2606.10001", "2606.10002"):
        _post(ada, f"/papers/{paper}/save", collection=cid)
    _post(ada, "/papers/2606.10001/note", note="Koopman <b>notes</b> & more")
    _post(ada, "/papers/2606.10001/read", on="1")
    page = ada.get(collection).text
    assert "2 papers" in page and "Koopman &lt;b&gt;notes&lt;/b&gt; &amp; more" in page
    assert 'aria-pressed="true">Read</button>' in page
    found = ada.get(collection, params={"q": "koopman notes"}).text
    assert "1 paper matching" in found and "Learning nonlinear dynamics" not in found
    renamed = _post(ada, f"{collection}/rename", name="Koopman and friends")
    assert renamed.status_code == 303 and "Koopman and friends" in ada.get(collection).text
    too_long = _post(ada, f"{collection}/rename", name="x" * 101)
    assert too_long.status_code == 400
    assert _post(ada, f"{collection}/delete").headers["location"] == "/library"
    assert ada.get(collection).status_code == 404


def test_a_collection_is_private_until_shared_and_private_again(ada, app, smtp_server):
    _, inbox = smtp_server
    collection = _post(ada, "/library", name="Shared reading").headers["location"]
    _post(ada, "/papers/2606.10005/save", collection=collection.rsplit("/", 1)[1])
    with TestClient(app, base_url="https://testserver") as bob:
        sign_in(bob, inbox, "bob@example.org")
        assert bob.get(collection).status_code == 404  # another reader's: not found
        stolen = _post(bob, "/papers/2606.10001/save", collection=collection.rsplit("/", 1)[1])
        assert stolen.status_code == 404
        shared = ada.post(
            f"{collection}/share",
            data={"csrf": csrf_token(ada), "on": "1"},
            headers={"Accept": "application/json"},
        ).json()["shared"]
        link = shared.removeprefix("https://papers.example.org")
        with TestClient(app, base_url="https://testserver") as anyone:
            page = anyone.get(link)
            assert page.status_code == 200 and "Vision transformers at scale" in page.text
            assert "Remove from" not in page.text and "Delete this collection" not in page.text
            _post(ada, f"{collection}/share", on="0")
            assert anyone.get(link).status_code == 404


def test_not_signed_in_readers_are_sent_tosign_in(app):
    with TestClient(app, base_url="https://testserver") as anyone:
        assert anyone.get("/library", follow_redirects=False).headers["location"] == "/signin"
        assert anyone.get("/for-you", follow_redirects=False).headers["location"] == "/signin"
        answer = anyone.post(
            "/papers/2606.10001/save",
            data={"csrf": csrf_token(anyone)},
            headers={"Accept": "application/json"},
        )
        assert answer.status_code == 401
        assert anyone.post("/papers/2606.10001/save", data={}).status_code == 400  # no token
        assert "Not interested" not in anyone.get("/").text


def test_for_you_recommends_with_reasons_and_leaves_out_saved_and_dismissed(ada):
    empty = ada.get("/for-you").text
    assert "Nothing yet" in empty
    _post(ada, "/papers/2606.10001/save")
    page = ada.get("/for-you", params={"all": "1"}).text
    reasons = re.findall(r'<span class="why">like “([^”]*)”</span>', page)
    assert reasons and set(reasons) == {"Koopman operators for dynamical systems"}
    shown = re.findall(r'<h2 class="paper-title tex">\s*<a href="/papers/([^"]+)"', page)
    assert "2606.10001" not in shown  # saved: not suggested again
    first = shown[0]
    _post(ada, f"/papers/{first}/dismiss")
    again = ada.get("/for-you", params={"all": "1"}).text
    again_shown = re.findall(r'<h2 class="paper-title tex">\s*<a href="/papers/([^"]+)"', again)
    assert first not in again_shown and len(again_shown) == len(shown) - 1
    _post(ada, f"/papers/{first}/dismiss", on="0")
    assert first in ada.get("/for-you", params={"all": "1"}).text


def test_follows_bring_their_new_papers_first_each_with_its_reason(ada):
    author = ada.get("/authors/Ada Lovelace").text
    assert 'aria-pressed="false">Follow</button>' in author
    followed = _post(ada, "/follow", kind="author", value="Ada Lovelace", next="/authors/x")
    assert followed.status_code == 303 and followed.headers["location"] == "/authors/x"
    assert 'aria-pressed="true">Following</button>' in ada.get("/authors/Ada Lovelace").text
    _post(ada, "/follow", kind="category", value="cs.CV")
    _post(ada, "/follow", kind="search", value="dynamics")
    page = ada.get("/for-you").text
    assert "From what you follow" in page
    reasons = set(re.findall(r'<span class="why">([^<]*)</span>', page))
    assert "by Ada Lovelace, whom you follow" in reasons  # the first follow wins
    library = ada.get("/library").text
    assert "Stop following" in library and "cs.CV" in library
    _post(ada, "/follow", kind="author", value="Ada Lovelace", on="0")
    page = ada.get("/for-you").text
    reasons = set(re.findall(r'<span class="why">([^<]*)</span>', page))
    assert "in cs.CV, which you follow" in reasons
    assert "by Ada Lovelace, whom you follow" not in reasons
    assert _post(ada, "/follow", kind="planet", value="Mars").status_code == 400
    assert _post(ada, "/follow", kind="search", value="   ").status_code == 400


def test_private_feeds_follow_for_you_and_collections_until_revoked(ada, app):
    import feedparser

    _post(ada, "/papers/2606.10001/save")
    page = _post(ada, "/library/feed", on="1").text
    link = re.search(r"https://papers\.example\.org(/feeds/for-you/[\w-]+)</code>", page)[1]
    collection = re.search(r"https://papers\.example\.org(/feeds/collection/[\w-]+/\d+)", page)[1]
    with TestClient(app, base_url="https://testserver") as reader:  # a feed reader: no cookies
        feed = reader.get(link)
        assert feed.status_code == 200 and feed.headers["cache-control"] == "private, no-cache"
        entries = feedparser.parse(feed.content).entries
        assert entries and "2606.10001" not in {e.link.rsplit("/", 1)[1] for e in entries}
        saved = feedparser.parse(reader.get(collection).content).entries
        assert [e.link.rsplit("/", 1)[1] for e in saved] == ["2606.10001"]
        later = ada.get("/library").text
        assert link not in later and "not shown again" in later  # the link is shown once
        replaced = _post(ada, "/library/feed", on="1").text
        assert reader.get(link).status_code == 404  # the old link stopped
        new_link = re.search(
            r"https://papers\.example\.org(/feeds/for-you/[\w-]+)</code>", replaced
        )[1]
        assert reader.get(new_link).status_code == 200
        _post(ada, "/library/feed", on="0")
        assert reader.get(new_link).status_code == 404
        assert reader.get("/feeds/for-you/made-up-token").status_code == 404


def test_import_a_list_or_bibtex_and_export_as_bibtex_csv_and_json(ada, app):
    import csv
    import io
    import json

    collection = _post(ada, "/library", name="Seed").headers["location"]
    listed = ada.post(
        f"{collection}/import",
        data={
            "csrf": csrf_token(ada),
            "papers": "2606.10001\nhttps://arxiv.org/abs/2606.10002v2\n\nnot an id!\n9999.99999",
        },
        headers={"Accept": "application/json"},
    ).json()
    assert listed["added"] == 2 and listed["not_in_catalog"] == ["9999.99999"]
    assert listed["problems"] and listed["problems"][0].startswith("line 4:")
    bib = (
        "@misc{x, title={Vision}, eprint={2606.10005}, archivePrefix={arXiv}}\n"
        "@misc{y, title={No id}}"
    )
    page = ada.post(
        f"{collection}/import",
        data={"csrf": csrf_token(ada)},
        files={"file": ("refs.bib", bib.encode(), "application/x-bibtex")},
    )
    assert page.status_code == 200 and "Imported: 1 paper added" in page.text
    assert "no arXiv id" in page.text
    bibtex = ada.get(f"{collection}/export", params={"format": "bibtex"})
    assert bibtex.headers["content-disposition"] == 'attachment; filename="Seed.bib"'
    assert bibtex.text.count("@misc{") == 3 and "eprint = {2606.10005}" in bibtex.text
    assert "author = {Lovelace, Ada and Tables, Robert" in bibtex.text  # in the paper's order
    _post(ada, "/papers/2606.10001/note", note="=cmd() read first")
    rows = list(csv.DictReader(io.StringIO(ada.get(f"{collection}/export?format=csv").text)))
    assert {r["id"] for r in rows} == {"2606.10001", "2606.10002", "2606.10005"}
    assert json.loads(ada.get(f"{collection}/export?format=json").text)
    assert ada.get(f"{collection}/export?format=docx").status_code == 400
    with TestClient(app, base_url="https://testserver") as anyone:
        assert anyone.get(f"{collection}/export", follow_redirects=False).status_code == 303


def test_the_library_and_for_you_as_json(ada, app, smtp_server):
    _, inbox = smtp_server
    _post(ada, "/papers/2606.10001/save")
    _post(ada, "/papers/2606.10001/note", note="see section 3")
    _post(ada, "/follow", kind="category", value="cs.CV")
    collections = ada.get("/api/library")
    assert collections.status_code == 200
    assert collections.headers["cache-control"] == "private, no-cache"
    (reading,) = collections.json()
    assert reading["readingList"] and reading["size"] == 1 and reading["shared"] is False
    page = ada.get(f"/api/library/{reading['id']}").json()
    assert page["collection"]["id"] == reading["id"]
    assert [p["paper"]["id"] for p in page["papers"]] == ["2606.10001"]
    assert page["papers"][0]["note"] == "see section 3"
    items = ada.get("/api/for-you", params={"all": "1"}).json()
    assert items[0]["reason"] == {"text": "in cs.CV, which you follow", "likeId": None}
    liked = [i for i in items if i["reason"]["likeId"]]
    assert liked and {i["reason"]["likeId"] for i in liked} == {"2606.10001"}
    assert all(i["score"] is not None for i in liked)
    assert "2606.10001" not in {i["paper"]["id"] for i in items}
    assert ada.get("/api/library/x").status_code == 400
    with TestClient(app, base_url="https://testserver") as bob:
        assert bob.get("/api/library").json() == {"error": "sign in to see your library"}
        assert bob.get("/api/for-you").status_code == 401
        sign_in(bob, inbox, "bob@example.org")
        stranger = bob.get(f"/api/library/{reading['id']}")
        assert stranger.status_code == 404 and "error" in stranger.json()
    schema = ada.get("/openapi.json").json()
    assert {"/api/library", "/api/library/{collection_id}", "/api/for-you"} <= set(schema["paths"])
