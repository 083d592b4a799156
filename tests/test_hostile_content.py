"""Hostile content wherever it can be shown: XSS, raw HTML, LaTeX bombs, bidi overrides, null
bytes and 1 MB payloads in titles, abstracts, authors, comments, search queries and topics.

The catalog is ingested through the real pipeline (caps and cleaning included), plus one paper
written straight to the store, as a database filled before the caps may hold. Then every page,
feed, API answer, Markdown view and mail that shows them is parsed (html5lib, as a browser
parses) and checked: no payload becomes markup, no answer is a 5xx, no render takes 100 ms.
"""

import dataclasses
import json
import re
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import html5lib
import pytest
from fastapi.testclient import TestClient
from markdown_it import MarkdownIt

from conftest import fake_searcher, make_paper
from paperfeed.ingest.pipeline import ingest_sources
from paperfeed.mail.mailer import outbox_dir
from paperfeed.models import MAX_TITLE_CHARS, Featured
from paperfeed.web.app import create_app

PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "img": '"><img src=x onerror=alert(1)>',
    "svg": "'><svg/onload=alert(1)>",
    "javascript-url": "javascript:alert(1)",
    "a-javascript": '<a href="javascript:alert(1)">click</a>',
    "markdown-link": "[click](javascript:alert(1)) ![x](javascript:alert(1)) <javascript:x>",
    "raw-html": "<b>bold</b><iframe src=//evil.example></iframe><style>*{display:none}</style>",
    "attribute": '" onmouseover="alert(1)" x="',
    "closers": "</textarea></title></script></style><script>alert(1)</script><!--",
    "latex-rule": r"$\rule{300em}{300em}$ \(\rule{300em}{300em}\)",
    "latex-expand": r"$\def\a{\a\a}\a\a$ $\def\b{\b}\b$",
    "latex-trust": r"$\href{javascript:alert(1)}{x}$ $\url{javascript:alert(1)}$ $\htmlId{x}{y}$",
    "latex-unclosed": "\\(" * 20_000,  # 40 KB: seconds of regex backtracking before
    "latex-nesting": "\\emph{" * 3_000 + "$" + "{" * 3_000 + "$$" * 2_000,
    "bidi": "\u202egnp.exe\u202c \u2067isolate",
    "nul": "a\x00b\x00<script>alert(1)</script>",
    "noncharacters": "\ufffe\uffff title",
    "markers": "@@why@@ @@subject@@ @@blocks@@ @@sections@@ \x00why\x00",
    "template": "{{ 7*7 }} {% raw %} ${7*7} #{7*7}",
    "crlf": "x\r\nBcc: victim@example.org\r\n\r\n<script>alert(1)</script>",
    "megabyte": ("<script>alert(1)</script> $x$ \\( <b>" * 30_000)[:1_000_000],
}
# Payload markup that may never appear as it is in HTML (only escaped).
RAW_MARKUP = (
    "<script>alert",
    "<img",
    "<svg",
    "<iframe src=//evil",
    "<style>",
    "<b>bold",
    '<a href="java',
)
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "srcdoc", "xlink:href", "poster")
BAD_SCHEME = re.compile(r"\s*(javascript|vbscript|data):", re.I)
BUDGET_S = 0.1
# The digest's render runs once, cold, so it cannot be the best of three: with the cores shared
# (two pytest processes) it took 0.13 s. It is here to catch hostile text that blows a render up
# (seconds), not to time it: bench/digest_compose.py does that.
COLD_BUDGET_S = 0.5
TODAY = datetime.now(UTC).date()
TEMPLATES = Path(__file__).resolve().parents[1] / "src/paperfeed"


def _tags(*folders: str) -> frozenset[str]:
    """Every element name the templates in `folders` write, and what html5lib adds."""
    names = {"html", "head", "body", "tbody"}
    for folder in folders:
        for template in (TEMPLATES / folder).glob("*.html"):
            names |= {
                t.lower() for t in re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", template.read_text())
            }
    return frozenset(names)


PAGE_TAGS = _tags("web/templates") | {"mark", "em", "strong", "code", "u"}  # + rendering.marked
MAIL_TAGS = _tags("mail/templates", "digest/templates")


class Timings:
    """Each render's time: the best of up to three tries, so a busy machine is not blamed."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def get(self, client: TestClient, url: str, **kwargs):
        best, response = float("inf"), None
        for _ in range(3):
            started = time.perf_counter()
            response = client.get(url, **kwargs)
            best = min(best, time.perf_counter() - started)
            if best < BUDGET_S:
                break
        assert response.status_code < 500, (url, response.status_code, response.text[:300])
        self.seconds[url[:120]] = best
        return response

    def check(self) -> None:
        """Fails on any render of BUDGET_S or more; prints the figures (`pytest -s`)."""
        times = sorted(self.seconds.values())
        slowest = max(self.seconds, key=self.seconds.__getitem__)
        print(
            f"\n{len(times)} renders: median {times[len(times) // 2] * 1000:.1f} ms, "
            f"max {times[-1] * 1000:.1f} ms ({slowest[:70]})"
        )
        slow = {url: round(s, 3) for url, s in self.seconds.items() if s >= BUDGET_S}
        assert not slow, slow


def check_html(html: str, where: str, tags: frozenset[str], styles: bool = False) -> None:
    """`html` holds no payload as markup: only the templates' elements, our scripts only, no
    event handlers, no javascript: URLs (and no style attributes, on pages)."""
    for markup in RAW_MARKUP:
        assert markup not in html, (where, markup)
    for element in html5lib.parse(html, namespaceHTMLElements=False).iter():
        assert isinstance(element.tag, str), (where, "a comment")  # no template writes one
        tag = element.tag.lower()
        assert tag in tags, (where, tag)
        if tag == "script":
            assert element.get("src", "").startswith("/static/"), (where, element.attrib)
            assert not (element.text or "").strip(), where
        for name, value in element.attrib.items():
            name = name.lower()
            assert not name.startswith("on"), (where, tag, name)
            assert styles or name != "style", (where, tag)
            if name in URL_ATTRIBUTES:
                assert not BAD_SCHEME.match(value), (where, tag, name, value)
        if tag == "iframe":  # the dev outbox shows a mail's HTML in a sandboxed frame
            assert "allow-scripts" not in element.get("sandbox", "allow-scripts"), where
            check_html(element.get("srcdoc", ""), f"{where} (frame)", MAIL_TAGS, styles=True)


def _records() -> list[dict]:
    records = []
    for n, (name, payload) in enumerate(PAYLOADS.items(), 1):
        records.append(
            {
                "id": f"2607.{n:05d}",
                "title": f"{payload} title {name}",
                "abstract": f"{payload} abstract {name}",
                "authors": [payload, "Ada Lovelace"],
                "comment": payload,
                "categories": ["cs.LG", payload[:40]],
                "published": TODAY.isoformat(),
            }
        )
    # Authors at their caps: 10,000 names of 300 characters are cut to 200,000 in all.
    records.append(
        {
            "id": "2607.09999",
            "title": "Many authors",
            "abstract": "x",
            "authors": [f"<b>{n}</b>" + "A" * 290 for n in range(10_000)],
            "published": TODAY.isoformat(),
        }
    )
    # Ids that would put links elsewhere are refused.
    for bad in ("x/../../outbox", "<script>", "a//b", "javascript:alert(1)"):
        records.append({"id": bad, "title": "bad id", "published": TODAY.isoformat()})
    return records


LEGACY = "2607.08888"


def _build(store, settings, tmp_path, fake_embedder, legacy: bool):
    path = tmp_path / "hostile.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _records()))
    report = ingest_sources(store, [str(path)], settings)
    assert (report.added, report.skipped) == (len(PAYLOADS) + 1, 4), report.problems
    if legacy:
        # Written before there were caps: a 1 MB title and abstract, as they are.
        huge = PAYLOADS["megabyte"]
        store.upsert_papers([make_paper(LEGACY, title=huge, abstract=huge, listed=TODAY)])
    store.upsert_featured(
        [Featured(f"2607.{n:05d}", TODAY, "hf-daily", n) for n in range(1, len(PAYLOADS) + 1)]
    )
    settings = dataclasses.replace(settings, dev=True)
    searcher = fake_searcher(store, tmp_path / "keyword", fake_embedder)
    with TestClient(create_app(settings, store, searcher), base_url="https://testserver") as client:
        yield client, store, searcher, settings, Timings()


@pytest.fixture
def world(store, mail_settings, tmp_path, fake_embedder):
    """The hostile catalog and a paper stored before the caps; the app over them (dev mode,
    fixed secret); a Timings."""
    yield from _build(store, mail_settings, tmp_path, fake_embedder, legacy=True)


@pytest.fixture
def data_world(store, mail_settings, tmp_path, fake_embedder):
    """The same without the paper stored before the caps: the API serves stored data as it is,
    and its 2 MB take ~100 ms to send (ingesting the paper again cuts it)."""
    yield from _build(store, mail_settings, tmp_path, fake_embedder, legacy=False)


def _ids(store) -> list[str]:
    ids = [f"2607.{n:05d}" for n in range(1, len(PAYLOADS) + 1)] + ["2607.09999"]
    return ids + ([LEGACY] if store.pks_for_ids([LEGACY]) else [])


def test_every_page_shows_hostile_content_as_text(world):
    client, store, _, _, timings = world
    week = TODAY.isocalendar()
    urls = [
        "/",
        f"/papers/date/{TODAY.isoformat()}",
        f"/papers/week/{week.year}-W{week.week:02d}",
        f"/papers/month/{TODAY:%Y-%m}",
        "/papers/trending",
        "/search?q=title",  # every hostile paper, with highlights
        "/search?q=title&mode=keyword&sort=date",
        *(f"/papers/{paper_id}" for paper_id in _ids(store)),
    ]
    for payload in PAYLOADS.values():
        urls.append("/search?q=" + quote(payload[:2_000]))
        urls.append("/papers/" + quote(payload[:200]))  # a 404 page that echoes it
    for url in urls:
        page = timings.get(client, url)
        check_html(page.text, url, PAGE_TAGS)
    # Escaped, not lost: the payloads read as text.
    paper = client.get("/papers/2607.00001").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; title script" in paper
    bidi = client.get("/papers/2607.00015").text
    assert "\u202e" not in bidi and "gnp.exe" in bidi  # the override went at ingest
    timings.check()


ATOM = "{http://www.w3.org/2005/Atom}"
MARKDOWN_TAGS = frozenset({"html", "head", "body", "h1", "h2", "p", "strong", "em", "a"})


def test_feeds_and_markdown_show_it_as_text(world):
    client, store, _, _, timings = world
    markdown = MarkdownIt("commonmark", {"html": True})  # raw HTML passes, as in most viewers
    for paper_id in _ids(store):
        md = timings.get(client, f"/papers/{paper_id}.md")
        assert md.headers["content-type"].startswith("text/markdown")
        check_html(markdown.render(md.text), f"{paper_id}.md", MARKDOWN_TAGS)
    feeds = ["/feeds/trending", "/feeds/latest", f"/feeds/date/{TODAY.isoformat()}"]
    feeds += ["/feeds/search?q=" + quote(p[:2_000]) for p in PAYLOADS.values()]
    titles: dict[str, str] = {}
    for url in feeds:
        feed = ET.fromstring(timings.get(client, url).content)  # well-formed XML
        for element in feed.iter():
            assert element.tag.startswith(ATOM), (url, element.tag)  # no element of a payload
            assert element.get("type") in (None, "text", "text/html", "application/atom+xml")
            assert (
                element.get("href", "https://papers.example.org/").startswith(
                    "https://papers.example.org/"
                )
                or element.get("rel") == "related"
            )
        for entry in feed.iter(f"{ATOM}entry"):
            titles[entry.findtext(f"{ATOM}id")] = entry.findtext(f"{ATOM}title")
            for link in entry.iter(f"{ATOM}link"):
                assert link.get("href").startswith(
                    ("https://papers.example.org/papers/", "https://arxiv.org/abs/")
                ), (url, link.attrib)
    # Text, as it is (a text construct: feed readers escape it).
    first = store.get_paper("2607.00001").title
    assert titles["https://papers.example.org/papers/2607.00001"] == first
    assert len(titles[f"https://papers.example.org/papers/{LEGACY}"]) == MAX_TITLE_CHARS
    timings.check()


def test_the_api_serves_it_as_json_data(data_world):
    client, store, _, _, timings = data_world
    for paper_id in _ids(store):
        api = timings.get(client, f"/api/papers/{paper_id}")
        assert api.headers["content-type"] == "application/json"
        assert api.json()["title"] == store.get_paper(paper_id).title  # data, as it is
    for url in ["/api/daily_papers", "/api/daily_papers?sort=trending", "/api/papers?limit=100"]:
        assert timings.get(client, url).headers["content-type"] == "application/json"
    for payload in PAYLOADS.values():
        answer = timings.get(client, "/api/papers/search?q=" + quote(payload[:2_000]))
        assert answer.headers["content-type"] == "application/json"
    bad = timings.get(client, "/api/papers/" + quote(PAYLOADS["script"]))
    assert bad.status_code == 404 and "error" in bad.json()
    timings.check()


# Ten topics (the most a subscriber may have) of up to 200 characters; each also names a word
# of the hostile papers, so each gets a section of matches.
TOPICS = [
    f"{PAYLOADS[name][:190]} title"
    for name in ("script", "img", "svg", "a-javascript", "raw-html", "closers", "nul", "bidi")
] + ["@@why@@ @@blocks@@", "latex-unclosed " + PAYLOADS["latex-unclosed"][:150]]


def test_topics_and_the_digest_mail_hold_it_too(world, smtp_server):
    from paperfeed.digest.send import send_digests

    client, store, searcher, settings, timings = world
    _, inbox = smtp_server
    answer = client.post(
        "/api/subscribe", json={"email": "eve@example.org", "topics": TOPICS, "max_papers": 50}
    )
    assert answer.status_code == 202, answer.text
    (confirmation,) = inbox.to("eve@example.org")
    check_html(confirmation.get_body(("html",)).get_content(), "confirmation", MAIL_TAGS, True)
    link = re.search(
        r"https://papers\.example\.org(/confirm/\S+)",
        confirmation.get_body(("plain",)).get_content(),
    ).group(1)
    button = client.get(link).text  # the link's page: a button, with its CSRF token
    csrf = re.search(r'name="csrf" value="([^"]+)"', button).group(1)
    assert client.post(link, data={"csrf": csrf}).status_code == 200  # on the preferences page
    page = timings.get(client, "/preferences")
    check_html(page.text, "/preferences", PAGE_TAGS)
    # Topics are cleaned like catalog text: no NUL, no bidi override reaches a mail.
    topics = store.subscriber_by_email("eve@example.org").preferences.topics
    assert len(topics) == len(TOPICS) and not any("\x00" in t or "\u202e" in t for t in topics)

    report = send_digests(store, searcher, settings, datetime.now(UTC), TODAY)
    assert (report.composed, report.delivery.sent) == (1, 1)
    assert report.seconds["render"] < COLD_BUDGET_S, report.seconds
    digest = inbox.to("eve@example.org")[-1]
    assert digest["Bcc"] is None and "\n" not in digest["Subject"]
    assert len(digest["Subject"]) < 200
    html = digest.get_body(("html",)).get_content()
    text = digest.get_body(("plain",)).get_content().replace("\r\n", "\n")
    check_html(html, "digest", MAIL_TAGS, styles=True)
    assert "== Your topic: <script>alert(1)</script> title ==" in text
    # Each paper's reason is in its place: no title took it.
    reasons = re.findall(
        r"^(trending: \d+ upvotes?|matches your topic .*|new in .*|new this period)$", text, re.M
    )
    assert len(reasons) == len(re.findall(r"^\d+\. ", text, re.M)) > 0
    assert "\x00" not in text and "\u202e" not in text and "\u202e" not in html
    # The dev outbox shows mail (these, as they arrived) with the HTML in a sandboxed frame.
    folder = outbox_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    for number, received in enumerate(inbox.received, 1):
        (folder / f"{number:08d}-hostile.eml").write_bytes(received.data)
    local = TestClient(client.app, base_url="https://testserver", client=("127.0.0.1", 50000))
    outbox = timings.get(local, "/outbox")  # the outbox answers this machine only
    check_html(outbox.text, "/outbox", PAGE_TAGS)
    shown = re.findall(r'href="(/outbox/[^"]+)"', outbox.text)
    assert len(shown) == len(inbox.received) == 2
    for name in shown:
        check_html(timings.get(local, name).text, name, PAGE_TAGS)
    timings.check()
