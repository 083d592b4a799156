from datetime import UTC, date, datetime

import pytest

from conftest import make_paper
from paperfeed.listings import (
    BadPeriod,
    Period,
    latest_listing,
    parse_period,
    period_listing,
    trending_listing,
)
from paperfeed.models import Featured


def _store_with_days(store):
    papers = [
        make_paper("2606.00001", listed=date(2026, 6, 22)),
        make_paper("2606.00002", listed=date(2026, 6, 24)),
        make_paper("2606.00003", listed=date(2026, 6, 24)),
        make_paper("2606.00004", listed=date(2026, 6, 29)),
        make_paper("2605.00005", listed=date(2026, 5, 30)),
        make_paper("2606.00006", listed=None, published=datetime(2026, 6, 24, 9, tzinfo=UTC)),
    ]
    store.upsert_papers(papers)
    store.upsert_featured(
        [
            Featured("2606.00003", date(2026, 6, 24), "hf-daily", 12, 3, "ak"),
            Featured("2606.00002", date(2026, 6, 24), "hf-daily", 5),
        ]
    )
    return store


def test_periods_parse_and_print():
    assert parse_period("date", "2026-06-26") == Period(
        "date", date(2026, 6, 26), date(2026, 6, 26)
    )
    week = parse_period("week", "2026-W26")
    assert (week.start, week.end, week.key, week.label) == (
        date(2026, 6, 22),
        date(2026, 6, 28),
        "2026-W26",
        "Week 26 of 2026",
    )
    month = parse_period("month", "2026-02")
    assert (month.end, month.key, month.label) == (date(2026, 2, 28), "2026-02", "February 2026")
    assert parse_period("date", "2026-06-26").label == "Friday 26 June 2026"
    for kind, value in [
        ("date", "2026-13-01"),
        ("week", "2026-W54"),
        ("month", "June"),
        ("date", "<script>"),
        ("year", "2026"),
    ]:
        with pytest.raises(BadPeriod):
            parse_period(kind, value)


def test_periods_at_the_ends_of_the_calendar():
    assert parse_period("date", "0001-01-01").start == date.min
    assert parse_period("date", "9999-12-31").end == date.max
    assert parse_period("week", "0001-W01").start == date(1, 1, 1)
    assert parse_period("week", "9999-W51").end == date(9999, 12, 26)
    assert parse_period("month", "9999-12").end == date.max
    assert parse_period("month", "0001-01").start == date.min
    # Its Sunday would be 10000-01-02: a clear BadPeriod, not an OverflowError.
    with pytest.raises(BadPeriod, match="9999-W52 ends after 9999-12-31"):
        parse_period("week", "9999-W52")
    # A paper stored on the last day still has a week to link to (cut at the last day).
    assert Period.containing("week", date.max) == Period("week", date(9999, 12, 27), date.max)


def test_a_week_next_to_the_last_day_there_is(store):
    store.upsert_papers([make_paper("2606.00001", listed=date(9999, 12, 31))])
    week = period_listing(store, parse_period("week", "9999-W51"))
    assert week.items == [] and week.following.end == date.max


def test_a_day_lists_its_papers_by_votes_with_neighbouring_days(store):
    _store_with_days(store)
    day = period_listing(store, parse_period("date", "2026-06-24"))
    assert [i.paper.id for i in day.items] == ["2606.00003", "2606.00002", "2606.00006"]
    top = day.items[0]
    assert (top.upvotes, top.hf_comments, top.submitted_by, top.featured_on) == (
        12,
        3,
        "ak",
        date(2026, 6, 24),
    )
    assert day.total == 3
    assert day.previous.key == "2026-06-22" and day.following.key == "2026-06-29"
    empty = period_listing(store, parse_period("date", "2026-06-23"))
    assert empty.items == [] and empty.previous.key == "2026-06-22"


def test_weeks_months_paging_and_latest(store):
    _store_with_days(store)
    week = period_listing(store, parse_period("week", "2026-W26"), limit=2, page=1)
    assert week.total == 4 and week.pages == 2 and len(week.items) == 2
    assert week.previous.key == "2026-W22" and week.following.key == "2026-W27"
    month = period_listing(store, parse_period("month", "2026-06"), order="date")
    assert month.items[0].paper.id == "2606.00004"
    assert month.previous.key == "2026-05" and month.following is None
    assert latest_listing(store).period.key == "2026-06-29"


def test_trending_ranks_votes_decayed_by_age_and_explains_itself(store):
    _store_with_days(store)
    listing = trending_listing(store, datetime(2026, 11, 29, tzinfo=UTC))
    ids = [i.paper.id for i in listing.items]
    assert ids[:2] == ["2606.00003", "2606.00002"]
    assert ids[2] == "2606.00004"  # no votes: newest first
    explained = listing.trends[listing.items[0].pk]
    # Measured at the end of the catalog's last day, not months later.
    assert (explained.upvotes, explained.age_hours) == (12, 144.0)
    assert "2605.00005" not in ids  # outside the 7-day window


def test_an_empty_catalog_has_no_latest_list(store):
    assert latest_listing(store) is None
    assert trending_listing(store, datetime(2026, 1, 1, tzinfo=UTC)).items == []
