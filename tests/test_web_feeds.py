"""The Atom feeds, read back with feedparser as a feed reader would."""

import feedparser


def _parse(web_client, url: str):
    response = web_client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


def test_trending_feed_has_absolute_links_and_full_entries(web_client):
    feed = _parse(web_client, "/feeds/trending")
    assert feed.version == "atom10"
    assert feed.feed.title == "paperfeed: trending papers"
    assert feed.feed.link == "https://papers.example.org/papers/trending"
    first = feed.entries[0]
    assert first.link == "https://papers.example.org/papers/2606.10005"
    assert first.title == "Vision transformers at scale"
    assert [a.name for a in first.authors] == ["Ada Lovelace", 'Robert "Bobby" Tables']
    assert [t.term for t in first.tags] == ["cs.CV"]
    assert first.summary.startswith("Vision transformers at scale. We study <b>bold</b>")
    assert any(link.href == "https://arxiv.org/abs/2606.10005" for link in first.links)


def test_daily_and_latest_feeds(web_client):
    day = _parse(web_client, "/feeds/date/2026-06-25")
    titles = [entry.title for entry in day.entries]
    assert "<script>alert(1)</script> \\emph{Chaotic} systems" in titles  # text, escaped in XML
    assert day.feed.title == "paperfeed: Thursday 25 June 2026"
    latest = _parse(web_client, "/feeds/latest")
    assert {e.link.rsplit("/papers/", 1)[1] for e in latest.entries} == {
        "2606.10005",
        "hep-th/9901001",
    }
    assert web_client.get("/feeds/date/2026-02-30").status_code == 400


def test_any_search_is_a_feed(web_client):
    feed = _parse(web_client, "/feeds/search?q=dynamics")
    assert feed.feed.link == "https://papers.example.org/search?q=dynamics"
    assert {"2606.10001", "2606.10002"} <= {e.link.rsplit("/", 1)[1] for e in feed.entries}
    odd = _parse(web_client, '/feeds/search?q=%22%3C%26%3E"')
    assert odd.feed.title.startswith("paperfeed: search for")
    assert _parse(web_client, "/feeds/search").entries == []
