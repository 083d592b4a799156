"""The Hugging Face Papers-compatible JSON API through the real ASGI app."""

from datetime import date

import pytest

from conftest import make_paper


def test_paper_by_id_has_the_hf_fields(web_client):
    data = web_client.get("/api/papers/2606.10002").json()
    assert data["id"] == "2606.10002"
    assert data["title"] == "Learning nonlinear dynamics from data"
    assert data["authors"] == [
        {"name": "Ada Lovelace", "hidden": False},
        {"name": 'Robert "Bobby" Tables', "hidden": False},
    ]
    assert data["summary"].startswith("Learning nonlinear dynamics from data. We study")
    assert data["upvotes"] == 12
    assert data["publishedAt"] == "2026-06-25T17:59:00.000Z"
    assert data["submittedOnDailyAt"] == "2026-06-24T00:00:00.000Z"
    assert data["submittedOnDailyBy"]["name"] == "akhaliq"
    assert data["categories"] == ["cs.LG"]
    assert data["links"]["pdf"] == "https://arxiv.org/pdf/2606.10002"
    assert web_client.get("/api/papers/arXiv:2606.10002v2").json()["id"] == "2606.10002"
    assert web_client.get("/api/papers/hep-th/9901001").json()["id"] == "hep-th/9901001"


def test_unknown_papers_are_json_404s(web_client):
    for url in ("/api/papers/2606.99999", "/api/papers/not-an-id!", "/api/nothing/here"):
        response = web_client.get(url)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/json"
        assert "error" in response.json()


def test_daily_papers_by_date_week_and_month(web_client):
    day = web_client.get("/api/daily_papers", params={"date": "2026-06-24"}).json()
    assert [item["paper"]["id"] for item in day] == ["2606.10002", "2606.10001"]
    first = day[0]
    assert first["publishedAt"] == "2026-06-24T00:00:00.000Z"
    assert first["title"] == first["paper"]["title"]
    # numComments counts this site's discussion (the 3 on Hugging Face show on the page)
    assert (first["numComments"], first["submittedBy"]["name"]) == (0, "akhaliq")
    week = web_client.get("/api/daily_papers", params={"week": "2026-W26"}).json()
    assert len(week) == 4
    month = web_client.get("/api/daily_papers", params={"month": "2026-06", "limit": 2, "p": 1})
    assert len(month.json()) == 2
    latest = web_client.get("/api/daily_papers").json()
    assert {item["paper"]["id"] for item in latest} == {"2606.10005", "hep-th/9901001"}
    trending = web_client.get("/api/daily_papers", params={"sort": "trending"}).json()
    assert trending[0]["paper"]["id"] == "2606.10005"
    mine = web_client.get("/api/daily_papers", params={"month": "2026-06", "submitter": "akhaliq"})
    assert [item["paper"]["id"] for item in mine.json()] == ["2606.10002"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date": "2026-13-01"}, "date must look like YYYY-MM-DD"),
        ({"week": "2026-26"}, "week must look like YYYY-Www"),
        ({"month": "06/2026"}, "month must look like YYYY-MM"),
        ({"date": "2026-06-24", "month": "2026-06"}, "at most one of date, week and month"),
        ({"limit": "0"}, "limit must be between 1 and 100"),
        ({"limit": "101"}, "limit must be between 1 and 100"),
        ({"limit": "ten"}, "limit must be a whole number"),
        ({"p": "-2"}, "p must be between 0 and"),
        ({"sort": "random"}, "sort must be one of publishedAt, trending"),
    ],
)
def test_bad_daily_parameters_are_json_400s(web_client, params, message):
    response = web_client.get("/api/daily_papers", params=params)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_search_returns_items_with_highlighted_runs(web_client):
    items = web_client.get("/api/papers/search", params={"q": "chaotic dynamics", "limit": 3})
    data = items.json()
    assert len(data) == 3
    hit = next(item for item in data if item["paper"]["id"] == "2606.10004")
    assert {"text": "Chaotic", "highlighted": True} in hit["highlightedTitle"]
    assert "".join(run["text"] for run in hit["highlightedTitle"]) == hit["title"]
    assert hit["keywordRank"] is not None
    assert web_client.get("/api/papers/search", params={"q": ""}).json() == []
    assert (
        web_client.get("/api/papers/search", params={"q": "x", "limit": "121"}).status_code == 400
    )
    assert len(web_client.get("/api/papers/search", params={"q": "x" * 5000}).json()) <= 50


def test_newest_papers_page_with_a_cursor_in_the_link_header(web_client):
    first = web_client.get("/api/papers", params={"limit": 4})
    ids = [item["paper"]["id"] for item in first.json()]
    assert ids[:2] == ["hep-th/9901001", "2606.10005"] or ids[:2] == [
        "2606.10005",
        "hep-th/9901001",
    ]
    link = first.headers["link"]
    assert link.endswith('>; rel="next"')
    rest = web_client.get(link[1 : link.index(">")])
    more = [item["paper"]["id"] for item in rest.json()]
    assert len(more) == 2 and not set(more) & set(ids)
    assert "link" not in rest.headers
    bad = web_client.get("/api/papers", params={"cursor": "not-ours"})
    assert bad.status_code == 400 and "cursor" in bad.json()["error"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/daily_papers?date=%00",
        "/api/daily_papers?week=9999-W01",
        "/api/daily_papers?month=0000-00",
        "/api/daily_papers?limit=1e3",
        "/api/papers?cursor=%FF%FE",
        "/api/papers?limit=-1",
        "/api/papers/search?q=%22((%20AND",
        "/api/papers/search?q=%F0%9F%9A%80",
        "/api/papers/%2e%2e%2f%2e%2e",
        "/api/papers/" + "9" * 500,
    ],
)
def test_no_input_gives_a_500(web_client, url):
    response = web_client.get(url)
    assert response.status_code < 500
    assert response.headers["content-type"] == "application/json"


def test_openapi_schema_describes_the_api(web_client):
    schema = web_client.get("/openapi.json").json()
    assert {
        "/api/daily_papers",
        "/api/papers/search",
        "/api/papers",
        "/api/papers/{paper_id}",
    } <= set(schema["paths"])


@pytest.mark.parametrize(
    "field",
    [
        {"frequency": 5},
        {"frequency": ["weekly"]},
        {"frequency": True},
        {"frequency": {}},
        {"topics": {}},
        {"max_papers": True},
        {"timezone": ["UTC"]},
        {"weekdays_only": {"yes": 1}},
    ],
)
def test_subscribe_api_answers_wrong_json_types_with_a_400(web_client, field):
    response = web_client.post("/api/subscribe", json={"email": "ada@example.org", **field})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize(
    "url",
    [
        "/api/daily_papers?week=9999-W52",
        "/papers/week/9999-W52",
    ],
)
def test_a_week_past_the_calendar_is_a_400(web_client, url):
    response = web_client.get(url)
    assert response.status_code == 400
    assert "ends after 9999-12-31" in response.text


@pytest.mark.parametrize(
    "url",
    [
        f"{prefix}{period}"
        for prefix, periods in [
            ("/api/daily_papers?", ("date=0001-01-01", "date=9999-12-31", "month=9999-12")),
            ("/api/daily_papers?", ("month=0001-01", "week=0001-W01", "week=9999-W51")),
            ("/papers/", ("date/0001-01-01", "date/9999-12-31", "month/9999-12", "week/0001-W01")),
            ("/feeds/date/", ("0001-01-01", "9999-12-31")),
        ]
        for period in periods
    ],
)
def test_the_first_and_last_days_there_are_can_be_shown(web_client, store, url):
    store.upsert_papers([make_paper("2606.90001", listed=date(9999, 12, 31))])
    store.upsert_papers([make_paper("2606.90002", listed=date(1, 1, 1))])
    assert web_client.get(url).status_code == 200


def _cursor(raw: str) -> str:
    import base64

    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw",
    [
        "2026-06-24|" + "9" * 30,
        "2026-06-24|9223372036854775808",
        "2026-06-24|-99999999999999999999",
        "2026-06-24|-1",
        "2026-06-24|1e9",
        "2026-06-24| 5",
        "2026-06-24|" + "9" * 5000,
        "99999-06-24|5",
    ],
)
def test_a_cursor_with_a_number_no_page_gave_out_is_a_400(web_client, raw):
    response = web_client.get("/api/papers", params={"cursor": _cursor(raw)})
    assert response.status_code == 400
    assert response.json() == {"error": "cursor is not one this server gave out"}


def test_a_cursor_at_the_largest_key_reads_on(web_client):
    response = web_client.get(
        "/api/papers", params={"cursor": _cursor("2026-06-30|9223372036854775807")}
    )
    assert response.status_code == 200 and len(response.json()) == 6


@pytest.mark.parametrize(
    "url",
    [
        "/api/daily_papers?p=99999999999999999999999",
        "/api/daily_papers?p=-1",
        "/api/daily_papers?limit=-99999999999999999999",
        "/api/papers?limit=" + "9" * 5000,
        "/api/papers/search?q=x&limit=1e9",
        "/?p=99999999999999999999999",
        "/papers/trending?p=-5",
        "/papers/date/2026-06-24?p=10001",
        "/search?q=x&p=50",
        "/search?q=x&p=-1",
    ],
)
def test_numbers_out_of_range_are_400s(web_client, url):
    assert web_client.get(url).status_code == 400
