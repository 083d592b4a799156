"""Submitting a paper over HTTP, against a replay server standing in for arXiv's Atom API: an
unknown paper is fetched, listed and named everywhere; refusals are clear and write nothing."""

import dataclasses
import re
import threading

import pytest
from fastapi.testclient import TestClient

from conftest import FIXTURES, build_web_app, csrf_token, query_one, sign_in
from paperfeed.models import Featured
from replay import Reply

FUZZING = "2005.14124"  # the first entry of atom_id_list.xml, published 2020-05-28
FUZZING_TITLE = "Active Fuzzing for Testing and Securing Cyber-Physical Systems"
CATALOG = "2606.10001"  # one of conftest's WEB_PAPERS


def one_entry_feed(index: int) -> bytes:
    """atom_id_list.xml with only its `index`th entry: what arXiv answers for one id."""
    xml = (FIXTURES / "atom_id_list.xml").read_text()
    head, *entries = xml.split("  <entry>")
    entry = entries[index].split("  </entry>")[0]
    head = head.replace("<opensearch:totalResults>3<", "<opensearch:totalResults>1<")
    return f"{head}  <entry>{entry}  </entry>\n</feed>\n".encode()


EMPTY = (FIXTURES / "atom_empty.xml").read_bytes()


@pytest.fixture
def arxiv(replay):
    replay.route("/api/query", Reply(one_entry_feed(0)), id_list=FUZZING)
    replay.route("/api/query", Reply(one_entry_feed(1)), id_list="astro-ph/0601001")
    replay.route("/api/query", Reply(EMPTY), id_list="2606.99999")
    return replay


def _app(store, mail_settings, tmp_path, fake_embedder, arxiv, **changes):
    # The recorded papers are from 2006-2020: a window that takes them, unless changed.
    changes = {"submit_window_days": 100_000, **changes}
    settings = dataclasses.replace(mail_settings, arxiv_api_url=f"{arxiv.url}/api/query", **changes)
    return build_web_app(store, settings, tmp_path, fake_embedder)


@pytest.fixture
def app(store, mail_settings, tmp_path, fake_embedder, arxiv):
    return _app(store, mail_settings, tmp_path, fake_embedder, arxiv)


@pytest.fixture(autouse=True)
def _clients():
    """Readers' clients, closed (their app's lifespan ended) after the test."""
    yield
    while _OPEN:
        _OPEN.pop().__exit__(None, None, None)


_OPEN: list[TestClient] = []


def _reader(app, inbox, address: str, name: str | None) -> TestClient:
    client = TestClient(app, base_url="https://testserver")
    _OPEN.append(client.__enter__())
    sign_in(client, inbox, address)
    if name:
        data = {"csrf": csrf_token(client), "public_name": name}
        assert client.post("/account/name", data=data, follow_redirects=False).status_code == 303
    return client


def _submit(client: TestClient, text: str, **headers: str):
    data = {"csrf": csrf_token(client, "/submit"), "paper": text}
    return client.post("/submit", data=data, headers=headers, follow_redirects=False)


def _counts(store) -> tuple[object, object]:
    return (
        query_one(store, "SELECT count(*) FROM submissions"),
        query_one(store, "SELECT count(*) FROM papers"),
    )


def test_an_unknown_paper_is_fetched_listed_and_named_everywhere(app, smtp_server, store, arxiv):
    _, inbox = smtp_server
    ada = _reader(app, inbox, "ada@example.org", "ada.l")
    page = ada.get("/submit").text
    assert 'href="/submit" aria-current="page">Submit a paper' in page
    assert "Up to 100000 days after its arXiv date" in page and "5 more today" in page

    done = _submit(ada, f"https://arxiv.org/abs/{FUZZING}v2")

    assert done.status_code == 303
    assert done.headers["location"] == f"/papers/{FUZZING}?submitted=1"
    assert [r.params["id_list"] for r in arxiv.requests] == [FUZZING]
    paper = ada.get(done.headers["location"]).text
    assert FUZZING_TITLE in paper and 'role="status">Submitted' in paper
    assert 'submitted by <a href="/submitters/ada.l">ada.l</a>' in paper
    listed = ada.get("/papers/date/2020-05-28").text
    assert FUZZING_TITLE in listed and 'href="/submitters/ada.l">ada.l</a>' in listed
    assert "4 more today" in ada.get("/submit").text
    own = ada.get("/submitters/ADA.L").text  # signed in: with the reader's own marks
    assert "Submitted by ada.l" in own and FUZZING_TITLE in own
    with TestClient(app, base_url="https://testserver") as anyone:
        (item,) = anyone.get("/api/daily_papers", params={"date": "2020-05-28"}).json()
        assert item["submittedBy"] == {
            "user": "ada.l",
            "name": "ada.l",
            "fullname": "ada.l",
            "type": "user",
            "via": "paperfeed",
        }
        assert item["paper"]["submittedOnDailyAt"].endswith("T00:00:00.000Z")
        mine = anyone.get("/api/daily_papers", params={"submitter": "ADA.L"}).json()
        assert [i["paper"]["id"] for i in mine] == [FUZZING]
        assert (
            anyone.get("/api/daily_papers", params={"submitter": "akhaliq"}).json()[0][
                "submittedBy"
            ]["via"]
            == "huggingface"
        )
        # Its words are searchable at once, as after an ingest (its vector: the embed job).
        found = anyone.get("/api/papers/search", params={"q": "active fuzzing"}).json()
        assert FUZZING in [i["paper"]["id"] for i in found]
        assert FUZZING_TITLE in anyone.get("/submitters/ada.l").text
        assert anyone.get("/submitters/akhaliq").status_code == 404  # HF's: no page here


def test_old_style_ids_and_other_pages_name_papers_too(app, smtp_server, store, arxiv):
    _, inbox = smtp_server
    ada = _reader(app, inbox, "ada@example.org", "ada")
    assert _submit(ada, "  https://arxiv.org/pdf/astro-ph/0601001v1.pdf ").status_code == 303
    assert store.submission_of("astro-ph/0601001").submitter == "ada"
    json = _submit(ada, f"https://huggingface.co/papers/{FUZZING}", accept="application/json")
    assert json.json() == {
        "paper": FUZZING,
        "submittedBy": "ada",
        "day": store.submission_of(FUZZING).day.isoformat(),
        "fetched": True,
    }


def test_a_paper_in_the_catalog_is_not_fetched_and_is_submitted_once(
    app, smtp_server, store, arxiv
):
    _, inbox = smtp_server
    ada = _reader(app, inbox, "ada@example.org", "ada")
    bob = _reader(app, inbox, "bob@example.org", "bob")
    assert _submit(ada, f"arXiv:{CATALOG}").status_code == 303
    assert arxiv.requests == []
    day = store.submission_of(CATALOG).day.isoformat()

    again = _submit(bob, CATALOG)

    assert again.status_code == 409
    assert f"{CATALOG} was already submitted by ada on {day}" in again.text
    as_json = _submit(bob, CATALOG, accept="application/json")
    assert as_json.status_code == 409
    assert as_json.json()["submittedBy"] == "ada" and as_json.json()["day"] == day
    assert store.submission_of(CATALOG).subscriber_id == store.subscriber_by_public_name("ada").id
    # A renamed reader shows the new name everywhere at once.
    data = {"csrf": csrf_token(ada), "public_name": "ada.renamed"}
    ada.post("/account/name", data=data, follow_redirects=False)
    assert "ada.renamed</a>" in bob.get("/papers/date/2026-06-24").text


def test_too_old_says_its_date(store, mail_settings, tmp_path, fake_embedder, arxiv, smtp_server):
    _, inbox = smtp_server
    app = _app(store, mail_settings, tmp_path, fake_embedder, arxiv, submit_window_days=14)
    ada = _reader(app, inbox, "ada@example.org", "ada")
    before = _counts(store)

    old = _submit(ada, FUZZING)
    catalogued = _submit(ada, CATALOG)

    assert old.status_code == 400
    assert f"{FUZZING} is from 2020-05-28" in old.text and "up to 14 days after" in old.text
    assert catalogued.status_code == 400 and "is from 2026-06-25" in catalogued.text
    assert _counts(store) == before  # the fetched paper was not kept either


def test_a_reader_submits_at_most_the_day_s_limit(
    store, mail_settings, tmp_path, fake_embedder, arxiv, smtp_server
):
    _, inbox = smtp_server
    app = _app(store, mail_settings, tmp_path, fake_embedder, arxiv, submit_per_day=2)
    ada = _reader(app, inbox, "ada@example.org", "ada")
    assert _submit(ada, "2606.10001").status_code == 303
    assert _submit(ada, "2606.10002").status_code == 303

    third = _submit(ada, FUZZING)

    assert third.status_code == 429
    assert "you have submitted 2 papers today" in third.text.lower()
    assert re.search(r"submit again from \d{4}-\d\d-\d\d 00:00 UTC", third.text)
    assert arxiv.requests == []  # refused before arXiv was asked
    assert store.submission_of(FUZZING) is None and "0 more today" in ada.get("/submit").text


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "give an arXiv id"),
        ("hello world", "is not an arXiv id"),
        ("<script>alert(1)</script>", "is not an arXiv id"),
        ("https://example.org/abs/2606.10001", "is not an arXiv id"),
        ("2606.100", "is not an arXiv id"),
        ("x" * 10_000, "that is 10,000 characters"),
        ("2606.99999", "arXiv has no paper 2606.99999"),
    ],
)
def test_texts_that_name_no_paper_get_a_reason(app, smtp_server, store, text, said):
    _, inbox = smtp_server
    ada = _reader(app, inbox, "ada@example.org", "ada")
    before = _counts(store)

    refused = _submit(ada, text)

    assert refused.status_code in (400, 404)
    assert said.lower() in refused.text.lower()  # the page starts it with a capital
    assert "<script>alert" not in refused.text and len(refused.text) < 20_000
    assert _counts(store) == before
    as_json = _submit(ada, text, accept="application/json")
    assert said in as_json.json()["error"]


@pytest.mark.parametrize("failure", ["503", "timeout", "cut"])
def test_arxiv_down_is_said_and_nothing_is_half_written(
    store, mail_settings, tmp_path, fake_embedder, replay, smtp_server, failure
):
    _, inbox = smtp_server
    release = threading.Event()
    reply = {
        "503": Reply(b"busy", status=503),
        "timeout": Reply(hold=release, drop=True),
        "cut": Reply(one_entry_feed(0), cut_at=200),
    }[failure]
    replay.route("/api/query", reply)
    app = _app(store, mail_settings, tmp_path, fake_embedder, replay, request_timeout_s=0.3)
    ada = _reader(app, inbox, "ada@example.org", "ada")
    before = _counts(store)
    try:
        down = _submit(ada, FUZZING)
    finally:
        release.set()

    assert down.status_code == 503
    assert "nothing was saved" in down.text or "cut short" in down.text
    assert 'value="2005.14124"' in down.text  # the form keeps what was typed
    assert _counts(store) == before and store.featured_for(FUZZING) == []


def test_submitting_needs_a_reader_with_a_name_a_token_and_a_pause(app, smtp_server, store):
    _, inbox = smtp_server
    with TestClient(app, base_url="https://testserver") as anonymous:
        assert anonymous.get("/submit", follow_redirects=False).headers["location"] == "/signin"
        data = {"csrf": csrf_token(anonymous), "paper": CATALOG}
        posted = anonymous.post("/submit", data=data, follow_redirects=False)
        assert posted.status_code == 303 and posted.headers["location"] == "/signin"
        assert "Submit a paper" not in anonymous.get("/").text
    nameless = _reader(app, inbox, "cy@example.org", None)
    page = nameless.get("/submit").text
    assert 'action="/account/name"' in page and 'name="paper"' not in page
    assert _submit(nameless, CATALOG).status_code == 403
    ada = _reader(app, inbox, "ada@example.org", "ada")
    forged = ada.post("/submit", data={"csrf": "0" * 32, "paper": CATALOG})
    assert forged.status_code == 400
    codes = [_submit(ada, "not an id").status_code for _ in range(31)]
    assert codes[:30] == [400] * 30 and codes[30] == 429
    assert query_one(store, "SELECT count(*) FROM submissions") == 0


def test_hugging_face_names_are_escaped_and_said_to_be_theirs(app, smtp_server, store):
    store.upsert_featured(
        [Featured("2606.10003", store.get_paper("2606.10003").listed, "hf-daily", 1, 0, "<b>x</b>")]
    )
    with TestClient(app, base_url="https://testserver") as anyone:
        page = anyone.get("/papers/date/2026-06-25").text
        assert "submitted by &lt;b&gt;x&lt;/b&gt; via Hugging Face" in page
        assert "<b>x</b>" not in page
        paper = anyone.get("/papers/2606.10003").text
        assert "&lt;b&gt;x&lt;/b&gt; via Hugging Face" in paper


def test_names_no_one_can_have_find_nothing(app, store):
    with TestClient(app, base_url="https://testserver") as anyone:
        for name in ("\x00", "a\x00b", "x" * 5000, "%", "<b>"):
            answer = anyone.get("/api/daily_papers", params={"submitter": name})
            assert (answer.status_code, answer.json()) == (200, [])
        for path in ("/submitters/%00", "/submitters/a%00b", "/submitters/admin", "/submitters/x"):
            assert anyone.get(path).status_code == 404
