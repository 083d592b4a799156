from datetime import UTC, date, datetime

import pytest

from conftest import FIXTURES
from paperfeed.ingest.hf_daily import parse_item, parse_response
from paperfeed.ingest.records import BadRecord
from paperfeed.models import Featured


def _items() -> list[dict]:
    return parse_response((FIXTURES / "hf_daily_papers.json").read_text())


def test_parses_a_real_daily_papers_item_with_its_votes():
    item = parse_item(_items()[0])
    assert item.paper.id == "2410.17243"
    assert item.paper.title == (
        "Breaking the Memory Barrier: Near Infinite Batch Size Scaling for Contrastive Loss"
    )
    assert item.paper.abstract.startswith("Contrastive loss is a powerful approach")
    assert "\n" not in item.paper.abstract
    assert item.paper.authors[:3] == ("Zesen Cheng", "Hang Zhang", "Kehan Li")
    assert len(item.paper.authors) == 9
    assert item.paper.published == datetime(2024, 10, 22, 17, 59, 30, tzinfo=UTC)
    assert item.paper.source == "hf-daily"
    assert item.featured == Featured(
        paper_id="2410.17243",
        day=date(2024, 10, 25),
        source="hf-daily",
        upvotes=64,
        num_comments=3,
        submitted_by="ClownRat",
    )


def test_every_item_of_the_response_parses():
    featured = [parse_item(item).featured for item in _items()]
    assert [(f.paper_id, f.upvotes) for f in featured] == [
        ("2410.17243", 64),
        ("2410.16251", 41),
        ("2410.18533", 37),
        ("2410.18693", 35),
    ]


def test_prefers_submitted_on_daily_at_for_the_featured_day():
    item = _items()[0]
    item["paper"]["submittedOnDailyAt"] = "2024-10-26T01:00:00.000Z"
    assert parse_item(item).featured.day == date(2024, 10, 26)


def test_rejects_items_without_a_paper_or_with_bad_votes():
    with pytest.raises(BadRecord, match="missing 'paper'"):
        parse_item({"title": "x"})
    item = _items()[1]
    item["paper"]["upvotes"] = "many"
    with pytest.raises(BadRecord, match="'upvotes' must be a number"):
        parse_item(item)


def test_parse_response_wants_a_json_array():
    with pytest.raises(BadRecord, match="JSON array"):
        parse_response('{"error": "rate limited"}')
    with pytest.raises(BadRecord, match="not JSON"):
        parse_response("<html>")
