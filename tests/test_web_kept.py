"""Kept answers (web/caching.py): lists built once per change are fresh the moment another
process changes them, and no reader ever gets another reader's page, account or CSRF token."""

import json
import re
import subprocess
import sys
import textwrap

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import build_web_app, sign_in, start_server
from paperfeed.web.caching import MARKER
from paperfeed.web.security import CSRF_COOKIE, _csrf_value

LATEST = "2026-07-01"  # the bundled sample's last day


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    """`paperfeed serve --workers 2` over the bundled sample: two processes, two caches."""
    folder = tmp_path_factory.mktemp("kept")
    server, url = start_server(folder, "--workers", "2", sample=True)
    yield folder, url
    server.terminate()
    server.wait(timeout=20)


def _many(url: str, times: int = 8) -> list[httpx.Response]:
    # Fresh connections, so both workers answer some of them.
    return [httpx.get(url, timeout=10) for _ in range(times)]


def test_a_kept_list_changes_right_after_an_ingest_in_another_process(two_workers):
    folder, url = two_workers
    before = _many(f"{url}/")
    assert all("1 July 2026" in r.text for r in before)
    assert len({r.headers["etag"].split("-")[0] for r in before}) == 1  # one kept page
    paper = {
        "id": "2607.99001",
        "title": "Kept Pages Follow Their Lists",
        "abstract": "A paper ingested by another process while the front page is kept.",
        "authors": ["Ada Lovelace"],
        "categories": ["cs.DB"],
        "published": "2026-07-02",
    }
    source = folder / "new.jsonl"
    source.write_text(json.dumps(paper) + "\n")
    env = {"PAPERFEED_DATABASE_URL": f"sqlite:///{folder / 'paperfeed.db'}"}
    ingest = [sys.executable, "-m", "paperfeed", "ingest", "--no-embed", str(source)]
    subprocess.run(ingest, env={**_environ(), **env}, check=True, capture_output=True)
    after = _many(f"{url}/")
    assert all("Kept Pages Follow Their Lists" in r.text for r in after)
    api = _many(f"{url}/api/daily_papers")
    assert all(r.json()[0]["paper"]["id"] == "2607.99001" for r in api)


def test_a_kept_list_changes_right_after_a_vote_in_another_process(two_workers):
    folder, url = two_workers
    day = f"{url}/api/daily_papers?date={LATEST}"
    first = httpx.get(day, timeout=10).json()[0]["paper"]
    counts = {r.json()[0]["paper"]["upvotes"] for r in _many(day)}
    assert counts == {first["upvotes"]}
    vote = textwrap.dedent(
        f"""
        from datetime import UTC, datetime
        from paperfeed.models import Preferences
        from paperfeed.storage import open_store
        store = open_store("sqlite:///{folder / "paperfeed.db"}")
        now = datetime.now(UTC)
        reader = store.create_subscriber("voter@example.org", Preferences(), now)
        pk = store.pks_for_ids(["{first["id"]}"])["{first["id"]}"]
        store.set_vote(reader.id, pk, True, now)
        store.close()
        """
    )
    subprocess.run([sys.executable, "-c", vote], env=_environ(), check=True, capture_output=True)
    counts = {
        next(i["paper"]["upvotes"] for i in r.json() if i["paper"]["id"] == first["id"])
        for r in _many(day)
    }
    assert counts == {first["upvotes"] + 1}
    page = _many(f"{url}/papers/{first['id']}")
    assert all(f"▲ {first['upvotes'] + 1}" in r.text for r in page)


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


# -- readers ------------------------------------------------------------------------------


@pytest.fixture
def app(store, mail_settings, tmp_path, fake_embedder):
    return build_web_app(store, mail_settings, tmp_path, fake_embedder)


PAGES = ["/", "/papers/date/2026-06-24", "/papers/2606.10002", "/search?q=dynamics", "/docs"]


def test_no_reader_gets_another_readers_page_or_token(app, mail_settings, smtp_server):
    _, inbox = smtp_server
    with (
        TestClient(app, base_url="https://testserver") as ada,
        TestClient(app, base_url="https://testserver") as bob,
        TestClient(app, base_url="https://testserver") as carol,
        TestClient(app, base_url="https://testserver") as dan,
    ):
        sign_in(ada, inbox, "ada@example.org")
        sign_in(bob, inbox, "bob@example.org")
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', ada.get("/").text)[1]
        voted = ada.post("/papers/2606.10002/vote", data={"csrf": token, "on": "1"})
        assert voted.status_code == 200
        readers = {"ada": ada, "bob": bob, "carol": carol, "dan": dan}
        kept_digests: dict[str, set[str]] = {}
        for _ in range(3):  # anonymous readers' pages are kept, signed-in ones are not
            for name, client in readers.items():
                for path in PAGES:
                    answer = client.get(path)
                    assert answer.status_code == 200, (name, path)
                    page = answer.text
                    assert MARKER not in page
                    own = _csrf_value(mail_settings, client.cookies[CSRF_COOKIE])
                    tokens = set(re.findall(r'name="csrf" value="([^"]+)"', page))
                    assert tokens <= {own}, (name, path)
                    for other in ("ada", "bob"):
                        shown = f"{other}@example.org" in page
                        assert shown == (other == name), (name, path, other)
                    if path != "/docs":  # every other page shows papers
                        vote_forms = '<form class="vote"' in page
                        assert vote_forms == (name in ("ada", "bob")), (name, path)
                    if path == "/papers/2606.10002":
                        assert ('class="votes voted"' in page) == (name == "ada")
                    if name in ("carol", "dan"):
                        kept = answer.headers["etag"].rsplit("-", 1)[0]
                        kept_digests.setdefault(path, set()).add(kept)
        # Both anonymous readers were served one kept page per path (with their own token).
        assert all(len(digests) == 1 for digests in kept_digests.values())


def test_a_first_visit_to_a_kept_page_gets_a_working_csrf_cookie(app, mail_settings):
    with TestClient(app, base_url="https://testserver") as warm:
        warm.get("/")  # the page is kept now
    with TestClient(app, base_url="https://testserver") as fresh:
        page = fresh.get("/")
        assert "set-cookie" in page.headers and page.headers["cache-control"].startswith("private")
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)[1]
        assert token == _csrf_value(mail_settings, fresh.cookies[CSRF_COOKIE])
        signin = fresh.post("/signin", data={"email": "eve@example.org", "csrf": token})
        assert signin.status_code == 200 and "expired" not in signin.text


def test_a_kept_answer_answers_if_modified_since_and_head(app):
    with TestClient(app, base_url="https://testserver") as client:
        first = client.get("/api/daily_papers")
        stamp = first.headers["last-modified"]
        again = client.get("/api/daily_papers", headers={"If-Modified-Since": stamp})
        assert again.status_code == 304 and again.content == b""
        older = client.get(
            "/api/daily_papers", headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
        )
        assert older.status_code == 200 and older.json() == first.json()
        head = client.head("/api/daily_papers")
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == first.headers["content-length"]
        assert head.headers["etag"] == first.headers["etag"]


def test_a_signed_in_readers_page_follows_its_lists_too(app, store, smtp_server, database_url):
    from datetime import date

    from paperfeed.models import Featured
    from paperfeed.storage import open_store

    _, inbox = smtp_server
    with TestClient(app, base_url="https://testserver") as ada:
        sign_in(ada, inbox, "ada@example.org")
        before = ada.get("/papers/date/2026-06-24").text
        count = '<span class="count">77</span>'  # her vote button shows the count
        assert "ada@example.org" in before and count not in before
        other = open_store(database_url, migrate=False)  # another writer than the server's
        try:
            other.upsert_featured([Featured("2606.10001", date(2026, 6, 24), "hf-daily", 77)])
        finally:
            other.close()
        assert count in ada.get("/papers/date/2026-06-24").text
        assert count in ada.get("/papers/2606.10001").text


def _caching(app):
    """The app's HttpCaching layer (Starlette builds the middleware stack on first use)."""
    from paperfeed.web.caching import HttpCaching

    layer = app.middleware_stack
    while layer is not None and not isinstance(layer, HttpCaching):
        layer = getattr(layer, "app", None)
    return layer


def test_distinct_searches_never_push_the_kept_lists_out(app):
    with TestClient(app, base_url="https://testserver") as anyone:
        anyone.get("/")
        caching = _caching(app)
        caching.searches.max_entries = 2  # a small shelf, filled many times over
        for n, path in enumerate(["/search?q=", "/api/papers/search?q=", "/feeds/search?q="] * 3):
            assert anyone.get(f"{path}dynamics {n}").status_code == 200
        assert len(caching.searches.answers) == 2
        assert [key[0] for key in caching.lists.answers] == ["/"]  # the front page stayed
        hits = caching.hits
        anyone.get("/")
        assert caching.hits == hits + 1
