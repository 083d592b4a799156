"""The HTML pages through the real ASGI app."""

import re
from datetime import date

import pytest


def _titles(html: str) -> list[str]:
    return re.findall(r'<h2 class="paper-title tex">.*?<a href="/papers/([^"]+)"', html, re.S)


def test_home_shows_the_latest_day_and_the_subscribe_headline(web_client):
    page = web_client.get("/")
    assert page.status_code == 200
    assert "Get trending papers in your email inbox once a day!" in page.text
    assert "Monday 29 June 2026" in page.text
    assert _titles(page.text) == ["2606.10005", "hep-th/9901001"]  # most votes first
    assert 'href="/papers/date/2026-06-25"' in page.text  # the previous day with papers
    assert '<label for="subscribe-email">' in page.text


def test_day_week_and_month_pages_navigate(web_client):
    day = web_client.get("/papers/date/2026-06-24")
    assert _titles(day.text) == ["2606.10002", "2606.10001"]
    assert 'rel="next" href="/papers/date/2026-06-25"' in day.text
    assert 'rel="prev"' not in day.text.split('<nav class="periods"')[1].split("</nav>")[0]
    week = web_client.get("/papers/week/2026-W26")
    assert "Week 26 of 2026" in week.text and len(_titles(week.text)) == 4
    assert 'href="/papers/week/2026-W27"' in week.text
    month = web_client.get("/papers/month/2026-06")
    assert "June 2026" in month.text and len(_titles(month.text)) == 6
    empty = web_client.get("/papers/date/2026-06-26")
    assert empty.status_code == 200 and "No papers were listed on this day" in empty.text


def test_trending_explains_each_score(web_client):
    page = web_client.get("/papers/trending")
    assert _titles(page.text)[0] == "2606.10005"
    assert re.search(r'title="4 upvotes, \d+ hours old: trending score [\d.]+"', page.text)


def test_everything_from_the_catalog_is_escaped(web_client):
    for url in ("/papers/date/2026-06-25", "/papers/2606.10004", "/search?q=chaotic+systems"):
        html = web_client.get(url).text
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<b>bold</b>" not in html
        assert 'Robert "Bobby" Tables' not in html or "&#34;" in html
    paper = web_client.get("/papers/2606.10004").text
    assert "<em>Chaotic</em>" in paper  # \emph{} becomes HTML, safely


def test_queries_are_escaped_too(web_client):
    attack = '"><img src=x onerror=alert(1)>'
    html = web_client.get("/search", params={"q": attack}).text
    assert "<img src=x" not in html
    missing = web_client.get("/papers/%3Cscript%3Ealert(2)%3C%2Fscript%3E")
    assert missing.status_code == 404 and "<script>alert(2)" not in missing.text


def test_search_highlights_filters_and_sorts(web_client):
    page = web_client.get("/search", params={"q": "dynamics", "category": "cs.LG"})
    assert page.status_code == 200
    assert set(_titles(page.text)) == {"2606.10001", "2606.10002"}
    assert "<mark>dynamics</mark>" in page.text and "<mark>dynamical</mark>" in page.text
    dated = web_client.get("/search", params={"q": "systems", "since": "2026-06-25"})
    assert _titles(dated.text)[0] == "2606.10004"
    assert not {"2606.10001", "2606.10002"} & set(_titles(dated.text))  # listed on the 24th
    words = web_client.get(
        "/search", params={"q": "systems", "since": "2026-06-25", "mode": "keyword"}
    )
    assert _titles(words.text) == ["2606.10004"]
    assert web_client.get("/search", params={"q": "systems", "sort": "date"}).status_code == 200


def test_search_without_a_query_or_with_a_bad_one_helps(web_client):
    tips = web_client.get("/search")
    assert tips.status_code == 200 and "Tips" in tips.text
    nothing = web_client.get("/search", params={"q": "zzzqqq"})
    assert "No papers match" in nothing.text or _titles(nothing.text)
    bad = web_client.get("/search", params={"q": "x", "since": "yesterday"})
    assert bad.status_code == 400 and "Since must be a date like 2026-06-26" in bad.text


@pytest.mark.parametrize(
    "q", ['"', "AND", "*", "((]", "🚀", "x" * 10_000, "title:x -", "\x00", "%", "\\emph{"]
)
def test_no_query_breaks_the_search_page(web_client, q):
    assert web_client.get("/search", params={"q": q}).status_code == 200


def test_a_paper_page_has_facts_links_and_similar_papers(web_client):
    page = web_client.get("/papers/2606.10002")
    assert page.status_code == 200
    assert "Learning nonlinear dynamics from data" in page.text
    assert 'href="https://arxiv.org/abs/2606.10002"' in page.text
    assert 'href="https://arxiv.org/pdf/2606.10002"' in page.text
    assert "▲ 12" in page.text
    similar = page.text.split('id="similar-title"')[1]
    assert "/papers/2606.10002" not in similar
    assert len(_titles(similar)) == 5
    assert web_client.get("/papers/2606.10002v3").status_code == 200
    assert web_client.get("/papers/hep-th/9901001").status_code == 200


def test_unknown_papers_get_a_404_page_that_offers_search(web_client):
    page = web_client.get("/papers/2606.99999")
    assert page.status_code == 404
    assert 'role="search"' in page.text and 'value="2606.99999"' in page.text
    assert web_client.get("/no/such/page").status_code == 404


def test_markdown_of_a_paper(web_client):
    md = web_client.get("/papers/2606.10003.md")
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert md.text.startswith("# LLaMA-3 fine-tuning recipes with $\\\\mathcal{O}(n)$ memory\n")
    assert "[PDF](https://arxiv.org/pdf/2606.10003)" in md.text
    assert "(https://papers.example.org/papers/2606.10003)" in md.text
    assert web_client.get("/papers/2606.99999.md").status_code == 404


def test_bad_dates_in_urls_are_400_pages(web_client):
    for url in ("/papers/date/2026-13-40", "/papers/week/2026-W99", "/papers/month/june"):
        page = web_client.get(url)
        assert page.status_code == 400 and "That request needs fixing" in page.text
    assert web_client.get("/papers/date/2026-06-24", params={"p": "-1"}).status_code == 400


def test_assets_are_local(web_client):
    html = web_client.get("/").text
    assert not re.search(r'(src|href)="https?://(?!papers\.example\.org)[^"]+\.(js|css)', html)
    assert web_client.get("/static/style.css").status_code == 200
    docs = web_client.get("/docs")
    assert docs.status_code == 200 and "/api/daily_papers" in docs.text
    assert "cdn" not in docs.text.lower()


def test_links_to_papers_stay_under_papers_whatever_the_id(web_client, store):
    from urllib.parse import urljoin

    from conftest import make_paper

    # Ingest refuses such ids now; a database written before may still hold one.
    store.upsert_papers([make_paper("x/../../outbox", listed=date(2026, 6, 30))])
    page = web_client.get("/papers/date/2026-06-30")
    links = re.findall(r'(?:href|action)="([^"]*outbox[^"]*)"', page.text)
    assert links == ["/papers/x%2F..%2F..%2Foutbox"]
    for link in links:
        assert urljoin("https://papers.example.org/papers/date/2026-06-30", link).startswith(
            "https://papers.example.org/papers/x%2F"
        )
    feed = web_client.get("/feeds/date/2026-06-30").text
    assert "https://papers.example.org/papers/x%2F..%2F..%2Foutbox" in feed
    assert "/papers/x/../" not in feed and "/papers/x/../" not in page.text


@pytest.mark.parametrize(
    "q, path",
    [
        ("2606.10002", "/papers/2606.10002"),
        ("arXiv:2606.10002", "/papers/2606.10002"),
        ("https://arxiv.org/abs/2606.10002v2", "/papers/2606.10002"),
        ("https://arxiv.org/abs/hep-th/9901001", "/papers/hep-th/9901001"),
    ],
)
def test_a_search_for_one_papers_reference_opens_the_paper(web_client, q, path):
    page = web_client.get("/search", params={"q": q}, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == path
    assert web_client.get("/search", params={"q": q}).url.path == path


def test_a_search_for_a_doi_opens_the_paper(web_client, store):
    from conftest import make_paper

    store.upsert_papers([make_paper("2606.10009", title="Published", doi="10.1038/Nature14539")])
    web_client.app.state.paperfeed.searcher.refresh()
    page = web_client.get(
        "/search", params={"q": "doi:10.1038/nature14539"}, follow_redirects=False
    )
    assert (page.status_code, page.headers["location"]) == (303, "/papers/2606.10009")


@pytest.mark.parametrize("q", ["2606.99999", "2606.10002 dynamics", "2606.10002 2606.10001"])
def test_other_searches_with_references_show_results(web_client, q):
    page = web_client.get("/search", params={"q": q}, follow_redirects=False)
    assert page.status_code == 200
    assert f'value="{q}"' in page.text  # the search page, with the query in its box


def test_the_json_api_never_redirects(web_client):
    found = web_client.get(
        "/api/papers/search", params={"q": "arXiv:2606.10002"}, follow_redirects=False
    )
    assert found.status_code == 200 and isinstance(found.json(), list)


def test_a_search_naming_a_paper_and_words_shows_it_first_and_says_why(web_client):
    page = web_client.get("/search", params={"q": "2606.10002 transformers"})
    assert page.status_code == 200
    first = page.text.index("/papers/2606.10002")
    assert first < page.text.index("/papers/2606.10005")  # the vision transformers paper
    assert "the paper you named" in page.text
