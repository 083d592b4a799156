"""Keyphrases on cards, paper pages and in the API, through the real ASGI app."""

import html
import re
from urllib.parse import unquote_plus

from paperfeed.keywords.job import compute_keywords, keyword_method

HOSTILE = "<img src=x onerror=alert(1)> \"q\" & 'co'"


def _chips(page: str) -> list[tuple[str, str]]:
    """(href, text) of every keyphrase chip on a page, unescaped."""
    return [
        (html.unescape(href), html.unescape(text))
        for href, text in re.findall(r'<a class="keyword" href="([^"]*)">([^<]*)</a>', page)
    ]


def _card(page: str, paper_id: str) -> str:
    return page.split(f'<a href="/papers/{paper_id}">')[1].split("</article>")[0]


def test_cards_show_three_chips_the_paper_page_all_and_each_searches(web_client, store):
    before = web_client.get("/papers/date/2026-06-24").text
    assert 'class="keyword"' not in before
    embedder = web_client.app.state.paperfeed.searcher.embedder
    assert compute_keywords(store, embedder).papers == 6
    phrases = store.keywords_for_ids(["2606.10001"])["2606.10001"]
    assert len(phrases) == 5

    # The kept day page moves on: keyphrases count as a change to lists.
    day = web_client.get("/papers/date/2026-06-24").text
    card = _chips(_card(day, "2606.10001"))
    assert [text for _, text in card] == phrases[:3]
    page = web_client.get("/papers/2606.10001").text
    chips = _chips(page.split('<section class="similar"')[0])
    assert [text for _, text in chips] == phrases
    assert "<dt>Keywords</dt>" in page
    href, text = chips[0]
    assert href.startswith("/search?q=") and unquote_plus(href[len("/search?q=") :]) == f'"{text}"'
    found = web_client.get(href).text
    assert "2606.10001" in re.findall(
        r'class="paper-title tex">.*?href="/papers/([^"]+)"', found, re.S
    )


def test_chips_are_escaped_in_the_text_and_in_the_link(web_client, store):
    pk = store.pks_for_ids(["2606.10005"])["2606.10005"]
    store.save_keywords("test+method", [(pk, "h", [HOSTILE, "Vision transformers"])])
    for url in ("/papers/date/2026-06-29", "/papers/2606.10005"):
        page = web_client.get(url).text
        assert "<img src=x" not in page
        assert "&lt;img src=x onerror=alert(1)&gt; &#34;q&#34; &amp; &#39;co&#39;" in page
        href, text = _chips(page)[0]
        assert text == HOSTILE
        assert href == "/search?q=" + (
            "%22%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E%20%22q%22%20%26%20%27co%27%22"
        )
    assert web_client.get(_chips(page)[0][0]).status_code == 200


def test_the_api_returns_them_as_ai_keywords(web_client, store):
    embedder = web_client.app.state.paperfeed.searcher.embedder
    compute_keywords(store, embedder)
    stored = store.keywords_for_ids(["2606.10001", "2606.10005"])
    pk = store.pks_for_ids(["2606.10002"])["2606.10002"]
    store.save_keywords(keyword_method(embedder.model_id), [(pk, "h", [])])

    paper = web_client.get("/api/papers/2606.10001").json()
    assert paper["ai_keywords"] == stored["2606.10001"]
    assert "ai_keywords" not in web_client.get("/api/papers/2606.10002").json()
    daily = web_client.get("/api/daily_papers", params={"date": "2026-06-29"}).json()
    by_id = {item["paper"]["id"]: item["paper"] for item in daily}
    assert by_id["2606.10005"]["ai_keywords"] == stored["2606.10005"]
    search = web_client.get("/api/papers/search", params={"q": "Koopman operators"}).json()
    assert search[0]["paper"]["id"] == "2606.10001"
    assert search[0]["paper"]["ai_keywords"] == stored["2606.10001"]
    newest = web_client.get("/api/papers", params={"limit": 100}).json()
    ids = [item["paper"]["id"] for item in newest]
    everything = store.keywords_for_ids(ids)
    assert len(everything) == 5  # all six but the one with none
    assert [item["paper"].get("ai_keywords") for item in newest] == [
        everything.get(paper_id) for paper_id in ids
    ]
