"""Author pages: an author's papers and co-authors, whatever the spelling; every list links
author names there; unknown authors get a 404 page."""

import re
from urllib.parse import quote

from conftest import make_paper


def test_an_author_page_lists_their_papers_and_who_they_write_with(web_client, store):
    page = web_client.get("/authors/Ada Lovelace")
    assert page.status_code == 200
    assert "<h1>Ada Lovelace</h1>" in page.text
    assert "6 papers in the catalog" in page.text
    assert page.text.count('<article class="paper">') == 6
    # The co-author, linked to their own page, with how many papers they share.
    coauthor = quote('Robert "Bobby" Tables')
    assert f'<a href="/authors/{coauthor}">Robert &#34;Bobby&#34; Tables</a>' in page.text
    assert "(6)" in page.text
    newest_first = re.findall(r'<time datetime="([\d-]+)"', page.text)
    assert newest_first == sorted(newest_first, reverse=True)


def test_spellings_of_one_name_are_one_page(web_client, store):
    store.upsert_papers([make_paper("2606.10077", authors=("Áda LOVELACE",), title="Spelled")])
    web_client.app.state.paperfeed.searcher.refresh()
    for spelling in ("ada lovelace", "Ada  Lovelace", "ÁDA Lovelace"):
        page = web_client.get(f"/authors/{quote(spelling)}")
        assert page.status_code == 200 and "7 papers in the catalog" in page.text
        assert "<h1>Ada Lovelace</h1>" in page.text  # the spelling most papers use


def test_author_names_in_lists_and_paper_pages_link_to_their_pages(web_client):
    for path in ("/", "/papers/date/2026-06-24", "/papers/2606.10001", "/search?q=dynamics"):
        text = web_client.get(path).text
        assert '<a href="/authors/Ada%20Lovelace">Ada Lovelace</a>' in text, path


def test_an_unknown_author_is_a_404_that_says_so(web_client):
    page = web_client.get("/authors/Nobody At All")
    assert page.status_code == 404
    assert "No paper in the catalog has an author named &#39;Nobody At All&#39;" in page.text
    assert web_client.get("/authors/%20").status_code == 404
    hostile = web_client.get("/authors/" + quote("<script>alert(1)</script>"))
    assert hostile.status_code == 404 and "<script>alert(1)</script>" not in hostile.text
